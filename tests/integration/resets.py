"""curl_easy_reset called by the application from one of a handle's own
callbacks while the multi interface runs its transfer (curl_multi_perform
or curl_multi_socket_action), or once it is done but before its message is
read. libcurl 7.88 lets it: the transfer goes on with the options reset
(the rest of the body to stdout, no callback of the application's or ours
called again) but for what it copied into the connection (a close-socket
callback and its data). Our entry for the handle must outlive the reset
until the handle leaves the multi handle: our callback that called the
application's goes on after it returns, the answer's connection calls our
close-socket callback as it closes, and the transfer's message is still
ours to mend. Each program must end cleanly (`make asan` fails it on a use
after free or a leak of ours), its transfer be ended as any other (counted
once, with its answer; a refusal's result kept), and the handle, used again
for an unrouted URL, carry nothing of ours there."""

import os

from .harness import (BUILD, KEY, SF, assert_amp_headers, assert_untouched, blocked_cfg, mark_all, ok,
                      one, parse_lines, rl_cfg, stats_of, test)

LOOPS = ("perform", "socket")
# The callback that resets, and the result of the transfer it was in.
ROUTED_CASES = {"write": 0, "write-set": 0, "write-abort": 23, "header": 0, "header-set": 0,
                "header-abort": 23, "xferinfo": 0, "xferinfo-abort": 42, "debug": 0, "prereq-abort": 42,
                "done": 0}
# Reset before any callback of ours saw the answer's status line (libcurl hands
# it to the debug callback first), which the reset wipes from libcurl's record:
# the request is counted, its answer cannot be.
UNSEEN_ANSWER = {"debug"}
ANSWERED_CASES = ("write", "write-set", "header", "xferinfo")


def reset_client(ctx, *args, cfg=None):
    return ctx.run([os.path.join(BUILD, "reset_client"), *args], cfg=cfg)


def rows_of(p):
    """The client's lines (the rest of a reset transfer's body, which libcurl
    writes to stdout, comes between them)."""
    return [r for r in parse_lines(p.stdout) if r["tag"] in ("first", "again")]


def nothing_of_ours(ctx, p):
    for r in ctx.plain.requests():
        assert_untouched(r)
    assert KEY.encode() not in p.stdout and KEY.encode() not in p.stderr, p.stderr


@test
def reset_from_a_callback_of_a_routed_multi_transfer(ctx):
    """Reset from the write, header, xferinfo, debug or PREREQ callback of a
    routed transfer (and stopped there, or options set again at once), or
    once it is done but before its message is read, the multi handle driven
    by curl_multi_perform and by curl_multi_socket_action:
    the request reached the proxy once with our headers (none when stopped
    before it went), the program read its result and went on, and the handle,
    added again for a URL of the third host, took nothing of ours there.
    Each routed request counted once, with its answer where one of our
    callbacks saw it."""
    cfg, _ = rl_cfg(ctx, "reset-in-multi")
    sent = answered = 0
    for loop in LOOPS:
        for case, rc in ROUTED_CASES.items():
            mark_all(ctx)
            path = "/reset/%s/%s" % (loop, case)
            p = ok(reset_client(ctx, loop, case, SF + path, ctx.plain.url("/after" + path), cfg=cfg),
                   "%s %s" % (loop, case))
            rows = rows_of(p)
            assert [(r["tag"], r["done"], r["rc"], r["resets"]) for r in rows] == \
                [("first", "1", str(rc), "1"), ("again", "1", "0", "1")], (loop, case, rows, p.stderr)
            assert rows[1]["status"] == "200", (loop, case, rows)
            got = ctx.proxy.requests()
            if case == "prereq-abort":
                assert got == [], (loop, case, got)
            else:
                assert [r["target"] for r in got] == [path], (loop, case, got)
                assert_amp_headers(got[0], installation="inst-sf-1")
                sent += 1
                answered += case not in UNSEEN_ANSWER
            assert one(ctx.plain)["target"] == "/after" + path
            nothing_of_ours(ctx, p)
    sf = stats_of(ctx, cfg)["https://*.my.salesforce.com"]
    assert (sf["routed"], sf["answers"]["2xx"]) == (sent, answered), sf


@test
def reset_from_a_callback_of_an_answered_multi_transfer(ctx):
    """The same for a call to a blocked route answered here (on_block
    "respond"): libcurl closes the answer's connection after the reset, with
    the close-socket callback it copied into it (ours, our entry its data).
    Nothing reaches the proxy, the program goes on, the handle used again for
    the third host carries nothing of ours; each call counted blocked once."""
    for loop in LOOPS:
        for case in ANSWERED_CASES:
            cfg = blocked_cfg(ctx, "reset-answered-%s-%s" % (loop, case), on_block="respond")
            before = stats_of(ctx, cfg)["https://*.my.salesforce.com"]
            mark_all(ctx)
            path = "/reset/answered/%s/%s" % (loop, case)
            p = ok(reset_client(ctx, loop, case, SF + path, ctx.plain.url("/after" + path), cfg=cfg),
                   "%s %s" % (loop, case))
            rows = rows_of(p)
            assert [(r["tag"], r["done"], r["rc"]) for r in rows] == \
                [("first", "1", "0"), ("again", "1", "0")], (loop, case, rows, p.stderr)
            assert ctx.proxy.requests() == [], (loop, case)
            assert one(ctx.plain)["target"] == "/after" + path
            nothing_of_ours(ctx, p)
            after = stats_of(ctx, cfg)["https://*.my.salesforce.com"]
            assert (after["blocked"] - before["blocked"], after["routed"]) == (1, before["routed"]), \
                (loop, case, before, after)


@test
def reset_in_a_multi_handle_then_cleaned_up_without_removal(ctx):
    """A handle reset from its callbacks and never taken out of its multi
    handle: cleaned up while in it, before or after the multi handle
    itself (libcurl takes it out). The program ends cleanly, with nothing
    of ours left behind (`make asan` counts a leak of ours)."""
    cfg = blocked_cfg(ctx, "reset-kept", on_block="respond")
    for end in ("cleanup", "multi"):
        for case in ("write", "header-abort"):
            for loop in LOOPS:
                mark_all(ctx)
                path = "/reset/kept/%s/%s/%s" % (loop, end, case)
                p = ok(reset_client(ctx, "%s:%s" % (loop, end), case, SF + path), "%s %s" % (loop, case))
                assert [r["done"] for r in rows_of(p)] == ["1"], (loop, end, case, p.stdout)
                assert [r["target"] for r in ctx.proxy.requests()] == [path]
                p = ok(reset_client(ctx, "%s:%s" % (loop, end), case, SF + path, cfg=cfg),
                       "%s %s answered" % (loop, case))
                assert [r["done"] for r in rows_of(p)] == ["1"], (loop, end, case, p.stdout)
                assert [r["target"] for r in ctx.proxy.requests()] == [path]


@test
def reset_before_a_refused_multi_transfer_is_read_keeps_its_result(ctx):
    """A call to a blocked route refused (on_block "fail": it fails through
    libcurl, at a URL nothing can fetch), reset once done but before the
    program reads its message: the message says what ampshim's refusal says
    (CURLE_SEND_ERROR), not libcurl's unsupported protocol, as without the
    reset. Nothing reaches the proxy; the handle used again for the third
    host carries nothing of ours."""
    cfg = blocked_cfg(ctx, "reset-refused", on_block="fail")
    for loop in LOOPS:
        mark_all(ctx)
        path = "/reset/refused/%s" % loop
        p = ok(reset_client(ctx, loop, "done", SF + path, ctx.plain.url("/after" + path), cfg=cfg), loop)
        rows = rows_of(p)
        assert [(r["tag"], r["done"], r["rc"]) for r in rows] == \
            [("first", "1", "55"), ("again", "1", "0")], (loop, rows, p.stderr)
        assert rows[0]["err"].startswith("ampshim: "), rows
        assert ctx.proxy.requests() == [], loop
        assert one(ctx.plain)["target"] == "/after" + path
        nothing_of_ours(ctx, p)
