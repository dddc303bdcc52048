/* Reading Ampersand's rate-limit answer and describing a block. */
#define _GNU_SOURCE
#include "retry.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A retry time more than a year away is taken for a mistake, not obeyed. */
#define MAX_HOLD (366LL * 86400)

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

int amp_retry_parse(const struct amp_curl *c, const char *amp_retry_after, const char *retry_after,
                    int64_t now, int64_t *at, const char **source)
{
    if (amp_retry_after && *amp_retry_after) {
        time_t t = c->getdate(amp_retry_after, NULL);
        if (t != (time_t)-1 && (int64_t)t - now <= MAX_HOLD) {
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
                *at = now + secs;
                *source = "Retry-After";
                return 0;
            }
        } else {
            time_t t = c->getdate(retry_after, NULL);
            if (t != (time_t)-1 && (int64_t)t - now <= MAX_HOLD) {
                *at = (int64_t)t;
                *source = "Retry-After";
                return 0;
            }
        }
    }
    return -1;
}

int amp_retryable(const char *value)
{
    return !(value && strcasecmp(value, "false") == 0);
}

void amp_utc(int64_t t, char *buf, size_t len)
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

    amp_utc(b->retry_at, until, sizeof(until));
    amp_utc(b->recorded_at, at, sizeof(at));
    if (b->group[0])
        snprintf(who, sizeof(who), "integration %s group %s", b->id, b->group);
    else
        snprintf(who, sizeof(who), "installation %s", b->id);
    if (b->flags & AMP_BLOCK_LOCKED) {
        char hold[80] = "";
        if (b->hold_until) {
            char h[40];
            amp_utc(b->hold_until, h, sizeof(h));
            snprintf(hold, sizeof(hold), ", or until %s (in %llds)", h,
                     (long long)(b->hold_until - now));
        }
        snprintf(buf, len,
                 "route %s (%s) is locked out: the provider refused its credentials "
                 "(X-Amp-Retryable: false, %s at %s); nothing is sent until `ampshim clear %s`%s",
                 route, who, b->reason, at, b->id, hold);
    } else {
        snprintf(buf, len,
                 "route %s (%s) is rate limited until %s (in %llds): %s at %s",
                 route, who, until, (long long)(b->retry_at - now), b->reason, at);
    }
}
