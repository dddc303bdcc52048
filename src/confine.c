/* Where a routed request, our key in it, may go: the application's RESOLVE
 * entries for the proxy's host left out, a loopback-only socket for a
 * plain-http proxy, and that socket known again (a program that closed it
 * under libcurl and opened its own in its place never gets our request).
 * Which options are set aside is options.c's table; the reason for each of
 * libcurl's options is tests/unit/test_confine.c's. */
#define _GNU_SOURCE
#include "confine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "locks.h"
#include "log.h"

static int loopback(const struct curl_sockaddr *a)
{
    if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->addr;
        const struct in6_addr *x = &in6->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(x))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(x) && x->s6_addr[12] == 127;
    }
    return 0;
}

/* The sockets amp_confine_open made that libcurl has not closed, by
 * number: their inode + 1 (0: none); under amp_lock_confine, which keeps
 * an fstat from meeting another thread's close. Beyond AMP_CONFINE_FDS a
 * socket is not known, and a routed transfer reuses no connection while
 * one is open. */
#define AMP_CONFINE_FDS 4096
static uint64_t made[AMP_CONFINE_FDS];
static int top, unknown;

static uint64_t inode_of(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino + 1 : 0;
}

int amp_confine_intact(void)
{
    int intact = 1;

    pthread_mutex_lock(&amp_lock_confine);
    if (unknown)
        intact = 0;
    for (int fd = 0; fd < top && intact; fd++) {
        /* Closed (EBADF): libcurl finds that connection dead and makes another. */
        uint64_t now = made[fd] ? inode_of(fd) : 0;
        intact = !now || now == made[fd];
    }
    pthread_mutex_unlock(&amp_lock_confine);
    return intact;
}

int amp_confine_close(void *clientp, curl_socket_t fd)
{
    int rc = 0;

    (void)clientp; /* the handle that opened it may be gone: a connection outlives it */
    pthread_mutex_lock(&amp_lock_confine);
    if (fd >= AMP_CONFINE_FDS) {
        unknown--;
        rc = close(fd);
    } else {
        uint64_t ino = made[fd];
        made[fd] = 0;
        /* Not ours any more (the program's own, opened in its place): left open. */
        if (!ino || inode_of(fd) == ino)
            rc = close(fd);
    }
    pthread_mutex_unlock(&amp_lock_confine);
    return rc;
}

curl_socket_t amp_confine_open(void *clientp, curlsocktype purpose,
                               struct curl_sockaddr *address)
{
    (void)clientp;
    (void)purpose;
    if (!loopback(address)) {
        char ip[INET6_ADDRSTRLEN] = "?";
        const void *at = address->family == AF_INET
                             ? (const void *)&((const struct sockaddr_in *)&address->addr)->sin_addr
                             : (const void *)&((const struct sockaddr_in6 *)&address->addr)->sin6_addr;
        inet_ntop(address->family, at, ip, sizeof(ip));
        amp_error("the plain-http proxy's name led to %s, not a loopback address: not sent", ip);
        return CURL_SOCKET_BAD;
    }
    pthread_mutex_lock(&amp_lock_confine);
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd >= AMP_CONFINE_FDS) {
        unknown++;
    } else if (fd >= 0) {
        made[fd] = inode_of(fd);
        top = fd >= top ? fd + 1 : top;
    }
    pthread_mutex_unlock(&amp_lock_confine);
    return fd;
}

/* The host of "[+-]HOST:PORT:..." or of "scheme://HOST[:PORT][/...]", in
 * *len bytes from its start (an IPv6 address with its brackets). */
static const char *host_of(const char *s, size_t *len)
{
    const char *end;

    if (*s == '[')
        end = strchr(s, ']') ? strchr(s, ']') + 1 : s + strlen(s);
    else
        end = s + strcspn(s, ":/");
    *len = (size_t)(end - s);
    return s;
}

/* 1 when the RESOLVE entry stays in a transfer to proxy_url: it names
 * neither the proxy's host nor any host. */
static int entry_kept(const char *entry, const char *proxy_url)
{
    const char *scheme_end = strstr(proxy_url, "://");
    size_t plen, elen;
    const char *proxy_host = host_of(scheme_end ? scheme_end + 3 : proxy_url, &plen);
    const char *host = host_of(entry + (entry[0] == '+' || entry[0] == '-'), &elen);

    return !((elen == plen && strncasecmp(host, proxy_host, plen) == 0) || (elen == 1 && *host == '*'));
}

int amp_confine_resolve_same(const struct curl_slist *app, const char *proxy_url,
                             const struct curl_slist *mine)
{
    for (; app; app = app->next) {
        if (!entry_kept(app->data, proxy_url))
            continue;
        if (!mine || strcmp(mine->data, app->data) != 0)
            return 0;
        mine = mine->next;
    }
    return !mine;
}

int amp_confine_resolve(const struct amp_curl *c, const struct curl_slist *app,
                        const char *proxy_url, struct curl_slist **out)
{
    *out = NULL;
    for (; app; app = app->next) {
        if (!entry_kept(app->data, proxy_url))
            continue;
        struct curl_slist *grown = c->slist_append(*out, app->data);
        if (!grown) {
            c->slist_free_all(*out);
            *out = NULL;
            return -1;
        }
        *out = grown;
    }
    return 0;
}
