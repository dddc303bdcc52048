/* The benchmark's upstream: a small HTTP/1.1 keep-alive server on loopback.
 *
 *   upstream PORTFILE [DELAY_US]
 *
 * Listens on 127.0.0.1, port chosen by the kernel, and writes the port to
 * PORTFILE (written beside it, then renamed, so a reader never sees half of
 * it). One thread per connection; each request is read up to its blank
 * line (the benchmark's requests have no body; headers are not looked at)
 * and answered 200 with a small fixed body, the connection kept open: with
 * 2 header lines, or 22 (what real API providers send) when the request's
 * path starts with /h22/.
 * Ends on SIGTERM, or when its parent dies.
 *
 * With DELAY_US, each answer is sent that many microseconds after its
 * request was read (the benchmark's instruction counts use 2000): the
 * client, even under callgrind, is then always already waiting in poll when
 * the answer arrives, so it goes through the same number of poll rounds on
 * every request, and two identical runs count the same instructions. Without
 * it, whether the answer was already there when the client first looked
 * depends on scheduling, and the counts move by tens to hundreds per
 * request. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY "{\"items\":[1,2,3]}"
static const char response[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 17\r\n"
    "\r\n" BODY;

/* What a real API provider sends (issue 17): 22 header lines. Asked for
 * by a request whose path starts with /h22/. */
static const char response22[] =
    "HTTP/1.1 200 OK\r\n"
    "Date: Sun, 06 Dec 2026 12:00:00 GMT\r\n"
    "Content-Type: application/json;charset=UTF-8\r\n"
    "Content-Length: 17\r\n"
    "Connection: keep-alive\r\n"
    "Server: sfdcedge\r\n"
    "Vary: Accept-Encoding\r\n"
    "Cache-Control: no-cache,must-revalidate,max-age=0,no-store,private\r\n"
    "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
    "Pragma: no-cache\r\n"
    "ETag: \"3b1c2a9e5d4f\"\r\n"
    "Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "X-XSS-Protection: 1; mode=block\r\n"
    "Content-Security-Policy: upgrade-insecure-requests\r\n"
    "Referrer-Policy: origin-when-cross-origin\r\n"
    "X-Request-Id: 7f3e9b2c-41d5-4a8e-b6f0-2c9d8e1a5b47\r\n"
    "X-RateLimit-Limit: 15000\r\n"
    "X-RateLimit-Remaining: 14873\r\n"
    "X-RateLimit-Reset: 1796558400\r\n"
    "Sforce-Limit-Info: api-usage=127/15000\r\n"
    "Access-Control-Allow-Origin: *\r\n"
    "\r\n" BODY;

static long delay_us;

static void delay(void)
{
    struct timespec d = {.tv_sec = delay_us / 1000000, .tv_nsec = delay_us % 1000000 * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &d, &d) == EINTR)
        ;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t have = 0;

    for (;;) {
        ssize_t r = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        /* The end of the headers can only be in or just before what came. */
        size_t from = have > 3 ? have - 3 : 0;
        have += (size_t)r;
        char *end;
        while ((end = memmem(buf + from, have - from, "\r\n\r\n", 4))) {
            size_t used = (size_t)(end + 4 - buf);
            if (delay_us > 0)
                delay();
            /* The request line: "GET /h22/... HTTP/1.1", or through a
             * relay "GET http://host/h22/... HTTP/1.1". */
            const char *eol = memchr(buf, '\n', used);
            int many = eol && memmem(buf, (size_t)(eol - buf), "/h22/", 5);
            if (many ? send_all(fd, response22, sizeof(response22) - 1) < 0
                     : send_all(fd, response, sizeof(response) - 1) < 0)
                goto out;
            memmove(buf, buf + used, have - used);
            have -= used;
            from = 0;
        }
        if (have == sizeof(buf)) /* a request too big for us: give up */
            break;
    }
out:
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    char *rest = NULL;
    if (argc == 3)
        delay_us = strtol(argv[2], &rest, 10);
    if (argc < 2 || argc > 3 || (rest && (*rest || rest == argv[2] || delay_us < 0))) {
        fprintf(stderr, "usage: upstream PORTFILE [DELAY_US]\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t alen = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 64) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) < 0) {
        perror("upstream: listen");
        return 1;
    }

    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
        rename(tmp, argv[1]) != 0) {
        perror("upstream: port file");
        return 1;
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("upstream: accept");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        pthread_t t;
        if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0) {
            perror("upstream: thread");
            close(fd);
        }
    }
}
