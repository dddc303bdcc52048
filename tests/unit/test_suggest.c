/* The "did you mean" helper: the edit distance against a plain full table
 * (every pair of some short words, and random ones), its reach, the
 * nearest of a list whatever the list's order, and nothing when nothing
 * is near. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "suggest.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The distance the slow way: the whole table, no cut-off, no case folding
 * (the words below are lower case). */
static size_t full_osa(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b), d[40][40];

    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + (a[i - 1] != b[j - 1]) < v)
                v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

static size_t dist(const char *a, const char *b, size_t max)
{
    return amp_edit_distance(a, strlen(a), b, strlen(b), max);
}

static void distances_are_the_tables(void **state)
{
    static const char *const words[] = { "", "a", "ab", "ba", "abc", "acb", "ca", "hubspot", "hubspt",
                                         "hubsopt", "workspace", "workpsace", "installation_id",
                                         "instalation_id", "integration_name", "kitten", "sitting" };
    (void)state;
    for (size_t i = 0; i < N(words); i++)
        for (size_t j = 0; j < N(words); j++) {
            size_t want = full_osa(words[i], words[j]);
            for (size_t max = 0; max < 20; max++) {
                size_t got = dist(words[i], words[j], max);
                if (got != (want > max ? max + 1 : want))
                    fail_msg("'%s' '%s' max %zu: %zu, want %zu", words[i], words[j], max, got, want);
            }
        }
    srand(18);
    for (int k = 0; k < 20000; k++) {
        char a[12], b[12];
        size_t n = (size_t)rand() % 11, m = (size_t)rand() % 11;
        for (size_t i = 0; i < n; i++)
            a[i] = (char)('a' + rand() % 3);
        for (size_t i = 0; i < m; i++)
            b[i] = (char)('a' + rand() % 3);
        a[n] = b[m] = '\0';
        size_t want = full_osa(a, b), max = (size_t)rand() % 6;
        if (dist(a, b, max) != (want > max ? max + 1 : want))
            fail_msg("'%s' '%s' max %zu: %zu, want %zu", a, b, max, dist(a, b, max), want);
    }
}

static void case_is_ignored_and_swaps_cost_one(void **state)
{
    (void)state;
    assert_int_equal(dist("Salesforce", "salesforce", 3), 0);
    assert_int_equal(dist("HUBSPOT", "hubspot", 3), 0);
    assert_int_equal(dist("workpsace", "workspace", 3), 1);
    assert_int_equal(dist("api.hubapi.cmo", "api.hubapi.com", 2), 1);
    assert_int_equal(dist("hubspt", "hubspot", 2), 1);
    /* Longer than a row holds: only an equal word is near. */
    char l1[400], l2[400];
    memset(l1, 'x', 300), l1[300] = '\0';
    memcpy(l2, l1, 301);
    assert_int_equal(dist(l1, l2, 2), 0);
    l2[5] = 'y';
    assert_int_equal(dist(l1, l2, 2), 3);
}

static void reach_grows_with_the_word(void **state)
{
    (void)state;
    assert_int_equal(amp_suggest_reach(1), 1);
    assert_int_equal(amp_suggest_reach(3), 1);
    assert_int_equal(amp_suggest_reach(5), 2);
    assert_int_equal(amp_suggest_reach(6), 2);
    assert_int_equal(amp_suggest_reach(8), 3);
    assert_int_equal(amp_suggest_reach(40), 3);
}

static void nearest_whatever_the_order(void **state)
{
    static const char *const settings[] = { "base_url", "provider", "installation_id", "integration_name",
                                            "group_ref", "drop_headers", "workspace", NULL };
    static const char *const reversed[] = { "workspace", "drop_headers", "group_ref", "integration_name",
                                            "installation_id", "provider", "base_url", NULL };
    static const struct { const char *word, *want; } cases[] = {
        { "instalation_id", "installation_id" }, { "workpsace", "workspace" },
        { "baseurl", "base_url" },               { "Provider", "provider" },
        { "group-ref", "group_ref" },            { "integration", "integration_name" },
        { "region", NULL },                      { "x", NULL },
        { "drop_header", "drop_headers" },      { "drop", "drop_headers" },
        { "inst", "installation_id" },           { "grp", NULL },
    };
    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        const char *a = amp_suggest(cases[i].word, settings), *b = amp_suggest(cases[i].word, reversed);
        if (cases[i].want ? !a || strcmp(a, cases[i].want) != 0 : a != NULL)
            fail_msg("'%s': '%s', want '%s'", cases[i].word, a ? a : "(none)",
                     cases[i].want ? cases[i].want : "(none)");
        assert_ptr_equal(a ? (const void *)a : NULL, b ? (const void *)b : NULL);
    }
}

static void ties_go_to_the_first_sorted(void **state)
{
    static const char *const one[] = { "cat", "bat", "hat", NULL };
    static const char *const two[] = { "hat", "cat", "bat", NULL };
    (void)state;
    /* "at" is one edit from each: the answer is the same for both orders. */
    assert_string_equal(amp_suggest("xat", one), "bat");
    assert_string_equal(amp_suggest("xat", two), "bat");
    /* The nearer wins over the first sorted. */
    static const char *const three[] = { "aaaa", "hubsopt", "hubspot", NULL };
    assert_string_equal(amp_suggest("hubspot", three), "hubspot");
    /* Candidates that are not NUL-terminated. */
    struct amp_suggest s;
    const char *text = "hubspotsalesforce";
    amp_suggest_init(&s, "salesforse", 0);
    amp_suggest_offer(&s, text, 7);
    amp_suggest_offer(&s, text + 7, 10);
    assert_ptr_equal(s.best, text + 7);
    assert_int_equal(s.best_len, 10);
    assert_int_equal(s.best_dist, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distances_are_the_tables),
        cmocka_unit_test(case_is_ignored_and_swaps_cost_one),
        cmocka_unit_test(reach_grows_with_the_word),
        cmocka_unit_test(nearest_whatever_the_order),
        cmocka_unit_test(ties_go_to_the_first_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
