"""Options an application sets on a routed transfer after it was added to a
multi handle (or from inside it, or after it has ended but before its
message is read), and redirects that leave the proxy: whatever the
application changes, ours never go anywhere but the proxy, the key is never
shown, a finished transfer is never started (or counted) again, and off the
proxy the request goes where it would have gone without ampshim."""

import json
import os
import time

from .harness import (BUILD, KEY, PY, SF, assert_amp_headers, assert_untouched, header_values,
                      http_date, mark_all, ok, one, parse_lines, rl_cfg, stats_of, test)


def sticky(ctx, *steps, cfg=None, env=None):
    return ctx.run([os.path.join(BUILD, "sticky_client"), *steps], cfg=cfg, env=env)


def redirect_to(ctx, location, status=302):
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": status, "headers": {"Location": location}, "body": "moved"})


def no_key_anywhere(ctx, p):
    """The key in nothing a host other than the proxy received, nor on the
    program's output."""
    for server in (ctx.plain, ctx.tls):
        for r in server.requests():
            assert KEY not in json.dumps(r), r
    assert KEY.encode() not in p.stdout and KEY.encode() not in p.stderr, p.stderr


@test
def late_followlocation_keeps_the_key_on_the_proxy(ctx):
    """CURLOPT_FOLLOWLOCATION set after curl_multi_add_handle: the proxy's
    redirect to another host is followed without our headers (C, and
    pycurl's m.add_handle(c); c.setopt(FOLLOWLOCATION))."""
    mark_all(ctx)
    redirect_to(ctx, ctx.plain.url("/third?from=proxy"))
    p = sticky(ctx, "url=" + SF + "/late/follow", "madd", "follow=1", "mrun")
    rows = parse_lines(p.stdout)
    assert rows[0]["rc"] == "0" and rows[0]["status"] == "200", (rows, p.stderr)
    assert [r["target"] for r in ctx.proxy.requests()] == ["/late/follow"]
    landed = one(ctx.plain)
    assert landed["target"] == "/third?from=proxy"
    assert_untouched(landed)
    no_key_anywhere(ctx, p)

    mark_all(ctx)
    redirect_to(ctx, ctx.plain.url("/third?from=pycurl"))
    script = ("import pycurl, io\n"
              "c = pycurl.Curl(); m = pycurl.CurlMulti(); b = io.BytesIO()\n"
              "c.setopt(pycurl.URL, %r); c.setopt(pycurl.WRITEDATA, b)\n"
              "m.add_handle(c); c.setopt(pycurl.FOLLOWLOCATION, True)\n"
              "n = 1\n"
              "while n:\n"
              "    ret, n = m.perform()\n"
              "    m.select(1.0)\n"
              "print(c.getinfo(pycurl.RESPONSE_CODE))\n" % (SF + "/late/pycurl"))
    p = ok(ctx.run([PY, "-c", script]))
    assert p.stdout.strip() == b"200", p.stdout
    landed = one(ctx.plain)
    assert landed["target"] == "/third?from=pycurl"
    assert_untouched(landed)
    no_key_anywhere(ctx, p)


@test
def late_verbose_and_debug_callback_mask_the_key(ctx):
    """CURLOPT_VERBOSE, then a DEBUGFUNCTION, set after curl_multi_add_handle:
    the key is masked in what libcurl prints, and in what the application's
    callback is given; its header callback still gets every line."""
    mark_all(ctx)
    p = sticky(ctx, "url=" + SF + "/late/verbose", "madd", "verbose=1", "mrun")
    assert parse_lines(p.stdout)[0]["rc"] == "0", p.stdout
    assert b"x-api-key: " in p.stderr, p.stderr
    assert KEY.encode() not in p.stderr, p.stderr
    mark_all(ctx)
    p = sticky(ctx, "url=" + SF + "/late/debug", "madd", "verbose=1", "callbacks", "mrun")
    assert parse_lines(p.stdout)[0]["rc"] == "0", p.stdout
    assert b"x-api-key: " in p.stderr, p.stderr
    assert KEY.encode() not in p.stderr, p.stderr
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def late_connection_options_set_aside_again(ctx):
    """The application's CONNECT_TO and PORT set after curl_multi_add_handle
    (they would send the request, and our headers, to another host) are set
    aside as they are before it: the request goes to the proxy."""
    for step in ("connect_to=::127.0.0.1:%d" % ctx.plain.port, "port=%d" % ctx.plain.port):
        mark_all(ctx)
        p = sticky(ctx, "url=" + SF + "/late/conn", "madd", step, "mrun")
        assert parse_lines(p.stdout)[0]["rc"] == "0", (p.stdout, p.stderr)
        assert ctx.plain.requests() == [], step
        assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def finished_transfer_never_started_again(ctx):
    """A multi transfer that has ended, its message not read yet, and the
    application sets its header callback again (R's RCurl does) three times:
    sent once, counted once; a 429 it got is recorded once, and no call is
    'answered here' for it."""
    cfg, _ = rl_cfg(ctx, "late-finished", on_block="respond")
    mark_all(ctx)
    p = ok(sticky(ctx, "url=" + SF + "/late/done", "madd", "mdrive", "callbacks", "callbacks",
                  "callbacks", "mread", cfg=cfg))
    assert parse_lines(p.stdout)[0]["status"] == "200", p.stdout
    assert len(ctx.proxy.requests()) == 1
    sf = stats_of(ctx, cfg)["https://*.my.salesforce.com"]
    assert (sf["routed"], sf["blocked"]) == (1, 0), sf

    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "body": "slow down",
                                "headers": {"X-Amp-Retry-After": http_date(time.time() + 300)}})
    p = ok(sticky(ctx, "url=" + SF + "/late/429", "madd", "mdrive", "callbacks", "callbacks",
                  "mread", cfg=cfg))
    assert parse_lines(p.stdout)[0]["status"] == "429", p.stdout
    assert b"answered here" not in p.stderr, p.stderr
    assert len(ctx.proxy.requests()) == 1
    sf = stats_of(ctx, cfg)["https://*.my.salesforce.com"]
    assert (sf["routed"], sf["blocked"], sf["status_429"]) == (2, 0, 1), sf


@test
def refused_call_error_buffer_read_without_its_message(ctx):
    """A blocked call in a multi handle, taken out without its message read
    (GDAL's multi loop): its error buffer says why, not libcurl's failure on
    the URL a refused call goes to; so does one the application gives it
    after it was added."""
    cfg, _ = rl_cfg(ctx, "late-errbuf")
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "body": "slow down",
                                "headers": {"X-Amp-Retry-After": http_date(time.time() + 300)}})
    ok(sticky(ctx, "url=" + SF + "/late/first", "perform", cfg=cfg))
    mark_all(ctx)
    for late in ((), ("errbuf2",)):
        p = ok(sticky(ctx, "url=" + SF + "/late/blocked", "madd", *late, "mdrive", "mremove", cfg=cfg))
        err = p.stdout.decode()
        assert err.startswith("mremove-1 err=ampshim: route https://*.my.salesforce.com "
                              "(installation inst-sf-1) is rate limited until"), (late, err)
    assert ctx.proxy.requests() == []


@test
def redirect_off_proxy_gets_the_apps_options_back(ctx):
    """A routed transfer the proxy redirects to another host: that request
    finds the application's own RESOLVE and CONNECT_TO (set aside while it
    went to the proxy), for easy and multi, and none of our headers."""
    host = "third.example:%d" % ctx.plain.port
    for how in (("perform",), ("madd", "mrun")):
        for step in ("resolve=%s:127.0.0.1" % host, "connect_to=third.example::127.0.0.1:"):
            mark_all(ctx)
            redirect_to(ctx, "http://%s/landing?%s" % (host, how[0]))
            p = sticky(ctx, "url=" + SF + "/off/1", step, "follow=1", "header=X-App: kept", *how)
            rows = parse_lines(p.stdout)
            assert rows[0]["rc"] == "0" and rows[0]["status"] == "200", (how, step, rows, p.stderr)
            assert [r["target"] for r in ctx.proxy.requests()] == ["/off/1"], (how, step)
            landed = one(ctx.plain)
            assert landed["target"] == "/landing?" + how[0]
            assert_untouched(landed)
            assert header_values(landed, "X-App") == ["kept"], landed["headers"]
            no_key_anywhere(ctx, p)


@test
def off_proxy_unseen_location_then_late_setopt_keeps_the_key(ctx):
    """A redirect off the proxy whose Location ampshim did not see go by (a
    status line with two spaces, which libcurl reads), and options the
    application sets again from its header callback on every response: no
    request after the first leaves the proxy with our headers, not even
    the third host's own redirect onwards (easy and multi)."""
    for how in (("perform",), ("madd", "mrun")):
        mark_all(ctx)
        ctx.proxy.control("reset")
        ctx.proxy.control("queue", {"status": 302, "status_line": "HTTP/1.1 \t302 Found",
                                    "headers": {"Location": ctx.plain.url("/hop1")}, "body": "moved"})
        ctx.plain.control("reset")
        ctx.plain.control("queue", {"status": 302, "status_line": "HTTP/1.1  302 Found",
                                    "headers": {"Location": "/hop2"}, "body": "moved"})
        p = sticky(ctx, "url=" + SF + "/odd/1", "follow=1", "callbacks", "cbset", *how)
        rows = parse_lines(p.stdout)
        assert rows[0]["rc"] == "0" and rows[0]["status"] == "200", (how, rows, p.stderr)
        assert [r["target"] for r in ctx.plain.requests()] == ["/hop1", "/hop2"], how
        for r in ctx.plain.requests():
            assert_untouched(r)
        no_key_anywhere(ctx, p)
    ctx.plain.control("reset")


@test
def reset_after_and_inside_a_routed_transfer(ctx):
    """curl_easy_reset after a routed transfer whose RESOLVE list was set
    again from a callback (libcurl keeps the last list until its next
    transfer starts: never one of ours freed), and curl_easy_reset from the
    write callback of a routed perform: the program goes on, its next
    transfer is its own. (`make asan` and `make valgrind` run these too.)"""
    mark_all(ctx)
    p = ok(sticky(ctx, "url=" + SF + "/reset/1", "resolve=other.example:1:127.0.0.1", "callbacks", "cbset",
                  "perform", "reset", "url=" + ctx.plain.url("/reset/after"), "perform"))
    rows = parse_lines(p.stdout)
    assert [r["status"] for r in rows] == ["200", "200"], (rows, p.stderr)
    assert_untouched(one(ctx.plain))
    mark_all(ctx)
    p = sticky(ctx, "url=" + SF + "/reset/2", "cbreset", "perform", "url=" + ctx.plain.url("/reset/next"),
               "perform")
    assert p.returncode == 0, p
    rows = parse_lines(p.stdout)
    assert rows[-1]["status"] == "200", (rows, p.stderr)
    assert_untouched(one(ctx.plain))


@test
def url_changed_after_the_request_went_keeps_its_route(ctx):
    """A multi transfer whose URL the application changes after its request
    was sent, before the answer (a 429): the answer is the route's that was
    sent, counted and recorded for it, not for the new URL's route."""
    cfg, _ = rl_cfg(ctx, "late-url", on_block="respond")
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "body": "slow down", "delay": 0.5,
                                "headers": {"X-Amp-Retry-After": http_date(time.time() + 300)}})
    p = ok(sticky(ctx, "url=" + SF + "/late/sent", "cburl=https://slack.com/api/late", "madd", "mrun",
                  cfg=cfg))
    assert parse_lines(p.stdout)[0]["status"] == "429", (p.stdout, p.stderr)
    assert [r["target"] for r in ctx.proxy.requests()] == ["/late/sent"]
    got = stats_of(ctx, cfg)
    sf = got["https://*.my.salesforce.com"]
    assert (sf["routed"], sf["status_429"]) == (1, 1), got
    assert "https://slack.com/api" not in got or got["https://slack.com/api"]["routed"] == 0, got
    # The block is Salesforce's: its next call is answered here, Slack's is sent.
    mark_all(ctx)
    p = ok(sticky(ctx, "url=" + SF + "/after", "perform", "url=https://slack.com/api/after", "perform",
                  cfg=cfg))
    assert [r["status"] for r in parse_lines(p.stdout)] == ["429", "200"], p.stdout
    assert [r["target"] for r in ctx.proxy.requests()] == ["/after"]


@test
def url_replaced_under_way_leaves_the_transfer_its_own(ctx):
    """A routed transfer whose URL the application replaces once its request
    went, before the answer, with one to the third host: the answer's cookie
    is the provider's, never sent to the third host by the next transfer,
    and curl_easy_getinfo's URL is one of the two. The decision and the
    cookies of the transfer under way read the application's URL where
    ampshim keeps it: a new URL overwrote it (the cookie was filed for the
    third host) or, longer than its buffer, freed it (use after free)."""
    for path in ("/n", "/" + "x" * 400):
        ctx.proxy.control("reset")
        ctx.proxy.control("queue", {"status": 200, "body": "ok", "delay": 0.3,
                                    "headers": {"Set-Cookie": "sid=provider-session; Path=/"}})
        mark_all(ctx)
        first, other = SF + "/under/way", ctx.plain.url(path)
        p = ok(sticky(ctx, "url=" + first, "cookies", "cburl=" + other, "perform", "perform"))
        rows = parse_lines(p.stdout)
        assert [r["status"] for r in rows] == ["200", "200"], (rows, p.stderr)
        assert rows[0]["url"] in (first, other), rows
        assert [r["target"] for r in ctx.proxy.requests()] == ["/under/way"]
        req = one(ctx.plain)
        assert req["target"] == path and header_values(req, "Cookie") == [], req
        assert_untouched(req)


@test
def new_urls_on_one_origin_each_go_to_their_own_path(ctx):
    """A new URL on the origin of the last one before every transfer (the
    route's proxy URL rebuilt from the memo of that origin, the proxy's part
    kept from one to the next): each request goes to the proxy at its own
    path and query, byte for byte, after a longer URL and a shorter one, and
    the URLs the shortcut leaves to libcurl's parse (a dot segment, an
    escaped dot, a fragment, an empty query) go where that parse sends
    them (the dot segment removed, the fragment dropped, the '?' kept); the
    application reads back its own URL each time."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    paths = ["/items/1?page=1", "/items/22?page=22&sort=name%20asc", "/i",
             "/services/data/v56.0/query?q=SELECT+Id+FROM+Account+WHERE+Name='a%2Fb'", "/a/./b",
             "/items/333?page=333", "/x?", "/y#frag", "/z?a=%2e", "/items/4444"]
    steps = []
    for path in paths:
        steps += ["url=" + SF + path, "perform"]
    p = ok(sticky(ctx, *steps))
    rows = parse_lines(p.stdout)
    assert [(r["rc"], r["status"]) for r in rows] == [("0", "200")] * len(paths), (rows, p.stderr)
    assert [r["url"] for r in rows] == [SF + path for path in paths], rows
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == [
        "/items/1?page=1", "/items/22?page=22&sort=name%20asc", "/i",
        "/services/data/v56.0/query?q=SELECT+Id+FROM+Account+WHERE+Name='a%2Fb'", "/a/b",
        "/items/333?page=333", "/x?", "/y", "/z?a=%2e", "/items/4444"], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")
    no_key_anywhere(ctx, p)


@test
def blocked_then_routed_again_counted_once(ctx):
    """A transfer to a blocked route (answered here) whose URL the application
    changes three times before the multi handle runs it: one call, blocked
    once."""
    cfg, _ = rl_cfg(ctx, "late-blocked", on_block="respond")
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "body": "slow down",
                                "headers": {"X-Amp-Retry-After": http_date(time.time() + 300)}})
    ok(sticky(ctx, "url=https://slack.com/api/first", "perform", cfg=cfg))
    before = stats_of(ctx, cfg)["https://slack.com/api"]
    p = ok(sticky(ctx, "follow=1", "url=https://slack.com/api/a", "madd", "url=https://slack.com/api/b",
                  "url=https://slack.com/api/c", "url=https://slack.com/api/d", "mrun", cfg=cfg))
    assert parse_lines(p.stdout)[0]["status"] == "429", p.stdout
    after = stats_of(ctx, cfg)["https://slack.com/api"]
    assert after["blocked"] - before["blocked"] == 1, (before, after)
    assert after["routed"] == before["routed"], (before, after)


@test
def a_429_status_line_read_as_libcurl_reads_it(ctx):
    """A 429 whose status line has a tab before the code (libcurl reads it
    as 429): recorded, so the next call is answered here, not sent."""
    cfg, _ = rl_cfg(ctx, "tab-429", on_block="respond")
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "status_line": "HTTP/1.1 \t429 Too Many", "body": "slow",
                                "headers": {"X-Amp-Retry-After": http_date(time.time() + 300)}})
    p = ok(sticky(ctx, "url=" + SF + "/tab/1", "perform", "url=" + SF + "/tab/2", "perform", cfg=cfg))
    assert [r["status"] for r in parse_lines(p.stdout)] == ["429", "429"], (p.stdout, p.stderr)
    assert [r["target"] for r in ctx.proxy.requests()] == ["/tab/1"]


@test
def same_url_set_again_goes_to_the_proxy_each_time(ctx):
    """CURLOPT_URL set again to the URL the handle last went to (libcurl is
    handed our proxy URL again without a new decision): each transfer goes
    to the proxy, at that path, with our headers, before and after a
    transfer the proxy redirected elsewhere, and after a header list of the
    application's came in between."""
    host = "third.example:%d" % ctx.plain.port
    mark_all(ctx)
    redirect_to(ctx, "http://%s/landing" % host)
    url = "url=" + SF + "/again"
    p = ok(sticky(ctx, "resolve=%s:127.0.0.1" % host, "follow=1", url, "perform", url, "perform", url,
                  "perform", "header=X-App: kept", url, "perform"))
    rows = parse_lines(p.stdout)
    assert [(r["rc"], r["status"]) for r in rows] == [("0", "200")] * 4, (rows, p.stderr)
    assert [r["url"] for r in rows[1:]] == [SF + "/again"] * 3, rows
    assert [r["target"] for r in ctx.plain.requests()] == ["/landing"]
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/again"] * 4, reqs
    for r in reqs:
        assert header_values(r, "x-api-key") == [KEY], r["headers"]
    assert header_values(reqs[-1], "X-App") == ["kept"], reqs[-1]["headers"]
    no_key_anywhere(ctx, p)


@test
def same_url_set_again_after_a_new_decision_was_asked(ctx):
    """CURLOPT_URL set again to the URL the handle last went to, after
    something that asks for a new decision or another transfer: a late
    FOLLOWLOCATION (the proxy's redirect then followed off it), a config
    reload that moves the proxy (here onto the plain server; seen first by
    another handle's transfer), a CURLU of the
    application's set and taken off again, a reset. Each transfer goes where
    that leads, and the same URL set once more after it goes there too
    (libcurl is handed the proxy URL the handle holds only while its
    decision stands)."""
    host = "third.example:%d" % ctx.plain.port
    cfg = ctx.write_cfg("again-a.cfg", ctx.config())
    moved = ctx.write_cfg("again-b.cfg.new", ctx.config(proxy_url=ctx.plain.url()))
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 200, "body": "ok", "count": 2},
                                {"status": 302, "headers": {"Location": "http://%s/landing" % host},
                                 "body": "moved"}])
    url = "url=" + SF + "/again"
    p = ok(sticky(ctx, "resolve=%s:127.0.0.1" % host,
                  url, "perform", url, "perform",                       # the proxy
                  "follow=1", url, "perform",                           # the proxy, then /landing
                  url, "perform",                                       # the proxy
                  # reloaded by a copy's transfer: this handle's decision
                  # is the old config's when its URL is set again
                  "swap=%s:%s" % (moved, cfg), "wait", "dup", url, "perform",  # plain
                  url, "perform",
                  "curlu=" + SF + "/curlu", url, "perform",             # the CURLU's URL
                  "curlu=", url, "perform",
                  "reset", url, "perform", url, "perform",
                  cfg=cfg))
    rows = parse_lines(p.stdout)
    assert [(r["rc"], r["status"]) for r in rows] == [("0", "200")] * 11, (rows, p.stderr)
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/again"] * 4, reqs
    for r in reqs:
        assert header_values(r, "x-api-key") == [KEY], r["headers"]
    got = ctx.plain.requests()
    assert [r["target"] for r in got] == ["/landing", "/again", "/again", "/again", "/curlu", "/again",
                                          "/again", "/again"], (got, p.stderr)
    assert_untouched(got[0])
    for r in got[1:]:
        assert header_values(r, "x-api-key") == [KEY], r["headers"]
    assert KEY.encode() not in p.stdout and KEY.encode() not in p.stderr, p.stderr


@test
def header_callback_set_while_a_lean_answer_comes_still_counted(ctx):
    """A transfer begun lean (curl_easy_perform, no header callback: no
    PREREQFUNCTION of ours, counted routed as it ends) whose write callback
    sets a header callback while its answer comes (the mode it ends in is
    no longer lean): its request went to the proxy, and is counted routed
    once, as every other; the next transfers, with the callback, too."""
    cfg, _ = rl_cfg(ctx, "late-lean-eager")
    mark_all(ctx)
    ctx.proxy.control("reset")
    p = ok(sticky(ctx, "url=" + SF + "/lean/1", "perform", "cbheader", "perform", "perform", cfg=cfg))
    rows = parse_lines(p.stdout)
    assert [(r["rc"], r["status"]) for r in rows] == [("0", "200")] * 3, (rows, p.stderr)
    assert [int(r["hdrlines"]) > 0 for r in rows] == [False, False, True], rows
    assert [r["target"] for r in ctx.proxy.requests()] == ["/lean/1"] * 3
    sf = stats_of(ctx, cfg)["https://*.my.salesforce.com"]
    assert (sf["routed"], sf["answers"]["2xx"]) == (3, 3), sf


CALLBACK_PORT_SCRIPT = r"""
import ctypes, sys
L = ctypes.CDLL("libcurl.so.4")
L.curl_easy_init.restype = ctypes.c_void_p
L.curl_easy_setopt.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
L.curl_easy_perform.argtypes = [ctypes.c_void_p]
L.curl_slist_append.restype = ctypes.c_void_p
L.curl_slist_append.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
CB = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p)
url, port, step = sys.argv[1], int(sys.argv[2]), sys.argv[3]
h = L.curl_easy_init()
keep = [L.curl_slist_append(None, ("::127.0.0.1:%d" % port).encode())]
def on_header(p, size, n, _):
    if ctypes.string_at(p, size * n).startswith(b"HTTP/"):
        if step == "port":
            L.curl_easy_setopt(h, 3, ctypes.c_void_p(port))           # CURLOPT_PORT
        else:
            L.curl_easy_setopt(h, 10243, ctypes.c_void_p(keep[0]))    # CURLOPT_CONNECT_TO
        L.curl_easy_setopt(h, 74, ctypes.c_void_p(1))                 # CURLOPT_FRESH_CONNECT
    return size * n
hcb, wcb = CB(on_header), CB(lambda p, size, n, _: size * n)
L.curl_easy_setopt(h, 10002, ctypes.c_char_p(url.encode()))           # CURLOPT_URL
L.curl_easy_setopt(h, 52, ctypes.c_void_p(1))                         # CURLOPT_FOLLOWLOCATION
L.curl_easy_setopt(h, 20079, ctypes.cast(hcb, ctypes.c_void_p))       # CURLOPT_HEADERFUNCTION
L.curl_easy_setopt(h, 20011, ctypes.cast(wcb, ctypes.c_void_p))       # CURLOPT_WRITEFUNCTION
print("rc=%d" % L.curl_easy_perform(h))
"""


@test
def port_and_connect_to_set_from_a_callback_between_redirects(ctx):
    """A program (ctypes) whose header callback sets CURLOPT_PORT, or
    CONNECT_TO, to another host's port (and a fresh connection) at each
    status line of a routed transfer that the proxy redirects twice on
    itself: every request of the chain, made after the change, still goes
    to the proxy with our headers; the other host sees nothing."""
    for step in ("port", "connect_to"):
        mark_all(ctx)
        ctx.proxy.control("reset")
        ctx.proxy.control("queue", [{"status": 302, "headers": {"Location": "/cb/%s/2" % step}},
                                    {"status": 307, "headers": {"Location": "/cb/%s/3" % step}}])
        p = ok(ctx.run([PY, "-c", CALLBACK_PORT_SCRIPT, SF + "/cb/%s/1" % step, str(ctx.plain.port), step]),
               step)
        assert p.stdout.decode().strip() == "rc=0", (p.stdout, p.stderr)
        reqs = ctx.proxy.requests()
        assert [r["target"] for r in reqs] == ["/cb/%s/%d" % (step, i) for i in (1, 2, 3)], (reqs, p.stderr)
        for r in reqs[:-1]:
            assert header_values(r, "x-api-key") == [KEY], r["headers"]
        assert_amp_headers(reqs[-1], installation="inst-sf-1")
        assert ctx.plain.requests() == [], (step, ctx.plain.requests())
        no_key_anywhere(ctx, p)
