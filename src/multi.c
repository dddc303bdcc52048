/* The multi interface. A transfer is routed when it is added; a blocked
 * one is pointed at a URL nothing can fetch, so it fails through libcurl's
 * own machinery with no network I/O, and curl_multi_info_read reports our
 * result for it. Calls that libcurl makes to itself (Debian's
 * curl_easy_perform drives these functions) pass straight through. */
#define _GNU_SOURCE
#include "multi.h"

#include "handles.h"
#include "log.h"
#include "real.h"
#include "settings.h"
#include "transfer.h"

CURLMcode amp_multi_add_handle(const struct amp_curl *c, int internal, CURLM *multi, CURL *easy)
{
    if (!c)
        return CURLM_INTERNAL_ERROR;
    struct amp_now now = { 0, 0 };
    const struct amp_settings *shim = internal ? NULL : amp_settings_refresh(c, &now);
    /* NULL (libcurl refuses it): no entry of ours, and nothing routed,
     * blocked or said for a call that never is. */
    if (!shim || shim->mode == AMP_OFF || !multi || !easy)
        return c->multi_add_handle(multi, easy);
    struct amp_handle *hs = amp_handle_for_transfer(easy, c);
    if (!hs) {
        amp_error("out of memory: a transfer is not sent");
        return CURLM_OUT_OF_MEMORY;
    }
    /* Added twice, to a second multi handle, or while in a transfer:
     * libcurl refuses it, and the transfer under way keeps what it has. */
    if (hs->xfer.active || amp_transfer_running(hs))
        return c->multi_add_handle(multi, easy);
    amp_transfer_adding(shim, hs, now.s);
    CURLMcode mrc = c->multi_add_handle(multi, easy);
    amp_transfer_added(hs, mrc == CURLM_OK ? multi : NULL);
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
    /* Reset while it ran: its transfer is the entry set aside, not the one
     * (if any) its options made since. */
    if (!hs || !hs->xfer.active) {
        struct amp_handle *orphan = amp_handle_orphan(msg->easy_handle, multi, 0);
        if (orphan)
            hs = orphan;
    }
    return hs ? amp_transfer_done_msg(hs, msg) : msg;
}

/* Entries set aside by a reset (handles.h) whose handle has left multi:
 * libcurl is done with them. easy NULL: every handle of multi. */
static void free_orphans(CURL *easy, CURLM *multi)
{
    for (struct amp_handle *hs = amp_handle_orphan(easy, multi, 1); hs;
         hs = amp_handle_orphan(easy, multi, 1)) {
        amp_transfer_removed(hs, multi);
        amp_handle_free(hs);
    }
}

CURLMcode amp_multi_remove_handle(const struct amp_curl *c, int internal, CURLM *multi,
                                  CURL *easy)
{
    if (!c)
        return CURLM_INTERNAL_ERROR;
    CURLMcode rc = c->multi_remove_handle(multi, easy);
    /* Refused (NULL, a handle of another multi, from a callback): the
     * transfer stays where it was, and NULL would name one performing. */
    if (internal || rc != CURLM_OK)
        return rc;
    struct amp_handle *hs = amp_handle_find(easy, c, 0);
    if (hs)
        amp_transfer_removed(hs, multi);
    free_orphans(easy, multi);
    return rc;
}

static void give_back(struct amp_handle *hs, void *multi)
{
    amp_transfer_removed(hs, multi);
}

CURLMcode amp_multi_cleanup(const struct amp_curl *c, int internal, CURLM *multi)
{
    if (!c)
        return CURLM_INTERNAL_ERROR;
    CURLMcode rc = c->multi_cleanup(multi);
    /* Only a multi handle libcurl cleaned up lets go of its handles: a
     * refused call (NULL, or from a callback) leaves them where they are,
     * and NULL would name every handle in none, one performing included. */
    if (internal || rc != CURLM_OK)
        return rc;
    amp_handle_each_on(multi, give_back, multi);
    free_orphans(NULL, multi);
    return rc;
}
