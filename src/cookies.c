/* libcurl's cookie engine and routed transfers (cookies.h says what and
 * why; cookiejar.c holds libcurl's rules).
 *
 * libcurl looks cookies up, and files an answer's, under the host it
 * connects to: the proxy's, for every route. Three things undo that:
 *  - a routed request gets the Cookie line libcurl would have written for
 *    the provider's URL, from CURLINFO_COOKIELIST, as a header of our list
 *    (libcurl adds its own engine's line whatever the list holds, so what
 *    it holds for the proxy's host must be nothing: see purge());
 *  - each Set-Cookie of a routed answer, which libcurl has just filed under
 *    the proxy's host (Curl_http_header runs before the header callback),
 *    is filed again for the provider's host through CURLOPT_COOKIELIST, in
 *    Netscape form, and libcurl's copy expired (a cookie filed again with
 *    a past expiry replaces it, and libcurl drops it before any look-up or
 *    jar write);
 *  - a cookie filed through a route is remembered with the route (by its
 *    name, domain, path and value), and no other route's request carries it.
 * Cookies libcurl holds for the proxy's host are expired before every
 * routed request too: the application never talks to the proxy itself, so
 * any there came through a route (a paused transfer, another handle of a
 * share, a jar written before). */
#define _GNU_SOURCE
#include "cookies.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cookiejar.h"
#include "grow.h"
#include "hash.h"
#include "locks.h"
#include "log.h"
#include "options.h"

#define MAX_COOKIE_HEADER_LEN 8190 /* lib/cookie.h */
#define MAX_COOKIE_SEND_AMOUNT 150
#define MAX_ORIGINS 100000          /* cookies remembered with their route */
#define MAX_NAME_LINE 12288         /* a Netscape line: name and value up to 4096, path 5000 */

/* --- which route filed a cookie ------------------------------------------ */

struct origin {
    char *id;       /* "domain\tTRUE|FALSE\tpath\tname", lower case: libcurl's identity */
    char *value;    /* the value filed: another value was set by someone else since */
    uint64_t route; /* the route's key */
    int64_t expires; /* as filed (0: a session cookie) */
    UT_hash_handle hh;
};

static struct origin *origins; /* under amp_lock_cookies */
static unsigned norigins;

static char *identity(const char *domain, int tailmatch, const char *path, const char *name)
{
    char *id = NULL;

    if (asprintf(&id, "%s\t%s\t%s\t%s", domain, tailmatch ? "TRUE" : "FALSE", path, name) < 0)
        return NULL;
    for (char *p = id; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return id;
}

static void forget(struct origin *o)
{
    HASH_DEL(origins, o);
    free(o->id);
    free(o->value);
    free(o);
    norigins--;
}

/* The table full: what it holds of cookies expired since is forgotten
 * (libcurl holds them no more). */
static void forget_expired(int64_t now)
{
    struct origin *o, *tmp;

    HASH_ITER(hh, origins, o, tmp)
        if (o->expires && o->expires <= now)
            forget(o);
}

/* -1 when it cannot be remembered: the cookie must not be filed then. A
 * cookie filed already expired deletes libcurl's: forgotten here too, so
 * that answers that set and delete cookies of new names (nonces) leave
 * nothing behind. */
static int remember(const struct amp_cookie *co, uint64_t route)
{
    char *id = identity(co->domain, co->tailmatch, co->path, co->name);
    char *value = strdup(co->value);
    int64_t now = (int64_t)time(NULL);
    struct origin *o;
    int rc = -1;

    if (!id || !value)
        goto out;
    pthread_mutex_lock(&amp_lock_cookies);
    HASH_FIND_STR(origins, id, o);
    if (co->expires && co->expires <= now) {
        if (o)
            forget(o);
        rc = 0;
    } else if (o) {
        free(o->value);
        o->value = value;
        o->route = route;
        o->expires = co->expires;
        value = NULL;
        rc = 0;
    } else {
        if (norigins >= MAX_ORIGINS)
            forget_expired(now);
        o = norigins < MAX_ORIGINS ? calloc(1, sizeof(*o)) : NULL;
        if (o) {
            o->id = id;
            o->value = value;
            o->route = route;
            o->expires = co->expires;
            amp_hash_oom = 0;
            HASH_ADD_KEYPTR(hh, origins, o->id, strlen(o->id), o);
            if (amp_hash_oom) {
                free(o);
            } else {
                norigins++;
                id = value = NULL;
                rc = 0;
            }
        }
    }
    pthread_mutex_unlock(&amp_lock_cookies);
out:
    free(id);
    free(value);
    return rc;
}

/* 1 when co, as it stands, was filed through another route than route. */
static int of_another_route(const struct amp_cookie *co, uint64_t route)
{
    struct origin *o;
    char *id;
    int other = 0;

    if (!origins)
        return 0;
    id = identity(co->domain, co->tailmatch, co->path, co->name);
    if (!id)
        return 1; /* out of memory: not sent */
    pthread_mutex_lock(&amp_lock_cookies);
    HASH_FIND_STR(origins, id, o);
    other = o && o->route != route && strcmp(o->value, co->value) == 0;
    pthread_mutex_unlock(&amp_lock_cookies);
    free(id);
    return other;
}

/* --- a URL's parts, as libcurl looks cookies up with them ---------------- */

struct where {
    char host[256];
    char *path;
    int secure;
};

/* The host without an IPv6 address's brackets (conn->host.name). */
static void unbracket(char *host)
{
    size_t n = strlen(host);

    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
}

/* url's host, path and secure context; free w->path. -1 when it cannot be
 * read (nothing to free then). */
static int where_of(const struct amp_curl *c, const char *url, struct where *w)
{
    CURLU *u = c->url();
    char *scheme = NULL, *host = NULL, *path = NULL;
    int rc = -1;

    memset(w, 0, sizeof(*w));
    if (!u)
        return -1;
    if (c->url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) ==
            CURLUE_OK &&
        c->url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        c->url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
        c->url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && strlen(host) < sizeof(w->host))
        w->path = strdup(path);
    if (w->path) {
        memcpy(w->host, host, strlen(host) + 1);
        unbracket(w->host);
        /* Curl_http_cookies' secure context. */
        w->secure = strcasecmp(scheme, "https") == 0 || strcasecmp(w->host, "localhost") == 0 ||
                    strcmp(w->host, "127.0.0.1") == 0 || strcmp(w->host, "::1") == 0;
        rc = 0;
    }
    c->url_cleanup(u);
    c->free(scheme);
    c->free(host);
    c->free(path);
    return rc;
}

/* --- the handle's cookies -------------------------------------------------- */

/* The lines of CURLINFO_COOKIELIST, read (and cut up) in place. */
struct jar {
    struct curl_slist *list;
    struct amp_cookie *v;
    size_t n;
};

static int jar_read(struct amp_handle *hs, struct jar *j)
{
    size_t n = 0;

    memset(j, 0, sizeof(*j));
    if (hs->c->easy_getinfo(hs->easy, CURLINFO_COOKIELIST, &j->list) != CURLE_OK || !j->list)
        return -1;
    for (struct curl_slist *l = j->list; l; l = l->next)
        n++;
    j->v = calloc(n, sizeof(*j->v));
    if (!j->v) {
        hs->c->slist_free_all(j->list);
        return -1;
    }
    for (struct curl_slist *l = j->list; l; l = l->next)
        if (l->data && amp_cookie_read(l->data, &j->v[j->n]) == 0)
            j->v[j->n].order = j->n, j->n++;
    return 0;
}

static void jar_free(struct amp_handle *hs, struct jar *j)
{
    hs->c->slist_free_all(j->list);
    free(j->v);
}

static void file_line(struct amp_handle *hs, const char *line)
{
    hs->c->easy_setopt(hs->easy, CURLOPT_COOKIELIST, line);
}

/* Every cookie libcurl would send to the proxy's host: expired (filed
 * again with an expiry in the past, which replaces it). */
static void purge(struct amp_handle *hs, const struct jar *j)
{
    struct where w;
    int64_t now = (int64_t)time(NULL);

    if (!hs->cfg || where_of(hs->c, hs->cfg->proxy_url, &w) < 0)
        return;
    free(w.path);
    for (size_t i = 0; i < j->n; i++) {
        const struct amp_cookie *co = &j->v[i];
        char line[MAX_NAME_LINE];
        if (!amp_cookie_domain_takes(co->domain, co->tailmatch, w.host) ||
            (co->expires && co->expires < now))
            continue;
        if (snprintf(line, sizeof(line), "%s%s\t%s\t%s\t%s\t1\t%s\t", co->tailmatch ? "." : "",
                     co->domain, co->tailmatch ? "TRUE" : "FALSE", co->path,
                     co->secure ? "TRUE" : "FALSE", co->name) < (int)sizeof(line)) {
            amp_debug("cookie %s filed by libcurl under the proxy's host %s: expired", co->name,
                      w.host);
            file_line(hs, line);
        }
    }
}

static int drops_cookie(const struct amp_route *r)
{
    for (size_t i = 0; i < r->ndrop; i++)
        if (strcasecmp(r->drop[i], "Cookie") == 0)
            return 1;
    return 0;
}

/* "Name" in a header line "Name: …" / "Name;" / "Name:" (Curl_checkheaders). */
static int header_named(const char *line, const char *name)
{
    size_t n = strlen(name);

    return line && strncasecmp(line, name, n) == 0 && (line[n] == ':' || line[n] == ';');
}

/* The host libcurl files and looks cookies up under: the application's
 * own Host header's (aptr.cookiehost), else the URL's. */
static void cookie_host(const struct amp_handle *hs, struct where *w)
{
    for (const struct curl_slist *h = hs->app.headers; h; h = h->next) {
        if (!header_named(h->data, "Host") || h->data[4] != ':')
            continue;
        const char *v = h->data + 5;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = *v == '[' ? strcspn(v, "]") + 1 : strcspn(v, ": \t\r\n");
        if (n && n < sizeof(w->host)) {
            memcpy(w->host, v, n);
            w->host[n] = '\0';
            unbracket(w->host);
        }
        return;
    }
}

/* Our Cookie line for the provider's URL, into k->line; 0 when there is none. */
static int compose(struct amp_handle *hs, const struct jar *j, const struct amp_route *r)
{
    struct amp_cookies *k = &hs->cookies;
    struct amp_cookie **sent = NULL;
    struct where w;
    size_t nsent = 0, i;
    int rc = 0;

    if (drops_cookie(r) || !k->url || where_of(hs->c, k->url, &w) < 0)
        return 0;
    cookie_host(hs, &w);
    sent = calloc(j->n, sizeof(*sent));
    if (!sent)
        goto out;
    int64_t now = (int64_t)time(NULL);
    for (i = 0; i < j->n; i++)
        if (amp_cookie_matches(&j->v[i], w.host, w.path, w.secure, now) &&
            !of_another_route(&j->v[i], r->key))
            sent[nsent++] = &j->v[i];
    if (!nsent)
        goto out;
    amp_cookie_sort(sent, nsent);
    /* The application's CURLOPT_COOKIE follows, as libcurl writes it, unless
     * its own header list names a Cookie (libcurl then leaves it out). */
    const char *extra = hs->app.cookie;
    for (const struct curl_slist *h = hs->app.headers; h && extra; h = h->next)
        if (header_named(h->data, "Cookie"))
            extra = NULL;
    size_t len = strlen("Cookie: ") + 1, used;
    for (i = 0; i < nsent && i < MAX_COOKIE_SEND_AMOUNT; i++)
        len += strlen(sent[i]->name) + strlen(sent[i]->value) + 3;
    len += extra ? strlen(extra) + 2 : 0;
    if (amp_grow(&k->line, &k->cap, len) < 0)
        goto out;
    used = (size_t)snprintf(k->line, k->cap, "Cookie: ");
    for (i = 0; i < nsent && i < MAX_COOKIE_SEND_AMOUNT; i++) {
        if (used + strlen(sent[i]->name) + strlen(sent[i]->value) + 1 >= MAX_COOKIE_HEADER_LEN)
            break;
        used += (size_t)snprintf(k->line + used, k->cap - used, "%s%s=%s", i ? "; " : "",
                                 sent[i]->name, sent[i]->value);
    }
    if (extra)
        snprintf(k->line + used, k->cap - used, "; %s", extra);
    rc = 1;
out:
    free(sent);
    free(w.path);
    return rc;
}

struct curl_slist *amp_cookies_request(struct amp_handle *hs, const char *url, int owned,
                                       const struct amp_route *r, struct curl_slist *ours)
{
    struct amp_cookies *k = &hs->cookies;

    if (k->owned_url)
        free(k->owned_url);
    k->owned_url = owned ? (char *)url : NULL;
    k->url = url;
    k->route = r;
    /* The common case: no cookie engine, nothing to do. */
    if (!hs->app.cookie_engine && !k->seen)
        return ours;
    /* libcurl reads the COOKIEFILE files as the transfer starts, after
     * this: read now, the request carries their cookies (libcurl reads
     * them again then, as it does before every transfer). */
    if (hs->app.cookie_engine == 2)
        file_line(hs, "RELOAD");
    struct curl_slist *list = ours;
    struct jar j;
    if (jar_read(hs, &j) == 0) {
        k->seen = 1;
        if (compose(hs, &j, r)) {
            k->node.data = k->line;
            k->node.next = ours;
            list = &k->node;
        }
        purge(hs, &j);
        jar_free(hs, &j);
    }
    /* With or without our line, since the last time: put at the next sync
     * (the same node with a new line needs nothing: libcurl reads it then). */
    if (list != k->gave)
        amp_options_stale(hs, CURLOPT_HTTPHEADER);
    k->gave = list;
    return list;
}

void amp_cookies_answer(struct amp_handle *hs, const struct amp_route *r, const char *value,
                        size_t len)
{
    struct amp_cookies *k = &hs->cookies;
    char line[MAX_NAME_LINE];
    struct where w;
    struct jar j;

    /* A cookie engine to file it in: the application turned one on, or
     * libcurl holds cookies (this one, under the proxy's host). Filing one
     * in a handle without would turn libcurl's on. */
    if (jar_read(hs, &j) == 0) {
        k->seen = 1;
        purge(hs, &j);
        jar_free(hs, &j);
    }
    if (!(hs->app.cookie_engine || k->seen) || !r || r != k->route || !k->url ||
        where_of(hs->c, k->url, &w) < 0)
        return;
    cookie_host(hs, &w);
    if (amp_cookie_from_header(value, len, w.host, w.path, w.secure, (int64_t)time(NULL),
                               hs->c->getdate, line, sizeof(line)) == 0) {
        /* Remembered with its route before it can be sent anywhere. */
        char copy[sizeof(line)];
        struct amp_cookie co;
        memcpy(copy, line, sizeof(line));
        if (amp_cookie_read(copy, &co) == 0 && remember(&co, r->key) == 0) {
            amp_debug("cookie %s of route %s filed for %s", co.name, r->base_url, w.host);
            file_line(hs, line);
        }
    } else {
        amp_debug("a cookie of route %s refused, as libcurl would for %s", r->base_url, w.host);
    }
    free(w.path);
}

void amp_cookies_reset(struct amp_handle *hs)
{
    hs->cookies.seen = 1;
}

void amp_cookies_free(struct amp_handle *hs)
{
    free(hs->cookies.line);
    free(hs->cookies.owned_url);
}
