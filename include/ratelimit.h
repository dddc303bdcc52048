/* Honouring Ampersand's rate limits for routed transfers: stop a call
 * before it leaves while its route is blocked, and record a 429 when one
 * comes back. */
#ifndef AMPSHIM_RATELIMIT_H
#define AMPSHIM_RATELIMIT_H

#include "config.h"
#include "curlapi.h"
#include "handles.h"

/* Before a routed transfer on route: CURLE_OK to send it; otherwise the
 * error to return, with the application's error buffer, hs->forced_msg
 * and one stderr line saying why. In wait mode (and may_wait), sleeps
 * through a short block first. */
CURLcode amp_ratelimit_check(const struct amp_config *cfg, struct amp_handle *hs,
                             const struct amp_route *route, int may_wait);

/* Whether the transfer needs the stand-in header callback. */
int amp_ratelimit_needs_watch(const struct amp_curl *c);
/* The callback itself; userdata is the struct amp_handle. */
size_t amp_ratelimit_watch_header(char *buf, size_t size, size_t n, void *userdata);

/* After a routed transfer: a 429 from the proxy blocks the route of the
 * transfer's last request (hs->cur_route). */
void amp_ratelimit_observe(const struct amp_config *cfg, struct amp_handle *hs);

#endif
