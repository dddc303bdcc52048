/* Blocked calls answered in HTTP (throttle.on_block = "respond", the
 * default): a call to a blocked route gets, through libcurl's own
 * machinery, the 429 the proxy would give, and not one byte leaves the
 * process. */
#ifndef AMPSHIM_RESPOND_H
#define AMPSHIM_RESPOND_H

#include "config.h"
#include "handles.h"
#include "state.h"

/* Readies hs's transfer to be answered here with the answer for block b
 * (amp_block_answer) on route; its request keeps the path and query of
 * proxy_url. The options (mode AMP_MODE_ANSWER of options.h) are put by
 * the caller. -1 when out of memory. */
int amp_respond_prepare(struct amp_handle *hs, const struct amp_block *b, const char *route,
                        int64_t now, const char *proxy_url);

/* The transfer ended: our end of its socket closed. */
void amp_respond_end(struct amp_handle *hs);

/* Our callbacks while a blocked call is answered (clientp: the entry).
 * CURLOPT_OPENSOCKETFUNCTION: the listening socket is made, and libcurl
 * pointed at it; CURLOPT_PREREQFUNCTION: libcurl's connection taken and
 * answered; CURLOPT_CLOSESOCKETFUNCTION: ours closed with it. */
curl_socket_t amp_respond_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);
int amp_respond_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                       int local_port);
int amp_respond_close(void *clientp, curl_socket_t fd);

#endif
