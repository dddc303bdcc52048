/* What Ampersand's 429 says, and what a block means to a person. Pure
 * functions, unit-tested. */
#ifndef AMPSHIM_RETRY_H
#define AMPSHIM_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "curlapi.h"
#include "state.h"

/* The retry time from X-Amp-Retry-After (Ampersand's "Thu, 06 Mar 2025
 * 22:09:49 UTC", or an RFC 1123 GMT date), else from a standard
 * Retry-After (seconds or an HTTP date); parsed with libcurl's date
 * parser. Either value may be NULL. 0 and *at on success, -1 when neither
 * gives a time. *source names the header used. */
int amp_retry_parse(const struct amp_curl *c, const char *amp_retry_after, const char *retry_after,
                    int64_t now, int64_t *at, const char **source);

/* to - from in seconds, saturated at the int64 limits. */
int64_t amp_secs_between(int64_t from, int64_t to);

/* X-Amp-Retryable: absent means retryable; only "false" locks. */
int amp_retryable(const char *value);

/* "2025-03-06 22:09:49 UTC" */
void amp_utc(int64_t t, char *buf, size_t len);

/* One sentence: which route is blocked, until when (UTC and from now),
 * and why; for a locked route, how to lift it. */
void amp_block_describe(const struct amp_block *b, const char *route, int64_t now, char *buf,
                        size_t len);

/* Ampersand's form of a time, whatever the locale: "Thu, 06 Mar 2025 22:09:49 UTC". */
void amp_http_date(int64_t t, char *buf, size_t len);

/* The HTTP answer to a call on a blocked route (on_block = "respond"), as
 * the proxy would give it: 429, Retry-After in whole seconds (none for a
 * lock-out lifted only by `ampshim clear`), X-Amp-Retry-After,
 * X-Amp-Retryable, and an application/problem+json body saying which
 * route, until when, why, and that nothing was sent. Its length, or -1
 * when len is too small. */
int amp_block_answer(const struct amp_block *b, const char *route, int64_t now, char *buf,
                     size_t len);

#endif
