/* Per-route counters of this process (tally.h). */
#define _GNU_SOURCE
#include "tally.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counts.h"
#include "locks.h"
#include "log.h"

struct amp_tally {
    struct amp_tally *next;
    uint64_t key;
    char name[112];
    _Atomic uint64_t routed, answers[AMP_CLASSES], status429, blocked;
    _Atomic uint32_t last_status;
    _Atomic int64_t last_at;
};

/* Made under amp_lock_tally, never freed (one per route a process used),
 * read without it: a new one is published last. */
static _Atomic(struct amp_tally *) tallies;
static _Atomic int dirty;
/* The UTC second of the last flush; INT64_MIN in a forked child (below),
 * so that amp_tally_flush_due calls at every end there. */
_Atomic int64_t amp_tally_flushed_at;
/* The counters file of the config in use (each one it named stays
 * allocated: a flush on another thread may be reading it). */
static _Atomic(char *) path;
/* Every path set, kept for the process's life: a flush on another thread
 * may still be using one that was replaced (they are few: one for each
 * state file a reload has named), and kept reachable, not leaked. */
struct kept_path {
    struct kept_path *next;
    char s[];
};
static struct kept_path *kept_paths; /* under amp_lock_tally */
static _Atomic int flushing;
/* A forked child adds its counts at every transfer's end, not once a
 * second: children often end with _exit (Python's multiprocessing workers
 * do), which runs no exit handler, within their first second. */
static _Atomic int forked;
static _Atomic int warned; /* a counters file that could not be added to: said once */

struct amp_tally *amp_tally_of(const struct amp_route *r)
{
    struct amp_tally *t;

    for (t = atomic_load_explicit(&tallies, memory_order_acquire); t; t = t->next)
        if (t->key == r->key)
            return t;
    pthread_mutex_lock(&amp_lock_tally);
    for (t = atomic_load_explicit(&tallies, memory_order_acquire); t; t = t->next)
        if (t->key == r->key)
            break;
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (t) {
            t->key = r->key;
            snprintf(t->name, sizeof(t->name), "%s (%s)", r->base_url, r->ident);
            t->next = atomic_load_explicit(&tallies, memory_order_relaxed);
            atomic_store_explicit(&tallies, t, memory_order_release);
        }
    }
    pthread_mutex_unlock(&amp_lock_tally);
    return t;
}

void amp_tally_routed(struct amp_tally *t)
{
    if (!t)
        return;
    atomic_fetch_add_explicit(&t->routed, 1, memory_order_relaxed);
    atomic_store_explicit(&dirty, 1, memory_order_relaxed);
}

void amp_tally_blocked_undo(struct amp_tally *t)
{
    if (t)
        atomic_fetch_sub_explicit(&t->blocked, 1, memory_order_relaxed);
}

void amp_tally_blocked(struct amp_tally *t)
{
    if (!t)
        return;
    atomic_fetch_add_explicit(&t->blocked, 1, memory_order_relaxed);
    atomic_store_explicit(&dirty, 1, memory_order_relaxed);
}

void amp_tally_answer(struct amp_tally *t, int status, int64_t now)
{
    if (!t || status < 200 || status > 599)
        return;
    atomic_fetch_add_explicit(&t->answers[status / 100 - 2], 1, memory_order_relaxed);
    if (status == 429)
        atomic_fetch_add_explicit(&t->status429, 1, memory_order_relaxed);
    atomic_store_explicit(&t->last_status, (uint32_t)status, memory_order_relaxed);
    atomic_store_explicit(&t->last_at, now, memory_order_relaxed);
    atomic_store_explicit(&dirty, 1, memory_order_relaxed);
}

void amp_tally_set_path(const char *counts_path)
{
    char *now = atomic_load_explicit(&path, memory_order_acquire), *mine;

    if (now && strcmp(now, counts_path) == 0)
        return;
    /* What was counted under the config before goes to its file. */
    if (now)
        amp_tally_flush((int64_t)time(NULL), 1);
    size_t len = strlen(counts_path);
    struct kept_path *k = malloc(sizeof(*k) + len + 1);
    if (!k)
        return;
    memcpy(k->s, counts_path, len + 1);
    mine = k->s;
    pthread_mutex_lock(&amp_lock_tally);
    now = atomic_load_explicit(&path, memory_order_relaxed);
    if (now && strcmp(now, mine) == 0) {
        free(k);
    } else {
        k->next = kept_paths;
        kept_paths = k;
        atomic_store_explicit(&path, mine, memory_order_release);
    }
    pthread_mutex_unlock(&amp_lock_tally);
}

/* What each tally counted since the last time, taken (zeroed). */
static size_t take(struct amp_counts *out, size_t cap)
{
    size_t n = 0;

    for (struct amp_tally *t = atomic_load_explicit(&tallies, memory_order_acquire); t && n < cap;
         t = t->next) {
        struct amp_counts *c = &out[n];
        memset(c, 0, sizeof(*c));
        c->key = t->key;
        memcpy(c->name, t->name, sizeof(c->name));
        c->routed = atomic_exchange_explicit(&t->routed, 0, memory_order_relaxed);
        for (int i = 0; i < AMP_CLASSES; i++)
            c->answers[i] = atomic_exchange_explicit(&t->answers[i], 0, memory_order_relaxed);
        c->status429 = atomic_exchange_explicit(&t->status429, 0, memory_order_relaxed);
        c->blocked = atomic_exchange_explicit(&t->blocked, 0, memory_order_relaxed);
        c->last_status = atomic_exchange_explicit(&t->last_status, 0, memory_order_relaxed);
        c->last_at = atomic_load_explicit(&t->last_at, memory_order_relaxed);
        int any = c->routed || c->status429 || c->blocked || c->last_status;
        for (int i = 0; i < AMP_CLASSES; i++)
            any |= c->answers[i] != 0;
        n += any;
    }
    return n;
}

/* The adding itself, apart: its buffers (some 10 KB of stack with
 * amp_counts_add's, in the application's thread: batches of 32 routes)
 * cost every call their set-up, and the common call (the same second)
 * adds nothing. */
static __attribute__((noinline)) void flush_now(const char *file, int64_t now)
{
    /* One thread adds; the others go on (their counts wait a second). */
    if (atomic_exchange_explicit(&flushing, 1, memory_order_acquire))
        return;
    atomic_store_explicit(&amp_tally_flushed_at,
                          atomic_load_explicit(&forked, memory_order_relaxed) ? INT64_MIN : now,
                          memory_order_relaxed);
    atomic_store_explicit(&dirty, 0, memory_order_relaxed);
    struct amp_counts counts[32];
    char err[512];
    size_t n;
    /* In batches: a process may have used many routes. */
    while (1) {
        n = take(counts, sizeof(counts) / sizeof(counts[0]));
        if (n == 0)
            break;
        if (amp_counts_add(file, counts, n, err, sizeof(err)) < 0) {
            /* Once a process: a path that cannot be used mostly stays so, and
             * the host's stderr is not ours to fill once a second. */
            if (!atomic_exchange_explicit(&warned, 1, memory_order_relaxed))
                amp_error("route counters: %s (not said again by this process)", err);
            break;
        }
        if (n < sizeof(counts) / sizeof(counts[0]))
            break;
    }
    atomic_store_explicit(&flushing, 0, memory_order_release);
}

void amp_tally_flush(int64_t now, int force)
{
    const char *file = atomic_load_explicit(&path, memory_order_acquire);

    if (!atomic_load_explicit(&dirty, memory_order_relaxed) || !file)
        return;
    /* (Never the same second in a forked child: INT64_MIN there.) */
    if (!force && now == atomic_load_explicit(&amp_tally_flushed_at, memory_order_relaxed))
        return;
    flush_now(file, now);
}

void amp_tally_fork_child(void)
{
    for (struct amp_tally *t = atomic_load_explicit(&tallies, memory_order_acquire); t; t = t->next) {
        atomic_store_explicit(&t->routed, 0, memory_order_relaxed);
        for (int i = 0; i < AMP_CLASSES; i++)
            atomic_store_explicit(&t->answers[i], 0, memory_order_relaxed);
        atomic_store_explicit(&t->status429, 0, memory_order_relaxed);
        atomic_store_explicit(&t->blocked, 0, memory_order_relaxed);
        atomic_store_explicit(&t->last_status, 0, memory_order_relaxed);
    }
    atomic_store_explicit(&dirty, 0, memory_order_relaxed);
    /* A parent thread may have been adding when it forked: that thread is
     * not in the child, and the child must be able to add its own. */
    atomic_store_explicit(&flushing, 0, memory_order_relaxed);
    atomic_store_explicit(&forked, 1, memory_order_relaxed);
    atomic_store_explicit(&amp_tally_flushed_at, INT64_MIN, memory_order_relaxed);
}

/* At exit (and when the library is unloaded): what is left. */
__attribute__((destructor)) static void flush_at_exit(void)
{
    amp_tally_flush((int64_t)time(NULL), 1);
}
