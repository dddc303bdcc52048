/* The routes filed by the host suffix that follows each one's last
 * placeholder ("my.salesforce.com" for {{.workspace}}.my.salesforce.com, the
 * whole host when it has none, "" when it ends in one): a URL's host is
 * then looked up once per label, whatever the number of routes. Built
 * once, never changed, in one block of the routes' arena (or of malloc). */
#ifndef AMPSHIM_ROUTEINDEX_H
#define AMPSHIM_ROUTEINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "routes.h"

/* The hash a suffix is filed under. Taken from the last byte to the first,
 * so that the hashes of all of a host's suffixes come from one pass:
 * amp_suffix_hash(s, n) == amp_suffix_hash_more(amp_suffix_hash(s + k, n - k), s, k). */
#define AMP_SUFFIX_HASH_SEED AMP_FNV1A64_BASIS
static inline uint64_t amp_suffix_hash_more(uint64_t h, const char *s, size_t n)
{
    while (n > 0)
        h = amp_fnv1a_byte(h, (unsigned char)s[--n]);
    return h;
}

static inline uint64_t amp_suffix_hash(const char *s, size_t n)
{
    return amp_suffix_hash_more(AMP_SUFFIX_HASH_SEED, s, n);
}

/* rs->index over rs->v[0 .. rs->n), each route filed under its
 * index_key (index_hash its hash); -1 when out of memory. */
int amp_route_index_build(struct amp_routes *rs);

/* The routes filed under key (len bytes, hash its amp_suffix_hash), in the
 * order of rs->v; *n their number (0: NULL). */
const struct amp_route *const *amp_route_index_find(const struct amp_route_index *ix,
                                                    const char *key, size_t len, uint64_t hash,
                                                    size_t *n);

#endif
