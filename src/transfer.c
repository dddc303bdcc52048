/* One routed transfer: decide its route (cached while the URL is the
 * same), build its headers (cached while the application's are the same),
 * check the route is not blocked, and make the handle carry what the
 * transfer needs (options.c: nothing is set when nothing changed). At the
 * end read the result; our options stay on the handle for the next one. */
#define _GNU_SOURCE
#include "transfer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbacks.h"
#include "cookies.h"
#include "confine.h"
#include "grow.h"
#include "headers.h"
#include "log.h"
#include "ratelimit.h"
#include "respond.h"
#include "route.h"

/* A URL nothing can fetch: a blocked transfer goes through the multi
 * machinery to a failure without resolving or connecting anything. */
#define NOWHERE "ampshim-blocked://transfer.invalid/"

#define MAX_REROUTES 10

static void end(struct amp_handle *hs);

/* The one place the application's CURLOPT_ERRORBUFFER is written. Never
 * after the handle was reset: the buffer is no longer the handle's, and the
 * application may have freed it. */
static void fill_errbuf(const struct amp_handle *hs)
{
    if (hs->app.errbuf && !hs->orphaned)
        memcpy(hs->app.errbuf, hs->xfer.forced_msg, strlen(hs->xfer.forced_msg) + 1);
}

CURLcode amp_transfer_fail(struct amp_handle *hs, CURLcode code, int level, const char *fmt, ...)
{
    static const char prefix[] = "ampshim: ";
    char msg[CURL_ERROR_SIZE * 2] = "ampshim: ";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg + sizeof(prefix) - 1, sizeof(msg) - sizeof(prefix) + 1, fmt, ap);
    va_end(ap);
    /* Cut to the buffer's size, as libcurl does with its own messages. */
    size_t n = strnlen(msg, sizeof(hs->xfer.forced_msg) - 1);
    memcpy(hs->xfer.forced_msg, msg, n);
    hs->xfer.forced_msg[n] = '\0';
    hs->xfer.forced = code;
    if (code != CURLE_OK)
        fill_errbuf(hs);
    if (level >= 0)
        amp_log((enum amp_log_level)level, "%s", msg + sizeof(prefix) - 1);
    return code;
}

/* --- the header list: ours, kept while the application's reads the same */

static void free_snap(struct amp_handle *hs)
{
    if (hs->hdrs.snap != hs->hdrs.few)
        free(hs->hdrs.snap);
    hs->hdrs.snap = NULL;
    hs->hdrs.nsnap = 0;
}

static void drop_ours(struct amp_handle *hs)
{
    if (hs->hdrs.ours != hs->rooms.headers)
        amp_headers_free(hs->hdrs.ours);
    hs->hdrs.ours = NULL;
    hs->hdrs.route = NULL;
}

/* 1 when the application's header list is made of the nodes our list was
 * built from, holding the same strings; otherwise they are noted anew and
 * 0 returned. Our list points at the application's strings (a line
 * rewritten in place goes out as rewritten, as libcurl would send it); what
 * this catches is a line appended to the list, or a node given another
 * string, between transfers: a list set again, even the same pointer,
 * marks hdrs.dirty. Compared node by node, a few instructions a line: it
 * runs before every routed transfer. headers_same only looks. */
static inline __attribute__((always_inline)) int headers_same(const struct amp_handle *hs)
{
    const struct amp_header_cache *h = &hs->hdrs;
    const struct curl_slist *l = hs->app.headers;
    const struct amp_header_seen *seen = h->snap, *last = seen + h->nsnap;

    if (h->dirty)
        return 0;
    /* A list that ends early fails the first test (a node is never NULL). */
    for (; seen < last; seen++, l = l->next)
        if (l != seen->node || l->data != seen->data)
            return 0;
    return !l;
}

static int headers_unchanged(struct amp_handle *hs)
{
    struct amp_header_cache *h = &hs->hdrs;
    const struct curl_slist *l;
    size_t n = 0;

    if (headers_same(hs))
        return 1;
    free_snap(hs);
    h->dirty = 0;
    for (l = hs->app.headers; l; l = l->next)
        n++;
    h->snap = n <= sizeof(h->few) / sizeof(h->few[0]) ? h->few : malloc(n * sizeof(*h->snap));
    if (!h->snap) {
        h->dirty = 1; /* out of memory: never "unchanged" */
        return 0;
    }
    for (l = hs->app.headers; l; l = l->next, h->nsnap++) {
        h->snap[h->nsnap].node = l;
        h->snap[h->nsnap].data = l->data;
    }
    return 0;
}

void amp_transfer_free(struct amp_handle *hs)
{
    drop_ours(hs);
    free_snap(hs);
    amp_headers_free(hs->guard.extra_headers);
    free(hs->decision.curlu_url);
    free(hs->decision.held_url);
    free(hs->decision.shown);
    free(hs->guard.redirect_url);
    free(hs->guard.redirect_proxy_url);
    amp_url_memo_free(&hs->decision.memo);
}

/* --- the route decided ---------------------------------------------------- */

/* A handle whose options we lost track of (memory ran out as they were
 * set) goes out only where no route would take it, judged by the URL
 * libcurl holds (none known: not at all), and with none of ours. 0, or
 * -1 to refuse it. */
static int lost_handle(const struct amp_config *cfg, struct amp_handle *hs)
{
    char *url = NULL;
    int undecided;

    amp_options_give_back_all(hs);
    /* No URL there (a CURLU, say): nothing says where it would go. */
    hs->c->easy_getinfo(hs->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (url && *url &&
        !amp_route_decide(&cfg->routes, hs->c, url, cfg->proxy_url, NULL, NULL, &undecided) &&
        !undecided)
        return 0;
    amp_transfer_fail(hs, CURLE_OUT_OF_MEMORY, AMP_LOG_ERROR,
                      "this handle's options were lost when memory ran out, and its URL is one a "
                      "route takes; not sent");
    return -1;
}

static int decide_url(const struct amp_config *cfg, struct amp_handle *hs, const char *url)
{
    struct amp_decision *d = &hs->decision;
    int undecided;

    d->done = 0;
    /* The URL a transfer kept (keep_decided_url) is no decision's now. */
    if (d->held_url) {
        free(d->held_url);
        d->held_url = NULL;
    }
    d->memo.room = hs->rooms.rewritten;
    d->memo.room_cap = sizeof(hs->rooms.rewritten);
    const struct amp_route *route = amp_route_decide(&cfg->routes, hs->c, url, cfg->proxy_url,
                                                     &d->proxy_url, &d->memo, &undecided);
    /* The proxy URL is new, in the same buffer: the caller puts it at once
     * (amp_transfer_url_set) or marks libcurl's copy stale (decide). The
     * route decided last keeps its counters (found by the route's key,
     * never freed): d->tally is the route's whenever d->route is set. */
    d->tally = !route ? NULL : route == d->route && d->tally ? d->tally : amp_tally_of(route);
    d->route = route;
    if (undecided || (d->route && !d->proxy_url))
        return -1;
    d->done = 1;
    d->url = url;
    /* A routed URL is said when a transfer of it is sent (begin): one
     * answered here never went to the proxy. */
    d->said = 0;
    if (!d->route) {
        amp_debug("no route for %s: left alone", url);
        if (cfg->proxy_plain_http && amp_same_origin(hs->c, url, cfg->proxy_url))
            amp_confine_relay_touched();
    }
    return 0;
}

/* The URL of a CURLU the application gave (which wins over its string,
 * and may have changed in place), into d->curlu_url; *url NULL for a
 * CURLU libcurl itself will refuse. -1 when memory ran out. */
static int curlu_url(struct amp_handle *hs, const char **url)
{
    struct amp_decision *d = &hs->decision;
    char *u = NULL;
    CURLUcode uc = hs->c->url_get(hs->app.curlu, CURLUPART_URL, &u, 0);

    *url = NULL;
    if (uc != CURLUE_OK)
        return uc == CURLUE_OUT_OF_MEMORY ? -1 : 0;
    if (!(d->url == d->curlu_url && d->curlu_url && strcmp(d->curlu_url, u) == 0)) {
        d->done = 0;
        if (amp_options_keep_string(&d->curlu_url, &d->curlu_cap, u) < 0) {
            hs->c->free(u);
            return -1;
        }
    }
    hs->c->free(u);
    *url = d->curlu_url;
    return 0;
}

static void use_config(struct amp_handle *hs, const struct amp_config *cfg)
{
    struct amp_decision *d = &hs->decision;

    if (hs->cfg == cfg)
        return;
    /* cfg was the current config a moment ago; a reload on another thread
     * may have replaced it since, and freed it: the handle takes a
     * reference on the one current now, and lets go of its old one. */
    cfg = amp_settings_hold();
    if (hs->cfg == cfg) {
        amp_settings_release(cfg);
        return;
    }
    /* Read again since this handle last decided: its decision, its origin's
     * routes and its header list were the old config's. */
    if (hs->cfg) {
        d->done = 0;
        d->route = NULL;
        d->tally = NULL;
        d->proxy_url = NULL;
        amp_url_memo_free(&d->memo);
        memset(&d->memo, 0, sizeof(d->memo));
        drop_ours(hs);
        amp_options_stale(hs, CURLOPT_URL);
        amp_options_stale(hs, CURLOPT_HTTPHEADER);
        hs->guard.cur_route = hs->guard.proxy_route = NULL;
    }
    amp_settings_release(hs->cfg);
    hs->cfg = cfg;
}

/* 0 with hs->decision.route decided (NULL: left alone), -1 when it cannot be. */
static int decide(const struct amp_config *cfg, struct amp_handle *hs)
{
    struct amp_decision *d = &hs->decision;
    const char *url = hs->app.url;

    if (hs->lost) {
        d->route = NULL;
        d->done = 0;
        return lost_handle(cfg, hs);
    }
    if (hs->app.curlu && curlu_url(hs, &url) < 0)
        return -1;
    if (!url) {
        d->route = NULL;
        d->done = 0;
        return 0;
    }
    /* The common case costs nothing: the decision stands until the
     * application sets another URL. */
    if (d->done && d->url == url)
        return 0;
    int rc = decide_url(cfg, hs, url);
    /* The proxy URL is new, in the same buffer: put again at the sync. */
    amp_options_stale(hs, CURLOPT_URL);
    return rc;
}

static int build_headers(struct amp_handle *hs)
{
    struct amp_header_cache *h = &hs->hdrs;
    int same = headers_unchanged(hs);

    if (same && h->ours && h->route == hs->decision.route)
        return 0;
    drop_ours(hs);
    h->ours = amp_headers_merge_into(hs->app.headers, hs->decision.route, hs->rooms.headers,
                                     sizeof(hs->rooms.headers) / sizeof(hs->rooms.headers[0]));
    if (!h->ours)
        return -1;
    h->route = hs->decision.route;
    amp_options_stale(hs, CURLOPT_HTTPHEADER);
    return 0;
}

/* The mode of a routed transfer sent to the proxy: lean (no header
 * callback of ours: ratelimit.h) when curl_easy_perform runs it to a
 * plain relay, that perform's return being its end, before the
 * application's next call. */
static unsigned send_mode(const struct amp_config *cfg, const struct amp_handle *hs)
{
    unsigned m = AMP_MODE_SEND | amp_options_app_bits(hs);

    if (!cfg->proxy_plain_http)
        return m;
    m |= AMP_MODE_PLAIN;
    /* A multi transfer being added: on a new connection when one libcurl
     * keeps is not ours any more (a daemon closed every descriptor since),
     * since one refused as its request goes (confined, below) can
     * only fail (curl_easy_perform sends it again itself). Any, once the
     * program has sent requests of its own to the relay: libcurl may keep
     * that connection, which is not ours. */
    if ((!hs->xfer.performing && !amp_confine_intact()) || amp_confine_relay_shared())
        m |= AMP_MODE_FRESH;
    if (!(m & AMP_MODE_GUARD) && hs->xfer.performing && !hs->xfer.multi &&
        amp_ratelimit_lean_ok(hs))
        m |= AMP_MODE_LEAN;
    return m;
}

/* The mode a transfer under way needs with the application's values as
 * they are now (it may have just turned on redirects or verbose output). */
static unsigned mode_now(const struct amp_handle *hs)
{
    unsigned m = hs->xfer.mode, trace = amp_options_app_bits(hs) & AMP_MODE_TRACE;

    if (m & AMP_MODE_SEND)
        return send_mode(hs->cfg, hs);
    if (m & AMP_MODE_AWAY)
        return AMP_MODE_AWAY | AMP_MODE_GUARD | trace | (m & AMP_MODE_HELD);
    if (m & AMP_MODE_ANSWER)
        return AMP_MODE_ANSWER | trace;
    return m;
}

/* The application's RESOLVE list without the proxy's host, made anew when
 * the application's reads otherwise (it may have changed it in place);
 * put by the sync that follows, the old one freed after it (libcurl keeps
 * the pointer, not a copy). One that still reads the same is kept: libcurl
 * loads a list again only when it is set again, as the application's. */
static int filter_resolve(struct amp_handle *hs, struct curl_slist **old)
{
    *old = NULL;
    if (!hs->app.resolve ||
        (hs->opts.resolve &&
         amp_confine_resolve_same(hs->app.resolve, hs->cfg->proxy_url, hs->opts.resolve)))
        return 0;
    struct curl_slist *mine;
    if (amp_confine_resolve(hs->c, hs->app.resolve, hs->cfg->proxy_url, &mine) < 0)
        return -1;
    *old = hs->opts.resolve;
    hs->opts.resolve = mine;
    amp_options_stale(hs, CURLOPT_RESOLVE);
    return 0;
}

/* A transfer starts: its part of the entry afresh. */
static inline __attribute__((always_inline)) void start(const struct amp_config *cfg, struct amp_handle *hs,
                                                        unsigned mode, int64_t now)
{
    struct amp_guard *g = &hs->guard;

    /* The handle holds the config (a no-op when begun: it holds it already). */
    if (cfg)
        use_config(hs, cfg);
    hs->xfer.active = 1;
    hs->xfer.started = 0;
    hs->xfer.counted = NULL;
    hs->xfer.sent = 0;
    hs->xfer.now = now;
    hs->xfer.mode = mode;
    hs->xfer.lean = (mode & AMP_MODE_LEAN) != 0;
    hs->xfer.forced = CURLE_OK;
    hs->xfer.forced_msg[0] = '\0';
    hs->xfer.trace_split = 0;
    amp_ratelimit_watch_start(hs);
    g->cur_route = g->proxy_route = NULL;
    g->proxy_headers = NULL;
    if (g->redirect_url) {
        free(g->redirect_url);
        g->redirect_url = NULL;
    }
}

/* Readied to be answered here (respond.c): libcurl is sent to our answer's
 * URL, with the application's own headers (not a byte of the key, even
 * into our own socket), our socket callbacks, no proxy, no unix socket
 * (mode AMP_MODE_ANSWER, put by the caller's sync). -1 when out of memory. */
static int answer_here(struct amp_handle *hs, const struct amp_block *b, const char *route,
                       int64_t now, const char *proxy_url)
{
    if (amp_respond_prepare(hs, b, route, now, proxy_url) < 0)
        return -1;
    hs->opts.url = hs->answer.url;
    amp_options_stale(hs, CURLOPT_URL);
    return 0;
}

/* A dry run: each call that would be routed, said on stderr, and left alone. */
static void report_dry_run(const struct amp_config *cfg, const struct amp_handle *hs)
{
    const struct amp_route *r = hs->decision.route;
    char masked[64], added[1024] = "";
    size_t used = 0;

    amp_mask(cfg->api_key, masked, sizeof(masked));
    for (size_t i = 0; i < r->nheaders && used < sizeof(added); i++) {
        const struct amp_header *h = r->headers[i];
        used += (size_t)snprintf(added + used, sizeof(added) - used, "%s%s: %s", i ? ", " : "",
                                 h->name, h->secret ? masked : h->value);
    }
    char mode[256];
    amp_on_block_sentence(cfg, mode, sizeof(mode));
    amp_report("dry run: %s would go through route %s (%s) to %s with %s; when blocked: %s",
               hs->decision.url, r->base_url, r->ident, hs->decision.proxy_url, added, mode);
}

/* The transfer starts, sent to the proxy in mode: our URL and header list
 * (with the provider's cookies, when libcurl has some: cookies.c) on it. */
static void sending(const struct amp_config *cfg, struct amp_handle *hs, unsigned mode,
                    int64_t now)
{
    struct amp_decision *d = &hs->decision;

    start(cfg, hs, mode, now);
    hs->opts.url = d->proxy_url;
    if (!d->said)
        amp_info("route %s (%s): %s -> %s", d->route->base_url, d->route->ident, d->url,
                 d->proxy_url);
    d->said = 1;
    hs->opts.headers = amp_cookies_for(hs, d->url, d->route, hs->hdrs.ours);
    /* Counted routed when it is sent (amp_transfer_sent). */
    hs->xfer.counted = d->tally;
    hs->guard.cur_route = hs->guard.proxy_route = d->route;
    hs->guard.proxy_headers = hs->opts.headers;
}

/* begin's short way (amp_transfer_perform's), for a handle whose last
 * transfer was a curl_easy_perform begun so that it may be begun again
 * (may_begin_again) and ended as it began (d->again):
 * when nothing that transfer was set up from has moved since (the config
 * it held, no option of the application's noted, the URL it decided, its
 * header list made of the same nodes, our options on the handle as it left
 * them), this one is set up as that one was once its route is seen not
 * blocked: begin would decide, merge and put nothing new. Some 150
 * instructions, where the long way costs some 500. */
static int again(const struct amp_config *cfg, const struct amp_handle *hs)
{
    const struct amp_decision *d = &hs->decision;
    const struct amp_opt_state *o = &hs->opts;

    /* (In no multi handle: amp_transfer_perform, the one caller, hands
     * one in a multi handle to libcurl as it is. Begun on a connection it
     * may keep: may_begin_again.) */
    return d->again && hs->cfg == cfg && o->noted == d->again_noted && !hs->lost && d->done &&
           d->url == hs->app.url && !o->dirty && !o->stale && o->mode == d->again_mode &&
           o->url == d->proxy_url && o->headers == hs->hdrs.ours && hs->hdrs.route == d->route &&
           headers_same(hs) && !amp_confine_relay_shared();
}

/* A transfer sent to the proxy that the next may be begun as (begin's
 * short way): lean, or a curl_easy_perform (not in a multi handle, whose
 * transfer ends where the application says) on a connection it may keep,
 * with libcurl's cookie engine off. With it on, a Set-Cookie of this
 * transfer's would give the next one a list of ours with the provider's
 * cookies, which only the long way puts (cookies.c). */
static int may_begin_again(const struct amp_handle *hs, unsigned mode)
{
    return !(mode & AMP_MODE_FRESH) &&
           ((mode & AMP_MODE_LEAN) || (hs->xfer.performing && !hs->xfer.multi &&
                                       !hs->app.cookie_engine && !hs->cookies.seen && !hs->app.share));
}

/* Route hs's transfer. CURLE_OK with *routed 0 (left alone) or 1 (our
 * options are on the handle); any other code: the transfer must not be
 * sent (blocked, out of memory), hs->xfer.forced_msg and the application's
 * error buffer say why. may_wait: a short block may be slept through; now:
 * the UTC second (time(NULL)). */
static CURLcode begin(const struct amp_config *cfg, struct amp_handle *hs, int may_wait,
                      int64_t now, int *routed)
{
    struct amp_decision *d = &hs->decision;
    CURLcode rc = CURLE_OK;
    struct amp_block block;

    *routed = 0;
    if (hs->xfer.active) /* never routed twice: the handle already carries ours */
        return CURLE_OK;
    d->again = 0; /* set again below if the next may be begun as this one */
    use_config(hs, cfg);
    cfg = hs->cfg; /* the one it holds: cfg may have been replaced since it was read */
    if (decide(cfg, hs) < 0 || (d->route && build_headers(hs) < 0)) {
        /* A lost handle's refusal is said already (lost_handle). */
        if (hs->lost)
            return CURLE_OUT_OF_MEMORY;
        return amp_transfer_fail(hs, CURLE_OUT_OF_MEMORY, AMP_LOG_ERROR,
                                 "out of memory while deciding a transfer's route; not sent");
    }
    if (!d->route || cfg->dry_run) {
        if (d->route)
            report_dry_run(cfg, hs);
        /* A redirect of it may lead to a provider: looked at like a routed
         * transfer's, and routed (or refused) there, never sent direct. */
        unsigned mode = hs->app.follow && cfg->routes.n && !cfg->dry_run ? AMP_MODE_GUARD : 0;
        if (mode) {
            start(cfg, hs, mode, now);
            *routed = 1;
        }
        /* Whatever of ours a routed transfer left, given back. */
        amp_options_sync(hs, mode);
        return CURLE_OK;
    }
    hs->xfer.counted_blocked = NULL;
    enum amp_verdict v = amp_ratelimit_check(cfg, hs, d->route, may_wait, &rc, &block, &now);
    if (v == AMP_REFUSE)
        return rc;
    unsigned mode = v == AMP_SEND ? send_mode(cfg, hs)
                                  : AMP_MODE_ANSWER | (hs->app.verbose ? AMP_MODE_TRACE : 0);
    if (v == AMP_SEND) {
        sending(cfg, hs, mode, now);
    } else {
        start(cfg, hs, mode, now);
        hs->opts.url = d->proxy_url;
        hs->opts.headers = hs->hdrs.ours;
    }
    /* Answered here: no request of it reaches the proxy, and our own 429
     * is not one to record. */
    struct curl_slist *old_resolve = NULL;
    int failed = (v == AMP_ANSWER &&
                  answer_here(hs, &block, d->route->base_url, now, d->proxy_url) < 0) ||
                 (v == AMP_SEND && filter_resolve(hs, &old_resolve) < 0) ||
                 amp_options_sync(hs, mode) < 0;
    if (old_resolve)
        hs->c->slist_free_all(old_resolve);
    if (failed) {
        hs->xfer.active = 0;
        return amp_transfer_fail(hs, CURLE_OUT_OF_MEMORY, AMP_FAIL_QUIET,
                                 "out of memory while routing %s", d->url);
    }
    /* Its end says whether it left anything of its own on the handle
     * (end(): a redirect's list or URL, a failure of ours). */
    if (v == AMP_SEND && may_begin_again(hs, mode)) {
        d->again = 1;
        d->again_noted = hs->opts.noted;
        d->again_mode = mode;
    }
    *routed = 1;
    return CURLE_OK;
}

/* A transfer that must fail without a byte sent, through libcurl's own
 * machinery (the multi interface reports it like any failure). */
static void begin_failed(const struct amp_config *cfg, struct amp_handle *hs, CURLcode why)
{
    char msg[CURL_ERROR_SIZE];

    memcpy(msg, hs->xfer.forced_msg, sizeof(msg));
    start(cfg, hs, AMP_MODE_NOWHERE, (int64_t)time(NULL));
    hs->xfer.forced = why;
    memcpy(hs->xfer.forced_msg, msg, sizeof(msg));
    hs->opts.url = NOWHERE;
    amp_options_stale(hs, CURLOPT_URL);
    amp_options_sync(hs, AMP_MODE_NOWHERE);
}

int amp_transfer_option_set(struct amp_handle *hs, int row)
{
    struct amp_inflight *x = &hs->xfer;
    enum amp_change change = amp_option_change(row);

    if (!x->active || change == AMP_CHANGE_NONE)
        return 0;
    /* A buffer given to a refused call under way (after it was added to a
     * multi handle) is told why at once: libcurl is given none (options.c). */
    if (x->forced != CURLE_OK && row == amp_option_row(CURLOPT_ERRORBUFFER))
        fill_errbuf(hs);
    /* libcurl reads the URL as the transfer starts: one not started yet is
     * routed again; one under way or ended keeps its route, and the proxy
     * URL stays on the handle (put back below: should libcurl read it once
     * more, it finds ours), and the next transfer decides anew. */
    if (change == AMP_CHANGE_ROUTE && x->multi && !x->performing && !x->started)
        return 1;
    if (change == AMP_CHANGE_HEADERS && (x->mode & AMP_MODE_SEND) && !hs->guard.extra_headers) {
        /* Ours merged again from the application's new list (with the
         * provider's cookies); the old one is no longer libcurl's (the
         * application's replaced it). */
        if (build_headers(hs) < 0) {
            amp_transfer_fail(hs, CURLE_OUT_OF_MEMORY, AMP_FAIL_QUIET,
                              "out of memory while routing %s", hs->decision.url);
            begin_failed(hs->cfg, hs, CURLE_OUT_OF_MEMORY);
            return 0;
        }
        hs->opts.headers = hs->guard.proxy_headers =
            amp_cookies_request(hs, hs->decision.url, 0, hs->decision.route, hs->hdrs.ours);
    } else if (change == AMP_CHANGE_HEADERS) {
        /* A list of ours of another kind (a redirect's): put again. */
        amp_options_stale(hs, CURLOPT_HTTPHEADER);
    }
    /* Ours back where the application's value replaced it, and the mode
     * its values ask for now (a guard for redirects, masked traces). */
    x->mode = mode_now(hs);
    x->lean |= (x->mode & AMP_MODE_LEAN) != 0;
    struct curl_slist *old_resolve = NULL;
    int failed = ((x->mode & AMP_MODE_SEND) && row == amp_option_row(CURLOPT_RESOLVE) &&
                  filter_resolve(hs, &old_resolve) < 0) ||
                 amp_options_sync(hs, x->mode) < 0;
    if (old_resolve)
        hs->c->slist_free_all(old_resolve);
    if (failed) {
        amp_transfer_fail(hs, CURLE_OUT_OF_MEMORY, AMP_FAIL_QUIET,
                          "out of memory while routing %s", hs->decision.url);
        begin_failed(hs->cfg, hs, CURLE_OUT_OF_MEMORY);
    }
    return 0;
}

static __attribute__((noinline)) int refuse_connection(struct amp_handle *hs)
{
    hs->xfer.refused = 1;
    if (hs->xfer.performing)
        amp_debug("the connection libcurl kept to the plain-http proxy is not ampshim's socket "
                  "any more: sent on a new one");
    else
        amp_transfer_fail(hs, CURLE_SEND_ERROR, AMP_LOG_WARN,
                          "the connection libcurl kept to the plain-http proxy is not ampshim's "
                          "socket any more (the program closed it or put another over its "
                          "number, or made that connection itself): not sent");
    return CURL_PREREQFUNC_ABORT;
}

/* A request is about to go out on the connection libcurl picked, whose
 * local port is local_port: to a plain-http proxy, only on one of our
 * sockets still at its number (amp_confine_sends_on); else refused,
 * nothing sent: curl_easy_perform sends it again on a new connection, a
 * multi transfer fails with CURLE_SEND_ERROR and a message saying why. */
static inline int confined(struct amp_handle *hs, int local_port)
{
    if (!(hs->xfer.mode & AMP_MODE_PLAIN) || amp_confine_sends_on(local_port))
        return CURL_PREREQFUNC_OK;
    return refuse_connection(hs);
}

/* amp_transfer_sending with the application's own callback first, which
 * may have taken the connection's number. */
static __attribute__((noinline)) int sending_after_apps(struct amp_handle *hs, char *primary_ip,
                                                        char *local_ip, int primary_port,
                                                        int local_port)
{
    int rc = hs->app.prereq_fn(hs->app.prereq_data, primary_ip, local_ip, primary_port, local_port);

    if (rc == CURL_PREREQFUNC_OK)
        rc = confined(hs, local_port);
    if (rc == CURL_PREREQFUNC_OK)
        amp_transfer_sent(hs);
    return rc;
}

int amp_transfer_sending(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                         int local_port)
{
    struct amp_handle *hs = clientp;

    amp_transfer_started(hs);
    if (hs->app.prereq_fn)
        return sending_after_apps(hs, primary_ip, local_ip, primary_port, local_port);
    if (confined(hs, local_port) != CURL_PREREQFUNC_OK)
        return CURL_PREREQFUNC_ABORT;
    amp_transfer_sent(hs);
    return CURL_PREREQFUNC_OK;
}

/* A transfer about to end that libcurl may never have started (taken
 * back, taken out of its multi handle): if our PREREQFUNCTION, which runs
 * before any request goes, never ran, nothing of it was answered, and
 * libcurl's RESPONSE_CODE is still the last transfer's: its end counts no
 * answer and records no 429 (no route on the wire). A transfer that ends
 * otherwise was started by libcurl, which reset that code then. */
static inline void if_unstarted(struct amp_handle *hs)
{
    if (!hs->xfer.started)
        hs->guard.cur_route = NULL;
}

/* A transfer that never ran, ended as if it had not begun: not counted
 * (blocked; routed it is only once sent; answered, if_unstarted). */
static void take_back(struct amp_handle *hs)
{
    if (!hs->xfer.active)
        return;
    amp_tally_blocked_undo(hs->xfer.counted_blocked);
    hs->xfer.counted = hs->xfer.counted_blocked = NULL;
    if_unstarted(hs);
    end(hs);
}

/* A transfer that did not end as it began: the next is begun the long
 * way. Apart from end, whose common case then saves fewer registers. */
static __attribute__((noinline)) void not_again(struct amp_handle *hs)
{
    struct amp_guard *g = &hs->guard;

    hs->decision.again = 0;
    /* A redirect routed anew left its URL and list on the handle: put
     * ours again next time (libcurl reads neither between transfers). */
    if (g->extra_headers) {
        amp_headers_free(g->extra_headers);
        g->extra_headers = NULL;
        amp_options_stale(hs, CURLOPT_HTTPHEADER);
    }
    if (g->redirect_proxy_url) {
        free(g->redirect_proxy_url);
        g->redirect_proxy_url = NULL;
        amp_options_stale(hs, CURLOPT_URL);
    }
}

/* The transfer is over (a 429 was recorded as it arrived); our options
 * stay on the handle for the next. Does nothing unless one is active. */
static void end(struct amp_handle *hs)
{
    struct amp_guard *g = &hs->guard;
    unsigned mode = hs->xfer.mode;

    if (!hs->xfer.active)
        return;
    if (mode & (AMP_MODE_SEND | AMP_MODE_AWAY))
        amp_ratelimit_transfer_ended(hs);
    if (mode & AMP_MODE_ANSWER)
        amp_respond_end(hs);
    amp_tally_flush_due(hs->xfer.now);
    /* Begun again the short way only if it ended as it began: the mode it
     * was begun in (no trace or guard turned on since), no redirect's list
     * or URL of ours, no failure of ours. */
    if (mode != hs->decision.again_mode || g->extra_headers || g->redirect_proxy_url ||
        g->redirect_url || hs->xfer.forced != CURLE_OK)
        not_again(hs);
    hs->xfer.active = 0;
}

static CURLcode reroute(const struct amp_config *cfg, struct amp_handle *hs)
{
    struct amp_guard *g = &hs->guard;
    char *proxy_url = NULL;
    long code = 0;
    CURLcode rc;
    const struct amp_route *r =
        amp_route_match(&cfg->routes, hs->c, g->redirect_url, cfg->proxy_url, &proxy_url);

    hs->c->easy_getinfo(hs->easy, CURLINFO_RESPONSE_CODE, &code);
    /* Sent again with the application's own options: what libcurl itself
     * would send only for a GET or HEAD, or after a 307/308 (a POST
     * answered 301/302/303 would become a GET). */
    if (!r || !proxy_url ||
        !(code == 307 || code == 308 || (!hs->app.posts && !hs->app.custom_unsafe))) {
        free(proxy_url);
        return amp_transfer_fail(hs, CURLE_TOO_MANY_REDIRECTS, AMP_FAIL_QUIET,
                                 "not following the redirect (HTTP %ld) of this request to %s",
                                 code, g->redirect_url);
    }
    free(g->redirect_proxy_url);
    g->redirect_proxy_url = proxy_url;
    struct amp_block block;
    int64_t now = 0;
    enum amp_verdict v = amp_ratelimit_check(cfg, hs, r, 1, &rc, &block, &now);
    if (v == AMP_REFUSE)
        return rc;
    if (v == AMP_ANSWER) {
        free(g->redirect_url);
        g->redirect_url = NULL;
        g->cur_route = NULL;
        hs->xfer.mode = AMP_MODE_ANSWER | (hs->app.verbose ? AMP_MODE_TRACE : 0);
        if (answer_here(hs, &block, r->base_url, now, proxy_url) < 0 ||
            amp_options_sync(hs, hs->xfer.mode) < 0)
            return CURLE_OUT_OF_MEMORY;
        return CURLE_OK;
    }
    /* Copied: it may outlive the application's list (a list set again
     * while this redirect's request is under way leaves it in use). */
    struct curl_slist *h = amp_headers_merge(hs->app.headers, r, 1);
    if (!h)
        return amp_transfer_fail(hs, CURLE_OUT_OF_MEMORY, AMP_FAIL_QUIET,
                                 "out of memory while routing a redirect");
    amp_info("redirect to %s: route %s (%s) -> %s", g->redirect_url, r->base_url, r->ident,
             proxy_url);
    amp_headers_free(g->extra_headers);
    g->extra_headers = h;
    /* The redirect's URL is the cookies' now (cookies.c keeps it). */
    h = amp_cookies_request(hs, g->redirect_url, 1, r, h);
    g->redirect_url = NULL;
    /* A new request to the proxy: counted routed when it is sent. */
    hs->xfer.counted = amp_tally_of(r);
    hs->xfer.sent = 0;
    g->cur_route = g->proxy_route = r;
    g->proxy_headers = h;
    /* A transfer that started unrouted becomes a routed one now. */
    if (!(hs->xfer.mode & AMP_MODE_SEND))
        amp_ratelimit_watch_clear(hs);
    hs->xfer.mode = send_mode(cfg, hs);
    hs->opts.url = proxy_url;
    hs->opts.headers = h;
    amp_options_stale(hs, CURLOPT_URL);
    amp_options_stale(hs, CURLOPT_HTTPHEADER);
    return amp_options_sync(hs, hs->xfer.mode) < 0 ? CURLE_OUT_OF_MEMORY : CURLE_OK;
}

/* --- what libcurl's callbacks may change (inflight.h) ---------------------- */

void amp_transfer_redirect_stopped(struct amp_handle *hs, const char *url)
{
    free(hs->guard.redirect_url);
    hs->guard.redirect_url = strdup(url);
}

void amp_transfer_go_away(struct amp_handle *hs, int held)
{
    hs->xfer.mode = AMP_MODE_AWAY | AMP_MODE_GUARD | (hs->xfer.mode & AMP_MODE_TRACE) |
                    (held ? AMP_MODE_HELD : 0);
    hs->guard.cur_route = NULL;
    amp_options_sync(hs, hs->xfer.mode);
}

/* --- the adapters' steps (easy.c, multi.c) ------------------------------- */

/* Another URL (or none) for a handle whose transfer is under way. The URL
 * it decided on, which its cookies are filed for and curl_easy_getinfo
 * shows, is the application's as options.c keeps it: noting the new one
 * would overwrite that buffer, or free it to grow it. The transfer keeps
 * it, until the next decision. */
static __attribute__((noinline, cold)) void keep_decided_url(struct amp_handle *hs, const char *url)
{
    struct amp_decision *d = &hs->decision;

    if (!hs->app.url || d->url != hs->app.url || (url && strcmp(url, hs->app.url) == 0))
        return;
    free(d->held_url);
    d->held_url = amp_options_take_url(hs);
}

void amp_transfer_option_noted(const struct amp_curl *c, struct amp_handle *hs, int row,
                               union amp_optval v)
{
    enum amp_change what = AMP_CHANGE_NONE;

    if (hs && hs->xfer.active && row == AMP_OPTION_URL_ROW)
        keep_decided_url(hs, v.p);
    /* Out of memory: the handle is marked, or, when even its entry could
     * not be made, found without one at its next transfer; either way it
     * goes out only where no route would take it (lost_handle). */
    if (!hs || amp_option_note_change(hs, row, v, &what) < 0) {
        if (hs)
            hs->lost = 1;
        amp_error("out of memory while noting an option: this handle's routed calls will fail");
    }
    if (!hs)
        return;
    /* Another URL is decided again; another header list (or the same one
     * changed in place) merged again. */
    if (what == AMP_CHANGE_ROUTE)
        hs->decision.done = 0;
    else if (what == AMP_CHANGE_HEADERS)
        hs->hdrs.dirty = 1;
    /* A transfer under way (added to a multi handle, or this option set
     * from one of its callbacks) has ours put back at once, in the mode the
     * new value asks for. One not yet started whose URL changed is routed
     * again, as if added now, so that nothing of ours goes where the new
     * URL leads (libcurl reads it when the multi handle first drives it). */
    if (hs->xfer.active && amp_transfer_option_set(hs, row)) {
        const struct amp_settings *s = amp_settings_get(c);
        CURLM *multi = hs->xfer.multi;
        int routed;
        take_back(hs);
        hs->xfer.multi = multi;
        CURLcode rc = s->mode == AMP_ON ? begin(s->cfg, hs, 0, (int64_t)time(NULL), &routed)
                                        : CURLE_FAILED_INIT;
        if (rc != CURLE_OK)
            begin_failed(s->cfg, hs, rc);
    }
}

/* The application's URL, set on this handle, is ours to route now: the
 * handle is usable, not in a transfer (amp_transfer_option_noted sees to
 * that one), its URL not the application's CURLU, and libcurl holds a URL
 * of ours for it (its last transfer was routed). */
static int url_ours(const struct amp_handle *hs, const char *url)
{
    return !hs->lost && !hs->xfer.active && !hs->app.curlu && url && amp_options_hold_url(hs);
}

/* url is the URL this handle decided last, nothing since having asked for
 * a new decision (d->done: a new config, an option the change rules say
 * matters). The string compared last: most programs set the same URL. */
static int decided_again(const struct amp_handle *hs, const char *url)
{
    const struct amp_decision *d = &hs->decision;

    return d->done && hs->app.url && d->url == hs->app.url && strcmp(hs->app.url, url) == 0;
}

/* And libcurl holds the proxy URL that decision made, unchanged: handed it
 * again, nothing of ours changes (hs->opts.url, d->url, the option table's
 * row are what they would be made). */
static int holds_decided(const struct amp_handle *hs)
{
    const struct amp_decision *d = &hs->decision;

    return d->route && hs->opts.url == d->proxy_url && amp_options_url_held(hs, d->proxy_url);
}

/* libcurl refused a URL (longer than it takes, out of memory), the
 * application's or the proxy URL for it: it freed the one it held first
 * (lib/setopt.c, Curl_setstropt) and holds none now. Noted so: the next
 * transfer is libcurl's "No URL set", as without us, not the last URL
 * again. */
static __attribute__((noinline, cold)) CURLcode url_refused(const struct amp_curl *c,
                                                            struct amp_handle *hs, CURLcode rc)
{
    amp_transfer_option_noted(c, hs, amp_option_row(CURLOPT_URL), (union amp_optval){ .p = NULL });
    return rc;
}

/* Apart, so that the common case (the same URL again) saves no registers
 * for the rest. */
__attribute__((noinline)) static CURLcode put_again(struct amp_handle *hs)
{
    CURLcode rc = hs->c->easy_setopt(hs->easy, CURLOPT_URL, hs->decision.proxy_url);

    if (rc != CURLE_OK)
        return url_refused(hs->c, hs, rc);
    return rc;
}

/* The application's URL handed to libcurl as it is, and noted, as easy.c
 * notes every option the application sets (its mode is on: hs is the
 * entry it would find). Here, so that amp_easy_set_url needs no frame to
 * come back to. */
__attribute__((noinline)) static CURLcode url_as_set(const struct amp_curl *c, struct amp_handle *hs,
                                                    const char *url)
{
    CURLcode rc = c->easy_setopt(hs->easy, CURLOPT_URL, url);

    if (rc != CURLE_OK)
        return url_refused(c, hs, rc);
    amp_transfer_option_noted(c, hs, amp_option_row(CURLOPT_URL), (union amp_optval){ .p = (void *)url });
    return rc;
}

/* Any other URL of ours: decided now (unless it is the URL decided last,
 * again), and libcurl handed the proxy URL, or the URL as it is when it is
 * not routed. */
__attribute__((noinline)) static CURLcode url_set_decide(const struct amp_curl *c, struct amp_handle *hs,
                                                        const char *url, int again)
{
    struct amp_decision *d = &hs->decision;
    CURLcode rc;

    if (!again && decide_url(hs->cfg, hs, url) < 0) {
        d->done = 0;
        return url_as_set(c, hs, url);
    }
    if (!d->route) {
        d->done = 0;
        return url_as_set(c, hs, url);
    }
    /* At once: libcurl's copy of the proxy URL, which the memo's buffer
     * held before, is the new one (no sync needs to mend it). */
    rc = amp_options_put_url(hs, d->proxy_url);
    if (rc != CURLE_OK) {
        d->url = NULL; /* the application's string, not noted */
        return url_refused(c, hs, rc);
    }
    hs->opts.url = d->proxy_url;
    /* Its length known to the route's scan (the memo decided it just now:
     * d->url is not the URL kept). */
    if (d->url != hs->app.url && amp_options_keep_url_len(hs, url, d->memo.url_len) < 0) {
        hs->lost = 1;
        amp_error("out of memory while noting an option: this handle's routed calls will fail");
    }
    d->url = hs->app.url;
    return rc;
}

CURLcode amp_transfer_url_set(const struct amp_curl *c, const struct amp_config *cfg,
                              struct amp_handle *hs, const char *url)
{
    if (!url_ours(hs, url))
        return url_as_set(c, hs, url);
    use_config(hs, cfg);
    int again = decided_again(hs, url);
    if (again && holds_decided(hs))
        return put_again(hs);
    return url_set_decide(c, hs, url, again);
}

/* A URL libcurl holds for a routed handle, as the application would see
 * it: on the proxy, the proxy's URL gives way to the provider's part the
 * route rewrote (the part of the application's URL its rewritten URL does
 * not share); anywhere else (a redirect off the proxy) as it is. */
static char *unproxied(struct amp_handle *hs, char *url)
{
    struct amp_decision *d = &hs->decision;
    const char *proxy = hs->cfg ? hs->cfg->proxy_url : NULL;
    size_t pl = proxy ? strlen(proxy) : 0;

    if (!url || !pl || !d->url || !d->proxy_url || strncmp(url, proxy, pl) != 0 ||
        strncmp(d->proxy_url, proxy, pl) != 0)
        return url;
    size_t rest = strlen(d->proxy_url) - pl, app = strlen(d->url);
    if (rest > app)
        return url;
    size_t prefix = app - rest, tail = strlen(url + pl), need = prefix + tail + 1;
    if (amp_grow(&d->shown, &d->shown_cap, need) < 0)
        return url;
    memcpy(d->shown, d->url, prefix);
    memcpy(d->shown + prefix, url + pl, tail + 1);
    return d->shown;
}

void amp_transfer_referer_unproxied(struct amp_handle *hs)
{
    char *ref = NULL;

    if (hs->c->easy_getinfo(hs->easy, CURLINFO_REFERER, &ref) != CURLE_OK || !ref)
        return;
    char *shown = unproxied(hs, ref);
    if (shown == ref)
        return;
    amp_options_put(hs, CURLOPT_REFERER, (union amp_optval){ .p = shown });
    /* Given back to the application's own by the next sync. */
    hs->opts.dirty = 1;
}

CURLcode amp_transfer_url_info(const struct amp_curl *c, struct amp_handle *hs, CURLINFO info,
                               char **out)
{
    if (!amp_options_hold_url(hs) || !hs->decision.url)
        return c->easy_getinfo(hs->easy, info, out);
    /* Where it went: the URL the application asked for (a redirect
     * followed through the proxy may have led elsewhere: see Limits). */
    if (info == CURLINFO_EFFECTIVE_URL) {
        *out = (char *)hs->decision.url;
        return CURLE_OK;
    }
    CURLcode rc = c->easy_getinfo(hs->easy, info, out);
    if (rc == CURLE_OK)
        *out = unproxied(hs, *out);
    return rc;
}

/* The connection libcurl picked to a plain-http proxy was refused (not
 * our socket any more, nothing sent): the perform once more, on a new one. */
static __attribute__((noinline)) CURLcode perform_afresh(const struct amp_curl *c,
                                                         struct amp_handle *hs)
{
    /* Refused on a redirect's hop: sending it all again would repeat the
     * requests that went (a POST answered 307). */
    if (hs->xfer.sent)
        return amp_transfer_fail(hs, CURLE_SEND_ERROR, AMP_LOG_WARN,
                                 "the connection libcurl kept to the plain-http proxy for a "
                                 "redirect is not ampshim's socket any more: not sent");
    hs->xfer.refused = 0;
    hs->xfer.mode |= AMP_MODE_FRESH;
    if (amp_options_sync(hs, hs->xfer.mode) < 0)
        return amp_transfer_fail(hs, CURLE_OUT_OF_MEMORY, AMP_FAIL_QUIET,
                                 "out of memory while routing %s", hs->decision.url);
    CURLcode rc = c->easy_perform(hs->easy);
    if (rc == CURLE_ABORTED_BY_CALLBACK && hs->xfer.refused)
        rc = amp_transfer_fail(hs, CURLE_SEND_ERROR, AMP_LOG_WARN,
                               "a new connection to the plain-http proxy was not ampshim's socket "
                               "by the time its request went (the program took its number): not "
                               "sent");
    return rc;
}

/* libcurl's perform of a routed transfer. */
static inline CURLcode perform_confined(const struct amp_curl *c, struct amp_handle *hs)
{
    hs->xfer.refused = 0;
    CURLcode rc = c->easy_perform(hs->easy);

    if (rc == CURLE_ABORTED_BY_CALLBACK && hs->xfer.refused && !hs->orphaned)
        return perform_afresh(c, hs);
    return rc;
}

CURLcode amp_transfer_perform(const struct amp_curl *c, const struct amp_config *cfg,
                              struct amp_handle *hs, struct amp_now now, int *orphaned)
{
    int routed;
    CURLcode rc;

    *orphaned = 0;
    /* In a multi handle, or this very perform called again from one of its
     * callbacks: left to libcurl, which refuses it. */
    if (amp_transfer_running(hs))
        return c->easy_perform(hs->easy);
    /* A routed transfer never given back (the application long-jumped out
     * of it, or lost it in a multi handle libcurl took it from): the
     * handle is the application's again before it is routed anew. */
    if (hs->xfer.active)
        end(hs);
    /* Said before it begins: the mode it is sent in depends on it. */
    hs->xfer.performing = 1;
    if (again(cfg, hs) && amp_ratelimit_open(cfg, hs->decision.route, now)) {
        /* begin's short way: set up as the handle's last transfer was. */
        hs->xfer.counted_blocked = NULL;
        sending(cfg, hs, hs->decision.again_mode, now.s);
    } else {
        rc = begin(cfg, hs, 1, now.s, &routed);
        if (rc != CURLE_OK || !routed) {
            /* Left alone, and still performing while libcurl runs it: one
             * of its callbacks may start it again (amp_transfer_running)
             * or reset it (orphaned). */
            if (rc == CURLE_OK)
                rc = c->easy_perform(hs->easy);
            hs->xfer.performing = 0;
            *orphaned = hs->orphaned;
            return rc;
        }
    }
    rc = perform_confined(c, hs);
    /* The guard stopped a redirect to a routed URL: send it through the proxy. */
    for (int n = 0; (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_COULDNT_RESOLVE_HOST) &&
                    hs->guard.redirect_url && !hs->orphaned;
         n++) {
        if (n == MAX_REROUTES) {
            rc = amp_transfer_fail(hs, CURLE_TOO_MANY_REDIRECTS, AMP_FAIL_QUIET,
                                   "more than %d redirects between routed URLs", n);
            break;
        }
        rc = reroute(hs->cfg, hs);
        if (rc != CURLE_OK)
            break;
        rc = perform_confined(c, hs);
    }
    hs->xfer.performing = 0;
    end(hs);
    *orphaned = hs->orphaned;
    return rc;
}

void amp_transfer_adding(const struct amp_settings *s, struct amp_handle *hs, int64_t now)
{
    int routed = 0;

    if (s->mode == AMP_BROKEN) {
        amp_transfer_fail(hs, CURLE_FAILED_INIT, AMP_FAIL_QUIET, "%s", s->error);
        begin_failed(NULL, hs, CURLE_FAILED_INIT);
        return;
    }
    CURLcode rc = begin(s->cfg, hs, 1, now, &routed);
    if (rc != CURLE_OK)
        begin_failed(s->cfg, hs, rc);
}

void amp_transfer_added(struct amp_handle *hs, CURLM *multi)
{
    /* Refused (NULL, a dead multi handle, from one of its callbacks): a
     * call that never was, blocked or not. */
    if (multi)
        hs->xfer.multi = multi;
    else
        take_back(hs);
}

CURLMsg *amp_transfer_done_msg(struct amp_handle *hs, CURLMsg *msg)
{
    struct amp_inflight *x = &hs->xfer;

    if (!x->active)
        return msg;
    x->msg = *msg;
    if (x->forced != CURLE_OK) {
        x->msg.data.result = x->forced;
    } else if (hs->guard.redirect_url && (msg->data.result == CURLE_ABORTED_BY_CALLBACK ||
                                          msg->data.result == CURLE_COULDNT_RESOLVE_HOST)) {
        /* Routing a redirect again means a new transfer, which the
         * application's multi loop would not wait for. */
        x->msg.data.result = amp_transfer_fail(hs, CURLE_TOO_MANY_REDIRECTS, AMP_FAIL_QUIET,
                                               "not following a redirect to %s (a routed URL) "
                                               "in the multi interface",
                                               hs->guard.redirect_url);
    }
    /* libcurl wrote its own failure there (the URL nothing can fetch). */
    if (x->msg.data.result != msg->data.result)
        fill_errbuf(hs);
    end(hs);
    return &x->msg;
}

void amp_transfer_removed(struct amp_handle *hs, CURLM *multi)
{
    if (hs->xfer.multi != multi)
        return;
    if_unstarted(hs);
    end(hs);
    hs->xfer.multi = NULL;
}
