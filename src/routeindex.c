/* The host-suffix index (see routeindex.h): an open-addressed table, its
 * routes grouped in one array, all sized before anything is filled. */
#include "routeindex.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct slot {
    const char *key;          /* NULL: an empty slot */
    size_t len;
    uint64_t hash;
    size_t first, n;          /* its routes: order[first .. first + n) */
};

struct amp_route_index {
    size_t mask;              /* slots - 1, a power of two at least twice the routes */
    struct slot *slots;
    const struct amp_route **order;
};

static struct slot *probe(const struct amp_route_index *ix, const char *key, size_t len,
                          uint64_t hash)
{
    for (size_t i = (size_t)hash & ix->mask;; i = (i + 1) & ix->mask) {
        struct slot *s = &ix->slots[i];
        if (!s->key || (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

int amp_route_index_build(struct amp_routes *rs)
{
    size_t nslots = 8;

    rs->index = NULL;
    while (nslots < 2 * rs->n)
        nslots *= 2;
    if (nslots < rs->n || nslots > SIZE_MAX / 4 / sizeof(struct slot))
        return -1;
    size_t size = sizeof(struct amp_route_index) + nslots * sizeof(struct slot) +
                  rs->n * sizeof(const struct amp_route *);
    struct amp_route_index *ix = rs->arena ? amp_arena_alloc(rs->arena, size) : calloc(1, size);
    if (!ix)
        return -1;
    ix->mask = nslots - 1;
    ix->slots = (struct slot *)(ix + 1);
    ix->order = (const struct amp_route **)(ix->slots + nslots);
    /* Count each key's routes, then give each key its stretch of order,
     * then fill the stretches in the routes' order. */
    for (size_t i = 0; i < rs->n; i++) {
        const struct amp_route *r = &rs->v[i];
        struct slot *s = probe(ix, r->index_key, r->index_len, r->index_hash);
        if (!s->key) {
            s->key = r->index_key;
            s->len = r->index_len;
            s->hash = r->index_hash;
        }
        s->n++;
    }
    size_t next = 0;
    for (size_t i = 0; i < nslots; i++) {
        ix->slots[i].first = next;
        next += ix->slots[i].n;
        ix->slots[i].n = 0;
    }
    for (size_t i = 0; i < rs->n; i++) {
        const struct amp_route *r = &rs->v[i];
        struct slot *s = probe(ix, r->index_key, r->index_len, r->index_hash);
        ix->order[s->first + s->n++] = r;
    }
    rs->index = ix;
    return 0;
}

const struct amp_route *const *amp_route_index_find(const struct amp_route_index *ix,
                                                    const char *key, size_t len, uint64_t hash,
                                                    size_t *n)
{
    const struct slot *s = ix ? probe(ix, key, len, hash) : NULL;

    *n = s && s->key ? s->n : 0;
    return *n ? ix->order + s->first : NULL;
}
