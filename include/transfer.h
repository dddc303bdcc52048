/* One routed transfer, whichever interface drives it: begun when it is
 * performed or added to a multi handle, ended when it completes or is
 * taken away. */
#ifndef AMPSHIM_TRANSFER_H
#define AMPSHIM_TRANSFER_H

#include "handles.h"
#include "settings.h"

/* Route hs's transfer. CURLE_OK with *routed 0 (left alone) or 1 (our
 * options are on the handle); any other code: the transfer must not be
 * sent (blocked, out of memory), hs->xfer.forced_msg and the application's
 * error buffer say why. may_wait: a short block may be slept through; now:
 * the UTC second (time(NULL)). */
CURLcode amp_transfer_begin(const struct amp_config *cfg, struct amp_handle *hs, int may_wait,
                            int64_t now, int *routed);

/* A transfer that must fail without a byte sent, through libcurl's own
 * machinery (the multi interface reports it like any failure). */
void amp_transfer_begin_failed(const struct amp_config *cfg, struct amp_handle *hs,
                               CURLcode why);

/* The transfer is over (a 429 was recorded as it arrived); our options
 * stay on the handle for the next. Does nothing unless one is active. */
void amp_transfer_end(struct amp_handle *hs);

/* The application set row's option (libcurl holds its value now) on a
 * handle whose transfer is under way, added to a multi handle or being
 * performed, or ended but not yet read: ours are put back at once, in the
 * mode its values ask for now (redirects looked at, the key masked), so
 * libcurl never acts on the change with ours in the wrong place. 1 when
 * the change is to where the transfer goes and it has not started: the
 * caller routes it again from the start (amp_transfer_take_back, then
 * amp_transfer_begin). Never starts or counts a transfer again. */
int amp_transfer_option_set(struct amp_handle *hs, int row);

/* libcurl's CURLOPT_PREREQFUNCTION on a transfer to the proxy that no
 * guard looks at (clientp: its struct amp_handle): its request is about to
 * be sent, so a new URL no longer routes it again; then the application's
 * own callback. */
int amp_transfer_sending(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                         int local_port);

/* A transfer that never ran, ended as if it had not begun: not counted
 * (neither routed nor blocked). */
void amp_transfer_take_back(struct amp_handle *hs);

/* The config hs decides with from now on; a new one (read again) drops
 * what was decided with the old. cfg is the current config as the caller
 * read it: the handle holds a reference to the current one (cfg or a newer
 * one: use hs->cfg after) and gives back the one it held. Never while a
 * transfer is under way. */
void amp_transfer_use_config(struct amp_handle *hs, const struct amp_config *cfg);

/* Decides the route of url (the application's, kept for as long as the
 * decision) into hs->decision. -1 when memory ran out. */
int amp_transfer_decide_url(const struct amp_config *cfg, struct amp_handle *hs, const char *url);

/* The guard's verdict on a redirect to a routed URL: route the handle to
 * it (hs->guard.redirect_url). CURLE_OK to perform again. */
CURLcode amp_transfer_reroute(const struct amp_config *cfg, struct amp_handle *hs);

/* A sentence in the application's CURLOPT_ERRORBUFFER and hs->xfer.forced_msg. */
void amp_transfer_error(struct amp_handle *hs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
