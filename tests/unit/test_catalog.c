/* The provider catalog: the generated form read line by line must give
 * exactly what libconfig's parse of the same catalog gives, for every
 * provider and for names that are not there; any other form is parsed by
 * libconfig. */
#define _GNU_SOURCE
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dlfcn.h>
#include <libconfig.h>
#include <unistd.h>

#include "catalog.h"
#include "safefile.h"
#include "scratch.h"

#ifndef CATALOG
#define CATALOG "conf/providers.cfg"
#endif

static int make_scratch(void **state)
{
    (void)state;
    return scratch_make("catalog");
}

static int drop_scratch(void **state)
{
    (void)state;
    rm_tree(scratch);
    return 0;
}

static char *write_file(const char *name, const char *text)
{
    char *path;
    FILE *f;

    assert_true(asprintf(&path, "%s/%s", scratch, name) > 0);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
    return path;
}

static char *read_catalog(void)
{
    char *text = NULL, err[512];
    size_t len;

    if (amp_safefile_read(CATALOG, AMP_MAX_CONFIG_BYTES, &text, &len, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    return text;
}

/* libconfig's parses, counted: the catalog's calls come here (this
 * program's definition is found before libconfig's), then go on to it. */
static int parses;

int config_read_string(config_t *config, const char *str)
{
    static int (*real)(config_t *, const char *);

    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "config_read_string");
    assert_non_null(real);
    parses++;
    return real(config, str);
}

/* The catalog at path, opened; *by_lines: 1 when it was read line by line
 * (the generated form), 0 when libconfig parsed it. */
static struct amp_catalog *open_at(const char *path, int *by_lines)
{
    char err[512] = "";
    int before = parses;

    amp_catalog_set_path(path);
    struct amp_catalog *cat = amp_catalog_open(err, sizeof(err));
    if (!cat)
        fail_msg("%s did not open: %s", path, err);
    *by_lines = parses == before;
    return cat;
}

struct answer {
    int rc;
    struct amp_provider p;
    char near[64];
};

static struct answer ask(struct amp_catalog *cat, const char *name)
{
    struct answer a;

    memset(&a, 0, sizeof(a));
    a.rc = amp_catalog_find(cat, name, &a.p, a.near, sizeof(a.near));
    return a;
}

static void same_answer(struct amp_catalog *fast, struct amp_catalog *parsed, const char *name)
{
    struct answer a = ask(fast, name), b = ask(parsed, name);

    if (a.rc != b.rc)
        fail_msg("'%s': found %d by lines, %d by libconfig", name, a.rc, b.rc);
    if (a.rc == 0 && (strcmp(a.p.name, b.p.name) || strcmp(a.p.base_url, b.p.base_url) ||
                      strcmp(a.p.display_name, b.p.display_name) || a.p.proxy != b.p.proxy))
        fail_msg("'%s': '%s' '%s' '%s' %d by lines, '%s' '%s' '%s' %d by libconfig", name,
                 a.p.name, a.p.base_url, a.p.display_name, a.p.proxy, b.p.name, b.p.base_url,
                 b.p.display_name, b.p.proxy);
    if (a.rc != 0)
        assert_string_equal(a.near, b.near);
}

/* The catalog as shipped, and the same with a block comment in front,
 * which only libconfig reads. */
static void lines_agree_with_libconfig(void **state)
{
    (void)state;
    char *text = read_catalog(), *copy;

    assert_true(asprintf(&copy, "/* not the generated form */\n%s", text) > 0);
    char *fast_path = write_file("fast.cfg", text), *parsed_path = write_file("parsed.cfg", copy);
    int fast_by_lines, parsed_by_lines;
    struct amp_catalog *fast = open_at(fast_path, &fast_by_lines);
    struct amp_catalog *parsed = open_at(parsed_path, &parsed_by_lines);
    assert_true(fast_by_lines);
    assert_false(parsed_by_lines);

    /* Every name in it, each in other cases, and names that are not. */
    size_t names = 0;
    for (const char *p = text; (p = strstr(p, "{ name = \"")); names++) {
        char name[64], other[72];
        p += 10;
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, "\""), p);
        same_answer(fast, parsed, name);
        for (size_t i = 0; i <= strlen(name); i++)
            other[i] = (char)(i % 2 ? toupper((unsigned char)name[i]) : tolower((unsigned char)name[i]));
        same_answer(fast, parsed, other);
        snprintf(other, sizeof(other), "%sx", name);
        same_answer(fast, parsed, other);
    }
    assert_true(names > 200);
    same_answer(fast, parsed, "");
    same_answer(fast, parsed, "SALESFORCE");
    same_answer(fast, parsed, "no-such-provider");
    amp_catalog_close(fast);
    amp_catalog_close(parsed);
    unlink(fast_path);
    unlink(parsed_path);
    free(fast_path);
    free(parsed_path);
    free(copy);
    free(text);
}

/* Lines that are not of the generated form: libconfig reads them (an
 * escape, an entry over two lines, a trailing comma it refuses), never
 * the line reader. */
static void other_forms_read_by_libconfig(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "providers = (\n"
        "  { name = \"a\\\"b\"; base_url = \"https://a.test\"; proxy = true; display_name = \"A\"; },\n"
        "  { name = \"b\"; base_url = \"https://b.test\"; proxy = false; display_name = \"B\"; }\n"
        ");\n",
        "providers = (\n"
        "  { name = \"b\"; base_url = \"https://b.test\";\n"
        "    proxy = true; display_name = \"B\"; }\n"
        ");\n",
        "providers = (\n"
        "  { name = \"b\"; base_url = \"https://b.test\"; proxy = TRUE; display_name = \"B\"; }\n"
        ");\n",
        "# comment\n\nproviders = (\n"
        "  { name = \"b\"; base_url = \"https://b.test\"; proxy = true; display_name = \"B\"; }\n"
        ");\n# after\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *path = write_file("other.cfg", texts[i]);
        int by_lines;
        struct amp_catalog *cat = open_at(path, &by_lines);
        assert_int_equal(by_lines, i == 3);
        struct answer a = ask(cat, "b");
        assert_int_equal(a.rc, 0);
        assert_string_equal(a.p.base_url, "https://b.test");
        assert_string_equal(a.p.display_name, "B");
        assert_int_equal(a.p.proxy, i == 0 ? 0 : 1);
        amp_catalog_close(cat);
        unlink(path);
        free(path);
    }
    /* Broken: named with its line, by libconfig. */
    char *path = write_file("broken.cfg", "providers = (\n  { name = \"b\"; },\n);\n"), err[512] = "";
    amp_catalog_set_path(path);
    assert_null(amp_catalog_open(err, sizeof(err)));
    assert_non_null(strstr(err, "not a provider catalog"));
    assert_non_null(strstr(err, ":3:"));
    unlink(path);
    free(path);
}

/* The entries one by one (`ampshim providers`), in both forms alike and in
 * the file's order; a misspelt name gets the nearest as a suggestion
 * (hubspt got none while only a difference of case was looked for). */
static void entries_and_suggestions(void **state)
{
    (void)state;
    char *text = read_catalog(), *copy;

    assert_true(asprintf(&copy, "/* not the generated form */\n%s", text) > 0);
    char *fast_path = write_file("fast2.cfg", text), *parsed_path = write_file("parsed2.cfg", copy);
    int by_lines;
    struct amp_catalog *fast = open_at(fast_path, &by_lines), *parsed = open_at(parsed_path, &by_lines);
    size_t n = amp_catalog_count(fast);
    assert_int_equal(n, amp_catalog_count(parsed));
    assert_true(n > 200);
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        struct amp_provider a, b;
        assert_int_equal(amp_catalog_entry(fast, i, &a), 0);
        assert_int_equal(amp_catalog_entry(parsed, i, &b), 0);
        assert_string_equal(a.name, b.name);
        assert_string_equal(a.base_url, b.base_url);
        assert_string_equal(a.display_name, b.display_name);
        assert_int_equal(a.proxy, b.proxy);
        p = strstr(p, "{ name = \"");
        assert_non_null(p);
        p += 10;
        assert_memory_equal(p, a.name, strlen(a.name));
        assert_int_equal(p[strlen(a.name)], '"');
    }
    struct amp_provider none;
    assert_int_equal(amp_catalog_entry(fast, n, &none), -1);
    static const struct { const char *name, *near; } cases[] = {
        { "hubspt", "hubspot" }, { "salesfroce", "salesforce" }, { "SALESFORCE", "salesforce" },
        { "atlasian", "atlassian" }, { "no-such-provider", "" }, { "x", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct answer a = ask(fast, cases[i].name), b = ask(parsed, cases[i].name);
        assert_int_equal(a.rc, -1);
        assert_string_equal(a.near, cases[i].near);
        assert_string_equal(b.near, cases[i].near);
    }
    amp_catalog_close(fast);
    amp_catalog_close(parsed);
    unlink(fast_path);
    unlink(parsed_path);
    free(fast_path);
    free(parsed_path);
    free(copy);
    free(text);
}

static void placeholders_in_order(void **state)
{
    char names[AMP_MAX_PLACEHOLDERS][64];
    (void)state;

    assert_int_equal(amp_catalog_placeholders("https://api.hubapi.com", names, AMP_MAX_PLACEHOLDERS), 0);
    assert_int_equal(amp_catalog_placeholders("https://{{.workspace}}.api.{{.region}}.dynamics.com/api",
                                              names, AMP_MAX_PLACEHOLDERS), 2);
    assert_string_equal(names[0], "workspace");
    assert_string_equal(names[1], "region");
    assert_int_equal(amp_catalog_placeholders("https://{{.a}}.{{.b}}.{{.c}}", names, 2), 2);
    assert_int_equal(amp_catalog_placeholders("https://{{.open", names, AMP_MAX_PLACEHOLDERS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_agree_with_libconfig),
        cmocka_unit_test(entries_and_suggestions),
        cmocka_unit_test(placeholders_in_order),
        cmocka_unit_test(other_forms_read_by_libconfig),
    };

    return cmocka_run_group_tests(tests, make_scratch, drop_scratch);
}
