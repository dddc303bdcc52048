/* Key confinement: where a routed request, our API key in it, may go and
 * who may read it. Every option libcurl has is classed by what it could do
 * to a routed request in tests/unit/test_confine.c, which goes through
 * libcurl's own list (curl_easy_option_next) and fails on any option not
 * classed: a newer libcurl's options get reviewed, not missed. */
#ifndef AMPSHIM_CONFINE_H
#define AMPSHIM_CONFINE_H

#include "curlapi.h"

/* The application's CURLOPT_RESOLVE list as a transfer to proxy_url gets
 * it: every entry but those for the proxy's host (or any host, "*"). The
 * others stay: libcurl loads them only as a transfer starts, and a
 * redirect off the proxy may need them. *out NULL when none is left; -1
 * when out of memory. */
int amp_confine_resolve(const struct amp_curl *c, const struct curl_slist *app,
                        const char *proxy_url, struct curl_slist **out);
/* 1 when mine is what amp_confine_resolve would make of app now. */
int amp_confine_resolve_same(const struct curl_slist *app, const char *proxy_url,
                             const struct curl_slist *mine);

/* CURLOPT_OPENSOCKETFUNCTION of a routed transfer to a plain-http proxy
 * (a relay on loopback; clientp: its struct amp_handle): a socket only for
 * a loopback address, whatever a RESOLVE entry, DNS or DoH said, and for a
 * proxy named by its IP address or "localhost", only for the address that
 * names (a RESOLVE entry in libcurl's name cache, left by an earlier
 * transfer, may point it at another local server). */
curl_socket_t amp_confine_open(void *clientp, curlsocktype purpose,
                               struct curl_sockaddr *address);
/* Its CURLOPT_CLOSESOCKETFUNCTION: the socket forgotten, and closed unless
 * the program closed it already and the number is the program's now. */
int amp_confine_close(void *clientp, curl_socket_t fd);
/* 0 when a socket amp_confine_open made is still held by libcurl but its
 * number is another file now (the program closed it under libcurl: a
 * daemon closing every descriptor): a connection libcurl kept to the proxy
 * may be the program's own to anywhere, and a multi transfer being added
 * is made to take a new one (AMP_MODE_FRESH). One fstat a socket open. */
int amp_confine_intact(void);
/* 1 when the connection a request to a plain-http proxy is about to go out
 * on (libcurl names it by its local port, to our PREREQFUNCTION) is a
 * socket amp_confine_open made and its number still holds it. 0 for any
 * other: one libcurl made without our callback (the program's own,
 * unrouted request to the proxy's address, kept and reused), or one whose
 * number the program closed or put another socket over since, at any
 * moment before this (after a multi transfer was added, in its own
 * callbacks). Asked as late as libcurl lets us: what is left is another
 * thread replacing the number in the microseconds until the send. One
 * fstat; a getsockname the first time for each socket. */
int amp_confine_sends_on(int local_port);
/* The program's own, unrouted request to the plain-http relay's origin is
 * about to go: libcurl may keep its connection, which no callback of ours
 * made (and which the program may bind, or hand libcurl already connected,
 * where it likes), and give it to a routed transfer to the relay. Once that
 * is so (or amp_confine_sends_on met such a connection: one an unrouted
 * redirect led onto the relay), amp_confine_relay_shared says 1, for good:
 * routed transfers take new connections (AMP_MODE_FRESH). */
void amp_confine_relay_touched(void);
int amp_confine_relay_shared(void);

#endif
