/* The real functions behind the hooks: libcurl's, found in the libcurl
 * the calling code itself uses, and the dynamic loader's. */
#ifndef AMPSHIM_REAL_H
#define AMPSHIM_REAL_H

#include "curlapi.h"

/* How many libcurl flavours (shared objects) one process may use. */
#define AMP_MAX_FLAVOURS 4

/* The libcurl that code at address caller binds to: the one linked at
 * start-up, or one loaded later with dlopen (RTLD_LOCAL included), of
 * whichever flavour. NULL if no libcurl with the needed functions is
 * loaded. Cheap after the first call from each calling object.
 * *internal is set when the caller is that libcurl itself (Debian's
 * curl_easy_perform drives the multi interface through its exported
 * functions): such calls pass straight through. */
const struct amp_curl *amp_real_curl(const void *caller, int *internal);

/* The libcurl that defines the function at p (any address in it): its
 * table and its index (0 .. AMP_MAX_FLAVOURS-1), or NULL when p is in no
 * libcurl ampshim can use. */
const struct amp_curl *amp_real_flavour_at(const void *p, int *index);
/* The table at index, once made (NULL before). */
const struct amp_curl *amp_real_flavour(int index);

/* 1 when p is in this library. */
int amp_real_is_ours(const void *p);

void *amp_real_dlopen(const char *file, int flags);
/* glibc's dlsym and dlvsym, behind our own (hooks.c). */
void *amp_real_dlsym(void *handle, const char *name);
void *amp_real_dlvsym(void *handle, const char *name, const char *version);
int amp_real_dlclose(void *handle);

/* A shared object was unloaded: forget what was learnt of callers. */
void amp_real_forget_callers(void);

#endif
