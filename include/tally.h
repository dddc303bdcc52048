/* This process's per-route counters (what `ampshim stats` shows, summed
 * over processes): counted in memory as transfers go, with atomic adds,
 * and added to the counters file (counts.h) at most about once a second,
 * from a transfer's end, and at exit. No system call on a request's path
 * otherwise; a killed process loses what it had not added yet. */
#ifndef AMPSHIM_TALLY_H
#define AMPSHIM_TALLY_H

#include <stdatomic.h>
#include <stdint.h>

#include "route.h"

struct amp_tally;

/* The tally of route r (by its key), made on first use; NULL when out of
 * memory (nothing is then counted for it). */
struct amp_tally *amp_tally_of(const struct amp_route *r);

/* A routed transfer's request sent to the proxy (once a transfer). */
void amp_tally_routed(struct amp_tally *t);
/* A blocked call counted, then taken back before it ran (routed again). */
void amp_tally_blocked_undo(struct amp_tally *t);
void amp_tally_blocked(struct amp_tally *t);
/* A transfer's answer from the proxy (its final status), at UTC second now. */
void amp_tally_answer(struct amp_tally *t, int status, int64_t now);

/* Where the counts go (the rate-limit state's path + ".counts"): the file
 * beside the state of the config in use; what was counted before a config
 * that names another one goes to the file before. */
void amp_tally_set_path(const char *counts_path);

/* Adds what was counted since to the file when the UTC second now has
 * moved on since the last time (force: whatever the time, at exit). */
void amp_tally_flush(int64_t now, int force);

/* tally.c's alone to write: the second amp_tally_flush last added in. */
extern _Atomic int64_t amp_tally_flushed_at;

/* amp_tally_flush(now, 0) at a transfer's end, its common case (the same
 * second: nothing to add yet) decided here without a call. */
static inline void amp_tally_flush_due(int64_t now)
{
    if (now != atomic_load_explicit(&amp_tally_flushed_at, memory_order_relaxed))
        amp_tally_flush(now, 0);
}

#endif
