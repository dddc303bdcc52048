/* Loading and validating the configuration with libconfig. Every error
 * names the file and the line, and says what is wrong in a sentence. */
#define _GNU_SOURCE
#include "config.h"
#include "catalog.h"
#include "safefile.h"
#include "state.h"

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
    char *err;
    size_t errlen;
    struct amp_catalog *catalog; /* opened on the first route that names a provider */
};

static int fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    int n = s ? snprintf(ld->err, ld->errlen, "%s:%d: ", ld->path,
                         config_setting_source_line(s))
              : snprintf(ld->err, ld->errlen, "%s: ", ld->path);
    va_list ap;

    if (n < 0 || (size_t)n >= ld->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int note(struct amp_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int note(struct amp_config *cfg, const char *fmt, ...)
{
    char **v = realloc(cfg->notes, (cfg->nnotes + 1) * sizeof(*v));
    va_list ap;

    if (!v)
        return -1;
    cfg->notes = v;
    va_start(ap, fmt);
    int n = vasprintf(&v[cfg->nnotes], fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    cfg->nnotes++;
    return 0;
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

static int header_safe(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

/* Optional string member; 1 when present, 0 when absent, -1 on error. */
static int get_string(struct loader *ld, const config_setting_t *group,
                      const char *name, const char *where, char **out)
{
    const config_setting_t *s = config_setting_get_member(group, name);

    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail(ld, s, "%s.%s must be a string", where, name);
    const char *v = config_setting_get_string(s);
    if (!header_safe(v))
        return fail(ld, s, "%s.%s must not contain control characters", where, name);
    free(*out);
    *out = strdup(v);
    return *out ? 1 : fail(ld, s, "out of memory");
}

static int get_nonempty(struct loader *ld, const config_setting_t *group,
                        const char *name, const char *where, char **out)
{
    int rc = get_string(ld, group, name, where, out);

    if (rc == 1 && !**out) {
        free(*out);
        *out = NULL;
        return fail(ld, config_setting_get_member(group, name), "%s.%s must not be empty",
                    where, name);
    }
    return rc;
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

static int add_name(char ***v, size_t *n, const char *name)
{
    char **grown = realloc(*v, (*n + 1) * sizeof(*grown));

    if (!grown)
        return -1;
    *v = grown;
    if (!(grown[*n] = strdup(name)))
        return -1;
    (*n)++;
    return 0;
}

/* drop_headers = [ "Authorization", … ]: header names, appended to v. */
static int get_names(struct loader *ld, const config_setting_t *group, const char *where,
                     char ***v, size_t *n)
{
    const config_setting_t *s = config_setting_get_member(group, "drop_headers");

    if (!s)
        return 0;
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
        return fail(ld, s, "%s.drop_headers must be a list of header names: [ \"Authorization\" ]",
                    where);
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING ||
            !header_name(config_setting_get_string(e)))
            return fail(ld, e, "%s.drop_headers: each entry must be a header name, like \"Authorization\"",
                        where);
        if (add_name(v, n, config_setting_get_string(e)) < 0)
            return fail(ld, e, "out of memory");
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
static char *resolve_beside(const char *cfgpath, const char *file)
{
    char *out = NULL;
    const char *slash = strrchr(cfgpath, '/');

    if (file[0] == '/' || !slash)
        return strdup(file);
    if (asprintf(&out, "%.*s/%s", (int)(slash - cfgpath), cfgpath, file) < 0)
        return NULL;
    return out;
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

static int read_key_file(struct loader *ld, const config_setting_t *s, const char *file)
{
    char *path = resolve_beside(ld->path, file), *buf = NULL, why[512];
    size_t len = 0;
    const char *bad;

    if (!path)
        return fail(ld, s, "out of memory");
    if (amp_read_regular(path, 4 * AMP_MAX_KEY, &buf, &len, why, sizeof(why)) < 0) {
        fail(ld, s, "cannot read proxy.api_key_file %s", why);
        free(path);
        return -1;
    }
    if (asprintf(&ld->cfg->api_key_origin, "api_key_file %s", path) < 0)
        ld->cfg->api_key_origin = NULL;
    free(path);
    if ((bad = key_problem(buf, len))) {
        explicit_bzero(buf, len);
        free(buf);
        return fail(ld, s, "proxy.api_key_file '%s' %s", file, bad);
    }
    ld->cfg->api_key = buf;
    return 0;
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
    if (get_nonempty(ld, proxy, way, "proxy", &value) < 0)
        return -1;
    if (strcmp(way, "api_key") == 0) {
        const char *bad = key_problem(value, strlen(value));
        if (bad) {
            free(value);
            return fail(ld, given, "proxy.api_key %s", bad);
        }
        ld->cfg->api_key = value;
        ld->cfg->api_key_origin = strdup("api_key");
        return 0;
    }
    if (strcmp(way, "api_key_env") == 0) {
        const char *v = secure_getenv(value), *bad = NULL;
        char *key = NULL;
        int rc = 0;
        if (!v || !*v)
            rc = fail(ld, given, "proxy.api_key_env: environment variable %s is not set", value);
        else if (!(key = strdup(v)))
            rc = fail(ld, given, "out of memory");
        else if ((bad = key_problem(key, strlen(key))))
            rc = fail(ld, given, "proxy.api_key_env: %s %s", value, bad);
        else if (asprintf(&ld->cfg->api_key_origin, "api_key_env %s", value) < 0)
            rc = fail(ld, given, "out of memory");
        if (rc == 0)
            ld->cfg->api_key = key;
        else if (key)
            free(key);
        free(value);
        return rc;
    }
    int rc = read_key_file(ld, given, value);
    free(value);
    return rc;
}

static int load_proxy_url(struct loader *ld, const config_setting_t *proxy)
{
    const config_setting_t *s = config_setting_get_member(proxy, "url");
    char *url = NULL, *scheme = NULL, *host = NULL, *extra = NULL;
    int rc = -1;

    if (get_nonempty(ld, proxy, "url", "proxy", &url) <= 0) {
        free(url);
        return s ? -1 : fail(ld, proxy, "proxy.url is missing (https://proxy.withampersand.com)");
    }
    CURLU *u = ld->c->url();
    if (!u || ld->c->url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        ld->c->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        ld->c->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        fail(ld, s, "proxy.url '%s' is not a valid URL", url);
    } else if (strcmp(scheme, "https") != 0 &&
               !(strcmp(scheme, "http") == 0 && amp_host_is_loopback(host))) {
        fail(ld, s, "proxy.url '%s' must be https (plain http only to a loopback host)", url);
    } else if (ld->c->url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
               ld->c->url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
               ld->c->url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
        fail(ld, s, "proxy.url '%s' must not carry a user, a query or a fragment", url);
    } else {
        size_t len = strlen(url);
        while (len > 0 && url[len - 1] == '/')
            url[--len] = '\0';
        ld->cfg->proxy_url = url;
        ld->cfg->proxy_plain_http = strcmp(scheme, "http") == 0;
        url = NULL;
        rc = 0;
    }
    if (u) {
        ld->c->free(scheme);
        ld->c->free(host);
        ld->c->free(extra);
        ld->c->url_cleanup(u);
    }
    free(url);
    return rc;
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
    if (load_key(ld, proxy) < 0 ||
        get_names(ld, proxy, "proxy", &cfg->drop, &cfg->ndrop) < 0)
        return -1;
    if (get_string(ld, proxy, "rate_limiter_mode", "proxy", &cfg->rate_limiter_mode) < 0)
        return -1;
    /* Throttle unless told otherwise: Ampersand then says when to retry. */
    if (!config_setting_get_member(proxy, "rate_limiter_mode") &&
        !(cfg->rate_limiter_mode = strdup("throttle")))
        return fail(ld, proxy, "out of memory");
    if (cfg->rate_limiter_mode && !*cfg->rate_limiter_mode) {
        free(cfg->rate_limiter_mode);
        cfg->rate_limiter_mode = NULL;
    } else if (cfg->rate_limiter_mode && strcmp(cfg->rate_limiter_mode, "throttle") != 0) {
        return fail(ld, config_setting_get_member(proxy, "rate_limiter_mode"),
                    "proxy.rate_limiter_mode must be \"throttle\" or \"\"");
    }
    return 0;
}

static int add_header(struct amp_route *r, const char *name, const char *value)
{
    char **v = realloc(r->headers, (r->nheaders + 1) * sizeof(*v));

    if (!v)
        return -1;
    r->headers = v;
    /* "name: value", without printf: a config may hold thousands of routes. */
    size_t nl = strlen(name), vl = strlen(value);
    char *line = malloc(nl + vl + 3);
    if (!line)
        return -1;
    memcpy(line, name, nl);
    memcpy(line + nl, ": ", 2);
    memcpy(line + nl + 2, value, vl + 1);
    v[r->nheaders++] = line;
    return 0;
}

static int route_headers(struct amp_config *cfg, struct amp_route *r)
{
    int rc = add_header(r, "x-amp-proxy-version", "1") |
             add_header(r, "x-amp-project-id", cfg->project_id) |
             add_header(r, "x-api-key", cfg->api_key);
    if (r->installation_id)
        rc |= add_header(r, "x-amp-installation-id", r->installation_id);
    else
        rc |= add_header(r, "x-amp-integration-name", r->integration_name) |
              add_header(r, "x-amp-group-ref", r->group_ref);
    if (cfg->rate_limiter_mode)
        rc |= add_header(r, "X-Amp-Rate-Limiter-Mode", cfg->rate_limiter_mode);
    return rc;
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
 * segment. 1 and *base when the route names a provider, 0 when not. */
static int provider_base(struct loader *ld, const config_setting_t *s, struct amp_route *r,
                         char names[][64], size_t *nnames, char **base)
{
    const config_setting_t *ps = config_setting_get_member(s, "provider");
    struct amp_provider p;
    char err[512], near[64];

    *nnames = 0;
    if (!ps)
        return 0;
    if (get_nonempty(ld, s, "provider", "route", &r->provider) < 0)
        return -1;
    if (!ld->catalog && !(ld->catalog = amp_catalog_open(err, sizeof(err))))
        return fail(ld, ps, "%s", err);
    if (amp_catalog_find(ld->catalog, r->provider, &p, near, sizeof(near)) < 0)
        return fail(ld, ps, "unknown provider '%s'%s%s%s (the names are those of Ampersand's catalog, %s)",
                    r->provider, near[0] ? ": did you mean '" : "", near, near[0] ? "'?" : "",
                    amp_catalog_path());
    if (!p.proxy)
        return fail(ld, ps, "the Ampersand proxy does not support provider '%s' (%s)", p.name,
                    p.display_name);
    if (strncmp(p.base_url, "https://", 8) != 0 && strncmp(p.base_url, "http://", 7) != 0)
        return fail(ld, ps, "provider '%s' has no base URL a route can use ('%s' in the catalog): "
                            "give base_url instead", p.name, p.base_url);
    *nnames = placeholders(p.base_url, names);
    char url[1024];
    size_t used = 0;
    for (const char *t = p.base_url; *t && used < sizeof(url) - 1;) {
        const char *end;
        if (strncmp(t, "{{.", 3) == 0 && (end = strstr(t, "}}"))) {
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(end - t - 3), t + 3);
            const config_setting_t *vs = config_setting_get_member(s, name);
            const char *v = NULL;
            if (vs && (config_setting_type(vs) != CONFIG_TYPE_STRING ||
                       !placeholder_value(v = config_setting_get_string(vs)) || !*v))
                return fail(ld, vs, "route %s must be a host name or a path segment, like \"acme\"",
                            name);
            /* Unfilled, a placeholder must be a whole label or segment, and
             * not the whole host: that would match any one-label host. */
            int whole_host = t == p.base_url + (strncmp(p.base_url, "https", 5) == 0 ? 8 : 7) &&
                             (end[2] == '\0' || end[2] == '/');
            if (!v && whole_host)
                return fail(ld, ps, "set %s: provider '%s' has the base URL %s, whose host is all {{.%s}}",
                            name, p.name, p.base_url, name);
            used += (size_t)snprintf(url + used, sizeof(url) - used, "%s",
                                     v ? v : "*");
            if (!v && ((t > p.base_url && !strchr("./", t[-1])) || !strchr("./", end[2] ? end[2] : '/')))
                return fail(ld, ps, "set %s: in provider %s's base URL %s it is part of a host label",
                            name, p.name, p.base_url);
            t = end + 2;
        } else {
            url[used++] = *t++;
        }
    }
    url[used] = '\0';
    if (!(*base = strdup(url)))
        return fail(ld, ps, "out of memory");
    return 1;
}

static int load_route(struct loader *ld, const config_setting_t *s, struct amp_route *r)
{
    const char *known[8 + MAX_PLACEHOLDERS] = { "base_url", "installation_id", "integration_name",
                                                "group_ref", "drop_headers", "provider", NULL };
    char *base = NULL, msg[512], names[MAX_PLACEHOLDERS][64];
    size_t nnames = 0;
    int rc;

    r->line = config_setting_source_line(s);
    if (!config_setting_is_group(s))
        return fail(ld, s, "each route is a group: { base_url = \"…\"; installation_id = \"…\"; }");
    int by_name = provider_base(ld, s, r, names, &nnames, &base);
    if (by_name < 0)
        return -1;
    for (size_t i = 0; i < nnames; i++)
        known[6 + i] = names[i];
    if (only_known(ld, s, r->provider ? "this provider's route" : "a route", known) < 0) {
        free(base);
        return -1;
    }
    if (config_setting_get_member(s, "base_url")) {
        /* base_url wins when both are given. */
        if (by_name && note(ld->cfg, "%s:%d: base_url is given, so provider %s's base URL is not used",
                            ld->path, r->line, r->provider) < 0) {
            free(base);
            return fail(ld, s, "out of memory");
        }
        free(base);
        base = NULL;
        rc = get_nonempty(ld, s, "base_url", "route", &base);
        if (rc < 0)
            return -1;
    } else if (!by_name) {
        return fail(ld, s, "route has no base_url (or provider)");
    }
    rc = amp_route_compile(r, base, ld->c, msg, sizeof(msg));
    free(base);
    if (rc < 0)
        return fail(ld, config_setting_get_member(s, "base_url"), "route base_url %s", msg);
    if (get_nonempty(ld, s, "installation_id", "route", &r->installation_id) < 0 ||
        get_nonempty(ld, s, "integration_name", "route", &r->integration_name) < 0 ||
        get_nonempty(ld, s, "group_ref", "route", &r->group_ref) < 0)
        return -1;
    for (size_t i = 0; i < ld->cfg->ndrop; i++)
        if (add_name(&r->drop, &r->ndrop, ld->cfg->drop[i]) < 0)
            return fail(ld, s, "out of memory");
    if (get_names(ld, s, "route", &r->drop, &r->ndrop) < 0)
        return -1;
    if (r->integration_name && !valid_integration_name(r->integration_name))
        return fail(ld, config_setting_get_member(s, "integration_name"),
                    "route integration_name '%s' must be lowercase letters, digits, '-' or '_' (at most 64)",
                    r->integration_name);
    if (r->installation_id) {
        if ((r->integration_name || r->group_ref) &&
            note(ld->cfg, "%s:%d: route %s: installation_id is sent; integration_name and group_ref are ignored",
                 ld->path, r->line, r->base_url) < 0)
            return fail(ld, s, "out of memory");
        rc = asprintf(&r->ident, "installation %s", r->installation_id);
    } else if (r->integration_name && r->group_ref) {
        rc = asprintf(&r->ident, "integration %s group %s", r->integration_name, r->group_ref);
    } else {
        return fail(ld, s, "route %s needs installation_id, or both integration_name and group_ref",
                    r->base_url);
    }
    r->key = r->installation_id
                 ? amp_block_key(ld->cfg->proxy_url, ld->cfg->project_id, r->installation_id, NULL)
                 : amp_block_key(ld->cfg->proxy_url, ld->cfg->project_id, r->integration_name,
                                 r->group_ref);
    if (rc < 0 || route_headers(ld->cfg, r) < 0)
        return fail(ld, s, "out of memory");
    return 0;
}

static int load_routes(struct loader *ld, const config_t *conf)
{
    const config_setting_t *list = config_lookup(conf, "routes");
    struct amp_routes *rs = &ld->cfg->routes;

    if (!list)
        return fail(ld, NULL, "no 'routes' list: say which provider URLs go through the proxy");
    if (!config_setting_is_list(list))
        return fail(ld, list, "routes must be a list: routes = ( { … }, { … } );");
    int n = config_setting_length(list);
    rs->v = calloc((size_t)n + 1, sizeof(*rs->v));
    if (!rs->v)
        return fail(ld, list, "out of memory");
    for (int i = 0; i < n; i++) {
        rs->n++; /* counted before loading, so a half-built route is freed too */
        if (load_route(ld, config_setting_get_elem(list, (unsigned)i), &rs->v[i]) < 0)
            return -1;
    }
    if (n == 0 && note(ld->cfg, "%s: routes is empty: nothing will be routed", ld->path) < 0)
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
        free(mode);
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

int amp_config_load(const char *path, const struct amp_curl *c,
                    struct amp_config **out, char *err, size_t errlen)
{
    struct amp_config *cfg = calloc(1, sizeof(*cfg));
    struct loader ld = { path, c, cfg, err, errlen, NULL };
    config_t conf;
    int rc = -1;

    *out = NULL;
    if (!cfg) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    /* Read here, never by libconfig from the path: only a regular file of
     * a sane size, and so are its includes (a folder would make libconfig's
     * scanner exit the process, a FIFO would hang it). */
    char *text = NULL;
    size_t len = 0;
    FILE *f = NULL;
    if (amp_read_regular(path, AMP_MAX_CONFIG_BYTES, &text, &len, err, errlen) < 0 ||
        amp_check_includes(path, text, len, err, errlen) < 0 || !(f = fmemopen(text, len ? len : 1, "r"))) {
        if (text && !f && !*err)
            snprintf(err, errlen, "%s: out of memory", path);
        free(text);
        free(cfg);
        return -1;
    }
    config_init(&conf);
    if (!config_read(&conf, f)) {
        snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&conf),
                 config_error_text(&conf));
    } else if ((cfg->path = strdup(path)) && load_top(&ld, &conf) == 0) {
        rc = 0;
    }
    config_destroy(&conf);
    fclose(f);
    free(text);
    amp_catalog_close(ld.catalog);
    if (rc < 0) {
        amp_config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

void amp_config_free(struct amp_config *cfg)
{
    if (!cfg)
        return;
    amp_routes_free(&cfg->routes);
    if (cfg->api_key)
        explicit_bzero(cfg->api_key, strlen(cfg->api_key));
    free(cfg->api_key);
    free(cfg->api_key_origin);
    free(cfg->path);
    free(cfg->proxy_url);
    free(cfg->project_id);
    free(cfg->rate_limiter_mode);
    free(cfg->throttle.state_file);
    for (size_t i = 0; i < cfg->ndrop; i++)
        free(cfg->drop[i]);
    free(cfg->drop);
    for (size_t i = 0; i < cfg->nnotes; i++)
        free(cfg->notes[i]);
    free(cfg->notes);
    free(cfg);
}

int amp_config_discover(const char *prog, char *buf, size_t buflen)
{
    const char *xdg = secure_getenv("XDG_CONFIG_HOME");
    const char *home = secure_getenv("HOME");
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
