/* Merging the application's headers with ours: amp_headers_merge and
 * amp_header_is_ours. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "config.h"
#include "curlapi.h"
#include "headers.h"
#include "log.h"
#include "route.h"

#define PROJECT "3f2c9e4a-1b7d-4c8e-9a6f-0d5e2b1c7a93"

/* The headers a route carries, as headers.c makes them. */
#define H(n, v, s) (&(const struct amp_header){ .name = n, .value = v, .secret = s, .line = n ": " v })
static const struct amp_header *const ours_v[] = {
    H("x-amp-proxy-version", "1", 0),
    H("x-amp-project-id", PROJECT, 0),
    H("x-api-key", "k-secret-123", 1),
    H("x-amp-installation-id", "inst-1", 0),
    H("x-amp-rate-limiter-mode", "throttle", 0),
};
static const struct amp_route route = {
    .base_url = "https://slack.com/api",
    .headers = ours_v,
    .nheaders = sizeof(ours_v) / sizeof(ours_v[0]),
};

/* ---- helpers ---------------------------------------------------------- */

#define MAX_NODES 32

static struct curl_slist *list_of(const char *const *lines)
{
    const struct amp_curl *c = amp_curl_linked();
    struct curl_slist *l = NULL;

    for (; *lines; lines++) {
        struct curl_slist *next = c->slist_append(l, *lines);
        assert_non_null(next);
        l = next;
    }
    return l;
}

#define LIST(...) list_of((const char *const[]){ __VA_ARGS__, NULL })
#define LINES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* list must hold exactly want (NULL-terminated), in order. */
static void expect_list(const struct curl_slist *list, const char *const *want)
{
    size_t i = 0;

    for (; want[i]; i++, list = list->next) {
        if (!list)
            fail_msg("list ends after %zu lines, expected '%s' next", i, want[i]);
        if (strcmp(list->data, want[i]) != 0)
            fail_msg("line %zu is '%s', expected '%s'", i, list->data, want[i]);
    }
    if (list)
        fail_msg("list has more than %zu lines: '%s'", i, list->data);
}

/* How many lines of list carry header name (case-insensitive). */
static size_t count_named(const struct curl_slist *list, const char *name)
{
    size_t n = 0, len = strlen(name);

    for (; list; list = list->next) {
        const char *d = list->data;
        if (strncasecmp(d, name, len) == 0) {
            d += len;
            d += strspn(d, " \t");
            n += *d == ':' || *d == ';';
        }
    }
    return n;
}

/* A snapshot of a list: its nodes and their strings, to prove it unchanged. */
struct snapshot {
    size_t n;
    const struct curl_slist *node[MAX_NODES];
    const char *data_ptr[MAX_NODES];
    char *data[MAX_NODES];
};

static void take(struct snapshot *s, const struct curl_slist *l)
{
    for (s->n = 0; l; l = l->next, s->n++) {
        assert_true(s->n < MAX_NODES);
        s->node[s->n] = l;
        s->data_ptr[s->n] = l->data;
        s->data[s->n] = strdup(l->data);
        assert_non_null(s->data[s->n]);
    }
}

static void expect_unchanged(struct snapshot *s, const struct curl_slist *l)
{
    size_t i = 0;

    for (; l; l = l->next, i++) {
        assert_true(i < s->n);
        assert_ptr_equal(l, s->node[i]);
        assert_ptr_equal(l->data, s->data_ptr[i]);
        assert_string_equal(l->data, s->data[i]);
    }
    assert_int_equal(i, s->n);
    for (i = 0; i < s->n; i++)
        free(s->data[i]);
}

/* ---- merging ---------------------------------------------------------- */

static void app_headers_kept_in_order_ours_appended(void **state)
{
    (void)state;
    const struct amp_curl *c = amp_curl_linked();
    struct curl_slist *app = LIST("Accept: application/json", "Content-Type: text/plain",
                                  "Authorization: Bearer xoxb-1", "X-Custom;");
    struct curl_slist *out = amp_headers_merge(app, &route, 1);

    assert_non_null(out);
    expect_list(out, LINES("Accept: application/json", "Content-Type: text/plain",
                           "Authorization: Bearer xoxb-1", "X-Custom;",
                           "x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: k-secret-123", "x-amp-installation-id: inst-1",
                           "x-amp-rate-limiter-mode: throttle"));
    amp_headers_free(out);
    c->slist_free_all(app);
}

/* Not copied (the list of a routed request): the application's own strings,
 * so that a line it rewrites in place goes out as rewritten; the rest of
 * the list is the same as a copied one's. */
static void app_lines_not_copied_are_its_own(void **state)
{
    (void)state;
    const struct amp_curl *c = amp_curl_linked();
    struct curl_slist *app = LIST("Accept: application/json", "Host: example.com", "X-App: one");
    struct curl_slist *out = amp_headers_merge(app, &route, 0);

    assert_non_null(out);
    assert_ptr_equal(out->data, app->data);
    assert_ptr_equal(out->next->data, app->next->next->data);
    strcpy(app->next->next->data, "X-App: two");
    expect_list(out, LINES("Accept: application/json", "X-App: two", "x-amp-proxy-version: 1",
                           "x-amp-project-id: " PROJECT, "x-api-key: k-secret-123",
                           "x-amp-installation-id: inst-1", "x-amp-rate-limiter-mode: throttle"));
    amp_headers_free(out);
    c->slist_free_all(app);
}

static void no_app_headers_gives_ours(void **state)
{
    (void)state;
    struct curl_slist *out = amp_headers_merge(NULL, &route, 1);

    expect_list(out, LINES("x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: k-secret-123", "x-amp-installation-id: inst-1",
                           "x-amp-rate-limiter-mode: throttle"));
    amp_headers_free(out);
}

static void app_headers_named_like_ours_dropped(void **state)
{
    (void)state;
    const struct amp_curl *c = amp_curl_linked();
    struct curl_slist *app = LIST("Accept: */*", "x-api-key: the-app-key",
                                  "X-Amp-Project-Id: 00000000-0000-0000-0000-000000000000",
                                  "x-api-key;", "X-API-KEY : spaced", "x-amp-proxy-version:",
                                  "X-AMP-INSTALLATION-ID: other", "x-amp-integration-name: x",
                                  "x-amp-group-ref;", "x-amp-rate-limiter-mode: none",
                                  "x-api-keyx: kept", "User-Agent: test");
    struct curl_slist *out = amp_headers_merge(app, &route, 1);

    expect_list(out, LINES("Accept: */*", "x-api-keyx: kept", "User-Agent: test",
                           "x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: k-secret-123", "x-amp-installation-id: inst-1",
                           "x-amp-rate-limiter-mode: throttle"));
    /* none of ours twice; the ones the route does not send, not at all */
    for (size_t i = 0; i < amp_header_count; i++) {
        const char *name = amp_header_names[i];
        size_t want = (strcmp(name, "x-amp-integration-name") == 0 ||
                       strcmp(name, "x-amp-group-ref") == 0) ? 0 : 1;
        if (count_named(out, name) != want)
            fail_msg("%s appears %zu times, expected %zu", name, count_named(out, name), want);
    }
    amp_headers_free(out);
    c->slist_free_all(app);
}

/* The proxy's Host goes with a routed request: the application's (any
 * spelling, a value or none) is dropped, and "Host" in drop_headers adds no
 * "Host:" that would take libcurl's own away. */
static void app_host_never_reaches_the_proxy(void **state)
{
    (void)state;
    const struct amp_curl *c = amp_curl_linked();
    static char *drop_v[] = { "Host", "Authorization" };
    struct amp_route r = route;
    struct curl_slist *app = LIST("Host: acme.my.salesforce.com", "Accept: */*", "host:other",
                                  "HOST ; x", "Host;", "Hostname: kept", "X-Host: kept");

    r.drop = drop_v;
    r.ndrop = 2;
    struct curl_slist *out = amp_headers_merge(app, &r, 1);
    expect_list(out, LINES("Accept: */*", "Hostname: kept", "X-Host: kept",
                           "x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                           "x-api-key: k-secret-123", "x-amp-installation-id: inst-1",
                           "x-amp-rate-limiter-mode: throttle", "Authorization:"));
    amp_headers_free(out);
    c->slist_free_all(app);
}

static void app_list_not_modified(void **state)
{
    (void)state;
    const struct amp_curl *c = amp_curl_linked();
    struct curl_slist *app = LIST("Accept: */*", "x-api-key: the-app-key", "X-Trace: 1",
                                  "X-API-KEY :", "Connection: close");
    struct snapshot before;

    take(&before, app);
    struct curl_slist *out = amp_headers_merge(app, &route, 1);
    assert_non_null(out);
    expect_unchanged(&before, app);

    /* and the result shares nothing with it */
    for (const struct curl_slist *o = out; o; o = o->next)
        for (const struct curl_slist *a = app; a; a = a->next) {
            assert_ptr_not_equal(o, a);
            assert_ptr_not_equal(o->data, a->data);
        }
    amp_headers_free(out);
    c->slist_free_all(app);
}

/* Past the 64 lines whose verdicts the merge keeps from its first pass:
 * every line is still judged, ours and Host dropped on both sides of it. */
static void long_app_list_judged_past_64_lines(void **state)
{
    (void)state;
    const struct amp_curl *c = amp_curl_linked();
    struct curl_slist *app = NULL;
    char line[64];

    for (int i = 0; i < 70; i++) {
        if (i == 3 || i == 63 || i == 64 || i == 69)
            snprintf(line, sizeof(line), "x-api-key: app-%d", i);
        else if (i == 66)
            snprintf(line, sizeof(line), "Host: h%d", i);
        else
            snprintf(line, sizeof(line), "X-Line-%d: v", i);
        app = c->slist_append(app, line);
        assert_non_null(app);
    }
    struct curl_slist *out = amp_headers_merge(app, &route, 1);
    const struct curl_slist *o = out;
    for (int i = 0; i < 70; i++) {
        if (i == 3 || i == 63 || i == 64 || i == 66 || i == 69)
            continue;
        snprintf(line, sizeof(line), "X-Line-%d: v", i);
        assert_non_null(o);
        assert_string_equal(o->data, line);
        o = o->next;
    }
    expect_list(o, LINES("x-amp-proxy-version: 1", "x-amp-project-id: " PROJECT,
                         "x-api-key: k-secret-123", "x-amp-installation-id: inst-1",
                         "x-amp-rate-limiter-mode: throttle"));
    amp_headers_free(out);
    c->slist_free_all(app);
}

/* ---- amp_header_is_ours ----------------------------------------------- */

static void header_is_ours(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "x-api-key: 1", "X-API-KEY: 1", "x-api-key;", "x-api-key:", "X-API-KEY :",
        "x-api-key\t: 1", "X-Amp-Project-Id: p", "x-amp-proxy-version: 1",
        "x-amp-installation-id: i", "x-amp-integration-name: n", "x-amp-group-ref: g",
        "x-amp-rate-limiter-mode: throttle",
    };
    static const char *const no[] = {
        "x-api-keyx: 1", "x-api-ke: 1", "xx-api-key: 1", "x-api-key-2: 1", "x-amp-proxy: 1",
        "Authorization: Bearer x-api-key", "Accept: x-api-key;", "X-Amp-Project: p", "",
    };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!amp_header_is_ours(yes[i]))
            fail_msg("'%s' should be ours", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (amp_header_is_ours(no[i]))
            fail_msg("'%s' should not be ours", no[i]);
    /* every name config.c sends */
    for (size_t i = 0; i < route.nheaders; i++)
        assert_true(amp_header_is_ours(route.headers[i]->line));
    for (size_t i = 0; i < amp_header_count; i++)
        assert_true(amp_header_is_ours(amp_header_names[i]));
}

/* One masking rule: the "****last4" of messages and the same-length mask
 * of verbose output (trace.c) hide the same characters. */
static void mask_rule_one(void **state)
{
    (void)state;
    static const char *const keys[] = { "", "abc", "12345678", "123456789", "bench-key-0123456789" };
    char out[64], inplace[64];

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        size_t len = strlen(keys[i]);
        amp_mask(keys[i], out, sizeof(out));
        snprintf(inplace, sizeof(inplace), "%s", keys[i]);
        amp_mask_in_place(inplace, len);
        assert_int_equal(strlen(inplace), len);
        /* What is left visible in place is what follows the stars. */
        assert_string_equal(out + 4, inplace + amp_mask_hidden(len));
        assert_memory_equal(out, "****", 4);
        for (size_t k = 0; k < amp_mask_hidden(len); k++)
            assert_int_equal(inplace[k], '*');
    }
    amp_mask("123456789", out, sizeof(out));
    assert_string_equal(out, "****6789");
    amp_mask("12345678", out, sizeof(out));
    assert_string_equal(out, "****");
    amp_mask(NULL, out, sizeof(out));
    assert_string_equal(out, "****");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(app_headers_kept_in_order_ours_appended),
        cmocka_unit_test(no_app_headers_gives_ours),
        cmocka_unit_test(app_lines_not_copied_are_its_own),
        cmocka_unit_test(app_headers_named_like_ours_dropped),
        cmocka_unit_test(app_host_never_reaches_the_proxy),
        cmocka_unit_test(app_list_not_modified),
        cmocka_unit_test(long_app_list_judged_past_64_lines),
        cmocka_unit_test(header_is_ours),
        cmocka_unit_test(mask_rule_one),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
