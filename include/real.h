/* The real functions behind the hooks: libcurl's, found in the libcurl
 * the calling code itself uses, and the dynamic loader's. */
#ifndef AMPSHIM_REAL_H
#define AMPSHIM_REAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "curlapi.h"

/* How many libcurl flavours (shared objects) one process may use. */
#define AMP_MAX_FLAVOURS 4

/* The libcurl that code at address caller binds to: the one linked at
 * start-up, or one loaded later with dlopen (RTLD_LOCAL included), of
 * whichever flavour. NULL if no libcurl with the needed functions is
 * loaded. *internal is set when the caller is that libcurl itself
 * (Debian's curl_easy_perform drives the multi interface through its
 * exported functions): such calls pass straight through.
 *
 * Every hooked call asks, so the common answer costs a few instructions:
 * the caller ranges this thread asked about last (a program calls curl
 * from one place, mostly, and libcurl calls itself from another), valid
 * while neither a dlclose (amp_real_generation) nor an emptying of the
 * table of callers (amp_real_resets) came between. */
struct amp_caller_seen {
    uintptr_t lo, hi;
    unsigned gen, seq;
    int internal;
    const struct amp_curl *api;
};
/* initial-exec: no __tls_get_addr (the library is loaded with the program). */
extern __thread __attribute__((tls_model("initial-exec"))) struct amp_caller_seen amp_real_last[2];
extern atomic_uint amp_real_generation, amp_real_resets;
const struct amp_curl *amp_real_curl_slow(const void *caller, int *internal);

static inline const struct amp_curl *amp_real_curl(const void *caller, int *internal)
{
    uintptr_t a = (uintptr_t)caller;
    unsigned gen = atomic_load_explicit(&amp_real_generation, memory_order_acquire);
    unsigned seq = atomic_load_explicit(&amp_real_resets, memory_order_acquire);

    for (int i = 0; i < 2; i++) {
        const struct amp_caller_seen *s = &amp_real_last[i];
        if (a >= s->lo && a < s->hi && s->gen == gen && s->seq == seq && s->api) {
            *internal = s->internal;
            return s->api;
        }
    }
    return amp_real_curl_slow(caller, internal);
}

/* The process's one libcurl, while it has only one (the common case): a
 * call that means the same whoever makes it (curl_easy_getinfo for all but
 * the URLs) goes straight to it, without asking who calls. Emptied by the
 * dlopen hook before the real dlopen runs (so before any code of what it
 * loads: amp_real_loads counted first), and when a second flavour is made
 * (real.c: a library loaded while the objects were being looked at is
 * caught at its first hooked call); set again only by a look at the
 * loaded objects that no dlopen overtook, made once every thread that
 * called dlopen has made a hooked call since (its dlopen may be counted
 * but not yet in the loader until then: real.c). One load a hooked call.
 * NULL: ask amp_real_curl. */
extern _Atomic(const struct amp_curl *) amp_real_single;
extern atomic_uint amp_real_loads;
const struct amp_curl *amp_real_single_check(void);
/* Called by the dlopen hook, before the real dlopen. */
void amp_real_loading(void);
/* This thread's dlopens have returned (it calls dlsym, dlclose, or curl). */
void amp_real_loaded(void);

static inline const struct amp_curl *amp_real_only(void)
{
    return atomic_load_explicit(&amp_real_single, memory_order_acquire);
}

/* The code segment of the first libcurl made a flavour (a flavour's library
 * is never closed), and its table: a call from there is that libcurl
 * calling itself (its curl_easy_perform drives the multi functions through
 * their exported names), which goes straight back to it, however many
 * libcurls the process holds. len is stored last: 0 until the rest is. */
struct amp_real_inside {
    uintptr_t lo, len;
    const struct amp_curl *api;
};
extern struct amp_real_inside amp_real_inside;

/* The table when caller is in that segment, else NULL (ask amp_real_curl). */
static inline const struct amp_curl *amp_real_from_inside(const void *caller)
{
    uintptr_t len = __atomic_load_n(&amp_real_inside.len, __ATOMIC_ACQUIRE);

    if ((uintptr_t)caller - __atomic_load_n(&amp_real_inside.lo, __ATOMIC_RELAXED) < len)
        return __atomic_load_n(&amp_real_inside.api, __ATOMIC_RELAXED);
    return NULL;
}

/* The libcurl that defines the function at p (any address in it): its
 * table and its index (0 .. AMP_MAX_FLAVOURS-1), or NULL when p is in no
 * libcurl ampshim can use. */
const struct amp_curl *amp_real_flavour_at(const void *p, int *index);
/* The table at index, once made (NULL before). */
const struct amp_curl *amp_real_flavour(int index);

/* 1 when p is in this library (the core) or in the first stage. */
int amp_real_is_ours(const void *p);

struct amp_stage1;
/* The loader's functions the first stage found, from now on (hooks.c). */
void amp_real_attach(const struct amp_stage1 *s1);

/* The loader's functions after the first stage (glibc's, or another
 * preload's), behind our own. */
void *amp_real_dlopen(const char *file, int flags);
void *amp_real_dlsym(void *handle, const char *name);
void *amp_real_dlvsym(void *handle, const char *name, const char *version);
int amp_real_dlclose(void *handle);
/* dlsym(RTLD_NEXT, name), or dlvsym with a version: what follows the
 * first stage in the search order (from the core itself, RTLD_NEXT would
 * mean "after the core", which was loaded on its own). */
void *amp_real_next(const char *name, const char *version);

/* A shared object was unloaded: forget what was learnt of callers. */
void amp_real_forget_callers(void);

#endif
