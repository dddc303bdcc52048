/* A block: Ampersand's rate-limit answer read, the block's record in the
 * state file, its identity key, and the block described and answered. */
#define _GNU_SOURCE
#include "block.h"
#include "hash.h"
#include "le.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A retry time more than a year away is taken for a mistake, not obeyed. */
#define MAX_HOLD (366LL * 86400)

int64_t amp_block_secs_between(int64_t from, int64_t to)
{
    int64_t d;

    /* Times come from a shared file any of the user's processes may write:
     * an absurd one must not overflow. */
    if (__builtin_sub_overflow(to, from, &d))
        return to > from ? INT64_MAX : INT64_MIN;
    return d;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

int amp_block_parse_retry(const struct amp_curl *c, const char *amp_retry_after, const char *retry_after,
                    int64_t now, int64_t *at, const char **source)
{
    if (amp_retry_after && *amp_retry_after) {
        time_t t = c->getdate(amp_retry_after, NULL);
        if (t != (time_t)-1 && amp_block_secs_between(now, (int64_t)t) <= MAX_HOLD) {
            *at = (int64_t)t;
            *source = "X-Amp-Retry-After";
            return 0;
        }
    }
    if (retry_after && *retry_after) {
        if (all_digits(retry_after)) {
            errno = 0;
            long long secs = strtoll(retry_after, NULL, 10);
            if (errno == 0 && secs <= MAX_HOLD) {
                *at = amp_block_secs_between(-secs, now); /* now + secs, saturated */
                *source = "Retry-After";
                return 0;
            }
        } else {
            time_t t = c->getdate(retry_after, NULL);
            if (t != (time_t)-1 && amp_block_secs_between(now, (int64_t)t) <= MAX_HOLD) {
                *at = (int64_t)t;
                *source = "Retry-After";
                return 0;
            }
        }
    }
    return -1;
}

int amp_block_retryable(const char *value)
{
    return !(value && strcasecmp(value, "false") == 0);
}

void amp_block_utc(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, len, "%lld", (long long)t);
}

void amp_block_describe(const struct amp_block *b, const char *route, int64_t now, char *buf,
                        size_t len)
{
    char until[40], at[40], who[200];

    amp_block_utc(b->retry_at, until, sizeof(until));
    amp_block_utc(b->recorded_at, at, sizeof(at));
    if (b->group[0])
        snprintf(who, sizeof(who), "integration %s group %s", b->id, b->group);
    else
        snprintf(who, sizeof(who), "installation %s", b->id);
    if (b->flags & AMP_BLOCK_LOCKED) {
        char hold[80] = "";
        if (b->hold_until) {
            char h[40];
            amp_block_utc(b->hold_until, h, sizeof(h));
            snprintf(hold, sizeof(hold), ", or until %s (in %llds)", h,
                     (long long)amp_block_secs_between(now, b->hold_until));
        }
        snprintf(buf, len,
                 "route %s (%s) is locked out: the provider refused its credentials "
                 "(X-Amp-Retryable: false, %s at %s); nothing is sent until `ampshim clear %s`%s",
                 route, who, b->reason, at, b->id, hold);
    } else {
        snprintf(buf, len,
                 "route %s (%s) is rate limited until %s (in %llds): %s at %s",
                 route, who, until, (long long)amp_block_secs_between(now, b->retry_at), b->reason, at);
    }
}

void amp_block_http_date(int64_t t, char *buf, size_t len)
{
    /* Written out, not strftime'd: the host program's locale must not turn
     * "Thu" into "Do". */
    static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    time_t tt = (time_t)t;

    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, len, "%lld", (long long)t);
        return;
    }
    snprintf(buf, len, "%s, %02d %s %04lld %02d:%02d:%02d UTC", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], (long long)tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* s as the inside of a JSON string, appended at *used (cut at len). */
static void json_string(char *buf, size_t len, size_t *used, const char *s)
{
    for (; *s && *used + 7 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            *used += (size_t)snprintf(buf + *used, len - *used, "\\%c", ch);
        else if (ch < 0x20)
            *used += (size_t)snprintf(buf + *used, len - *used, "\\u%04x", ch);
        else
            buf[(*used)++] = (char)ch;
    }
    buf[*used] = '\0';
}

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    va_list ap;

    if (*used >= len)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

int amp_block_answer(const struct amp_block *b, const char *route, int64_t now, char *buf,
                     size_t len)
{
    char body[2048], sentence[768], at[40], iso[40] = "";
    size_t n = 0, used = 0;
    int locked = (b->flags & AMP_BLOCK_LOCKED) != 0;
    /* Whole seconds until the block ends, rounded up (now is a whole
     * second already past); none for a lock-out that only a person lifts. */
    int64_t until = locked ? b->hold_until : b->retry_at;

    amp_block_describe(b, route, now, sentence, sizeof(sentence));
    amp_block_http_date(b->retry_at, at, sizeof(at));
    struct tm tm;
    time_t tt = (time_t)until;
    if (until && gmtime_r(&tt, &tm))
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
    append(body, sizeof(body), &n, "{\"title\":\"Too Many Requests\",\"status\":429,\"detail\":\"ampshim: ");
    json_string(body, sizeof(body), &n, sentence);
    append(body, sizeof(body), &n, "; not sent\",\"route\":\"");
    json_string(body, sizeof(body), &n, route);
    append(body, sizeof(body), &n, b->group[0] ? "\",\"integrationName\":\"" : "\",\"installationId\":\"");
    json_string(body, sizeof(body), &n, b->id);
    if (b->group[0]) {
        append(body, sizeof(body), &n, "\",\"groupRef\":\"");
        json_string(body, sizeof(body), &n, b->group);
    }
    if (until)
        append(body, sizeof(body), &n, "\",\"retryAt\":\"%s\",\"retryAfter\":%lld", iso,
               (long long)(until > now ? amp_block_secs_between(now, until) : 0));
    else
        append(body, sizeof(body), &n, "\",\"retryAt\":null,\"retryAfter\":null");
    append(body, sizeof(body), &n, ",\"retryable\":%s,\"reason\":\"", locked ? "false" : "true");
    json_string(body, sizeof(body), &n, b->reason);
    append(body, sizeof(body), &n, "\",\"sent\":false}\n");

    append(buf, len, &used, "HTTP/1.1 429 Too Many Requests\r\n");
    if (until)
        append(buf, len, &used, "Retry-After: %lld\r\n",
               (long long)(until > now ? amp_block_secs_between(now, until) : 0));
    append(buf, len, &used,
           "X-Amp-Retry-After: %s\r\nX-Amp-Retryable: %s\r\n"
           "Content-Type: application/problem+json\r\nContent-Length: %zu\r\n"
           "Connection: close\r\n\r\n%s",
           at, locked ? "false" : "true", n, body);
    return used + 1 < len ? (int)used : -1;
}

/* --- a block's record in the state file (state.h has its layout) --------- */

#define FIELDS(X)                                                                        \
    X(proxy, 40) X(project, 168) X(id, 208) X(group, 280) X(reason, 352) X(route, 448)

void amp_block_encode(const struct amp_block *b, unsigned char out[AMP_STATE_RECORD])
{
    memset(out, 0, AMP_STATE_RECORD);
    amp_put64(out + 0, b->key);
    amp_put64(out + 8, (uint64_t)b->retry_at);
    amp_put64(out + 16, (uint64_t)b->recorded_at);
    amp_put64(out + 24, (uint64_t)b->hold_until);
    amp_put32(out + 32, b->flags);
#define PUT(f, off) memcpy(out + (off), b->f, strnlen(b->f, sizeof(b->f) - 1));
    FIELDS(PUT)
#undef PUT
}

int amp_block_decode(const unsigned char in[AMP_STATE_RECORD], struct amp_block *b)
{
    memset(b, 0, sizeof(*b));
    b->key = amp_get64(in + 0);
    b->retry_at = (int64_t)amp_get64(in + 8);
    b->recorded_at = (int64_t)amp_get64(in + 16);
    b->hold_until = (int64_t)amp_get64(in + 24);
    b->flags = amp_get32(in + 32);
    if (b->flags & ~(uint32_t)(AMP_BLOCK_LOCKED | AMP_BLOCK_GUESSED) || amp_get32(in + 36))
        return -1;
#define GET(f, off)                                                                      \
    if (!memchr(in + (off), '\0', sizeof(b->f)))                                         \
        return -1;                                                                       \
    memcpy(b->f, in + (off), sizeof(b->f));
    FIELDS(GET)
#undef GET
    return 0;
}

/* How far in the future a block may have been recorded (by a process that
 * read the clock after this one did) before it says the clock went back. */
#define CLOCK_SLACK 60

int amp_block_active(const struct amp_block *b, int64_t now)
{
    /* A lock-out only `ampshim clear` ends does not count time. */
    if ((b->flags & AMP_BLOCK_LOCKED) && b->hold_until == 0)
        return 1;
    /* Recorded in the future: the clock was set back, and its times, read
     * against it now, could hold the route for as long (years). It ends:
     * the next call asks the proxy, which says again if it still holds. */
    if (amp_block_secs_between(now, b->recorded_at) > CLOCK_SLACK)
        return 0;
    if (b->flags & AMP_BLOCK_LOCKED)
        return now < b->hold_until;
    return now < b->retry_at;
}

uint64_t amp_block_key(const char *proxy, const char *project, const char *id, const char *group)
{
    const char *parts[] = { proxy, project, id, group };
    uint64_t h = AMP_FNV1A64_BASIS;

    for (int i = 0; i < 4; i++) {
        for (const char *p = parts[i] ? parts[i] : ""; *p; p++)
            h = amp_fnv1a_byte(h, (unsigned char)*p);
        h = amp_fnv1a_byte(h, 0); /* a separator no part contains */
    }
    return h;
}

int amp_block_by_route(const struct amp_block *b, const char *base_url)
{
    size_t cap = sizeof(b->route) - 1, n = strlen(base_url);

    return b->route[0] && strncmp(b->route, base_url, cap) == 0 &&
           strlen(b->route) == (n < cap ? n : cap);
}
