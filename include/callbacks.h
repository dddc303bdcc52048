/* libcurl's callbacks that the option table (options.c) puts on a handle
 * for a transfer of ours: named here so that the table, a floor below the
 * files that define them, needs none of their headers. Each gets the
 * struct amp_handle as its data pointer. */
#ifndef AMPSHIM_CALLBACKS_H
#define AMPSHIM_CALLBACKS_H

#include <stddef.h>

#include "curlapi.h"

/* transfer.c: CURLOPT_PREREQFUNCTION on a transfer to the proxy that no
 * guard looks at (and the guard's, for a request to the proxy): its
 * request is about to be sent, so a new URL no longer routes it again;
 * then the application's own callback; then, to a plain-http relay, the
 * connection libcurl picked refused unless it is still our socket
 * (amp_confine_sends_on: the easy interface sends it again on a new one,
 * a multi transfer fails); then the request counted. */
int amp_transfer_sending(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                         int local_port);

/* redirect.c: CURLOPT_PREREQFUNCTION on a routed handle that follows
 * redirects. Before each request it looks where the request goes: to the
 * proxy, with our headers; to a URL a route matches, not at all (the
 * request is stopped before a byte is sent and routed again through the
 * proxy); anywhere else, with the application's own headers only. Then the
 * application's own callback. */
int amp_redirect_guard(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                       int local_port);
/* redirect.c: CURLOPT_RESOLVER_START_FUNCTION on the same handles: a
 * redirect to a URL a route matches is stopped before its host is even
 * looked up (the guard above would only see it once connected). */
int amp_redirect_resolving(void *resolver_state, void *reserved, void *userdata);

/* respond.c, while a blocked call is answered here.
 * CURLOPT_OPENSOCKETFUNCTION: the listening socket is made, and libcurl
 * pointed at it; CURLOPT_PREREQFUNCTION: libcurl's connection taken and
 * answered; CURLOPT_CLOSESOCKETFUNCTION: ours closed with it. */
curl_socket_t amp_respond_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);
int amp_respond_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                       int local_port);
int amp_respond_close(void *clientp, curl_socket_t fd);

/* trace.c: CURLOPT_DEBUGFUNCTION of a verbose routed transfer, the key
 * masked before the application's debug callback, or libcurl's default
 * output, sees it. */
int amp_trace_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata);

/* ratelimit.c: CURLOPT_HEADERFUNCTION of every routed transfer. It records
 * a 429 from the proxy as soon as the response's headers are complete (or
 * the application stops the transfer inside them), so a transfer the
 * application never ends (no info_read, a long-jump out of a callback) is
 * recorded too; it hands every line on as libcurl would have. */
size_t amp_ratelimit_watch_header(char *buf, size_t size, size_t n, void *userdata);
/* ratelimit.c: CURLOPT_WRITEFUNCTION of a lean transfer (AMP_MODE_LEAN,
 * ratelimit.h), which has no header callback of ours: a 429 is recorded
 * before the application sees a byte of its body, the rest at the end. */
size_t amp_ratelimit_watch_body(char *buf, size_t size, size_t n, void *userdata);

#endif
