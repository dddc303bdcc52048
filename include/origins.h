/* The origins ("scheme://authority/") a config's URLs were decided for,
 * shared by every handle of the process: what libcurl's parse and the
 * route index said of each, so that a new handle's first URL (a program
 * making a handle per request, as PHP's curl_init does) is neither parsed
 * nor looked up again when another handle has been there. A handle's own
 * memo (route.h) still answers its next URLs; this answers its first.
 *
 * Filled as handles decide, on any thread, without a lock: a slot is
 * claimed by one atomic add, filled, then marked ready; it never changes
 * after. Bounded (a process meeting more origins than slots decides the
 * others as before); freed with the routes' index. */
#ifndef AMPSHIM_ORIGINS_H
#define AMPSHIM_ORIGINS_H

#include <stddef.h>

#include "curlapi.h"
#include "routes.h"

#define AMP_ORIGIN_ROUTES 8   /* the candidates an origin keeps, at most */
#define AMP_ORIGINS_SLOTS 16
#define AMP_ORIGIN_TEXT 112   /* a longer "scheme://authority/" is not shared */

/* What a URL's "scheme://authority/" (prefix, len bytes, ending in '/')
 * decides: the routes whose scheme, host and port fit, whose paths are then
 * all that is left to match; whole is routes[0] when it is the origin's only
 * route and has no path segments (it takes every path), else NULL. */
struct amp_origin {
    const char *prefix;
    size_t len;
    const struct amp_route *routes[AMP_ORIGIN_ROUTES];
    size_t nroutes;
    const struct amp_route *whole;
};

struct amp_origins;

/* The size of a table, for the index's block (zeroed: an empty table). */
size_t amp_origins_size(void);

/* The origin shared for url's prefix as libcurl flavour c parses it, or
 * NULL. Its prefix lives as long as the table. */
const struct amp_origin *amp_origins_find(const struct amp_origins *t, const struct amp_curl *c,
                                          const char *url);

/* Shares o (its prefix copied) for flavour c; the table's copy, or NULL
 * when the table is full or the prefix too long. */
const struct amp_origin *amp_origins_add(struct amp_origins *t, const struct amp_curl *c,
                                         const struct amp_origin *o);

#endif
