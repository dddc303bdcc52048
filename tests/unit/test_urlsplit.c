/* amp_url_split against libcurl's URL API: every URL it cuts, out of
 * ~100,000 made from pieces that are plain and pieces that are not, must
 * be one curl_url accepts, with the same scheme, host, port and path and
 * no user, password, query or fragment. The base URLs routes are written
 * with must take the short way. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "urlsplit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const schemes[] = {
    "https://", "http://", "HTTPS://", "Http://", "ftp://", "https:/", "https:///", "https:",
    "httpsx://", "",
};

static const char *hosts[] = {
    "x.com", "a.b.example.com", "API.Example.COM", "xampshimphx.my.salesforce.com",
    "3.basecampapi.com", "api-eu1.example.test", "a_b.example", "-a.com", "a-.com", "abc",
    "x", "localhost", "x.com.", "x.com..", ".x.com", "a..b", "127.0.0.1", "127.1", "0x7f.1",
    "0x7f000001", "deadbeef", "dead.beef", "1.2.3", "123", "1e3", "0177.0.0.1", "feed.cafe.x",
    "ex%41mple.com", "ex ample.com", "[::1]", "[fe80::1%25eth0]", "user@x.com", "u:p@x.com",
    "@x.com", "x.com@y.com", "caf\xc3\xa9.com", "x~y.com", "x!y.com", "x*y.com", "x{y}.com",
    "x\\y.com", "x=y.com", "x;y.com", "x,y.com", "x+y.com", "x&y.com", "x$y.com", "x'y.com",
    "x(y).com", "x.com\t", "xn--caf-dma.com",
    NULL, NULL, NULL, NULL, /* long ones, made in main */
};

static const char *const ports[] = {
    "", ":", ":0", ":1", ":80", ":443", ":8080", ":65535", ":65536", ":080", ":00", ":99999",
    ":123456", ":x", ":8a", ":-1", ": 80",
};

static const char *const paths[] = {
    "", "/", "/a", "/a/b", "/api/v1", "/a/", "//", "/a//b", "/.", "/./a", "/..", "/a/..",
    "/a/../b", "/a/./b", "/.a", "/a.", "/..a", "/a..", "/...", "/a.b", "/%2e", "/%2e%2e/x",
    "/a%20b", "/a%2Fb", "/a b", "/a?x=1", "/a#f", "?q", "#f", "?", "#", "/~u", "/!$&'()*+,;=:@",
    "/xampshimphx/x", "/ex/jira/xampshimphx/rest/api", "/caf\xc3\xa9", "/a\\b", "/a{b}",
    "/a\"b", "/a<b>", "/a|b", "/a^b", "/a`b", "/a\x7f", "/a\tb", "/a\nb", "/services/data/v56.0",
    "/a/b/c/d/e/f/g", ".", "a", "/a@b", "/a:b", "/:", "/@",
};

struct curl_parts {
    char *scheme, *host, *port, *path;
    int extra; /* a user, password, query or fragment */
};

static int curl_parse(const char *url, struct curl_parts *out)
{
    static const CURLUPart extras[] = { CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_QUERY,
                                        CURLUPART_FRAGMENT };
    CURLU *u = curl_url();
    int ok = 0;

    memset(out, 0, sizeof(*out));
    assert_non_null(u);
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &out->scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &out->host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &out->port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &out->path, 0) == CURLUE_OK) {
        ok = 1;
        for (size_t i = 0; i < N(extras); i++) {
            char *part = NULL;
            if (curl_url_get(u, extras[i], &part, 0) == CURLUE_OK)
                out->extra = 1;
            curl_free(part);
        }
    }
    curl_url_cleanup(u);
    return ok;
}

static void curl_parts_free(struct curl_parts *p)
{
    curl_free(p->scheme);
    curl_free(p->host);
    curl_free(p->port);
    curl_free(p->path);
}

/* url: amp_url_split either declines it or gives libcurl's parts. 1 when
 * it took it. */
static int check(const char *url)
{
    struct amp_url_split s;
    struct curl_parts c;

    if (!amp_url_split(url, &s))
        return 0;
    if (!curl_parse(url, &c))
        fail_msg("'%s' was cut, but libcurl refuses it", url);
    if (strcmp(s.scheme, c.scheme) != 0)
        fail_msg("'%s': scheme %s, libcurl's %s", url, s.scheme, c.scheme);
    if (strlen(c.host) != s.host_len || memcmp(c.host, s.host, s.host_len) != 0)
        fail_msg("'%s': host %.*s, libcurl's %s", url, (int)s.host_len, s.host, c.host);
    if (strtol(c.port, NULL, 10) != s.port)
        fail_msg("'%s': port %ld, libcurl's %s", url, s.port, c.port);
    if (strlen(c.path) != s.path_len || memcmp(c.path, s.path, s.path_len) != 0)
        fail_msg("'%s': path %.*s, libcurl's %s", url, (int)s.path_len, s.path, c.path);
    if (c.extra)
        fail_msg("'%s': libcurl finds a user, password, query or fragment", url);
    curl_parts_free(&c);
    return 1;
}

static void every_cut_is_libcurls(void **state)
{
    (void)state;
    size_t taken = 0, total = 0;
    char url[1024];

    for (size_t s = 0; s < N(schemes); s++)
        for (size_t h = 0; h < N(hosts); h++)
            for (size_t p = 0; p < N(ports); p++)
                for (size_t q = 0; q < N(paths); q++) {
                    snprintf(url, sizeof(url), "%s%s%s%s", schemes[s], hosts[h], ports[p], paths[q]);
                    taken += check(url);
                    total++;
                }
    /* Plain ones by the thousand: not a test that declines everything. */
    if (taken < 3000)
        fail_msg("only %zu of %zu URLs cut", taken, total);
}

static void route_base_urls_take_the_short_way(void **state)
{
    (void)state;
    static const char *const plain[] = {
        "https://xampshimphx.my.salesforce.com",
        "https://slack.com/api",
        "https://api.atlassian.com/ex/jira/xampshimphx/rest/api",
        "https://xampshimphx.api.xampshimphx.dynamics.com/api/data",
        "https://3.basecampapi.com/xampshimphx",
        "http://localhost:8080/v1",
        "http://127.0.0.1.example:9/x",
        "https://api1.provider1.test/v2/data",
        "https://h.example.com:443",
    };
    for (size_t i = 0; i < N(plain); i++)
        if (!check(plain[i]))
            fail_msg("'%s' was not cut", plain[i]);
    /* libcurl rewrites these, or says more of them than the plain parts. */
    static const char *const other[] = {
        "https://127.0.0.1/", "https://0x7f.1/", "https://x.com/a/../b", "https://x.com/./a",
        "https://x.com/a?q", "https://u@x.com/", "HTTPS://x.com/", "https://x.com:080/",
        "https://[::1]:9443/x", "https://x.com/a%2e", "https://x.com:/",
    };
    for (size_t i = 0; i < N(other); i++)
        if (check(other[i]))
            fail_msg("'%s' was cut", other[i]);
}

int main(void)
{
    char label63[64], label64[65], host253[300], host254[300];

    memset(label63, 'a', 63), label63[63] = '\0';
    memset(label64, 'b', 64), label64[64] = '\0';
    snprintf(host253, sizeof(host253), "%s.%s.%s.%.61s", label63, label63, label63, label63);
    snprintf(host254, sizeof(host254), "%s.%s.%s.%.62s", label63, label63, label63, label63);
    hosts[N(hosts) - 4] = label63;
    hosts[N(hosts) - 3] = label64;
    hosts[N(hosts) - 2] = host253;
    hosts[N(hosts) - 1] = host254;

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_cut_is_libcurls),
        cmocka_unit_test(route_base_urls_take_the_short_way),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
