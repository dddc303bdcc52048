/* Fuzz target: URL matching and rewriting (route.c). A fixed set of routes
 * (wildcards, placeholders, path prefixes, ports, a host shared by more
 * routes than the memo holds); the input is several URLs, one a line, fed
 * in order to one memo, as a handle sees them. For each URL the memo must
 * agree with the plain match (the same route, the same rewritten URL, on
 * its first and second sight), a rewritten URL starts with the proxy's,
 * amp_route_why_not agrees with the match, and amp_same_origin is
 * symmetric. Any disagreement aborts. */
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
    /* More routes on one host than the memo holds (AMP_URL_MEMO_ROUTES). */
    "https://many.example.net/a", "https://many.example.net/b", "https://many.example.net/c",
    "https://many.example.net/d", "https://many.example.net/e", "https://many.example.net/f",
    "https://many.example.net/g", "https://many.example.net/h", "https://many.example.net/i",
    "https://many.example.net",
};
#define NBASES (sizeof(bases) / sizeof(bases[0]))

static struct amp_routes routes;
static const struct amp_curl *curl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];

    (void)argc, (void)argv;
    curl = amp_curl_linked();
    routes.v = calloc(NBASES, sizeof(*routes.v));
    FUZZ_CHECK(routes.v != NULL, "out of memory");
    /* Compiled as tests/unit/test_route.c does, then indexed. */
    for (size_t i = 0; i < NBASES; i++) {
        routes.n++; /* counted first so amp_routes_free would release a partial one */
        FUZZ_CHECK(amp_route_compile(&routes.v[i], bases[i], curl, err, sizeof(err)) == 0,
                   "route '%s' does not compile: %s", bases[i], err);
    }
    FUZZ_CHECK(amp_routes_index(&routes) == 0, "cannot index the routes");
    return 0;
}

static const char *name(const struct amp_route *r)
{
    return r ? r->base_url : "(none)";
}

static void check_url(const char *url, const char *prev, struct amp_url_memo *memo)
{
    char *plain = NULL;
    const struct amp_route *r = amp_route_match(&routes, curl, url, PROXY, &plain);

    FUZZ_CHECK(!r || plain, "'%.300s' matched %s without a rewritten URL", url, name(r));
    FUZZ_CHECK(r || !plain, "'%.300s' matched nothing but was rewritten", url);
    FUZZ_CHECK(!r || strncmp(plain, PROXY, strlen(PROXY)) == 0,
               "'%.300s' rewritten to '%.300s', not under the proxy URL", url, plain);

    /* Twice: the first call may fill the memo, the second uses it. */
    for (int pass = 1; pass <= 2; pass++) {
        char *m_out = NULL;
        const struct amp_route *m = amp_route_match_memo(&routes, curl, url, PROXY, &m_out, memo);
        FUZZ_CHECK(m == r, "'%.300s' (pass %d): %s with the memo, %s without", url, pass,
                   name(m), name(r));
        FUZZ_CHECK(!r || (m_out && strcmp(m_out, plain) == 0),
                   "'%.300s' (pass %d): rewritten to '%.300s' with the memo, '%.300s' without",
                   url, pass, m_out ? m_out : "(null)", plain);
    }

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
    free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_lines l;
    struct amp_url_memo memo = { 0 };

    if (fuzz_lines(data, size, FUZZ_MAX_LINES, &l) < 0)
        return 0;
    for (size_t i = 0; i < l.n; i++)
        check_url(l.v[i], i ? l.v[i - 1] : NULL, &memo);
    amp_url_memo_free(&memo);
    fuzz_lines_free(&l);
    return 0;
}
