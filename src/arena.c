/* A bump allocator over chunks of its own (see arena.h). */
#define _GNU_SOURCE
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALIGN 16
#define FIRST_CHUNK (16 * 1024)
/* Chunks grow to this, so that a large config takes a few mappings, not
 * hundreds, and a small one no more than it needs. */
#define MAX_CHUNK (1024 * 1024)

struct chunk {
    struct chunk *next;
    size_t size;
    int mapped;
};

struct amp_arena {
    struct chunk *chunks; /* the newest first; the arena lives in the last */
    char *cur, *end;
    size_t next_size;
    int on_heap;
};

#define HEADER ((sizeof(struct chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* A chunk of at least size bytes (header included), zeroed. */
static struct chunk *chunk_new(size_t size, int on_heap)
{
    struct chunk *c = NULL;

    if (!on_heap) {
        long page = sysconf(_SC_PAGESIZE);
        size = round_up(size, page > 0 ? (size_t)page : 4096);
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            c = p;
            c->mapped = 1;
        }
    }
    /* Nothing mapped (a limit on mappings, an address-space cap): the
     * heap still works, it only shapes the application's heap again. */
    if (!c) {
        c = calloc(1, size);
        if (c)
            c->mapped = 0;
    }
    if (c)
        c->size = size;
    return c;
}

static void chunk_free(struct chunk *c)
{
    if (c->mapped)
        munmap(c, c->size);
    else
        free(c);
}

struct amp_arena *amp_arena_new(size_t hint, int on_heap)
{
    size_t size = HEADER + round_up(sizeof(struct amp_arena), ALIGN) + hint;
    struct chunk *c;

    if (size < hint)
        return NULL;
    c = chunk_new(size < FIRST_CHUNK ? FIRST_CHUNK : size, on_heap);
    if (!c)
        return NULL;
    struct amp_arena *a = (struct amp_arena *)((char *)c + HEADER);
    a->chunks = c;
    a->cur = (char *)a + round_up(sizeof(*a), ALIGN);
    a->end = (char *)c + c->size;
    a->next_size = c->size * 2;
    a->on_heap = on_heap || !c->mapped;
    return a;
}

void *amp_arena_alloc(struct amp_arena *a, size_t size)
{
    size_t need = round_up(size ? size : 1, ALIGN);

    if (need < size)
        return NULL;
    if ((size_t)(a->end - a->cur) < need) {
        size_t want = a->next_size < MAX_CHUNK ? a->next_size : MAX_CHUNK;
        if (want - HEADER < need)
            want = HEADER + need;
        if (want < need)
            return NULL;
        struct chunk *c = chunk_new(want, a->on_heap);
        if (!c)
            return NULL;
        c->next = a->chunks;
        a->chunks = c;
        a->cur = (char *)c + HEADER;
        a->end = (char *)c + c->size;
        a->next_size = c->size * 2;
    }
    void *p = a->cur;
    a->cur += need;
    return p;
}

char *amp_arena_memdup(struct amp_arena *a, const char *s, size_t len)
{
    char *p = amp_arena_alloc(a, len + 1);

    if (p)
        memcpy(p, s, len); /* the arena's memory is zeroed: the NUL is there */
    return p;
}

char *amp_arena_strndup(struct amp_arena *a, const char *s, size_t n)
{
    return amp_arena_memdup(a, s, strnlen(s, n));
}

char *amp_arena_strdup(struct amp_arena *a, const char *s)
{
    return amp_arena_memdup(a, s, strlen(s));
}

char *amp_arena_vprintf(struct amp_arena *a, const char *fmt, va_list ap)
{
    va_list again;

    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *p = n >= 0 ? amp_arena_alloc(a, (size_t)n + 1) : NULL;
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, again);
    va_end(again);
    return p;
}

char *amp_arena_printf(struct amp_arena *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *p = amp_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void amp_arena_free(struct amp_arena *a)
{
    if (!a)
        return;
    /* The arena itself lives in the oldest chunk, freed last. */
    struct chunk *c = a->chunks;
    while (c) {
        struct chunk *next = c->next;
        chunk_free(c);
        c = next;
    }
}
