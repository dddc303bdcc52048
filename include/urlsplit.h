/* A route's base URL cut into its parts without libcurl, for the plain
 * form nearly every base URL has; libcurl's URL API reads everything else.
 * tests/unit/test_urlsplit.c checks the parts against curl_url's. */
#ifndef AMPSHIM_URLSPLIT_H
#define AMPSHIM_URLSPLIT_H

#include <stddef.h>

struct amp_url_split {
    const char *scheme;       /* "http" or "https" */
    const char *host;         /* as written: host_len bytes of the URL */
    size_t host_len;
    long port;                /* as written, or the scheme's default */
    const char *path;         /* path_len bytes of the URL, or "/" */
    size_t path_len;
};

/* 1 and *out when url is "http://" or "https://", a host name (letters,
 * digits, '-', '_', dots between non-empty labels, 253 characters at
 * most, not all of them hex digits, 'x' and dots, which libcurl could
 * read as an IPv4 address and rewrite), an optional port (1 to 65535,
 * no leading zero), and an optional path of unreserved characters,
 * sub-delimiters, ':' and '@' without "." or ".." segments: libcurl's
 * URL API gives exactly these parts for it, with no user, password,
 * query or fragment. 0 otherwise: ask libcurl. */
int amp_url_split(const char *url, struct amp_url_split *out);

#endif
