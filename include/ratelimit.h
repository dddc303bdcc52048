/* Honouring Ampersand's rate limits for routed transfers: stop a call
 * before it leaves while its route is blocked, and record a 429 when one
 * comes back. */
#ifndef AMPSHIM_RATELIMIT_H
#define AMPSHIM_RATELIMIT_H

#include <string.h>

#include "clock.h"
#include "config.h"
#include "curlapi.h"
#include "handle.h"
#include "state.h"

enum amp_verdict {
    AMP_SEND,    /* not blocked: send it */
    AMP_ANSWER,  /* blocked, on_block = "respond": answer it here (respond.c) with *b */
    AMP_REFUSE,  /* blocked: fail with *refusal */
};

/* 1 when route is not blocked at now (clock.h: as the transfer's start
 * read the clock), as the shared
 * state says (read again when another process changed it, as
 * amp_ratelimit_check reads it): amp_ratelimit_check would say AMP_SEND.
 * Says nothing, counts nothing; 0 when it cannot tell. Most often a few
 * instructions: nothing recorded at all, as last read. */
int amp_ratelimit_open(const struct amp_config *cfg, const struct amp_route *route,
                       struct amp_now now);

/* Before a routed transfer on route: whether it may be sent. When not,
 * hs->xfer.forced_msg and one stderr line say why (and, when it is refused,
 * the application's error buffer); *b is the block and *when the time it
 * was looked at (on entry: the UTC second now, or 0 to read it here). In
 * wait mode (and may_wait), sleeps through a short block first. */
enum amp_verdict amp_ratelimit_check(const struct amp_config *cfg, struct amp_handle *hs,
                                     const struct amp_route *route, int may_wait,
                                     CURLcode *refusal, struct amp_block *b, int64_t *when);

/* The 429 values kept of an earlier response are forgotten (a new
 * response's status line, a new transfer): none of them is the next one's.
 * Cleared out of line: most handles never see a 429. */
void amp_ratelimit_kept_clear(struct amp_watch_kept *k);
static inline void amp_ratelimit_kept_forget(struct amp_watch *w)
{
    if (__builtin_expect(w->kept != NULL, 0))
        amp_ratelimit_kept_clear(w->kept);
}

/* A transfer starts (a response of it not yet seen), or, whole, one that
 * started unrouted becomes routed (a redirect routed anew). The header
 * callback (callbacks.h) fills it. */
static inline void amp_ratelimit_watch_start(struct amp_handle *hs)
{
    hs->watch.status = hs->watch.recorded = hs->watch.done = 0;
    /* An earlier transfer's 429 values are not this one's: a lean
     * transfer's lines never pass our callback to clear them, and its 429
     * would take those libcurl's store lacks from an old answer. */
    amp_ratelimit_kept_forget(&hs->watch);
}
static inline void amp_ratelimit_watch_clear(struct amp_handle *hs)
{
    struct amp_watch_kept *kept = hs->watch.kept;

    memset(&hs->watch, 0, sizeof(hs->watch));
    hs->watch.kept = kept;
    amp_ratelimit_kept_forget(&hs->watch);
}

/* The handle is freed. */
void amp_ratelimit_free(struct amp_handle *hs);

/* Whether a transfer of curl_easy_perform to a plain relay may go lean
 * (AMP_MODE_LEAN): nothing in its headers matters here before its end
 * but a 429, and the application cannot see a 429's headers before its
 * body (no header callback or data of its own, no CURLOPT_HEADER); no
 * Location to guard (no redirects followed: the caller's mode says),
 * no Set-Cookie to keep (no cookie engine, cookies.c), and libcurl keeps
 * the headers to ask for afterwards (curl_easy_header, 7.84). */
int amp_ratelimit_lean_ok(const struct amp_handle *hs);

/* At the end of a routed transfer: a 429 the header callback saw but could
 * not yet record (its headers came back in one piece after a pause), and
 * the answer counted (tally.h). */
void amp_ratelimit_transfer_ended(struct amp_handle *hs);

#endif
