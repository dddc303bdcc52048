/* Memory of our own for what lives as long as a loaded config: taken from
 * mappings apart from the application's malloc heap, handed out by bumping
 * a pointer, and given back whole. A config's thousand routes then leave no
 * holes in the heap for the application's own allocations to be split
 * from, and none of its allocations can land between them. */
#ifndef AMPSHIM_ARENA_H
#define AMPSHIM_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct amp_arena;

/* A new arena whose first chunk holds at least hint bytes. Its chunks are
 * mapped (mmap), or taken from malloc when on_heap is set or nothing can
 * be mapped (the fallback: it still works, in the application's heap).
 * NULL when out of memory. */
struct amp_arena *amp_arena_new(size_t hint, int on_heap);

/* size bytes, zeroed, aligned for any type; NULL when out of memory. Never
 * freed one by one: amp_arena_free gives everything back. */
void *amp_arena_alloc(struct amp_arena *a, size_t size);
char *amp_arena_strdup(struct amp_arena *a, const char *s);
char *amp_arena_strndup(struct amp_arena *a, const char *s, size_t n);
/* The len bytes at s, and a NUL. */
char *amp_arena_memdup(struct amp_arena *a, const char *s, size_t len);
char *amp_arena_printf(struct amp_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *amp_arena_vprintf(struct amp_arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Everything the arena handed out, and the arena itself. NULL is fine. */
void amp_arena_free(struct amp_arena *a);

#endif
