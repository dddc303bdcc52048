/* The redirect guard. libcurl builds a request's headers after this
 * callback returns, so the list set here is the one that request sends. */
#define _GNU_SOURCE
#include "redirect.h"

#include <stdlib.h>
#include <string.h>

#include "callbacks.h"
#include "inflight.h"
#include "log.h"
#include "options.h"
#include "route.h"

/* A request's URL leads to a routed provider: stop it, to send it again
 * through the proxy. */
static int to_route(struct amp_handle *hs, const struct amp_config *cfg, const char *url)
{
    int undecided;

    /* Memory running out while deciding stops the request all the same. */
    if (!url || amp_same_origin(hs->c, url, cfg->proxy_url) ||
        (!amp_route_decide(&cfg->routes, hs->c, url, cfg->proxy_url, NULL, NULL, &undecided) &&
         !undecided))
        return 0;
    amp_debug("redirect to %s: routing it through the proxy", url);
    amp_transfer_redirect_stopped(hs, url);
    return 1;
}

/* The transfer leaves the proxy for url: the application's options for
 * the rest of it, whatever it sets from now on (transfer.c keeps the mode). */
static void go_away(struct amp_handle *hs, const char *url, int held)
{
    amp_debug("redirect to %s: off the proxy, with the application's own options", url ? url : "?");
    amp_transfer_go_away(hs, held);
}

/* Where value leads from the request's URL (NULL: nowhere we can tell). */
static char *resolved(struct amp_handle *hs, const char *value, size_t len)
{
    const struct amp_curl *c = hs->c;
    char *base = NULL, *url = NULL, *loc;
    CURLU *u = NULL;

    while (len && (*value == ' ' || *value == '\t'))
        value++, len--;
    while (len && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' ' ||
                   value[len - 1] == '\t'))
        len--;
    if (!len)
        return NULL;
    loc = strndup(value, len);
    if (!loc)
        return NULL;
    /* As libcurl resolves it: relative to the URL of the request. */
    if (c->easy_getinfo(hs->easy, CURLINFO_EFFECTIVE_URL, &base) == CURLE_OK && base)
        u = c->url();
    if (u) {
        if (c->url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
            c->url_set(u, CURLUPART_URL, loc, CURLU_GUESS_SCHEME) == CURLUE_OK) {
            char *got = NULL;
            if (c->url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK) {
                url = strdup(got);
                c->free(got);
            }
        }
        c->url_cleanup(u);
    }
    free(loc);
    return url;
}

void amp_redirect_location(struct amp_handle *hs, const char *value, size_t len)
{
    const struct amp_config *cfg = hs->cfg;
    int undecided = 0;

    if (!(hs->xfer.mode & AMP_MODE_SEND))
        return;
    char *url = resolved(hs, value, len);
    /* On the proxy, or to a route (stopped and routed again by the guard):
     * ours stay. Anywhere else, or nowhere we can tell: the application's. */
    if (url && (amp_same_origin(hs->c, url, cfg->proxy_url) ||
                amp_route_decide(&cfg->routes, hs->c, url, cfg->proxy_url, NULL, NULL, &undecided) ||
                undecided)) {
        free(url);
        return;
    }
    go_away(hs, url, 1);
    free(url);
}

int amp_redirect_resolving(void *resolver_state, void *reserved, void *userdata)
{
    struct amp_handle *hs = userdata;
    const struct amp_config *cfg = hs->cfg;
    char *url = NULL;

    amp_transfer_started(hs);
    hs->c->easy_getinfo(hs->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (to_route(hs, cfg, url))
        return 1;
    if (hs->app.resolver_fn)
        return hs->app.resolver_fn(resolver_state, reserved, hs->app.resolver_data);
    return 0;
}

int amp_redirect_guard(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                       int local_port)
{
    struct amp_handle *hs = clientp;
    const struct amp_curl *c = hs->c;
    const struct amp_config *cfg = hs->cfg;
    char *url = NULL;
    const struct amp_guard *g = &hs->guard;

    amp_transfer_started(hs);
    /* The proxy's answer that sent the transfer away has been read: the
     * application's header callback from this request on. */
    if (hs->xfer.mode & AMP_MODE_HELD)
        amp_transfer_go_away(hs, 0);
    c->easy_getinfo(hs->easy, CURLINFO_EFFECTIVE_URL, &url);
    /* Back on the proxy after a request elsewhere: that connection was
     * made with the application's options (AMP_MODE_AWAY), so it gets none
     * of our headers. */
    int to_proxy = 0;
    if (url && g->proxy_route && !(hs->xfer.mode & AMP_MODE_AWAY) &&
        amp_same_origin(c, url, cfg->proxy_url)) {
        to_proxy = 1;
        if (g->cur_route != g->proxy_route) {
            amp_options_put(hs, CURLOPT_HTTPHEADER, (union amp_optval){ .p = g->proxy_headers });
            amp_transfer_on_route(hs, g->proxy_route);
        }
    } else if (to_route(hs, cfg, url)) {
        return CURL_PREREQFUNC_ABORT;
    } else if (hs->xfer.mode & AMP_MODE_SEND) {
        /* Off the proxy without its Location seen (amp_redirect_location):
         * this connection is made, but nothing of ours goes with it, nor
         * with any later request of the transfer. */
        go_away(hs, url, 0);
    } else if (g->cur_route) {
        amp_options_give_back(hs, CURLOPT_HTTPHEADER);
        amp_transfer_on_route(hs, NULL);
    }
    /* Our headers go with it: as any request to the proxy (the socket it
     * goes out on checked, then counted). */
    if (to_proxy)
        return amp_transfer_sending(hs, primary_ip, local_ip, primary_port, local_port);
    amp_transfer_referer_unproxied(hs);
    if (hs->app.prereq_fn)
        return hs->app.prereq_fn(hs->app.prereq_data, primary_ip, local_ip, primary_port,
                                 local_port);
    return CURL_PREREQFUNC_OK;
}
