/* The exported symbols, and nothing else: each one a line into the logic
 * (easy.c, multi.c), which calls the real function (real.c). Everything
 * else in the library is hidden. */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "curlapi.h" /* with CURL_DISABLE_TYPECHECK: curl_easy_setopt is no macro */
#include "easy.h"
#include "multi.h"
#include "real.h"

#define HOOK __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)

HOOK CURLcode curl_easy_setopt(CURL *easy, CURLoption option, ...)
{
    va_list ap;

    va_start(ap, option);
    CURLcode rc = amp_easy_setopt(CALLER, easy, option, ap);
    va_end(ap);
    return rc;
}

HOOK CURLcode curl_easy_perform(CURL *easy)
{
    return amp_easy_perform(CALLER, easy);
}

HOOK void curl_easy_cleanup(CURL *easy)
{
    amp_easy_cleanup(CALLER, easy);
}

HOOK void curl_easy_reset(CURL *easy)
{
    amp_easy_reset(CALLER, easy);
}

HOOK CURL *curl_easy_duphandle(CURL *easy)
{
    return amp_easy_duphandle(CALLER, easy);
}

HOOK CURLMcode curl_multi_add_handle(CURLM *multi, CURL *easy)
{
    return amp_multi_add_handle(CALLER, multi, easy);
}

HOOK CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *easy)
{
    return amp_multi_remove_handle(CALLER, multi, easy);
}

HOOK CURLMsg *curl_multi_info_read(CURLM *multi, int *queued)
{
    return amp_multi_info_read(CALLER, multi, queued);
}

HOOK CURLMcode curl_multi_cleanup(CURLM *multi)
{
    return amp_multi_cleanup(CALLER, multi);
}

/* glibc reads the caller's RUNPATH and $ORIGIN from dlopen's return
 * address: the plain case is a tail call, so that address stays the
 * application's (the Makefile builds this file with sibling calls on). */
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
