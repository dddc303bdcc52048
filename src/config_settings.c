/* A config's settings read and checked, and their errors said: every error
 * names the file and the line ("FILE:LINE: what is wrong"), whether
 * libconfig read the setting or the routes list was read from the text
 * (routelist.h). */
#define _GNU_SOURCE
#include "config_load.h"
#include "arena.h"
#include "suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* "FILE:LINE: …" (line < 0: "FILE: …") in the error buffer; -1. */
static int vfail_at(struct loader *ld, int line, const char *fmt, va_list ap)
{
    int n = line >= 0 ? snprintf(ld->err, ld->errlen, "%s:%d: ", ld->path, line)
                      : snprintf(ld->err, ld->errlen, "%s: ", ld->path);

    if (n < 0 || (size_t)n >= ld->errlen)
        return -1;
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
    return -1;
}

int amp_cfg_fail_at(struct loader *ld, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_at(ld, line, fmt, ap);
    va_end(ap);
    return -1;
}

/* The config's line that libconfig's line is: libconfig parsed the text
 * with its routes list left empty (routelist.h) when the list was read. */
int amp_cfg_src_line(const struct loader *ld, int line)
{
    return ld->routes ? amp_routelist_line(ld->routes, line) : line;
}

/* At libconfig's setting s (NULL: no line). */
int amp_cfg_fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_at(ld, s ? amp_cfg_src_line(ld, (int)config_setting_source_line(s)) : -1, fmt, ap);
    va_end(ap);
    return -1;
}

/* libconfig's setting s (NULL: absent) as the checks read settings; its
 * elements are not needed. */
const struct amp_rsetting *amp_cfg_view(const struct loader *ld, const config_setting_t *s,
                                       struct amp_rsetting *v)
{
    if (!s)
        return NULL;
    memset(v, 0, sizeof(*v));
    v->name = config_setting_name(s);
    v->line = amp_cfg_src_line(ld, (int)config_setting_source_line(s));
    v->type = config_setting_type(s);
    v->str = v->type == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
    return v;
}

int amp_cfg_note(struct loader *ld, const char *fmt, ...)
{
    struct amp_config *cfg = ld->cfg;
    va_list ap;

    if (cfg->nnotes == ld->notes_cap) {
        size_t cap = ld->notes_cap ? 2 * ld->notes_cap : 4;
        char **v = amp_arena_alloc(ld->arena, cap * sizeof(*v));
        if (!v)
            return -1;
        if (cfg->nnotes)
            memcpy(v, cfg->notes, cfg->nnotes * sizeof(*v));
        cfg->notes = v;
        ld->notes_cap = cap;
    }
    va_start(ap, fmt);
    char *s = amp_arena_vprintf(ld->arena, fmt, ap);
    va_end(ap);
    if (!s)
        return -1;
    cfg->notes[cfg->nnotes++] = s;
    return 0;
}

/* a, b, … (up to NULL) in one string of the arena: the lines a config of
 * thousands of routes makes, without printf. */
char *amp_cfg_join(struct amp_arena *a, const char *first, ...)
{
    const char *parts[8];
    size_t lens[8], n = 0, len = 0;
    va_list ap;

    va_start(ap, first);
    for (const char *p = first; p && n < 8; p = va_arg(ap, const char *)) {
        parts[n] = p;
        len += lens[n++] = strlen(p);
    }
    va_end(ap);
    char *out = amp_arena_alloc(a, len + 1), *o = out;
    for (size_t i = 0; out && i < n; i++) {
        memcpy(o, parts[i], lens[i]);
        o += lens[i];
    }
    return out; /* NUL-terminated: the arena's memory is zeroed */
}

/* "unknown setting 'instalation_id'; did you mean 'installation_id'?
 * valid here: …" at line: the nearest of the known names (suggest.h), and
 * all of them, so that no one has to look them up. */
int amp_cfg_unknown_at(struct loader *ld, int line, const char *name, const char *const *known,
                       size_t nknown)
{
    char valid[1024];
    size_t used = 0;
    struct amp_suggest s;

    amp_suggest_init(&s, name, 0);
    valid[0] = '\0';
    for (size_t i = 0; i < nknown; i++) {
        amp_suggest_offer(&s, known[i], strlen(known[i]));
        int n = snprintf(valid + used, sizeof(valid) - used, "%s%s", i ? ", " : "", known[i]);
        if (n > 0 && (size_t)n < sizeof(valid) - used)
            used += (size_t)n;
    }
    return amp_cfg_fail_at(ld, line, "unknown setting '%s'; %s%.*s%svalid here: %s", name,
                           s.best ? "did you mean '" : "", (int)s.best_len, s.best ? s.best : "",
                           s.best ? "'? " : "", valid);
}

/* Unknown settings are errors: a misspelt installation_id must not
 * silently leave a route without one. */
int amp_cfg_only_known(struct loader *ld, const config_setting_t *group, const char *const *known)
{
    size_t nknown = 0;

    while (known[nknown])
        nknown++;
    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, name) == 0;
        if (!ok)
            return amp_cfg_unknown_at(ld, amp_cfg_src_line(ld, (int)config_setting_source_line(s)), name,
                                      known, nknown);
    }
    return 0;
}

/* A value that goes into an HTTP header: no control characters, or a
 * config could smuggle in headers of its own. v's length, or -1 when it
 * holds a control character. */
static long header_safe_len(const char *v)
{
    const char *p = v;

    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -1;
    return (long)(p - v);
}

/* The string setting s (NULL: absent), named where.name in messages,
 * copied into the arena; 1 when present, 0 when absent, -1 on error. */
static int amp_cfg_take_string(struct loader *ld, const struct amp_rsetting *s, const char *name,
                       const char *where, char **out)
{
    if (!s)
        return 0;
    if (s->type != CONFIG_TYPE_STRING)
        return amp_cfg_fail_at(ld, s->line, "%s.%s must be a string", where, name);
    long len = header_safe_len(s->str);
    if (len < 0)
        return amp_cfg_fail_at(ld, s->line, "%s.%s must not contain control characters", where, name);
    *out = amp_arena_memdup(ld->arena, s->str, (size_t)len);
    return *out ? 1 : amp_cfg_fail_at(ld, s->line, "out of memory");
}

int amp_cfg_take_nonempty(struct loader *ld, const struct amp_rsetting *s, const char *name,
                         const char *where, char **out)
{
    int rc = amp_cfg_take_string(ld, s, name, where, out);

    if (rc == 1 && !**out) {
        *out = NULL;
        return amp_cfg_fail_at(ld, s->line, "%s.%s must not be empty", where, name);
    }
    return rc;
}

/* Optional string member; 1 when present, 0 when absent, -1 on error. */
int amp_cfg_get_string(struct loader *ld, const config_setting_t *group,
                      const char *name, const char *where, char **out)
{
    struct amp_rsetting v;

    return amp_cfg_take_string(ld, amp_cfg_view(ld, config_setting_get_member(group, name), &v), name, where,
                               out);
}

int amp_cfg_get_nonempty(struct loader *ld, const config_setting_t *group,
                        const char *name, const char *where, char **out)
{
    struct amp_rsetting v;

    return amp_cfg_take_nonempty(ld, amp_cfg_view(ld, config_setting_get_member(group, name), &v), name,
                                 where, out);
}

int amp_cfg_get_seconds(struct loader *ld, const config_setting_t *group,
                       const char *name, long *out)
{
    const config_setting_t *s = config_setting_get_member(group, name);

    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return amp_cfg_fail(ld, s, "throttle.%s must be a whole number of seconds", name);
    long long v = config_setting_get_int64(s);
    if (v < 0 || v > 365LL * 86400)
        return amp_cfg_fail(ld, s, "throttle.%s must be between 0 and 31536000 seconds", name);
    *out = (long)v;
    return 1;
}

/* A header name: an HTTP token. */
static int header_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return 0;
    return 1;
}

/* drop_headers = [ "Authorization", … ] (the setting s, NULL: absent):
 * the header names, after the n already in *v. */
int amp_cfg_take_names(struct loader *ld, const struct amp_rsetting *s, const char *where,
                      char ***v, size_t *n)
{
    if (!s)
        return 0;
    if (s->type != CONFIG_TYPE_ARRAY && s->type != CONFIG_TYPE_LIST)
        return amp_cfg_fail_at(ld, s->line,
                       "%s.drop_headers must be a list of header names: [ \"Authorization\" ]",
                       where);
    char **grown = amp_arena_alloc(ld->arena, (*n + s->nelems + 1) * sizeof(*grown));
    if (!grown)
        return amp_cfg_fail_at(ld, s->line, "out of memory");
    if (*n)
        memcpy(grown, *v, *n * sizeof(*grown));
    *v = grown;
    for (size_t i = 0; i < s->nelems; i++) {
        const struct amp_rvalue *e = &s->elems[i];
        if (e->type != CONFIG_TYPE_STRING || !header_name(e->str))
            return amp_cfg_fail_at(ld, e->line,
                           "%s.drop_headers: each entry must be a header name, like \"Authorization\"",
                           where);
        grown[*n] = amp_arena_strdup(ld->arena, e->str);
        if (!grown[(*n)++])
            return amp_cfg_fail_at(ld, e->line, "out of memory");
    }
    return 0;
}
