/* The table of handles (handles.c): CURL* -> struct amp_handle (handle.h).
 * An entry, once found, is used without the table lock (a handle is used by
 * one thread at a time). */
#ifndef AMPSHIM_HANDLES_H
#define AMPSHIM_HANDLES_H

#include <stdatomic.h>

#include "handle.h"

/* The handle this thread used last, found again without the lock: a
 * program mostly works one handle at a time. Any entry taken out of the
 * table moves amp_handles_taken on, and every such memory is then asked
 * again. Written by handles.c only; read inline by amp_handle_find, which
 * runs several times a transfer. */
struct amp_handle_last {
    CURL *easy;
    struct amp_handle *hs;
    unsigned taken;
};
extern atomic_uint amp_handles_taken;
/* initial-exec: the core's thread-local block is static (see handles.c). */
extern __thread __attribute__((tls_model("initial-exec"))) struct amp_handle_last amp_handle_last;

struct amp_handle *amp_handle_find_in_table(CURL *easy, const struct amp_curl *c, int create);

/* The entry for easy; created when create is set (NULL when out of memory). */
static inline struct amp_handle *amp_handle_find(CURL *easy, const struct amp_curl *c, int create)
{
    const struct amp_handle_last *l = &amp_handle_last;

    if (l->easy == easy && l->hs &&
        l->taken == atomic_load_explicit(&amp_handles_taken, memory_order_acquire))
        return l->hs;
    return amp_handle_find_in_table(easy, c, create);
}
/* The entry of a handle about to run. One never seen (its entry could not
 * be made when its options were set: out of memory) is made now, and
 * marked lost. NULL when out of memory. */
struct amp_handle *amp_handle_for_transfer(CURL *easy, const struct amp_curl *c);
/* Take easy's entry out of the table; the caller frees it. */
struct amp_handle *amp_handle_take(CURL *easy);
/* Each part freed by its owner, then the entry. */
void amp_handle_free(struct amp_handle *hs);
/* An entry taken out of the table: freed now, or, when its perform is
 * under way (curl_easy_reset from one of its callbacks), by that perform. */
void amp_handle_drop(struct amp_handle *hs);
/* Calls fn for every entry on multi (for curl_multi_cleanup). */
void amp_handle_each_on(CURLM *multi, void (*fn)(struct amp_handle *, void *), void *arg);

#endif
