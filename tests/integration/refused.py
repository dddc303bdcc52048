"""Calls libcurl refuses (a handle already running, a multi handle's own
callback, NULL, a value out of range) change nothing of ours: no header of
ours put on a transfer libcurl goes on with, no call counted in `ampshim
stats` that never happened, no error of ours instead of libcurl's. Each C
client call is tests/clients/refused_client.c's (see lifecycle.py for
curl_multi_cleanup(NULL) and curl_multi_remove_handle(NULL, ...))."""

import json
import subprocess
import time

from .harness import (
    AMPSHIM, KEY, SF, assert_amp_headers, assert_untouched, header_values, http_date, mark_all, ok,
    parse_lines, prog, queue_429, rl_cfg, test,
)


def stats_of(ctx, cfg):
    p = ok(subprocess.run([AMPSHIM, "stats", "--json", "-c", cfg], capture_output=True,
                          env=ctx.env(), timeout=30))
    return {r["route"].split(" ")[0]: r for r in json.loads(p.stdout)["routes"]}


def started_again(ctx, mode):
    """A transfer to the third host whose PREREQFUNCTION gives the handle a
    routed URL and starts it again (curl_easy_perform, curl_multi_add_handle),
    both refused: the request about to go out is the application's alone."""
    mark_all(ctx)
    p = ok(ctx.run([prog("refused_client"), mode, ctx.plain.url("/" + mode), SF + "/" + mode]))
    out = p.stdout.decode()
    # libcurl: "easy handle already used in multi handle", CURLM_ADDED_ALREADY.
    assert "inner perform=2\ninner add=7\n" in out, (out, p.stderr)
    req = ctx.plain.requests()
    assert len(req) == 1 and req[0]["target"] == "/" + mode, req
    assert_untouched(req[0])
    assert ctx.proxy.requests() == [], ctx.proxy.requests()
    assert KEY.encode() not in p.stdout + p.stderr


@test
def refused_start_of_a_running_handle_puts_nothing_on_it(ctx):
    """curl_easy_perform's transfer: ampshim once routed the handle for the
    refused perform or add (its URL is routed now), put our headers and key on
    it, and libcurl sent them with the request under way, to the third host."""
    started_again(ctx, "again")


@test
def refused_start_of_a_handle_in_a_multi_handle_puts_nothing_on_it(ctx):
    """The same with the transfer in a multi handle (a handle in one, not
    routed when added, was routed by the refused perform or add)."""
    started_again(ctx, "again-multi")


@test
def refused_adds_and_transfers_never_run_count_nothing(ctx):
    """Two routed transfers, each answered 200, in `ampshim stats`: two
    calls routed, two answers. Between them, a curl_multi_add_handle of no
    multi handle and one from a callback of the multi handle's own transfer
    (both refused), an add taken away before it ran, and an add whose URL
    changed before it ran (routed again): each was once counted an answer,
    the previous transfer's status (libcurl's RESPONSE_CODE until a transfer
    starts)."""
    cfg, _ = rl_cfg(ctx, "refused-count")
    mark_all(ctx)
    p = ok(ctx.run([prog("refused_client"), "count", SF + "/count/1", SF + "/count/2",
                    ctx.plain.url("/count/helper")], cfg=cfg))
    out = p.stdout.decode()
    # CURLM_BAD_HANDLE, CURLM_RECURSIVE_API_CALL
    assert "add to none=1\nadd from a callback=8\n" in out, (out, p.stderr)
    assert "add unrun=0\nadd=0\ndone rc=0\nlast rc=0 status=200" in out, (out, p.stderr)
    assert [r["target"] for r in ctx.proxy.requests()] == ["/count/1", "/count/2", "/count/2"]
    sf = stats_of(ctx, cfg)["https://*.my.salesforce.com"]
    assert (sf["routed"], sf["answers"], sf["blocked"]) == (
        3, {"2xx": 3, "3xx": 0, "4xx": 0, "5xx": 0}, 0), sf


@test
def refused_add_on_a_blocked_route_counts_no_block(ctx):
    """A blocked route: an add to no multi handle, and one from a multi
    handle's callback, both refused, are no calls stopped here (`blocked`
    counts the one perform after them); the first is not even said in the
    application's error buffer."""
    cfg, _ = rl_cfg(ctx, "refused-blocked")
    queue_429(ctx, http_date(int(time.time()) + 600))
    ok(ctx.run([prog("refused_client"), "blocked", SF + "/blocked/first", ctx.plain.url("/helper")],
               cfg=cfg))
    mark_all(ctx)
    p = ok(ctx.run([prog("refused_client"), "blocked", SF + "/blocked/again", ctx.plain.url("/helper")],
                   cfg=cfg))
    out = p.stdout.decode()
    assert "add from a callback=8\n" in out and "blocked rc=55" in out, (out, p.stderr)
    # Not even said: libcurl's answer to no multi handle is the whole of it.
    assert "add to none=1 err=\n" in out, out
    assert ctx.proxy.requests() == []
    sf = stats_of(ctx, cfg)["https://*.my.salesforce.com"]
    # The first process's one call, answered 429; the second's perform.
    assert (sf["routed"], sf["status_429"], sf["blocked"]) == (1, 1, 1), sf


@test
def refused_null_handles_get_libcurls_answer(ctx):
    """curl_easy_perform(NULL) is libcurl's CURLE_BAD_FUNCTION_ARGUMENT and
    curl_multi_add_handle(multi, NULL) its CURLM_BAD_EASY_HANDLE, with nothing
    on stderr (ampshim once made an entry for NULL, answered
    CURLE_OUT_OF_MEMORY and said a handle's options were lost)."""
    p = ok(ctx.run([prog("refused_client"), "null"]))
    assert p.stdout.decode() == "perform(NULL)=43\nadd(multi, NULL)=2\n", p.stdout
    assert b"ampshim" not in p.stderr, p.stderr


@test
def refused_url_leaves_the_handle_without_one(ctx):
    """A CURLOPT_URL libcurl refuses (longer than its 8,000,000 bytes) takes
    the handle's URL away in libcurl (it frees the old one first): the next
    perform is libcurl's "No URL set", and nothing goes out (ampshim once
    kept the routed URL set before, and sent it to the proxy), on a new
    handle and on one whose last transfer was routed."""
    mark_all(ctx)
    p = ok(ctx.run([prog("refused_client"), "longurl", SF + "/long/first"]))
    out = p.stdout.decode()
    assert out.count("setopt(8 MB URL)=43\n") == 2, out
    rows = {r["tag"]: r for r in parse_lines(p.stdout)}
    assert rows["first"]["rc"] == "0" and rows["first"]["status"] == "200", rows
    for tag in ("before", "after"):
        assert rows[tag]["rc"] == "3" and rows[tag]["err"] == "No URL set", (tag, rows)
    (req,) = ctx.proxy.requests()
    assert_amp_headers(req, installation="inst-sf-1")
    assert header_values(req, "x-api-key") == [KEY]
