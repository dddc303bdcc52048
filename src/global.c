/* libcurl's global initialisation (global.h): libcurl initialises, then
 * the settings are loaded (the config is read with libcurl's URL API, which
 * then allocates as the application asked, curl_global_init_mem). */
#define _GNU_SOURCE
#include "global.h"

#include <dlfcn.h>

#include "real.h"
#include "settings.h"

/* No flavour could be bound (a libcurl too old for ampshim): the call is
 * libcurl's as if ampshim were not there. */
static void *next(const char *name)
{
    return amp_real_next(name, NULL);
}

/* Read, or looked at again: a server initialises libcurl again when it
 * reloads (Apache's graceful restart runs PHP's start-up again in the
 * parent), and its new workers then get the config as it is now. */
static void settle(const struct amp_curl *c)
{
    struct amp_now now;

    amp_settings_refresh(c, &now);
}

CURLcode amp_global_init(const struct amp_curl *c, int internal, long flags)
{
    if (!c) {
        CURLcode (*f)(long) = (CURLcode(*)(long))next("curl_global_init");
        return f ? f(flags) : CURLE_FAILED_INIT;
    }
    CURLcode rc = c->global_init(flags);
    if (!internal)
        settle(c);
    return rc;
}

CURLcode amp_global_init_mem(const struct amp_curl *c, int internal, long flags,
                             curl_malloc_callback m, curl_free_callback f, curl_realloc_callback r,
                             curl_strdup_callback s, curl_calloc_callback ca)
{
    if (!c) {
        CURLcode (*fn)(long, curl_malloc_callback, curl_free_callback, curl_realloc_callback,
                       curl_strdup_callback, curl_calloc_callback) =
            (CURLcode(*)(long, curl_malloc_callback, curl_free_callback, curl_realloc_callback,
                         curl_strdup_callback, curl_calloc_callback))next("curl_global_init_mem");
        return fn ? fn(flags, m, f, r, s, ca) : CURLE_FAILED_INIT;
    }
    CURLcode rc = c->global_init_mem(flags, m, f, r, s, ca);
    if (!internal)
        settle(c);
    return rc;
}
