/* Loading and validating the configuration: libconfig parses it, but for
 * a routes list in the plain form, read straight from the text
 * (routelist.h). Every error names the file and the line, and says what is
 * wrong in a sentence. What the config keeps lives in an arena of its own
 * (arena.h); the text and the routes as read, in a scratch arena, and
 * libconfig's tree are gone when the load returns. */
#define _GNU_SOURCE
#include "config.h"
#include "arena.h"
#include "catalog.h"
#include "env.h"
#include "routelist.h"
#include "safefile.h"
#include "state.h"
#include "urlsplit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const amp_header_names[] = {
    "x-amp-proxy-version", "x-amp-project-id",   "x-api-key",
    "x-amp-installation-id", "x-amp-integration-name", "x-amp-group-ref",
    "x-amp-rate-limiter-mode",
};
const size_t amp_header_count = sizeof(amp_header_names) / sizeof(amp_header_names[0]);

struct loader {
    const char *path;
    const struct amp_curl *c;
    struct amp_config *cfg;
    struct amp_arena *arena;
    struct amp_arena *scratch;   /* what the load needs only while it runs */
    const struct amp_routelist *routes; /* read from the text, or NULL: libconfig's */
    char *err;
    size_t errlen;
    struct amp_catalog *catalog; /* opened on the first route that names a provider */
    size_t notes_cap;
    /* The header lines every route sends, made once for all of them. */
    char *h_version, *h_project, *h_mode;
    int unopened;                /* the key file could not be opened */
};

/* Memory that held a key, cleared so that the compiler cannot drop the
 * store (explicit_bzero's job, without its newer symbol version). */
static void wipe(void *p, size_t n)
{
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

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

static int fail_at(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct loader *ld, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_at(ld, line, fmt, ap);
    va_end(ap);
    return -1;
}

/* The config's line that libconfig's line is: libconfig parsed the text
 * with its routes list left empty (routelist.h) when the list was read. */
static int src_line(const struct loader *ld, int line)
{
    return ld->routes ? amp_routelist_line(ld->routes, line) : line;
}

/* At libconfig's setting s (NULL: no line). */
static int fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail_at(ld, s ? src_line(ld, (int)config_setting_source_line(s)) : -1, fmt, ap);
    va_end(ap);
    return -1;
}

/* libconfig's setting s (NULL: absent) as the checks read settings; its
 * elements are not needed. */
static const struct amp_rsetting *view(const struct loader *ld, const config_setting_t *s,
                                       struct amp_rsetting *v)
{
    if (!s)
        return NULL;
    memset(v, 0, sizeof(*v));
    v->name = config_setting_name(s);
    v->line = src_line(ld, (int)config_setting_source_line(s));
    v->type = config_setting_type(s);
    v->str = v->type == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
    return v;
}

static int note(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int note(struct loader *ld, const char *fmt, ...)
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
static char *join(struct amp_arena *a, const char *first, ...)
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

/* Unknown settings are errors: a misspelt installation_id must not
 * silently leave a route without one. */
static int only_known(struct loader *ld, const config_setting_t *group,
                      const char *where, const char *const *known)
{
    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, name) == 0;
        if (!ok)
            return fail(ld, s, "unknown setting '%s' in %s", name, where);
    }
    return 0;
}

/* A value that goes into an HTTP header: no control characters, or a
 * config could smuggle in headers of its own. */
/* Longer than any API key: a file or variable holding something else. */
#define AMP_MAX_KEY 1024
#define AMP_MAX_KEY_TEXT "1024"

/* v's length, or -1 when it holds a control character. */
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
static int take_string(struct loader *ld, const struct amp_rsetting *s, const char *name,
                       const char *where, char **out)
{
    if (!s)
        return 0;
    if (s->type != CONFIG_TYPE_STRING)
        return fail_at(ld, s->line, "%s.%s must be a string", where, name);
    long len = header_safe_len(s->str);
    if (len < 0)
        return fail_at(ld, s->line, "%s.%s must not contain control characters", where, name);
    *out = amp_arena_memdup(ld->arena, s->str, (size_t)len);
    return *out ? 1 : fail_at(ld, s->line, "out of memory");
}

static int take_nonempty(struct loader *ld, const struct amp_rsetting *s, const char *name,
                         const char *where, char **out)
{
    int rc = take_string(ld, s, name, where, out);

    if (rc == 1 && !**out) {
        *out = NULL;
        return fail_at(ld, s->line, "%s.%s must not be empty", where, name);
    }
    return rc;
}

/* Optional string member; 1 when present, 0 when absent, -1 on error. */
static int get_string(struct loader *ld, const config_setting_t *group,
                      const char *name, const char *where, char **out)
{
    struct amp_rsetting v;

    return take_string(ld, view(ld, config_setting_get_member(group, name), &v), name, where, out);
}

static int get_nonempty(struct loader *ld, const config_setting_t *group,
                        const char *name, const char *where, char **out)
{
    struct amp_rsetting v;

    return take_nonempty(ld, view(ld, config_setting_get_member(group, name), &v), name, where,
                         out);
}

static int get_seconds(struct loader *ld, const config_setting_t *group,
                       const char *name, long *out)
{
    const config_setting_t *s = config_setting_get_member(group, name);

    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return fail(ld, s, "throttle.%s must be a whole number of seconds", name);
    long long v = config_setting_get_int64(s);
    if (v < 0 || v > 365LL * 86400)
        return fail(ld, s, "throttle.%s must be between 0 and 31536000 seconds", name);
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
static int take_names(struct loader *ld, const struct amp_rsetting *s, const char *where,
                      char ***v, size_t *n)
{
    if (!s)
        return 0;
    if (s->type != CONFIG_TYPE_ARRAY && s->type != CONFIG_TYPE_LIST)
        return fail_at(ld, s->line,
                       "%s.drop_headers must be a list of header names: [ \"Authorization\" ]",
                       where);
    char **grown = amp_arena_alloc(ld->arena, (*n + s->nelems + 1) * sizeof(*grown));
    if (!grown)
        return fail_at(ld, s->line, "out of memory");
    if (*n)
        memcpy(grown, *v, *n * sizeof(*grown));
    *v = grown;
    for (size_t i = 0; i < s->nelems; i++) {
        const struct amp_rvalue *e = &s->elems[i];
        if (e->type != CONFIG_TYPE_STRING || !header_name(e->str))
            return fail_at(ld, e->line,
                           "%s.drop_headers: each entry must be a header name, like \"Authorization\"",
                           where);
        if (!(grown[(*n)++] = amp_arena_strdup(ld->arena, e->str)))
            return fail_at(ld, e->line, "out of memory");
    }
    return 0;
}

static int is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (strlen(s) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Relative api_key_file paths are taken from the config file's folder. */
static char *resolve_beside(struct amp_arena *a, const char *cfgpath, const char *file)
{
    const char *slash = strrchr(cfgpath, '/');

    if (file[0] == '/' || !slash)
        return amp_arena_strdup(a, file);
    return amp_arena_printf(a, "%.*s/%s", (int)(slash - cfgpath), cfgpath, file);
}

/* A key is visible ASCII, of a length a key has: what is not (empty after
 * trimming, a NUL byte, control characters, a whole file of something
 * else) must not quietly become an empty or broken x-api-key. NULL, or
 * what is wrong. Trims key in place. */
static const char *key_problem(char *key, size_t len)
{
    if (memchr(key, '\0', len))
        return "holds a NUL byte";
    char *start = key, *end = key + len;
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    memmove(key, start, (size_t)(end - start));
    key[end - start] = '\0';
    if (end == start)
        return "is empty";
    if ((size_t)(end - start) > AMP_MAX_KEY)
        return "is longer than any API key (" AMP_MAX_KEY_TEXT " characters at most)";
    for (const char *p = key; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return "must be one line of visible ASCII characters";
    return NULL;
}

/* Under systemd a unit hands the key file over with
 * LoadCredential=ampshim-api-key:PATH (`ampshim env --systemd` prints it):
 * systemd reads PATH as root and puts a copy only the service's user may
 * read in $CREDENTIALS_DIRECTORY. That copy, when there is one, is read
 * instead of api_key_file's path, so one config serves the service and
 * its operator's `ampshim check`. NULL when there is none. */
static char *key_credential(struct amp_arena *a)
{
    const char *dir = secure_getenv("CREDENTIALS_DIRECTORY");
    char *path;

    if (!dir || dir[0] != '/' || !(path = amp_arena_printf(a, "%s/%s", dir, AMP_KEY_CREDENTIAL)))
        return NULL;
    return access(path, F_OK) == 0 ? path : NULL;
}

static int read_key_file(struct loader *ld, const config_setting_t *s, const char *file)
{
    char *path = key_credential(ld->arena), *buf = NULL, why[512];
    size_t len = 0;
    const char *bad;

    if (!path)
        path = resolve_beside(ld->arena, ld->path, file);
    if (!path)
        return fail(ld, s, "out of memory");
    int rc = amp_read_regular(path, 4 * AMP_MAX_KEY, &buf, &len, why, sizeof(why));
    if (rc < 0) {
        ld->unopened = rc == -2;
        return fail(ld, s, "cannot read proxy.api_key_file %s", why);
    }
    ld->cfg->api_key_origin = join(ld->arena, "api_key_file ", path, NULL);
    if ((bad = key_problem(buf, len)))
        rc = fail(ld, s, "proxy.api_key_file '%s' %s", file, bad);
    else if (!(ld->cfg->api_key = amp_arena_strdup(ld->arena, buf)))
        rc = fail(ld, s, "out of memory");
    wipe(buf, len);
    free(buf);
    return rc;
}

static int load_key(struct loader *ld, const config_setting_t *proxy)
{
    static const char *const ways[] = { "api_key", "api_key_env", "api_key_file" };
    const config_setting_t *given = NULL;
    char *value = NULL;

    for (int i = 0; i < 3; i++) {
        const config_setting_t *s = config_setting_get_member(proxy, ways[i]);
        if (!s)
            continue;
        if (given)
            return fail(ld, s, "give the key one way only: proxy.%s and proxy.%s are both set",
                        config_setting_name(given), ways[i]);
        given = s;
    }
    if (!given)
        return fail(ld, proxy, "proxy needs the Ampersand API key: api_key, api_key_env or api_key_file");
    const char *way = config_setting_name(given);
    struct amp_rsetting v;
    if (take_nonempty(ld, view(ld, given, &v), way, "proxy", &value) < 0)
        return -1;
    if (strcmp(way, "api_key") == 0) {
        const char *bad = key_problem(value, strlen(value));
        if (bad)
            return fail(ld, given, "proxy.api_key %s", bad);
        ld->cfg->api_key = value;
        ld->cfg->api_key_origin = "api_key";
        return 0;
    }
    if (strcmp(way, "api_key_env") == 0) {
        const char *v = amp_env(value), *bad = NULL;
        char *key = NULL;
        if (!v || !*v)
            return fail(ld, given, "proxy.api_key_env: environment variable %s is not set", value);
        if (!(key = amp_arena_strdup(ld->arena, v)))
            return fail(ld, given, "out of memory");
        if ((bad = key_problem(key, strlen(key))))
            return fail(ld, given, "proxy.api_key_env: %s %s", value, bad);
        if (!(ld->cfg->api_key_origin = join(ld->arena, "api_key_env ", value, NULL)))
            return fail(ld, given, "out of memory");
        ld->cfg->api_key = key;
        return 0;
    }
    return read_key_file(ld, given, value);
}

/* proxy.url's scheme and host (host in hostbuf), and whether it carries a
 * user, a query or a fragment: cut by hand when it is plain, else by
 * libcurl. -1 when it is no URL. */
static int proxy_parts(const struct amp_curl *c, const char *url, const char **scheme,
                       char *hostbuf, size_t hostlen, int *extra)
{
    struct amp_url_split s;

    *extra = 0;
    if (amp_url_split(url, &s)) {
        *scheme = s.scheme;
        snprintf(hostbuf, hostlen, "%.*s", (int)s.host_len, s.host);
        return 0;
    }
    char *sch = NULL, *host = NULL, *part = NULL;
    CURLU *u = c->url();
    int rc = -1;
    if (u && c->url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        c->url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK &&
        c->url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        *scheme = strcmp(sch, "https") == 0 ? "https" : strcmp(sch, "http") == 0 ? "http" : "other";
        snprintf(hostbuf, hostlen, "%s", host);
        static const CURLUPart extras[] = { CURLUPART_QUERY, CURLUPART_USER, CURLUPART_FRAGMENT };
        for (size_t i = 0; i < 3 && !*extra; i++) {
            *extra = c->url_get(u, extras[i], &part, 0) == CURLUE_OK;
            c->free(part);
            part = NULL;
        }
        rc = 0;
    }
    if (u) {
        c->free(sch);
        c->free(host);
        c->url_cleanup(u);
    }
    return rc;
}

static int load_proxy_url(struct loader *ld, const config_setting_t *proxy)
{
    const config_setting_t *s = config_setting_get_member(proxy, "url");
    const char *scheme = NULL;
    char *url = NULL, host[512];
    int extra = 0;

    struct amp_rsetting v;
    if (take_nonempty(ld, view(ld, s, &v), "url", "proxy", &url) <= 0)
        return s ? -1 : fail(ld, proxy, "proxy.url is missing (https://proxy.withampersand.com)");
    if (proxy_parts(ld->c, url, &scheme, host, sizeof(host), &extra) < 0)
        return fail(ld, s, "proxy.url '%s' is not a valid URL", url);
    if (strcmp(scheme, "https") != 0 && !(strcmp(scheme, "http") == 0 && amp_host_is_loopback(host)))
        return fail(ld, s, "proxy.url '%s' must be https (plain http only to a loopback host)", url);
    if (extra)
        return fail(ld, s, "proxy.url '%s' must not carry a user, a query or a fragment", url);
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        url[--len] = '\0';
    ld->cfg->proxy_url = url;
    ld->cfg->proxy_plain_http = strcmp(scheme, "http") == 0;
    return 0;
}

static int load_proxy(struct loader *ld, const config_t *conf)
{
    static const char *const known[] = { "url", "project_id", "api_key", "api_key_env",
                                         "api_key_file", "rate_limiter_mode", "drop_headers",
                                         NULL };
    const config_setting_t *proxy = config_lookup(conf, "proxy");
    struct amp_config *cfg = ld->cfg;

    if (!proxy)
        return fail(ld, NULL, "no 'proxy' group: say where the Ampersand proxy is and which project");
    if (!config_setting_is_group(proxy))
        return fail(ld, proxy, "proxy must be a group: proxy: { url = \"…\"; … };");
    if (only_known(ld, proxy, "proxy", known) < 0 || load_proxy_url(ld, proxy) < 0)
        return -1;
    int rc = get_nonempty(ld, proxy, "project_id", "proxy", &cfg->project_id);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fail(ld, proxy, "proxy.project_id is missing");
    if (!is_uuid(cfg->project_id))
        return fail(ld, config_setting_get_member(proxy, "project_id"),
                    "proxy.project_id '%s' must be the project's ID (a UUID), not its name",
                    cfg->project_id);
    const config_setting_t *drop = config_setting_get_member(proxy, "drop_headers");
    struct amp_rsetting names;
    if (drop && amp_rsetting_from(drop, ld->scratch, &names) < 0)
        return fail(ld, drop, "out of memory");
    if (drop) {
        names.line = src_line(ld, names.line);
        for (size_t i = 0; i < names.nelems; i++)
            ((struct amp_rvalue *)names.elems)[i].line = src_line(ld, names.elems[i].line);
    }
    if (load_key(ld, proxy) < 0 ||
        take_names(ld, drop ? &names : NULL, "proxy", &cfg->drop, &cfg->ndrop) < 0)
        return -1;
    if (get_string(ld, proxy, "rate_limiter_mode", "proxy", &cfg->rate_limiter_mode) < 0)
        return -1;
    /* Throttle unless told otherwise: Ampersand then says when to retry. */
    if (!config_setting_get_member(proxy, "rate_limiter_mode") &&
        !(cfg->rate_limiter_mode = amp_arena_strdup(ld->arena, "throttle")))
        return fail(ld, proxy, "out of memory");
    if (cfg->rate_limiter_mode && !*cfg->rate_limiter_mode) {
        cfg->rate_limiter_mode = NULL;
    } else if (cfg->rate_limiter_mode && strcmp(cfg->rate_limiter_mode, "throttle") != 0) {
        return fail(ld, config_setting_get_member(proxy, "rate_limiter_mode"),
                    "proxy.rate_limiter_mode must be \"throttle\" or \"\"");
    }
    return 0;
}

/* The lines every route sends, and the key's, made once. */
static int shared_headers(struct loader *ld)
{
    struct amp_config *cfg = ld->cfg;

    ld->h_version = join(ld->arena, "x-amp-proxy-version: 1", NULL);
    ld->h_project = join(ld->arena, "x-amp-project-id: ", cfg->project_id, NULL);
    cfg->key_line = join(ld->arena, "x-api-key: ", cfg->api_key, NULL);
    ld->h_mode = cfg->rate_limiter_mode
                     ? join(ld->arena, "X-Amp-Rate-Limiter-Mode: ", cfg->rate_limiter_mode, NULL)
                     : NULL;
    return ld->h_version && ld->h_project && cfg->key_line &&
                   (ld->h_mode || !cfg->rate_limiter_mode)
               ? 0
               : -1;
}

static int route_headers(struct loader *ld, struct amp_route *r)
{
    struct amp_arena *a = ld->arena;
    char **v = amp_arena_alloc(a, 6 * sizeof(*v));
    size_t n = 0;

    if (!v)
        return -1;
    v[n++] = ld->h_version;
    v[n++] = ld->h_project;
    v[n++] = ld->cfg->key_line;
    if (r->installation_id) {
        if (!(v[n++] = join(a, "x-amp-installation-id: ", r->installation_id, NULL)))
            return -1;
    } else {
        if (!(v[n++] = join(a, "x-amp-integration-name: ", r->integration_name, NULL)) ||
            !(v[n++] = join(a, "x-amp-group-ref: ", r->group_ref, NULL)))
            return -1;
    }
    if (ld->h_mode)
        v[n++] = ld->h_mode;
    r->headers = v;
    r->nheaders = n;
    return 0;
}

static int valid_integration_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

#define MAX_PLACEHOLDERS 8

/* A route's settings, found in one pass over it. */
struct members {
    const struct amp_rsetting *base_url, *installation_id, *integration_name, *group_ref,
        *drop_headers, *provider;
    /* The others in their order: the provider's placeholders, or unknown. */
    const struct amp_rsetting *other[MAX_PLACEHOLDERS + 1];
    size_t nother;
};

static void find_members(const struct amp_rdef *d, struct members *m)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < d->nsettings; i++) {
        const struct amp_rsetting *e = &d->settings[i];
        const char *name = e->name;
        const struct amp_rsetting **slot =
            strcmp(name, "base_url") == 0           ? &m->base_url
            : strcmp(name, "installation_id") == 0  ? &m->installation_id
            : strcmp(name, "integration_name") == 0 ? &m->integration_name
            : strcmp(name, "group_ref") == 0        ? &m->group_ref
            : strcmp(name, "drop_headers") == 0     ? &m->drop_headers
            : strcmp(name, "provider") == 0         ? &m->provider
                                                    : NULL;
        /* Enough of the others to hold the first that is not one of the
         * provider's placeholders (there are at most 8). */
        if (slot)
            *slot = e;
        else if (m->nother < MAX_PLACEHOLDERS + 1)
            m->other[m->nother++] = e;
    }
}

/* The route's setting name (a placeholder's), or NULL. */
static const struct amp_rsetting *setting_named(const struct amp_rdef *d, const char *name)
{
    for (size_t i = 0; i < d->nsettings; i++)
        if (strcmp(d->settings[i].name, name) == 0)
            return &d->settings[i];
    return NULL;
}

/* The {{.name}} placeholders of a catalog template, in order. */
static size_t placeholders(const char *tmpl, char names[][64])
{
    size_t n = 0;

    for (const char *p = tmpl; (p = strstr(p, "{{.")) && n < MAX_PLACEHOLDERS;) {
        const char *end = strstr(p, "}}");
        if (!end)
            break;
        snprintf(names[n++], 64, "%.*s", (int)(end - p - 3), p + 3);
        p = end + 2;
    }
    return n;
}

/* A value for a placeholder: one host name or one path segment's worth. */
static int placeholder_value(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v <= ' ' || strchr("/?#@:{}\\%", *v))
            return 0;
    return 1;
}

/* The base URL of the route's provider, its placeholders filled from the
 * route's settings of the same name; unfilled ones match one label or
 * segment. 1 and *base (in url, of urllen bytes) when the route names a
 * provider, 0 when not. */
static int provider_base(struct loader *ld, const struct amp_rdef *d, const struct members *m,
                         struct amp_route *r,
                         char names[][64], size_t *nnames, char *url, size_t urllen)
{
    const struct amp_rsetting *ps = m->provider;
    struct amp_provider p;
    char err[512], near[64];

    *nnames = 0;
    if (!ps)
        return 0;
    if (take_nonempty(ld, ps, "provider", "route", &r->provider) < 0)
        return -1;
    if (!r->provider)
        return 0; /* not possible: take_nonempty fails or sets it */
    if (!ld->catalog && !(ld->catalog = amp_catalog_open(err, sizeof(err))))
        return fail_at(ld, ps->line, "%s", err);
    if (amp_catalog_find(ld->catalog, r->provider, &p, near, sizeof(near)) < 0)
        return fail_at(ld, ps->line, "unknown provider '%s'%s%s%s (the names are those of Ampersand's catalog, %s)",
                    r->provider, near[0] ? ": did you mean '" : "", near, near[0] ? "'?" : "",
                    amp_catalog_path());
    if (!p.proxy)
        return fail_at(ld, ps->line, "the Ampersand proxy does not support provider '%s' (%s)", p.name,
                    p.display_name);
    if (strncmp(p.base_url, "https://", 8) != 0 && strncmp(p.base_url, "http://", 7) != 0)
        return fail_at(ld, ps->line, "provider '%s' has no base URL a route can use ('%s' in the catalog): "
                            "give base_url instead", p.name, p.base_url);
    *nnames = placeholders(p.base_url, names);
    size_t used = 0;
    for (const char *t = p.base_url; *t && used < urllen - 1;) {
        const char *end;
        if (strncmp(t, "{{.", 3) == 0 && (end = strstr(t, "}}"))) {
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(end - t - 3), t + 3);
            const struct amp_rsetting *vs = setting_named(d, name);
            const char *v = NULL;
            if (vs && (vs->type != CONFIG_TYPE_STRING || !placeholder_value(v = vs->str) || !*v))
                return fail_at(ld, vs->line,
                               "route %s must be a host name or a path segment, like \"acme\"", name);
            /* Unfilled, a placeholder must be a whole label or segment, and
             * not the whole host: that would match any one-label host. */
            int whole_host = t == p.base_url + (strncmp(p.base_url, "https", 5) == 0 ? 8 : 7) &&
                             (end[2] == '\0' || end[2] == '/');
            if (!v && whole_host)
                return fail_at(ld, ps->line, "set %s: provider '%s' has the base URL %s, whose host is all {{.%s}}",
                            name, p.name, p.base_url, name);
            used += (size_t)snprintf(url + used, urllen - used, "%s", v ? v : "*");
            if (!v && ((t > p.base_url && !strchr("./", t[-1])) || !strchr("./", end[2] ? end[2] : '/')))
                return fail_at(ld, ps->line, "set %s: in provider %s's base URL %s it is part of a host label",
                            name, p.name, p.base_url);
            t = end + 2;
        } else {
            url[used++] = *t++;
        }
    }
    url[used < urllen ? used : urllen - 1] = '\0';
    return 1;
}

/* The first setting of the route that is neither one of its own nor one of
 * its provider's placeholders: an error (a misspelt installation_id must
 * not silently leave a route without one). */
static int only_route_settings(struct loader *ld, const struct members *m, char names[][64],
                               size_t nnames, const char *where)
{
    for (size_t i = 0; i < m->nother; i++) {
        const char *name = m->other[i]->name;
        int ok = 0;
        for (size_t k = 0; k < nnames && !ok; k++)
            ok = strcmp(names[k], name) == 0;
        if (!ok)
            return fail_at(ld, m->other[i]->line, "unknown setting '%s' in %s", name, where);
    }
    return 0;
}

static int load_route(struct loader *ld, const struct amp_rdef *d, struct amp_route *r)
{
    char provider_url[1024], msg[512], names[MAX_PLACEHOLDERS][64];
    const char *base = NULL;
    size_t nnames = 0;
    struct members m;
    int rc;

    r->line = d->line;
    if (!d->is_group)
        return fail_at(ld, d->line, "each route is a group: { base_url = \"…\"; installation_id = \"…\"; }");
    find_members(d, &m);
    int by_name = provider_base(ld, d, &m, r, names, &nnames, provider_url, sizeof(provider_url));
    if (by_name < 0)
        return -1;
    if (by_name)
        base = provider_url;
    if (only_route_settings(ld, &m, names, nnames,
                            r->provider ? "this provider's route" : "a route") < 0)
        return -1;
    if (m.base_url) {
        /* base_url wins when both are given. */
        if (by_name && note(ld, "%s:%d: base_url is given, so provider %s's base URL is not used",
                            ld->path, r->line, r->provider) < 0)
            return fail_at(ld, d->line, "out of memory");
        char *given = NULL;
        if (take_nonempty(ld, m.base_url, "base_url", "route", &given) < 0)
            return -1;
        base = given;
    } else if (!by_name) {
        return fail_at(ld, d->line, "route has no base_url (or provider)");
    }
    if (amp_route_compile_in(ld->arena, r, base ? base : "", ld->c, msg, sizeof(msg)) < 0)
        return fail_at(ld, m.base_url ? m.base_url->line : -1, "route base_url %s", msg);
    if (take_nonempty(ld, m.installation_id, "installation_id", "route", &r->installation_id) < 0 ||
        take_nonempty(ld, m.integration_name, "integration_name", "route", &r->integration_name) < 0 ||
        take_nonempty(ld, m.group_ref, "group_ref", "route", &r->group_ref) < 0)
        return -1;
    /* The proxy's drop_headers, then the route's own; shared when it has none. */
    r->drop = ld->cfg->drop;
    r->ndrop = ld->cfg->ndrop;
    if (take_names(ld, m.drop_headers, "route", &r->drop, &r->ndrop) < 0)
        return -1;
    if (r->integration_name && !valid_integration_name(r->integration_name))
        return fail_at(ld, m.integration_name->line,
                    "route integration_name '%s' must be lowercase letters, digits, '-' or '_' (at most 64)",
                    r->integration_name);
    if (r->installation_id) {
        if ((r->integration_name || r->group_ref) &&
            note(ld, "%s:%d: route %s: installation_id is sent; integration_name and group_ref are ignored",
                 ld->path, r->line, r->base_url) < 0)
            return fail_at(ld, d->line, "out of memory");
        r->ident = join(ld->arena, "installation ", r->installation_id, NULL);
    } else if (r->integration_name && r->group_ref) {
        r->ident = join(ld->arena, "integration ", r->integration_name, " group ", r->group_ref,
                        NULL);
    } else {
        return fail_at(ld, d->line, "route %s needs installation_id, or both integration_name and group_ref",
                    r->base_url);
    }
    r->key = r->installation_id
                 ? amp_block_key(ld->cfg->proxy_url, ld->cfg->project_id, r->installation_id, NULL)
                 : amp_block_key(ld->cfg->proxy_url, ld->cfg->project_id, r->integration_name,
                                 r->group_ref);
    rc = r->ident ? route_headers(ld, r) : -1;
    if (rc < 0)
        return fail_at(ld, d->line, "out of memory");
    return 0;
}

static int load_routes(struct loader *ld, const config_t *conf)
{
    const config_setting_t *list = config_lookup(conf, "routes");
    struct amp_routes *rs = &ld->cfg->routes;
    struct amp_routelist parsed;
    const struct amp_routelist *routes = ld->routes;

    if (!list)
        return fail(ld, NULL, "no 'routes' list: say which provider URLs go through the proxy");
    if (!config_setting_is_list(list))
        return fail(ld, list, "routes must be a list: routes = ( { … }, { … } );");
    /* Read from the text (libconfig saw it empty), or libconfig's. */
    if (!routes && amp_routelist_from(list, ld->scratch, &parsed) < 0)
        return fail(ld, list, "out of memory");
    if (!routes)
        routes = &parsed;
    size_t n = routes->n;
    rs->arena = ld->arena;
    rs->v = amp_arena_alloc(ld->arena, (n + 1) * sizeof(*rs->v));
    if (!rs->v || shared_headers(ld) < 0)
        return fail(ld, list, "out of memory");
    for (size_t i = 0; i < n; i++) {
        rs->n++;
        if (load_route(ld, &routes->v[i], &rs->v[i]) < 0)
            return -1;
    }
    if (n == 0 && note(ld, "%s: routes is empty: nothing will be routed", ld->path) < 0)
        return fail(ld, list, "out of memory");
    if (amp_routes_index(rs) < 0)
        return fail(ld, list, "out of memory");
    return 0;
}

const char *amp_on_block_name(enum amp_on_block mode)
{
    return mode == AMP_ON_BLOCK_WAIT ? "wait" : mode == AMP_ON_BLOCK_FAIL ? "fail" : "respond";
}

void amp_on_block_sentence(const struct amp_config *cfg, char *buf, size_t len)
{
    switch (cfg->throttle.on_block) {
    case AMP_ON_BLOCK_FAIL:
        snprintf(buf, len, "fails at once with libcurl error 55 (67 when locked out), nothing sent "
                           "(throttle.on_block = fail)");
        break;
    case AMP_ON_BLOCK_WAIT:
        snprintf(buf, len, "waits for the retry time when it is at most %lds away, else fails at once "
                           "(throttle.on_block = wait)", cfg->throttle.max_wait);
        break;
    default:
        snprintf(buf, len, "answered here with HTTP 429 and Retry-After, nothing sent "
                           "(throttle.on_block = respond)");
        break;
    }
}

static int load_throttle(struct loader *ld, const config_t *conf)
{
    static const char *const known[] = { "on_block", "max_wait", "state_file",
                                         "default_backoff", "lockout_hold", NULL };
    const config_setting_t *t = config_lookup(conf, "throttle");
    struct amp_config *cfg = ld->cfg;
    char *mode = NULL;

    cfg->throttle.on_block = AMP_ON_BLOCK_RESPOND;
    cfg->throttle.max_wait = 30;
    cfg->throttle.default_backoff = 30;
    cfg->throttle.lockout_hold = 0;
    if (!t)
        return 0;
    if (!config_setting_is_group(t))
        return fail(ld, t, "throttle must be a group: throttle: { on_block = \"respond\"; };");
    if (only_known(ld, t, "throttle", known) < 0)
        return -1;
    if (get_nonempty(ld, t, "on_block", "throttle", &mode) < 0)
        return -1;
    if (mode) {
        int ok = 1;
        if (strcmp(mode, "wait") == 0)
            cfg->throttle.on_block = AMP_ON_BLOCK_WAIT;
        else if (strcmp(mode, "fail") == 0)
            cfg->throttle.on_block = AMP_ON_BLOCK_FAIL;
        else
            ok = strcmp(mode, "respond") == 0;
        if (!ok)
            return fail(ld, config_setting_get_member(t, "on_block"),
                        "throttle.on_block must be \"respond\", \"fail\" or \"wait\"");
    }
    if (get_seconds(ld, t, "max_wait", &cfg->throttle.max_wait) < 0 ||
        get_seconds(ld, t, "default_backoff", &cfg->throttle.default_backoff) < 0 ||
        get_seconds(ld, t, "lockout_hold", &cfg->throttle.lockout_hold) < 0 ||
        get_nonempty(ld, t, "state_file", "throttle", &cfg->throttle.state_file) < 0)
        return -1;
    return 0;
}

static int load_top(struct loader *ld, const config_t *conf)
{
    static const char *const known[] = { "proxy", "routes", "throttle", NULL };
    const config_setting_t *root = config_root_setting(conf);

    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, config_setting_name(s)) == 0;
        if (!ok)
            return fail(ld, s, "unknown setting '%s' (expected proxy, routes, throttle)",
                        config_setting_name(s));
    }
    if (load_proxy(ld, conf) < 0 || load_routes(ld, conf) < 0 || load_throttle(ld, conf) < 0)
        return -1;
    return 0;
}

/* What a route takes in the arena, per byte of config text, with room to
 * spare: the first chunk then holds the whole config (untouched pages of a
 * mapping cost nothing). */
#define ARENA_PER_TEXT_BYTE 8

int amp_config_load_ex(const char *path, const struct amp_curl *c, int flags,
                       struct amp_config **out, char *err, size_t errlen)
{
    int on_heap = flags & AMP_CONFIG_ON_HEAP;
    struct amp_arena *scratch = amp_arena_new(0, on_heap), *arena = NULL;
    struct amp_config *cfg = NULL;
    struct amp_routelist routes;
    config_t conf;
    int rc = -1;

    *out = NULL;
    if (!scratch) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    /* Read here, never by libconfig from the path: only a regular file of
     * a sane size, and so are its includes (a folder would make libconfig's
     * scanner exit the process, a FIFO would hang it). Into memory of our
     * own: a large file's text leaves no hole in the heap either. */
    char *text = NULL;
    size_t len = 0;
    int read = amp_read_regular_in(scratch, path, AMP_MAX_CONFIG_BYTES, &text, &len, err, errlen);
    if (read < 0 || amp_check_includes(path, text, len, err, errlen) < 0) {
        amp_arena_free(scratch);
        return read == -2 ? -2 : -1;
    }
    /* The routes list read here when it is plain: libconfig then parses
     * the rest, the list emptied, and leaves little garbage behind. */
    char *rest = NULL;
    int plain = flags & AMP_CONFIG_LIBCONFIG_ONLY
                    ? 0
                    : amp_routelist_read(text, len, scratch, &routes, &rest);
    if (plain == 0 && (flags & AMP_CONFIG_PLAIN_ONLY)) {
        amp_arena_free(scratch);
        return 1;
    }
    if (plain > 0)
        text = rest;
    if (plain < 0 || !(arena = amp_arena_new(len * ARENA_PER_TEXT_BYTE, on_heap)) ||
        !(cfg = amp_arena_alloc(arena, sizeof(*cfg)))) {
        snprintf(err, errlen, "%s: out of memory", path);
        amp_arena_free(arena);
        amp_arena_free(scratch);
        return -1;
    }
    cfg->arena = arena;
    struct loader ld = { .path = path, .c = c, .cfg = cfg, .arena = arena, .scratch = scratch,
                         .routes = plain > 0 ? &routes : NULL, .err = err, .errlen = errlen };
    config_init(&conf);
    if (!config_read_string(&conf, text)) {
        snprintf(err, errlen, "%s:%d: %s", path, src_line(&ld, config_error_line(&conf)),
                 config_error_text(&conf));
    } else if ((cfg->path = amp_arena_strdup(arena, path)) && load_top(&ld, &conf) == 0) {
        rc = 0;
    }
    config_destroy(&conf);
    amp_catalog_close(ld.catalog);
    amp_arena_free(scratch);
    if (rc < 0) {
        amp_config_free(cfg);
        return ld.unopened ? -2 : -1;
    }
    *out = cfg;
    return 0;
}

int amp_config_load(const char *path, const struct amp_curl *c,
                    struct amp_config **out, char *err, size_t errlen)
{
    return amp_config_load_ex(path, c, 0, out, err, errlen);
}

void amp_config_free(struct amp_config *cfg)
{
    if (!cfg)
        return;
    /* A mapping is gone once unmapped; the heap fallback's chunks go back
     * to malloc as they are, so the key is cleared first either way. */
    if (cfg->api_key)
        wipe(cfg->api_key, strlen(cfg->api_key));
    if (cfg->key_line)
        wipe(cfg->key_line, strlen(cfg->key_line));
    amp_arena_free(cfg->arena);
}

int amp_config_discover(const char *prog, char *buf, size_t buflen)
{
    const char *xdg = amp_env("XDG_CONFIG_HOME");
    const char *home = amp_env("HOME");
    const char *names[] = { prog, "ampshim" };

    for (int n = 0; n < 2; n++) {
        if (!names[n] || !*names[n] || strchr(names[n], '/'))
            continue;
        for (int d = 0; d < 3; d++) {
            int len;
            if (d == 0 && xdg && xdg[0] == '/')
                len = snprintf(buf, buflen, "%s/ampshim/%s.cfg", xdg, names[n]);
            else if (d == 1 && home && home[0] == '/')
                len = snprintf(buf, buflen, "%s/.config/ampshim/%s.cfg", home, names[n]);
            else if (d == 2)
                len = snprintf(buf, buflen, "/etc/ampshim/%s.cfg", names[n]);
            else
                continue;
            if (len > 0 && (size_t)len < buflen && access(buf, F_OK) == 0)
                return 0;
        }
    }
    return -1;
}
