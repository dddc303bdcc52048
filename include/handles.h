/* The table of handles (handles.c): CURL* -> struct amp_handle (handle.h).
 * An entry, once found, is used without the table lock (a handle is used by
 * one thread at a time). */
#ifndef AMPSHIM_HANDLES_H
#define AMPSHIM_HANDLES_H

#include <stdatomic.h>

#include "handle.h"

/* The entry for easy; created when create is set (NULL when out of memory).
 *
 * Inline, the handle this thread used last found again without the lock (a
 * program mostly works one handle at a time, and asks for it at every
 * setopt and perform), while no entry was taken out of the table since
 * (amp_handle_taken). initial-exec: this library is loaded with the
 * program (LD_PRELOAD), so its thread-local block is static and found
 * without __tls_get_addr. */
struct amp_handle_last {
    CURL *easy;
    struct amp_handle *hs;
    unsigned taken;
};
extern __thread __attribute__((tls_model("initial-exec"))) struct amp_handle_last amp_handle_last;
extern atomic_uint amp_handle_taken;
struct amp_handle *amp_handle_find_slow(CURL *easy, const struct amp_curl *c, int create);

/* That memory alone: the entry, or NULL when it is not the one to ask. */
static inline struct amp_handle *amp_handle_last_used(CURL *easy)
{
    unsigned now = atomic_load_explicit(&amp_handle_taken, memory_order_acquire);

    if (amp_handle_last.easy == easy && amp_handle_last.taken == now)
        return amp_handle_last.hs;
    return NULL;
}

static inline struct amp_handle *amp_handle_find(CURL *easy, const struct amp_curl *c, int create)
{
    struct amp_handle *hs = amp_handle_last_used(easy);

    return hs ? hs : amp_handle_find_slow(easy, c, create);
}
/* The entry of a handle about to run. One never seen (its entry could not
 * be made when its options were set: out of memory) is made now, and
 * marked lost. NULL when out of memory. */
struct amp_handle *amp_handle_for_transfer(CURL *easy, const struct amp_curl *c);
/* Take easy's entry out of the table; the caller frees it. */
struct amp_handle *amp_handle_take(CURL *easy);
/* Each part freed by its owner, then the entry. */
void amp_handle_free(struct amp_handle *hs);
/* An entry taken out of the table (curl_easy_reset): freed now; or, when
 * its perform is under way (a reset from one of its callbacks), by that
 * perform; or, when its transfer is in a multi handle, set aside until
 * the handle leaves it (amp_handle_orphan: curl_multi_remove_handle,
 * curl_multi_cleanup, curl_easy_cleanup). */
void amp_handle_drop(struct amp_handle *hs);
/* An entry set aside by amp_handle_drop, of easy and on multi (NULL: any):
 * left among them, or taken out when take is set (the caller frees it).
 * NULL when there is none. */
struct amp_handle *amp_handle_orphan(CURL *easy, CURLM *multi, int take);
/* Calls fn for every entry on multi (for curl_multi_cleanup), which takes
 * it off multi (amp_transfer_removed). */
void amp_handle_each_on(CURLM *multi, void (*fn)(struct amp_handle *, void *), void *arg);

#endif
