/* The table of handles (handles.c): CURL* -> struct amp_handle (handle.h).
 * An entry, once found, is used without the table lock (a handle is used by
 * one thread at a time). */
#ifndef AMPSHIM_HANDLES_H
#define AMPSHIM_HANDLES_H

#include "handle.h"

/* The entry for easy; created when create is set (NULL when out of memory). */
struct amp_handle *amp_handle_find(CURL *easy, const struct amp_curl *c, int create);
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
