/* The exported symbols, and nothing else: each one a line into the logic
 * (easy.c, multi.c, ffi.c), which calls the real function (real.c).
 * Everything else in the library is hidden. The libcurl flavour a call is
 * for is the one the calling code binds to, found from its address. */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "curlapi.h" /* with CURL_DISABLE_TYPECHECK: curl_easy_setopt is no macro */
#include "deepbind.h"
#include "easy.h"
#include "ffi.h"
#include "global.h"
#include "hooked.h"
#include "multi.h"
#include "real.h"

#define HOOK __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)
/* The flavour and whether the caller is libcurl itself, for the calls
 * below: libcurl's calls to itself (Debian's curl_easy_perform drives the
 * multi interface through its exported functions) go straight to it. */
#define FLAVOUR                                                                          \
    int internal;                                                                        \
    const struct amp_curl *c = amp_real_curl(CALLER, &internal)

#define RET(ret, name, params, args)                                                    \
    HOOK ret curl_##name params                                                          \
    {                                                                                    \
        FLAVOUR;                                                                         \
        if (c && internal)                                                               \
            return c->name(AMP_ARGS args);                                               \
        return amp_##name(c, internal, AMP_ARGS args);                                   \
    }
#define VOID(name, params, args)                                                         \
    HOOK void curl_##name params                                                         \
    {                                                                                    \
        FLAVOUR;                                                                         \
        if (c && internal)                                                               \
            c->name(AMP_ARGS args);                                                      \
        else                                                                             \
            amp_##name(c, internal, AMP_ARGS args);                                      \
    }
#define VA(ret, name, T1, T2)                                                            \
    HOOK ret curl_##name(T1 a, T2 b, ...)                                                \
    {                                                                                    \
        FLAVOUR;                                                                         \
        va_list ap;                                                                      \
        va_start(ap, b);                                                                 \
        ret rc = amp_##name(c, internal, a, b, ap);                                      \
        va_end(ap);                                                                      \
        return rc;                                                                       \
    }
/* The one VA1 is curl_easy_getinfo, asked several times a transfer: in a
 * process with one libcurl, every question but the URLs (easy.h) goes
 * straight to it, without asking who calls. */
#define VA1(ret, name, T1, T2, T3)                                                       \
    HOOK ret curl_##name(T1 a, T2 b, ...)                                                \
    {                                                                                    \
        const struct amp_curl *only = NULL;                                              \
        va_list ap;                                                                      \
        va_start(ap, b);                                                                 \
        T3 arg = va_arg(ap, T3);                                                         \
        va_end(ap);                                                                      \
        if (b != CURLINFO_EFFECTIVE_URL && b != CURLINFO_REDIRECT_URL) {                 \
            only = amp_real_only();                                                      \
            if (!only)                                                                   \
                only = amp_real_single_check();                                          \
        }                                                                                \
        if (only)                                                                        \
            return only->name(a, b, arg);                                                \
        FLAVOUR;                                                                         \
        if (c && internal)                                                               \
            return c->name(a, b, arg);                                                   \
        return amp_##name(c, internal, a, b, arg);                                       \
    }
AMP_HOOKED(RET, VOID, VA, VA1)
#undef RET
#undef VOID
#undef VA
#undef VA1

/* glibc reads the caller's RUNPATH and $ORIGIN from dlopen's return
 * address, and RTLD_NEXT's meaning from dlsym's: the plain cases are tail
 * calls, so that address stays the application's (the Makefile builds
 * this file with sibling calls on). */
HOOK void *dlopen(const char *file, int flags)
{
    /* Before anything it loads runs: it may bring another libcurl (real.h). */
    atomic_fetch_add_explicit(&amp_real_loads, 1, memory_order_acq_rel);
    if (flags & RTLD_DEEPBIND)
        return amp_deepbind_dlopen(file, flags);
    return amp_real_dlopen(file, flags);
}

HOOK int dlclose(void *handle)
{
    amp_real_forget_callers();
    return amp_real_dlclose(handle);
}

/* FFI bindings (ctypes, Ruby's ffi, LuaJIT) take libcurl's functions by
 * name: the ones ampshim stands in for are handed out as ampshim's. */
HOOK void *dlsym(void *handle, const char *name)
{
    int which = amp_ffi_wraps(name);

    if (which)
        return amp_ffi_dlsym(handle, name, NULL, which - 1, CALLER);
    return amp_real_dlsym(handle, name);
}

HOOK void *dlvsym(void *handle, const char *name, const char *version)
{
    int which = amp_ffi_wraps(name);

    if (which)
        return amp_ffi_dlsym(handle, name, version, which - 1, CALLER);
    return amp_real_dlvsym(handle, name, version);
}
