/* Where a routed request, our key in it, may go: the application's RESOLVE
 * entries for the proxy's host left out, a loopback-only socket for a
 * plain-http proxy, and that socket known again (a program that closed it
 * under libcurl and opened its own in its place never gets our request).
 * Which options are set aside is options.c's table; the reason for each of
 * libcurl's options is tests/unit/test_confine.c's. */
#define _GNU_SOURCE
#include "confine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "handle.h"
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

/* The sockets amp_confine_open made that libcurl has not closed: by
 * number, their inode + 1 (0: none), and a bit in `live` (a word of it
 * for each 64 numbers, a bit of `words` for each word that has ever had
 * one: a check looks at the sockets open, not at every number below the
 * highest). No lock: a check that meets another thread's open or close
 * can only see a socket changed where none was (a fresh connection, the
 * safe way), never miss one that was replaced before it began, and a
 * bit of `words` is never cleared, so that no word that has one is
 * skipped. From AMP_CONFINE_FDS on (a program with that many files
 * open), a socket's number and inode are in one of AMP_CONFINE_HIGH
 * slots, `high` says how many, and a routed transfer reuses no connection
 * while one is open. */
#define AMP_CONFINE_FDS 4096
#define AMP_CONFINE_HIGH 64
static _Atomic uint64_t made[AMP_CONFINE_FDS];
static _Atomic uint64_t live[AMP_CONFINE_FDS / 64];
static _Atomic uint64_t words;
static _Atomic int high;
/* Each socket's local port, once a request was about to go out on it
 * (amp_confine_sends_on): libcurl names a connection to our callbacks by
 * its local port, not by its number. 0: not asked yet. */
static _Atomic int made_port[AMP_CONFINE_FDS];
static _Atomic int high_fd[AMP_CONFINE_HIGH]; /* 0: a free slot */
static _Atomic uint64_t high_ino[AMP_CONFINE_HIGH];
static _Atomic int high_port[AMP_CONFINE_HIGH];

/* A check may look at a number another thread's close is closing (no
 * lock: whatever it finds there, the socket, none or another file, it
 * answers safely). The fstatat of glibc's fstat itself, called as such:
 * ThreadSanitizer, which takes an fstat meeting a close for a race on the
 * descriptor, does not intercept it (make tsan's tests fail on a report). */
static uint64_t inode_of(int fd)
{
    struct stat st;

    return fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 ? (uint64_t)st.st_ino + 1 : 0;
}

/* The socket recorded at fd is still there, or closed (EBADF: libcurl
 * finds that connection dead and makes another): not another file. */
static int still_ours(int fd)
{
    uint64_t was = atomic_load_explicit(&made[fd], memory_order_acquire);
    uint64_t now = was ? inode_of(fd) : 0;

    return !now || now == was;
}

static __attribute__((noinline)) int all_intact(uint64_t w)
{
    for (; w; w &= w - 1) {
        int at = __builtin_ctzll(w);
        for (uint64_t b = atomic_load_explicit(&live[at], memory_order_acquire); b; b &= b - 1)
            if (!still_ours(at * 64 + __builtin_ctzll(b)))
                return 0;
    }
    return 1;
}

int amp_confine_intact(void)
{
    if (atomic_load_explicit(&high, memory_order_acquire))
        return 0;
    uint64_t w = atomic_load_explicit(&words, memory_order_acquire);
    /* The common case, one kept connection to the relay, as a tail call
     * without the walk's frame. */
    if (w && !(w & (w - 1))) {
        int at = __builtin_ctzll(w);
        uint64_t b = atomic_load_explicit(&live[at], memory_order_acquire);
        if (b && !(b & (b - 1)))
            return still_ours(at * 64 + __builtin_ctzll(b));
    }
    return all_intact(w);
}

/* The program has sent a request of its own to the plain-http relay's
 * address (a health check): libcurl may keep that connection, made without
 * our callback, and hand it to a routed transfer. */
static _Atomic int relay_touched;

void amp_confine_relay_touched(void)
{
    atomic_store_explicit(&relay_touched, 1, memory_order_relaxed);
}

int amp_confine_relay_shared(void)
{
    return atomic_load_explicit(&relay_touched, memory_order_relaxed);
}

static int local_port(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof(a);

    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 0;
    if (a.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a)->sin_port);
    if (a.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a)->sin6_port);
    return 0;
}

/* sends_on for a socket whose port is not known yet: asked of the kernel
 * once, while the number still holds our socket. */
static __attribute__((noinline)) int sends_on_asked(int fd, uint64_t was, _Atomic int *rec, int port)
{
    if (inode_of(fd) != was || local_port(fd) != port || inode_of(fd) != was)
        return -1;
    atomic_store_explicit(rec, port, memory_order_relaxed);
    return 1;
}

/* Whether the connection on local port `port` is the socket recorded at
 * fd (inode *ino, port *rec): 1 it is, and still there; 0 it was (its
 * port says so), but the number is another file's or none now; -1 it is
 * another connection. */
static inline __attribute__((always_inline)) int sends_on(int fd, _Atomic uint64_t *ino,
                                                         _Atomic int *rec, int port)
{
    uint64_t was = atomic_load_explicit(ino, memory_order_acquire);
    if (!was)
        return -1;
    int p = atomic_load_explicit(rec, memory_order_relaxed);
    if (!p)
        return sends_on_asked(fd, was, rec, port);
    if (p != port)
        return -1;
    return inode_of(fd) == was;
}

/* Where the last request to the relay went out: nearly always where the
 * next goes (one kept connection). Only a hint: a socket is taken there
 * only when it passes sends_on, as at any other number. */
static _Atomic int last_sent = -1;

static __attribute__((noinline)) int sends_on_any(int port)
{
    if (port <= 0)
        return 0;
    for (uint64_t w = atomic_load_explicit(&words, memory_order_acquire); w; w &= w - 1) {
        int at = __builtin_ctzll(w);
        for (uint64_t b = atomic_load_explicit(&live[at], memory_order_acquire); b; b &= b - 1) {
            int fd = at * 64 + __builtin_ctzll(b);
            int r = sends_on(fd, &made[fd], &made_port[fd], port);
            if (r > 0)
                atomic_store_explicit(&last_sent, fd, memory_order_relaxed);
            if (r >= 0)
                return r;
        }
    }
    for (int i = 0; atomic_load_explicit(&high, memory_order_acquire) && i < AMP_CONFINE_HIGH; i++) {
        int fd = atomic_load(&high_fd[i]);
        int r = fd ? sends_on(fd, &high_ino[i], &high_port[i], port) : -1;
        if (r >= 0)
            return r;
    }
    /* A connection to the relay none of our callbacks made (the program's
     * own, or a redirect of one of its own requests onto the relay):
     * libcurl may hold more, so routed transfers take new ones from now on. */
    amp_confine_relay_touched();
    return 0;
}

int amp_confine_sends_on(int port)
{
    int fd = atomic_load_explicit(&last_sent, memory_order_relaxed);

    if (fd >= 0 && sends_on(fd, &made[fd], &made_port[fd], port) > 0)
        return 1;
    return sends_on_any(port) > 0;
}

/* The slot of number fd (from AMP_CONFINE_FDS on), or -1. */
static int high_slot(int fd)
{
    for (int i = 0; i < AMP_CONFINE_HIGH; i++)
        if (atomic_load(&high_fd[i]) == fd)
            return i;
    return -1;
}

/* Still known: a connection libcurl keeps has number fd. */
static int known(int fd)
{
    return fd < AMP_CONFINE_FDS ? atomic_load(&made[fd]) != 0 : high_slot(fd) >= 0;
}

/* fd (from AMP_CONFINE_FDS on) and its inode in a free slot; -1: none. */
static int remember_high(int fd)
{
    for (int i = 0; i < AMP_CONFINE_HIGH; i++) {
        int none = 0;
        if (atomic_compare_exchange_strong(&high_fd[i], &none, fd)) {
            atomic_store(&high_port[i], 0);
            atomic_store(&high_ino[i], inode_of(fd));
            atomic_fetch_add(&high, 1);
            return 0;
        }
    }
    return -1;
}

int amp_confine_close(void *clientp, curl_socket_t fd)
{
    (void)clientp; /* the handle that opened it may be gone: a connection outlives it */
    if (fd < 0)
        return 0;
    uint64_t ino = 0;
    if (fd >= AMP_CONFINE_FDS) {
        int i = high_slot(fd);
        /* None: libcurl's own (made before our callback was put), closed as
         * one below AMP_CONFINE_FDS with no record is. */
        if (i >= 0) {
            ino = atomic_exchange(&high_ino[i], 0);
            atomic_store(&high_fd[i], 0);
            atomic_fetch_sub(&high, 1);
        }
    } else {
        /* Forgotten before it is closed: the number may be another's at once. */
        atomic_fetch_and(&live[fd / 64], ~((uint64_t)1 << (fd % 64)));
        ino = atomic_exchange(&made[fd], 0);
    }
    /* Not ours any more (the program's own, opened in its place): left open. */
    return !ino || inode_of(fd) == ino ? close(fd) : 0;
}

static const void *in_addr_of(const struct curl_sockaddr *a)
{
    return a->family == AF_INET ? (const void *)&((const struct sockaddr_in *)&a->addr)->sin_addr
                                : (const void *)&((const struct sockaddr_in6 *)&a->addr)->sin6_addr;
}

/* a is what libcurl would give the proxy's host (its address read when
 * the config was loaded, hostaddr.h), in the cases where that is known
 * without a name look-up: an IP address is itself, and "localhost" (and a
 * name under it) 127.0.0.1 or ::1, as libcurl resolves it. A RESOLVE entry
 * an earlier transfer left in libcurl's name cache (it is shared by a
 * handle's transfers, a multi handle's, a share's) may point such a host
 * at another loopback address: another local server. Any other name: 1
 * (loopback() is all that is asked of it). */
static int the_proxys(const struct curl_sockaddr *a, const struct amp_host_addr *proxy)
{
    static const unsigned char v4[4] = { 127, 0, 0, 1 };

    switch (proxy ? proxy->kind : AMP_HOST_NAME) {
    case AMP_HOST_IPV4:
        return a->family == AF_INET && memcmp(in_addr_of(a), proxy->addr, 4) == 0;
    case AMP_HOST_IPV6:
        return a->family == AF_INET6 && memcmp(in_addr_of(a), proxy->addr, 16) == 0;
    case AMP_HOST_LOCALHOST:
        return a->family == AF_INET ? memcmp(in_addr_of(a), v4, 4) == 0
                                    : IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)in_addr_of(a));
    case AMP_HOST_NAME:
        break;
    }
    return 1;
}

curl_socket_t amp_confine_open(void *clientp, curlsocktype purpose,
                               struct curl_sockaddr *address)
{
    const struct amp_handle *hs = clientp;

    (void)purpose;
    if (!loopback(address) || !the_proxys(address, hs && hs->cfg ? &hs->cfg->proxy_addr : NULL)) {
        char ip[INET6_ADDRSTRLEN] = "?";
        inet_ntop(address->family, in_addr_of(address), ip, sizeof(ip));
        amp_error("the plain-http proxy's name led to %s, not %s: not sent", ip,
                  loopback(address) ? "the proxy's own address" : "a loopback address");
        return CURL_SOCKET_BAD;
    }
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    /* A number still known is one whose connection libcurl keeps though the
     * program closed its socket: a second connection there would share it,
     * and the close of either take the other's socket and its record away
     * (the other then reused on whatever the program opens there). */
    while (fd >= 0 && known(fd)) {
        int up = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
        close(fd);
        fd = up;
    }
    if (fd >= AMP_CONFINE_FDS) {
        if (remember_high(fd) < 0) {
            amp_error("%d sockets to the plain-http proxy numbered %d and above: no other made",
                      AMP_CONFINE_HIGH, AMP_CONFINE_FDS);
            close(fd);
            return CURL_SOCKET_BAD;
        }
    } else if (fd >= 0) {
        /* Its port unknown, then its inode, then its bit: a check that sees
         * the bit sees the inode, and one that sees the inode no old port. */
        atomic_store(&made_port[fd], 0);
        atomic_store(&made[fd], inode_of(fd));
        atomic_fetch_or(&live[fd / 64], (uint64_t)1 << (fd % 64));
        atomic_fetch_or(&words, (uint64_t)1 << (fd / 64));
    }
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
