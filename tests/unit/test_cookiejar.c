/* cookiejar.c against what libcurl 7.88's lib/cookie.c makes of the same
 * input: a Set-Cookie of an answer for a host and path filed as the
 * Netscape line libcurl's jar would hold (or refused), the cookies a
 * request to a host and path carries, and their order. */
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

#include "cookiejar.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1700000000

struct filing {
    const char *set_cookie, *host, *path;
    int secure;
    const char *line; /* NULL: refused */
};

static const struct filing filings[] = {
    /* Host-only, the default path: the request path's folder, with its '/'. */
    { " h=2\r\n", "acme.my.salesforce.com", "/services/data/v1", 1,
      "acme.my.salesforce.com\tFALSE\t/services/data/\tFALSE\t0\th\t2" },
    { "h=2", "api.example.com", "/", 1, "api.example.com\tFALSE\t/\tFALSE\t0\th\t2" },
    { "h=2", "api.example.com", "/x", 1, "api.example.com\tFALSE\t/\tFALSE\t0\th\t2" },
    /* Domain (its dot dropped), Path as written, HttpOnly, Secure over https. */
    { "d=1; Domain=.salesforce.com; Path=/services; HttpOnly; Secure", "acme.my.salesforce.com",
      "/a/b", 1, "#HttpOnly_.salesforce.com\tTRUE\t/services\tTRUE\t0\td\t1" },
    { "d=1; domain=acme.my.salesforce.com", "acme.my.salesforce.com", "/", 1,
      ".acme.my.salesforce.com\tTRUE\t/\tFALSE\t0\td\t1" },
    /* A domain the host is not in, or a bare suffix: refused. */
    { "x=9; Domain=evil.test", "acme.my.salesforce.com", "/", 1, NULL },
    { "x=9; Domain=com", "api.example.com", "/", 1, NULL },
    { "x=9; Domain=ample.com", "api.example.com", "/", 1, NULL },
    /* An IP address: only itself, host-only. */
    { "i=1; Domain=10.0.0.1", "10.0.0.1", "/", 0, "10.0.0.1\tFALSE\t/\tFALSE\t0\ti\t1" },
    /* Secure from an http URL: refused. */
    { "s=1; Secure", "api.example.com", "/", 0, NULL },
    /* Max-Age wins over Expires; 0 or bad: expired (1). */
    { "m=1; Max-Age=60; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "a.example.com", "/", 1,
      "a.example.com\tFALSE\t/\tFALSE\t1700000060\tm\t1" },
    { "m=1; Max-Age=0", "a.example.com", "/", 1, "a.example.com\tFALSE\t/\tFALSE\t1\tm\t1" },
    { "m=1; Max-Age=-5", "a.example.com", "/", 1, "a.example.com\tFALSE\t/\tFALSE\t1\tm\t1" },
    { "e=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "a.example.com", "/", 1,
      "a.example.com\tFALSE\t/\tFALSE\t1445412480\te\t1" },
    { "e=1; Expires=not a date", "a.example.com", "/", 1,
      "a.example.com\tFALSE\t/\tFALSE\t0\te\t1" },
    /* Blanks around the name and value go; an empty value stays empty. */
    { "  sp  =  v w  ; path=/p", "a.example.com", "/", 1, "a.example.com\tFALSE\t/p\tFALSE\t0\tsp\tv w" },
    { "empty=", "a.example.com", "/", 1, "a.example.com\tFALSE\t/\tFALSE\t0\tempty\t" },
    /* No '=' in the first pair, a tab or a control byte in the value: refused. */
    { "justaword; Path=/", "a.example.com", "/", 1, NULL },
    { "t=a\tb", "a.example.com", "/", 1, NULL },
    { "c=a\x01" "b", "a.example.com", "/", 1, NULL },
    /* The prefixes. */
    { "__Secure-a=1", "a.example.com", "/", 1, NULL },
    { "__Secure-a=1; Secure", "a.example.com", "/", 1, "a.example.com\tFALSE\t/\tTRUE\t0\t__Secure-a\t1" },
    { "__Host-a=1; Secure; Path=/", "a.example.com", "/x/y", 1, "a.example.com\tFALSE\t/\tTRUE\t0\t__Host-a\t1" },
    { "__Host-a=1; Secure; Path=/; Domain=example.com", "a.example.com", "/", 1, NULL },
    { "__Host-a=1; Secure", "a.example.com", "/x/y", 1, NULL },
};

static void filed_as_libcurl_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(filings); i++) {
        const struct filing *f = &filings[i];
        char out[8192];
        int rc = amp_cookie_from_header(f->set_cookie, strlen(f->set_cookie), f->host, f->path,
                                        f->secure, NOW, curl_getdate, out, sizeof(out));
        if (!f->line) {
            if (rc != -1)
                fail_msg("%s: filed as %s, libcurl refuses it", f->set_cookie, out);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: refused, libcurl files it as %s", f->set_cookie, f->line);
        if (strcmp(out, f->line) != 0)
            fail_msg("%s:\n  got  %s\n  want %s", f->set_cookie, out, f->line);
    }
}

static void oversized_refused(void **state)
{
    char big[6000], out[8192];

    (void)state;
    memset(big, 'a', sizeof(big));
    memcpy(big, "n=", 2);
    assert_int_equal(amp_cookie_from_header(big, sizeof(big), "a.example.com", "/", 1, NOW,
                                            curl_getdate, out, sizeof(out)), -1);
    assert_int_equal(amp_cookie_from_header(big, 4200, "a.example.com", "/", 1, NOW,
                                            curl_getdate, out, sizeof(out)), -1);
}

struct sending {
    const char *line, *host, *path;
    int secure, sent;
};

static const struct sending sendings[] = {
    { "a.example.com\tFALSE\t/\tFALSE\t0\tn\tv", "a.example.com", "/x", 1, 1 },
    { "a.example.com\tFALSE\t/\tFALSE\t0\tn\tv", "A.EXAMPLE.com", "/x", 1, 1 },
    { "a.example.com\tFALSE\t/\tFALSE\t0\tn\tv", "b.a.example.com", "/x", 1, 0 },
    { ".example.com\tTRUE\t/\tFALSE\t0\tn\tv", "b.a.example.com", "/x", 1, 1 },
    { ".example.com\tTRUE\t/\tFALSE\t0\tn\tv", "example.com", "/", 1, 1 },
    { ".example.com\tTRUE\t/\tFALSE\t0\tn\tv", "badexample.com", "/", 1, 0 },
    { "a.example.com\tFALSE\t/api/\tFALSE\t0\tn\tv", "a.example.com", "/api", 1, 1 },
    { "a.example.com\tFALSE\t/api/\tFALSE\t0\tn\tv", "a.example.com", "/api/x?q=/", 1, 1 },
    { "a.example.com\tFALSE\t/api\tFALSE\t0\tn\tv", "a.example.com", "/apix", 1, 0 },
    { "a.example.com\tFALSE\t/api\tFALSE\t0\tn\tv", "a.example.com", "/", 1, 0 },
    { "a.example.com\tFALSE\t/\tTRUE\t0\tn\tv", "a.example.com", "/", 0, 0 },
    { "a.example.com\tFALSE\t/\tTRUE\t0\tn\tv", "a.example.com", "/", 1, 1 },
    { "a.example.com\tFALSE\t/\tFALSE\t1\tn\tv", "a.example.com", "/", 1, 0 },
    { "a.example.com\tFALSE\t/\tFALSE\t1700000001\tn\tv", "a.example.com", "/", 1, 1 },
    { "#HttpOnly_a.example.com\tFALSE\t/\tFALSE\t0\tn\tv", "a.example.com", "/", 1, 1 },
    { ".10.0.0.1\tTRUE\t/\tFALSE\t0\tn\tv", "10.0.0.1", "/", 1, 1 },
    { ".0.0.1\tTRUE\t/\tFALSE\t0\tn\tv", "10.0.0.1", "/", 1, 0 },
};

static void sent_where_libcurl_sends(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(sendings); i++) {
        const struct sending *s = &sendings[i];
        char line[256];
        struct amp_cookie co;
        snprintf(line, sizeof(line), "%s", s->line);
        assert_int_equal(amp_cookie_read(line, &co), 0);
        if (amp_cookie_matches(&co, s->host, s->path, s->secure, NOW) != s->sent)
            fail_msg("%s to %s%s: %s", s->line, s->host, s->path, s->sent ? "not sent" : "sent");
    }
}

static void read_back(void **state)
{
    char line[] = "#HttpOnly_.example.com\tTRUE\t/p\tTRUE\t42\tname\t";
    struct amp_cookie co;

    (void)state;
    assert_int_equal(amp_cookie_read(line, &co), 0);
    assert_string_equal(co.domain, "example.com");
    assert_true(co.tailmatch && co.secure && co.httponly);
    assert_string_equal(co.path, "/p");
    assert_int_equal(co.expires, 42);
    assert_string_equal(co.name, "name");
    assert_string_equal(co.value, "");
    char comment[] = "# Netscape HTTP Cookie File";
    assert_int_equal(amp_cookie_read(comment, &co), -1);
}

/* cookie_sort(): longer path, longer domain, longer name, newer first. */
static void ordered_as_libcurl(void **state)
{
    struct amp_cookie c[] = {
        { .domain = "a.example.com", .path = "/", .name = "old", .order = 0 },
        { .domain = "a.example.com", .path = "/", .name = "new", .order = 1 },
        { .domain = "example.com", .path = "/services", .name = "d", .order = 2 },
        { .domain = "a.example.com", .path = "/services/data/", .name = "h", .order = 3 },
        { .domain = "example.com", .path = "/", .name = "x", .order = 4 },
        { .domain = "a.example.com", .path = "/", .name = "longer", .order = 5 },
    };
    struct amp_cookie *v[N(c)];
    const char *want[] = { "h", "d", "longer", "new", "old", "x" };

    (void)state;
    for (size_t i = 0; i < N(c); i++)
        v[i] = &c[i];
    amp_cookie_sort(v, N(c));
    for (size_t i = 0; i < N(c); i++)
        assert_string_equal(v[i]->name, want[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filed_as_libcurl_files),  cmocka_unit_test(oversized_refused),
        cmocka_unit_test(sent_where_libcurl_sends), cmocka_unit_test(read_back),
        cmocka_unit_test(ordered_as_libcurl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
