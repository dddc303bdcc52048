/* A route's host one or two edits from a catalog host (api.hubapi.cmo for
 * api.hubapi.com) routes nothing, and nothing says why: `ampshim check`
 * warns. The launcher's only: the library, which loads the same config in
 * every process, never scans the catalog (docs/cost.md). */
#define _GNU_SOURCE
#include "nearhost.h"
#include "catalog.h"
#include "config.h"
#include "suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 32
#define HOST_MAX 256

/* A host cut into its labels; NULL for a placeholder. */
struct host {
    char text[HOST_MAX];
    const char *label[MAX_LABELS];
    size_t nlabels;
};

/* The catalog's hosts, with the provider each is first the host of. */
struct known {
    struct host h;
    char provider[64];
};

/* text (len bytes, lower-cased) cut at its dots; 0, or -1 when it does not
 * fit. A label "*" is a placeholder. */
static int cut(const char *text, size_t len, struct host *h)
{
    if (len == 0 || len >= sizeof(h->text))
        return -1;
    for (size_t i = 0; i < len; i++)
        h->text[i] = (char)tolower((unsigned char)text[i]);
    h->text[len] = '\0';
    h->nlabels = 0;
    for (char *p = h->text; p;) {
        char *dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        if (h->nlabels == MAX_LABELS)
            return -1;
        h->label[h->nlabels++] = strcmp(p, "*") == 0 ? NULL : p;
        p = dot ? dot + 1 : NULL;
    }
    return 0;
}

/* The host of a catalog base URL ("https://{{.workspace}}.zendesk.com/api"),
 * each placeholder written "*" (its name begins with a dot). */
static int catalog_host(const char *base_url, struct host *h)
{
    const char *p = strstr(base_url, "://");
    char buf[HOST_MAX];
    size_t len = 0;

    if (!p)
        return -1;
    for (p += 3; *p && !strchr("/:?#", *p) && len < sizeof(buf); len++) {
        const char *end = strncmp(p, "{{.", 3) == 0 ? strstr(p, "}}") : NULL;
        buf[len] = end ? '*' : *p;
        p = end ? end + 2 : p + 1;
    }
    return len < sizeof(buf) ? cut(buf, len, h) : -1;
}

/* labels joined with dots into out; a placeholder as fill's label at the
 * same place when fill has as many labels, else "*". */
static size_t join(const struct host *h, const struct host *fill, char *out, size_t outlen)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < h->nlabels; i++) {
        const char *l = h->label[i];
        if (!l)
            l = fill && fill->nlabels == h->nlabels && fill->label[i] ? fill->label[i] : "*";
        int n = snprintf(out + used, outlen - used, "%s%s", i ? "." : "", l);
        if (n < 0 || (size_t)n >= outlen - used)
            return outlen;
        used += (size_t)n;
    }
    return used;
}

/* The route's host as it would compare with the catalog host k: where k
 * has a placeholder and both have as many labels, the route's label is
 * one too. */
static size_t masked(const struct host *route, const struct host *k, char *out, size_t outlen)
{
    struct host m = *route;

    if (route->nlabels == k->nlabels)
        for (size_t i = 0; i < k->nlabels; i++)
            if (!k->label[i])
                m.label[i] = NULL;
    return join(&m, NULL, out, outlen);
}

static size_t load_known(struct amp_catalog *cat, struct known **out)
{
    size_t n = amp_catalog_count(cat), got = 0;
    struct known *v = calloc(n ? n : 1, sizeof(*v));
    struct amp_provider p;

    for (size_t i = 0; v && i < n; i++) {
        if (amp_catalog_entry(cat, i, &p) < 0 || catalog_host(p.base_url, &v[got].h) < 0)
            continue;
        snprintf(v[got].provider, sizeof(v[got].provider), "%s", p.name);
        got++;
    }
    *out = v;
    return got;
}

/* The catalog host nearest to route's, within two edits (one for a short
 * host); NULL when one is the same or none is near. */
static const struct known *nearest(const struct host *route, const struct known *v, size_t n,
                                   size_t *dist)
{
    const struct known *best = NULL;
    char a[HOST_MAX + 8], b[HOST_MAX + 8], best_text[HOST_MAX + 8] = "";

    *dist = 3;
    for (size_t i = 0; i < n; i++) {
        size_t alen = masked(route, &v[i].h, a, sizeof(a)), blen = join(&v[i].h, NULL, b, sizeof(b));
        if (alen >= sizeof(a) || blen >= sizeof(b))
            continue;
        size_t max = amp_suggest_reach(blen) < 2 ? 1 : 2;
        size_t d = amp_edit_distance(a, alen, b, blen, max);
        if (d == 0 && alen == blen && memcmp(a, b, alen) == 0)
            return NULL; /* a host of the catalog's */
        if (d > max)
            continue;
        if (!best || d < *dist || (d == *dist && strcmp(b, best_text) < 0)) {
            best = &v[i];
            *dist = d;
            snprintf(best_text, sizeof(best_text), "%s", b);
        }
    }
    return best;
}

int amp_near_hosts(const struct amp_config *cfg, void (*warn)(const char *msg))
{
    char err[512];
    struct amp_catalog *cat = amp_catalog_open(err, sizeof(err));
    struct known *v = NULL;
    int said = 0;

    if (!cat)
        return 0;
    size_t n = load_known(cat, &v);
    amp_catalog_close(cat);
    for (size_t i = 0; v && i < cfg->routes.n; i++) {
        const struct amp_route *r = &cfg->routes.v[i];
        struct host h;
        size_t dist;
        char name[HOST_MAX + 8], near[HOST_MAX + 8], *msg = NULL;
        if (r->nlabels == 0 || r->nlabels > MAX_LABELS)
            continue;
        h.nlabels = r->nlabels;
        for (size_t k = 0; k < r->nlabels; k++)
            h.label[k] = r->labels[k];
        const struct known *k = nearest(&h, v, n, &dist);
        if (!k || join(&h, NULL, name, sizeof(name)) >= sizeof(name))
            continue;
        join(&k->h, &h, near, sizeof(near));
        if (asprintf(&msg, "%s:%d: base_url host %s is not in the provider catalog; did you mean %s (%s)?",
                     cfg->path, r->line, name, near, k->provider) < 0)
            continue;
        warn(msg);
        free(msg);
        said++;
    }
    free(v);
    return said;
}
