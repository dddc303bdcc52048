/* Rate limits for routed transfers. The state is one file shared by all
 * of the user's processes (state.c), opened on the first routed
 * transfer; if it cannot be used the blocks are still kept in this
 * process's memory, with an error said once. */
#define _GNU_SOURCE
#include "ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "locks.h"
#include "callbacks.h"
#include "cookies.h"
#include "inflight.h"
#include "options.h"
#include "redirect.h"
#include "counts.h"
#include "hash.h"
#include "log.h"
#include "block.h"
#include "tally.h"
#include "state.h"

/* Every state file a config of this process named, each opened on the
 * first routed transfer of a config that names it, under amp_lock_state
 * (locks.h): no loader call happens under it, only open(2) and mkdir(2).
 * A config keeps the one it names (amp_config.state); one named before
 * by a config no longer in use stays open, since a transfer on another
 * thread may still be using it, and is found again if a later config
 * names it. Made under the lock, never freed, read without it. */
struct opened {
    struct opened *next;
    struct amp_state *st;
    char path[4096];            /* as the config named it ("": no place for one) */
};
static _Atomic(struct opened *) opened;

void amp_ratelimit_fork_prepare(void)
{
    for (struct opened *o = atomic_load_explicit(&opened, memory_order_acquire); o; o = o->next)
        if (o->st)
            amp_state_fork_prepare(o->st);
}

void amp_ratelimit_fork_release(void)
{
    for (struct opened *o = atomic_load_explicit(&opened, memory_order_acquire); o; o = o->next)
        if (o->st)
            amp_state_fork_release(o->st);
}

static void state_warning(const char *msg)
{
    amp_warn("%s", msg);
}

/* The state file at path (NULL: no place for one), or this process's
 * memory when it cannot be used. */
static struct amp_state *open_state(const char *file)
{
    char err[512];
    struct amp_state *st;

    if (!file) {
        amp_error("no place for the rate-limit state: blocks hold in this process only");
        return amp_state_open(NULL, err, sizeof(err));
    }
    st = amp_state_open(file, err, sizeof(err));
    if (!st) {
        amp_error("rate-limit state: %s; blocks hold in this process only", err);
        return amp_state_open(NULL, err, sizeof(err));
    }
    return st;
}

/* The state cfg names (throttle.state_file, else the default place),
 * opened on its first routed transfer; the route counters go beside it
 * from then on. */
static __attribute__((noinline)) struct amp_state *open_for(const struct amp_config *cfg)
{
    struct amp_config *mine = (struct amp_config *)cfg;
    struct amp_state *st;
    char path[4096];
    const char *file = cfg->throttle.state_file;
    struct opened *o;

    pthread_mutex_lock(&amp_lock_state);
    /* Said through ours: where the default place went, when it moved. */
    amp_state_set_warn(state_warning);
    if (!file)
        file = amp_state_default_path(path, sizeof(path)) >= 0 ? path : NULL;
    for (o = atomic_load_explicit(&opened, memory_order_relaxed); o; o = o->next)
        if (strcmp(o->path, file ? file : "") == 0)
            break;
    if (!o) {
        o = calloc(1, sizeof(*o));
        if (o) {
            snprintf(o->path, sizeof(o->path), "%s", file ? file : "");
            o->st = open_state(file);
            o->next = atomic_load_explicit(&opened, memory_order_relaxed);
            atomic_store_explicit(&opened, o, memory_order_release);
        }
    }
    st = o ? o->st : NULL;
    atomic_store_explicit(&mine->state, st, memory_order_release);
    pthread_mutex_unlock(&amp_lock_state);
    char counts[4096 + 16];
    if (st && file && amp_counts_path(file, counts, sizeof(counts)) == 0)
        amp_tally_set_path(counts);
    return st;
}

/* The config's own state: one is written into it, as into its reference
 * count, once it is loaded. */
static inline struct amp_state *get_state(const struct amp_config *cfg)
{
    struct amp_state *st = atomic_load_explicit(&((struct amp_config *)cfg)->state,
                                                memory_order_acquire);

    return st ? st : open_for(cfg);
}

static int64_t now_utc(void)
{
    return (int64_t)time(NULL);
}

/* Sleep until UTC second t (wait mode). */
static void sleep_until(int64_t t)
{
    struct timespec now, d;

    clock_gettime(CLOCK_REALTIME, &now);
    if ((int64_t)now.tv_sec >= t)
        return;
    d.tv_sec = (time_t)(t - now.tv_sec - 1);
    d.tv_nsec = 1000000000L - now.tv_nsec;
    while (nanosleep(&d, &d) < 0 && errno == EINTR)
        ;
}

/* Which block of each route this process has said. What ampshim writes on
 * the host's stderr becomes the host's own error text (a forked download
 * child's stderr read as its error message, a daemon's log): a block is
 * said once, when the process first meets it (recorded here or found in
 * the state), and each later call on it only at info. Slots are claimed
 * by route key with linear probing, without a lock, so that a child
 * forked at any moment inherits the table whole: one forked after its
 * parent said a block says nothing more of it. */
#define SAID_SLOTS 1024
static _Atomic uint64_t said_route[SAID_SLOTS], said_block[SAID_SLOTS];

/* What tells a block from the next on the same route. */
static uint64_t block_mark(const struct amp_block *b)
{
    const int64_t parts[] = { b->recorded_at, b->retry_at, b->hold_until, (int64_t)b->flags };
    uint64_t h = amp_fnv1a(parts, sizeof(parts)); /* this process's memory only */

    return h ? h : 1;
}

/* 1 the first time this process meets block b (of route b->key). */
static int first_sight(const struct amp_block *b)
{
    uint64_t key = b->key ? b->key : 1, mark = block_mark(b);

    for (size_t i = 0, at = key % SAID_SLOTS; i < SAID_SLOTS; i++, at = (at + 1) % SAID_SLOTS) {
        uint64_t k = atomic_load_explicit(&said_route[at], memory_order_acquire);
        if (k == 0 && !atomic_compare_exchange_strong_explicit(&said_route[at], &k, key,
                                                               memory_order_acq_rel,
                                                               memory_order_acquire) &&
            k != key)
            continue; /* another route took the slot meanwhile */
        if (k != 0 && k != key)
            continue;
        uint64_t old = atomic_load_explicit(&said_block[at], memory_order_acquire);
        while (old != mark)
            if (atomic_compare_exchange_weak_explicit(&said_block[at], &old, mark,
                                                      memory_order_acq_rel, memory_order_acquire))
                return 1;
        return 0;
    }
    return 1; /* more routes blocked at once than slots: said each time */
}

/* A call stopped here: said (once a block at the default level), and counted. */
static void say_blocked(struct amp_handle *hs, const struct amp_route *route,
                        const struct amp_block *b, int64_t now, int answered, CURLcode refusal)
{
    struct amp_tally *t = route == hs->decision.route ? hs->decision.tally : amp_tally_of(route);
    amp_tally_blocked(t);
    amp_transfer_counted_blocked(hs, t);
    char msg[CURL_ERROR_SIZE * 2 - sizeof("ampshim: ") - 47];

    amp_block_describe(b, route->base_url, now, msg, sizeof(msg));
    /* An answered call succeeds: the error buffer is libcurl's to fill. */
    amp_transfer_fail(hs, answered ? CURLE_OK : refusal,
                      first_sight(b) ? AMP_LOG_WARN : AMP_LOG_INFO, "%s%s", msg,
                      answered ? "; answered here with HTTP 429, not sent" : "; not sent");
}

static __attribute__((noinline)) int open_asked(const struct amp_config *cfg,
                                                const struct amp_route *route, int64_t now)
{
    struct amp_state *st = get_state(cfg);
    struct amp_block b;

    return !st || !amp_state_find(st, route->key, now, &b);
}

int amp_ratelimit_open(const struct amp_config *cfg, const struct amp_route *route,
                       struct amp_now now)
{
    /* The common case without a frame: opened, and nothing recorded. */
    struct amp_state *st = atomic_load_explicit(&((struct amp_config *)cfg)->state,
                                                memory_order_acquire);

    if (st && amp_state_quiet(st, amp_clock_ms(now)))
        return 1;
    return open_asked(cfg, route, now.s);
}

enum amp_verdict amp_ratelimit_check(const struct amp_config *cfg, struct amp_handle *hs,
                                     const struct amp_route *route, int may_wait,
                                     CURLcode *refusal, struct amp_block *b, int64_t *when)
{
    struct amp_state *st = get_state(cfg);

    if (!st)
        return AMP_SEND;
    for (int first = 1;; first = 0) {
        /* The caller's second, first: it has just read it. */
        int64_t now = first && *when ? *when : now_utc();
        *when = now;
        if (!amp_state_find(st, route->key, now, b))
            return AMP_SEND;
        /* A connect-only transfer has no response to be answered with. */
        if (cfg->throttle.on_block == AMP_ON_BLOCK_RESPOND && !hs->app.connect_only) {
            say_blocked(hs, route, b, now, 1, CURLE_OK);
            return AMP_ANSWER;
        }
        if (b->flags & AMP_BLOCK_LOCKED) {
            *refusal = CURLE_LOGIN_DENIED;
            say_blocked(hs, route, b, now, 0, *refusal);
            return AMP_REFUSE;
        }
        if (!may_wait || cfg->throttle.on_block != AMP_ON_BLOCK_WAIT ||
            amp_block_secs_between(now, b->retry_at) > cfg->throttle.max_wait) {
            *refusal = CURLE_SEND_ERROR;
            say_blocked(hs, route, b, now, 0, *refusal);
            return AMP_REFUSE;
        }
        amp_info("route %s (%s) is rate limited: waiting %llds", route->base_url, route->ident,
                 (long long)amp_block_secs_between(now, b->retry_at));
        sleep_until(b->retry_at);
        /* And look again: another process may have learnt of a longer block. */
    }
}

static void keep_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    snprintf(out, outlen, "%.*s", (int)(end - v), v);
}

/* "HTTP/1.1 429 Too Many Requests", "HTTP/2 429": the status, or 0. */
static int status_of(const char *line, size_t len)
{
    /* HTTP/1.1's, as a relay answers: no search for the space. */
    const char *sp = len > 9 && memcmp(line, "HTTP/1.1 ", 9) == 0 ? line + 8 : memchr(line, ' ', len);

    /* As libcurl reads it (sscanf's %3d after the space): any run of
     * white space before the code. */
    while (sp && (size_t)(sp - line) + 1 < len &&
           (sp[1] == ' ' || sp[1] == '\t' || sp[1] == '\v' || sp[1] == '\f'))
        sp++;
    if (!sp || (size_t)(sp - line) + 4 > len || sp[1] < '1' || sp[1] > '5' || sp[2] < '0' ||
        sp[2] > '9' || sp[3] < '0' || sp[3] > '9')
        return 0;
    return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

static void amp_ratelimit_record(const struct amp_config *cfg, struct amp_handle *hs);

/* The proxy's own 429, not one from the application's HTTP proxy
 * refusing a CONNECT (libcurl keeps that one apart, in HTTP_CONNECTCODE,
 * and RESPONSE_CODE is then 0). */
static __attribute__((noinline)) void record_429(struct amp_handle *hs)
{
    long status = 0;

    if (!hs->guard.cur_route ||
        hs->c->easy_getinfo(hs->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
        status != 429)
        return;
    hs->watch.recorded = 1;
    amp_ratelimit_record(hs->cfg, hs);
}

/* The common case (not a 429) where it is asked, at every transfer's end. */
static inline void record_once(struct amp_handle *hs)
{
    if (hs->watch.status == 429 && !hs->watch.recorded)
        record_429(hs);
}

/* A line of a 429's headers (or the blank line ending them). */
static void watch_429_line(struct amp_handle *hs, const char *line, size_t len)
{
    struct amp_watch *w = &hs->watch;

    if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
        /* The end of a response's headers: a 429 is recorded now, before
         * the application sees it (it may never let the transfer end). */
        record_once(hs);
    } else {
        /* Kept even where libcurl keeps headers to ask for later: before
         * 7.84 it keeps none, and after an application paused in its header
         * callback its store misses some of those it then hands over. Out
         * of memory, the 429 is recorded with libcurl's alone. */
        struct amp_watch_kept *k = w->kept ? w->kept : (w->kept = calloc(1, sizeof(*w->kept)));
        if (!k)
            return;
        keep_value(line, len, "X-Amp-Retry-After", k->amp_retry_after, sizeof(k->amp_retry_after));
        keep_value(line, len, "Retry-After", k->retry_after, sizeof(k->retry_after));
        keep_value(line, len, "X-Amp-Retryable", k->retryable, sizeof(k->retryable));
    }
}

/* Deliver as libcurl would have without us: the application's header
 * callback, else its write callback (or fwrite) when it gave HEADERDATA. */
static inline size_t deliver(struct amp_handle *hs, char *buf, size_t size, size_t n)
{
    if (hs->app.header_fn)
        return hs->app.header_fn(buf, size, n, hs->app.header_data);
    if (hs->app.header_data)
        return hs->app.write_fn ? hs->app.write_fn(buf, size, n, hs->app.header_data)
                                : fwrite(buf, size, n, hs->app.header_data);
    return size * n;
}

/* Whether a line starting with c can matter outside a 429: a status line
 * (the next response, after a 1xx, a redirect or a CONNECT), Set-Cookie
 * (cookies.c) or Location (the redirect guard). Any case. */
static inline int may_matter(char c)
{
    c |= 0x20;
    return c == 'h' || c == 's' || c == 'l';
}

/* Whether nothing of the rest of a 2xx response (its status line just
 * read) can matter here, so that its lines go to the application as they
 * come (watch.done): no further response can follow a 2xx on a plain
 * relay (no CONNECT: NOPROXY "*"; a 1xx, a redirect, an authentication
 * or expectation retry are no 2xx), and no Set-Cookie line can matter,
 * libcurl's cookie engine being off (cookies.c: no engine the application
 * turned on, none seen holding cookies, no share handle that may hold
 * one). */
static int nothing_more(const struct amp_handle *hs)
{
    return hs->watch.status / 100 == 2 && (hs->xfer.mode & AMP_MODE_PLAIN) &&
           !hs->app.cookie_engine && !hs->cookies.seen && !hs->app.share;
}

/* Every line but the common one (below): a status line, Set-Cookie,
 * Location, a 429's lines, several lines at once. Apart, so that the
 * common line pays for none of its registers. */
static __attribute__((noinline)) size_t watch_lines(struct amp_handle *hs, char *buf, size_t size,
                                                    size_t n)
{
    size_t len = size * n, rc;

    /* Outside a 429 only a new response's status line (after a 1xx or a
     * redirect), Set-Cookie and a guarded 3xx's Location matter. */
    for (const char *line = buf, *end = buf + len; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t l = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        if (line[0] == 'H' && l > 5 && memcmp(line, "HTTP/", 5) == 0) {
            struct amp_watch *w = &hs->watch;
            /* A second response in this transfer: its final status is
             * asked of libcurl at the end (a CONNECT's 200 is none). */
            w->several |= w->status != 0;
            w->status = status_of(line, l);
            w->route = hs->guard.cur_route;
            w->quiet = w->status != 429;
            w->recorded = 0;
            amp_ratelimit_kept_forget(w);
            w->done = nothing_more(hs);
        } else if ((line[0] == 'S' || line[0] == 's') && l > 11 && hs->watch.route &&
                   strncasecmp(line, "Set-Cookie:", 11) == 0) {
            /* libcurl has filed it under the proxy's host: the provider's it is. */
            amp_cookies_answer(hs, hs->watch.route, line + 11, l - 11);
        } else if (hs->watch.status == 429) {
            watch_429_line(hs, line, l);
        } else if (hs->watch.status / 100 == 3 && (hs->xfer.mode & AMP_MODE_GUARD) && l > 9 &&
                   strncasecmp(line, "location:", 9) == 0) {
            amp_redirect_location(hs, line + 9, l - 9);
        }
        line += l;
    }
    rc = deliver(hs, buf, size, n);
    /* The application stops the transfer inside the headers of a 429: what
     * arrived so far is all there will be. */
    if (rc != len && rc != CURL_WRITEFUNC_PAUSE)
        record_once(hs);
    return rc;
}

/* The callback's own arguments in their own registers (hs last): the
 * common line's tail call below moves none. */
static __attribute__((noinline)) size_t watch_header(char *buf, size_t size, size_t n,
                                                     struct amp_handle *hs)
{
    size_t len = size * n;

    if (hs->watch.done)
        return deliver(hs, buf, size, n);
    amp_transfer_started(hs);
    /* The common line: one of a response that is no 429, which can matter
     * to nothing here, handed on at once (a real provider sends 20 and
     * more a response: every instruction here counts that many times).
     * Alone in the call, that is: after the application paused, libcurl
     * hands over what it held back in one piece, looked at line by line. */
    if (hs->watch.quiet && len && !may_matter(buf[0]) && !memchr(buf, '\n', len - 1))
        return deliver(hs, buf, size, n);
    return watch_lines(hs, buf, size, n);
}

size_t amp_ratelimit_watch_header(char *buf, size_t size, size_t n, void *userdata)
{
    struct amp_handle *hs = userdata;

    /* The rest of a 2xx response on a plain relay, where nothing can
     * matter (nothing_more), to the application's header callback: a
     * tail call, without a frame (the rest pays for watch_header's). Handing
     * those lines to libcurl instead, the application's callback put back
     * and ours again for the next transfer, cost four setopts, some 450
     * instructions a transfer. */
    if (hs->watch.done && hs->app.header_fn)
        return hs->app.header_fn(buf, size, n, hs->app.header_data);
    return watch_header(buf, size, n, hs);
}

int amp_ratelimit_lean_ok(const struct amp_handle *hs)
{
    return !hs->app.header_fn && !hs->app.header_data && !hs->app.include_header &&
           hs->c->easy_header && !hs->app.cookie_engine && !hs->cookies.seen && !hs->app.share;
}

/* libcurl asked for the status as the body comes: the one of the response
 * whose body it is (libcurl writes no body of a response it will replace,
 * an authentication or expectation retry: it ignores that one). Asked at
 * the first piece of the body: a lean transfer follows no redirect, so
 * every later piece is of the same response. Apart, with the frame its
 * call needs (and the pieces written with fwrite), the callback's
 * arguments in their order. */
static __attribute__((noinline)) size_t body_piece(char *buf, size_t size, size_t n,
                                                   struct amp_handle *hs)
{
    if (!hs->watch.status) {
        long status = 0;
        hs->c->easy_getinfo(hs->easy, CURLINFO_RESPONSE_CODE, &status);
        hs->watch.status = (int)status;
        /* Before the application sees it: it may never let the transfer
         * end (a long-jump out of this very callback). */
        if (status == 429)
            record_once(hs);
    }
    if (hs->app.write_fn)
        return hs->app.write_fn(buf, size, n, hs->app.write_data);
    return fwrite(buf, size, n, hs->app.write_data);
}

size_t amp_ratelimit_watch_body(char *buf, size_t size, size_t n, void *userdata)
{
    struct amp_handle *hs = userdata;

    /* A piece after the first, to the application's callback: a tail
     * call without a frame (a large body comes in many). */
    if (hs->watch.status && hs->app.write_fn)
        return hs->app.write_fn(buf, size, n, hs->app.write_data);
    return body_piece(buf, size, n, hs);
}

void amp_ratelimit_kept_clear(struct amp_watch_kept *k)
{
    k->amp_retry_after[0] = k->retry_after[0] = k->retryable[0] = '\0';
}

void amp_ratelimit_free(struct amp_handle *hs)
{
    free(hs->watch.kept);
}

void amp_ratelimit_transfer_ended(struct amp_handle *hs)
{
    long status = 0;

    /* A lean transfer's 429 with no body (lean when it began: its status
     * line seen by no header callback of ours): its status asked now. */
    if (hs->xfer.lean && !hs->watch.status &&
        hs->c->easy_getinfo(hs->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        hs->watch.status = (int)status;

    /* A 429 whose end of headers was never seen on its own line. */
    record_once(hs);
    /* The answer counted: libcurl's RESPONSE_CODE, the final response's
     * (a CONNECT's "200 Connection established" is not one). The one
     * status line of a transfer to a plain-http relay (NOPROXY "*": no
     * CONNECT) is it, as read by the watch, which spares asking; any other
     * case, or a status the watch did not read, is asked. */
    int one = !hs->watch.several && (hs->xfer.mode & AMP_MODE_PLAIN) && hs->watch.status >= 200;
    hs->watch.several = 0;
    if (one)
        status = hs->watch.status;
    if (hs->guard.cur_route &&
        (one || (hs->c->easy_getinfo(hs->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
                 status >= 200)))
        amp_tally_answer(hs->guard.cur_route == hs->decision.route ? hs->decision.tally
                                                                    : amp_tally_of(hs->guard.cur_route),
                         (int)status, hs->xfer.now);
}

/* v, or NULL when it is nothing but blanks (libcurl hands an empty value
 * over as its line's bare CR). */
static const char *value_or_null(const char *v)
{
    return v && v[strspn(v, " \t\r\n")] ? v : NULL;
}

static const char *header_value(const struct amp_curl *c, CURL *easy, const char *name)
{
    struct curl_header *h = NULL;

    /* libcurl before 7.84 keeps none: what our header callback read stands. */
    if (!c->easy_header || c->easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
        return NULL;
    return value_or_null(h->value);
}

/* v as a message shows it: at most len - 1 bytes, control bytes as '?'
 * (a proxy's header value goes to the host's stderr). */
static void shown(const char *v, char *out, size_t len)
{
    size_t n = 0;

    for (; v[n] && n + 1 < len; n++)
        out[n] = (unsigned char)v[n] < 0x20 || v[n] == 0x7f ? '?' : v[n];
    out[n] = '\0';
}

/* A 429 from the proxy blocks the route of the transfer's request now
 * (hs->guard.cur_route): the retry time from the response's headers. */
static void amp_ratelimit_record(const struct amp_config *cfg, struct amp_handle *hs)
{
    const struct amp_watch *watch = &hs->watch;
    const struct amp_curl *c = hs->c;
    const char *amp_after, *after, *retryable, *source = NULL;
    struct amp_block b;

    if (!cfg || !hs->guard.cur_route)
        return;
    /* libcurl's store first (a lean transfer has no watch), else what our
     * header callback read (see watch_429_line). */
    const struct amp_watch_kept *k = watch->kept;
    amp_after = header_value(c, hs->easy, "X-Amp-Retry-After");
    after = header_value(c, hs->easy, "Retry-After");
    retryable = header_value(c, hs->easy, "X-Amp-Retryable");
    if (k) {
        amp_after = amp_after ? amp_after : value_or_null(k->amp_retry_after);
        after = after ? after : value_or_null(k->retry_after);
        retryable = retryable ? retryable : value_or_null(k->retryable);
    }
    const struct amp_route *r = hs->guard.cur_route;
    int64_t now = now_utc();
    memset(&b, 0, sizeof(b));
    b.key = r->key;
    b.recorded_at = now;
    snprintf(b.proxy, sizeof(b.proxy), "%s", cfg->proxy_url);
    snprintf(b.project, sizeof(b.project), "%s", cfg->project_id);
    snprintf(b.id, sizeof(b.id), "%s", r->installation_id ? r->installation_id : r->integration_name);
    snprintf(b.group, sizeof(b.group), "%s", r->installation_id ? "" : r->group_ref);
    snprintf(b.route, sizeof(b.route), "%s", r->base_url); /* `ampshim state` names it */
    if (amp_block_parse_retry(c, amp_after, after, now, &b.retry_at, &source) == 0) {
        snprintf(b.reason, sizeof(b.reason), "HTTP 429 with %s", source);
    } else {
        b.retry_at = now + cfg->throttle.default_backoff;
        b.flags |= AMP_BLOCK_GUESSED;
        snprintf(b.reason, sizeof(b.reason), "HTTP 429 without a usable retry time (held %lds)",
                 cfg->throttle.default_backoff);
    }
    if (!amp_block_retryable(retryable)) {
        b.flags |= AMP_BLOCK_LOCKED;
        b.hold_until = cfg->throttle.lockout_hold ? now + cfg->throttle.lockout_hold : 0;
    }
    char until[40], guessed[256] = "", value[65] = "";
    amp_block_utc(b.retry_at, until, sizeof(until));
    if (amp_after)
        shown(amp_after, value, sizeof(value));
    if (b.flags & AMP_BLOCK_GUESSED)
        snprintf(guessed, sizeof(guessed), " (%s%s%s%s: held for throttle.default_backoff = %lds)",
                 !amp_after                                   ? "no retry time"
                 : c->getdate(amp_after, NULL) == (time_t)-1 ? "an unparsable X-Amp-Retry-After"
                                                              : "an X-Amp-Retry-After more than a year ahead",
                 amp_after ? " '" : "", value, amp_after ? "'" : "", cfg->throttle.default_backoff);
    /* The one line of this block (several transfers answered 429 together
     * record the same one). */
    amp_log(first_sight(&b) ? AMP_LOG_WARN : AMP_LOG_INFO, "route %s (%s) answered 429: %s until %s%s",
            r->base_url, r->ident,
            (b.flags & AMP_BLOCK_LOCKED) ? "locked out (X-Amp-Retryable: false)" : "blocked", until,
            guessed);
    if (amp_state_record(get_state(cfg), &b) < 0)
        amp_error("could not record the rate limit of route %s", r->base_url);
}
