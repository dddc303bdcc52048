/* Route matching and URL rewriting: a URL in, a verdict out. Knows nothing
 * of interposition, so it is unit-tested as plain functions. */
#ifndef AMPSHIM_ROUTE_H
#define AMPSHIM_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "curlapi.h"
#include "grow.h"
#include "origins.h"
#include "routes.h" /* struct amp_route, struct amp_routes */

/* Parse base_url (with `*` / `{{.name}}` placeholders) into r's matching
 * fields, their memory taken from arena (NULL: malloc). On error returns
 * -1 with a sentence in err. */
int amp_route_compile_in(struct amp_arena *arena, struct amp_route *r, const char *base_url,
                         const struct amp_curl *c, char *err, size_t errlen);

/* Build the host-suffix index over rs->v, in rs->arena; -1 when out of
 * memory. */
int amp_routes_index(struct amp_routes *rs);

/* The most specific route matching url, or NULL. When one matches and
 * rewritten is not NULL, *rewritten gets proxy_url + the rest of the path +
 * the query, byte for byte (malloc'd; NULL when out of memory). */
const struct amp_route *amp_route_match(const struct amp_routes *rs,
                                        const struct amp_curl *c,
                                        const char *url,
                                        const char *proxy_url,
                                        char **rewritten);

/* Why r does not match url: a sentence in buf, or NULL when it matches.
 * *nearness says how much of r matched (for showing the nearest misses). */
const char *amp_route_why_not(const struct amp_route *r, const struct amp_curl *c,
                              const char *url, char *buf, size_t len, int *nearness);

/* 1 when url has the scheme, host and port of origin (another URL). */
int amp_same_origin(const struct amp_curl *c, const char *url, const char *origin);

/* What ampshim remembers of the last URL a handle used, so that the next
 * one with the same "scheme://authority/" (most are) is neither parsed
 * nor looked up again: that origin (origins.h), whose routes' paths are
 * then all that is left to match. Its prefix is the config's shared copy,
 * or the memo's own (owned) when the config's table had no room. */
struct amp_url_memo {
    struct amp_origin o;      /* o.prefix NULL: nothing remembered */
    char *owned;
    char *buf;                /* the last rewritten URL */
    size_t cap;
    /* buf starts with this proxy URL, proxy_len bytes of it (NULL: not
     * known), so that the next URL copies only its own part. */
    const char *proxy;
    size_t proxy_len;
    /* strlen() of the URL of the last amp_route_decide() with this memo
     * that found a route: known to its scan, so that the caller's copy of
     * the URL needs no strlen of its own. */
    size_t url_len;
    /* buf's first home (amp_grow_in), the caller's (NULL: none), kept by
     * amp_url_memo_free: a handle's rewritten URLs of a common length
     * allocate nothing. */
    char *room;
    size_t room_cap;
};

void amp_url_memo_free(struct amp_url_memo *m);

/* amp_route_match(), remembering in memo (may be NULL); with a memo, the
 * rewritten URL is the memo's own buffer: valid until the next call with
 * it, never freed by the caller. A memo is used with one rs and one
 * proxy_url string (unchanged: the memo keeps its pointer), or freed
 * before it is used with others. *undecided (may be NULL) set to 1 when
 * memory ran out before the URL could be parsed: no route is then known,
 * nor that there is none (the transfer must not go out). */
const struct amp_route *amp_route_decide(const struct amp_routes *rs, const struct amp_curl *c,
                                         const char *url, const char *proxy_url,
                                         char **rewritten, struct amp_url_memo *memo,
                                         int *undecided);

/* Loopback host (127.0.0.0/8, ::1, localhost): the one place plain http
 * to the proxy is allowed. */
int amp_host_is_loopback(const char *host);

#endif
