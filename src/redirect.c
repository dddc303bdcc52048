/* The redirect guard. libcurl builds a request's headers after this
 * callback returns, so the list set here is the one that request sends. */
#define _GNU_SOURCE
#include "redirect.h"

#include <stdlib.h>
#include <string.h>

#include "handles.h"
#include "log.h"
#include "route.h"
#include "shim.h"

int amp_redirect_guard(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                       int local_port)
{
    struct amp_handle *hs = clientp;
    const struct amp_curl *c = hs->c;
    const struct amp_config *cfg = amp_shim_get(c)->cfg;
    char *url = NULL;

    c->easy_getinfo(hs->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (url && amp_same_origin(c, url, cfg->proxy_url)) {
        if (hs->cur_route != hs->proxy_route) {
            c->easy_setopt(hs->easy, CURLOPT_HTTPHEADER, hs->proxy_headers);
            hs->cur_route = hs->proxy_route;
        }
    } else if (url && amp_route_match(&cfg->routes, c, url, cfg->proxy_url, NULL)) {
        amp_debug("redirect to %s: routing it through the proxy", url);
        free(hs->redirect_url);
        hs->redirect_url = strdup(url);
        return CURL_PREREQFUNC_ABORT;
    } else {
        amp_debug("redirect to %s: off the proxy, without our headers", url ? url : "?");
        c->easy_setopt(hs->easy, CURLOPT_HTTPHEADER, hs->app.headers);
        hs->cur_route = NULL;
    }
    if (hs->app.prereq_fn)
        return hs->app.prereq_fn(hs->app.prereq_data, primary_ip, local_ip, primary_port,
                                 local_port);
    return CURL_PREREQFUNC_OK;
}
