/* The multi interface. A transfer is routed when it is added; a blocked
 * one is pointed at a URL nothing can fetch, so it fails through libcurl's
 * own machinery with no network I/O, and curl_multi_info_read reports our
 * result for it. Calls that libcurl makes to itself (Debian's
 * curl_easy_perform drives these functions) pass straight through. */
#define _GNU_SOURCE
#include "multi.h"

#include <string.h>

#include "handles.h"
#include "log.h"
#include "real.h"
#include "settings.h"
#include "transfer.h"

CURLMcode amp_multi_add_handle(const struct amp_curl *c, int internal, CURLM *multi, CURL *easy)
{
    int routed = 0;

    if (!c)
        return CURLM_INTERNAL_ERROR;
    int64_t now = 0;
    const struct amp_settings *shim = internal ? NULL : amp_settings_refresh(c, &now);
    if (!shim || shim->mode == AMP_OFF)
        return c->multi_add_handle(multi, easy);
    struct amp_handle *hs = amp_handle_for_transfer(easy, c);
    if (!hs) {
        amp_error("out of memory: a transfer is not sent");
        return CURLM_OUT_OF_MEMORY;
    }
    /* Added twice, or while in a transfer: libcurl refuses it, and the
     * transfer under way keeps our options. */
    if (hs->xfer.active)
        return c->multi_add_handle(multi, easy);
    if (shim->mode == AMP_BROKEN) {
        amp_transfer_error(hs, "ampshim: %s", shim->error);
        amp_transfer_begin_failed(NULL, hs, CURLE_FAILED_INIT);
    } else {
        const struct amp_config *cfg = shim->cfg;
        CURLcode rc = amp_transfer_begin(cfg, hs, 1, now, &routed);
        if (rc != CURLE_OK)
            amp_transfer_begin_failed(cfg, hs, rc);
    }
    CURLMcode mrc = c->multi_add_handle(multi, easy);
    if (mrc == CURLM_OK)
        hs->xfer.multi = multi;
    else
        amp_transfer_end(hs);
    return mrc;
}

CURLMsg *amp_multi_info_read(const struct amp_curl *c, int internal, CURLM *multi, int *queued)
{
    if (!c)
        return NULL;
    CURLMsg *msg = c->multi_info_read(multi, queued);
    if (internal || !msg || msg->msg != CURLMSG_DONE)
        return msg;
    struct amp_handle *hs = amp_handle_find(msg->easy_handle, c, 0);
    if (!hs || !hs->xfer.active)
        return msg;
    struct amp_inflight *x = &hs->xfer;
    x->msg = *msg;
    if (x->forced != CURLE_OK) {
        x->msg.data.result = x->forced;
    } else if (hs->guard.redirect_url && (msg->data.result == CURLE_ABORTED_BY_CALLBACK ||
                                    msg->data.result == CURLE_COULDNT_RESOLVE_HOST)) {
        /* Routing a redirect again means a new transfer, which the
         * application's multi loop would not wait for. */
        amp_transfer_error(hs, "ampshim: not following a redirect to %s (a routed URL) "
                               "in the multi interface", hs->guard.redirect_url);
        x->msg.data.result = CURLE_TOO_MANY_REDIRECTS;
    }
    if (x->msg.data.result != msg->data.result && hs->app.errbuf)
        memcpy(hs->app.errbuf, x->forced_msg, strlen(x->forced_msg) + 1);
    amp_transfer_end(hs);
    return &x->msg;
}

CURLMcode amp_multi_remove_handle(const struct amp_curl *c, int internal, CURLM *multi,
                                  CURL *easy)
{
    if (!c)
        return CURLM_INTERNAL_ERROR;
    CURLMcode rc = c->multi_remove_handle(multi, easy);
    struct amp_handle *hs = internal ? NULL : amp_handle_find(easy, c, 0);
    if (hs && hs->xfer.multi == multi) {
        amp_transfer_end(hs);
        hs->xfer.multi = NULL;
    }
    return rc;
}

static void give_back(struct amp_handle *hs, void *unused)
{
    (void)unused;
    amp_transfer_end(hs);
    hs->xfer.multi = NULL;
}

CURLMcode amp_multi_cleanup(const struct amp_curl *c, int internal, CURLM *multi)
{
    if (!c)
        return CURLM_INTERNAL_ERROR;
    CURLMcode rc = c->multi_cleanup(multi);
    if (!internal)
        amp_handle_each_on(multi, give_back, NULL);
    return rc;
}
