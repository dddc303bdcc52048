/* One routed transfer: decide its route (cached while the URL is the
 * same), build its headers (cached while the application's are the same),
 * check the route is not blocked, put our options on the handle; at the
 * end read the result and give the handle back as the application left it. */
#define _GNU_SOURCE
#include "transfer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "log.h"
#include "options.h"
#include "ratelimit.h"
#include "respond.h"
#include "route.h"

/* A URL nothing can fetch: a blocked transfer goes through the multi
 * machinery to a failure without resolving or connecting anything. */
#define NOWHERE "ampshim-blocked://transfer.invalid/"

void amp_transfer_error(struct amp_handle *hs, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(hs->forced_msg, sizeof(hs->forced_msg), fmt, ap);
    va_end(ap);
    if (hs->app.errbuf)
        memcpy(hs->app.errbuf, hs->forced_msg, strlen(hs->forced_msg) + 1);
}

/* The URL of a CURLU the application gave (which wins over its string),
 * into *out (NULL for a CURLU libcurl itself will refuse). -1 when memory
 * ran out. */
static int curlu_url(struct amp_handle *hs, char **out)
{
    char *u = NULL;
    CURLUcode uc = hs->c->url_get(hs->app.curlu, CURLUPART_URL, &u, 0);

    *out = NULL;
    if (uc != CURLUE_OK)
        return uc == CURLUE_OUT_OF_MEMORY ? -1 : 0;
    *out = strdup(u);
    hs->c->free(u);
    return *out ? 0 : -1;
}

/* The URL (a copy) into hs->decided_url, its buffer used again. */
static int keep_url(struct amp_handle *hs, const char *url)
{
    size_t need = strlen(url) + 1;

    if (need > hs->decided_cap) {
        char *grown = realloc(hs->decided_url, need);
        if (!grown)
            return -1;
        hs->decided_url = grown;
        hs->decided_cap = need;
    }
    memcpy(hs->decided_url, url, need);
    return 0;
}

/* A handle whose options we lost track of (memory ran out as they were
 * set) goes out only where no route would take it, judged by the URL
 * libcurl holds (none known: not at all). 0, or -1 to refuse it. */
static int lost_handle(const struct amp_config *cfg, struct amp_handle *hs)
{
    char *url = NULL;
    int undecided;

    /* No URL there (a CURLU, say): nothing says where it would go. */
    hs->c->easy_getinfo(hs->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (url && *url &&
        !amp_route_decide(&cfg->routes, hs->c, url, cfg->proxy_url, NULL, NULL, &undecided) &&
        !undecided)
        return 0;
    amp_transfer_error(hs, "ampshim: this handle's options were lost when memory ran out, and "
                           "its URL is one a route takes; not sent");
    return -1;
}

/* 0 with hs->route decided (NULL: left alone), -1 when it cannot be. */
static int decide(const struct amp_config *cfg, struct amp_handle *hs)
{
    char *from_curlu = NULL;
    const char *url = hs->app.url;
    int undecided;

    if (hs->lost) {
        hs->route = NULL;
        hs->decided = 0;
        return lost_handle(cfg, hs);
    }
    if (hs->app.curlu) {
        if (curlu_url(hs, &from_curlu) < 0)
            return -1;
        url = from_curlu;
    }
    if (!url) {
        hs->route = NULL;
        return 0;
    }
    /* The common case costs a comparison: the same URL as last time. */
    if (hs->decided && strcmp(hs->decided_url, url) == 0) {
        free(from_curlu);
        return 0;
    }
    hs->decided = 0;
    int rc = keep_url(hs, url);
    free(from_curlu);
    if (rc < 0)
        return -1;
    hs->route = amp_route_decide(&cfg->routes, hs->c, hs->decided_url, cfg->proxy_url,
                                 &hs->proxy_url, &hs->memo, &undecided);
    if (undecided || (hs->route && !hs->proxy_url))
        return -1;
    hs->decided = 1;
    if (hs->route)
        amp_info("route %s (%s): %s -> %s", hs->route->base_url, hs->route->ident,
                 hs->decided_url, hs->proxy_url);
    else
        amp_debug("no route for %s: left alone", hs->decided_url);
    return 0;
}

static int build_headers(struct amp_handle *hs)
{
    int same = amp_handle_headers_unchanged(hs);

    if (same && hs->our_headers && hs->headers_route == hs->route)
        return 0;
    amp_handle_drop_ours(hs);
    if (!(hs->our_headers = amp_headers_merge(hs->c, hs->app.headers, hs->route)))
        return -1;
    hs->headers_route = hs->route;
    return 0;
}

static void start(struct amp_handle *hs)
{
    hs->active = 1;
    hs->forced = CURLE_OK;
    hs->forced_msg[0] = '\0';
    hs->watching = 1;
    memset(&hs->watch, 0, sizeof(hs->watch));
    free(hs->redirect_url);
    hs->redirect_url = NULL;
}

/* A dry run: each call that would be routed, said on stderr, and left alone. */
static void report_dry_run(const struct amp_config *cfg, const struct amp_handle *hs)
{
    char masked[64], added[1024] = "";
    size_t used = 0;

    amp_mask(cfg->api_key, masked, sizeof(masked));
    for (size_t i = 0; i < hs->route->nheaders && used < sizeof(added); i++) {
        const char *h = hs->route->headers[i];
        int key = strncmp(h, "x-api-key:", 10) == 0;
        used += (size_t)snprintf(added + used, sizeof(added) - used, "%s%s%s", i ? ", " : "",
                                 key ? "x-api-key: " : h, key ? masked : "");
    }
    char mode[256];
    amp_on_block_sentence(cfg, mode, sizeof(mode));
    amp_report("dry run: %s would go through route %s (%s) to %s with %s; when blocked: %s",
               hs->decided_url, hs->route->base_url, hs->route->ident, hs->proxy_url, added, mode);
}

CURLcode amp_transfer_begin(const struct amp_config *cfg, struct amp_handle *hs, int may_wait,
                            int *routed)
{
    CURLcode rc = CURLE_OK;
    struct amp_block block;
    int64_t now;

    *routed = 0;
    if (hs->active) /* never routed twice: the handle already carries ours */
        return CURLE_OK;
    if (decide(cfg, hs) < 0 || (hs->route && build_headers(hs) < 0)) {
        if (!hs->lost)
            amp_transfer_error(hs, "ampshim: out of memory while deciding a transfer's route; not sent");
        amp_error("%s", hs->forced_msg + strlen("ampshim: "));
        return CURLE_OUT_OF_MEMORY;
    }
    if (!hs->route) {
        /* A redirect of it may lead to a provider: looked at like a routed
         * transfer's, and routed (or refused) there, never sent direct. */
        if (hs->app.follow && cfg->routes.n && !cfg->dry_run) {
            start(hs);
            hs->watching = 0;
            hs->guard_only = 1;
            hs->cur_route = hs->proxy_route = NULL;
            hs->proxy_headers = NULL;
            amp_options_guard(hs);
            *routed = 1;
        }
        return CURLE_OK;
    }
    if (cfg->dry_run) {
        report_dry_run(cfg, hs);
        return CURLE_OK;
    }
    enum amp_verdict v = amp_ratelimit_check(cfg, hs, hs->route, may_wait, &rc, &block, &now);
    if (v == AMP_REFUSE)
        return rc;
    start(hs);
    hs->cur_route = hs->proxy_route = hs->route;
    hs->proxy_headers = hs->our_headers;
    if (v == AMP_ANSWER) {
        /* Answered here: no request of it reaches the proxy, and our own
         * 429 is not one to record. */
        hs->cur_route = NULL;
        hs->watching = 0;
    }
    if (amp_options_apply(hs, cfg, hs->proxy_url, hs->our_headers,
                          hs->app.follow != 0 && v == AMP_SEND) < 0 ||
        (v == AMP_ANSWER && amp_respond_apply(hs, &block, hs->route->base_url, now, hs->proxy_url) < 0)) {
        amp_options_restore(hs, cfg);
        hs->active = 0;
        amp_transfer_error(hs, "ampshim: out of memory while routing %s", hs->decided_url);
        return CURLE_OUT_OF_MEMORY;
    }
    *routed = 1;
    return CURLE_OK;
}

void amp_transfer_begin_failed(const struct amp_config *cfg, struct amp_handle *hs,
                               CURLcode why)
{
    char msg[CURL_ERROR_SIZE];

    memcpy(msg, hs->forced_msg, sizeof(msg));
    start(hs);
    hs->watching = 0;
    hs->cur_route = NULL;
    hs->forced = why;
    memcpy(hs->forced_msg, msg, sizeof(msg));
    amp_options_apply(hs, cfg, NOWHERE, NULL, 0);
}

void amp_transfer_end(const struct amp_config *cfg, struct amp_handle *hs)
{
    if (!hs->active)
        return;
    if (hs->guard_only) {
        amp_options_unguard(hs);
        hs->guard_only = 0;
        hs->active = 0;
        return;
    }
    amp_ratelimit_transfer_ended(hs);
    amp_options_restore(hs, cfg);
    if (hs->extra_headers)
        hs->c->slist_free_all(hs->extra_headers);
    hs->extra_headers = NULL;
    hs->active = 0;
}

CURLcode amp_transfer_reroute(const struct amp_config *cfg, struct amp_handle *hs)
{
    char *proxy_url = NULL;
    long code = 0;
    CURLcode rc;
    const struct amp_route *r =
        amp_route_match(&cfg->routes, hs->c, hs->redirect_url, cfg->proxy_url, &proxy_url);

    hs->c->easy_getinfo(hs->easy, CURLINFO_RESPONSE_CODE, &code);
    /* Sent again with the application's own options: what libcurl itself
     * would send only for a GET or HEAD, or after a 307/308 (a POST
     * answered 301/302/303 would become a GET). */
    if (!r || !proxy_url ||
        !(code == 307 || code == 308 || (!hs->app.posts && !hs->app.custom_unsafe))) {
        amp_transfer_error(hs, "ampshim: not following the redirect (HTTP %ld) of this request to %s",
                           code, hs->redirect_url);
        free(proxy_url);
        return CURLE_TOO_MANY_REDIRECTS;
    }
    /* A transfer that started unrouted becomes a routed one now: all of
     * ours on the handle (the URL and headers follow below). */
    if (hs->guard_only) {
        hs->guard_only = 0;
        hs->watching = 1;
        memset(&hs->watch, 0, sizeof(hs->watch));
        if (amp_options_apply(hs, cfg, proxy_url, hs->app.headers, 1) < 0) {
            free(proxy_url);
            amp_transfer_error(hs, "ampshim: out of memory while routing a redirect");
            return CURLE_OUT_OF_MEMORY;
        }
    }
    struct amp_block block;
    int64_t now;
    enum amp_verdict v = amp_ratelimit_check(cfg, hs, r, 1, &rc, &block, &now);
    if (v == AMP_REFUSE) {
        free(proxy_url);
        return rc;
    }
    if (v == AMP_ANSWER) {
        free(hs->redirect_url);
        hs->redirect_url = NULL;
        hs->cur_route = NULL;
        rc = amp_respond_apply(hs, &block, r->base_url, now, proxy_url) < 0 ? CURLE_OUT_OF_MEMORY : CURLE_OK;
        free(proxy_url);
        return rc;
    }
    struct curl_slist *h = amp_headers_merge(hs->c, hs->app.headers, r);
    if (!h) {
        free(proxy_url);
        amp_transfer_error(hs, "ampshim: out of memory while routing a redirect");
        return CURLE_OUT_OF_MEMORY;
    }
    amp_info("redirect to %s: route %s (%s) -> %s", hs->redirect_url, r->base_url, r->ident,
             proxy_url);
    if (hs->extra_headers)
        hs->c->slist_free_all(hs->extra_headers);
    hs->extra_headers = h;
    hs->cur_route = hs->proxy_route = r;
    hs->proxy_headers = h;
    free(hs->redirect_url);
    hs->redirect_url = NULL;
    rc = hs->c->easy_setopt(hs->easy, CURLOPT_URL, proxy_url) == CURLE_OK &&
                 hs->c->easy_setopt(hs->easy, CURLOPT_HTTPHEADER, h) == CURLE_OK
             ? CURLE_OK
             : CURLE_OUT_OF_MEMORY;
    free(proxy_url);
    return rc;
}
