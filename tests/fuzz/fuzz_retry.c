/* Fuzz target: Ampersand's retry headers and what a block says (block.c).
 * The input is text, one field a line (a missing line is an absent header,
 * an empty one an empty header):
 *   1 X-Amp-Retry-After   2 Retry-After   3 X-Amp-Retryable   4 now
 *   5 retry_at   6 recorded_at   7 hold_until   8 flags
 *   9 route   10 id   11 group   12 reason
 * Times are read with strtoll (base 0: decimal, 0x hex, out of range
 * saturates), so the record's times reach every int64: they come from the
 * state file, which any process of the user may have written. "now" comes
 * from time() in the library, so it is kept to the years 1970-2242. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "curlapi.h"
#include "block.h"
#include "state.h"

/* The library's own limit (block.c's MAX_HOLD): a retry time further away is ignored. */
#define MAX_HOLD (366LL * 86400)
#define NOW_SPAN (1LL << 33)

static int64_t time_of(const char *s, int64_t absent)
{
    return s ? (int64_t)strtoll(s, NULL, 0) : absent;
}

/* The struct amp_block string fields take at most size - 1 bytes. */
#define FIELD(dst, s) snprintf((dst), sizeof(dst), "%s", (s) ? (s) : "")

static void check_parse(const char *amp, const char *std, int64_t now)
{
    int64_t at = 0;
    const char *source = NULL;

    if (amp_block_parse_retry(amp_curl_linked(), amp, std, now, &at, &source) != 0)
        return;
    FUZZ_CHECK(source && (!strcmp(source, "X-Amp-Retry-After") || !strcmp(source, "Retry-After")),
               "a time from '%s'", source ? source : "(null)");
    FUZZ_CHECK(at <= now + MAX_HOLD, "retry at %" PRId64 ", more than a year after now %" PRId64,
               at, now);
}

/* The answer must be whole: a status line, headers, and a body whose
 * length Content-Length gives. */
static void check_answer(const struct amp_block *b, const char *route, int64_t now)
{
    static char buf[8192]; /* larger than any answer: a 2 KiB body and a few headers */
    int n = amp_block_answer(b, route, now, buf, sizeof(buf));

    FUZZ_CHECK(n >= 0, "no answer fits in %zu bytes", sizeof(buf));
    FUZZ_CHECK((size_t)n == strlen(buf), "answer length %d, but %zu bytes written", n, strlen(buf));
    FUZZ_CHECK(!strncmp(buf, "HTTP/1.1 429 Too Many Requests\r\n", 32), "status line: %.80s", buf);
    const char *body = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "\r\nContent-Length: ");
    FUZZ_CHECK(body && cl && cl < body, "no Content-Length before the body:\n%s", buf);
    unsigned long len = strtoul(cl + 18, NULL, 10);
    FUZZ_CHECK(len == strlen(body + 4), "Content-Length %lu, body of %zu bytes:\n%s", len,
               strlen(body + 4), buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_lines l;
    char sentence[1024], date[64];

    if (fuzz_lines(data, size, 12, &l) < 0)
        return 0;
    const char *const *v = (const char *const *)l.v;
    int64_t t = time_of(v[3], 1741000000LL);
    int64_t now = (int64_t)((uint64_t)t % (uint64_t)NOW_SPAN);

    check_parse(v[0], v[1], now);
    int retryable = amp_block_retryable(v[2]);
    FUZZ_CHECK(retryable == !(v[2] && !strcasecmp(v[2], "false")), "retryable '%s'", v[2]);

    struct amp_block b;
    memset(&b, 0, sizeof(b));
    b.retry_at = time_of(v[4], now + 60);
    b.recorded_at = time_of(v[5], now);
    b.hold_until = time_of(v[6], 0);
    /* Only the flags a decoded record can carry (amp_block_decode refuses others). */
    b.flags = (uint32_t)strtoul(v[7] ? v[7] : "0", NULL, 0) & (AMP_BLOCK_LOCKED | AMP_BLOCK_GUESSED);
    if (!retryable)
        b.flags |= AMP_BLOCK_LOCKED;
    FIELD(b.proxy, "https://proxy.withampersand.com");
    FIELD(b.id, v[9]);
    FIELD(b.group, v[10]);
    FIELD(b.reason, v[11]);
    const char *route = v[8] ? v[8] : "https://*.my.salesforce.com";

    amp_block_utc(b.retry_at, date, sizeof(date));
    amp_block_http_date(b.retry_at, date, sizeof(date));
    amp_block_http_date(b.hold_until, date, sizeof(date));
    amp_block_describe(&b, route, now, sentence, sizeof(sentence));
    check_answer(&b, route, now);
    fuzz_lines_free(&l);
    return 0;
}
