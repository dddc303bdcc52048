/* `ampshim route URL`: what would happen to a call to URL, and why; and
 * the JSON forms of a route and of a block the launcher's --json output
 * shares (see ampshim-json(7)). */
#ifndef AMPSHIM_EXPLAIN_H
#define AMPSHIM_EXPLAIN_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "json.h"
#include "state.h"

/* Prints the route that matches (and why the nearest others did not),
 * the URL the proxy receives, the headers added (key masked) and whether
 * the route is blocked now (st may be NULL). 0 when routed, 1 when not. */
int amp_explain(const struct amp_config *cfg, struct amp_state *st, const char *url, FILE *out);

/* The same, as the members of the open top-level object j (url, routed,
 * proxy_url, rewritten_url, route, blocked, on_block, when_blocked,
 * also_matching, nearest_misses). 0 when routed, 1 when not. */
int amp_explain_json(const struct amp_config *cfg, struct amp_state *st, const char *url,
                     struct amp_json *j);

/* r as a JSON object under key: line, base_url, provider, ident, its IDs,
 * the headers it adds (the key masked) and drop_headers. */
void amp_explain_route_json(struct amp_json *j, const char *key, const struct amp_config *cfg,
                            const struct amp_route *r);

/* The same members, written into the object open in j. */
void amp_explain_block_members(struct amp_json *j, const struct amp_block *b, const char *route,
                               int64_t now);

#endif
