/* Cookies read, matched and written as libcurl 7.88's lib/cookie.c does
 * (the function names there are given where a rule comes from), so that a
 * routed request and its answer have the cookies they would have had
 * without ampshim. */
#define _GNU_SOURCE
#include "cookiejar.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_NAME 4096        /* lib/cookie.h */
#define MAX_COOKIE_LINE 5000

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Curl_host_is_ipnum */
static int is_ip(const char *host)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int amp_cookie_read(char *line, struct amp_cookie *co)
{
    char *f[7];
    int n = 0;

    memset(co, 0, sizeof(*co));
    if (strncmp(line, "#HttpOnly_", 10) == 0) {
        co->httponly = 1;
        line += 10;
    }
    for (char *p = line; n < 7; n++) {
        f[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab) {
            n++;
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    if (n < 6 || f[0][0] == '#')
        return -1;
    co->domain = f[0][0] == '.' ? f[0] + 1 : f[0];
    co->tailmatch = strcasecmp(f[1], "TRUE") == 0;
    co->path = f[2];
    co->secure = strcasecmp(f[3], "TRUE") == 0;
    co->expires = strtoll(f[4], NULL, 10);
    co->name = f[5];
    co->value = n > 6 ? f[6] : "";
    return 0;
}

/* tailmatch(): the domain is host, or host ends in "." domain. */
static int tailmatch(const char *domain, const char *host)
{
    size_t dl = strlen(domain), hl = strlen(host);

    if (hl < dl || strcasecmp(domain, host + hl - dl) != 0)
        return 0;
    return hl == dl || host[hl - dl - 1] == '.';
}

int amp_cookie_domain_takes(const char *domain, int tailmatch_, const char *host)
{
    if (tailmatch_ && !is_ip(host))
        return tailmatch(domain, host);
    return strcasecmp(domain, host) == 0;
}

/* sanitize_cookie_path(): the path a cookie matches with, into out. */
static void match_path(const char *path, char *out, size_t outlen)
{
    size_t len = strlen(path);

    if (len && path[0] == '"') {
        path++;
        len--;
    }
    if (len && path[len - 1] == '"')
        len--;
    if (!len || path[0] != '/' || len >= outlen) {
        snprintf(out, outlen, "/");
        return;
    }
    if (path[len - 1] == '/')
        len--;
    memcpy(out, path, len);
    out[len] = '\0';
}

/* pathmatch() (RFC 6265 5.1.4) */
static int pathmatch(const char *cookie_path, const char *uri)
{
    size_t cl = strlen(cookie_path), ul = strcspn(uri, "?");

    if (cl <= 1)
        return 1;
    if (!ul || uri[0] != '/') {
        uri = "/";
        ul = 1;
    }
    if (ul < cl || strncmp(cookie_path, uri, cl) != 0)
        return 0;
    return ul == cl || uri[cl] == '/';
}

int amp_cookie_matches(const struct amp_cookie *co, const char *host, const char *path, int secure,
                       int64_t now)
{
    char spath[MAX_COOKIE_LINE];

    /* remove_expired() runs before each look-up: an expired cookie is gone. */
    if (co->expires && co->expires < now)
        return 0;
    if (co->secure && !secure)
        return 0;
    if (!amp_cookie_domain_takes(co->domain, co->tailmatch, host))
        return 0;
    match_path(co->path, spath, sizeof(spath));
    return pathmatch(spath, path);
}

/* cookie_sort(), over the order of CURLINFO_COOKIELIST: every cookie that
 * can match one host is in that host's hash bucket, listed there in the
 * order the cookies were made (a replaced one keeps its place and age). */
static int by_libcurl(const void *p1, const void *p2)
{
    const struct amp_cookie *a = *(const struct amp_cookie *const *)p1;
    const struct amp_cookie *b = *(const struct amp_cookie *const *)p2;
    size_t l1, l2;

    l1 = strlen(a->path);
    l2 = strlen(b->path);
    if (l1 != l2)
        return l2 > l1 ? 1 : -1;
    l1 = strlen(a->domain);
    l2 = strlen(b->domain);
    if (l1 != l2)
        return l2 > l1 ? 1 : -1;
    l1 = strlen(a->name);
    l2 = strlen(b->name);
    if (l1 != l2)
        return l2 > l1 ? 1 : -1;
    return b->order > a->order ? 1 : -1;
}

void amp_cookie_sort(struct amp_cookie **v, size_t n)
{
    qsort(v, n, sizeof(*v), by_libcurl);
}

/* invalid_octets(): control characters other than TAB, and DEL. */
static int invalid_octets(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return 1;
    return 0;
}

/* bad_domain(): without the public suffix list, a domain needs a dot that
 * is not its last character (or is "localhost"). */
static int bad_domain(const char *d, size_t len)
{
    const char *dot = memchr(d, '.', len);

    if (len == 9 && strncmp(d, "localhost", 9) == 0)
        return 0;
    return !(dot && (size_t)(dot - d) < len - 1);
}

struct span {
    const char *p;
    size_t n;
};

static int span_is(struct span s, const char *word)
{
    return s.n == strlen(word) && strncasecmp(s.p, word, s.n) == 0;
}

int amp_cookie_from_header(const char *v, size_t len, const char *host, const char *path,
                           int secure, int64_t now, time_t (*getdate)(const char *, const time_t *),
                           char *out, size_t outlen)
{
    struct span name = { 0 }, value = { 0 }, cpath = { 0 }, domain = { 0 }, maxage = { 0 },
                expires = { 0 };
    int have_name = 0, is_secure = 0, httponly = 0, tail = 0;

    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'))
        len--;
    if (len > MAX_COOKIE_LINE)
        return -1;
    /* Curl_cookie_add(): "name=value" pairs (or lone words) between ';'. */
    for (const char *p = v, *end = v + len; p < end;) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        while (p < stop && is_blank(*p))
            p++;
        /* sscanf's "%[^;\t\r\n=] =%[^;\r\n]": a name, and a value after '='. */
        const char *ne = p;
        while (ne < stop && !strchr("\t\r\n=", *ne))
            ne++;
        if (ne > p) {
            struct span n = { p, (size_t)(ne - p) }, w = { ne, 0 };
            int sep = ne < stop && *ne == '=';
            const char *q = ne;
            while (q < stop && (is_blank(*q) || *q == '\r' || *q == '\n'))
                q++;
            if (q < stop && *q == '=') {
                w.p = ++q;
                while (q < stop && *q != '\r' && *q != '\n')
                    q++;
                w.n = (size_t)(q - w.p);
            }
            while (n.n && is_blank(n.p[n.n - 1]))
                n.n--;
            while (w.n && is_blank(w.p[w.n - 1]))
                w.n--;
            while (w.n && is_blank(*w.p)) {
                w.p++;
                w.n--;
            }
            if (n.n >= MAX_NAME - 1 || w.n >= MAX_NAME - 1 || n.n + w.n > MAX_NAME)
                return -1;
            if (memchr(w.p, '\t', w.n))
                return -1;
            if (!have_name) {
                if (!sep || invalid_octets(n.p, n.n) || invalid_octets(w.p, w.n))
                    return -1;
                name = n;
                value = w;
                have_name = 1;
            } else if (!w.n && span_is(n, "secure")) {
                /* Secure only from a secure origin, else the cookie is refused. */
                if (!secure)
                    return -1;
                is_secure = 1;
            } else if (!w.n && span_is(n, "httponly")) {
                httponly = 1;
            } else if (!w.n && !sep) {
                /* a lone word libcurl does not know */
            } else if (span_is(n, "path")) {
                cpath = w;
            } else if (span_is(n, "domain") && w.n) {
                domain = w;
            } else if (span_is(n, "max-age")) {
                maxage = w;
            } else if (span_is(n, "expires")) {
                expires = w;
            }
        }
        p = semi ? semi + 1 : end;
    }
    if (!have_name)
        return -1;

    /* Domain: the request's host must be in it (an IP address: be it). */
    char dom[256];
    if (domain.n) {
        if (*domain.p == '.') {
            domain.p++;
            domain.n--;
        }
        if (domain.n >= sizeof(dom))
            return -1;
        memcpy(dom, domain.p, domain.n);
        dom[domain.n] = '\0';
        if (is_ip(host)) {
            if (strcmp(dom, host) != 0)
                return -1;
        } else {
            /* libcurl asks the public suffix list where it has one: a
             * domain that is only a suffix is refused either way. */
            if (!tailmatch(dom, host) || (strcasecmp(dom, host) != 0 && bad_domain(dom, domain.n)))
                return -1;
            tail = 1;
        }
    } else {
        snprintf(dom, sizeof(dom), "%s", host);
    }

    int64_t exp = 0;
    if (maxage.p) {
        const char *m = maxage.p, *mend = maxage.p + maxage.n;
        if (m < mend && *m == '"')
            m++;
        if (m >= mend || *m < '0' || *m > '9') {
            exp = 1; /* negative or bad: expired */
        } else {
            int64_t secs = 0;
            for (; m < mend && *m >= '0' && *m <= '9'; m++) {
                if (secs > (INT64_MAX - 9) / 10) {
                    secs = INT64_MAX;
                    break;
                }
                secs = secs * 10 + (*m - '0');
            }
            exp = !secs ? 1 : secs > INT64_MAX - now ? INT64_MAX : now + secs;
        }
    } else if (expires.p) {
        char date[128];
        snprintf(date, sizeof(date), "%.*s", (int)expires.n, expires.p);
        time_t t = getdate(date, NULL);
        /* Unreadable: a session cookie; the epoch itself: already gone. */
        exp = t == 0 ? 1 : t < 0 ? 0 : (int64_t)t;
    }

    /* Path: the attribute as given; else the request path's folder, up to
     * and with its last '/'. */
    char fpath[MAX_COOKIE_LINE + 1];
    if (cpath.p) {
        /* libcurl keeps an empty Path as "", which its own jar cannot read
         * back; it matches as "/" does. */
        snprintf(fpath, sizeof(fpath), "%.*s", cpath.n ? (int)cpath.n : 1, cpath.n ? cpath.p : "/");
    } else {
        size_t pl = strcspn(path, "?");
        const char *slash = memrchr(path, '/', pl);
        if (slash)
            snprintf(fpath, sizeof(fpath), "%.*s", (int)(slash - path + 1), path);
        else
            snprintf(fpath, sizeof(fpath), "/");
    }

    /* The prefixes' rules (RFC 6265bis 4.1.3). */
    if (name.n > 9 && strncasecmp(name.p, "__Secure-", 9) == 0 && !is_secure)
        return -1;
    if (name.n > 7 && strncasecmp(name.p, "__Host-", 7) == 0 &&
        !(is_secure && strcmp(fpath, "/") == 0 && !tail))
        return -1;

    int n = snprintf(out, outlen, "%s%s%s\t%s\t%s\t%s\t%" PRId64 "\t%.*s\t%.*s",
                     httponly ? "#HttpOnly_" : "", tail ? "." : "", dom, tail ? "TRUE" : "FALSE",
                     fpath, is_secure ? "TRUE" : "FALSE", exp, (int)name.n, name.p, (int)value.n,
                     value.p);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
