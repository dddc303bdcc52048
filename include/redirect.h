/* Redirects of a routed transfer: our headers go only to the proxy. */
#ifndef AMPSHIM_REDIRECT_H
#define AMPSHIM_REDIRECT_H

#include <stddef.h>

/* libcurl's CURLOPT_PREREQFUNCTION, put on a routed handle that follows
 * redirects (clientp: its struct amp_handle). Before each request it
 * looks where the request goes: to the proxy, with our headers; to a URL
 * a route matches, not at all (the request is stopped before a byte is
 * sent and routed again through the proxy); anywhere else, with the
 * application's own headers only. Then the application's own callback. */
int amp_redirect_guard(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                       int local_port);

/* The Location of a redirect the proxy answered a routed transfer with
 * (the header's value, unterminated), seen as it arrives: one that leads
 * off the proxy, to no route, gets the application's own options back
 * now, before libcurl connects for it (AMP_MODE_AWAY), so it goes where it
 * would have gone without ampshim. */
struct amp_handle;
void amp_redirect_location(struct amp_handle *hs, const char *value, size_t len);

/* libcurl's CURLOPT_RESOLVER_START_FUNCTION on the same handles: a
 * redirect to a URL a route matches is stopped before its host is even
 * looked up (the guard above would only see it once connected). */
int amp_redirect_resolving(void *resolver_state, void *reserved, void *userdata);

#endif
