/* Route matching and rewriting. A route's base URL is compiled once into
 * labels and segments (cut by urlsplit.c when it is plain, else parsed
 * with libcurl's URL API); a URL is parsed with libcurl's URL API (never
 * by hand) and looked up through an index keyed by the host suffix that
 * follows the route's last placeholder (routeindex.c), so matching costs
 * a few hash look-ups whatever the number of routes. */
#define _GNU_SOURCE
#include "route.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "grow.h"
#include "hash.h"
#include "routeindex.h"
#include "urlsplit.h"

/* Declared by hash.h for every user of uthash in the library. */
__thread __attribute__((tls_model("initial-exec"))) int amp_hash_oom;

/* What a placeholder becomes before the base URL is parsed: a valid DNS
 * label and path segment that no real URL uses. */
#define PLACEHOLDER "xampshimphx"
#define PLACEHOLDER_LEN (sizeof(PLACEHOLDER) - 1)
#define MAX_LABELS 64

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static long default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 ? 443 : 80;
}

/* The length of in with each `*` and `{{.name}}` replaced by PLACEHOLDER,
 * or -1 with a sentence in err for a malformed placeholder. */
static long substituted_length(const char *in, char *err, size_t errlen)
{
    size_t len = 0;

    for (const char *p = in;;) {
        size_t plain = strcspn(p, "*{");
        len += plain;
        p += plain;
        if (!*p)
            return (long)len;
        if (*p == '*') {
            len += PLACEHOLDER_LEN;
            p++;
        } else if (p[1] == '{') {
            const char *end = strstr(p, "}}");
            if (!end || p[2] != '.' || end == p + 3) {
                snprintf(err, errlen, "placeholders are written {{.name}}");
                return -1;
            }
            len += PLACEHOLDER_LEN;
            p = end + 2;
        } else {
            len++;
            p++;
        }
    }
}

/* in into out (room for substituted_length + 1 bytes), placeholders replaced. */
static void substitute_placeholders(const char *in, char *out)
{
    for (const char *p = in;;) {
        size_t plain = strcspn(p, "*{");
        memcpy(out, p, plain);
        out += plain;
        p += plain;
        if (!*p)
            break;
        if (*p == '*' || p[1] == '{') {
            memcpy(out, PLACEHOLDER, PLACEHOLDER_LEN);
            out += PLACEHOLDER_LEN;
            p = *p == '*' ? p + 1 : strstr(p, "}}") + 2;
        } else {
            *out++ = *p++;
        }
    }
    *out = '\0';
}

/* host (len bytes) lowered into out, without a trailing dot; 1 when it
 * could be a DNS name (labels of at most 63 characters, 253 in all, as RFC
 * 1035 has them), else 0 with a sentence in err. */
static int lower_host(const char *host, size_t len, char *out, char *err, size_t errlen,
                      const char *base_url)
{
    /* tolower's table, as a request's host is lowered (parse), looked up once. */
    const int32_t *lowered = *__ctype_tolower_loc();
    size_t label = 0;

    if (len > 1 && host[len - 1] == '.')
        len--;
    if (len > 253) {
        snprintf(err, errlen, "'%.80s...': a host name has at most 253 characters", base_url);
        return 0;
    }
    for (size_t i = 0;; i++) {
        unsigned char ch = i < len ? (unsigned char)host[i] : '\0';
        if (ch == '.' || !ch) {
            if (label == 0) {
                snprintf(err, errlen, "'%.80s': an empty host label never matches", base_url);
                return 0;
            }
            if (label > 63) {
                snprintf(err, errlen, "'%.80s...': a host label has at most 63 characters",
                         base_url);
                return 0;
            }
            label = 0;
            out[i] = (char)ch;
            if (!ch)
                return 1;
        } else {
            label++;
            out[i] = (char)lowered[ch];
        }
    }
}

/* The parts of a base URL (placeholders substituted): scheme, host, path
 * and port as libcurl's URL API gives them. */
struct parts {
    const char *scheme;
    const char *host, *path;
    size_t host_len, path_len;
    long port;
};

/* Cut sub into *p, plainly when it is plain (urlsplit.h), else through
 * libcurl, whose strings owned[] keeps for the caller to free. -1 with a
 * sentence in err. */
static int base_parts(const char *sub, const char *base_url, const struct amp_curl *c,
                      struct parts *p, char *owned[3], char *err, size_t errlen)
{
    struct amp_url_split s;

    if (amp_url_split(sub, &s)) {
        *p = (struct parts){ s.scheme, s.host, s.path, s.host_len, s.path_len, s.port };
        return 0;
    }
    char *scheme = NULL, *host = NULL, *path = NULL, *part = NULL, *port = NULL;
    CURLU *u = c->url();
    int rc = -1;
    if (!u || c->url_set(u, CURLUPART_URL, sub, 0) != CURLUE_OK) {
        snprintf(err, errlen, "'%s' is not a valid URL", base_url);
        goto out;
    }
    c->url_get(u, CURLUPART_SCHEME, &scheme, 0);
    owned[0] = scheme;
    if (!scheme || (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
        snprintf(err, errlen, "'%s' must be an http or https URL", base_url);
        goto out;
    }
    static const struct { CURLUPart part; const char *what; } forbidden[] = {
        { CURLUPART_USER, "a user name" }, { CURLUPART_PASSWORD, "a password" },
        { CURLUPART_QUERY, "a query" }, { CURLUPART_FRAGMENT, "a fragment" },
    };
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        if (c->url_get(u, forbidden[i].part, &part, 0) == CURLUE_OK) {
            c->free(part);
            snprintf(err, errlen, "'%s' must not contain %s", base_url, forbidden[i].what);
            goto out;
        }
    }
    if (c->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(err, errlen, "'%s' has no host", base_url);
        goto out;
    }
    owned[1] = host;
    c->url_get(u, CURLUPART_PATH, &path, 0);
    owned[2] = path;
    p->scheme = strcmp(scheme, "https") == 0 ? "https" : "http";
    p->host = host;
    p->host_len = strlen(host);
    p->path = path ? path : "";
    p->path_len = strlen(p->path);
    p->port = default_port(p->scheme);
    if (c->url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK && port) {
        p->port = strtol(port, NULL, 10);
        c->free(port);
    }
    rc = 0;
out:
    if (u)
        c->url_cleanup(u);
    return rc;
}

/* Cut s (writable) at each sep into v (room for one more than s has
 * seps), skipping empty parts; a part that is PLACEHOLDER becomes NULL.
 * -1 for a placeholder inside a part, or too many parts. */
static int split_parts(char *s, char sep, char **v, size_t max, size_t *n, size_t *exact)
{
    *n = 0;
    while (*s) {
        char *end = strchr(s, sep);
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (end)
            *end = '\0';
        if (len > 0) {
            if (*n == max)
                return -1;
            if (len == PLACEHOLDER_LEN && memcmp(s, PLACEHOLDER, len) == 0) {
                v[(*n)++] = NULL;
            } else if (len > PLACEHOLDER_LEN && memmem(s, len, PLACEHOLDER, PLACEHOLDER_LEN)) {
                return -1; /* a placeholder inside a label or segment */
            } else {
                v[(*n)++] = s;
                (*exact)++;
            }
        }
        s += len + (end != NULL);
    }
    return 0;
}

static size_t count_char(const char *s, size_t len, char ch)
{
    size_t n = 0;

    for (const char *end = s + len; (s = memchr(s, ch, (size_t)(end - s))); s++)
        n++;
    return n;
}

/* RFC 3986's unreserved characters: escaped, they are the character
 * itself (§6.2.2.2); every other escape keeps its meaning ("%2F" is not a
 * '/'), its hex digits in either case (§6.2.2.1). */
static const unsigned char unreserved[256] = {
    ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1,
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
};

static int hex_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
           : (ch | 0x20) >= 'a' && (ch | 0x20) <= 'f' ? (ch | 0x20) - 'a' + 10
                                                      : -1;
}

/* The character at p (before end) as RFC 3986 compares it: *unit is an
 * unreserved character decoded, 0x100 + the byte for another escape, or
 * the byte itself (a '%' not followed by two hex digits too). Returns the
 * bytes read. */
static size_t pct_unit(const char *p, const char *end, int *unit)
{
    int hi = -1, lo = -1;

    if (*p == '%' && end - p >= 3) {
        hi = hex_digit((unsigned char)p[1]);
        if (hi >= 0)
            lo = hex_digit((unsigned char)p[2]);
    }
    if (hi >= 0 && lo >= 0) {
        int v = hi * 16 + lo;
        *unit = unreserved[v] ? v : 0x100 + v;
        return 3;
    }
    *unit = (unsigned char)*p;
    return 1;
}

/* s in place in the form a route's segment is kept: unreserved characters
 * decoded, other escapes with upper-case hex, so that a URL whose path has
 * no '%' is compared byte for byte, undecoded. Left as
 * written when a '%' in it starts no escape: decoding "%%34%31" would make
 * a new one, "%41". */
static void pct_normalize(char *s)
{
    static const char upper[] = "0123456789ABCDEF";
    const char *end = s + strlen(s);
    char *out = s;
    int unit;

    for (const char *p = s; (p = strchr(p, '%')); p++)
        if (pct_unit(p, end, &unit) == 1)
            return;
    for (const char *p = s; p < end;) {
        p += pct_unit(p, end, &unit);
        if (unit < 0x100) {
            *out++ = (char)unit;
        } else {
            *out++ = '%';
            *out++ = upper[(unit >> 4) & 0xf];
            *out++ = upper[unit & 0xf];
        }
    }
    *out = '\0';
}

/* A URL's path segment (len bytes) equal to a route's, escapes read on
 * both sides. */
static int seg_equal_pct(const char *seg, const char *p, size_t len)
{
    const char *end = p + len, *seg_end = seg + strlen(seg);

    while (p < end && seg < seg_end) {
        int a, b;
        p += pct_unit(p, end, &a);
        seg += pct_unit(seg, seg_end, &b);
        if (a != b)
            return 0;
    }
    return p == end && seg == seg_end;
}

/* The route's memory, in one block: the labels and segments, the host
 * lowered (dotted, for the index key, and cut into labels), the path (cut
 * into segments) and the base URL as written. */
static int build(struct amp_arena *arena, struct amp_route *r, const char *base_url,
                 const struct parts *p, char *err, size_t errlen)
{
    size_t bl = strlen(base_url) + 1, hl = p->host_len + 1, pl = p->path_len + 1;
    size_t nl = count_char(p->host, p->host_len, '.') + 1;
    size_t ns = count_char(p->path, p->path_len, '/') + 1;
    size_t size = (nl + ns) * sizeof(char *) + 2 * hl + pl + bl;
    char *m = arena ? amp_arena_alloc(arena, size) : calloc(1, size);

    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!arena)
        r->mem = m;
    r->labels = (char **)m;
    r->segs = r->labels + nl;
    char *dotted = (char *)(r->segs + ns), *host = dotted + hl, *path = host + hl;
    r->base_url = memcpy(path + pl, base_url, bl);
    r->scheme = (char *)p->scheme;
    memcpy(path, p->path, p->path_len);
    path[p->path_len] = '\0';
    /* A host no DNS name can have never matches: say so now rather than
     * carry a route that never routes (a placeholder counts as one label). */
    if (!lower_host(p->host, p->host_len, dotted, err, errlen, base_url))
        return -1;
    memcpy(host, dotted, hl);
    /* libcurl keeps "//" in a request's path, and matching never skips an
     * empty segment: such a route would never match as written. */
    if (strstr(path, "//")) {
        snprintf(err, errlen, "'%.80s': an empty path segment (//) never matches", base_url);
        return -1;
    }
    if (split_parts(host, '.', r->labels, nl < MAX_LABELS ? nl : MAX_LABELS, &r->nlabels,
                    &r->exact_labels) < 0 ||
        r->nlabels == 0) {
        snprintf(err, errlen, "'%s': a placeholder must stand for a whole host label", base_url);
        return -1;
    }
    if (split_parts(path, '/', r->segs, ns, &r->nsegs, &r->exact_segs) < 0) {
        snprintf(err, errlen, "'%s': a placeholder must stand for a whole path segment", base_url);
        return -1;
    }
    /* Compared decoded (match_path_n): /%61pi is /api to a provider. */
    for (size_t i = 0; i < r->nsegs; i++)
        if (r->segs[i] && strchr(r->segs[i], '%'))
            pct_normalize(r->segs[i]);
    /* Filed under the labels after the last placeholder, as they stand in
     * the dotted host ("" when the host ends in one). */
    size_t off = 0, dl = strlen(dotted);
    for (size_t i = r->nlabels; i-- > 0 && r->labels[i];)
        off += strlen(r->labels[i]) + (off > 0);
    r->index_key = dotted + dl - off;
    r->index_len = off;
    r->index_hash = amp_suffix_hash(r->index_key, off);
    r->port = p->port;
    return 0;
}

int amp_route_compile_in(struct amp_arena *arena, struct amp_route *r, const char *base_url,
                         const struct amp_curl *c, char *err, size_t errlen)
{
    char small[512], *sub = small, *owned[3] = { NULL, NULL, NULL };
    struct parts p;
    int rc = -1;

    if (!base_url[strcspn(base_url, "*{")]) {
        sub = (char *)base_url; /* no placeholder: parsed as it is */
    } else {
        long len = substituted_length(base_url, err, errlen);
        if (len < 0)
            return -1;
        /* Exactly as long as it needs to be, and on the stack when it fits. */
        if ((size_t)len >= sizeof(small)) {
            sub = malloc((size_t)len + 1);
            if (!sub) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
        substitute_placeholders(base_url, sub);
    }
    if (base_parts(sub, base_url, c, &p, owned, err, errlen) == 0)
        rc = build(arena, r, base_url, &p, err, errlen);
    for (int i = 0; i < 3; i++)
        if (owned[i])
            c->free(owned[i]);
    if (sub != small && sub != base_url)
        free(sub);
    return rc;
}

int amp_routes_index(struct amp_routes *rs)
{
    size_t size = amp_origins_size();

    rs->origins = rs->arena ? amp_arena_alloc(rs->arena, size) : calloc(1, size);
    if (!rs->origins)
        return -1;
    return amp_route_index_build(rs);
}

/* Where the rest of path begins once r's prefix is taken off, or NULL if
 * the prefix does not match at segment boundaries. pct: path has a '%',
 * whose escapes are then read (a '/' is never one, so the segments and the
 * rest are cut from the path as it is written, whatever their length). */
/* A segment of path (n bytes) that is "." or ".." once its escapes are
 * read ("%2e%2E"): libcurl removes only the plain ones, and a provider
 * that decodes then removes them would climb out of the route's prefix
 * (/api/%2e%2e/files is /files): such a path is routed by no route. */
static int escaped_dot_segment(const char *path, size_t n)
{
    const char *end = path + n;

    for (const char *p = path; p < end;) {
        const char *seg = p;
        size_t dots = 0, units = 0;
        int unit;
        while (p < end && *p != '/') {
            p += pct_unit(p, end, &unit);
            units++;
            dots += unit == '.';
        }
        if (units && units == dots && dots <= 2 && memchr(seg, '%', (size_t)(p - seg)))
            return 1;
        if (p < end)
            p++;
    }
    return 0;
}

static const char *match_path_n(const struct amp_route *r, const char *path, size_t n, int pct)
{
    if (pct && escaped_dot_segment(path, n))
        return NULL;
    const char *p = path, *end = path + n;

    for (size_t i = 0; i < r->nsegs; i++) {
        if (p == end || *p != '/')
            return NULL;
        p++;
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t len = (size_t)((slash ? slash : end) - p);
        if (len == 0)
            return NULL;
        if (r->segs[i] && (pct ? !seg_equal_pct(r->segs[i], p, len)
                               : (strlen(r->segs[i]) != len || memcmp(r->segs[i], p, len) != 0)))
            return NULL;
        p += len;
    }
    return (p == end || *p == '/') ? p : NULL;
}

static const char *match_path(const struct amp_route *r, const char *path)
{
    return match_path_n(r, path, strlen(path), strchr(path, '%') != NULL);
}

static int more_specific(const struct amp_route *a, const struct amp_route *b)
{
    if (!b)
        return 1;
    if (a->exact_labels != b->exact_labels)
        return a->exact_labels > b->exact_labels;
    if (a->nsegs != b->nsegs)
        return a->nsegs > b->nsegs;
    if (a->exact_segs != b->exact_segs)
        return a->exact_segs > b->exact_segs;
    return a < b; /* the earlier route in the file */
}

/* A host cut into labels, without copying: label i is host[off[i]..off[i]+len[i]). */
struct labels {
    size_t n, off[MAX_LABELS + 1], len[MAX_LABELS];
};

static int cut_labels(const char *host, size_t hl, struct labels *l)
{
    l->n = 0;
    for (size_t i = 0; i <= hl;) {
        size_t j = i;
        while (j < hl && host[j] != '.')
            j++;
        if (j == i || l->n == MAX_LABELS)
            return -1; /* an empty label ("a..b"): never a match */
        l->off[l->n] = i;
        l->len[l->n++] = j - i;
        i = j + 1;
    }
    l->off[l->n] = hl;
    return 0;
}

static int labels_match(const struct amp_route *r, const char *host, const struct labels *l)
{
    if (r->nlabels != l->n)
        return 0;
    for (size_t i = 0; i < l->n; i++)
        if (r->labels[i] && (strlen(r->labels[i]) != l->len[i] ||
                             memcmp(r->labels[i], host + l->off[i], l->len[i]) != 0))
            return 0;
    return 1;
}

/* The routes whose scheme, host and port fit (the path aside), in the
 * order of the index; at most max, or max + 1 to say there are more. */
static size_t candidates(const struct amp_routes *rs, const char *scheme, const char *host,
                         long port, const struct amp_route **out, size_t max)
{
    size_t hl = strlen(host), n = 0;
    uint64_t hash[MAX_LABELS + 1];
    struct labels l;

    if (cut_labels(host, hl, &l) < 0)
        return 0;
    /* Each suffix's hash, from the shortest ("") to the whole host. */
    hash[l.n] = AMP_SUFFIX_HASH_SEED;
    for (size_t i = l.n; i-- > 0;)
        hash[i] = amp_suffix_hash_more(hash[i + 1], host + l.off[i], l.off[i + 1] - l.off[i]);
    for (size_t i = 0; i <= l.n; i++) {
        size_t off = l.off[i], nb;
        const struct amp_route *const *b =
            amp_route_index_find(rs->index, host + off, hl - off, hash[i], &nb);
        for (size_t j = 0; j < nb; j++) {
            const struct amp_route *r = b[j];
            if (r->port != port || strcmp(r->scheme, scheme) != 0 || !labels_match(r, host, &l))
                continue;
            if (n == max)
                return max + 1;
            out[n++] = r;
        }
    }
    return n;
}

/* The memo's buffer holds at least need bytes (its room first). */
static inline int memo_grow(struct amp_url_memo *m, size_t need)
{
    return amp_grow_in(&m->buf, &m->cap, need, m->room, m->room_cap);
}

/* The most specific of the candidates whose path prefix fits, and where
 * the rest of the path starts; then the rewritten URL. */
static const struct amp_route *best_of(const struct amp_route *const *cands, size_t n,
                                       const char *path, size_t pathlen, const char *query,
                                       size_t querylen, const char *proxy_url, char **rewritten,
                                       struct amp_url_memo *memo)
{
    const struct amp_route *best = NULL;
    const char *best_rest = NULL, *rest;
    /* Escapes are read only in a path that has one: most have none. */
    int pct = n && memchr(path, '%', pathlen) != NULL;

    for (size_t i = 0; i < n; i++) {
        rest = match_path_n(cands[i], path, pathlen, pct);
        if (rest && more_specific(cands[i], best)) {
            best = cands[i];
            best_rest = rest;
        }
    }
    if (best && rewritten) {
        /* proxy_url + the rest of the path + the query, byte for byte */
        size_t pl = strlen(proxy_url), rl = pathlen - (size_t)(best_rest - path);
        size_t need = pl + rl + (query ? querylen + 1 : 0) + 1;
        char *out;
        if (!memo) {
            out = malloc(need);
        } else {
            /* The memo's buffer, used again: no allocation per request. */
            out = memo_grow(memo, need) < 0 ? NULL : memo->buf;
        }
        if (out) {
            memcpy(out, proxy_url, pl);
            memcpy(out + pl, best_rest, rl);
            size_t k = pl + rl;
            if (query) {
                out[k++] = '?';
                memcpy(out + k, query, querylen);
                k += querylen;
            }
            out[k] = '\0';
            if (memo) { /* the proxy's part, for the whole-origin shortcut */
                memo->proxy = proxy_url;
                memo->proxy_len = pl;
            }
        }
        *rewritten = out;
    }
    return best;
}

#define MAX_CANDIDATES AMP_ORIGIN_ROUTES

/* The match on a URL's parts: scheme and host in lower case, the host
 * without a trailing dot; path and query as libcurl holds them. */
static const struct amp_route *match_parts(const struct amp_routes *rs, const char *scheme,
                                           const char *host, long port, const char *path,
                                           size_t pathlen, const char *query, size_t querylen,
                                           const char *proxy_url, char **rewritten,
                                           struct amp_url_memo *memo)
{
    const struct amp_route *few[MAX_CANDIDATES], **cands = few;
    size_t n = candidates(rs, scheme, host, port, few, MAX_CANDIDATES);

    if (n > MAX_CANDIDATES) { /* a host many routes share: ask again for all */
        cands = malloc(rs->n * sizeof(*cands));
        if (!cands)
            return NULL;
        n = candidates(rs, scheme, host, port, cands, rs->n);
    }
    const struct amp_route *best =
        best_of(cands, n, path, pathlen, query, querylen, proxy_url, rewritten, memo);
    if (cands != few)
        free(cands);
    return best;
}

struct parsed {
    char *scheme, *host, *port, *path, *query;
};

static void free_parsed(const struct amp_curl *c, struct parsed *u)
{
    c->free(u->scheme);
    c->free(u->host);
    c->free(u->port);
    c->free(u->path);
    c->free(u->query);
}

/* The same parse libcurl makes of CURLOPT_URL: a missing scheme is
 * guessed, dot segments are removed. -1 for a URL libcurl would refuse,
 * -2 when memory ran out (nothing can then be said of it). */
static int parse(const struct amp_curl *c, const char *url, struct parsed *out)
{
    CURLU *u = c->url();
    CURLUcode uc = CURLUE_OUT_OF_MEMORY;
    int rc = -1, parsed = 0;

    memset(out, 0, sizeof(*out));
    if (u) {
        uc = c->url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME);
        if (uc == CURLUE_OK)
            uc = c->url_get(u, CURLUPART_SCHEME, &out->scheme, 0);
        if (uc == CURLUE_OK)
            uc = c->url_get(u, CURLUPART_HOST, &out->host, 0);
        if (uc == CURLUE_OK)
            uc = c->url_get(u, CURLUPART_PORT, &out->port, CURLU_DEFAULT_PORT);
        if (uc == CURLUE_OK)
            uc = c->url_get(u, CURLUPART_PATH, &out->path, 0);
        if (uc == CURLUE_OK) {
            uc = c->url_get(u, CURLUPART_QUERY, &out->query, 0);
            parsed = uc == CURLUE_OK || uc == CURLUE_NO_QUERY;
        }
    }
    if (parsed) {
        lower(out->scheme);
        lower(out->host);
        size_t hl = strlen(out->host);
        if (hl > 1 && out->host[hl - 1] == '.')
            out->host[hl - 1] = '\0';
        rc = 0;
    } else if (uc == CURLUE_OUT_OF_MEMORY) {
        rc = -2;
    }
    if (u)
        c->url_cleanup(u);
    return rc;
}

/* After "scheme://authority": a path and query libcurl would hold as
 * they are written (rest starts with the path's '/'). Anything it might
 * change (dot segments, escapes of dots, fragments, spaces, bytes outside
 * ASCII) means no. On yes, *qmark is the first '?' (NULL: none) and *end
 * the terminating NUL, from the same pass (a new URL on every request
 * pays this on each: inlined in its two callers). */
static inline __attribute__((always_inline)) int plain_rest(const char *rest, const char **qmark,
                                                          const char **end)
{
    /* Everything else (0) passes at once, in the tight inner loop. A dot
     * segment is found at its '.' (after a '/'): rarer than a '/'. */
    enum { NEVER = 1, DOT, PCT, QMARK, END };
    static const unsigned char kind[256] = {
        [0] = END, [1 ... 0x20] = NEVER, [0x7f ... 0xff] = NEVER, ['#'] = NEVER,
        ['\\'] = NEVER, ['.'] = DOT, ['%'] = PCT, ['?'] = QMARK,
    };
    const char *q = NULL, *p = rest;
    unsigned char k;

    for (;; p++) {
        k = kind[(unsigned char)*p];
        while (!k)
            k = kind[(unsigned char)*++p];
        if (k == END)
            break;
        if (k == NEVER)
            return 0;
        if (k == DOT && !q && p[-1] == '/') /* "/." in the path; p > rest, a '/' */
            return 0;
        if (k == PCT && p[1] == '2' && (p[2] | 0x20) == 'e') /* "%2e", "%2E" */
            return 0;
        if (k == QMARK && !q)
            q = p;
    }
    if (q && q[1] == '\0')
        return 0;
    *qmark = q;
    *end = p;
    return 1;
}

/* Where "scheme://authority/" ends in url (just past the '/'), or 0. */
static size_t origin_prefix(const char *url)
{
    const char *sep = strstr(url, "://");

    if (!sep || sep == url)
        return 0;
    for (const char *p = url; p < sep; p++)
        if (!isalnum((unsigned char)*p) && !strchr("+-.", *p))
            return 0;
    size_t end = (size_t)(sep - url) + 3 + strcspn(sep + 3, "/?#");
    /* An empty authority ("http:///host/"): libcurl reads it otherwise. */
    if (end == (size_t)(sep - url) + 3)
        return 0;
    return url[end] == '/' ? end + 1 : 0;
}

/* best_of's answer for the memo's whole-origin route (one candidate, no
 * path segments) and a plain rest (its '/' to end, the NUL): the route
 * takes the path whatever it is (match_path_n refuses only an escaped "."
 * or ".." segment, and plain_rest let no "%2e" through), and the
 * rewritten URL is proxy_url, then the rest byte for byte (path, '?',
 * query). The proxy's part is already at the head of the memo's buffer
 * when the last URL was rewritten there: only the rest is copied. */
static const struct amp_route *whole_origin(struct amp_url_memo *m, const char *rest,
                                            const char *end, const char *proxy_url,
                                            char **rewritten)
{
    size_t rl = (size_t)(end - rest) + 1;

    if (!rewritten)
        return m->o.whole;
    *rewritten = NULL;
    if (m->proxy != proxy_url) {
        size_t pl = strlen(proxy_url);
        if (memo_grow(m, pl + rl) < 0)
            return m->o.whole;
        memcpy(m->buf, proxy_url, pl);
        m->proxy = proxy_url;
        m->proxy_len = pl;
    } else if (memo_grow(m, m->proxy_len + rl) < 0) {
        return m->o.whole;
    }
    memcpy(m->buf + m->proxy_len, rest, rl);
    *rewritten = m->buf;
    return m->o.whole;
}

void amp_url_memo_free(struct amp_url_memo *m)
{
    char *room = m->room;
    size_t room_cap = m->room_cap;

    free(m->owned);
    amp_grow_free(&m->buf, &m->cap, room);
    memset(m, 0, sizeof(*m));
    /* The caller's, kept for the memo's next use. */
    m->room = room;
    m->room_cap = room_cap;
}

/* The memo (and the config's table of origins, for the process's other
 * handles) told that url's first plen bytes decide cands. */
static void remember(const struct amp_routes *rs, const struct amp_curl *c, const char *url,
                     size_t plen, const struct amp_route *const *cands, size_t ncands,
                     struct amp_url_memo *memo)
{
    struct amp_origin o = { .prefix = url, .len = plen, .nroutes = ncands };

    memcpy(o.routes, cands, ncands * sizeof(*cands));
    o.whole = ncands == 1 && cands[0]->nsegs == 0 ? cands[0] : NULL;
    const struct amp_origin *shared = amp_origins_add(rs->origins, c, &o);
    char *owned = NULL;
    if (!shared) {
        owned = strndup(url, plen);
        if (!owned)
            return;
    }
    free(memo->owned);
    memo->owned = owned;
    memo->o = shared ? *shared : o;
    if (owned)
        memo->o.prefix = owned;
}

/* amp_route_decide for a URL the memo cannot answer: parsed by libcurl,
 * looked up, and its origin remembered. Apart so that the memo's answer,
 * on nearly every request, pays for none of its frame. */
static __attribute__((noinline)) const struct amp_route *
decide_parsed(const struct amp_routes *rs, const struct amp_curl *c, const char *url,
              const char *proxy_url, char **rewritten, struct amp_url_memo *memo, int *undecided)
{
    const struct amp_route *best = NULL;
    const char *q, *end;
    struct parsed u;

    if (memo)
        memo->url_len = strlen(url);
    int parsed = parse(c, url, &u);
    if (parsed < 0) {
        if (parsed == -2 && undecided)
            *undecided = 1;
        free_parsed(c, &u);
        return NULL;
    }
    long port = strtol(u.port, NULL, 10);
    best = match_parts(rs, u.scheme, u.host, port, u.path, strlen(u.path), u.query,
                       u.query ? strlen(u.query) : 0, proxy_url, rewritten, memo);
    /* Remember this origin for the next URL, when libcurl's path is the
     * one written (so that amp_route_decide's shortcut finds the same). */
    size_t plen = memo ? origin_prefix(url) : 0;
    const struct amp_route *cands[MAX_CANDIDATES];
    size_t ncands = plen ? candidates(rs, u.scheme, u.host, port, cands, MAX_CANDIDATES) : 0;
    const char *raw = plen ? url + plen - 1 : NULL;
    size_t rawlen = raw ? strcspn(raw, "?") : 0;
    if (plen && ncands <= MAX_CANDIDATES && plain_rest(raw, &q, &end) && rawlen == strlen(u.path) &&
        memcmp(raw, u.path, rawlen) == 0)
        remember(rs, c, url, plen, cands, ncands, memo);
    free_parsed(c, &u);
    return best;
}

/* A memo that does not know url's origin takes the config's, when another
 * handle met it (else it is left empty: parsed, then remembered). Apart,
 * so that the memo's own answer pays for none of it. */
static __attribute__((noinline)) void from_shared(const struct amp_routes *rs,
                                                  const struct amp_curl *c, const char *url,
                                                  struct amp_url_memo *memo)
{
    const struct amp_origin *o = amp_origins_find(rs->origins, c, url);

    free(memo->owned);
    memo->owned = NULL;
    if (o)
        memo->o = *o;
    else
        memo->o.prefix = NULL;
}

const struct amp_route *amp_route_decide(const struct amp_routes *rs, const struct amp_curl *c,
                                         const char *url, const char *proxy_url,
                                         char **rewritten, struct amp_url_memo *memo,
                                         int *undecided)
{
    if (rewritten)
        *rewritten = NULL;
    if (undecided)
        *undecided = 0;
    if (!rs->n || !url)
        return NULL;
    /* The same scheme://authority/ as a URL libcurl has parsed before, for
     * this handle or (its first URL, or another origin) for another: the
     * same scheme, host and port; only the path is new. */
    const char *q, *end;
    if (memo && !(memo->o.prefix && strncmp(url, memo->o.prefix, memo->o.len) == 0))
        from_shared(rs, c, url, memo);
    if (memo && memo->o.prefix && plain_rest(url + memo->o.len - 1, &q, &end)) {
        memo->url_len = (size_t)(end - url);
        if (memo->o.whole)
            return whole_origin(memo, url + memo->o.len - 1, end, proxy_url, rewritten);
        const char *path = url + memo->o.len - 1;
        size_t pathlen = (size_t)((q ? q : end) - path);
        return best_of(memo->o.routes, memo->o.nroutes, path, pathlen, q ? q + 1 : NULL,
                       q ? (size_t)(end - q - 1) : 0, proxy_url, rewritten, memo);
    }
    return decide_parsed(rs, c, url, proxy_url, rewritten, memo, undecided);
}

const struct amp_route *amp_route_match(const struct amp_routes *rs,
                                        const struct amp_curl *c,
                                        const char *url,
                                        const char *proxy_url,
                                        char **rewritten)
{
    return amp_route_decide(rs, c, url, proxy_url, rewritten, NULL, NULL);
}

/* "*.my.salesforce.com": r's host, placeholders as `*`. */
static void route_host(const struct amp_route *r, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < r->nlabels && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "." : "",
                                 r->labels[i] ? r->labels[i] : "*");
}

const char *amp_route_why_not(const struct amp_route *r, const struct amp_curl *c,
                              const char *url, char *buf, size_t len, int *nearness)
{
    char pattern[512];
    const char *why = buf;
    struct parsed u;

    *nearness = 0;
    if (parse(c, url, &u) < 0) {
        snprintf(buf, len, "'%s' is not a URL libcurl can parse", url);
        goto out;
    }
    const char *host = u.host;
    /* Host labels compared from the right, as a person reads a domain. */
    struct labels l;
    size_t n = 0, same = 0, prefix = 0;
    if (cut_labels(host, strlen(host), &l) == 0)
        n = l.n;
#define LABEL_IS(ri, ui)                                                                 \
    (!r->labels[ri] || (strlen(r->labels[ri]) == l.len[ui] &&                           \
                        !memcmp(r->labels[ri], host + l.off[ui], l.len[ui])))
    while (same < n && same < r->nlabels && LABEL_IS(r->nlabels - 1 - same, n - 1 - same))
        same++;
    /* A look-alike shares the start instead: acme.my.salesforce.com.evil.test */
    while (prefix < n && prefix < r->nlabels && LABEL_IS(prefix, prefix))
        prefix++;
#undef LABEL_IS
    /* Near means more in common than a top-level domain. */
    size_t common = same > prefix ? same : prefix;
    *nearness = common >= 2 ? (int)common * 2 : 0;
    route_host(r, pattern, sizeof(pattern));
    if (same != r->nlabels || n != r->nlabels) {
        if (same == r->nlabels || same == n)
            snprintf(buf, len, "host %s has %zu labels, %s has %zu (a placeholder stands for exactly one)",
                     host, n, pattern, r->nlabels);
        else
            snprintf(buf, len, "host %s is not %s", host, pattern);
        goto out;
    }
    if (strcmp(u.scheme, r->scheme) != 0) {
        snprintf(buf, len, "scheme %s, the route's is %s", u.scheme, r->scheme);
        goto out;
    }
    if (strtol(u.port, NULL, 10) != r->port) {
        snprintf(buf, len, "port %s, the route's is %ld", u.port, r->port);
        goto out;
    }
    *nearness += 1 + (int)r->nlabels * 2;
    if (!match_path(r, u.path)) {
        snprintf(buf, len, "path %s does not start with the route's path at a segment boundary",
                 u.path);
        goto out;
    }
    why = NULL;
out:
    free_parsed(c, &u);
    return why;
}

int amp_same_origin(const struct amp_curl *c, const char *url, const char *origin)
{
    struct parsed a = { 0 }, b = { 0 };
    int same = parse(c, url, &a) == 0 && parse(c, origin, &b) == 0 &&
               !strcmp(a.scheme, b.scheme) && !strcmp(a.host, b.host) && !strcmp(a.port, b.port);

    free_parsed(c, &a);
    free_parsed(c, &b);
    return same;
}

int amp_host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
        strcmp(host, "::1") == 0)
        return 1;
    /* 127.b.c.d: four decimal numbers of at most 255, the first 127. */
    const char *p = host;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        if (part > 0 && *p++ != '.')
            return 0;
        if (*p < '0' || *p > '9')
            return 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            v = v * 10 + (unsigned)(*p - '0');
            if (v > 255)
                return 0;
        }
        if (part == 0 && v != 127)
            return 0;
    }
    return *p == '\0';
}
