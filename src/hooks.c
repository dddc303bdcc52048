/* The exported symbols, and nothing else: each one a line into the logic
 * (transfer.c), which calls the real function (real.c). Everything else in
 * the library is hidden. */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "curlapi.h" /* with CURL_DISABLE_TYPECHECK: curl_easy_setopt is no macro */
#include "real.h"
#include "transfer.h"

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

/* glibc reads the caller's RUNPATH and $ORIGIN from dlopen's return
 * address: the plain case is a tail call, so that address stays the
 * application's. */
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
