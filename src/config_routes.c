/* The routes of a config, and the providers they name: each route checked
 * (its base URL, or its provider's from the catalog with the placeholders
 * filled), compiled, given its identity, its rate-limit key and the
 * headers it is sent with; the list indexed by host. */
#define _GNU_SOURCE
#include "config_load.h"
#include "arena.h"
#include "catalog.h"
#include "headers.h"
#include "state.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The headers every route sends, and the key's, made once. */
static int shared_headers(struct loader *ld)
{
    struct amp_config *cfg = ld->cfg;
    struct amp_arena *a = ld->arena;

    ld->h_version = amp_header_make(a, AMP_HDR_PROXY_VERSION, "1");
    ld->h_project = amp_header_make(a, AMP_HDR_PROJECT_ID, cfg->project_id);
    cfg->key_header = amp_header_make(a, AMP_HDR_API_KEY, cfg->api_key);
    ld->h_mode = cfg->rate_limiter_mode
                     ? amp_header_make(a, AMP_HDR_RATE_LIMITER_MODE, cfg->rate_limiter_mode)
                     : NULL;
    return ld->h_version && ld->h_project && cfg->key_header &&
                   (ld->h_mode || !cfg->rate_limiter_mode)
               ? 0
               : -1;
}

static int route_headers(struct loader *ld, struct amp_route *r)
{
    struct amp_arena *a = ld->arena;
    const struct amp_header **v = amp_arena_alloc(a, 6 * sizeof(*v));
    size_t n = 0;

    if (!v)
        return -1;
    v[n++] = ld->h_version;
    v[n++] = ld->h_project;
    v[n++] = ld->cfg->key_header;
    if (r->installation_id) {
        v[n] = amp_header_make(a, AMP_HDR_INSTALLATION_ID, r->installation_id);
        if (!v[n++])
            return -1;
    } else {
        v[n] = amp_header_make(a, AMP_HDR_INTEGRATION_NAME, r->integration_name);
        if (!v[n++])
            return -1;
        v[n] = amp_header_make(a, AMP_HDR_GROUP_REF, r->group_ref);
        if (!v[n++])
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

/* A route's settings, found in one pass over it. */
struct members {
    const struct amp_rsetting *base_url, *installation_id, *integration_name, *group_ref,
        *drop_headers, *provider;
    /* The others in their order: the provider's placeholders, or unknown. */
    const struct amp_rsetting *other[AMP_MAX_PLACEHOLDERS + 1];
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
        else if (m->nother < AMP_MAX_PLACEHOLDERS + 1)
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
    if (amp_cfg_take_nonempty(ld, ps, "provider", "route", &r->provider) < 0)
        return -1;
    if (!r->provider)
        return 0; /* not possible: take_nonempty fails or sets it */
    if (!ld->catalog) {
        ld->catalog = amp_catalog_open(err, sizeof(err));
        if (!ld->catalog)
            return amp_cfg_fail_at(ld, ps->line, "%s", err);
    }
    if (amp_catalog_find(ld->catalog, r->provider, &p, near, sizeof(near)) < 0)
        return amp_cfg_fail_at(ld, ps->line,
                    "unknown provider '%s'%s%s%s (the names of Ampersand's catalog, %s: "
                    "`ampshim providers` lists them)",
                    r->provider, near[0] ? "; did you mean '" : "", near, near[0] ? "'?" : "",
                    amp_catalog_path());
    if (!p.proxy)
        return amp_cfg_fail_at(ld, ps->line, "the Ampersand proxy does not support provider '%s' (%s)",
                    p.name, p.display_name);
    if (strncmp(p.base_url, "https://", 8) != 0 && strncmp(p.base_url, "http://", 7) != 0)
        return amp_cfg_fail_at(ld, ps->line,
                    "provider '%s' has no base URL a route can use ('%s' in the catalog): "
                    "give base_url instead", p.name, p.base_url);
    *nnames = amp_catalog_placeholders(p.base_url, names, AMP_MAX_PLACEHOLDERS);
    size_t used = 0;
    for (const char *t = p.base_url; *t && used < urllen - 1;) {
        const char *end = NULL;
        if (strncmp(t, "{{.", 3) == 0)
            end = strstr(t, "}}");
        if (end) {
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(end - t - 3), t + 3);
            const struct amp_rsetting *vs = setting_named(d, name);
            const char *v = NULL;
            if (vs && vs->type == CONFIG_TYPE_STRING)
                v = vs->str;
            if (vs && (vs->type != CONFIG_TYPE_STRING || !placeholder_value(v) || !*v))
                return amp_cfg_fail_at(ld, vs->line,
                               "route %s must be a host name or a path segment, like \"acme\"", name);
            /* Unfilled, a placeholder must be a whole label or segment, and
             * not the whole host: that would match any one-label host. */
            int whole_host = t == p.base_url + (strncmp(p.base_url, "https", 5) == 0 ? 8 : 7) &&
                             (end[2] == '\0' || end[2] == '/');
            if (!v && whole_host)
                return amp_cfg_fail_at(ld, ps->line,
                            "set %s: provider '%s' has the base URL %s, whose host is all {{.%s}}",
                            name, p.name, p.base_url, name);
            used += (size_t)snprintf(url + used, urllen - used, "%s", v ? v : "*");
            if (!v && ((t > p.base_url && !strchr("./", t[-1])) || !strchr("./", end[2] ? end[2] : '/')))
                return amp_cfg_fail_at(ld, ps->line,
                            "set %s: in provider %s's base URL %s it is part of a host label",
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
 * not silently leave a route without one), the nearest valid name
 * suggested (a misspelt placeholder too). */
static int only_route_settings(struct loader *ld, const struct members *m, char names[][64],
                               size_t nnames)
{
    static const char *const own[] = { "base_url", "provider", "installation_id", "integration_name",
                                       "group_ref", "drop_headers" };
    const char *known[sizeof(own) / sizeof(own[0]) + AMP_MAX_PLACEHOLDERS];
    size_t nknown = 0;

    for (size_t i = 0; i < m->nother; i++) {
        const char *name = m->other[i]->name;
        int ok = 0;
        for (size_t k = 0; k < nnames && !ok; k++)
            ok = strcmp(names[k], name) == 0;
        if (ok)
            continue;
        for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
            known[nknown++] = own[k];
        for (size_t k = 0; k < nnames; k++)
            known[nknown++] = names[k];
        return amp_cfg_unknown_at(ld, m->other[i]->line, name, known, nknown);
    }
    return 0;
}

static int load_route(struct loader *ld, const struct amp_rdef *d, struct amp_route *r)
{
    char provider_url[1024], msg[512], names[AMP_MAX_PLACEHOLDERS][64];
    const char *base = NULL;
    size_t nnames = 0;
    struct members m;
    int rc;

    r->line = d->line;
    if (!d->is_group)
        return amp_cfg_fail_at(ld, d->line,
                    "each route is a group: { base_url = \"…\"; installation_id = \"…\"; }");
    find_members(d, &m);
    int by_name = provider_base(ld, d, &m, r, names, &nnames, provider_url, sizeof(provider_url));
    if (by_name < 0)
        return -1;
    if (by_name)
        base = provider_url;
    if (only_route_settings(ld, &m, names, nnames) < 0)
        return -1;
    if (m.base_url) {
        /* base_url wins when both are given. */
        if (by_name &&
            amp_cfg_note(ld, "%s:%d: base_url is given, so provider %s's base URL is not used",
                            ld->path, r->line, r->provider) < 0)
            return amp_cfg_fail_at(ld, d->line, "out of memory");
        char *given = NULL;
        if (amp_cfg_take_nonempty(ld, m.base_url, "base_url", "route", &given) < 0)
            return -1;
        base = given;
    } else if (!by_name) {
        return amp_cfg_fail_at(ld, d->line, "route has no base_url (or provider)");
    }
    if (amp_route_compile_in(ld->arena, r, base ? base : "", ld->c, msg, sizeof(msg)) < 0)
        return amp_cfg_fail_at(ld, m.base_url ? m.base_url->line : -1, "route base_url %s", msg);
    if (amp_cfg_take_nonempty(ld, m.installation_id, "installation_id", "route", &r->installation_id) < 0 ||
        amp_cfg_take_nonempty(ld, m.integration_name, "integration_name", "route",
                              &r->integration_name) < 0 ||
        amp_cfg_take_nonempty(ld, m.group_ref, "group_ref", "route", &r->group_ref) < 0)
        return -1;
    /* The proxy's drop_headers, then the route's own; shared when it has none. */
    r->drop = ld->cfg->drop;
    r->ndrop = ld->cfg->ndrop;
    if (amp_cfg_take_names(ld, m.drop_headers, "route", &r->drop, &r->ndrop) < 0)
        return -1;
    if (r->integration_name && !valid_integration_name(r->integration_name))
        return amp_cfg_fail_at(ld, m.integration_name->line,
                    "route integration_name '%s' must be lowercase letters, digits, '-' or '_' (at most 64)",
                    r->integration_name);
    if (r->installation_id) {
        if ((r->integration_name || r->group_ref) &&
            amp_cfg_note(ld,
                 "%s:%d: route %s: installation_id is sent; integration_name and group_ref are ignored",
                 ld->path, r->line, r->base_url) < 0)
            return amp_cfg_fail_at(ld, d->line, "out of memory");
        r->ident = amp_cfg_join(ld->arena, "installation ", r->installation_id, NULL);
    } else if (r->integration_name && r->group_ref) {
        r->ident = amp_cfg_join(ld->arena, "integration ", r->integration_name, " group ", r->group_ref,
                        NULL);
    } else {
        return amp_cfg_fail_at(ld, d->line,
                    "route %s needs installation_id, or both integration_name and group_ref",
                    r->base_url);
    }
    r->key = r->installation_id
                 ? amp_block_key(ld->cfg->proxy_url, ld->cfg->project_id, r->installation_id, NULL)
                 : amp_block_key(ld->cfg->proxy_url, ld->cfg->project_id, r->integration_name,
                                 r->group_ref);
    rc = r->ident ? route_headers(ld, r) : -1;
    if (rc < 0)
        return amp_cfg_fail_at(ld, d->line, "out of memory");
    return 0;
}

int amp_cfg_load_routes(struct loader *ld, const config_t *conf)
{
    const config_setting_t *list = config_lookup(conf, "routes");
    struct amp_routes *rs = &ld->cfg->routes;
    struct amp_routelist parsed;
    const struct amp_routelist *routes = ld->routes;

    if (!list)
        return amp_cfg_fail(ld, NULL, "no 'routes' list: say which provider URLs go through the proxy");
    if (!config_setting_is_list(list))
        return amp_cfg_fail(ld, list, "routes must be a list: routes = ( { … }, { … } );");
    /* Read from the text (libconfig saw it empty), or libconfig's. */
    if (!routes && amp_routelist_from(list, ld->scratch, &parsed) < 0)
        return amp_cfg_fail(ld, list, "out of memory");
    if (!routes)
        routes = &parsed;
    size_t n = routes->n;
    rs->arena = ld->arena;
    rs->v = amp_arena_alloc(ld->arena, (n + 1) * sizeof(*rs->v));
    if (!rs->v || shared_headers(ld) < 0)
        return amp_cfg_fail(ld, list, "out of memory");
    for (size_t i = 0; i < n; i++) {
        rs->n++;
        if (load_route(ld, &routes->v[i], &rs->v[i]) < 0)
            return -1;
    }
    if (n == 0 && amp_cfg_note(ld, "%s: routes is empty: nothing will be routed", ld->path) < 0)
        return amp_cfg_fail(ld, list, "out of memory");
    if (amp_routes_index(rs) < 0)
        return amp_cfg_fail(ld, list, "out of memory");
    return 0;
}
