/* The one table of the options ampshim stands in for (in the spirit of
 * libcurl's lib/easyoptions.c): for each, where the application's value is
 * kept and how, libcurl's default, and what we put while routed, mode by
 * mode. Noting, putting and giving back all read it. */
#define _GNU_SOURCE
#include "options.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callbacks.h"
#include "confine.h"
#include "grow.h"

enum type { LONG, PTR, FN, STR /* a string we keep a copy of */ };

/* How the application's value is noted, beyond keeping it. */
enum note {
    KEEP,
    NOTE_URL,     /* kept in a buffer of ours; a new one means a new routing decision */
    NOTE_CURLU,   /* the same: a CURLU wins over the URL */
    NOTE_HEADERS, /* the list may have changed even when the pointer did not */
    NOTE_POSTS,   /* posts = value != 0 (POST, UPLOAD) */
    NOTE_POSTS_1, /* posts = 1, whatever the value (POSTFIELDS, …) */
    NOTE_HTTPGET, /* posts = 0 when set */
    NOTE_CUSTOM,  /* custom_unsafe: a method other than GET or HEAD */
    NOTE_COOKIES, /* libcurl's cookie engine turned on or off (cookies.c) */
    NOTE_GUARD,   /* kept; not libcurl's default: AMP_MODE_GUARD (redirects looked at) */
    NOTE_TRACE,   /* kept; not libcurl's default: AMP_MODE_TRACE (the key masked) */
};

/* Where a value of ours comes from. */
enum src {
    NONE,
    VALUE, /* always v */
    IFSET, /* v, only when the application's value is not libcurl's default */
    HS,    /* the handle's entry (the data pointer of our callbacks) */
    URL,   /* hs->opts.url */
    HDRS,  /* hs->opts.headers */
    RESOLVE, /* hs->opts.resolve, when the application gave a list */
    APP,   /* the application's own (a mode that wants none of ours on a row
            * another bit of it would put) */
    CAP,   /* v, only when the application's value is above it (a ceiling; libcurl's
            * default is below it: like IFSET, only where the application set it) */
};

struct put {
    unsigned when; /* AMP_MODE_* bits: any of them */
    unsigned char src;
    union amp_optval v;
};

#define MAX_PUTS 4

struct row {
    CURLoption option;
    unsigned char type, note;
    unsigned short app;    /* offset in struct amp_app_options */
    CURLoption pair;       /* libcurl keeps one of the two: noting one clears the other */
    union amp_optval dflt; /* libcurl's default */
    struct put put[MAX_PUTS]; /* the first whose when meets the mode wins */
};

#define L(x) { .l = (x) }
#define P(x) { .p = (void *)(x) }
#define F(x) { .f = (void (*)(void))(x) }
#define PUT(when, src, v) { (when), (src), v }
#define NOPUT PUT(0, NONE, L(0))
#define AT(field) offsetof(struct amp_app_options, field)
#define ROUTED AMP_MODE_ROUTED
#define SEND AMP_MODE_SEND
#define ANSWER AMP_MODE_ANSWER
#define PLAIN AMP_MODE_PLAIN
#define GUARD AMP_MODE_GUARD
#define TRACE AMP_MODE_TRACE
#define AWAY AMP_MODE_AWAY
#define LEAN AMP_MODE_LEAN
#define FRESH AMP_MODE_FRESH
#define NOWHERE AMP_MODE_NOWHERE
#define HELD AMP_MODE_HELD
/* What must not send a routed request, or the key, anywhere but the proxy
 * (confine.c says why these and not the others). */
#define ASIDE(v) PUT(SEND | ANSWER, IFSET, v)

/* X(option, type, note, field, pair, default, puts…) */
#define OPTION_TABLE(X)                                                                    \
    /* The proxy URL and our headers (a CURLU would win over the URL). */                  \
    /* Off the proxy the URL stays: libcurl reads it only as a transfer                    \
     * starts, and setting it would replace the redirect's. */                             \
    X(URL, STR, NOTE_URL, url, 0, P(0), PUT(ROUTED | AWAY, URL, P(0)))                     \
    X(CURLU, PTR, NOTE_CURLU, curlu, 0, P(0), ASIDE(P(0)))                                 \
    X(HTTPHEADER, PTR, NOTE_HEADERS, headers, 0, P(0), PUT(SEND, HDRS, P(0)))              \
    X(PORT, LONG, KEEP, port, 0, L(0), ASIDE(L(0)))                                        \
    X(CONNECT_TO, PTR, KEEP, connect_to, 0, P(0), ASIDE(P(0)))                             \
    X(RESOLVE, PTR, KEEP, resolve, 0, P(0), PUT(SEND, RESOLVE, P(0)), ASIDE(P(0)))         \
    X(UNIX_SOCKET_PATH, STR, KEEP, unix_socket, CURLOPT_ABSTRACT_UNIX_SOCKET, P(0),        \
      ASIDE(P(0)))                                                                         \
    X(ABSTRACT_UNIX_SOCKET, STR, KEEP, abstract_socket, CURLOPT_UNIX_SOCKET_PATH, P(0),    \
      ASIDE(P(0)))                                                                         \
    X(DOH_URL, STR, KEEP, doh_url, 0, P(0), ASIDE(P(0)))                                   \
    X(SSL_CTX_FUNCTION, FN, KEEP, ssl_ctx_fn, 0, F(0), ASIDE(F(0)))                        \
    X(PINNEDPUBLICKEY, STR, KEEP, pinned, 0, P(0), ASIDE(P(0)))                            \
    X(SOCKOPTFUNCTION, FN, KEEP, sockopt_fn, 0, F(0), ASIDE(F(0)))                         \
    /* The key goes only to a proxy whose certificate is checked, whatever                 \
     * the application does with its own connections (curl -k); an HTTP                   \
     * proxy of the application's never sees our headers in a CONNECT. */                 \
    X(SSL_VERIFYPEER, LONG, KEEP, verify_peer, 0, L(1), ASIDE(L(1)))                       \
    X(SSL_VERIFYHOST, LONG, KEEP, verify_host, 0, L(2), ASIDE(L(2)))                       \
    X(HEADEROPT, LONG, KEEP, headeropt, 0, L(CURLHEADER_SEPARATE),                         \
      ASIDE(L(CURLHEADER_SEPARATE)))                                                       \
    /* A PROXY protocol line is for the provider's load balancer, in front of               \
     * its host: the hop to the proxy is another connection, and the proxy, a               \
     * relay or our answering socket takes the line for a broken request (an               \
     * https proxy, for a broken handshake). */                                            \
    X(HAPROXYPROTOCOL, LONG, KEEP, haproxy, 0, L(0), ASIDE(L(0)))                          \
    /* A plain-http relay (loopback only) is reached through our own socket                \
     * callback, which refuses any other address; a blocked call answered                  \
     * here connects to our listening socket instead. */                                  \
    X(OPENSOCKETFUNCTION, FN, KEEP, open_fn, 0, F(0), PUT(ANSWER, VALUE, F(amp_respond_open)), \
      PUT(PLAIN, VALUE, F(amp_confine_open)), PUT(SEND, IFSET, F(0)))                      \
    X(OPENSOCKETDATA, PTR, KEEP, open_data, 0, P(0), PUT(ANSWER | PLAIN, HS, P(0)))        \
    X(NOPROXY, STR, KEEP, noproxy, 0, P(0), PUT(ANSWER | PLAIN, VALUE, P("*")))            \
    /* An https-only application still reaches a plain-http relay, or our answer. */      \
    X(PROTOCOLS, LONG, KEEP, protocols, CURLOPT_PROTOCOLS_STR, L(0),                       \
      PUT(ANSWER, IFSET, L(CURLPROTO_HTTP)), PUT(PLAIN, IFSET, L(CURLPROTO_HTTP | CURLPROTO_HTTPS))) \
    X(PROTOCOLS_STR, STR, KEEP, protocols_str, CURLOPT_PROTOCOLS, P(0),                    \
      PUT(ANSWER, IFSET, P("http")), PUT(PLAIN, IFSET, P("http,https")))                   \
    /* Redirects looked at (redirect.c), or a blocked call's connection taken. */          \
    /* (And any request to the proxy: it is sent now, xfer.started, on a                  \
     * connection to a plain-http relay that is still our socket.) */                     \
    X(PREREQFUNCTION, FN, KEEP, prereq_fn, 0, F(0), PUT(ANSWER, VALUE, F(amp_respond_prereq)), \
      PUT(GUARD, VALUE, F(amp_redirect_guard)), PUT(SEND, VALUE, F(amp_transfer_sending))) \
    X(PREREQDATA, PTR, KEEP, prereq_data, 0, P(0), PUT(ANSWER | GUARD | SEND, HS, P(0)))   \
    X(RESOLVER_START_FUNCTION, FN, KEEP, resolver_fn, 0, F(0),                             \
      PUT(GUARD, VALUE, F(amp_redirect_resolving)))                                        \
    X(RESOLVER_START_DATA, PTR, KEEP, resolver_data, 0, P(0), PUT(GUARD, HS, P(0)))        \
    /* The key masked in the application's verbose output. */                             \
    X(DEBUGFUNCTION, FN, KEEP, debug_fn, 0, F(0), PUT(TRACE, VALUE, F(amp_trace_debug)))   \
    X(DEBUGDATA, PTR, KEEP, debug_data, 0, P(0), PUT(TRACE, HS, P(0)))                     \
    /* Every 429 recorded as it arrives (ratelimit.c): from its headers, or,              \
     * lean, from the first of its body the application would see. */                     \
    X(HEADERFUNCTION, FN, KEEP, header_fn, 0, F(0), PUT(LEAN, APP, F(0)),                  \
      PUT(SEND | HELD, VALUE, F(amp_ratelimit_watch_header)))                              \
    X(HEADERDATA, PTR, KEEP, header_data, 0, P(0), PUT(LEAN, APP, P(0)),                   \
      PUT(SEND | HELD, HS, P(0)))                                                          \
    X(WRITEFUNCTION, FN, KEEP, write_fn, 0, F(0),                                          \
      PUT(LEAN, VALUE, F(amp_ratelimit_watch_body)))                                       \
    X(WRITEDATA, PTR, KEEP, write_data, 0, P(0), PUT(LEAN, HS, P(0)))                      \
    X(HEADER, LONG, KEEP, include_header, 0, L(0), PUT(LEAN, APP, L(0)))                   \
    /* A blocked call's connection: of our making, never one of the pool's                 \
     * and never kept, in HTTP/1.1, from no particular interface or port. */               \
    /* A plain-http relay's socket closed by us: never one the program reopened. */      \
    X(CLOSESOCKETFUNCTION, FN, KEEP, close_fn, 0, F(0),                                    \
      PUT(ANSWER, VALUE, F(amp_respond_close)), PUT(PLAIN, VALUE, F(amp_confine_close)))   \
    X(CLOSESOCKETDATA, PTR, KEEP, close_data, 0, P(0), PUT(ANSWER, HS, P(0)))              \
    X(FRESH_CONNECT, LONG, KEEP, fresh_connect, 0, L(0), PUT(ANSWER | FRESH, VALUE, L(1))) \
    X(FORBID_REUSE, LONG, KEEP, forbid_reuse, 0, L(0), PUT(ANSWER, VALUE, L(1)))           \
    /* The HTTP version the application asked for is the provider's, not                   \
     * the hop's to Ampersand. Our answer's socket reads nothing (respond.c)                 \
     * and the answer is HTTP/1.1 either way: asked in HTTP/1.1 whatever the                 \
     * application's, so that libcurl reads it as such (not after an h2c                     \
     * preface). A plain-http relay is an HTTP/1.1 server: reached in HTTP/1.1               \
     * for anything above (2_PRIOR_KNOWLEDGE's h2c preface, 2_0's h2c upgrade,               \
     * 3 and 3ONLY, which need TLS; 2TLS is HTTP/1.1 over http already), in                  \
     * the HTTP/1.0 the application asked for (every HTTP/1.1 server reads                   \
     * it, and the program may rely on it: no chunked body, no kept                          \
     * connection). An https proxy keeps the application's choice: ALPN                      \
     * settles HTTP/2 there, and 3ONLY fails there as at any host without                    \
     * HTTP/3, as the application asked. */                                                  \
    X(HTTP_VERSION, LONG, KEEP, http_version, 0, L(CURL_HTTP_VERSION_NONE),                \
      PUT(ANSWER, VALUE, L(CURL_HTTP_VERSION_1_1)), PUT(PLAIN, CAP, L(CURL_HTTP_VERSION_1_1))) \
    X(IPRESOLVE, LONG, KEEP, ipresolve, 0, L(CURL_IPRESOLVE_WHATEVER),                     \
      PUT(ANSWER, IFSET, L(CURL_IPRESOLVE_WHATEVER)))                                      \
    /* (And a plain-http relay's, on loopback: none of ours shares a local                \
     * port with another of ours, which is how a connection is named to our                \
     * PREREQFUNCTION, amp_confine_sends_on.) */                                          \
    X(INTERFACE, STR, KEEP, interface, 0, P(0), PUT(ANSWER | PLAIN, IFSET, P(0)))          \
    X(LOCALPORT, LONG, KEEP, localport, 0, L(0), PUT(ANSWER | PLAIN, IFSET, L(0)))         \
    X(LOCALPORTRANGE, LONG, KEEP, localportrange, 0, L(1), PUT(ANSWER | PLAIN, IFSET, L(1))) \
    /* A call that goes nowhere: the application's buffer holds our message               \
     * from the moment it is refused, and libcurl's own failure (the URL                    \
     * nothing fetches) goes to no buffer, whenever the application reads                   \
     * it (GDAL's multi loop never calls curl_multi_info_read). */                          \
    X(ERRORBUFFER, PTR, KEEP, errbuf, 0, P(0), PUT(NOWHERE, VALUE, P(0)))                  \
    /* Only noted: what our callbacks hand on to, and what decides the                     \
     * mode (a redirect looked at, the key masked). */                                     \
    X(FOLLOWLOCATION, LONG, NOTE_GUARD, follow, 0, L(0), NOPUT)                            \
    X(VERBOSE, LONG, NOTE_TRACE, verbose, 0, L(0), NOPUT)                                  \
    X(STDERR, PTR, KEEP, err, 0, P(0), NOPUT)                                              \
    X(CONNECT_ONLY, LONG, KEEP, connect_only, 0, L(0), NOPUT)                              \
    /* What a redirect may be sent again as (transfer.c): libcurl's own                    \
     * rules for these options, in the order they are set. */                              \
    X(POST, LONG, NOTE_POSTS, posts, 0, L(0), NOPUT)                                       \
    X(UPLOAD, LONG, NOTE_POSTS, posts, 0, L(0), NOPUT)                                     \
    X(POSTFIELDS, PTR, NOTE_POSTS_1, posts, 0, P(0), NOPUT)                                \
    X(COPYPOSTFIELDS, PTR, NOTE_POSTS_1, posts, 0, P(0), NOPUT)                            \
    X(HTTPPOST, PTR, NOTE_POSTS_1, posts, 0, P(0), NOPUT)                                  \
    X(MIMEPOST, PTR, NOTE_POSTS_1, posts, 0, P(0), NOPUT)                                  \
    X(HTTPGET, LONG, NOTE_HTTPGET, posts, 0, L(0), NOPUT)                                  \
    X(CUSTOMREQUEST, PTR, NOTE_CUSTOM, custom_unsafe, 0, P(0), NOPUT)                      \
    /* The cookies a routed request carries: the provider's (cookies.c). */               \
    X(COOKIE, STR, KEEP, cookie, 0, P(0), NOPUT)                                           \
    X(COOKIEFILE, PTR, NOTE_COOKIES, cookie_engine, 0, P(0), NOPUT)                        \
    X(COOKIEJAR, PTR, NOTE_COOKIES, cookie_engine, 0, P(0), NOPUT)                         \
    X(COOKIELIST, PTR, NOTE_COOKIES, cookie_engine, 0, P(0), NOPUT)                        \
    /* A share handle may bring libcurl's cookie engine (ratelimit.c). */                 \
    X(SHARE, PTR, KEEP, share, 0, P(0), NOPUT)                                             \
    /* The Referer a request off the proxy carries (redirect.c), given back after. */     \
    X(REFERER, STR, KEEP, referer, 0, P(0), NOPUT)

#define ROW(name, type, note, field, pair, dflt, ...)                                    \
    { CURLOPT_##name, type, note, AT(field), pair, dflt, { __VA_ARGS__ } },
static const struct row rows[] = { OPTION_TABLE(ROW) };
#undef ROW
#define NROWS (sizeof(rows) / sizeof(rows[0]))
_Static_assert(NROWS <= AMP_OPTION_ROWS, "one bit per row in struct amp_opt_state");

#define INDEX(name, ...) I_##name,
enum { OPTION_TABLE(INDEX) };
#undef INDEX

/* The rows of strings we keep a copy of, and of numbers whose default is
 * not 0 (a new entry is zeroed): what making and freeing an entry visit,
 * for each handle a program makes. */
#define STR_BIT(name, type, ...) | ((type) == STR ? (uint64_t)1 << I_##name : 0)
static const uint64_t str_rows = 0 OPTION_TABLE(STR_BIT);
#undef STR_BIT
#define SET_BIT(name, type, note, field, pair, dflt, ...)                                \
    | ((type) == LONG && ((union amp_optval)dflt).l ? (uint64_t)1 << I_##name : 0)
static inline uint64_t set_rows(void)
{
    return 0 OPTION_TABLE(SET_BIT); /* a constant, once compiled */
}
#undef SET_BIT

/* Each option's row + 1 (0: none), by the option's number: its type's
 * base (a multiple of 10,000, CURLOPTTYPE_*) and its index in the type.
 * An array look, not a search of a switch: every setopt of the
 * application's asks (some 14 for each handle PHP makes). */
#define ROW_TYPES 5
#define ROW_INDEXES 512
#define AT_NUMBER(name, ...) [CURLOPT_##name / 10000][CURLOPT_##name % 10000] = I_##name + 1,
static const unsigned char row_by_number[ROW_TYPES][ROW_INDEXES] = { OPTION_TABLE(AT_NUMBER) };
#undef AT_NUMBER
_Static_assert(NROWS < 255, "a row + 1 in an unsigned char");

int amp_option_row(CURLoption option)
{
    unsigned n = (unsigned)option, type = n / 10000, index = n % 10000;

    return type < ROW_TYPES && index < ROW_INDEXES ? row_by_number[type][index] - 1 : -1;
}

int amp_option_noted_row(CURLoption option, union amp_optval *v)
{
    /* libcurl 8.2+ (setopt.c) turns the PROXY line on with a client IP, and
     * off with none (NULL): noted so, the line is set aside on a routed hop
     * and given back after as the application left it. */
    if (option == AMP_CURLOPT_HAPROXY_CLIENT_IP) {
        v->l = v->p != NULL;
        return I_HAPROXYPROTOCOL;
    }
    return amp_option_row(option);
}

static void *field(struct amp_handle *hs, const struct row *r)
{
    return (char *)&hs->app + r->app;
}

/* The application's value of row r. */
static inline union amp_optval app_value(struct amp_handle *hs, const struct row *r)
{
    union amp_optval v = { 0 };

    if (r->type == LONG)
        memcpy(&v.l, field(hs, r), sizeof(v.l));
    else if (r->type == FN)
        memcpy(&v.f, field(hs, r), sizeof(v.f));
    else
        memcpy(&v.p, field(hs, r), sizeof(v.p));
    /* With a CURLU (which wins) and no URL, the CURLU's URL stands where
     * libcurl would show it (CURLINFO_EFFECTIVE_URL). */
    if (r->note == NOTE_URL && !v.p && hs->app.curlu)
        v.p = (void *)hs->decision.url;
    return v;
}

static int same(const struct row *r, union amp_optval a, union amp_optval b)
{
    return r->type == LONG ? a.l == b.l : r->type == FN ? a.f == b.f : a.p == b.p;
}

/* What a sync in a mode looks at, made at the mode's first sync (any
 * thread may; they all write the same): each row's winning put there (the
 * first whose when meets the mode), as its index + 1 (0: none), so that a
 * sync looks at one put of each row, not at every one before it; and the
 * rows it looks at beside those holding ours: every row with a winning put
 * (any), but a row whose winning put puts only a value the application
 * set (IFSET, CAP: most rows set aside) only on a handle whose application
 * set it (hs->app.set), so that such a row costs a request that does not
 * set it nothing (a new handle's first sync visited some 25 rows to put 10). */
struct mode_rows {
    _Atomic unsigned char win[NROWS];
    _Atomic uint64_t any, always; /* always: any but those IFSET and CAP rows */
};
static struct mode_rows modes[AMP_MODES];
static _Atomic uint64_t modes_made[AMP_MODES / 64];

/* Made once a mode: apart, so that a sync's frame holds none of it. */
static __attribute__((noinline, cold)) const struct mode_rows *make_mode_rows(unsigned mode)
{
    uint64_t any = 0, always = 0;
    struct mode_rows *m = &modes[mode];

    for (size_t i = 0; i < NROWS; i++) {
        unsigned char k = 0;
        for (const struct put *p = rows[i].put; !k && p < rows[i].put + MAX_PUTS && p->src != NONE; p++)
            if (p->when & mode)
                k = (unsigned char)(p - rows[i].put) + 1;
        atomic_store_explicit(&m->win[i], k, memory_order_relaxed);
        if (!k)
            continue;
        any |= (uint64_t)1 << i;
        if (rows[i].put[k - 1].src != IFSET && rows[i].put[k - 1].src != CAP)
            always |= (uint64_t)1 << i;
    }
    atomic_store_explicit(&m->any, any, memory_order_relaxed);
    atomic_store_explicit(&m->always, always, memory_order_relaxed);
    atomic_fetch_or_explicit(&modes_made[mode / 64], (uint64_t)1 << (mode % 64), memory_order_release);
    return m;
}

static inline const struct mode_rows *mode_rows(unsigned mode)
{
    mode &= AMP_MODES - 1;
    if (atomic_load_explicit(&modes_made[mode / 64], memory_order_acquire) & ((uint64_t)1 << (mode % 64)))
        return &modes[mode];
    return make_mode_rows(mode);
}

/* Ours for row r by its winning put (win, 0: none), into *v; 0 when the
 * row keeps the application's. */
static int ours(struct amp_handle *hs, const struct row *r, unsigned win, union amp_optval *v)
{
    if (!win)
        return 0;
    const struct put *p = &r->put[win - 1];
    switch (p->src) {
    case CAP:
        if (app_value(hs, r).l <= p->v.l)
            return 0;
        *v = p->v;
        return 1;
    case IFSET:
        if (same(r, app_value(hs, r), r->dflt))
            return 0;
        /* fall through */
    case VALUE:
        *v = p->v;
        return 1;
    case HS:
        v->p = hs;
        return 1;
    case URL:
        v->p = (void *)hs->opts.url;
        return 1;
    case HDRS:
        v->p = hs->opts.headers;
        return 1;
    case RESOLVE:
        if (!hs->app.resolve)
            return 0;
        v->p = hs->opts.resolve;
        return 1;
    case APP:
    case NONE:
        break;
    }
    return 0;
}

static CURLcode set(struct amp_handle *hs, const struct row *r, union amp_optval v)
{
    const struct amp_curl *c = hs->c;

    if (r->type == LONG)
        return c->easy_setopt(hs->easy, r->option, v.l);
    if (r->type == FN)
        return c->easy_setopt(hs->easy, r->option, v.f);
    return c->easy_setopt(hs->easy, r->option, v.p);
}

void amp_options_init(struct amp_handle *hs)
{
    for (uint64_t m = set_rows(); m; m &= m - 1) {
        const struct row *r = &rows[__builtin_ctzll(m)];
        memcpy(field(hs, r), &r->dflt.l, sizeof(long));
    }
    /* libcurl's default, given back as it is (no constant the table can hold). */
    hs->app.write_data = stdout;
}

int amp_options_sync(struct amp_handle *hs, unsigned mode)
{
    struct amp_opt_state *o = &hs->opts;
    int rc = 0;

    if (mode == o->mode && !o->dirty && !o->stale)
        return 0;
    /* Only a new proxy URL or header list: those rows alone. */
    const struct mode_rows *m = mode_rows(mode);
    uint64_t todo = mode == o->mode && !o->dirty
                        ? o->stale
                        : o->on | atomic_load_explicit(&m->always, memory_order_relaxed) |
                              (atomic_load_explicit(&m->any, memory_order_relaxed) & hs->app.set);
    for (; todo; todo &= todo - 1) {
        size_t i = (size_t)__builtin_ctzll(todo);
        const struct row *r = &rows[i];
        uint64_t bit = (uint64_t)1 << i;
        union amp_optval v;
        if (ours(hs, r, atomic_load_explicit(&m->win[i], memory_order_relaxed), &v)) {
            if ((o->on & bit) && same(r, o->put[i], v))
                continue;
            if (set(hs, r, v) != CURLE_OK) {
                /* libcurl dropped the old value: it holds nothing of ours. */
                o->on &= ~bit;
                rc = -1;
                continue;
            }
            o->on |= bit;
            o->put[i] = v;
        } else if (o->on & bit) {
            set(hs, r, app_value(hs, r));
            o->on &= ~bit;
        }
    }
    o->mode = mode;
    o->dirty = rc < 0;
    o->stale = 0;
    return rc;
}

void amp_options_give_back_all(struct amp_handle *hs)
{
    hs->opts.dirty = 1;
    amp_options_sync(hs, 0);
}

void amp_options_stale(struct amp_handle *hs, CURLoption option)
{
    int i = amp_option_row(option);

    /* A value no put ever equals. */
    hs->opts.put[i].p = (void *)&hs->opts;
    hs->opts.stale |= (uint64_t)1 << i;
}

static CURLcode put_row(struct amp_handle *hs, int i, union amp_optval v)
{
    uint64_t bit = (uint64_t)1 << i;
    CURLcode rc = set(hs, &rows[i], v);

    /* What a sync would have done: nothing left for the next one. */
    hs->opts.stale &= ~bit;
    if (rc == CURLE_OK) {
        hs->opts.on |= bit;
        hs->opts.put[i] = v;
    } else {
        hs->opts.on &= ~bit;
        hs->opts.dirty = 1;
    }
    return rc;
}

CURLcode amp_options_put(struct amp_handle *hs, CURLoption option, union amp_optval v)
{
    return put_row(hs, amp_option_row(option), v);
}

CURLcode amp_options_put_url(struct amp_handle *hs, const char *url)
{
    /* The row known: no look-up, and set() reduced to the one setopt. */
    return put_row(hs, I_URL, (union amp_optval){ .p = (void *)url });
}

/* Only recorded: option was just set to the application's value by hand. */
static void amp_options_given_back(struct amp_handle *hs, CURLoption option)
{
    uint64_t bit = (uint64_t)1 << amp_option_row(option);

    if (hs->opts.on & bit) {
        hs->opts.on &= ~bit;
        hs->opts.dirty = 1;
    }
}

CURLcode amp_options_give_back(struct amp_handle *hs, CURLoption option)
{
    int i = amp_option_row(option);
    CURLcode rc = set(hs, &rows[i], app_value(hs, &rows[i]));

    amp_options_given_back(hs, option);
    return rc;
}

enum amp_change amp_option_change(int row)
{
    const struct row *r = &rows[row];

    if (r->note == NOTE_URL || r->note == NOTE_CURLU)
        return AMP_CHANGE_ROUTE;
    if (r->note == NOTE_HEADERS)
        return AMP_CHANGE_HEADERS;
    if (r->put[0].src != NONE || r->note == NOTE_GUARD || r->note == NOTE_TRACE)
        return AMP_CHANGE_MODE;
    return AMP_CHANGE_NONE;
}

unsigned amp_options_app_bits(const struct amp_handle *hs)
{
    return (hs->app.follow ? AMP_MODE_GUARD : 0) | (hs->app.verbose ? AMP_MODE_TRACE : 0);
}

_Static_assert(AMP_OPTION_URL_ROW == I_URL, "options.h's URL row is the table's");

/* A copy of value (or NULL) into *slot, the old one freed. -1 when out of memory. */
static int set_string(char **slot, const char *value)
{
    char *copy = NULL;

    if (value) {
        copy = strdup(value);
        if (!copy)
            return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

static int keep_string(struct amp_handle *hs, const struct row *r, const char *s)
{
    return set_string((char **)field(hs, r), s);
}

int amp_options_keep_string(char **slot, size_t *cap, const char *value)
{
    size_t need;

    if (!value) {
        free(*slot);
        *slot = NULL;
        *cap = 0;
        return 0;
    }
    need = strlen(value) + 1;
    if (amp_grow(slot, cap, need) < 0)
        return -1;
    memmove(*slot, value, need);
    return 0;
}

/* The application's URL (or NULL) kept as noted. -1 when out of memory. */
static int keep_url(struct amp_handle *hs, const char *url)
{
    return amp_options_keep_string(&hs->app.url, &hs->app.url_cap, url);
}

char *amp_options_take_url(struct amp_handle *hs)
{
    char *url = hs->app.url;

    hs->app.url = NULL;
    hs->app.url_cap = 0;
    return url;
}

int amp_options_keep_url_len(struct amp_handle *hs, const char *url, size_t len)
{
    if (amp_grow(&hs->app.url, &hs->app.url_cap, len + 1) < 0)
        return -1;
    memmove(hs->app.url, url, len + 1);
    return 0;
}

/* Each of these turns libcurl's cookie engine on for the handle, but
 * COOKIEFILE NULL (it throws the engine away) and COOKIELIST's commands
 * (ALL, SESS, FLUSH, RELOAD), which start nothing (cookies.c reads it). */
static void note_cookie_engine(struct amp_handle *hs, CURLoption option, const char *v)
{
    if (option == CURLOPT_COOKIEFILE && !v)
        hs->app.cookie_engine = 0;
    else if (option == CURLOPT_COOKIEFILE && *v)
        hs->app.cookie_engine = 2; /* and a file to read */
    else if (v && hs->app.cookie_engine != 2 &&
             !(option == CURLOPT_COOKIELIST &&
               (strcasecmp(v, "ALL") == 0 || strcasecmp(v, "SESS") == 0 ||
                strcasecmp(v, "FLUSH") == 0 || strcasecmp(v, "RELOAD") == 0)))
        hs->app.cookie_engine = 1;
}

void amp_options_free(struct amp_handle *hs)
{
    if (hs->opts.resolve)
        hs->c->slist_free_all(hs->opts.resolve);
    /* Most are none: a call of free each would cost a handle made per
     * request (PHP's curl_init) some 10 instructions a row. */
    for (uint64_t m = str_rows; m; m &= m - 1) {
        char *s = *(char **)field(hs, &rows[__builtin_ctzll(m)]);
        if (s)
            free(s);
    }
}

int amp_options_copy(struct amp_handle *to, const struct amp_handle *from)
{
    struct amp_app_options *app = &to->app;
    char *mine[NROWS];
    size_t url_cap = app->url_cap;
    int rc = 0;

    /* Every string we hold a copy of, the URL's buffer among them: the copy's own. */
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].type == STR)
            mine[i] = *(char **)field(to, &rows[i]);
    *app = from->app;
    app->url_cap = url_cap;
    for (size_t i = 0; i < NROWS; i++) {
        if (rows[i].type != STR)
            continue;
        char **slot = (char **)field(to, &rows[i]);
        *slot = mine[i];
        if (rows[i].note != NOTE_URL)
            rc |= set_string(slot, *(char *const *)((const char *)&from->app + rows[i].app));
        else if (from->app.url)
            rc |= keep_url(to, from->app.url);
    }
    /* libcurl copied ours with the handle: the application's on the copy. */
    if (from->opts.on) {
        to->opts = from->opts;
        amp_options_give_back_all(to);
        to->opts.resolve = NULL; /* the original's */
    }
    return rc;
}

int amp_option_note(struct amp_handle *hs, int row, union amp_optval v)
{
    enum amp_change what;

    return amp_option_note_change(hs, row, v, &what);
}

int amp_option_note_change(struct amp_handle *hs, int i, union amp_optval v, enum amp_change *what)
{
    const struct row *r = &rows[i];

    *what = AMP_CHANGE_NONE;
    hs->opts.noted++;
    /* Set or not by its value alone (a string's copy is made below; a
     * copy that fails leaves the bit on, which only costs a look). */
    if (same(r, v, r->dflt))
        hs->app.set &= ~((uint64_t)1 << i);
    else
        hs->app.set |= (uint64_t)1 << i;

    /* libcurl holds the application's value now: ours is put again when
     * a transfer needs it (a value of the application's may also be one
     * we now set aside). */
    hs->opts.on &= ~((uint64_t)1 << i);
    if (r->put[0].src != NONE)
        hs->opts.dirty = 1;
    if (r->pair) {
        int j = amp_option_row(r->pair);
        const struct row *other = &rows[j];
        hs->opts.on &= ~((uint64_t)1 << j); /* libcurl keeps one value for the two */
        hs->app.set &= ~((uint64_t)1 << j);
        if (other->type == STR)
            keep_string(hs, other, NULL);
        else
            memcpy(field(hs, other), &other->dflt.l, sizeof(long));
    }
    switch (r->note) {
    case NOTE_URL:
        /* The same URL again (most programs set it before every transfer)
         * keeps its routing decision. */
        if (hs->app.url && v.p && strcmp(hs->app.url, v.p) == 0)
            return 0;
        *what = AMP_CHANGE_ROUTE;
        return keep_url(hs, v.p);
    case NOTE_CURLU:
        *what = AMP_CHANGE_ROUTE;
        break;
    case NOTE_HEADERS:
        *what = AMP_CHANGE_HEADERS; /* even the same pointer may hold a new list */
        break;
    case NOTE_POSTS:
        hs->app.posts = v.l != 0;
        return 0;
    case NOTE_POSTS_1:
        hs->app.posts = 1; /* libcurl posts, whatever the value */
        return 0;
    case NOTE_HTTPGET:
        if (v.l)
            hs->app.posts = 0;
        return 0;
    case NOTE_CUSTOM:
        hs->app.custom_unsafe = v.p && strcmp(v.p, "GET") != 0 && strcmp(v.p, "HEAD") != 0;
        return 0;
    case NOTE_COOKIES:
        note_cookie_engine(hs, r->option, v.p);
        return 0;
    default:
        break;
    }
    if (r->type == STR)
        return keep_string(hs, r, v.p);
    if (r->type == LONG)
        memcpy(field(hs, r), &v.l, sizeof(v.l));
    else if (r->type == FN)
        memcpy(field(hs, r), &v.f, sizeof(v.f));
    else
        memcpy(field(hs, r), &v.p, sizeof(v.p));
    return 0;
}
