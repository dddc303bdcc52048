/* Blocked calls answered in HTTP (throttle.on_block = "respond", the
 * default): a call to a blocked route gets, through libcurl's own
 * machinery, the 429 the proxy would give, and not one byte leaves the
 * process. */
#ifndef AMPSHIM_RESPOND_H
#define AMPSHIM_RESPOND_H

#include "config.h"
#include "handles.h"
#include "throttle.h"

/* Points hs's transfer, whose routed options are already on the handle,
 * at a socket this process answers itself with the answer for block b
 * (amp_block_answer) on route; the request keeps the path and query of
 * proxy_url. -1 when out of memory. */
int amp_respond_apply(struct amp_handle *hs, const struct amp_block *b, const char *route,
                      int64_t now, const char *proxy_url);

/* The application's options again; our end of the socket closed. */
void amp_respond_restore(struct amp_handle *hs);

#endif
