/* One transfer: route it, give it our headers, perform it, and give the
 * handle back to the application as it left it. */
#define _GNU_SOURCE
#include "transfer.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "deepbind.h"
#include "handles.h"
#include "headers.h"
#include "log.h"
#include "ratelimit.h"
#include "real.h"
#include "route.h"
#include "shim.h"

/* Set while the real libcurl runs on this thread: libcurl calls its own
 * exported functions (through our hooks), and those calls must pass
 * straight through. */
static __thread int in_real;

static void set_error(const struct amp_handle *hs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A sentence in the application's CURLOPT_ERRORBUFFER, the curl way. */
static void set_error(const struct amp_handle *hs, const char *fmt, ...)
{
    va_list ap;

    if (!hs || !hs->errbuf)
        return;
    va_start(ap, fmt);
    vsnprintf(hs->errbuf, CURL_ERROR_SIZE, fmt, ap);
    va_end(ap);
}

/* The options whose value ampshim keeps: it stands in for them during a
 * routed transfer and must give the application's back afterwards. */
static int tracked(CURLoption option)
{
    switch (option) {
    case CURLOPT_URL:
    case CURLOPT_HTTPHEADER:
    case CURLOPT_ERRORBUFFER:
    case CURLOPT_HEADERFUNCTION:
    case CURLOPT_HEADERDATA:
    case CURLOPT_WRITEFUNCTION:
        return 1;
    default:
        return 0;
    }
}

/* Remember what the application set, for the options we stand in for. */
static void note_option(const struct amp_curl *c, CURL *easy, CURLoption option, void *value,
                        curl_write_callback fn)
{
    const struct amp_shim *shim = amp_shim_get(c);
    struct amp_handle *hs;

    if (shim->mode == AMP_OFF)
        return;
    if (!(hs = amp_handle_find(easy, c, 1))) {
        amp_error("out of memory: a transfer may go unrouted");
        return;
    }
    if (option == CURLOPT_URL) {
        if (amp_handle_set_url(hs, value) < 0)
            amp_error("out of memory: a transfer may go unrouted");
    } else if (option == CURLOPT_HTTPHEADER) {
        amp_handle_set_headers(hs, value);
    } else if (option == CURLOPT_ERRORBUFFER) {
        hs->errbuf = value;
    } else if (option == CURLOPT_HEADERFUNCTION) {
        hs->app_header_fn = fn;
    } else if (option == CURLOPT_HEADERDATA) {
        hs->app_header_data = value;
    } else if (option == CURLOPT_WRITEFUNCTION) {
        hs->app_write_fn = fn;
    }
}

CURLcode amp_easy_setopt(const void *caller, CURL *easy, CURLoption option, va_list ap)
{
    const struct amp_curl *c = amp_real_curl(caller);
    CURLcode rc;

    /* The argument is read with the type libcurl reads for the option's
     * range (lib/setopt.c) and passed on as exactly one argument of it. */
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        long v = va_arg(ap, long);
        return c ? c->easy_setopt(easy, option, v) : CURLE_FAILED_INIT;
    }
    if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB) {
        void *v = va_arg(ap, void *);
        if (!c)
            return CURLE_FAILED_INIT;
        rc = c->easy_setopt(easy, option, v);
        if (rc == CURLE_OK && !in_real && tracked(option))
            note_option(c, easy, option, v, NULL);
        return rc;
    }
    if (option < CURLOPTTYPE_OFF_T) {
        void (*v)(void) = va_arg(ap, void (*)(void));
        if (!c)
            return CURLE_FAILED_INIT;
        rc = c->easy_setopt(easy, option, v);
        if (rc == CURLE_OK && !in_real && tracked(option))
            note_option(c, easy, option, NULL, (curl_write_callback)v);
        return rc;
    }
    curl_off_t v = va_arg(ap, curl_off_t);
    return c ? c->easy_setopt(easy, option, v) : CURLE_FAILED_INIT;
}

/* Route hs's URL (cached while the URL is the same) and build its header
 * list (cached while the application's list is the same). 1 when routed,
 * 0 when the URL is left alone, -1 when out of memory. */
static int prepare(const struct amp_config *cfg, struct amp_handle *hs)
{
    if (!hs->decided) {
        hs->route = amp_route_match(&cfg->routes, hs->c, hs->app_url, cfg->proxy_url,
                                    &hs->proxy_url);
        if (hs->route && !hs->proxy_url)
            return -1;
        hs->decided = 1;
        if (hs->route)
            amp_info("route %s (%s): %s -> %s", hs->route->base_url, hs->route->ident,
                     hs->app_url, hs->proxy_url);
        else
            amp_debug("no route for %s: left alone", hs->app_url);
    }
    if (!hs->route)
        return 0;
    int same = amp_handle_headers_unchanged(hs);
    if (!same || !hs->our_headers || hs->headers_route != hs->route) {
        amp_handle_drop_ours(hs);
        if (!(hs->our_headers = amp_headers_merge(hs->c, hs->app_headers, hs->route)))
            return -1;
        hs->headers_route = hs->route;
        amp_handle_headers_unchanged(hs);
    }
    return 1;
}

CURLcode amp_easy_perform(const void *caller, CURL *easy)
{
    const struct amp_curl *c = amp_real_curl(caller);
    CURLcode rc;

    if (!c)
        return CURLE_FAILED_INIT;
    if (in_real)
        return c->easy_perform(easy);
    const struct amp_shim *shim = amp_shim_get(c);
    if (shim->mode == AMP_OFF)
        return c->easy_perform(easy);
    struct amp_handle *hs = amp_handle_find(easy, c, 0);
    if (shim->mode == AMP_BROKEN) {
        set_error(hs, "ampshim: %s", shim->error);
        return CURLE_FAILED_INIT;
    }
    if (!hs || !hs->app_url)
        return c->easy_perform(easy);
    int routed = prepare(shim->cfg, hs);
    if (routed < 0) {
        set_error(hs, "ampshim: out of memory while routing %s", hs->app_url);
        return CURLE_OUT_OF_MEMORY;
    }
    if (!routed)
        return c->easy_perform(easy);
    if ((rc = amp_ratelimit_check(shim->cfg, hs)) != CURLE_OK)
        return rc;

    if (c->easy_setopt(easy, CURLOPT_URL, hs->proxy_url) != CURLE_OK ||
        c->easy_setopt(easy, CURLOPT_HTTPHEADER, hs->our_headers) != CURLE_OK) {
        c->easy_setopt(easy, CURLOPT_URL, hs->app_url);
        set_error(hs, "ampshim: out of memory while routing %s", hs->app_url);
        return CURLE_OUT_OF_MEMORY;
    }
    struct amp_watch watch = { .hs = hs };
    int watching = amp_ratelimit_needs_watch(c);
    if (watching) {
        c->easy_setopt(easy, CURLOPT_HEADERFUNCTION, amp_ratelimit_watch_header);
        c->easy_setopt(easy, CURLOPT_HEADERDATA, &watch);
    }
    in_real++;
    rc = c->easy_perform(easy);
    in_real--;
    amp_ratelimit_observe(shim->cfg, hs, watching ? &watch : NULL);
    /* The application's view again: its URL, header list and callbacks. */
    c->easy_setopt(easy, CURLOPT_URL, hs->app_url);
    c->easy_setopt(easy, CURLOPT_HTTPHEADER, hs->app_headers);
    if (watching) {
        c->easy_setopt(easy, CURLOPT_HEADERFUNCTION, hs->app_header_fn);
        c->easy_setopt(easy, CURLOPT_HEADERDATA, hs->app_header_data);
    }
    return rc;
}

void amp_easy_cleanup(const void *caller, CURL *easy)
{
    const struct amp_curl *c = amp_real_curl(caller);

    if (!c)
        return;
    c->easy_cleanup(easy);
    if (!in_real)
        amp_handle_forget(easy);
}

/* A reset handle has no URL and no headers: neither do we remember any. */
void amp_easy_reset(const void *caller, CURL *easy)
{
    const struct amp_curl *c = amp_real_curl(caller);

    if (!c)
        return;
    c->easy_reset(easy);
    if (!in_real)
        amp_handle_forget(easy);
}

void *amp_dlopen(const char *file, int flags)
{
    /* RTLD_DEEPBIND (PHP loads its extensions so) binds an object to its
     * own libcurl ahead of our hooks; for an object that needs libcurl we
     * load it without, so the preload comes first as it does elsewhere. */
    if (file && amp_needs_libcurl(file)) {
        amp_debug("loading %s without RTLD_DEEPBIND so that its curl calls are routed", file);
        flags &= ~RTLD_DEEPBIND;
    }
    return amp_real_dlopen(file, flags);
}
