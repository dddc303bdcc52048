/* The origins a config's handles have decided (see origins.h): slots
 * claimed by an atomic add, filled by their claimer, read once ready. */
#include "origins.h"

#include <stdatomic.h>
#include <string.h>

struct slot {
    atomic_int ready;               /* filled: never written again */
    const struct amp_curl *c;       /* the flavour whose parse it is */
    struct amp_origin o;            /* o.prefix is text */
    char text[AMP_ORIGIN_TEXT];
};

struct amp_origins {
    atomic_uint claimed;            /* slots handed out (may pass the count) */
    struct slot slot[AMP_ORIGINS_SLOTS];
};

size_t amp_origins_size(void)
{
    return sizeof(struct amp_origins);
}

const struct amp_origin *amp_origins_find(const struct amp_origins *t, const struct amp_curl *c,
                                          const char *url)
{
    if (!t)
        return NULL;
    unsigned n = atomic_load_explicit(&t->claimed, memory_order_acquire);

    if (n > AMP_ORIGINS_SLOTS)
        n = AMP_ORIGINS_SLOTS;
    for (unsigned i = 0; i < n; i++) {
        const struct slot *s = &t->slot[i];
        /* Claimed and still being filled: as if not there. */
        if (!atomic_load_explicit(&s->ready, memory_order_acquire))
            continue;
        if (s->c == c && strncmp(url, s->text, s->o.len) == 0)
            return &s->o;
    }
    return NULL;
}

const struct amp_origin *amp_origins_add(struct amp_origins *t, const struct amp_curl *c,
                                         const struct amp_origin *o)
{
    if (!t || o->len >= AMP_ORIGIN_TEXT ||
        atomic_load_explicit(&t->claimed, memory_order_relaxed) >= AMP_ORIGINS_SLOTS)
        return NULL;
    unsigned i = atomic_fetch_add_explicit(&t->claimed, 1, memory_order_relaxed);
    if (i >= AMP_ORIGINS_SLOTS)
        return NULL;
    /* Two threads deciding the same new origin at once may each take a
     * slot for it: the same answer twice, one slot lost, nothing wrong. */
    struct slot *s = &t->slot[i];
    memcpy(s->text, o->prefix, o->len);
    s->text[o->len] = '\0';
    s->o = *o;
    s->o.prefix = s->text;
    s->c = c;
    atomic_store_explicit(&s->ready, 1, memory_order_release);
    return &s->o;
}
