/* The table of tracked options (src/options.c), driven row by row through
 * a recording libcurl: for every mode a transfer can be in, giving back
 * undoes what was put, whatever the application had set; a handle that
 * already carries what a mode needs is set nothing; and an option the
 * application sets while ours are on is put again. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbacks.h"
#include "config.h"
#include "options.h"
#include "transfer.h"

/* libcurl's state as the recording setopt leaves it, by option id. */
#define IDS 50000
static union amp_optval held[IDS];
static int calls;

static CURLcode rec_setopt(CURL *e, CURLoption option, ...)
{
    va_list ap;

    (void)e;
    va_start(ap, option);
    if (option < CURLOPTTYPE_OBJECTPOINT)
        held[option].l = va_arg(ap, long);
    else if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB)
        held[option].p = va_arg(ap, void *);
    else
        held[option].f = va_arg(ap, void (*)(void));
    va_end(ap);
    calls++;
    return CURLE_OK;
}

static const struct amp_curl recording = { .name = "recording", .easy_setopt = rec_setopt,
                                           .slist_append = curl_slist_append,
                                           .slist_free_all = curl_slist_free_all };

static struct amp_handle *new_handle(void)
{
    struct amp_handle *hs = calloc(1, sizeof(*hs));

    hs->easy = (CURL *)hs;
    hs->c = &recording;
    amp_options_init(hs);
    hs->answer.fd = hs->answer.listen_fd = AMP_OWNFD_NONE;
    hs->opts.url = "http://127.0.0.1:9/proxy";
    hs->opts.headers = (struct curl_slist *)&calls;
    return hs;
}

static void app_function(void)
{
}

static char app_object[16];

/* The application sets every tracked option to a value of its own (not
 * libcurl's default), through libcurl and then noted, as the hook does. */
static void app_sets_everything(struct amp_handle *hs)
{
    const struct curl_easyoption *o = NULL;

    while ((o = curl_easy_option_next(o))) {
        int row = amp_option_row(o->id);
        union amp_optval v = { 0 };
        if (row < 0 || (o->flags & CURLOT_FLAG_ALIAS))
            continue;
        if (o->type == CURLOT_LONG || o->type == CURLOT_VALUES)
            v.l = 7;
        else if (o->type == CURLOT_STRING)
            v.p = "app-string";
        else if (o->type == CURLOT_FUNCTION)
            v.f = app_function;
        else
            v.p = app_object;
        if (o->id < CURLOPTTYPE_OBJECTPOINT)
            rec_setopt(hs->easy, o->id, v.l);
        else if (o->id < CURLOPTTYPE_FUNCTIONPOINT)
            rec_setopt(hs->easy, o->id, v.p);
        else
            rec_setopt(hs->easy, o->id, v.f);
        assert_int_equal(amp_option_note(hs, row, v), 0);
    }
}

static int tracked_ids(CURLoption *ids)
{
    const struct curl_easyoption *o = NULL;
    int n = 0;

    while ((o = curl_easy_option_next(o)))
        if (!(o->flags & CURLOT_FLAG_ALIAS) && amp_option_row(o->id) >= 0)
            ids[n++] = o->id;
    return n;
}

/* libcurl copies strings: those compare by content. */
static int same_value(CURLoption id, union amp_optval a, union amp_optval b)
{
    const struct curl_easyoption *o = curl_easy_option_by_id(id);

    if (o->type == CURLOT_STRING)
        return a.p == b.p || (a.p && b.p && strcmp(a.p, b.p) == 0);
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static void give_back_undoes_put(int app_values)
{
    CURLoption ids[AMP_OPTION_ROWS];
    int n = tracked_ids(ids);

    assert_true(n >= 40);
    for (unsigned mode = 0; mode < AMP_MODES; mode++) {
        struct amp_handle *hs = new_handle();
        memset(held, 0, sizeof(held));
        held[CURLOPT_WRITEDATA].p = stdout; /* libcurl's default */
        if (app_values)
            app_sets_everything(hs);
        union amp_optval before[AMP_OPTION_ROWS];
        for (int i = 0; i < n; i++)
            before[i] = held[ids[i]];
        assert_int_equal(amp_options_sync(hs, mode), 0);
        if (mode & AMP_MODE_ROUTED)
            assert_ptr_equal(held[CURLOPT_URL].p, hs->opts.url);
        if (mode & AMP_MODE_SEND) {
            assert_ptr_equal(held[CURLOPT_HTTPHEADER].p, hs->opts.headers);
            /* Lean: the response watched from the body's callback, not the headers'. */
            assert_ptr_equal(held[(mode & AMP_MODE_LEAN) ? CURLOPT_WRITEDATA : CURLOPT_HEADERDATA].p,
                             hs);
            assert_null(held[CURLOPT_CONNECT_TO].p);
            assert_int_equal(held[CURLOPT_HAPROXYPROTOCOL].l, 0);
            if (app_values) { /* the application's -k, set aside */
                assert_int_equal(held[CURLOPT_SSL_VERIFYPEER].l, 1);
                assert_int_equal(held[CURLOPT_SSL_VERIFYHOST].l, 2);
            }
        }
        amp_options_sync(hs, 0);
        for (int i = 0; i < n; i++)
            if (!same_value(ids[i], before[i], held[ids[i]]))
                fail_msg("mode %#x: option %d not given back (app values: %d)", mode, ids[i],
                         app_values);
        assert_int_equal(hs->opts.on, 0);
        amp_options_give_back_all(hs);
        amp_handle_free(hs);
    }
}

static void give_back_undoes_put_over_app_values(void **state)
{
    (void)state;
    give_back_undoes_put(1);
}

static void give_back_undoes_put_over_defaults(void **state)
{
    (void)state;
    give_back_undoes_put(0);
}

/* Between two transfers in the same mode nothing is set; an option the
 * application sets in between is put again, and only that one. */
static void ours_stay_on_the_handle(void **state)
{
    (void)state;
    struct amp_handle *hs = new_handle();
    unsigned mode = AMP_MODE_SEND | AMP_MODE_PLAIN | AMP_MODE_GUARD | AMP_MODE_TRACE;

    memset(held, 0, sizeof(held));
    amp_options_sync(hs, mode);
    assert_true(calls > 0);
    calls = 0;
    amp_options_sync(hs, mode);
    assert_int_equal(calls, 0);
    rec_setopt(hs->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    amp_option_note(hs, amp_option_row(CURLOPT_SSL_VERIFYPEER), (union amp_optval){ .l = 1 });
    rec_setopt(hs->easy, CURLOPT_NOPROXY, "app");
    amp_option_note(hs, amp_option_row(CURLOPT_NOPROXY), (union amp_optval){ .p = "app" });
    calls = 0;
    amp_options_sync(hs, mode);
    assert_int_equal(calls, 1); /* NOPROXY "*" again; VERIFYPEER 1 is the application's too */
    assert_string_equal(held[CURLOPT_NOPROXY].p, "*");
    /* An option ours set aside only when the application set it, set
     * now, between two transfers in the same mode: set aside at once. */
    rec_setopt(hs->easy, CURLOPT_PORT, 4242L);
    amp_option_note(hs, amp_option_row(CURLOPT_PORT), (union amp_optval){ .l = 4242 });
    calls = 0;
    amp_options_sync(hs, mode);
    assert_int_equal(calls, 1);
    assert_int_equal(held[CURLOPT_PORT].l, 0);
    /* A new proxy URL in the same buffer: put again. */
    amp_options_stale(hs, CURLOPT_URL);
    calls = 0;
    amp_options_sync(hs, mode);
    assert_int_equal(calls, 1);
    amp_options_sync(hs, 0);
    assert_string_equal(held[CURLOPT_NOPROXY].p, "app");
    amp_handle_free(hs);
}

/* The modes a transfer can be under way in (transfer.c, redirect.c). */
static const unsigned under_way[] = {
    AMP_MODE_SEND, AMP_MODE_SEND | AMP_MODE_PLAIN,
    AMP_MODE_SEND | AMP_MODE_GUARD, AMP_MODE_SEND | AMP_MODE_PLAIN | AMP_MODE_GUARD,
    AMP_MODE_SEND | AMP_MODE_TRACE, AMP_MODE_SEND | AMP_MODE_PLAIN | AMP_MODE_TRACE,
    AMP_MODE_SEND | AMP_MODE_GUARD | AMP_MODE_TRACE,
    AMP_MODE_SEND | AMP_MODE_PLAIN | AMP_MODE_GUARD | AMP_MODE_TRACE,
    AMP_MODE_AWAY | AMP_MODE_GUARD, AMP_MODE_AWAY | AMP_MODE_GUARD | AMP_MODE_TRACE,
    AMP_MODE_AWAY | AMP_MODE_GUARD | AMP_MODE_HELD,
    AMP_MODE_ANSWER, AMP_MODE_ANSWER | AMP_MODE_TRACE, AMP_MODE_NOWHERE,
};

/* What each reader of the application's values needs, said here apart
 * from the table: the redirect guard is on whenever a transfer sent to the
 * proxy follows redirects, the trace mask whenever output is verbose. */
static unsigned needed(unsigned was, const struct amp_handle *hs)
{
    unsigned trace = hs->app.verbose ? AMP_MODE_TRACE : 0;

    if (was & AMP_MODE_SEND)
        return AMP_MODE_SEND | (was & AMP_MODE_PLAIN) | (hs->app.follow ? AMP_MODE_GUARD : 0) | trace;
    if (was & AMP_MODE_AWAY)
        return AMP_MODE_AWAY | AMP_MODE_GUARD | trace | (was & AMP_MODE_HELD);
    if (was & AMP_MODE_ANSWER)
        return AMP_MODE_ANSWER | trace;
    return was;
}

static void app_sets(struct amp_handle *hs, CURLoption id, union amp_optval v)
{
    if (id < CURLOPTTYPE_OBJECTPOINT)
        rec_setopt(hs->easy, id, v.l);
    else if (id < CURLOPTTYPE_FUNCTIONPOINT)
        rec_setopt(hs->easy, id, v.p);
    else
        rec_setopt(hs->easy, id, v.f);
    assert_int_equal(amp_option_note(hs, amp_option_row(id), v), 0);
}

/* The HTTP version the application asked for, on each hop: our answer
 * and a plain-http relay in HTTP/1.1 at most (HTTP/1.0 kept on the relay),
 * an https proxy and an unrouted transfer as the application asked; and
 * the application's value again after. No PROXY line on a routed hop. */
static void http_version_on_each_hop(void **state)
{
    (void)state;
    static const long asked[] = { CURL_HTTP_VERSION_NONE, CURL_HTTP_VERSION_1_0,
                                  CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2_0,
                                  CURL_HTTP_VERSION_2TLS, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
                                  CURL_HTTP_VERSION_3, 31 /* CURL_HTTP_VERSION_3ONLY */ };
    static const unsigned modes[] = { 0, AMP_MODE_SEND, AMP_MODE_SEND | AMP_MODE_PLAIN,
                                      AMP_MODE_SEND | AMP_MODE_PLAIN | AMP_MODE_FRESH,
                                      AMP_MODE_ANSWER, AMP_MODE_AWAY | AMP_MODE_GUARD };
    for (size_t a = 0; a < sizeof(asked) / sizeof(asked[0]); a++)
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            struct amp_handle *hs = new_handle();
            long want = asked[a];
            memset(held, 0, sizeof(held));
            app_sets(hs, CURLOPT_HTTP_VERSION, (union amp_optval){ .l = asked[a] });
            app_sets(hs, CURLOPT_HAPROXYPROTOCOL, (union amp_optval){ .l = 1 });
            assert_int_equal(amp_options_sync(hs, modes[m]), 0);
            if (modes[m] & AMP_MODE_ANSWER)
                want = CURL_HTTP_VERSION_1_1;
            else if ((modes[m] & AMP_MODE_PLAIN) && want > CURL_HTTP_VERSION_1_1)
                want = CURL_HTTP_VERSION_1_1;
            if (held[CURLOPT_HTTP_VERSION].l != want)
                fail_msg("mode %#x, asked %ld: %ld", modes[m], asked[a], held[CURLOPT_HTTP_VERSION].l);
            assert_int_equal(held[CURLOPT_HAPROXYPROTOCOL].l, (modes[m] & AMP_MODE_ROUTED) ? 0 : 1);
            amp_options_sync(hs, 0);
            assert_int_equal(held[CURLOPT_HTTP_VERSION].l, asked[a]);
            assert_int_equal(held[CURLOPT_HAPROXYPROTOCOL].l, 1);
            amp_handle_free(hs);
        }
}

/* libcurl 8.2 and later turn the PROXY line on with a client IP for it
 * (CURLOPT_HAPROXY_CLIENT_IP, whatever its value; the recording libcurl
 * does it here): a routed hop goes without the line all the same, and the
 * application's own transfers with it again after. */
static void haproxy_client_ip_turns_the_line_on(void **state)
{
    (void)state;
    static const unsigned modes[] = { AMP_MODE_SEND, AMP_MODE_SEND | AMP_MODE_PLAIN, AMP_MODE_ANSWER };
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        struct amp_handle *hs = new_handle();
        union amp_optval v = { .p = (void *)"192.0.2.1" };
        memset(held, 0, sizeof(held));
        rec_setopt(hs->easy, AMP_CURLOPT_HAPROXY_CLIENT_IP, v.p);
        held[CURLOPT_HAPROXYPROTOCOL].l = 1; /* as libcurl's setopt.c does */
        int row = amp_option_noted_row(AMP_CURLOPT_HAPROXY_CLIENT_IP, &v);
        assert_true(row >= 0);
        assert_int_equal(amp_option_note(hs, row, v), 0);
        assert_int_equal(amp_options_sync(hs, modes[m]), 0);
        if (held[CURLOPT_HAPROXYPROTOCOL].l != 0)
            fail_msg("mode %#x: the PROXY line stays on the routed hop", modes[m]);
        assert_int_equal(amp_options_sync(hs, 0), 0);
        assert_int_equal(held[CURLOPT_HAPROXYPROTOCOL].l, 1);
        /* No client IP (NULL) turns the line off: it stays off after a
         * routed hop too. */
        v.p = NULL;
        rec_setopt(hs->easy, AMP_CURLOPT_HAPROXY_CLIENT_IP, v.p);
        held[CURLOPT_HAPROXYPROTOCOL].l = 0;
        row = amp_option_noted_row(AMP_CURLOPT_HAPROXY_CLIENT_IP, &v);
        assert_int_equal(amp_option_note(hs, row, v), 0);
        assert_int_equal(amp_options_sync(hs, modes[m]), 0);
        assert_int_equal(amp_options_sync(hs, 0), 0);
        if (held[CURLOPT_HAPROXYPROTOCOL].l != 0)
            fail_msg("mode %#x: the PROXY line the application turned off is on again", modes[m]);
        amp_handle_free(hs);
    }
}

/* Issue 15's rule, as a property of the table: whichever row the
 * application sets while a transfer is under way (queued in a multi
 * handle, running, or ended and not yet read), in whichever mode, libcurl
 * then holds exactly what the mode its values now ask for needs: ours on
 * every row that mode puts, the application's everywhere else. A row that
 * a reader depends on but that leads to no new decision fails here. */
static void a_change_under_way_is_followed(void **state)
{
    (void)state;
    static const struct amp_header project = { .name = "x-amp-project-id", .value = "p", .line = "x-amp-project-id: p" };
    static const struct amp_header *const lines[] = { &project };
    static struct amp_route route = { .headers = lines, .nheaders = 1 };
    struct amp_config cfg = { .proxy_url = "http://127.0.0.1:9" };
    struct curl_slist *list = curl_slist_append(NULL, "other.example:443:127.0.0.1");
    CURLoption ids[AMP_OPTION_ROWS];
    int n = tracked_ids(ids), checked = 0;

    for (size_t m = 0; m < sizeof(under_way) / sizeof(under_way[0]); m++) {
        for (int i = 0; i < n; i++) {
            int row = amp_option_row(ids[i]);
            const struct curl_easyoption *o = curl_easy_option_by_id(ids[i]);
            if (amp_option_change(row) == AMP_CHANGE_ROUTE)
                continue;
            for (int turn_off = 0; turn_off < 2; turn_off++) {
                struct amp_handle *hs = new_handle();
                unsigned was = under_way[m];
                memset(held, 0, sizeof(held));
                cfg.proxy_plain_http = (was & AMP_MODE_PLAIN) != 0;
                hs->cfg = &cfg;
                hs->decision.route = &route;
                hs->decision.url = "https://api.example/x";
                /* The application's values agree with the mode it began in. */
                app_sets(hs, CURLOPT_FOLLOWLOCATION, (union amp_optval){ .l = (was & AMP_MODE_GUARD) != 0 });
                app_sets(hs, CURLOPT_VERBOSE, (union amp_optval){ .l = (was & AMP_MODE_TRACE) != 0 });
                hs->xfer.active = hs->xfer.started = 1;
                hs->xfer.multi = (CURLM *)hs;
                hs->xfer.mode = was;
                assert_int_equal(amp_options_sync(hs, was), 0);

                union amp_optval v = { 0 };
                if (turn_off)
                    v = (union amp_optval){ 0 }; /* libcurl's default for most rows */
                else if (o->type == CURLOT_LONG || o->type == CURLOT_VALUES)
                    v.l = 1;
                else if (o->type == CURLOT_STRING)
                    v.p = "app-string";
                else if (o->type == CURLOT_FUNCTION)
                    v.f = app_function;
                else if (o->type == CURLOT_SLIST)
                    v.p = list;
                else
                    v.p = app_object;
                app_sets(hs, ids[i], v);
                assert_int_equal(amp_transfer_option_set(hs, row), 0);

                unsigned want = needed(was, hs);
                if (hs->xfer.mode != want)
                    fail_msg("mode %#x, %s set: mode %#x, needs %#x", was, o->name, hs->xfer.mode, want);
                /* Nothing left to put: a full look at every row sets nothing. */
                calls = 0;
                hs->opts.dirty = 1;
                assert_int_equal(amp_options_sync(hs, want), 0);
                if (calls)
                    fail_msg("mode %#x, %s set: %d options not yet as mode %#x needs", was, o->name,
                             calls, want);
                amp_handle_free(hs);
                checked++;
            }
        }
    }
    assert_true(checked > 500);
    curl_slist_free_all(list);
}

/* A new URL leads to a new decision only where libcurl will still read
 * it: a multi transfer not yet started. */
static void a_new_url_routes_again_only_before_the_start(void **state)
{
    (void)state;
    static const struct amp_header project = { .name = "x-amp-project-id", .value = "p", .line = "x-amp-project-id: p" };
    static const struct amp_header *const lines[] = { &project };
    static struct amp_route route = { .headers = lines, .nheaders = 1 };
    struct amp_config cfg = { .proxy_url = "http://127.0.0.1:9" };
    struct amp_handle *hs = new_handle();
    int url = amp_option_row(CURLOPT_URL), curlu = amp_option_row(CURLOPT_CURLU);

    hs->cfg = &cfg;
    hs->decision.route = &route;

    assert_int_equal(amp_option_change(url), AMP_CHANGE_ROUTE);
    assert_int_equal(amp_option_change(curlu), AMP_CHANGE_ROUTE);
    assert_int_equal(amp_option_change(amp_option_row(CURLOPT_HTTPHEADER)), AMP_CHANGE_HEADERS);
    assert_int_equal(amp_option_change(amp_option_row(CURLOPT_STDERR)), AMP_CHANGE_NONE);
    /* None for libcurl while a refused call goes nowhere: the application's holds our message. */
    assert_int_equal(amp_option_change(amp_option_row(CURLOPT_ERRORBUFFER)), AMP_CHANGE_MODE);
    /* Ours in a lean transfer (ratelimit.h): a new one is put back at once. */
    assert_int_equal(amp_option_change(amp_option_row(CURLOPT_WRITEFUNCTION)), AMP_CHANGE_MODE);
    assert_int_equal(amp_transfer_option_set(hs, url), 0); /* no transfer */
    hs->xfer.active = 1;
    hs->xfer.mode = AMP_MODE_SEND;
    memset(held, 0, sizeof(held));
    amp_options_sync(hs, AMP_MODE_SEND);
    /* Performed: libcurl has read it; ours stays there, put back at once. */
    rec_setopt(hs->easy, CURLOPT_URL, "https://elsewhere.example/");
    amp_option_note(hs, url, (union amp_optval){ .p = "https://elsewhere.example/" });
    assert_int_equal(amp_transfer_option_set(hs, url), 0);
    assert_ptr_equal(held[CURLOPT_URL].p, hs->opts.url);
    hs->xfer.multi = (CURLM *)hs;
    assert_int_equal(amp_transfer_option_set(hs, url), 1);
    assert_int_equal(amp_transfer_option_set(hs, curlu), 1);
    hs->xfer.started = 1;
    assert_int_equal(amp_transfer_option_set(hs, url), 0);
    amp_handle_free(hs);
}

/* Verbose output: libcurl hands the request to the debug callback in
 * pieces of its upload buffer, and the key may straddle two (with a TLS
 * record's between them). Every split point gives the same text as one
 * piece would: the key masked but for its last 4 characters, nothing of it
 * in the clear. */
static char seen[256];
static size_t nseen;

static int capture(CURL *e, curl_infotype type, char *data, size_t size, void *userp)
{
    (void)e;
    (void)userp;
    if (type != CURLINFO_HEADER_OUT)
        return 0;
    assert_true(nseen + size < sizeof(seen));
    memcpy(seen + nseen, data, size);
    nseen += size;
    return 0;
}

static void key_masked_across_two_pieces(void **state)
{
    char key[] = "amp-test-key-7f3a9c2e41d8";
    const char text[] = "GET /x HTTP/1.1\r\nx-api-key: amp-test-key-7f3a9c2e41d8\r\nAccept: */*\r\n\r\n";
    const char want[] = "GET /x HTTP/1.1\r\nx-api-key: *********************41d8\r\nAccept: */*\r\n\r\n";
    struct amp_config cfg = { .api_key = key };
    struct amp_handle hs = { 0 };
    char piece[sizeof(text)], tls[] = { 0x17, 0x03, 0x03 };
    size_t len = sizeof(text) - 1;

    (void)state;
    hs.cfg = &cfg;
    hs.app.debug_fn = capture;
    for (size_t cut = 0; cut <= len; cut++) {
        nseen = 0;
        memcpy(piece, text, cut);
        amp_trace_debug(NULL, CURLINFO_HEADER_OUT, piece, cut, &hs);
        amp_trace_debug(NULL, CURLINFO_SSL_DATA_OUT, tls, sizeof(tls), &hs);
        memcpy(piece, text + cut, len - cut);
        amp_trace_debug(NULL, CURLINFO_HEADER_OUT, piece, len - cut, &hs);
        assert_int_equal(nseen, len);
        if (memcmp(seen, want, len) != 0)
            fail_msg("cut at %zu: %.*s", cut, (int)len, seen);
    }
}

/* amp_option_row's array look: each tracked option of libcurl's its own row,
 * the first row CURLOPT_URL's, and numbers that are no option none. */
static void rows_found_by_number(void **state)
{
    (void)state;
    const struct curl_easyoption *o = NULL;
    int seen[AMP_OPTION_ROWS] = { 0 }, n = 0;

    while ((o = curl_easy_option_next(o))) {
        int row = amp_option_row(o->id);
        if (row < 0 || (o->flags & CURLOT_FLAG_ALIAS))
            continue;
        assert_true(row < AMP_OPTION_ROWS);
        if (seen[row]++)
            fail_msg("%s shares row %d with another option", o->name, row);
        n++;
    }
    assert_true(n > 30);
    assert_int_equal(amp_option_row(CURLOPT_URL), 0);
    static const long none[] = { 0, -1, -10000, 9999, 10000 + 511, 10000 + 512, 49999, 50000,
                                 50002, 2147483647 };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        assert_int_equal(amp_option_row((CURLoption)none[i]), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(give_back_undoes_put_over_app_values),
        cmocka_unit_test(give_back_undoes_put_over_defaults),
        cmocka_unit_test(ours_stay_on_the_handle),
        cmocka_unit_test(http_version_on_each_hop),
        cmocka_unit_test(haproxy_client_ip_turns_the_line_on),
        cmocka_unit_test(a_change_under_way_is_followed),
        cmocka_unit_test(a_new_url_routes_again_only_before_the_start),
        cmocka_unit_test(key_masked_across_two_pieces),
        cmocka_unit_test(rows_found_by_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
