/* Honouring Ampersand's rate limits for routed transfers: stop a call
 * before it leaves while its route is blocked, and record a 429 when one
 * comes back. */
#ifndef AMPSHIM_RATELIMIT_H
#define AMPSHIM_RATELIMIT_H

#include "config.h"
#include "curlapi.h"
#include "handles.h"
#include "state.h"

enum amp_verdict {
    AMP_SEND,    /* not blocked: send it */
    AMP_ANSWER,  /* blocked, on_block = "respond": answer it here (respond.c) with *b */
    AMP_REFUSE,  /* blocked: fail with *refusal */
};

/* Before a routed transfer on route: whether it may be sent. When not,
 * hs->xfer.forced_msg and one stderr line say why (and, when it is refused,
 * the application's error buffer); *b is the block and *when the time it
 * was looked at (on entry: the UTC second now, or 0 to read it here). In wait mode (and may_wait), sleeps through a short
 * block first. */
enum amp_verdict amp_ratelimit_check(const struct amp_config *cfg, struct amp_handle *hs,
                                     const struct amp_route *route, int may_wait,
                                     CURLcode *refusal, struct amp_block *b, int64_t *when);

/* CURLOPT_HEADERFUNCTION of every routed transfer (userdata: its struct
 * amp_handle). It records a 429 from the proxy as soon as the response's
 * headers are complete (or the application stops the transfer inside
 * them), so a transfer the application never ends (no info_read, a
 * long-jump out of a callback) is recorded too; it hands every line on as
 * libcurl would have. */
size_t amp_ratelimit_watch_header(char *buf, size_t size, size_t n, void *userdata);

/* At the end of a routed transfer: a 429 the header callback saw but could
 * not yet record (its headers came back in one piece after a pause), and
 * the answer counted (tally.h). */
void amp_ratelimit_transfer_ended(struct amp_handle *hs);

/* A 429 from the proxy blocks the route of the transfer's request now
 * (hs->guard.cur_route): the retry time from the response's headers. */
void amp_ratelimit_record(const struct amp_config *cfg, struct amp_handle *hs);

/* Around fork() (locks.c), with amp_lock_state held: the state's own lock. */
void amp_ratelimit_fork_prepare(void);
void amp_ratelimit_fork_release(void);

#endif
