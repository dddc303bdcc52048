/* Cutting a plain base URL into its parts (see urlsplit.h): one pass over
 * a few dozen bytes, where libcurl's full parse costs ~10,000 instructions
 * and a dozen allocations per route. */
#include "urlsplit.h"

#include <string.h>

/* 1: a host character; 2: a hex digit or 'x' too (IPv4 numbers). */
static const unsigned char host_char[256] = {
    ['a' ... 'f'] = 2, ['g' ... 'w'] = 1, ['x'] = 2, ['y' ... 'z'] = 1,
    ['A' ... 'F'] = 2, ['G' ... 'W'] = 1, ['X'] = 2, ['Y' ... 'Z'] = 1,
    ['0' ... '9'] = 2, ['-'] = 1, ['_'] = 1,
};

/* RFC 3986's unreserved characters, sub-delimiters, ':' and '@': what a
 * path holds as it is written. */
static const unsigned char path_char[256] = {
    ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1, ['-'] = 1, ['.'] = 1, ['_'] = 1,
    ['~'] = 1, ['!'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1,
    ['+'] = 1, [','] = 1, [';'] = 1, ['='] = 1, [':'] = 1, ['@'] = 1, ['/'] = 1,
};

static size_t host_end(const char *h)
{
    size_t i = 0, label = 0;
    int named = 0;

    for (;; i++) {
        unsigned char k = host_char[(unsigned char)h[i]];
        if (k) {
            named |= k == 1;
            label++;
        } else if (h[i] == '.' && label) {
            label = 0;
        } else {
            break;
        }
    }
    /* Empty, or what libcurl may take for an IPv4 address and rewrite.
     * (An empty label stops the host at its dot, which the caller
     * refuses: it is neither a port, a path nor the end.) */
    if (i == 0 || !named || i > 253)
        return 0;
    return i;
}

/* A path of plain characters without "." or ".." segments (libcurl
 * removes those): its length, or 0. */
static size_t plain_path(const char *p)
{
    const char *seg = p + 1, *q = p + 1;

    for (;; q++) {
        if (*q == '/' || !*q) {
            size_t n = (size_t)(q - seg);
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (!*q)
                return (size_t)(q - p);
            seg = q + 1;
        } else if (!path_char[(unsigned char)*q]) {
            return 0;
        }
    }
}

int amp_url_split(const char *url, struct amp_url_split *out)
{
    const char *h;

    if (strncmp(url, "https://", 8) == 0) {
        out->scheme = "https";
        out->port = 443;
        h = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        out->scheme = "http";
        out->port = 80;
        h = url + 7;
    } else {
        return 0;
    }
    size_t hl = host_end(h);
    if (!hl)
        return 0;
    out->host = h;
    out->host_len = hl;
    const char *p = h + hl;
    if (*p == ':') {
        long port = 0;
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            port = port * 10 + (*p - '0');
        if (digits == 0 || digits > 5 || p[-digits] == '0' || port > 65535)
            return 0;
        out->port = port;
    }
    if (*p == '\0') {
        out->path = "/";
        out->path_len = 1;
        return 1;
    }
    size_t pl = *p == '/' ? plain_path(p) : 0;
    if (!pl)
        return 0;
    out->path = p;
    out->path_len = pl;
    return 1;
}
