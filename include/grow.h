/* A buffer kept from one use to the next and grown when a use needs more:
 * the common case allocates nothing. */
#ifndef AMPSHIM_GROW_H
#define AMPSHIM_GROW_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* amp_grow for a buffer whose first home is room (room_cap bytes inside
 * its owner's struct, never freed): a use that fits takes it and
 * allocates nothing; one that does not moves the bytes to the heap. A
 * handle made per request (PHP's curl_init) would otherwise allocate and
 * free each such buffer once a request, among libcurl's allocations. */
static inline int amp_grow_in(char **buf, size_t *cap, size_t need, char *room, size_t room_cap)
{
    if (need <= *cap)
        return 0;
    if (!*buf && need <= room_cap) {
        *buf = room;
        *cap = room_cap;
        return 0;
    }
    if (!room || *buf != room)
        return amp_grow(buf, cap, need);
    char *heap = NULL;
    size_t was = *cap;
    *buf = NULL;
    *cap = 0;
    if (amp_grow(&heap, cap, need < 2 * was ? 2 * was : need) < 0) {
        *buf = room;
        *cap = was;
        return -1;
    }
    memcpy(heap, room, was);
    *buf = heap;
    return 0;
}

/* Lets go of a buffer of amp_grow_in's: freed unless it is its room. */
static inline void amp_grow_free(char **buf, size_t *cap, const char *room)
{
    if (*buf && *buf != room)
        free(*buf);
    *buf = NULL;
    *cap = 0;
}

#endif
