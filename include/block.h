/* A block: the retry time Ampersand's 429 gives, the record the state
 * file (state.h) keeps of it, what it means to a person and the answer a
 * blocked call gets. Pure functions, unit-tested. */
#ifndef AMPSHIM_BLOCK_H
#define AMPSHIM_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "curlapi.h"

/* The size of a block's record in the state file (state.h: its layout). */
#define AMP_STATE_RECORD 512u

enum {
    AMP_BLOCK_LOCKED = 1u << 0,   /* X-Amp-Retryable: false */
    AMP_BLOCK_GUESSED = 1u << 1,  /* no usable retry time: default_backoff */
};

/* One rate-limited route. The key is a hash of the route's identity
 * (proxy URL, project, installation or integration + group); the strings
 * are there for people (`ampshim state`) and for `ampshim clear ROUTE`. */
struct amp_block {
    uint64_t key;
    int64_t retry_at;     /* UTC seconds: no call before this */
    int64_t recorded_at;
    int64_t hold_until;   /* locked routes: 0 = until cleared */
    uint32_t flags;
    char proxy[128];
    char project[40];
    char id[72];          /* installation ID or integration name */
    char group[72];       /* group ref, with an integration name */
    char reason[96];
    char route[64];       /* the base URL of the route that got the 429 ("": not
                             known, a record of an older writer) */
};


/* The retry time from X-Amp-Retry-After (Ampersand's "Thu, 06 Mar 2025
 * 22:09:49 UTC", or an RFC 1123 GMT date), else from a standard
 * Retry-After (seconds or an HTTP date); parsed with libcurl's date
 * parser. Either value may be NULL. 0 and *at on success, -1 when neither
 * gives a time. *source names the header used. */
int amp_block_parse_retry(const struct amp_curl *c, const char *amp_retry_after, const char *retry_after,
                    int64_t now, int64_t *at, const char **source);

/* to - from in seconds, saturated at the int64 limits. */
int64_t amp_block_secs_between(int64_t from, int64_t to);

/* X-Amp-Retryable: absent means retryable; only "false" locks. */
int amp_block_retryable(const char *value);

/* "2025-03-06 22:09:49 UTC" */
void amp_block_utc(int64_t t, char *buf, size_t len);

/* One sentence: which route is blocked, until when (UTC and from now),
 * and why; for a locked route, how to lift it. */
void amp_block_describe(const struct amp_block *b, const char *route, int64_t now, char *buf,
                        size_t len);

/* Ampersand's form of a time, whatever the locale: "Thu, 06 Mar 2025 22:09:49 UTC". */
void amp_block_http_date(int64_t t, char *buf, size_t len);

/* The HTTP answer to a call on a blocked route (on_block = "respond"), as
 * the proxy would give it: 429, Retry-After in whole seconds (none for a
 * lock-out lifted only by `ampshim clear`), X-Amp-Retry-After,
 * X-Amp-Retryable, and an application/problem+json body saying which
 * route, until when, why, and that nothing was sent. Its length, or -1
 * when len is too small. */
int amp_block_answer(const struct amp_block *b, const char *route, int64_t now, char *buf,
                     size_t len);

/* A block's record in the state file, and what it says. */
void amp_block_encode(const struct amp_block *b, unsigned char out[AMP_STATE_RECORD]);
int amp_block_decode(const unsigned char in[AMP_STATE_RECORD], struct amp_block *b);

/* 1 while b stops calls at time now. */
int amp_block_active(const struct amp_block *b, int64_t now);

/* The identity key: FNV-1a 64 over the NUL-separated parts. */
uint64_t amp_block_key(const char *proxy, const char *project, const char *id, const char *group);

/* 1 when b was recorded by the route whose base URL is base_url (its route
 * field, cut as the record cuts it, is base_url). */
int amp_block_by_route(const struct amp_block *b, const char *base_url);

#endif
