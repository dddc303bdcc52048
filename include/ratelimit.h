/* Honouring Ampersand's rate limits for routed transfers: stop a call
 * before it leaves while its route is blocked, and record a 429 when one
 * comes back. */
#ifndef AMPSHIM_RATELIMIT_H
#define AMPSHIM_RATELIMIT_H

#include "config.h"
#include "curlapi.h"
#include "handles.h"

/* Headers seen by the stand-in header callback (libcurl before 7.84). */
struct amp_watch {
    struct amp_handle *hs;
    char amp_retry_after[128];
    char retry_after[128];
    char retryable[16];
};

/* Before a routed transfer: CURLE_OK to send it; otherwise the error to
 * return, with the application's error buffer and one stderr line saying
 * why. In wait mode, sleeps through a short block first. */
CURLcode amp_ratelimit_check(const struct amp_config *cfg, struct amp_handle *hs);

/* Whether the transfer needs the stand-in header callback. */
int amp_ratelimit_needs_watch(const struct amp_curl *c);
/* The callback itself; userdata is a struct amp_watch. */
size_t amp_ratelimit_watch_header(char *buf, size_t size, size_t n, void *userdata);

/* After a routed transfer: a 429 blocks its route. watch may be NULL
 * when curl_easy_header() is there to ask. */
void amp_ratelimit_observe(const struct amp_config *cfg, struct amp_handle *hs,
                           const struct amp_watch *watch);

#endif
