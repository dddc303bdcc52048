/* Redirects of a routed transfer: our headers go only to the proxy (the
 * guard's callbacks are in callbacks.h). */
#ifndef AMPSHIM_REDIRECT_H
#define AMPSHIM_REDIRECT_H

#include <stddef.h>

/* The Location of a redirect the proxy answered a routed transfer with
 * (the header's value, unterminated), seen as it arrives: one that leads
 * off the proxy, to no route, gets the application's own options back
 * now, before libcurl connects for it (AMP_MODE_AWAY), so it goes where it
 * would have gone without ampshim. */
struct amp_handle;
void amp_redirect_location(struct amp_handle *hs, const char *value, size_t len);

#endif
