/* The config's arena: zeroed, aligned memory across chunks, mapped apart
 * from the malloc heap (or from it, when asked), given back whole. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <malloc.h>

#include "arena.h"
#include "heap.h"

static void hands_out_zeroed_aligned_memory(void **state)
{
    (void)state;
    size_t held = malloc_held();
    struct amp_arena *a = amp_arena_new(0, 0);
    char *prev = NULL;

    assert_non_null(a);
    assert_int_equal(malloc_held(), held); /* mapped, not malloc's */
    /* Far more than the first chunk: many chunks, each piece intact. */
    for (size_t i = 0; i < 20000; i++) {
        size_t n = 1 + i % 300;
        unsigned char *p = amp_arena_alloc(a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(p[k], 0);
        memset(p, 0xab, n);
        if (prev)
            assert_int_equal((unsigned char)prev[0], 0xab);
        prev = (char *)p;
    }
    /* One larger than any chunk would be. */
    char *big = amp_arena_alloc(a, 3 * 1024 * 1024);
    assert_non_null(big);
    big[3 * 1024 * 1024 - 1] = 1;
    assert_null(amp_arena_alloc(a, SIZE_MAX - 8));
    amp_arena_free(a);
    amp_arena_free(NULL);
}

static void copies_strings(void **state)
{
    (void)state;
    struct amp_arena *a = amp_arena_new(100, 0);

    assert_string_equal(amp_arena_strdup(a, "x-api-key"), "x-api-key");
    assert_string_equal(amp_arena_strdup(a, ""), "");
    assert_string_equal(amp_arena_strndup(a, "installation", 7), "install");
    assert_string_equal(amp_arena_strndup(a, "abc", 10), "abc");
    assert_string_equal(amp_arena_printf(a, "%s:%d: %s", "f.cfg", 7, "why"), "f.cfg:7: why");
    char long_text[5000];
    memset(long_text, 'q', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_string_equal(amp_arena_printf(a, "%s", long_text), long_text);
    amp_arena_free(a);
}

/* Nothing a mapped arena holds comes from malloc; the heap fallback's does. */
static void mapped_apart_from_the_heap(void **state)
{
    (void)state;
    struct mallinfo2 before = mallinfo2();
    struct amp_arena *a = amp_arena_new(64 * 1024, 0);
    for (int i = 0; i < 1000; i++)
        assert_non_null(amp_arena_strdup(a, "https://api.example.test/v1/data"));
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(after.uordblks, before.uordblks);
    amp_arena_free(a);

    size_t held = malloc_held();
    a = amp_arena_new(64 * 1024, 1);
    assert_non_null(a);
    assert_true(!malloc_seen() || malloc_held() >= held + 64 * 1024);
    for (int i = 0; i < 10000; i++) {
        char *s = amp_arena_strdup(a, "https://api.example.test/v1/data");
        assert_non_null(s);
        assert_string_equal(s, "https://api.example.test/v1/data");
    }
    amp_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hands_out_zeroed_aligned_memory),
        cmocka_unit_test(copies_strings),
        cmocka_unit_test(mapped_apart_from_the_heap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
