"""Calls libcurl refuses (a handle already running, a multi handle's own
callback, NULL, a value out of range) change nothing of ours: no header of
ours put on a transfer libcurl goes on with, no call counted in `ampshim
stats` that never happened, no error of ours instead of libcurl's. Each C
client call is tests/clients/refused_client.c's (see lifecycle.py for
curl_multi_cleanup(NULL) and curl_multi_remove_handle(NULL, ...))."""

from .harness import KEY, SF, assert_untouched, mark_all, ok, prog, test


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
