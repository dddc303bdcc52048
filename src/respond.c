/* Blocked calls answered in HTTP. The transfer is sent, by libcurl as
 * usual, to a socket this process listens on at 127.0.0.1, made for this
 * one call when libcurl opens its socket (CURLOPT_OPENSOCKETFUNCTION, which
 * may change the address libcurl then connects to), so nothing is held
 * while the transfer waits its turn; once libcurl has connected
 * (CURLOPT_PREREQFUNCTION, before a byte of the request is sent) the
 * connection is taken from the queue, checked to be libcurl's own by its
 * port, given the answer, and the listening socket closed. libcurl
 * then reads a response like any other, so every callback,
 * curl_easy_getinfo() and curl_easy_header() agree with it, in the easy
 * and the multi interface alike. The answer says "Connection: close" and
 * its length, so libcurl stops sending a large body as soon as it has read
 * it (an Expect: 100-continue is answered by it too).
 *
 * (A socket pair handed over with CURL_SOCKOPT_ALREADY_CONNECTED would
 * need no listening socket, but libcurl 7.88 connects it all the same.) */
#define _GNU_SOURCE
#include "respond.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "retry.h"

/* Longer than a loopback connection ever takes to reach the queue. */
#define ACCEPT_WAIT_MS 2000

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The connection libcurl made (local_port is its end), answered. */
static int answer_connection(struct amp_handle *hs, int local_port)
{
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        int fd = accept4(hs->answer_listen, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            struct pollfd p = { .fd = hs->answer_listen, .events = POLLIN };
            if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) &&
                                   poll(&p, 1, ACCEPT_WAIT_MS) > 0))
                continue;
            return -1;
        }
        /* Anyone else on this machine who got in first is shown the door. */
        if (peer.sin_family != AF_INET || ntohs(peer.sin_port) != local_port ||
            peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) {
            close(fd);
            continue;
        }
        size_t off = 0;
        /* A few hundred bytes: the socket's buffer takes them at once. */
        while (off < hs->answer_len) {
            ssize_t w = send(fd, hs->answer + off, hs->answer_len - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                close(fd);
                return -1;
            }
            off += (size_t)w;
        }
        shutdown(fd, SHUT_WR);
        /* Kept open until the transfer ends: closed with the request unread,
         * it would reset the connection before libcurl read the answer. */
        close_fd(&hs->answer_fd);
        hs->answer_fd = fd;
        return 0;
    }
}

static int answer_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                         int local_port)
{
    struct amp_handle *hs = clientp;

    if (hs->answer_listen < 0 || answer_connection(hs, local_port) < 0) {
        amp_error("could not answer a blocked call here: %s; not sent", strerror(errno));
        return CURL_PREREQFUNC_ABORT;
    }
    close_fd(&hs->answer_listen);
    if (hs->app.prereq_fn)
        return hs->app.prereq_fn(hs->app.prereq_data, primary_ip, local_ip, primary_port,
                                 local_port);
    return CURL_PREREQFUNC_OK;
}

/* A socket listening on 127.0.0.1, any port, into *a; -1 on failure. A
 * long queue: others on the machine cannot fill it in the moment it is
 * open. */
static int listen_here(struct amp_handle *hs, struct sockaddr_in *a)
{
    socklen_t len = sizeof(*a);

    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    close_fd(&hs->answer_listen);
    hs->answer_listen = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (hs->answer_listen < 0 || bind(hs->answer_listen, (struct sockaddr *)a, sizeof(*a)) < 0 ||
        listen(hs->answer_listen, SOMAXCONN) < 0 ||
        getsockname(hs->answer_listen, (struct sockaddr *)a, &len) < 0) {
        close_fd(&hs->answer_listen);
        return -1;
    }
    return 0;
}

/* libcurl closes its socket (the answer said "Connection: close"): ours
 * goes with it, so a program that reads its results late holds nothing. */
static int close_here(void *clientp, curl_socket_t fd)
{
    struct amp_handle *hs = clientp;

    close_fd(&hs->answer_fd);
    return close(fd);
}

/* libcurl opens its socket: the listening one is made now, and libcurl
 * connects to it whatever the URL said. */
static curl_socket_t open_here(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    struct amp_handle *hs = clientp;
    struct sockaddr_in here;

    (void)purpose;
    if (listen_here(hs, &here) < 0 || sizeof(here) > sizeof(address->addr)) {
        amp_error("could not answer a blocked call here: %s; not sent", strerror(errno));
        return CURL_SOCKET_BAD;
    }
    address->family = AF_INET;
    address->socktype = SOCK_STREAM;
    address->protocol = IPPROTO_TCP;
    address->addrlen = sizeof(here);
    memcpy(&address->addr, &here, sizeof(here));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        close_fd(&hs->answer_listen);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* The request keeps the path and query the proxy would have had, so that
 * verbose output still names them (they reach only our socket). */
static char *here_url(const char *proxy_url)
{
    const char *rest = strstr(proxy_url, "://");
    char *url = NULL;

    rest = rest ? strchr(rest + 3, '/') : NULL;
    /* The port is open_here's: this one is only what libcurl starts from. */
    if (asprintf(&url, "http://127.0.0.1:9%s", rest ? rest : "/") < 0)
        return NULL;
    return url;
}

int amp_respond_apply(struct amp_handle *hs, const struct amp_block *b, const char *route,
                      int64_t now, const char *proxy_url)
{
    const struct amp_curl *c = hs->c;
    CURL *e = hs->easy;
    char answer[4096];
    int len = amp_block_answer(b, route, now, answer, sizeof(answer));
    char *url = here_url(proxy_url);

    hs->answering = 1;
    free(hs->answer);
    hs->answer = len > 0 ? malloc((size_t)len) : NULL;
    if (!hs->answer || !url) {
        free(url);
        return -1;
    }
    memcpy(hs->answer, answer, (size_t)len);
    hs->answer_len = (size_t)len;
    CURLcode rc = c->easy_setopt(e, CURLOPT_URL, url);
    free(url);
    if (rc != CURLE_OK)
        return -1;
    /* Not a byte of the key, even into our own socket. */
    c->easy_setopt(e, CURLOPT_HTTPHEADER, hs->app.headers);
    c->easy_setopt(e, CURLOPT_PREREQFUNCTION, answer_prereq);
    c->easy_setopt(e, CURLOPT_PREREQDATA, (void *)hs);
    /* A connection of our making (the application's socket callbacks may
     * send it anywhere), never one of the pool's and never
     * kept, spoken in HTTP/1.1, to no proxy and no unix socket, from no
     * particular interface or port, over any IP version. */
    c->easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_here);
    c->easy_setopt(e, CURLOPT_OPENSOCKETDATA, (void *)hs);
    c->easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, (curl_sockopt_callback)NULL);
    c->easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_here);
    c->easy_setopt(e, CURLOPT_CLOSESOCKETDATA, (void *)hs);
    c->easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    c->easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    c->easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    c->easy_setopt(e, CURLOPT_NOPROXY, "*");
    c->easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, (char *)NULL);
    c->easy_setopt(e, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_WHATEVER);
    c->easy_setopt(e, CURLOPT_INTERFACE, (char *)NULL);
    c->easy_setopt(e, CURLOPT_LOCALPORT, 0L);
    c->easy_setopt(e, CURLOPT_LOCALPORTRANGE, 1L);
    /* An application that allows https only still gets its answer. */
    if (hs->app.protocols || hs->app.protocols_str)
        c->easy_setopt(e, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
    return 0;
}

void amp_respond_restore(struct amp_handle *hs)
{
    const struct amp_curl *c = hs->c;
    CURL *e = hs->easy;
    const struct amp_app_options *app = &hs->app;

    c->easy_setopt(e, CURLOPT_PREREQFUNCTION, app->prereq_fn);
    c->easy_setopt(e, CURLOPT_PREREQDATA, app->prereq_data);
    c->easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, app->open_fn);
    c->easy_setopt(e, CURLOPT_OPENSOCKETDATA, app->open_data);
    c->easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, app->sockopt_fn);
    c->easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, app->close_fn);
    c->easy_setopt(e, CURLOPT_CLOSESOCKETDATA, app->close_data);
    c->easy_setopt(e, CURLOPT_FRESH_CONNECT, app->fresh_connect);
    c->easy_setopt(e, CURLOPT_FORBID_REUSE, app->forbid_reuse);
    c->easy_setopt(e, CURLOPT_HTTP_VERSION, app->http_version);
    c->easy_setopt(e, CURLOPT_NOPROXY, app->noproxy);
    c->easy_setopt(e, app->unix_abstract ? CURLOPT_ABSTRACT_UNIX_SOCKET : CURLOPT_UNIX_SOCKET_PATH,
                   app->unix_socket);
    c->easy_setopt(e, CURLOPT_IPRESOLVE, app->ipresolve);
    c->easy_setopt(e, CURLOPT_INTERFACE, app->interface);
    c->easy_setopt(e, CURLOPT_LOCALPORT, app->localport);
    c->easy_setopt(e, CURLOPT_LOCALPORTRANGE, app->localportrange ? app->localportrange : 1L);
    if (app->protocols_str)
        c->easy_setopt(e, CURLOPT_PROTOCOLS_STR, app->protocols_str);
    else if (app->protocols)
        c->easy_setopt(e, CURLOPT_PROTOCOLS, app->protocols);
    hs->answering = 0;
    close_fd(&hs->answer_listen);
    close_fd(&hs->answer_fd);
}
