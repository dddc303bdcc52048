/* The options ampshim stands in for during a routed transfer: what the
 * application set is noted as it sets it, ours are put on the handle for
 * the transfer, and the application's are given back after it. */
#ifndef AMPSHIM_OPTIONS_H
#define AMPSHIM_OPTIONS_H

#include "config.h"
#include "handles.h"

/* 1 for the options whose application value ampshim keeps. */
int amp_option_tracked(CURLoption option);

/* Notes the value the application set (the one that fits the option's
 * type). -1 when out of memory. */
int amp_option_note(struct amp_handle *hs, CURLoption option, long l, void *p, void (*fn)(void));

/* Our options for a routed transfer: the proxy URL and our headers, and
 * nothing of the application's that would send them elsewhere (a CURLU,
 * a port, connect-to, unified proxy headers). guard: the transfer follows
 * redirects, and redirect.c looks at each one. -1 when libcurl refused one. */
int amp_options_apply(struct amp_handle *hs, const struct amp_config *cfg, const char *url,
                      struct curl_slist *headers, int guard);
/* The redirect guards alone (redirect.c), on a transfer that starts
 * unrouted: every request libcurl makes is looked at. And off again. */
void amp_options_guard(struct amp_handle *hs);
void amp_options_unguard(struct amp_handle *hs);

/* The application's values again. */
void amp_options_restore(struct amp_handle *hs, const struct amp_config *cfg);

#endif
