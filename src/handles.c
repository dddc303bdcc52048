/* The per-handle table: a pointer-keyed uthash under one mutex, held only
 * for the look-up itself. An entry is made and freed here, each of its
 * parts by the part's owner (handle.h). */
#define _GNU_SOURCE
#include "handles.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cookies.h"
#include "inflight.h"
#include "locks.h"
#include "options.h"
#include "ratelimit.h"
#include "respond.h"
#include "settings.h"

static struct amp_handle *table;

/* An entry no handle has (its key is its own address, which libcurl never
 * gives a handle), put in the table before the first handle and never
 * taken out: uthash frees its table and buckets when the last entry goes
 * and makes them again with the next, and a program making a handle per
 * request (PHP's curl_init) would pay on every one for those two
 * allocations, their clearing and their frees. Every walk of the table
 * passes over it. */
static struct amp_handle anchor;

/* The table, with its anchor: under the table's lock. */
static void anchor_table(void)
{
    if (table)
        return;
    /* Out of memory, uthash leaves the table empty: the entry's own add
     * then makes it, or fails as it would have. */
    anchor.easy = (CURL *)&anchor;
    HASH_ADD_PTR(table, easy, &anchor);
}

/* Entries freed, kept for the next handles made. An entry is larger than
 * glibc's per-thread cache of small blocks takes (1,032 bytes): a program
 * making a handle per request (PHP's curl_init) would pay, on every one,
 * for a large block's free and for the heap's consolidation the next
 * large allocation starts with. A slot is taken or filled by one atomic
 * exchange, not under a lock (making and taking a handle out of the table
 * each hold the table's lock already). Not under a sanitizer, which must
 * see every entry freed. */
#if defined(__SANITIZE_ADDRESS__)
static struct amp_handle *new_entry(void)
{
    return calloc(1, sizeof(struct amp_handle));
}

static void spare_entry(struct amp_handle *hs)
{
    free(hs);
}
#else
#define SPARE_ENTRIES 4
static _Atomic(struct amp_handle *) spare[SPARE_ENTRIES];
_Static_assert(offsetof(struct amp_handle, rooms) <= 2048,
               "an entry's cleared part past glibc's rep-stosb threshold (new_entry; docs/cost.md)");

/* A zeroed entry (but its rooms: handle.h). */
static struct amp_handle *new_entry(void)
{
    struct amp_handle *hs = NULL;

    for (size_t i = 0; i < SPARE_ENTRIES && !hs; i++)
        if (atomic_load_explicit(&spare[i], memory_order_relaxed))
            hs = atomic_exchange_explicit(&spare[i], NULL, memory_order_acquire);
    if (!hs)
        return calloc(1, sizeof(*hs));
    /* glibc's memset, as calloc's clearing was (the size hidden from the
     * compiler, whose own `rep stos` for a known size callgrind counts an
     * instruction for every 8 bytes: the benchmark compares like with like).
     * The part cleared is 2,048 bytes, at most (the assertion above): past
     * 2 KiB, glibc's memset turns to `rep stosb` too, which callgrind counts
     * a byte at a time (a handle made per request would count some 2,000
     * more in make bench). A new field goes to a room, or takes the place
     * of one, or the benchmark says what it cost. */
    size_t n = offsetof(struct amp_handle, rooms);
    __asm__("" : "+r"(n));
    memset(hs, 0, n);
    return hs;
}

/* Kept for a later handle when a slot is free, else freed. */
static void spare_entry(struct amp_handle *hs)
{
    for (size_t i = 0; i < SPARE_ENTRIES && hs; i++) {
        struct amp_handle *none = NULL;
        if (!atomic_load_explicit(&spare[i], memory_order_relaxed) &&
            atomic_compare_exchange_strong_explicit(&spare[i], &none, hs, memory_order_release,
                                                    memory_order_relaxed))
            hs = NULL;
    }
    free(hs);
}
#endif

/* The handle this thread used last (handles.h). Any entry taken out of
 * the table moves amp_handle_taken on, and every such memory is then asked
 * again. */
atomic_uint amp_handle_taken;
__thread __attribute__((tls_model("initial-exec"))) struct amp_handle_last amp_handle_last;

struct amp_handle *amp_handle_find_slow(CURL *easy, const struct amp_curl *c, int create)
{
    struct amp_handle *hs = NULL;
    unsigned now = atomic_load_explicit(&amp_handle_taken, memory_order_acquire), hv;

    /* Hashed once, for the look-up and the add (and outside the lock). */
    HASH_VALUE(&easy, sizeof(easy), hv);
    pthread_mutex_lock(&amp_lock_handles);
    HASH_FIND_BYHASHVALUE(hh, table, &easy, sizeof(easy), hv, hs);
    if (hs == &anchor) { /* not a handle's, nor ever to be one */
        hs = NULL;
        create = 0;
    }
    if (!hs && create) {
        anchor_table();
        hs = new_entry();
        if (hs) {
            hs->easy = easy;
            hs->c = c;
            amp_options_init(hs);
            amp_respond_init(hs);
            amp_hash_oom = 0;
            HASH_ADD_BYHASHVALUE(hh, table, easy, sizeof(easy), hv, hs);
            if (amp_hash_oom) {
                free(hs);
                hs = NULL;
            }
        }
    }
    pthread_mutex_unlock(&amp_lock_handles);
    if (hs) {
        amp_handle_last.easy = easy;
        amp_handle_last.hs = hs;
        amp_handle_last.taken = now;
    }
    return hs;
}

struct amp_handle *amp_handle_for_transfer(CURL *easy, const struct amp_curl *c)
{
    struct amp_handle *hs = amp_handle_find(easy, c, 0);

    if (!hs) {
        hs = amp_handle_find(easy, c, 1);
        if (hs)
            hs->lost = 1;
    }
    return hs;
}

struct amp_handle *amp_handle_take(CURL *easy)
{
    struct amp_handle *hs = NULL;

    pthread_mutex_lock(&amp_lock_handles);
    HASH_FIND_PTR(table, &easy, hs);
    if (hs == &anchor) /* not a handle's */
        hs = NULL;
    if (hs) {
        HASH_DEL(table, hs);
        atomic_fetch_add_explicit(&amp_handle_taken, 1, memory_order_acq_rel);
    }
    pthread_mutex_unlock(&amp_lock_handles);
    return hs;
}

/* Entries visited a batch at a time (amp_handle_each_on). */
#define EACH_BATCH 32

void amp_handle_each_on(CURLM *multi, void (*fn)(struct amp_handle *, void *), void *arg)
{
    struct amp_handle *hs, *tmp, *on[EACH_BATCH];
    size_t n;

    /* Collected under the lock, visited without it (fn calls libcurl), a
     * batch at a time, allocating nothing: memory running out must not
     * leave an entry marked in a multi handle that is gone, whose next
     * transfer would be handed to libcurl as it is (amp_transfer_running).
     * fn takes each entry off multi: the next batch finds the others. */
    do {
        n = 0;
        pthread_mutex_lock(&amp_lock_handles);
        HASH_ITER(hh, table, hs, tmp) {
            if (hs == &anchor || hs->xfer.multi != multi)
                continue;
            on[n++] = hs;
            if (n == EACH_BATCH)
                break;
        }
        pthread_mutex_unlock(&amp_lock_handles);
        for (size_t i = 0; i < n; i++)
            fn(on[i], arg);
    } while (n == EACH_BATCH);
}

void amp_handle_free(struct amp_handle *hs)
{
    if (!hs)
        return;
    amp_transfer_free(hs);
    amp_options_free(hs);
    amp_respond_free(hs);
    amp_cookies_free(hs);
    amp_ratelimit_free(hs);
    amp_settings_release(hs->cfg);
    spare_entry(hs);
}

/* Entries taken out of the table while their transfer is in a multi
 * handle, kept until it leaves it (handles.h), and how many there are
 * (read without the lock: none, the common case, is answered at once). */
static struct amp_handle *orphans;
static atomic_uint norphans;

void amp_handle_drop(struct amp_handle *hs)
{
    /* Reset from one of its own callbacks: the perform under way still
     * uses the entry, and frees it when it returns. */
    if (hs->xfer.performing) {
        hs->orphaned = 1;
        return;
    }
    /* Its transfer goes on in the multi handle (libcurl's reset stops
     * nothing), and the entry is still ours to use for it: the callback of
     * ours that called the application's (it goes on once that returns),
     * the close-socket callback libcurl copied into the connection, and
     * the message curl_multi_info_read gives for it. */
    if (hs->xfer.multi) {
        hs->orphaned = 1;
        pthread_mutex_lock(&amp_lock_handles);
        hs->orphan_next = orphans;
        orphans = hs;
        atomic_fetch_add_explicit(&norphans, 1, memory_order_relaxed);
        pthread_mutex_unlock(&amp_lock_handles);
        return;
    }
    amp_handle_free(hs);
}

struct amp_handle *amp_handle_orphan(CURL *easy, CURLM *multi, int take)
{
    struct amp_handle *hs = NULL, **p;

    if (!atomic_load_explicit(&norphans, memory_order_relaxed))
        return NULL;
    pthread_mutex_lock(&amp_lock_handles);
    for (p = &orphans; *p; p = &(*p)->orphan_next) {
        if ((easy && (*p)->easy != easy) || (multi && (*p)->xfer.multi != multi))
            continue;
        hs = *p;
        if (take) {
            *p = hs->orphan_next;
            hs->orphan_next = NULL;
            atomic_fetch_sub_explicit(&norphans, 1, memory_order_relaxed);
        }
        break;
    }
    pthread_mutex_unlock(&amp_lock_handles);
    return hs;
}
