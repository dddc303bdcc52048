/* Reading Ampersand's 429 (amp_block_parse_retry, amp_block_retryable) and saying
 * what a block means to a person (amp_block_utc, amp_block_describe) and to a
 * program (amp_block_http_date, amp_block_answer). Dates go
 * through the linked libcurl's curl_getdate, as in the library. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "curlapi.h"
#include "block.h"
#include "state.h"

/* date -u -d '2025-03-06 22:09:49' +%s */
#define MAR6 1741298989LL
#define MAR6_UTC "2025-03-06 22:09:49 UTC"
/* An arbitrary "now" for relative Retry-After values. */
#define NOW 1741000000LL

/* ---- helpers ---------------------------------------------------------- */

/* amp_block_parse_retry must succeed with *at == want and *source == source. */
static void expect_time(const char *amp, const char *std, int64_t now, int64_t want,
                        const char *source)
{
    int64_t at = -12345;
    const char *src = NULL;

    if (amp_block_parse_retry(amp_curl_linked(), amp, std, now, &at, &src) != 0)
        fail_msg("X-Amp-Retry-After '%s', Retry-After '%s': no time, expected %lld",
                 amp ? amp : "(none)", std ? std : "(none)", (long long)want);
    if (at != want)
        fail_msg("X-Amp-Retry-After '%s', Retry-After '%s': %lld, expected %lld",
                 amp ? amp : "(none)", std ? std : "(none)", (long long)at, (long long)want);
    assert_non_null(src);
    assert_string_equal(src, source);
}

/* amp_block_parse_retry must find no time. */
static void expect_none(const char *amp, const char *std)
{
    int64_t at = -12345;
    const char *src = NULL;

    if (amp_block_parse_retry(amp_curl_linked(), amp, std, NOW, &at, &src) != -1)
        fail_msg("X-Amp-Retry-After '%s', Retry-After '%s': got %lld from %s, expected none",
                 amp ? amp : "(none)", std ? std : "(none)", (long long)at, src ? src : "?");
}

static void expect_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("'%s'\n  does not contain '%s'", text, part);
}

static void expect_lacks(const char *text, const char *part)
{
    if (strstr(text, part))
        fail_msg("'%s'\n  contains '%s'", text, part);
}

/* A block as ratelimit.c records it (zeroed, so padding is zero too). */
static struct amp_block block(const char *id, const char *group, int64_t retry_at,
                              int64_t recorded_at, const char *reason)
{
    struct amp_block b;

    memset(&b, 0, sizeof(b));
    b.retry_at = retry_at;
    b.recorded_at = recorded_at;
    snprintf(b.proxy, sizeof(b.proxy), "https://proxy.withampersand.com/");
    snprintf(b.project, sizeof(b.project), "3f2c9e4a-1b7d-4c8e-9a6f-0d5e2b1c7a93");
    snprintf(b.id, sizeof(b.id), "%s", id);
    snprintf(b.group, sizeof(b.group), "%s", group);
    snprintf(b.reason, sizeof(b.reason), "%s", reason);
    b.key = amp_block_key(b.proxy, b.project, b.id, b.group);
    return b;
}

/* ---- amp_block_parse_retry --------------------------------------------------- */

static void amp_documented_form(void **state)
{
    (void)state;
    expect_time("Thu, 06 Mar 2025 22:09:49 UTC", NULL, NOW, MAR6, "X-Amp-Retry-After");
    /* preferred over a standard Retry-After */
    expect_time("Thu, 06 Mar 2025 22:09:49 UTC", "120", NOW, MAR6, "X-Amp-Retry-After");
    expect_time("Thu, 06 Mar 2025 22:09:49 UTC", "Sun, 06 Nov 1994 08:49:37 GMT", NOW, MAR6,
                "X-Amp-Retry-After");
}

static void amp_rfc1123_gmt(void **state)
{
    (void)state;
    expect_time("Thu, 06 Mar 2025 22:09:49 GMT", NULL, NOW, MAR6, "X-Amp-Retry-After");
    expect_time("Thu, 06 Mar 2025 22:09:49 GMT", "120", NOW, MAR6, "X-Amp-Retry-After");
}

static void amp_garbage_falls_back_to_retry_after(void **state)
{
    (void)state;
    expect_time("soon", "120", NOW, NOW + 120, "Retry-After");
    expect_time("", "120", NOW, NOW + 120, "Retry-After");
    expect_time(NULL, "120", NOW, NOW + 120, "Retry-After");
    expect_time("1741298989", "120", NOW, NOW + 120, "Retry-After"); /* not a date */
    expect_time(NULL, "0", NOW, NOW, "Retry-After");
    expect_time(NULL, "86400", MAR6, MAR6 + 86400, "Retry-After");
}

static void retry_after_http_date(void **state)
{
    (void)state;
    expect_time(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", NOW, 784111777, "Retry-After");
    expect_time("soon", "Thu, 06 Mar 2025 22:09:49 GMT", NOW, MAR6, "Retry-After");
    /* RFC 850 and asctime forms, which HTTP dates may also take */
    expect_time(NULL, "Sunday, 06-Nov-94 08:49:37 GMT", NOW, 784111777, "Retry-After");
    expect_time(NULL, "Sun Nov  6 08:49:37 1994", NOW, 784111777, "Retry-After");
}

static void neither_gives_a_time(void **state)
{
    (void)state;
    expect_none(NULL, NULL);
    expect_none("", "");
    expect_none("soon", NULL);
    expect_none(NULL, "later");
    expect_none("soon", "later");
    expect_none("", "tomorrow-ish");
}

static void retry_after_bad_seconds(void **state)
{
    (void)state;
    expect_none(NULL, "-5");
    expect_none(NULL, "12abc");
    expect_none("soon", "-5");
    expect_none("", "12abc");
    expect_none(NULL, "+5");
    expect_none(NULL, "1.5");
    expect_none(NULL, "99999999999999999999999"); /* overflows */
}

/* ---- amp_block_retryable ---------------------------------------------------- */

static void retryable_values(void **state)
{
    (void)state;
    assert_int_equal(amp_block_retryable(NULL), 1);
    assert_int_equal(amp_block_retryable("true"), 1);
    assert_int_equal(amp_block_retryable("TRUE"), 1);
    assert_int_equal(amp_block_retryable(""), 1);
    assert_int_equal(amp_block_retryable("no"), 1); /* only "false" locks */
    assert_int_equal(amp_block_retryable("false"), 0);
    assert_int_equal(amp_block_retryable("FALSE"), 0);
    assert_int_equal(amp_block_retryable("False"), 0);
}

/* ---- amp_block_utc ---------------------------------------------------------- */

static void utc_format(void **state)
{
    (void)state;
    char buf[64];

    amp_block_utc(MAR6, buf, sizeof(buf));
    assert_string_equal(buf, MAR6_UTC);
    amp_block_utc(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01 00:00:00 UTC");
    amp_block_utc(951782400, buf, sizeof(buf)); /* a leap day */
    assert_string_equal(buf, "2000-02-29 00:00:00 UTC");
    amp_block_utc(MAR6 + 3600 + 59, buf, sizeof(buf));
    assert_string_equal(buf, "2025-03-06 23:10:48 UTC");
}

static void utc_small_buffer_stays_inside(void **state)
{
    (void)state;
    char buf[16];

    memset(buf, 'Z', sizeof(buf));
    amp_block_utc(MAR6, buf, 10);
    assert_non_null(memchr(buf, '\0', 10));
    for (size_t i = 10; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 'Z');
}

/* ---- amp_block_describe ----------------------------------------------- */

static void describe_rate_limited(void **state)
{
    (void)state;
    struct amp_block b = block("inst-1", "", MAR6, MAR6 - 60, "429 Too Many Requests");
    char buf[512];

    amp_block_describe(&b, "salesforce", MAR6 - 30, buf, sizeof(buf));
    expect_contains(buf, "salesforce");
    expect_contains(buf, "installation inst-1");
    expect_contains(buf, "until " MAR6_UTC);
    expect_contains(buf, "(in 30s)");
    expect_contains(buf, "429 Too Many Requests");
    expect_lacks(buf, "locked");
    expect_lacks(buf, "integration");

    amp_block_describe(&b, "salesforce", MAR6 - 3600, buf, sizeof(buf));
    expect_contains(buf, "(in 3600s)");
}

static void describe_locked_with_hold(void **state)
{
    (void)state;
    struct amp_block b = block("inst-1", "", MAR6, MAR6 - 60, "401 Unauthorized");
    char buf[512];

    b.flags = AMP_BLOCK_LOCKED;
    b.hold_until = MAR6 - 30 + 3600; /* 2025-03-06 23:09:19 UTC */
    amp_block_describe(&b, "salesforce", MAR6 - 30, buf, sizeof(buf));
    expect_contains(buf, "salesforce");
    expect_contains(buf, "installation inst-1");
    expect_contains(buf, "locked out");
    expect_contains(buf, "ampshim clear inst-1");
    expect_contains(buf, "401 Unauthorized");
    expect_contains(buf, "2025-03-06 23:09:19 UTC");
    expect_contains(buf, "(in 3600s)");
    expect_lacks(buf, "rate limited");
}

static void describe_locked_until_cleared(void **state)
{
    (void)state;
    struct amp_block b = block("inst-1", "", MAR6, MAR6 - 60, "401 Unauthorized");
    char buf[512];

    b.flags = AMP_BLOCK_LOCKED;
    amp_block_describe(&b, "salesforce", MAR6 - 30, buf, sizeof(buf));
    expect_contains(buf, "locked out");
    expect_contains(buf, "ampshim clear inst-1");
    expect_contains(buf, "401 Unauthorized");
    expect_lacks(buf, "(in "); /* no hold: no time to count down to */
    expect_lacks(buf, MAR6_UTC);
}

static void describe_integration(void **state)
{
    (void)state;
    struct amp_block b = block("hubspot", "acme-corp", MAR6, MAR6 - 60, "429 Too Many Requests");
    char buf[512];

    amp_block_describe(&b, "hubspot-api", MAR6 - 30, buf, sizeof(buf));
    expect_contains(buf, "hubspot-api");
    expect_contains(buf, "integration hubspot");
    expect_contains(buf, "group acme-corp");
    expect_contains(buf, "until " MAR6_UTC);
    expect_contains(buf, "(in 30s)");
    expect_contains(buf, "429 Too Many Requests");
    expect_lacks(buf, "installation");

    b.flags = AMP_BLOCK_LOCKED;
    amp_block_describe(&b, "hubspot-api", MAR6 - 30, buf, sizeof(buf));
    expect_contains(buf, "integration hubspot");
    expect_contains(buf, "group acme-corp");
    expect_contains(buf, "locked out");
    expect_contains(buf, "ampshim clear hubspot");
}

/* Times from a state file any process may write: extremes saturate,
 * never overflow (UBSan found this through the fuzzer). */
static void extreme_times_saturate(void **state)
{
    (void)state;
    struct amp_block b = block("inst-x", "", INT64_MAX, INT64_MIN, "odd");
    char buf[4096];

    assert_int_equal(amp_block_secs_between(-10, INT64_MAX), INT64_MAX);
    assert_int_equal(amp_block_secs_between(10, INT64_MIN), INT64_MIN);
    assert_int_equal(amp_block_secs_between(5, 7), 2);
    amp_block_describe(&b, "r", -10, buf, sizeof(buf));
    expect_contains(buf, "(in 9223372036854775807s)");
    assert_true(amp_block_answer(&b, "r", -10, buf, sizeof(buf)) > 0);
    expect_contains(buf, "Retry-After: 9223372036854775807\r\n");
    b.flags |= AMP_BLOCK_LOCKED;
    b.hold_until = INT64_MIN + 1;
    amp_block_describe(&b, "r", INT64_MAX, buf, sizeof(buf));
    expect_contains(buf, "(in -9223372036854775808s)");
    /* A year past INT_MAX - 1900 (found by the fuzzer): no overflow. */
    amp_block_http_date(67767976233532800LL, buf, sizeof(buf));
    expect_contains(buf, " 2147483648 ");
    int64_t at = 0;
    const char *source = NULL;
    assert_int_equal(amp_block_parse_retry(amp_curl_linked(), NULL, "30", INT64_MAX - 5, &at, &source), 0);
    assert_int_equal(at, INT64_MAX);
}

static void http_date_is_amperands_form_in_any_locale(void **state)
{
    (void)state;
    char buf[64];

    amp_block_http_date(MAR6, buf, sizeof(buf));
    assert_string_equal(buf, "Thu, 06 Mar 2025 22:09:49 UTC");
    /* and libcurl reads it back */
    assert_int_equal((int64_t)amp_curl_linked()->getdate(buf, NULL), MAR6);
}

/* The head of an answer, up to the blank line; the body after it. */
static void split_answer(const char *answer, char *head, size_t headlen, const char **body)
{
    const char *end = strstr(answer, "\r\n\r\n");

    assert_non_null(end);
    snprintf(head, headlen, "%.*s", (int)(end - answer + 2), answer);
    *body = end + 4;
}

static void answer_rate_limited(void **state)
{
    (void)state;
    struct amp_block b = block("inst-\"1\"", "", MAR6, MAR6 - 60, "HTTP 429 with X-Amp-Retry-After");
    char buf[4096], head[1024], want[64];
    const char *body;

    int n = amp_block_answer(&b, "https://*.my.salesforce.com", MAR6 - 30, buf, sizeof(buf));
    assert_true(n > 0 && (size_t)n == strlen(buf));
    split_answer(buf, head, sizeof(head), &body);
    assert_true(strncmp(head, "HTTP/1.1 429 Too Many Requests\r\n", 32) == 0);
    expect_contains(head, "\r\nRetry-After: 30\r\n");
    expect_contains(head, "\r\nX-Amp-Retry-After: Thu, 06 Mar 2025 22:09:49 UTC\r\n");
    expect_contains(head, "\r\nX-Amp-Retryable: true\r\n");
    expect_contains(head, "\r\nContent-Type: application/problem+json\r\n");
    expect_contains(head, "\r\nConnection: close\r\n");
    snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", strlen(body));
    expect_contains(head, want);
    expect_contains(body, "\"status\":429");
    expect_contains(body, "\"route\":\"https://*.my.salesforce.com\"");
    expect_contains(body, "\"installationId\":\"inst-\\\"1\\\"\""); /* escaped */
    expect_contains(body, "\"retryAt\":\"2025-03-06T22:09:49Z\",\"retryAfter\":30");
    expect_contains(body, "\"retryable\":true");
    expect_contains(body, "\"sent\":false");
    expect_contains(body, "until " MAR6_UTC " (in 30s)");
    /* Too small a buffer: refused, not cut. */
    assert_int_equal(amp_block_answer(&b, "r", MAR6 - 30, buf, 64), -1);
}

static void answer_locked(void **state)
{
    (void)state;
    struct amp_block b = block("grp-int", "grp-7", MAR6, MAR6 - 60, "HTTP 429 with X-Amp-Retry-After");
    char buf[4096], head[1024];
    const char *body;

    b.flags |= AMP_BLOCK_LOCKED;
    assert_true(amp_block_answer(&b, "https://slack.com/api", MAR6 + 100, buf, sizeof(buf)) > 0);
    split_answer(buf, head, sizeof(head), &body);
    expect_contains(head, "X-Amp-Retryable: false\r\n");
    expect_lacks(head, "\r\nRetry-After: "); /* X-Amp-Retry-After only: lifted by a person */
    expect_contains(head, "X-Amp-Retry-After: ");
    expect_contains(body, "\"integrationName\":\"grp-int\",\"groupRef\":\"grp-7\"");
    expect_contains(body, "\"retryAt\":null");
    expect_contains(body, "\"retryable\":false");
    expect_contains(body, "ampshim clear grp-int");
    /* With lockout_hold, the hold's end is the retry time. */
    b.hold_until = MAR6 + 160;
    assert_true(amp_block_answer(&b, "https://slack.com/api", MAR6 + 100, buf, sizeof(buf)) > 0);
    expect_contains(buf, "\r\nRetry-After: 60\r\n");
}

static void describe_small_buffer_stays_inside(void **state)
{
    (void)state;
    struct amp_block b = block("inst-1", "", MAR6, MAR6 - 60, "429 Too Many Requests");
    char buf[32];

    memset(buf, 'Z', sizeof(buf));
    amp_block_describe(&b, "salesforce", MAR6 - 30, buf, 16);
    assert_int_equal(strlen(buf), 15);
    for (size_t i = 16; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 'Z');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(amp_documented_form),
        cmocka_unit_test(amp_rfc1123_gmt),
        cmocka_unit_test(amp_garbage_falls_back_to_retry_after),
        cmocka_unit_test(retry_after_http_date),
        cmocka_unit_test(neither_gives_a_time),
        cmocka_unit_test(retry_after_bad_seconds),
        cmocka_unit_test(retryable_values),
        cmocka_unit_test(utc_format),
        cmocka_unit_test(utc_small_buffer_stays_inside),
        cmocka_unit_test(describe_rate_limited),
        cmocka_unit_test(describe_locked_with_hold),
        cmocka_unit_test(describe_locked_until_cleared),
        cmocka_unit_test(describe_integration),
        cmocka_unit_test(describe_small_buffer_stays_inside),
        cmocka_unit_test(http_date_is_amperands_form_in_any_locale),
        cmocka_unit_test(extreme_times_saturate),
        cmocka_unit_test(answer_rate_limited),
        cmocka_unit_test(answer_locked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
