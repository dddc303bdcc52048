/* Blocked calls answered in HTTP (throttle.on_block = "respond", the
 * default): a call to a blocked route gets, through libcurl's own
 * machinery, the 429 the proxy would give, and not one byte leaves the
 * process. */
#ifndef AMPSHIM_RESPOND_H
#define AMPSHIM_RESPOND_H

#include "config.h"
#include "handle.h"
#include "state.h"

/* Readies hs's transfer to be answered here with the answer for block b
 * (amp_block_answer) on route; its request keeps the path and query of
 * proxy_url; hs->answer.url is where libcurl is sent for it. The options
 * (mode AMP_MODE_ANSWER of options.h) are put by the caller. -1 when out
 * of memory. */
int amp_respond_prepare(struct amp_handle *hs, const struct amp_block *b, const char *route,
                        int64_t now, const char *proxy_url);

/* The transfer ended: our end of its socket closed. */
void amp_respond_end(struct amp_handle *hs);

/* A new entry's part: no socket yet. */
void amp_respond_init(struct amp_handle *hs);
/* The entry is freed: its part too. */
void amp_respond_free(struct amp_handle *hs);

#endif
