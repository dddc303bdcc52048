/* The header list of a routed transfer. */
#ifndef AMPSHIM_HEADERS_H
#define AMPSHIM_HEADERS_H

#include "curlapi.h"
#include "route.h"

/* 1 when the header line ("Name: value", "Name;" or "Name:") carries one of
 * the names ampshim sends. */
int amp_header_is_ours(const char *line);

/* A new list: the application's headers, less those named like ours, its
 * Host (the proxy's is sent) and those the route drops (drop_headers),
 * then the route's own, then "Name:" for each dropped name so that
 * libcurl sends none of its own either (but never "Host:"). The
 * application's list is not touched. NULL when out of memory. Free with
 * c->slist_free_all. */
struct curl_slist *amp_headers_merge(const struct amp_curl *c, const struct curl_slist *app,
                                     const struct amp_route *r);

#endif
