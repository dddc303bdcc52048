/* The routes list read from the config's text (see routelist.h). Strict:
 * whatever it is not sure libconfig reads the same way (an escape, a line
 * break inside a string, strings written side by side, a trailing comma, a
 * duplicate name, a value other than a string or an array of strings, a
 * character it does not know) sends the whole text to libconfig, which
 * then says what is wrong, if anything. tests/unit/test_routelist.c holds
 * it to libconfig's reading, line numbers included. */
#define _GNU_SOURCE
#include "routelist.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"

/* A route with more settings, or an array with more elements, is
 * libconfig's to read. */
#define MAX_SETTINGS 32
#define MAX_ELEMS 64

struct lex {
    const char *p;
    int line;
};

/* What a byte can be, one table look-up a byte. */
enum {
    SPACE = 1,                /* white space or a comment's start */
    NAME = 2,                 /* in a setting's name after its first byte */
    STOP = 4,                 /* ends a plain string: a quote, an escape, a control */
};
static const unsigned char kind[256] = {
    [0 ... 8] = STOP, ['\t'] = SPACE | STOP, ['\n'] = SPACE | STOP, [11] = STOP,
    ['\f'] = SPACE | STOP, ['\r'] = SPACE | STOP, [14 ... 31] = STOP, [' '] = SPACE,
    ['"'] = STOP, ['#'] = SPACE, ['-'] = NAME, ['/'] = SPACE, ['0' ... '9'] = NAME,
    ['A' ... 'Z'] = NAME, ['\\'] = STOP, ['_'] = NAME, ['a' ... 'z'] = NAME, [0x7f] = STOP,
};

static int skip_space_slow(struct lex *lx);

/* White space and comments. -1 for a comment that never ends. */
static inline int skip_space(struct lex *lx)
{
    return kind[(unsigned char)*lx->p] & SPACE ? skip_space_slow(lx) : 0;
}

static int skip_space_slow(struct lex *lx)
{
    for (;;) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
            lx->p++;
        } else if (c == '\n') {
            lx->line++;
            lx->p++;
        } else if (c == '#' || (c == '/' && lx->p[1] == '/')) {
            lx->p += strcspn(lx->p, "\n");
        } else if (c == '/' && lx->p[1] == '*') {
            const char *end = strstr(lx->p + 2, "*/");
            if (!end)
                return -1;
            for (const char *q = lx->p; (q = memchr(q, '\n', (size_t)(end - q))); q++)
                lx->line++;
            lx->p = end + 2;
        } else {
            return 0;
        }
    }
}

static int word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '*' || c == '+' || c == '.';
}

/* A plain string at lx (its opening quote): *out its first byte, in the
 * text (terminate() ends it). 0 when it is not plain. */
static int plain_string(struct lex *lx, const char **out)
{
    const char *s = lx->p + 1, *q = s;

    while (!(kind[(unsigned char)*q] & STOP))
        q++;
    if (*q != '"')
        return 0; /* the end of the text, a line break, an escape, a control */
    *out = s;
    lx->p = q + 1;
    return 1;
}

/* A setting's name as libconfig writes names, that is no keyword. */
static size_t plain_name(const char *p)
{
    size_t n = 0;

    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return 0;
    while (kind[(unsigned char)p[n]] & NAME)
        n++;
    if (p[n] == '*' || ((n == 4 && strncasecmp(p, "true", 4) == 0) ||
                        (n == 5 && strncasecmp(p, "false", 5) == 0)))
        return 0;
    return n;
}

/* After an element of a list closed by close, at lx (spaces skipped): 1
 * when the list ends there, 2 when a comma says another element follows
 * (lx then at it), 0 for anything else. */
static int next_element(struct lex *lx, char close)
{
    if (*lx->p == close)
        return 1;
    if (*lx->p != ',')
        return 0;
    lx->p++;
    return skip_space(lx) < 0 ? 0 : 2;
}

/* "[ "a", "b" ]" at lx: each string's line must be that of what follows it
 * (libconfig reads an element's line after the next token). */
static int plain_array(struct lex *lx, struct amp_arena *a, struct amp_rsetting *s)
{
    struct amp_rvalue elems[MAX_ELEMS];
    size_t n = 0;
    int rc;

    lx->p++;
    if (skip_space(lx) < 0)
        return 0;
    if (*lx->p != ']') {
        for (;;) {
            if (*lx->p != '"' || n == MAX_ELEMS)
                return 0;
            elems[n].type = CONFIG_TYPE_STRING;
            elems[n].line = lx->line;
            rc = plain_string(lx, &elems[n].str);
            if (rc <= 0)
                return rc;
            if (skip_space(lx) < 0 || lx->line != elems[n++].line)
                return 0;
            int more = next_element(lx, ']');
            if (!more)
                return 0;
            if (more == 1)
                break;
        }
    }
    lx->p++;
    s->type = CONFIG_TYPE_ARRAY;
    s->nelems = n;
    if (n) {
        s->elems = amp_arena_alloc(a, n * sizeof(elems[0]));
        if (!s->elems)
            return -1;
    }
    if (n)
        memcpy((void *)s->elems, elems, n * sizeof(elems[0]));
    return 1;
}

/* "{ name = value; … }" at lx. */
static int plain_group(struct lex *lx, struct amp_arena *a, struct amp_rdef *d)
{
    struct amp_rsetting set[MAX_SETTINGS];
    size_t n = 0, len;
    int rc;

    d->line = lx->line;
    d->is_group = 1;
    lx->p++;
    for (;;) {
        if (skip_space(lx) < 0)
            return 0;
        if (*lx->p == '}')
            break;
        if (n == MAX_SETTINGS)
            return 0;
        len = plain_name(lx->p);
        if (!len)
            return 0;
        struct amp_rsetting *s = &set[n];
        memset(s, 0, sizeof(*s));
        s->line = lx->line;
        for (size_t i = 0; i < n; i++)
            if (memcmp(set[i].name, lx->p, len) == 0 && !(kind[(unsigned char)set[i].name[len]] & NAME))
                return 0; /* libconfig refuses a duplicate name */
        s->name = lx->p;
        lx->p += len;
        if (skip_space(lx) < 0 || (*lx->p != '=' && *lx->p != ':'))
            return 0;
        lx->p++;
        if (skip_space(lx) < 0)
            return 0;
        if (*lx->p == '"') {
            s->type = CONFIG_TYPE_STRING;
            rc = plain_string(lx, &s->str);
            if (rc <= 0)
                return rc;
        } else if (*lx->p == '[') {
            rc = plain_array(lx, a, s);
            if (rc <= 0)
                return rc;
        } else {
            return 0;
        }
        n++;
        if (skip_space(lx) < 0 || *lx->p == '"')
            return 0; /* strings side by side are one to libconfig */
        if (*lx->p == ';' || *lx->p == ',')
            lx->p++;
    }
    lx->p++;
    d->nsettings = n;
    if (n) {
        d->settings = amp_arena_alloc(a, n * sizeof(set[0]));
        if (!d->settings)
            return -1;
    }
    if (n)
        memcpy((void *)d->settings, set, n * sizeof(set[0]));
    return 1;
}

/* "( { … }, { … } )" at lx. */
static int plain_list(struct lex *lx, struct amp_arena *a, struct amp_routelist *out,
                      const char *text)
{
    size_t cap = 0;
    int open_line = lx->line, rc;

    out->open = (size_t)(lx->p - text);
    lx->p++;
    if (skip_space(lx) < 0)
        return 0;
    if (*lx->p != ')') {
        for (;;) {
            if (*lx->p != '{')
                return 0;
            if (out->n == cap) {
                size_t grown = cap ? 2 * cap : 64;
                struct amp_rdef *v = amp_arena_alloc(a, grown * sizeof(*v));
                if (!v)
                    return -1;
                if (out->n)
                    memcpy(v, out->v, out->n * sizeof(*v));
                out->v = v;
                cap = grown;
            }
            rc = plain_group(lx, a, &out->v[out->n]);
            if (rc <= 0)
                return rc;
            out->n++;
            if (skip_space(lx) < 0)
                return 0;
            int more = next_element(lx, ')');
            if (!more)
                return 0;
            if (more == 1)
                break;
        }
    }
    out->close = (size_t)(lx->p - text);
    out->open_line = open_line;
    out->lines = lx->line - open_line;
    lx->p++;
    return 1;
}

/* Each name and string read ends where its token ends, in the text. */
static void terminate(const struct amp_routelist *list)
{
    for (size_t i = 0; i < list->n; i++)
        for (size_t j = 0; j < list->v[i].nsettings; j++) {
            const struct amp_rsetting *s = &list->v[i].settings[j];
            char *end = (char *)s->name;
            while (kind[(unsigned char)*end] & NAME)
                end++;
            *end = '\0';
            if (s->str)
                *strchr(s->str, '"') = '\0';
            for (size_t k = 0; k < s->nelems; k++)
                *strchr(s->elems[k].str, '"') = '\0';
        }
}

/* text with the list left empty: "(" ")" and one line break, then what
 * followed the ")", which thus starts a line of its own. */
static char *rest_of(struct amp_arena *a, const char *text, size_t len,
                     const struct amp_routelist *list)
{
    size_t head = list->open + 1, tail = len - list->close - 1;
    char *rest = amp_arena_alloc(a, head + 2 + tail + 1);

    if (!rest)
        return NULL;
    memcpy(rest, text, head);
    memcpy(rest + head, ")\n", 2);
    memcpy(rest + head + 2, text + list->close + 1, tail);
    rest[head + 2 + tail] = '\0';
    return rest;
}

int amp_routelist_line(const struct amp_routelist *list, int line)
{
    return line > list->open_line ? line + list->lines - 1 : line;
}

static int scan(const char *text, struct amp_arena *scratch, struct amp_routelist *out)
{
    struct lex lx = { text, 1 };
    int depth = 0, found = 0, rc;

    memset(out, 0, sizeof(*out));
    for (;;) {
        if (skip_space(&lx) < 0)
            return 0;
        char c = *lx.p;
        if (!c)
            break;
        if (c == '"') {
            /* A string outside the list: escapes and line breaks as libconfig reads them. */
            for (lx.p++; *lx.p != '"'; lx.p++) {
                if (!*lx.p || (*lx.p == '\\' && !*++lx.p))
                    return 0;
                lx.line += *lx.p == '\n';
            }
            lx.p++;
        } else if (strchr("{([", c)) {
            depth++;
            lx.p++;
        } else if (strchr("})]", c)) {
            if (--depth < 0)
                return 0;
            lx.p++;
        } else if (strchr("=:;,", c)) {
            lx.p++;
        } else if (word_char(c)) {
            const char *w = lx.p;
            while (word_char(*lx.p))
                lx.p++;
            if (depth > 0 || lx.p - w != 6 || memcmp(w, "routes", 6) != 0)
                continue;
            /* The top-level routes setting: its value must be the list. */
            if (found || skip_space(&lx) < 0 || (*lx.p != '=' && *lx.p != ':'))
                return 0;
            lx.p++;
            if (skip_space(&lx) < 0 || *lx.p != '(')
                return 0;
            rc = plain_list(&lx, scratch, out, text);
            if (rc <= 0)
                return rc;
            found = 1;
        } else {
            return 0; /* @include, or what libconfig would refuse */
        }
    }
    return found;
}

int amp_routelist_read(char *text, size_t len, struct amp_arena *scratch,
                       struct amp_routelist *out, char **rest)
{
    int rc = scan(text, scratch, out);

    if (rc <= 0)
        return rc;
    *rest = rest_of(scratch, text, len, out);
    if (!*rest)
        return -1;
    terminate(out);
    return 1;
}

int amp_rsetting_from(const config_setting_t *s, struct amp_arena *scratch,
                      struct amp_rsetting *out)
{
    memset(out, 0, sizeof(*out));
    out->name = config_setting_name(s);
    out->line = config_setting_source_line(s);
    out->type = config_setting_type(s);
    if (out->type == CONFIG_TYPE_STRING)
        out->str = config_setting_get_string(s);
    if (!config_setting_is_aggregate(s))
        return 0;
    size_t n = (size_t)config_setting_length(s);
    struct amp_rvalue *v = n ? amp_arena_alloc(scratch, n * sizeof(*v)) : NULL;
    if (n && !v)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        v[i].type = config_setting_type(e);
        v[i].line = config_setting_source_line(e);
        v[i].str = v[i].type == CONFIG_TYPE_STRING ? config_setting_get_string(e) : NULL;
    }
    out->elems = v;
    out->nelems = n;
    return 0;
}

int amp_routelist_from(const config_setting_t *list, struct amp_arena *scratch,
                       struct amp_routelist *out)
{
    size_t n = (size_t)config_setting_length(list);

    memset(out, 0, sizeof(*out));
    if (n) {
        out->v = amp_arena_alloc(scratch, n * sizeof(*out->v));
        if (!out->v)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        struct amp_rdef *d = &out->v[i];
        d->line = config_setting_source_line(e);
        d->is_group = config_setting_is_group(e);
        if (!d->is_group)
            continue;
        size_t k = (size_t)config_setting_length(e);
        struct amp_rsetting *set = k ? amp_arena_alloc(scratch, k * sizeof(*set)) : NULL;
        if (k && !set)
            return -1;
        for (size_t j = 0; j < k; j++)
            if (amp_rsetting_from(config_setting_get_elem(e, (unsigned)j), scratch, &set[j]) < 0)
                return -1;
        d->settings = set;
        d->nsettings = k;
    }
    out->n = n;
    return 0;
}
