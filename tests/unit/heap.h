/* What malloc holds for a test program, to tell memory kept apart from the
 * heap (a mapped arena) from memory taken from it. */
#ifndef AMPSHIM_TEST_HEAP_H
#define AMPSHIM_TEST_HEAP_H

#include <malloc.h>
#include <stdlib.h>

/* In malloc's heap and in its own mappings. */
static size_t malloc_held(void)
{
    struct mallinfo2 m = mallinfo2();

    return m.uordblks + m.hblkhd;
}

/* Whether malloc_held() sees malloc's blocks: glibc's malloc does; a
 * sanitizer's allocator (make asan) is not what mallinfo2 counts, and
 * there the heap side of a comparison says nothing. */
static int malloc_seen(void)
{
    size_t before = malloc_held();
    void *volatile p = malloc(256 * 1024);
    int seen = p && malloc_held() >= before + 256 * 1024;

    free(p);
    return seen;
}

#endif
