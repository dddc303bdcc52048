/* A URL's host as an address, where it is one by itself (hostaddr.h). */
#include "hostaddr.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

void amp_host_addr_of(const char *url, struct amp_host_addr *out)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    const char *h = sep ? sep + 3 : NULL;
    char host[64];
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    if (h && *h == '[') {
        const char *end = strchr(h, ']');
        len = end ? (size_t)(end - h) + 1 : 0;
    } else if (h) {
        len = strcspn(h, ":/");
    }
    if (!h || len < 1 || len >= sizeof(host))
        return;
    if (*h == '[') { /* "[::1]" */
        if (len < 3)
            return;
        h++, len -= 2;
    }
    memcpy(host, h, len);
    host[len] = '\0';
    /* As libcurl reads a numeric IPv4 host (its URL parser normalises
     * it): "127.1" is 127.0.0.1, "127.0.0.010" 127.0.0.8 (octal). */
    struct in_addr v4;
    if (inet_aton(host, &v4)) {
        memcpy(out->addr, &v4, 4);
        out->kind = AMP_HOST_IPV4;
        return;
    }
    if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->kind = AMP_HOST_IPV6;
        return;
    }
    size_t tail = sizeof(".localhost") - 1;
    if (strcasecmp(host, "localhost") == 0 ||
        (len > tail && strcasecmp(host + len - tail, ".localhost") == 0))
        out->kind = AMP_HOST_LOCALHOST;
}
