/* `ampshim route URL`: what would happen to a call to URL, and why. */
#ifndef AMPSHIM_EXPLAIN_H
#define AMPSHIM_EXPLAIN_H

#include <stdio.h>

#include "config.h"
#include "throttle.h"

/* Prints the route that matches (and why the nearest others did not),
 * the URL the proxy receives, the headers added (key masked) and whether
 * the route is blocked now (st may be NULL). 0 when routed, 1 when not. */
int amp_explain(const struct amp_config *cfg, struct amp_state *st, const char *url, FILE *out);

#endif
