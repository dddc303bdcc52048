/* The header list of a routed transfer. */
#ifndef AMPSHIM_HEADERS_H
#define AMPSHIM_HEADERS_H

#include "curlapi.h"
#include "route.h"

struct amp_arena;

/* The headers ampshim sends, their names spelled here only (headers.c). */
enum amp_header_id {
    AMP_HDR_PROXY_VERSION,
    AMP_HDR_PROJECT_ID,
    AMP_HDR_API_KEY,
    AMP_HDR_INSTALLATION_ID,
    AMP_HDR_INTEGRATION_NAME,
    AMP_HDR_GROUP_REF,
    AMP_HDR_RATE_LIMITER_MODE,
    AMP_HDR_COUNT
};
/* An application header of one of these names is dropped so that none is
 * sent twice. */
extern const char *const amp_header_names[AMP_HDR_COUNT];
extern const size_t amp_header_count;

/* Header id with value, made in arena a (its line "name: value" built
 * once); the key's is marked secret. NULL when out of memory. */
const struct amp_header *amp_header_make(struct amp_arena *a, enum amp_header_id id,
                                         const char *value);

/* 1 when the header line ("Name: value", "Name;" or "Name:") carries one of
 * the names ampshim sends. */
int amp_header_is_ours(const char *line);

/* A new list: the application's headers, less those named like ours, its
 * Host (the proxy's is sent) and those the route drops (drop_headers),
 * then the route's own, then "Name:" for each dropped name so that
 * libcurl sends none of its own either (but never "Host:"). The
 * application's list is not touched. copy 0: the application's lines are
 * its own strings, not copies (a line it rewrites in place is sent as
 * rewritten, as libcurl would send it), so the list must be made anew
 * before the application may free those; 1: copied. NULL when out of
 * memory. Free with amp_headers_free, never curl_slist_free_all: it is
 * one allocation of ours. */
struct curl_slist *amp_headers_merge(const struct curl_slist *app, const struct amp_route *r,
                                     int copy);
/* The same, uncopied, in room (nroom nodes, the caller's) when it fits,
 * else as amp_headers_merge: a list in room is never freed; a list made
 * there again overwrites the last one. */
struct curl_slist *amp_headers_merge_into(const struct curl_slist *app, const struct amp_route *r,
                                          struct curl_slist *room, size_t nroom);
void amp_headers_free(struct curl_slist *list);

#endif
