"""A handle across transfers, the way a long-lived program uses it: ampshim's
options stay on a handle between routed transfers (src/options.c), so every
place the application could tell is tested: an unrouted transfer after a
routed one, options changed in between, a header list changed in place,
verbose output and redirects turned on and off, a duplicate made after a
routed transfer, CURLINFO_EFFECTIVE_URL."""

import os

from .harness import (
    BUILD, KEY, SF, assert_amp_headers, assert_untouched, header_values, mark_all, one,
    parse_lines, test,
)


def sticky(ctx, *steps, env=None):
    """tests/clients/sticky_client.c through a script of steps."""
    return ctx.run([os.path.join(BUILD, "sticky_client"), *steps], env=env)


@test
def sticky_routed_then_unrouted_gets_the_apps_options(ctx):
    """A routed transfer, then unrouted ones on the same handle: each finds
    the application's own PORT, SSL verification, NOPROXY, header option and
    callbacks, not ours (which stay on the handle between routed transfers)."""
    mark_all(ctx)
    env = ctx.env(http_proxy=ctx.plain.url(""))
    env.pop("NO_PROXY", None)
    p = sticky(ctx, "callbacks", "verbose=1", "noproxy=", "headeropt=unified", "insecure=1",
               "port=%d" % ctx.tls.port, "header=X-App: 1",
               "url=" + SF + "/first", "perform",
               "url=https://127.0.0.1/second", "perform",
               "port=0", "url=http://unrouted.test/third", "perform",
               "url=" + SF + "/fourth", "perform", env=env)
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 4, (rows, p.stderr)
    assert [r["status"] for r in rows] == ["200"] * 4, rows
    assert [r["url"] for r in rows] == [SF + "/first", "https://127.0.0.1/second",
                                        "http://unrouted.test/third", SF + "/fourth"], rows
    for r in rows:
        assert int(r["hdrlines"]) > 2 and int(r["debug"]) > 2 and r["data_ok"] == "1", r
    assert [r["target"] for r in ctx.proxy.requests()] == ["/first", "/fourth"]
    for r in ctx.proxy.requests():
        assert_amp_headers(r, installation="inst-sf-1")
    # The application's port and its -k, given back: the self-signed upstream reached.
    req = one(ctx.tls)
    assert req["target"] == "/second", req
    assert_untouched(req)
    # Its NOPROXY "" (not our "*"): through its own http_proxy.
    req = one(ctx.plain)
    assert req["target"] == "http://unrouted.test/third", req
    assert_untouched(req)
    err = p.stderr.decode()
    assert KEY not in err and "x-amp-installation-id: inst-sf-1" in err, err


@test
def sticky_options_changed_between_transfers(ctx):
    """Options changed between routed transfers take effect: a header list
    changed in place, verbose on then off, redirects followed then not, a
    duplicate made after a routed transfer."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 200},
                                {"status": 200},
                                {"status": 302, "headers": {"Location": "https://slack.com/api/next"}, "body": "moved"}])
    p = sticky(ctx, "header=X-App: one", "url=" + SF + "/a", "perform",
               "inplace=X-App: two", "verbose=1", "perform",
               "verbose=0", "follow=1", "url=" + SF + "/b", "perform",
               "follow=0", "url=" + SF + "/c", "perform",
               "dup", "url=" + ctx.plain.url("/plain"), "dup", "perform")
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 7, (rows, p.stderr)
    assert [r["url"] for r in rows][:4] == [SF + "/a", SF + "/a", SF + "/b", SF + "/c"], rows
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/a", "/a", "/b", "/next", "/c", "/c"], reqs
    assert [header_values(r, "X-App") for r in reqs] == [["one"], ["two"], ["two"], ["two"], ["two"], ["two"]], reqs
    for i, r in enumerate(reqs):
        if r["target"] == "/b":
            assert header_values(r, "x-amp-installation-id") == ["inst-sf-1"], r
        elif r["target"] == "/next":
            assert_amp_headers(r, integration="slack-main", group="grp-42")
        else:
            assert_amp_headers(r, installation="inst-sf-1")
    # Verbose for the second transfer only, the key masked.
    err = p.stderr.decode()
    assert err.count("GET /a HTTP/1.1") == 1 and "GET /b" not in err and KEY not in err, err
    plain = ctx.plain.requests()
    assert [r["target"] for r in plain] == ["/plain", "/plain"], plain
    for r in plain:
        assert_untouched(r)
        assert header_values(r, "X-App") == ["two"], r


@test
def sticky_header_list_grown_in_place(ctx):
    """A handle sent again as it was last (ampshim's short way) still sees
    its header list grow: a line appended to the list libcurl holds, not set
    again, goes out with the next request, as libcurl alone would send it;
    and a line rewritten in place after that, too."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    p = sticky(ctx, "header=X-App: one", "url=" + SF + "/a", "perform", "perform",
               "append=X-More: two", "url=" + SF + "/a", "perform",
               "inplace=X-App: six", "perform")
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 4, (rows, p.stderr)
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/a"] * 4, reqs
    assert [header_values(r, "X-App") for r in reqs] == [["one"], ["one"], ["one"], ["six"]], reqs
    assert [header_values(r, "X-More") for r in reqs] == [[], [], ["two"], ["two"]], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")


@test
def sticky_multi_options_changed_after_add(ctx):
    """A transfer added to a multi handle reads its options only when the
    multi handle first drives it: a routed transfer whose URL or port the
    application changes in between is routed again, so nothing of ours goes
    where the new value leads; its own URL is what CURLINFO_EFFECTIVE_URL
    says even before curl_multi_info_read."""
    mark_all(ctx)
    p = sticky(ctx, "url=" + SF + "/first", "madd", "url=" + ctx.plain.url("/plain-after-add"), "mrun",
               "url=" + SF + "/second", "madd", "url=" + SF + "/routed-after-add", "mrun",
               "url=" + SF + "/third", "madd", "port=%d" % ctx.plain.port, "mrun")
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0", "0", "0"], (rows, p.stderr)
    assert [r["url"] for r in rows] == [ctx.plain.url("/plain-after-add"), SF + "/routed-after-add",
                                        SF + "/third"], rows
    plain = ctx.plain.requests()
    assert [r["target"] for r in plain] == ["/plain-after-add"], plain
    assert_untouched(plain[0])
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/routed-after-add", "/third"], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")


@test
def sticky_redirect_url_is_the_providers(ctx):
    """A redirect the application does not follow: CURLINFO_REDIRECT_URL names
    the provider's URL it leads to (the proxy's path mapped back through the
    route), so a program that follows it by hand is routed again."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [
        {"status": 302, "headers": {"Location": "/services/data/next?page=2"}, "body": "moved"},
        {"status": 302, "headers": {"Location": "/chat.next"}, "body": "moved"}])
    p = sticky(ctx, "url=" + SF + "/services/data/first", "perform",
               "url=https://slack.com/api/chat.first", "perform",
               "url=" + SF + "/services/data/next?page=2", "perform")
    rows = parse_lines(p.stdout)
    assert [r["status"] for r in rows] == ["302", "302", "200"], (rows, p.stderr)
    assert [r["redirect"] for r in rows] == [SF + "/services/data/next?page=2",
                                             "https://slack.com/api/chat.next", "-"], rows
    assert [r["url"] for r in rows] == [SF + "/services/data/first", "https://slack.com/api/chat.first",
                                        SF + "/services/data/next?page=2"], rows
    assert [r["target"] for r in ctx.proxy.requests()] == ["/services/data/first", "/chat.first",
                                                          "/services/data/next?page=2"]
