/* The allocation-failure test's shim, linked into a build of the library
 * with -Wl,--wrap for each allocating function it calls: only allocations
 * made inside the library are counted (libcurl's, the program's are not).
 * AMPSHIM_FAIL_ALLOC=N makes the Nth fail (and says so on stderr, so the
 * test knows when N has gone past the last one). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
char *__real_strdup(const char *);
char *__real_strndup(const char *, size_t);
int __real_vasprintf(char **, const char *, va_list);
FILE *__real_fmemopen(void *, size_t, const char *);

static atomic_long calls;
static long fail_at = -1;

static int fail_now(void)
{
    if (fail_at < 0) {
        const char *v = getenv("AMPSHIM_FAIL_ALLOC");
        fail_at = v ? atol(v) : 0;
    }
    long n = atomic_fetch_add(&calls, 1) + 1;
    if (n != fail_at)
        return 0;
    static const char said[] = "allocfail: failing this allocation\n";
    ssize_t w = write(2, said, sizeof(said) - 1);
    (void)w;
    return 1;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { return fail_now() ? NULL : __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return fail_now() ? NULL : __real_strndup(s, n); }
FILE *__wrap_fmemopen(void *b, size_t n, const char *m)
{
    return fail_now() ? NULL : __real_fmemopen(b, n, m);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    if (fail_now()) {
        *out = NULL;
        return -1;
    }
    return __real_vasprintf(out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = __wrap_vasprintf(out, fmt, ap);
    va_end(ap);
    return rc;
}
