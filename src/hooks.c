/* The exported symbols, and nothing else: each one a line into the logic
 * (easy.c, multi.c, ffi.c), which calls the real function (real.c).
 * Everything else in the library is hidden. The libcurl flavour a call is
 * for is the one the calling code binds to, found from its address. */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "curlapi.h" /* with CURL_DISABLE_TYPECHECK: curl_easy_setopt is no macro */
#include "easy.h"
#include "ffi.h"
#include "multi.h"
#include "real.h"

#define HOOK __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)
/* The flavour and whether the caller is libcurl itself, for the calls below. */
#define FLAVOUR                                                                          \
    int internal;                                                                        \
    const struct amp_curl *c = amp_real_curl(CALLER, &internal)

HOOK CURLcode curl_easy_setopt(CURL *easy, CURLoption option, ...)
{
    FLAVOUR;
    va_list ap;

    va_start(ap, option);
    CURLcode rc = amp_easy_setopt(c, internal, easy, option, ap);
    va_end(ap);
    return rc;
}

HOOK CURLcode curl_easy_perform(CURL *easy)
{
    FLAVOUR;
    return amp_easy_perform(c, internal, easy);
}

HOOK void curl_easy_cleanup(CURL *easy)
{
    FLAVOUR;
    amp_easy_cleanup(c, internal, easy);
}

HOOK void curl_easy_reset(CURL *easy)
{
    FLAVOUR;
    amp_easy_reset(c, internal, easy);
}

HOOK CURL *curl_easy_duphandle(CURL *easy)
{
    FLAVOUR;
    return amp_easy_duphandle(c, internal, easy);
}

HOOK CURLMcode curl_multi_add_handle(CURLM *multi, CURL *easy)
{
    FLAVOUR;
    return amp_multi_add_handle(c, internal, multi, easy);
}

HOOK CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *easy)
{
    FLAVOUR;
    return amp_multi_remove_handle(c, internal, multi, easy);
}

HOOK CURLMsg *curl_multi_info_read(CURLM *multi, int *queued)
{
    FLAVOUR;
    return amp_multi_info_read(c, internal, multi, queued);
}

HOOK CURLMcode curl_multi_cleanup(CURLM *multi)
{
    FLAVOUR;
    return amp_multi_cleanup(c, internal, multi);
}

/* glibc reads the caller's RUNPATH and $ORIGIN from dlopen's return
 * address, and RTLD_NEXT's meaning from dlsym's: the plain cases are tail
 * calls, so that address stays the application's (the Makefile builds
 * this file with sibling calls on). */
HOOK void *dlopen(const char *file, int flags)
{
    if (flags & RTLD_DEEPBIND)
        return amp_dlopen(file, flags);
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
