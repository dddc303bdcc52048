/* What the floors below transfer.c (libcurl's callbacks, the rate limit)
 * may change of the transfer in flight: the few writes they need, made
 * here so that transfer.c stays the one owner of the decision, the
 * transfer and the redirect guard. The one-line ones are inline: libcurl
 * calls some of these for every header line. */
#ifndef AMPSHIM_INFLIGHT_H
#define AMPSHIM_INFLIGHT_H

#include "handle.h"
#include "tally.h"

/* libcurl called one of our callbacks for the transfer: it has read its
 * URL, so a new one no longer routes it again. */
static inline void amp_transfer_started(struct amp_handle *hs)
{
    hs->xfer.started = 1;
}

/* How many of the key's first bytes ended the last piece of its verbose
 * output (trace.c): its next piece starts with the others. */
static inline void amp_transfer_trace_split(struct amp_handle *hs, size_t split)
{
    hs->xfer.trace_split = split;
}

/* A request of the transfer is about to go to the proxy (our
 * PREREQFUNCTION; a lean transfer's, when it ends): the transfer is counted routed, once, by the process
 * that sends it (a multi transfer added before fork and run by both
 * processes is sent, and counted, in each). */
static inline void amp_transfer_sent(struct amp_handle *hs)
{
    if (hs->xfer.counted && !hs->xfer.sent) {
        hs->xfer.sent = 1;
        amp_tally_routed(hs->xfer.counted);
    }
}

/* The route whose request is on the wire now (NULL: off the proxy). */
static inline void amp_transfer_on_route(struct amp_handle *hs, const struct amp_route *r)
{
    hs->guard.cur_route = r;
}

/* A blocked call was counted on t: taken back if the transfer never runs. */
static inline void amp_transfer_counted_blocked(struct amp_handle *hs, struct amp_tally *t)
{
    hs->xfer.counted_blocked = t;
}

/* The guard stopped a request to url, a routed URL: the perform sends it
 * again through the proxy (amp_transfer_perform). */
void amp_transfer_redirect_stopped(struct amp_handle *hs, const char *url);

/* The transfer leaves the proxy: the application's options for the rest of
 * it, none of ours but the URL and the guard (AMP_MODE_AWAY). held: decided
 * while the proxy's answer is read (its Location): our header callback
 * reads the rest of it (AMP_MODE_HELD), until the guard sees the next
 * request and calls this again, not held. */
void amp_transfer_go_away(struct amp_handle *hs, int held);
/* A request off the proxy (redirect.c's guard): libcurl's AUTOREFERER
 * names the request before it, after a routed hop the proxy's URL; the
 * application's URL goes instead, as it would have without ampshim (the
 * proxy's address is not the third host's to learn). */
void amp_transfer_referer_unproxied(struct amp_handle *hs);

/* Not logged: for amp_transfer_fail's level. */
#define AMP_FAIL_QUIET (-1)

/* The transfer fails with code: "ampshim: " and the sentence become its
 * message (hs->xfer.forced_msg, cut as libcurl cuts its own), the
 * application's CURLOPT_ERRORBUFFER gets it unless code is CURLE_OK (an
 * answered call succeeds: the buffer is libcurl's to fill), and it is
 * logged at level (an amp_log_level, or AMP_FAIL_QUIET). Returns code. */
CURLcode amp_transfer_fail(struct amp_handle *hs, CURLcode code, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The transfer's parts of an entry freed (handles.c frees the entry). */
void amp_transfer_free(struct amp_handle *hs);

#endif
