/* Cookies as libcurl 7.88 reads, files and sends them (lib/cookie.c,
 * Curl_http_cookies), for a URL that is not the one libcurl connects to:
 * a routed request goes to the proxy, its cookies are the provider's.
 * Plain functions, unit-tested (tests/unit/test_cookiejar.c); cookies.c
 * puts them on a handle. */
#ifndef AMPSHIM_COOKIEJAR_H
#define AMPSHIM_COOKIEJAR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One line of CURLINFO_COOKIELIST (Netscape form), read in place. */
struct amp_cookie {
    const char *domain;   /* without the leading dot */
    int tailmatch;        /* TRUE: the domain and its subdomains */
    const char *path;     /* as filed */
    int secure, httponly;
    int64_t expires;      /* 0: a session cookie */
    const char *name, *value;
    size_t order;         /* its place in libcurl's list: later ones are newer */
};

/* Splits a Netscape line (it is cut at its tabs). 0, or -1 when it is not one. */
int amp_cookie_read(char *line, struct amp_cookie *co);

/* 1 when libcurl would send co with a request to host and path (the URL's
 * path, no query), secure being an https URL (or a loopback host). */
int amp_cookie_matches(const struct amp_cookie *co, const char *host, const char *path, int secure,
                       int64_t now);

/* 1 when the cookie's domain takes in host (what libcurl sends to host). */
int amp_cookie_domain_takes(const char *domain, int tailmatch, const char *host);

/* Sorts cookies as libcurl orders them in a Cookie header: the longer path
 * first, then the longer domain, the longer name, the newer. */
void amp_cookie_sort(struct amp_cookie **v, size_t n);

/* A Set-Cookie value (after "Set-Cookie:") of an answer to a request for
 * host and path (the URL's path), read as libcurl reads one (its Domain,
 * Path, Expires, Max-Age, Secure, HttpOnly; the __Secure- and __Host-
 * prefixes), written into out as the Netscape line CURLOPT_COOKIELIST
 * files it from. getdate parses Expires (curl_getdate). 0, or -1 when
 * libcurl would refuse the cookie (or out is too small). */
int amp_cookie_from_header(const char *v, size_t len, const char *host, const char *path,
                           int secure, int64_t now, time_t (*getdate)(const char *, const time_t *),
                           char *out, size_t outlen);

#endif
