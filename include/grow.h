/* A buffer kept from one use to the next and grown when a use needs more:
 * the common case allocates nothing. */
#ifndef AMPSHIM_GROW_H
#define AMPSHIM_GROW_H

#include <stddef.h>
#include <stdlib.h>

/* *buf holds at least need bytes (*cap its size) afterwards: 0; -1 when
 * memory ran out, with the old buffer and its size kept. */
static inline int amp_grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    char *grown = realloc(*buf, need);
    if (!grown)
        return -1;
    *buf = grown;
    *cap = need;
    return 0;
}

#endif
