/* Fuzz target: URL matching and rewriting (route.c). A fixed set of routes
 * (wildcards, placeholders, path prefixes, ports, a host shared by more
 * routes than the memo holds); the input is several URLs, one a line, fed
 * in order to one memo, as a handle sees them. For each URL the memo must
 * agree with the plain match (through its shortcut for an origin whose one
 * route has no path, too: the wildcard's other hosts, hubapi, routed.test) (the same route, the same rewritten URL, on
 * its first and second sight), a rewritten URL starts with the proxy's,
 * amp_route_why_not agrees with the match, amp_same_origin is symmetric,
 * and the URL with its path's unreserved characters escaped (RFC 3986
 * §6.2.2.2: the same URL) takes the same route to the same rewritten URL,
 * escapes aside. Other handles share the config's table of origins
 * (origins.h), emptied for each input: a second memo fed the same URLs in
 * turn, a fresh memo per URL (a handle's first URL, taking the origin
 * another decided) and a memo of another libcurl flavour must each agree
 * with the plain match too. Any disagreement aborts. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "curlapi.h"
#include "route.h"

#define PROXY "https://proxy.withampersand.com"

static const char *const bases[] = {
    "https://*.my.salesforce.com",
    "https://acme.my.salesforce.com",            /* exact beats the wildcard */
    "https://api.atlassian.com/ex/jira/{{.cloudId}}/rest/api",
    "https://slack.com/api",
    "https://slack.com/api/admin",               /* longer prefix beats shorter */
    "https://api.hubapi.com",
    "https://api.{{.region}}.example.com/v2",
    "https://files.example.com:8443/v1/*/blob",  /* explicit port, placeholder segment */
    "https://h.example.com:443",                 /* the default port written */
    "http://localhost:8080/v1",
    "http://routed.test",
    "https://[::1]:9443/x",
    "https://*.*.example.org/a",
    "https://enc.example.com/%61pi/%7Eb%2fc",    /* escapes in the base URL */
    /* More routes on one host than the memo holds (AMP_ORIGIN_ROUTES). */
    "https://many.example.net/a", "https://many.example.net/b", "https://many.example.net/c",
    "https://many.example.net/d", "https://many.example.net/e", "https://many.example.net/f",
    "https://many.example.net/g", "https://many.example.net/h", "https://many.example.net/i",
    "https://many.example.net",
};
#define NBASES (sizeof(bases) / sizeof(bases[0]))

static struct amp_routes routes;
static const struct amp_curl *curl;
static struct amp_curl other_flavour; /* another libcurl in the process, as a table */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];

    (void)argc, (void)argv;
    curl = amp_curl_linked();
    other_flavour = *curl;
    routes.v = calloc(NBASES, sizeof(*routes.v));
    FUZZ_CHECK(routes.v != NULL, "out of memory");
    /* Compiled as tests/unit/test_route.c does, then indexed. */
    for (size_t i = 0; i < NBASES; i++) {
        routes.n++; /* counted first: a partial one is among them */
        FUZZ_CHECK(amp_route_compile_in(NULL, &routes.v[i], bases[i], curl, err, sizeof(err)) == 0,
                   "route '%s' does not compile: %s", bases[i], err);
    }
    FUZZ_CHECK(amp_routes_index(&routes) == 0, "cannot index the routes");
    return 0;
}

static const char *name(const struct amp_route *r)
{
    return r ? r->base_url : "(none)";
}

static int hex(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
           : (ch | 0x20) >= 'a' && (ch | 0x20) <= 'f' ? (ch | 0x20) - 'a' + 10 : -1;
}

/* s with its escaped unreserved characters decoded, in place. */
static void decode_unreserved(char *s)
{
    char *out = s;

    for (const char *p = s; *p;) {
        int v = p[0] == '%' && hex(p[1]) >= 0 && hex(p[2]) >= 0 ? hex(p[1]) * 16 + hex(p[2]) : -1;
        if (v > 0 && (strchr("-._~", v) || (v >= '0' && v <= '9') ||
                      ((v | 0x20) >= 'a' && (v | 0x20) <= 'z'))) {
            *out++ = (char)v;
            p += 3;
        } else {
            *out++ = *p++;
        }
    }
    *out = '\0';
}

/* url with its path's letters, digits, '-', '_' and '~' escaped, hex in
 * both cases; NULL when there is nothing to escape, or url is not one
 * whose path is plainly where libcurl finds it. Dots stay as they are:
 * libcurl removes "." and ".." segments, not their escapes. */
static char *escaped_variant(const char *url)
{
    const char *sep = strstr(url, "://");

    if (!sep || sep == url)
        return NULL;
    for (const char *p = url; *p; p++)
        if ((p < sep && !strchr("+-.", *p) && !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') &&
             !(*p >= '0' && *p <= '9')) ||
            (unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '\\')
            return NULL;
    const char *path = sep + 3 + strcspn(sep + 3, "/?#");
    if (*path != '/' || path == sep + 3) /* libcurl reads "https:///host/" otherwise */
        return NULL;
    const char *end = path + strcspn(path, "?#");
    char *out = malloc(strlen(url) * 3 + 1), *o = out;
    int n = 0;
    FUZZ_CHECK(out != NULL, "out of memory");
    memcpy(o, url, (size_t)(path - url));
    o += path - url;
    for (const char *p = path; p < end; p++) {
        if (*p == '%' && end - p >= 3 && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
            memcpy(o, p, 3); /* an escape as it is */
            o += 3;
            p += 2;
        } else if (strchr("-_~", *p) || (*p >= '0' && *p <= '9') ||
                   ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
            o += snprintf(o, 4, n++ % 2 ? "%%%02x" : "%%%02X", (unsigned char)*p);
        } else {
            *o++ = *p;
        }
    }
    strcpy(o, end);
    if (!n) {
        free(out);
        return NULL;
    }
    return out;
}

/* The escaped variant of url decides as url does (r, rewritten to plain). */
static void check_escaped(const char *url, const struct amp_route *r, const char *plain)
{
    char *enc = escaped_variant(url), *e_out = NULL;

    if (!enc)
        return;
    const struct amp_route *e = amp_route_match(&routes, curl, enc, PROXY, &e_out);
    FUZZ_CHECK(e == r, "'%.300s' matched %s, its escaped form '%.300s' %s", url, name(r), enc,
               name(e));
    if (r) {
        char *a = strdup(plain), *b = strdup(e_out);
        FUZZ_CHECK(a && b, "out of memory");
        decode_unreserved(a);
        decode_unreserved(b);
        FUZZ_CHECK(strcmp(a, b) == 0, "'%.300s' rewritten to '%.300s', its escaped form to '%.300s'",
                   url, plain, e_out);
        free(a);
        free(b);
    }
    free(e_out);
    free(enc);
}

/* memo (of flavour c) decides url as the plain match did (r, plain), twice:
 * the first call may fill the memo, the second uses it. */
static void memo_agrees(const struct amp_curl *c, const char *url, struct amp_url_memo *memo,
                        const char *who, const struct amp_route *r, const char *plain)
{
    for (int pass = 1; pass <= 2; pass++) {
        char *m_out = NULL;
        const struct amp_route *m = amp_route_decide(&routes, c, url, PROXY, &m_out, memo, NULL);
        FUZZ_CHECK(m == r, "'%.300s' (pass %d): %s with %s, %s without", url, pass, name(m), who,
                   name(r));
        FUZZ_CHECK(!r || (m_out && strcmp(m_out, plain) == 0),
                   "'%.300s' (pass %d): rewritten to '%.300s' with %s, '%.300s' without", url,
                   pass, m_out ? m_out : "(null)", who, plain);
    }
}

static void check_url(const char *url, const char *prev, struct amp_url_memo *memo,
                      struct amp_url_memo *other, struct amp_url_memo *flavour)
{
    char *plain = NULL;
    const struct amp_route *r = amp_route_match(&routes, curl, url, PROXY, &plain);

    FUZZ_CHECK(!r || plain, "'%.300s' matched %s without a rewritten URL", url, name(r));
    FUZZ_CHECK(r || !plain, "'%.300s' matched nothing but was rewritten", url);
    FUZZ_CHECK(!r || strncmp(plain, PROXY, strlen(PROXY)) == 0,
               "'%.300s' rewritten to '%.300s', not under the proxy URL", url, plain);

    memo_agrees(curl, url, memo, "the memo", r, plain);
    /* Other handles, through the table of origins the memo filled. */
    struct amp_url_memo fresh = { 0 };
    memo_agrees(curl, url, &fresh, "a new handle's memo", r, plain);
    amp_url_memo_free(&fresh);
    memo_agrees(curl, url, other, "another handle's memo", r, plain);
    char *f_out = NULL;
    const struct amp_route *f = amp_route_match(&routes, &other_flavour, url, PROXY, &f_out);
    FUZZ_CHECK(f == r && (!r || (f_out && strcmp(f_out, plain) == 0)),
               "'%.300s': %s for another flavour, %s for the first", url, name(f), name(r));
    memo_agrees(&other_flavour, url, flavour, "another flavour's memo", r, plain);
    free(f_out);

    /* The explanation must agree with the verdict. */
    for (size_t i = 0; i < routes.n; i++) {
        char why[1024];
        int near = -1;
        const char *w = amp_route_why_not(&routes.v[i], curl, url, why, sizeof(why), &near);
        FUZZ_CHECK(&routes.v[i] != r || !w, "'%.300s' matched %s, yet why_not says: %s", url,
                   name(r), w);
        FUZZ_CHECK(w || r, "'%.300s' matched nothing, yet why_not finds no fault with %s", url,
                   routes.v[i].base_url);
    }

    if (prev)
        FUZZ_CHECK(amp_same_origin(curl, url, prev) == amp_same_origin(curl, prev, url),
                   "amp_same_origin('%.300s', '%.300s') is not symmetric", url, prev);
    FUZZ_CHECK(!r || amp_same_origin(curl, url, url),
               "'%.300s' matched %s but is not of its own origin", url, name(r));
    check_escaped(url, r, plain);
    free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_lines l;
    struct amp_url_memo memo = { 0 }, other = { 0 }, flavour = { 0 };
    /* One memo starts in a room of its caller's, small enough that URLs
     * move out of it (amp_grow_in). */
    char room[48];

    other.room = room;
    other.room_cap = sizeof(room);

    if (fuzz_lines(data, size, FUZZ_MAX_LINES, &l) < 0)
        return 0;
    /* A new config's table: what one input's handles decide is shared by
     * them alone (a full table would share nothing after the first few). */
    memset(routes.origins, 0, amp_origins_size());
    for (size_t i = 0; i < l.n; i++)
        check_url(l.v[i], i ? l.v[i - 1] : NULL, &memo, &other, &flavour);
    amp_url_memo_free(&memo);
    amp_url_memo_free(&other);
    amp_url_memo_free(&flavour);
    fuzz_lines_free(&l);
    return 0;
}
