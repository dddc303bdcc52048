/* The routes list read from the text (amp_routelist_read) against
 * libconfig's reading of the same text: ~30,000 configs made at random
 * from pieces libconfig reads in every way it reads them (names, both
 * separators, every terminator, strings plain and not, arrays, other
 * values, comments and line breaks between any two tokens, mistakes).
 * Whenever the text is read, libconfig must read the same routes (names,
 * types, strings, line numbers), and the rest handed to libconfig must
 * parse, or fail, exactly as the whole text does. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libconfig.h>

#include "arena.h"
#include "routelist.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static unsigned long long seed = 88172645463325252ULL;

static unsigned pick(unsigned n)
{
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    return (unsigned)(seed % n);
}

struct text {
    char buf[8192];
    size_t len;
};

static void put(struct text *t, const char *s)
{
    size_t n = strlen(s);

    if (t->len + n < sizeof(t->buf)) {
        memcpy(t->buf + t->len, s, n + 1);
        t->len += n;
    }
}

/* Between two tokens: mostly a space, often a line break or a comment. */
static void gap(struct text *t)
{
    static const char *const gaps[] = {
        " ", " ", " ", "", "\n", "\n  ", "\t", " # note\n", " // note\n", "/* c */",
        "/* two\n lines */", "\r\n", "\f", "\n\n", " #\n",
    };
    put(t, gaps[pick(N(gaps))]);
}

static void string(struct text *t)
{
    static const char *const strings[] = {
        "\"https://*.my.salesforce.com\"", "\"inst-1\"", "\"\"", "\"a b\"", "\"caf\xc3\xa9\"",
        "\"{{.x}}\"", "\"Authorization\"", "\"x\\\"y\"", "\"x\\ny\"", "\"x\ny\"", "\"a\tb\"",
        "\"slack\"", "\"#not a comment\"", "\"// nor this\"", "\"/* nor */\"", "\"(\"", "\"}\"",
    };
    put(t, strings[pick(5) ? pick(8) : pick(N(strings))]);
    if (!pick(25)) { /* side by side: one string to libconfig */
        gap(t);
        put(t, "\"more\"");
    }
}

static void value(struct text *t)
{
    unsigned k = pick(20);

    if (k < 14) {
        string(t);
    } else if (k < 18) {
        put(t, "[");
        unsigned n = pick(4);
        for (unsigned i = 0; i < n; i++) {
            gap(t);
            string(t);
            gap(t);
            if (i + 1 < n || !pick(15))
                put(t, ",");
        }
        gap(t);
        put(t, "]");
    } else {
        static const char *const others[] = { "5", "true", "1.5", "0x10", "( \"a\" )", "{ }",
                                              "[ 1, 2 ]", "-3", "100L" };
        put(t, others[pick(N(others))]);
    }
}

static void route(struct text *t)
{
    static const char *const names[] = {
        "base_url", "installation_id", "integration_name", "group_ref", "drop_headers",
        "provider", "workspace", "a-b", "X_1", "cloudId", "routes", "true", "False", "*x", "9a",
    };
    unsigned n = pick(5);

    put(t, "{");
    for (unsigned i = 0; i < n; i++) {
        gap(t);
        put(t, names[pick(8) ? pick(10) : pick(N(names))]);
        gap(t);
        put(t, pick(6) ? "=" : ":");
        gap(t);
        value(t);
        gap(t);
        static const char *const ends[] = { ";", ";", ";", ",", "", ";;" };
        put(t, ends[pick(12) ? pick(5) : pick(N(ends))]);
    }
    gap(t);
    put(t, "}");
}

static void make_config(struct text *t)
{
    t->len = 0;
    t->buf[0] = '\0';
    if (pick(3))
        put(t, "# a config\nproxy: { url = \"https://p.test\"; api_key = \"k\\\"x\"; n = 5; };\n");
    if (!pick(30))
        put(t, "@include \"x.cfg\"\n");
    put(t, pick(8) ? "routes" : "routes ");
    gap(t);
    put(t, pick(5) ? "=" : ":");
    gap(t);
    put(t, pick(40) ? "(" : "[");
    unsigned n = pick(6);
    for (unsigned i = 0; i < n; i++) {
        gap(t);
        if (pick(30))
            route(t);
        else
            value(t);
        gap(t);
        if (i + 1 < n ? pick(30) != 0 : !pick(30))
            put(t, ",");
    }
    gap(t);
    put(t, ")");
    static const char *const after[] = { ";\n", "\n", ";", ";;\n", ",\n", " x = 1;\n" };
    put(t, after[pick(8) ? 0 : pick(N(after))]);
    if (pick(2))
        put(t, "throttle: { on_block = \"wait\"; max_wait = 5; };\n");
    if (!pick(40))
        put(t, "routes = ( );\n");
    if (!pick(40))
        put(t, "bad = \"unterminated;\n");
    if (!pick(40))
        put(t, "x = 1 @ 2;\n");
}

static void same_route(const char *text, const struct amp_rdef *a, const struct amp_rdef *b)
{
    if (a->line != b->line || a->is_group != b->is_group || a->nsettings != b->nsettings)
        fail_msg("route at line %d/%d (group %d/%d, %zu/%zu settings) in:\n%s", a->line, b->line,
                 a->is_group, b->is_group, a->nsettings, b->nsettings, text);
    for (size_t i = 0; i < a->nsettings; i++) {
        const struct amp_rsetting *x = &a->settings[i], *y = &b->settings[i];
        if (strcmp(x->name, y->name) || x->line != y->line || x->type != y->type ||
            !x->str != !y->str || (x->str && strcmp(x->str, y->str)) || x->nelems != y->nelems)
            fail_msg("setting %s line %d type %d '%s' / %s line %d type %d '%s' in:\n%s", x->name,
                     x->line, x->type, x->str ? x->str : "", y->name, y->line, y->type,
                     y->str ? y->str : "", text);
        for (size_t j = 0; j < x->nelems; j++)
            if (x->elems[j].type != y->elems[j].type || x->elems[j].line != y->elems[j].line ||
                strcmp(x->elems[j].str, y->elems[j].str))
                fail_msg("%s element %zu: line %d '%s' / line %d '%s' in:\n%s", x->name, j,
                         x->elems[j].line, x->elems[j].str, y->elems[j].line, y->elems[j].str,
                         text);
    }
}

/* Every setting outside the routes list: the same names, types and lines
 * (libconfig's lines in the rest mapped back). */
static void same_lines(const char *text, const struct amp_routelist *list,
                       const config_setting_t *rest, const config_setting_t *whole)
{
    const char *name = config_setting_name(whole);

    if (config_setting_type(rest) != config_setting_type(whole) ||
        amp_routelist_line(list, (int)config_setting_source_line(rest)) !=
            (int)config_setting_source_line(whole))
        fail_msg("%s: line %d (mapped from %d), libconfig's %d in:\n%s", name ? name : "(elem)",
                 amp_routelist_line(list, (int)config_setting_source_line(rest)),
                 (int)config_setting_source_line(rest), (int)config_setting_source_line(whole), text);
    if (name && strcmp(name, "routes") == 0 && !config_setting_parent(whole)->parent)
        return;
    if (!config_setting_is_aggregate(whole))
        return;
    assert_int_equal(config_setting_length(rest), config_setting_length(whole));
    for (int i = 0; i < config_setting_length(whole); i++)
        same_lines(text, list, config_setting_get_elem(rest, (unsigned)i),
                   config_setting_get_elem(whole, (unsigned)i));
}

static void read_as_libconfig_reads(void **state)
{
    (void)state;
    struct text t;
    size_t read = 0, total = 30000, both_fail = 0;
    /* For a longer run by hand: AMP_TEST_ROUNDS, AMP_TEST_SEED. */
    if (getenv("AMP_TEST_ROUNDS"))
        total = strtoul(getenv("AMP_TEST_ROUNDS"), NULL, 10);
    if (getenv("AMP_TEST_SEED"))
        seed = strtoull(getenv("AMP_TEST_SEED"), NULL, 10) | 1;

    for (size_t round = 0; round < total; round++) {
        make_config(&t);
        struct amp_arena *a = amp_arena_new(0, 0);
        struct amp_routelist fast, slow;
        config_t whole, rest;

        /* (libconfig itself is asked only about texts read here: on some
         * mistakes it leaks, which the sanitizer build would count.) */
        char copy[sizeof(t.buf)], *r = NULL;
        memcpy(copy, t.buf, t.len + 1);
        int rc = amp_routelist_read(copy, t.len, a, &fast, &r);
        assert_true(rc >= 0);
        if (rc == 0)
            assert_memory_equal(copy, t.buf, t.len + 1); /* untouched for libconfig */
        if (rc == 1) {
            config_init(&whole);
            int whole_ok = config_read_string(&whole, t.buf);
            read++;
            assert_non_null(r);
            config_init(&rest);
            int rest_ok = config_read_string(&rest, r);
            if (rest_ok != whole_ok ||
                (!whole_ok &&
                 (amp_routelist_line(&fast, config_error_line(&rest)) != config_error_line(&whole) ||
                  strcmp(config_error_text(&rest), config_error_text(&whole)))))
                fail_msg("whole text %s (line %d: %s), the rest %s (line %d: %s):\n%s\n---\n%s",
                         whole_ok ? "parses" : "fails", config_error_line(&whole),
                         whole_ok ? "" : config_error_text(&whole), rest_ok ? "parses" : "fails",
                         config_error_line(&rest), rest_ok ? "" : config_error_text(&rest), t.buf, r);
            if (whole_ok) {
                const config_setting_t *list = config_lookup(&whole, "routes");
                const config_setting_t *empty = config_lookup(&rest, "routes");
                assert_non_null(list);
                assert_non_null(empty);
                assert_int_equal(config_setting_length(empty), 0);
                assert_int_equal(config_setting_source_line(empty), config_setting_source_line(list));
                same_lines(t.buf, &fast, config_root_setting(&rest), config_root_setting(&whole));
                assert_int_equal(amp_routelist_from(list, a, &slow), 0);
                if (slow.n != fast.n)
                    fail_msg("%zu routes read, libconfig has %zu:\n%s", fast.n, slow.n, t.buf);
                for (size_t i = 0; i < fast.n; i++)
                    same_route(t.buf, &fast.v[i], &slow.v[i]);
            } else {
                both_fail++;
            }
            config_destroy(&rest);
            config_destroy(&whole);
        }
        amp_arena_free(a);
    }
    /* Enough of each kind: read from the text, and read but broken elsewhere. */
    if (read < total / 5 || both_fail < total / 500)
        fail_msg("only %zu of %zu read, %zu of them broken elsewhere", read, total, both_fail);
}

static void plain_configs_are_read(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "routes = ( { base_url = \"https://x.test\"; installation_id = \"i\"; } );",
        "proxy: { url = \"https://p.test/\"; };\nroutes = (\n  { provider = \"salesforce\"; workspace = \"a\"; },\n"
        "  { base_url = \"https://slack.com/api\"; drop_headers = [ \"Authorization\", \"Cookie\" ]; }\n);\n"
        "throttle: { max_wait = 5; };\n",
        "routes: ( );",
    };
    for (size_t i = 0; i < N(texts); i++) {
        struct amp_arena *a = amp_arena_new(0, 0);
        struct amp_routelist fast;
        char *text = strdup(texts[i]), *rest;
        if (amp_routelist_read(text, strlen(text), a, &fast, &rest) != 1)
            fail_msg("not read:\n%s", texts[i]);
        free(text);
        amp_arena_free(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_configs_are_read),
        cmocka_unit_test(read_as_libconfig_reads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
