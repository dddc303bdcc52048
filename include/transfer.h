/* One routed transfer, whichever interface drives it: begun when it is
 * performed or added to a multi handle, ended when it completes or is
 * taken away. The easy and multi adapters call these; transfer.c alone
 * writes the decision, the transfer in flight and the redirect guard
 * (handle.h; the floors below it go through inflight.h). */
#ifndef AMPSHIM_TRANSFER_H
#define AMPSHIM_TRANSFER_H

#include "handles.h"
#include "inflight.h"
#include "options.h"
#include "settings.h"

/* The application set row's option (libcurl holds its value now) on a
 * handle whose transfer is under way, added to a multi handle or being
 * performed, or ended but not yet read: ours are put back at once, in the
 * mode its values ask for now (redirects looked at, the key masked), so
 * libcurl never acts on the change with ours in the wrong place. 1 when
 * the change is to where the transfer goes and it has not started: the
 * caller routes it again from the start (amp_transfer_option_noted does).
 * Never starts or counts a transfer again. */
int amp_transfer_option_set(struct amp_handle *hs, int row);

/* The adapters' steps (easy.c, multi.c). */

/* The application set row's option to v, and libcurl took it (hs: its
 * entry, NULL when none could be made): noted; what the change means to
 * the decision and to a transfer under way is drawn from the option table
 * (amp_option_change): a transfer queued and not started is routed again
 * from the start, one under way has ours put back at once. */
void amp_transfer_option_noted(const struct amp_curl *c, struct amp_handle *hs, int row,
                               union amp_optval v);

/* The application's own CURLOPT_URL (c its flavour) on a handle that
 * carries our options (its last transfer was routed), the settings' mode
 * on: a URL that is routed too is decided now and libcurl handed the proxy
 * URL at once, so the transfer finds nothing to set; any other handed to
 * libcurl as it is, and noted. libcurl's answer. */
CURLcode amp_transfer_url_set(const struct amp_curl *c, const struct amp_config *cfg,
                              struct amp_handle *hs, const char *url);

/* curl_easy_getinfo of a URL (EFFECTIVE_URL, REDIRECT_URL, ...), as the
 * application would see it without the proxy. */
CURLcode amp_transfer_url_info(const struct amp_curl *c, struct amp_handle *hs, CURLINFO info,
                               char **out);

/* Whether libcurl runs hs's handle already: in a multi handle (added, and
 * not taken out since), or in our curl_easy_perform of it, one of whose
 * callbacks calls now. libcurl refuses to start it again
 * (curl_easy_perform: "easy handle already used in multi handle";
 * curl_multi_add_handle: CURLM_ADDED_ALREADY), and the transfer under way
 * goes on with what the handle holds: a refused start must change nothing
 * of ours on it (a URL set since, routed, would put our headers on a
 * request to the host it was started for). */
static inline int amp_transfer_running(const struct amp_handle *hs)
{
    return hs->xfer.multi || hs->xfer.performing;
}

/* curl_easy_perform of hs through c: routed (a redirect the guard stopped
 * sent again through the proxy), or left alone; a handle libcurl runs
 * already (amp_transfer_running), handed to libcurl as it is. *orphaned
 * set when the entry was taken out of the table meanwhile: the caller
 * frees it. */
CURLcode amp_transfer_perform(const struct amp_curl *c, const struct amp_config *cfg,
                              struct amp_handle *hs, struct amp_now now, int *orphaned);

/* curl_multi_add_handle: the transfer routed before libcurl gets it (one
 * that must not be sent is set to fail through libcurl), then what libcurl
 * said: added to multi, or (NULL) refused and taken back, counted nowhere. */
void amp_transfer_adding(const struct amp_settings *s, struct amp_handle *hs, int64_t now);
void amp_transfer_added(struct amp_handle *hs, CURLM *multi);

/* curl_multi_info_read's DONE message for hs: the transfer ended and the
 * message the application gets (our result for one we failed). */
CURLMsg *amp_transfer_done_msg(struct amp_handle *hs, CURLMsg *msg);

/* hs taken out of multi (curl_multi_remove_handle, curl_multi_cleanup):
 * its transfer there, if any, ended. */
void amp_transfer_removed(struct amp_handle *hs, CURLM *multi);

#endif
