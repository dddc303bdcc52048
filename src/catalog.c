/* Reading the provider catalog. The catalog as tools/gen_catalog.py writes
 * it (one entry a line, nothing libconfig would read otherwise) is checked
 * line by line and only the entries a config names are read, by hand;
 * anything else is parsed whole by libconfig. */
#define _GNU_SOURCE
#include "catalog.h"
#include "arena.h"
#include "safefile.h"
#include "suggest.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One entry line of the generated form: where its values are. */
struct line {
    const char *name, *base_url, *display_name;
    size_t name_len, base_url_len, display_name_len;
    int proxy;
};

/* In memory of its own, mapped: the catalog is read while a config loads,
 * and leaves nothing in the application's heap. */
struct amp_catalog {
    struct amp_arena *arena;
    char *text;
    struct line *lines;       /* the generated form; NULL: libconfig's tree */
    size_t nlines;
    config_t conf;
    const config_setting_t *list;
};

static char catalog_path[4096];

void amp_catalog_set_path(const char *path)
{
    snprintf(catalog_path, sizeof(catalog_path), "%s", path ? path : "");
}

const char *amp_catalog_path(void)
{
    return catalog_path;
}

/* p starts with the literal lit: p past it, else NULL. */
static const char *expect(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    return p && (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

/* A string of the generated form, "…" without a quote or backslash in it
 * (an escape libconfig would read is left to libconfig), then "; ". */
static const char *string_value(const char *p, const char *end, const char **v, size_t *len)
{
    p = expect(p, end, "\"");
    if (!p)
        return NULL;
    const char *close = memchr(p, '"', (size_t)(end - p));
    if (!close || memchr(p, '\\', (size_t)(close - p)))
        return NULL;
    *v = p;
    *len = (size_t)(close - p);
    return close + 1;
}

/* "  { name = "…"; base_url = "…"; proxy = true; display_name = "…"; }"
 * and a comma unless it is the last: 1 and *l, else 0. */
static int entry_line(const char *p, const char *end, struct line *l, int *last)
{
    p = expect(p, end, "  { name = ");
    if (p)
        p = string_value(p, end, &l->name, &l->name_len);
    p = expect(p, end, "; base_url = ");
    if (p)
        p = string_value(p, end, &l->base_url, &l->base_url_len);
    p = expect(p, end, "; proxy = ");
    if (expect(p, end, "true"))
        l->proxy = 1, p += 4;
    else if (expect(p, end, "false"))
        l->proxy = 0, p += 5;
    else
        return 0;
    p = expect(p, end, "; display_name = ");
    if (p)
        p = string_value(p, end, &l->display_name, &l->display_name_len);
    p = expect(p, end, "; }");
    if (!p)
        return 0;
    *last = p == end;
    return p == end || (p + 1 == end && *p == ',');
}

/* The entry lines of text when every line of it is of the generated form:
 * comments, blank lines, "providers = (", its entries, ");". 0 and the
 * lines in cat, or -1 (another form, or out of memory): libconfig reads it. */
static int generated_form(struct amp_catalog *cat, size_t len)
{
    const char *p = cat->text, *end = p + len;
    enum { BEFORE, IN, AFTER } where = BEFORE;
    size_t cap = 0;
    int last = 0;

    /* libconfig reads past a NUL byte; a line scan would not. */
    if (strlen(p) != len)
        return -1;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol ? eol : end;
        if (where == IN && *p == ' ') {
            if (last)
                goto other;
            if (cat->nlines == cap) {
                cap = cap ? cap * 2 : 256;
                struct line *grown = amp_arena_alloc(cat->arena, cap * sizeof(*grown));
                if (!grown)
                    goto other;
                if (cat->nlines)
                    memcpy(grown, cat->lines, cat->nlines * sizeof(*grown));
                cat->lines = grown;
            }
            if (!entry_line(p, stop, &cat->lines[cat->nlines++], &last))
                goto other;
        } else if (where == IN && stop - p == 2 && memcmp(p, ");", 2) == 0 &&
                   (last || cat->nlines == 0)) {
            where = AFTER;
        } else if (where == BEFORE && stop - p == 13 && memcmp(p, "providers = (", 13) == 0) {
            where = IN;
        } else if (p != stop && *p != '#') {
            goto other;
        }
        p = eol ? eol + 1 : end;
    }
    if (where == AFTER) {
        if (!cat->lines) /* none, but read this way */
            cat->lines = amp_arena_alloc(cat->arena, sizeof(*cat->lines));
        if (cat->lines)
            return 0;
    }
other:
    cat->lines = NULL;
    cat->nlines = 0;
    return -1;
}

struct amp_catalog *amp_catalog_open(char *err, size_t errlen)
{
    struct amp_arena *a = amp_arena_new(32 * 1024, 0);
    struct amp_catalog *cat = a ? amp_arena_alloc(a, sizeof(*cat)) : NULL;
    char why[512] = "(not found)";
    size_t len = 0;

    /* Read as the config is (safefile.h): never a folder or FIFO to libconfig. */
    if (!cat || !catalog_path[0] ||
        amp_safefile_read_in(a, catalog_path, AMP_MAX_CONFIG_BYTES, &cat->text, &len, why,
                            sizeof(why)) < 0) {
        snprintf(err, errlen, "cannot read the provider catalog: %s", cat ? why : "out of memory");
        amp_arena_free(a);
        return NULL;
    }
    cat->arena = a;
    if (generated_form(cat, len) == 0)
        return cat;
    config_init(&cat->conf);
    int ok = config_read_string(&cat->conf, cat->text);
    if (ok)
        cat->list = config_lookup(&cat->conf, "providers");
    if (!ok || !cat->list) {
        snprintf(err, errlen, "%s:%d: not a provider catalog%s%s", catalog_path,
                 ok ? 0 : config_error_line(&cat->conf), ok ? "" : ": ",
                 ok ? "" : config_error_text(&cat->conf));
        amp_catalog_close(cat);
        return NULL;
    }
    return cat;
}

static void copy(const config_setting_t *entry, const char *member, char *out, size_t len)
{
    const config_setting_t *s = config_setting_get_member(entry, member);
    const char *v = s && config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s) : "";

    snprintf(out, len, "%s", v);
}

/* Entry i of the libconfig tree into out. */
static void fill_parsed(const config_setting_t *e, struct amp_provider *out)
{
    const config_setting_t *p = config_setting_get_member(e, "proxy");

    copy(e, "name", out->name, sizeof(out->name));
    copy(e, "base_url", out->base_url, sizeof(out->base_url));
    copy(e, "display_name", out->display_name, sizeof(out->display_name));
    out->proxy = p && config_setting_type(p) == CONFIG_TYPE_BOOL && config_setting_get_bool(p);
}

static void fill_line(const struct line *l, struct amp_provider *out)
{
    snprintf(out->name, sizeof(out->name), "%.*s", (int)l->name_len, l->name);
    snprintf(out->base_url, sizeof(out->base_url), "%.*s", (int)l->base_url_len, l->base_url);
    snprintf(out->display_name, sizeof(out->display_name), "%.*s", (int)l->display_name_len,
             l->display_name);
    out->proxy = l->proxy;
}

/* Entry i's name (NULL: not a string), its length in *len. */
static const char *name_at(const struct amp_catalog *cat, size_t i, size_t *len)
{
    if (cat->lines) {
        *len = cat->lines[i].name_len;
        return cat->lines[i].name;
    }
    const config_setting_t *e = config_setting_get_elem(cat->list, (unsigned)i);
    const config_setting_t *n = e ? config_setting_get_member(e, "name") : NULL;
    const char *v = n && config_setting_type(n) == CONFIG_TYPE_STRING ? config_setting_get_string(n)
                                                                       : NULL;
    *len = v ? strlen(v) : 0;
    return v;
}

size_t amp_catalog_count(const struct amp_catalog *cat)
{
    return cat->lines ? cat->nlines : (size_t)config_setting_length(cat->list);
}

int amp_catalog_entry(const struct amp_catalog *cat, size_t i, struct amp_provider *out)
{
    size_t len;

    if (i >= amp_catalog_count(cat) || !name_at(cat, i, &len))
        return -1;
    if (cat->lines)
        fill_line(&cat->lines[i], out);
    else
        fill_parsed(config_setting_get_elem(cat->list, (unsigned)i), out);
    return 0;
}

/* Looked up by name, one entry after the other: a config names a few
 * providers, and a hash of the catalog would cost more to build than the
 * look-ups it saves. The suggestion is looked for only when there is no
 * such name: an error path. */
int amp_catalog_find(struct amp_catalog *cat, const char *name, struct amp_provider *out,
                     char *suggestion, size_t suglen)
{
    size_t want = strlen(name), n = amp_catalog_count(cat), len;

    if (suglen)
        suggestion[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *v = name_at(cat, i, &len);
        if (v && len == want && memcmp(v, name, len) == 0)
            return amp_catalog_entry(cat, i, out);
    }
    if (!suglen)
        return -1;
    struct amp_suggest s;
    amp_suggest_init(&s, name, 0);
    for (size_t i = 0; i < n; i++) {
        const char *v = name_at(cat, i, &len);
        if (v)
            amp_suggest_offer(&s, v, len);
    }
    if (s.best)
        snprintf(suggestion, suglen, "%.*s", (int)s.best_len, s.best);
    return -1;
}

size_t amp_catalog_placeholders(const char *base_url, char names[][64], size_t max)
{
    size_t n = 0;

    for (const char *p = base_url; (p = strstr(p, "{{.")) && n < max;) {
        const char *end = strstr(p, "}}");
        if (!end)
            break;
        snprintf(names[n++], 64, "%.*s", (int)(end - p - 3), p + 3);
        p = end + 2;
    }
    return n;
}

void amp_catalog_close(struct amp_catalog *cat)
{
    if (!cat)
        return;
    if (!cat->lines)
        config_destroy(&cat->conf);
    amp_arena_free(cat->arena);
}
