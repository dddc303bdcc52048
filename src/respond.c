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

#include "callbacks.h"
#include "inflight.h"
#include "log.h"
#include "block.h"

/* Longer than a loopback connection ever takes to reach the queue. */
#define ACCEPT_WAIT_MS 2000

/* Only while it is still ours (ownfd.h). */
static void close_fd(struct amp_ownfd *fd)
{
    amp_ownfd_close(fd);
}

/* The connection libcurl made (local_port is its end), answered. */
static int answer_connection(struct amp_handle *hs, int local_port)
{
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        int fd = accept4(hs->answer.listen_fd.fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            struct pollfd p = { .fd = hs->answer.listen_fd.fd, .events = POLLIN };
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
        while (off < hs->answer.len) {
            ssize_t w = send(fd, hs->answer.text + off, hs->answer.len - off, MSG_NOSIGNAL);
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
        close_fd(&hs->answer.fd);
        return amp_ownfd_keep(&hs->answer.fd, fd);
    }
}

int amp_respond_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                         int local_port)
{
    struct amp_handle *hs = clientp;

    amp_transfer_started(hs);
    /* A listener whose number the application has taken meanwhile is not
     * accepted on: the call is not answered (nor sent). */
    if (!amp_ownfd_ours(&hs->answer.listen_fd, NULL) || answer_connection(hs, local_port) < 0) {
        amp_error("could not answer a blocked call here: %s; not sent", strerror(errno));
        return CURL_PREREQFUNC_ABORT;
    }
    close_fd(&hs->answer.listen_fd);
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
    close_fd(&hs->answer.listen_fd);
    if (amp_ownfd_keep(&hs->answer.listen_fd,
                       socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -1;
    int fd = hs->answer.listen_fd.fd;
    if (bind(fd, (struct sockaddr *)a, sizeof(*a)) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)a, &len) < 0) {
        close_fd(&hs->answer.listen_fd);
        return -1;
    }
    return 0;
}

/* libcurl closes its socket (the answer said "Connection: close"): ours
 * goes with it, so a program that reads its results late holds nothing. */
int amp_respond_close(void *clientp, curl_socket_t fd)
{
    struct amp_handle *hs = clientp;

    close_fd(&hs->answer.fd);
    return close(fd);
}

/* libcurl opens its socket: the listening one is made now, and libcurl
 * connects to it whatever the URL said. */
curl_socket_t amp_respond_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
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
        close_fd(&hs->answer.listen_fd);
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

int amp_respond_prepare(struct amp_handle *hs, const struct amp_block *b, const char *route,
                        int64_t now, const char *proxy_url)
{
    char answer[4096];
    int len = amp_block_answer(b, route, now, answer, sizeof(answer));
    char *url = here_url(proxy_url);

    free(hs->answer.text);
    free(hs->answer.url);
    hs->answer.text = len > 0 ? malloc((size_t)len) : NULL;
    hs->answer.url = url;
    if (!hs->answer.text || !url)
        return -1;
    memcpy(hs->answer.text, answer, (size_t)len);
    hs->answer.len = (size_t)len;
    return 0;
}

void amp_respond_init(struct amp_handle *hs)
{
    hs->answer.fd = hs->answer.listen_fd = AMP_OWNFD_NONE;
}

void amp_respond_free(struct amp_handle *hs)
{
    free(hs->answer.text);
    free(hs->answer.url);
    amp_ownfd_close(&hs->answer.fd);
    amp_ownfd_close(&hs->answer.listen_fd);
}

/* Not inlined into the end of every transfer (transfer.c), which seldom
 * was answered here. */
__attribute__((noinline)) void amp_respond_end(struct amp_handle *hs)
{
    close_fd(&hs->answer.listen_fd);
    close_fd(&hs->answer.fd);
}
