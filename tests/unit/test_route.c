/* Route matching and rewriting: amp_route_compile_in, amp_route_match,
 * amp_host_is_loopback. Routes are compiled by hand here; test_config
 * checks the same through a loaded config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "curlapi.h"
#include "route.h"

#define PROXY "https://proxy.withampersand.com"
#define MAX_ROUTES 8

/* ---- helpers ---------------------------------------------------------- */

/* What compiling without an arena took from malloc (each route's parts,
 * the index, the origins) and rs->v. */
static void routes_free(struct amp_routes *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i].mem);
    free(rs->index);
    free(rs->origins);
    free(rs->v);
    memset(rs, 0, sizeof(*rs));
}

/* Compile each base URL (NULL-terminated) into a fresh route set, then
 * index it. Fails the test if one does not compile. */
static struct amp_routes *routes_of(const char *const *bases)
{
    struct amp_routes *rs = calloc(1, sizeof(*rs));
    char err[256];

    assert_non_null(rs);
    rs->v = calloc(MAX_ROUTES, sizeof(*rs->v));
    assert_non_null(rs->v);
    for (; *bases; bases++) {
        assert_true(rs->n < MAX_ROUTES);
        err[0] = '\0';
        struct amp_route *r = &rs->v[rs->n++];
        if (amp_route_compile_in(NULL, r, *bases, amp_curl_linked(), err, sizeof(err)) != 0)
            fail_msg("'%s' did not compile: %s", *bases, err);
    }
    assert_int_equal(amp_routes_index(rs), 0);
    return rs;
}

#define ROUTES(...) routes_of((const char *const[]){ __VA_ARGS__, NULL })

static void routes_drop(struct amp_routes *rs)
{
    routes_free(rs);
    free(rs);
}

/* url must match route number want and be rewritten to exactly expected
 * (expected NULL: the rewrite is not checked). */
static void expect_match(const struct amp_routes *rs, const char *url, size_t want,
                         const char *expected)
{
    char *out = (char *)"untouched";
    const struct amp_route *r = amp_route_match(rs, amp_curl_linked(), url, PROXY, &out);

    if (!r)
        fail_msg("'%s' matched no route, expected route %zu", url, want);
    if (r != &rs->v[want])
        fail_msg("'%s' matched route %td (%s), expected route %zu (%s)", url, r - rs->v,
                 r->base_url, want, rs->v[want].base_url);
    assert_non_null(out);
    if (expected && strcmp(out, expected) != 0)
        fail_msg("'%s' rewritten to '%s', expected '%s'", url, out, expected);
    free(out);
}

static void expect_no_match(const struct amp_routes *rs, const char *url)
{
    char *out = (char *)"untouched";
    const struct amp_route *r = amp_route_match(rs, amp_curl_linked(), url, PROXY, &out);

    if (r)
        fail_msg("'%s' must not match, but matched %s", url, r->base_url);
    assert_null(out);
}

/* base must be refused by amp_route_compile_in with a non-empty message. */
static void expect_compile_error(const char *base)
{
    struct amp_routes rs = { 0 };
    char err[256] = "";

    rs.v = calloc(1, sizeof(*rs.v));
    assert_non_null(rs.v);
    rs.n = 1; /* so routes_free releases what compile built */
    int rc = amp_route_compile_in(NULL, &rs.v[0], base, amp_curl_linked(), err, sizeof(err));
    if (rc != -1)
        fail_msg("'%s' compiled (rc %d), it must be refused", base, rc);
    if (err[0] == '\0')
        fail_msg("'%s' refused without a message", base);
    routes_free(&rs);
}

/* ---- placeholders: exactly one label or segment ----------------------- */

static void placeholder_covers_one_host_label(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://{{.instance}}.my.salesforce.com");

    expect_match(rs, "https://acme.my.salesforce.com/", 0, PROXY "/");
    expect_match(rs, "https://other-org.my.salesforce.com/x", 0, PROXY "/x");
    expect_no_match(rs, "https://my.salesforce.com/");        /* zero labels */
    expect_no_match(rs, "https://a.b.my.salesforce.com/");    /* two labels */
    expect_no_match(rs, "https://acme.salesforce.com/");
    routes_drop(rs);

    /* the labels around a placeholder still count */
    rs = ROUTES("https://api.{{.region}}.example.com/v2");
    expect_match(rs, "https://api.eu.example.com/v2/x", 0, PROXY "/x");
    expect_no_match(rs, "https://www.eu.example.com/v2/x");
    expect_no_match(rs, "https://api.eu.example.org/v2/x");
    expect_no_match(rs, "https://eu.example.com/v2/x");
    routes_drop(rs);
}

static void star_covers_one_host_label(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.my.salesforce.com");

    expect_match(rs, "https://acme.my.salesforce.com/services", 0, PROXY "/services");
    expect_no_match(rs, "https://my.salesforce.com/");
    expect_no_match(rs, "https://a.b.my.salesforce.com/");
    routes_drop(rs);
}

static void placeholder_covers_one_path_segment(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://api.atlassian.com/ex/jira/{{.cloudId}}/rest/api",
                                   "https://files.example.com/v1/*/blob");

    expect_match(rs, "https://api.atlassian.com/ex/jira/abc-123/rest/api/3/issue/X-1", 0,
                 PROXY "/3/issue/X-1");
    expect_no_match(rs, "https://api.atlassian.com/ex/jira/rest/api/3/issue/X-1");
    expect_no_match(rs, "https://api.atlassian.com/ex/jira//rest/api/3/issue/X-1");
    expect_no_match(rs, "https://api.atlassian.com/ex/jira/a/b/rest/api/3/issue/X-1");
    expect_match(rs, "https://files.example.com/v1/bucket/blob/k", 1, PROXY "/k");
    expect_no_match(rs, "https://files.example.com/v1/blob/k");
    expect_no_match(rs, "https://files.example.com/v1/a/b/blob/k");
    routes_drop(rs);
}

/* ---- host, port and path comparison ----------------------------------- */

static void host_is_case_insensitive(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.my.salesforce.com", "https://API.Slack.COM/api");

    expect_match(rs, "https://ACME.My.SalesForce.COM/x", 0, PROXY "/x");
    expect_match(rs, "https://api.slack.com/api/x", 1, PROXY "/x");
    expect_match(rs, "https://Api.Slack.Com/api/x", 1, PROXY "/x");
    /* a fully qualified name, trailing dot, is the same host */
    expect_match(rs, "https://api.slack.com./api/x", 1, PROXY "/x");
    expect_match(rs, "https://acme.my.salesforce.com./x", 0, PROXY "/x");
    /* the path is not: */
    expect_no_match(rs, "https://api.slack.com/API/x");
    routes_drop(rs);
}

static void default_port_equals_no_port(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://h.example.com", "https://g.example.com:443",
                                   "http://p.example.com");

    expect_match(rs, "https://h.example.com/", 0, PROXY "/");
    expect_match(rs, "https://h.example.com:443/", 0, PROXY "/");
    expect_match(rs, "https://g.example.com/", 1, PROXY "/");
    expect_match(rs, "https://g.example.com:443/", 1, PROXY "/");
    expect_match(rs, "http://p.example.com:80/x", 2, PROXY "/x");
    expect_no_match(rs, "https://h.example.com:8443/");
    expect_no_match(rs, "https://h.example.com:80/");
    expect_no_match(rs, "http://p.example.com:443/");
    routes_drop(rs);
}

static void non_default_port_must_match_exactly(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://h.example.com:8443/api");

    expect_match(rs, "https://h.example.com:8443/api/x", 0, PROXY "/x");
    expect_no_match(rs, "https://h.example.com/api/x");
    expect_no_match(rs, "https://h.example.com:443/api/x");
    expect_no_match(rs, "https://h.example.com:9443/api/x");
    /* same port, other scheme */
    expect_no_match(rs, "http://h.example.com:8443/api/x");
    routes_drop(rs);
}

static void path_prefix_matches_at_segment_boundary(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://slack.com/api");

    expect_match(rs, "https://slack.com/api", 0, PROXY);
    expect_match(rs, "https://slack.com/api/", 0, PROXY "/");
    expect_match(rs, "https://slack.com/api/x", 0, PROXY "/x");
    expect_match(rs, "https://slack.com/api?q", 0, PROXY "?q");
    expect_no_match(rs, "https://slack.com/apix");
    expect_no_match(rs, "https://slack.com/apix/y");
    expect_no_match(rs, "https://slack.com/ap");
    expect_no_match(rs, "https://slack.com/");
    expect_no_match(rs, "https://slack.com/x/api");
    routes_drop(rs);
}

/* ---- look-alikes ------------------------------------------------------ */

static void look_alikes_never_match(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.my.salesforce.com", "https://slack.com/api");
    static const char *const evil[] = {
        "https://acme.my.salesforce.com.evil.test/",
        "https://acme.my.salesforce.com@evil.test/",
        "https://evil.test/acme.my.salesforce.com/",
        "https://evil.test/?u=https://acme.my.salesforce.com",
        "http://acme.my.salesforce.com/",
        "ftp://acme.my.salesforce.com/",
        "https://my.salesforce.com/",
        "https://a.b.my.salesforce.com/",
        "https://acme..my.salesforce.com/",   /* an empty label is not one */
        "https://.my.salesforce.com/",
        "https://acme.my.salesforce.com../",
        "https://acme.my-salesforce.com/",
        "https://slack.com.evil.test/api/x",
        "https://slack.com@evil.test/api/x",
        "https://evil.test/slack.com/api/x",
        "http://slack.com/api/x",
        "https://evilslack.com/api/x",
        "https://slack..com/api/x",
        "https://.slack.com/api/x",
        "not a url at all",
    };

    for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++)
        expect_no_match(rs, evil[i]);
    /* the genuine articles still do */
    expect_match(rs, "https://acme.my.salesforce.com/", 0, NULL);
    expect_match(rs, "https://slack.com/api/x", 1, NULL);
    routes_drop(rs);
}

/* ---- most specific wins ----------------------------------------------- */

static void exact_host_beats_wildcard_host(void **state)
{
    (void)state;
    /* the wildcard comes first, so file order alone would pick it */
    struct amp_routes *rs = ROUTES("https://*.my.salesforce.com",
                                   "https://acme.my.salesforce.com");

    expect_match(rs, "https://acme.my.salesforce.com/x", 1, PROXY "/x");
    expect_match(rs, "https://other.my.salesforce.com/x", 0, PROXY "/x");
    routes_drop(rs);

    rs = ROUTES("https://acme.my.salesforce.com", "https://*.my.salesforce.com");
    expect_match(rs, "https://acme.my.salesforce.com/x", 0, PROXY "/x");
    expect_match(rs, "https://other.my.salesforce.com/x", 1, PROXY "/x");
    routes_drop(rs);
}

static void longer_path_prefix_wins(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://slack.com/api", "https://slack.com/api/chat");

    expect_match(rs, "https://slack.com/api/chat/post", 1, PROXY "/post");
    expect_match(rs, "https://slack.com/api/chat", 1, PROXY);
    expect_match(rs, "https://slack.com/api/users", 0, PROXY "/users");
    expect_match(rs, "https://slack.com/api/chatx", 0, PROXY "/chatx");
    routes_drop(rs);

    rs = ROUTES("https://slack.com/api/chat", "https://slack.com/api");
    expect_match(rs, "https://slack.com/api/chat/post", 0, PROXY "/post");
    expect_match(rs, "https://slack.com/api/users", 1, PROXY "/users");
    routes_drop(rs);
}

static void ties_go_to_the_earlier_route(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.example.com/v1", "https://{{.t}}.example.com/v1");

    expect_match(rs, "https://a.example.com/v1/x", 0, PROXY "/x");
    routes_drop(rs);

    rs = ROUTES("https://slack.com/api", "https://slack.com/api");
    expect_match(rs, "https://slack.com/api/x", 0, PROXY "/x");
    routes_drop(rs);
}

/* ---- rewriting -------------------------------------------------------- */

static void rewrite_keeps_rest_and_query_byte_for_byte(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://slack.com/api");

    expect_match(rs, "https://slack.com/api/chat.postMessage?channel=C1&text=a%20b+c%2F", 0,
                 PROXY "/chat.postMessage?channel=C1&text=a%20b+c%2F");
    expect_match(rs, "https://slack.com/api/a%2Fb/c%20d?x=%41&y", 0, PROXY "/a%2Fb/c%20d?x=%41&y");
    routes_drop(rs);
}

static void rewrite_salesforce(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://{{.instance}}.my.salesforce.com/");

    expect_match(rs, "https://acme.my.salesforce.com/services/data/v56.0/sobjects/Account", 0,
                 PROXY "/services/data/v56.0/sobjects/Account");
    routes_drop(rs);
}

static void rewrite_atlassian_path_placeholder(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://api.atlassian.com/ex/jira/{{.cloudId}}/rest/api");

    expect_match(rs, "https://api.atlassian.com/ex/jira/abc-123/rest/api/3/issue/X-1", 0,
                 PROXY "/3/issue/X-1");
    routes_drop(rs);
}

static void rewrite_exact_prefix_is_proxy_alone(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://slack.com/api");

    expect_match(rs, "https://slack.com/api", 0, PROXY);
    routes_drop(rs);
}

static void rewritten_may_be_null(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://slack.com/api");

    assert_ptr_equal(amp_route_match(rs, amp_curl_linked(), "https://slack.com/api/x", PROXY,
                                     NULL),
                     &rs->v[0]);
    assert_null(amp_route_match(rs, amp_curl_linked(), "https://slack.com/x", PROXY, NULL));
    assert_null(amp_route_match(rs, amp_curl_linked(), NULL, PROXY, NULL));
    routes_drop(rs);
}

static void no_routes_match_nothing(void **state)
{
    (void)state;
    struct amp_routes rs = { 0 };
    char *out = (char *)"untouched";

    assert_null(amp_route_match(&rs, amp_curl_linked(), "https://slack.com/api", PROXY, &out));
    assert_null(out);
}

/* ---- compiling -------------------------------------------------------- */

static void compile_fills_the_route(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.My.Salesforce.com:8443/a/{{.x}}/b",
                                   "http://slack.com");
    const struct amp_route *r = &rs->v[0];

    assert_string_equal(r->base_url, "https://*.My.Salesforce.com:8443/a/{{.x}}/b");
    assert_string_equal(r->scheme, "https");
    assert_int_equal(r->port, 8443);
    assert_int_equal(r->nlabels, 4);
    assert_null(r->labels[0]);
    assert_string_equal(r->labels[1], "my");
    assert_string_equal(r->labels[2], "salesforce");
    assert_string_equal(r->labels[3], "com");
    assert_int_equal(r->exact_labels, 3);
    assert_int_equal(r->nsegs, 3);
    assert_string_equal(r->segs[0], "a");
    assert_null(r->segs[1]);
    assert_string_equal(r->segs[2], "b");
    assert_int_equal(r->exact_segs, 2);

    r = &rs->v[1];
    assert_string_equal(r->scheme, "http");
    assert_int_equal(r->port, 80);
    assert_int_equal(r->nsegs, 0);
    routes_drop(rs);
}

static void compile_errors(void **state)
{
    (void)state;
    expect_compile_error("https://api-*.x.com");            /* placeholder inside a label */
    expect_compile_error("https://api{{.n}}.x.com");
    expect_compile_error("https://a.b-*.x.com");            /* ... after a good label */
    expect_compile_error("https://x.com/v1-*/y");           /* inside a segment */
    expect_compile_error("https://x.com/a/v1-*/y");
    expect_compile_error("https://x.com/api?key=1");        /* query */
    expect_compile_error("https://x.com/api#frag");         /* fragment */
    expect_compile_error("https://user@x.com/api");         /* user info */
    expect_compile_error("https://api..slack.com/api");     /* an empty label never matches */
    expect_compile_error("https://slack.com//api");         /* nor an empty segment */
    expect_compile_error("https://slack.com/api//x");
    {   /* hosts no DNS name can have: a 64-character label, 254 characters in all */
        char url[600];
        snprintf(url, sizeof(url), "https://%0*d.example.com/", 64, 0);
        expect_compile_error(url);
        snprintf(url, sizeof(url), "https://%0*d.%0*d.%0*d.%0*d.com/", 63, 0, 63, 0, 63, 0, 62, 0);
        expect_compile_error(url);
        struct amp_routes rs = { 0 };
        char err[256];
        snprintf(url, sizeof(url), "https://%0*d.example.com/", 63, 0); /* 63 is fine */
        rs.v = calloc(1, sizeof(*rs.v));
        rs.n = 1;
        assert_int_equal(amp_route_compile_in(NULL, &rs.v[0], url, amp_curl_linked(), err, sizeof(err)),
                         0);
        routes_free(&rs);
    }
    expect_compile_error("https://user:pw@x.com/api");
    expect_compile_error("ftp://x.com/api");                /* non-http scheme */
    expect_compile_error("file:///etc/passwd");
    expect_compile_error("not a url");                      /* not a URL */
    expect_compile_error("x.com/api");                      /* no scheme */
    expect_compile_error("");
    expect_compile_error("https://{{name}}.x.com");         /* malformed placeholder */
    expect_compile_error("https://{{.}}.x.com");
}

/* ---- percent-encoding (RFC 3986 §6.2.2) -------------------------------- */

/* An escaped unreserved character is that character (§6.2.2.2), its hex
 * in either case (§6.2.2.1): the provider reads /%61pi as /api, so the
 * route takes it; the rest goes on as the application wrote it. */
static void encoded_unreserved_is_the_character(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://slack.com/api", "https://h.example.com/a-b.c_d~e/v1",
                                   "https://slack.com/api/admin");
    char why[256];
    int near;

    expect_match(rs, "https://slack.com/%61pi/x", 0, PROXY "/x");
    expect_match(rs, "https://slack.com/%61%70%69", 0, PROXY);
    expect_match(rs, "https://slack.com/%61%70i/chat.%70ostMessage/%7euser?q=%61", 0,
                 PROXY "/chat.%70ostMessage/%7euser?q=%61");
    expect_match(rs, "https://slack.com/api/%61dmin/users.list", 2, PROXY "/users.list");
    expect_match(rs, "https://h.example.com/a%2Db%2Ec%5Fd%7ee/%76%31/x", 1, PROXY "/x");
    expect_match(rs, "https://h.example.com/a%2db%2ec%5fd%7Ee/v%31", 1, PROXY);
    /* libcurl decodes a host itself: matched as the name it connects to */
    expect_match(rs, "https://%73lack.com/%61pi/x", 0, PROXY "/x");
    assert_null(amp_route_why_not(&rs->v[0], amp_curl_linked(), "https://slack.com/%61pi/x",
                                  why, sizeof(why), &near));
    /* Not the same path: another letter's case, a reserved character
     * escaped (%2F is not '/'), an escaped '%', escapes cut short. */
    expect_no_match(rs, "https://slack.com/%41pi/x");
    expect_no_match(rs, "https://slack.com/%61pix/x");
    expect_no_match(rs, "https://slack.com/api%2Fadmin");
    expect_no_match(rs, "https://slack.com/%2Fapi/x");
    expect_no_match(rs, "https://slack.com/%2561pi/x");
    expect_no_match(rs, "https://slack.com/%6");
    expect_no_match(rs, "https://slack.com/%6/x");
    expect_no_match(rs, "https://slack.com/%zzapi/x");
    /* An escaped dot segment would climb out of the prefix once decoded
     * (/api/%2e%2e/admin is /admin): no route; dots in a name are fine. */
    expect_no_match(rs, "https://slack.com/api/%2e%2e/files/secret");
    expect_no_match(rs, "https://slack.com/api/%2E/x");
    expect_no_match(rs, "https://slack.com/api/.%2e/x");
    expect_no_match(rs, "https://slack.com/%61pi/x/%2e%2e");
    expect_match(rs, "https://slack.com/api/a%2eb/x", 0, PROXY "/a%2eb/x");
    expect_match(rs, "https://slack.com/api/%2e%2e%2e/x", 0, PROXY "/%2e%2e%2e/x");
    routes_drop(rs);
}

/* A base URL written with escapes matches the same URLs as one without;
 * an escaped reserved character matches itself, whatever its hex case. */
static void encoded_base_url_matches_the_same(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://x.example.com/%61pi", "https://y.example.com/a%2fb");

    expect_match(rs, "https://x.example.com/api/y", 0, PROXY "/y");
    expect_match(rs, "https://x.example.com/%61pi/y", 0, PROXY "/y");
    expect_match(rs, "https://x.example.com/%61%70%69/y", 0, PROXY "/y");
    expect_no_match(rs, "https://x.example.com/%61%50i/y"); /* %50 is P */
    expect_match(rs, "https://y.example.com/a%2Fb/z", 1, PROXY "/z");
    expect_match(rs, "https://y.example.com/a%2fb/z", 1, PROXY "/z");
    expect_match(rs, "https://y.example.com/%61%2f%62", 1, PROXY);
    expect_no_match(rs, "https://y.example.com/a/b/z");
    routes_drop(rs);

    /* A '%' that starts no escape: nothing decoded next to it makes one. */
    rs = ROUTES("https://z.example.com/%%34%31");
    expect_match(rs, "https://z.example.com/%%34%31/x", 0, PROXY "/x");
    expect_match(rs, "https://z.example.com/%%341/x", 0, PROXY "/x");
    expect_no_match(rs, "https://z.example.com/%41/x");
    expect_no_match(rs, "https://z.example.com/A/x");
    routes_drop(rs);
}

/* ---- loopback --------------------------------------------------------- */

/* The memo (the origin of the last URL, kept per handle) never changes a
 * verdict: each URL of a sequence, first primed with a neighbour sharing
 * its origin, matches and rewrites exactly as it does on its own. */
static void memo_gives_the_same_verdicts(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.my.salesforce.com", "https://slack.com/api",
                                   "https://slack.com/api/admin", "https://api.example.com:8443/v1",
                                   "http://routed.test");
    static const char *const urls[] = {
        "https://acme.my.salesforce.com/services/data/v56.0/query?q=1",
        "https://acme.my.salesforce.com/services/data/v57.0/sobjects/Account/001",
        "https://acme.my.salesforce.com/a/./b",
        "https://acme.my.salesforce.com/a/../services/x",
        "https://acme.my.salesforce.com/%2e%2e/x",
        "https://acme.my.salesforce.com/x#frag",
        "https://acme.my.salesforce.com/x?",
        "https://acme.my.salesforce.com/.well-known/x",
        "https://acme.my.salesforce.com/x y",
        "https://acme.my.salesforce.com/caf\xc3\xa9",
        "https://acme.my.salesforce.com@evil.test/x",
        "https://acme.my.salesforce.com.evil.test/x",
        "https://ACME.my.salesforce.com/upper",
        "https://acme.my.salesforce.com./dot",
        "https://acme.my.salesforce.com:443/port",
        "https://slack.com/api/chat.postMessage?x=%2F",
        "https://slack.com/%61pi/chat.postMessage",
        "https://slack.com/%61pi%2Fadmin/x",
        "https://slack.com/api/%61dmin/users.list",
        "https://slack.com/%2561pi/x",
        "https://%73lack.com/%61pi/x",
        "https://slack.com/apix/chat.postMessage",
        "https://slack.com/api/admin/users.list",
        "https://slack.com/api",
        "https://slack.com/api?x=1",
        "https://api.example.com:8443/v1/items",
        "https://api.example.com/v1/items",
        "http://acme.my.salesforce.com/http",
        "acme.my.salesforce.com/no-scheme",
        "http:///routed.test/secret",
        "http:///other.test/x",
        "http:///other.test/",
        "http:///routed.test/",
        "http:///acme.my.salesforce.com/x",
        "https://[::1]/ipv6",
        "https://user:pw@acme.my.salesforce.com/userinfo",
    };
    struct amp_url_memo memo = { 0 };
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        for (size_t prime = 0; prime < sizeof(urls) / sizeof(urls[0]); prime++) {
            char *a = NULL, *b = NULL;
            amp_url_memo_free(&memo);
            amp_route_decide(rs, amp_curl_linked(), urls[prime], PROXY, NULL, &memo, NULL);
            const struct amp_route *with =
                amp_route_decide(rs, amp_curl_linked(), urls[i], PROXY, &a, &memo, NULL);
            const struct amp_route *without = amp_route_match(rs, amp_curl_linked(), urls[i], PROXY, &b);
            if (with != without || (a && !b) || (!a && b) || (a && strcmp(a, b) != 0))
                fail_msg("'%s' after '%s': %s -> %s with the memo, %s -> %s without", urls[i],
                         urls[prime], with ? with->base_url : "none", a ? a : "-",
                         without ? without->base_url : "none", b ? b : "-");
            if (with && memo.url_len != strlen(urls[i]))
                fail_msg("'%s' after '%s': the memo says its length is %zu", urls[i], urls[prime],
                         memo.url_len);
            free(b); /* a is the memo's own buffer */
        }
    }
    amp_url_memo_free(&memo);
    routes_drop(rs);
}

/* A memo given a room of its caller's rewrites there while the URL fits,
 * moves to the heap, with every byte, when one does not, and stays there;
 * freed, it lets go of the heap's buffer, never of the room (ASan's
 * build would say). Each rewritten URL is the plain match's. */
static void memo_rewrites_in_its_room_then_out_of_it(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.my.salesforce.com", "https://slack.com/api");
    static const char *const urls[] = {
        "https://acme.my.salesforce.com/a",                  /* whole origin, fits */
        /* The same origin, longer: only its own part is copied after the
         * proxy's, which must have moved with it. */
        "https://acme.my.salesforce.com/services/data/v57.0/sobjects/Account/001?fields=Name",
        "https://acme.my.salesforce.com/b",                  /* fits, but the heap's now */
        "https://slack.com/api/conversations.history?channel=C0123456789&limit=200",
    };
    char room[40];
    struct amp_url_memo memo = { .room = room, .room_cap = sizeof(room) };
    int moved = 0;

    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        char *a = NULL, *b = NULL;
        assert_non_null(amp_route_decide(rs, amp_curl_linked(), urls[i], PROXY, &a, &memo, NULL));
        assert_non_null(amp_route_match(rs, amp_curl_linked(), urls[i], PROXY, &b));
        assert_string_equal(a, b);
        if (strlen(b) < sizeof(room) && !moved)
            assert_ptr_equal(a, room);
        else
            assert_ptr_not_equal(a, room);
        moved |= a != room;
        free(b);
    }
    assert_true(moved);
    amp_url_memo_free(&memo);
    assert_null(memo.buf);
    assert_ptr_equal(memo.room, room); /* the caller's, kept */
    routes_drop(rs);
}

/* One URL decided with memo (primed, when prime is not NULL, by a URL of
 * its origin first) exactly as without one: the same route, the same
 * rewritten URL. */
static void expect_memo_agrees(const struct amp_routes *rs, struct amp_url_memo *memo,
                               const char *prime, const char *url)
{
    char *a = NULL, *b = NULL;

    if (prime) {
        amp_url_memo_free(memo);
        amp_route_decide(rs, amp_curl_linked(), prime, PROXY, NULL, memo, NULL);
        if (!memo->o.whole)
            fail_msg("'%s' did not arm the whole-origin shortcut", prime);
    }
    const struct amp_route *with = amp_route_decide(rs, amp_curl_linked(), url, PROXY, &a, memo, NULL);
    const struct amp_route *without = amp_route_match(rs, amp_curl_linked(), url, PROXY, &b);
    if (with != without || !a != !b || (a && strcmp(a, b) != 0))
        fail_msg("'%s' after '%s': %s -> %s with the memo, %s -> %s without", url,
                 prime ? prime : "the one before", with ? with->base_url : "none", a ? a : "-",
                 without ? without->base_url : "none", b ? b : "-");
    /* The caller copies the URL with the length the memo gives. */
    if (with && memo->url_len != strlen(url))
        fail_msg("'%s': the memo says its length is %zu", url, memo->url_len);
    free(b); /* a is the memo's own buffer */
}

/* The memo's shortcut for an origin whose one route has no path (the
 * route is the whole origin: most providers' base URLs) answers only
 * where the general path answers the same: each hostile rest after a
 * plain URL of the origin, and the whole battery in a row on one memo
 * (its buffer, the proxy's part kept, reused by longer and shorter URLs
 * and by ones the shortcut leaves to the general path). */
static void whole_origin_shortcut_agrees(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.my.salesforce.com", "https://api.hubapi.com:8443/",
                                   "http://routed.test", "https://slack.com/api");
    static const char *const origins[] = {
        "https://acme.my.salesforce.com", "https://api.hubapi.com:8443", "http://routed.test",
    };
    char long_rest[600];
    memset(long_rest, 'a', sizeof(long_rest) - 1);
    long_rest[0] = '/';
    long_rest[sizeof(long_rest) - 1] = '\0';
    const char *const rests[] = {
        "/items/2?page=2", "/", "/?", "/x?", "/x??", "/x?a?b", "/x?a=/./b", "/x?a=%2e", "/x?a=/..",
        "/a/./b", "/a/../b", "/.", "/..", "/a/.", "/a/..", "/.hidden", "/v56.0/x", "/a.b/c", "/a./b",
        "/%2e%2e/x", "/%2E%2E/x", "/%2e/x", "/a/%2E", "/.%2e/x", "/%2f%2e", "/%41%42", "/%", "/%2",
        "/%2x", "/%252e", "/x#frag", "/x?q#f", "/#", "/x y", "/x?a b", "/x\ty", "/x\r\n",
        "/caf\xc3\xa9", "/x?caf\xc3\xa9", "/x\x7f", "/a\\b", "/x@evil.test/y", "/x?@evil.test",
        "//double//slash", "/UPPER/Case?Q=A", "/x?a=1&b=2;c", "/~user/%7E", long_rest,
        "/short",
    };
    struct amp_url_memo memo = { 0 };
    char url[1024];

    for (size_t o = 0; o < sizeof(origins) / sizeof(origins[0]); o++) {
        char prime[256];
        snprintf(prime, sizeof(prime), "%s/prime?x=1", origins[o]);
        for (size_t i = 0; i < sizeof(rests) / sizeof(rests[0]); i++) {
            snprintf(url, sizeof(url), "%s%s", origins[o], rests[i]);
            expect_memo_agrees(rs, &memo, prime, url);
        }
        /* In a row, the memo kept from one URL to the next. */
        amp_url_memo_free(&memo);
        expect_memo_agrees(rs, &memo, prime, prime);
        for (size_t i = 0; i < sizeof(rests) / sizeof(rests[0]); i++) {
            snprintf(url, sizeof(url), "%s%s", origins[o], rests[i]);
            expect_memo_agrees(rs, &memo, NULL, url);
        }
    }
    /* The same origin written otherwise, or another one: the general path. */
    static const char *const others[] = {
        "https://ACME.my.salesforce.com/x", "https://acme.my.salesforce.com:443/x",
        "https://acme.my.salesforce.com./x", "https://acme.my.salesforce.com@evil.test/x",
        "https://acme.my.salesforce.com.evil.test/x", "https://other.my.salesforce.com/x",
        "HTTPS://acme.my.salesforce.com/x", "https://api.hubapi.com/x", "http://routed.test:80/x",
        "https://slack.com/api/x", "https://slack.com/apix",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        expect_memo_agrees(rs, &memo, "https://acme.my.salesforce.com/prime", others[i]);
    /* A route with a path never arms it: its paths are matched each time. */
    amp_url_memo_free(&memo);
    amp_route_decide(rs, amp_curl_linked(), "https://slack.com/api/x", PROXY, NULL, &memo, NULL);
    assert_non_null(memo.o.prefix);
    assert_null(memo.o.whole);
    amp_url_memo_free(&memo);
    routes_drop(rs);
}

/* A handle's first URL takes the origin another handle decided (a program
 * making a handle per request is parsed once, not per request): the same
 * verdicts as without a memo, the config's copy of the prefix used; a
 * table that is full, another libcurl flavour, or a rest the shortcut
 * leaves alone decide as before. */
static void new_memo_takes_another_handles_origin(void **state)
{
    (void)state;
    struct amp_routes *rs = ROUTES("https://*.my.salesforce.com", "https://slack.com/api");
    struct amp_url_memo first = { 0 }, next = { 0 };
    const char *url = "https://acme.my.salesforce.com/items/1";

    assert_null(amp_origins_find(rs->origins, amp_curl_linked(), url));
    expect_memo_agrees(rs, &first, NULL, url);
    const struct amp_origin *o = amp_origins_find(rs->origins, amp_curl_linked(), url);
    assert_non_null(o);
    assert_int_equal(o->len, strlen("https://acme.my.salesforce.com/"));
    expect_memo_agrees(rs, &next, NULL, "https://acme.my.salesforce.com/items/2?page=2");
    assert_ptr_equal(next.o.prefix, o->prefix);
    assert_null(next.owned);
    amp_url_memo_free(&next);
    /* Its prefix, then anything the shortcut must leave to libcurl's parse. */
    static const char *const rests[] = { "/a/../b", "/%2e%2e/x", "/x#f", "/x y", "/x?" };
    char u[256];
    for (size_t i = 0; i < sizeof(rests) / sizeof(rests[0]); i++) {
        snprintf(u, sizeof(u), "https://acme.my.salesforce.com%s", rests[i]);
        expect_memo_agrees(rs, &next, NULL, u);
        amp_url_memo_free(&next);
    }
    /* Another flavour of libcurl in the process parses for itself. */
    struct amp_curl other = *amp_curl_linked();
    assert_null(amp_origins_find(rs->origins, &other, url));
    assert_non_null(amp_route_decide(rs, &other, url, PROXY, NULL, &next, NULL));
    assert_non_null(amp_origins_find(rs->origins, &other, url));
    amp_url_memo_free(&next);
    /* More origins than the table holds: the rest kept by each memo. */
    for (int i = 0; i < AMP_ORIGINS_SLOTS + 4; i++) {
        snprintf(u, sizeof(u), "https://w%d.my.salesforce.com/x", i);
        expect_memo_agrees(rs, &next, NULL, u);
        assert_non_null(next.o.prefix);
        expect_memo_agrees(rs, &next, NULL, u);
        amp_url_memo_free(&next);
    }
    snprintf(u, sizeof(u), "https://w%d.my.salesforce.com/x", AMP_ORIGINS_SLOTS + 3);
    assert_null(amp_origins_find(rs->origins, amp_curl_linked(), u));
    expect_memo_agrees(rs, &next, NULL, u);
    assert_non_null(next.owned);
    amp_url_memo_free(&next);
    /* The first memo still answers its own origin, the table full or not. */
    expect_memo_agrees(rs, &first, NULL, "https://acme.my.salesforce.com/items/3");
    amp_url_memo_free(&first);
    routes_drop(rs);
}

static void loopback_hosts(void **state)
{
    (void)state;
    assert_true(amp_host_is_loopback("127.0.0.1"));
    assert_true(amp_host_is_loopback("127.5.6.7"));
    assert_true(amp_host_is_loopback("127.255.255.255"));
    assert_true(amp_host_is_loopback("localhost"));
    assert_true(amp_host_is_loopback("LocalHost"));
    assert_true(amp_host_is_loopback("[::1]"));

    assert_false(amp_host_is_loopback("128.0.0.1"));
    assert_false(amp_host_is_loopback("126.0.0.1"));
    assert_false(amp_host_is_loopback("10.0.0.1"));
    assert_false(amp_host_is_loopback("0.0.0.0"));
    assert_false(amp_host_is_loopback("127.0.0.1.evil.test"));
    assert_false(amp_host_is_loopback("127.0.0.256"));
    assert_false(amp_host_is_loopback("example.com"));
    assert_false(amp_host_is_loopback("localhost.evil.test"));
    assert_false(amp_host_is_loopback("[::2]"));
    assert_false(amp_host_is_loopback(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholder_covers_one_host_label),
        cmocka_unit_test(star_covers_one_host_label),
        cmocka_unit_test(placeholder_covers_one_path_segment),
        cmocka_unit_test(host_is_case_insensitive),
        cmocka_unit_test(default_port_equals_no_port),
        cmocka_unit_test(non_default_port_must_match_exactly),
        cmocka_unit_test(path_prefix_matches_at_segment_boundary),
        cmocka_unit_test(look_alikes_never_match),
        cmocka_unit_test(exact_host_beats_wildcard_host),
        cmocka_unit_test(longer_path_prefix_wins),
        cmocka_unit_test(ties_go_to_the_earlier_route),
        cmocka_unit_test(rewrite_keeps_rest_and_query_byte_for_byte),
        cmocka_unit_test(rewrite_salesforce),
        cmocka_unit_test(rewrite_atlassian_path_placeholder),
        cmocka_unit_test(rewrite_exact_prefix_is_proxy_alone),
        cmocka_unit_test(rewritten_may_be_null),
        cmocka_unit_test(no_routes_match_nothing),
        cmocka_unit_test(compile_fills_the_route),
        cmocka_unit_test(compile_errors),
        cmocka_unit_test(encoded_unreserved_is_the_character),
        cmocka_unit_test(encoded_base_url_matches_the_same),
        cmocka_unit_test(memo_gives_the_same_verdicts),
        cmocka_unit_test(memo_rewrites_in_its_room_then_out_of_it),
        cmocka_unit_test(whole_origin_shortcut_agrees),
        cmocka_unit_test(new_memo_takes_another_handles_origin),
        cmocka_unit_test(loopback_hosts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
