/* `ampshim check`'s warning for a route whose host is one or two edits from
 * a host of the provider catalog and is none of them (nearhost.c). */
#ifndef AMPSHIM_NEARHOST_H
#define AMPSHIM_NEARHOST_H

struct amp_config;

/* warn(msg) once for each route of cfg whose host is near a catalog host
 * ("FILE:LINE: base_url host api.hubapi.cmo is not in the provider
 * catalog; did you mean api.hubapi.com (hubspot)?"). Nothing when the
 * catalog cannot be read. The number of warnings. */
int amp_near_hosts(const struct amp_config *cfg, void (*warn)(const char *msg));

#endif
