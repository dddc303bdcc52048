/* A buffer kept from one use to the next and grown when a use needs more:
 * the common case allocates nothing. */
#ifndef AMPSHIM_GROW_H
#define AMPSHIM_GROW_H

#include <stddef.h>
#include <stdlib.h>

/* The smallest buffer made: a URL of the common length fits at once, and
 * is never moved again (with 128, the benchmark's count still moved by
 * some 250 instructions a request between heap shapes; with 256, by 30).
 * Some 1 KB a routed handle. */
#define AMP_GROW_MIN 256

/* *buf holds at least need bytes (*cap its size) afterwards: 0; -1 when
 * memory ran out, with the old buffer and its size kept. Grown at least
 * twofold: the URLs a program sends one after another grow a byte at a
 * time (".../items/99", ".../items/100"), and a buffer of ours moved by
 * realloc in the middle of the program's run lands among libcurl's
 * allocations of a request (the heap's shape decides how many of
 * libcurl's own reallocs then move: counted in the benchmark). */
static inline int amp_grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t want = need < AMP_GROW_MIN ? AMP_GROW_MIN : need;
    if (want < 2 * *cap)
        want = 2 * *cap;
    char *grown = realloc(*buf, want);
    if (!grown && want > need)
        grown = realloc(*buf, want = need);
    if (!grown)
        return -1;
    *buf = grown;
    *cap = want;
    return 0;
}

#endif
