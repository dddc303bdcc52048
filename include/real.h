/* The real functions behind the hooks: libcurl's, found in the libcurl
 * the calling code itself uses, and the dynamic loader's. */
#ifndef AMPSHIM_REAL_H
#define AMPSHIM_REAL_H

#include "curlapi.h"

/* The libcurl that code at address caller binds to: the one linked at
 * start-up, or one loaded later with dlopen (RTLD_LOCAL included), of
 * whichever flavour. NULL if no libcurl with the needed functions is
 * loaded. Cheap after the first call from each calling object.
 * *internal is set when the caller is that libcurl itself (Debian's
 * curl_easy_perform drives the multi interface through its exported
 * functions): such calls pass straight through. */
const struct amp_curl *amp_real_curl(const void *caller, int *internal);

void *amp_real_dlopen(const char *file, int flags);
int amp_real_dlclose(void *handle);

/* A shared object was unloaded: forget what was learnt of callers. */
void amp_real_forget_callers(void);

#endif
