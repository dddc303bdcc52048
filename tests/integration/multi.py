"""The multi interface: curl --parallel, our C client (curl_multi_perform and
curl_multi_socket_action), pycurl's CurlMulti; a blocked, a routed and an
unrouted transfer in one multi handle, a blocked transfer's error buffer read
without curl_multi_info_read, a broken config, a handle taken
away before it ran, a handle added twice, a multi handle cleaned up with its
handles in it."""

from .harness import (
    BROKEN, PY, SF, assert_amp_headers, assert_untouched, blocked_cfg, header_values, mark_all,
    ok, one, parse_lines, preload_env, prog, queue_429, rl_cfg, test,
)


@test
def multi_curl_parallel(ctx):
    mark_all(ctx)
    urls = [SF + "/services/data/v56.0/p%d" % i for i in range(4)] + ["https://slack.com/api/users.list"]
    args = ["--parallel", "--parallel-max", "3"]
    for u in urls:
        args += ["-o", "/dev/null", u]
    ok(ctx.curl(*args))
    reqs = ctx.proxy.requests()
    assert sorted(r["target"] for r in reqs) == sorted(
        ["/services/data/v56.0/p%d" % i for i in range(4)] + ["/users.list"]), reqs
    for r in reqs:
        if r["target"] == "/users.list":
            assert_amp_headers(r, integration="slack-main", group="grp-42")
        else:
            assert_amp_headers(r, installation="inst-sf-1")


@test
def multi_c_client_perform_and_socket_action(ctx):
    for mode in ("perform", "socket"):
        mark_all(ctx)
        p = ok(ctx.run([prog("multi_client"), mode, SF + "/m/" + mode, "https://slack.com/api/" + mode,
                        ctx.plain.url("/untouched-" + mode)]), mode)
        rows = parse_lines(p.stdout)
        assert [r["rc"] for r in rows] == ["0", "0", "0"], rows
        assert [r["status"] for r in rows] == ["200", "200", "200"], rows
        assert rows[0]["url"] == SF + "/m/" + mode, rows[0]  # the application's view again
        reqs = sorted(ctx.proxy.requests(), key=lambda r: r["target"])
        assert [r["target"] for r in reqs] == ["/m/" + mode, "/" + mode], reqs
        assert_amp_headers(reqs[0], installation="inst-sf-1")
        assert_amp_headers(reqs[1], integration="slack-main", group="grp-42")
        assert_untouched(one(ctx.plain))


@test
def multi_mixed_blocked_routed_untouched(ctx):
    cfg = blocked_cfg(ctx, "multi-mixed")
    for mode in ("perform", "socket"):
        mark_all(ctx)
        p = ok(ctx.run([prog("multi_client"), mode, SF + "/blocked", "https://slack.com/api/fine",
                        ctx.plain.url("/plain")], cfg=cfg))
        blocked, routed, plain = parse_lines(p.stdout)
        assert blocked["rc"] == "55" and "rate limited until" in blocked["err"], blocked
        assert blocked["done"] == "1"
        assert blocked["url"] == SF + "/blocked", blocked
        assert routed["rc"] == "0" and routed["status"] == "200", routed
        assert plain["rc"] == "0" and plain["status"] == "200", plain
        assert [r["target"] for r in ctx.proxy.requests()] == ["/fine"]
        assert_untouched(one(ctx.plain))


# GDAL's /vsicurl/ and many event loops never call curl_multi_info_read: they run the multi
# handle until nothing is running, read the handle's CURLOPT_ERRORBUFFER, and take it away.
PYCURL_NO_INFO_READ = r"""
import io, sys, pycurl
m, c = pycurl.CurlMulti(), pycurl.Curl()
c.setopt(c.URL, sys.argv[1])
c.setopt(c.WRITEDATA, io.BytesIO())
m.add_handle(c)
while m.perform()[1]:
    m.select(1.0)
print("before removing:", c.errstr())
m.remove_handle(c)
print("after removing:", c.errstr())
"""


@test
def multi_blocked_error_buffer_read_without_info_read(ctx):
    cfg = blocked_cfg(ctx, "multi-errbuf")
    mark_all(ctx)
    p = ok(ctx.run([PY, "-c", PYCURL_NO_INFO_READ, SF + "/blocked"], cfg=cfg))
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 2, lines
    for line in lines:
        assert "ampshim: route https://*.my.salesforce.com (installation inst-sf-1) is rate limited until" in line, lines
        assert "ampshim-blocked" not in line, lines
    assert ctx.proxy.requests() == []


@test
def multi_broken_config_fails_closed(ctx):
    bad = ctx.write_cfg("broken-multi.cfg", BROKEN)
    mark_all(ctx)
    p = ctx.run(["curl", "-sS", "--parallel", ctx.plain.url("/a"), ctx.plain.url("/b")],
                env=preload_env(ctx, AMPSHIM_CONFIG=bad), launcher=False)
    assert p.returncode != 0
    assert ctx.plain.requests() == [] and ctx.proxy.requests() == []
    p = ctx.run([prog("multi_client"), "perform", ctx.plain.url("/c")],
                env=preload_env(ctx, AMPSHIM_CONFIG=bad), launcher=False)
    row = parse_lines(p.stdout)[0]
    assert row["rc"] == "2" and bad + ":1:" in row["err"], row
    assert ctx.plain.requests() == []


PYCURL_MULTI = r"""
import io, sys, pycurl
m = pycurl.CurlMulti()
handles = []
for url in sys.argv[1:]:
    c = pycurl.Curl()
    c.setopt(c.URL, url)
    c.setopt(c.WRITEDATA, io.BytesIO())
    c.setopt(c.HTTPHEADER, ["X-From: pycurl-multi"])
    m.add_handle(c)
    handles.append(c)
while True:
    ret, n = m.perform()
    if ret != pycurl.E_CALL_MULTI_PERFORM and n == 0:
        break
    if ret != pycurl.E_CALL_MULTI_PERFORM:
        m.select(1.0)
q, good, bad = m.info_read()
for c in handles:
    print(c.getinfo(c.RESPONSE_CODE), c.getinfo(c.EFFECTIVE_URL))
    m.remove_handle(c)
print("ok", len(good), "bad", len(bad))
"""


@test
def pycurl_multi_routed(ctx):
    mark_all(ctx)
    p = ok(ctx.run([PY, "-c", PYCURL_MULTI, SF + "/py/1", SF + "/py/2", "https://slack.com/api/py3"]))
    out = p.stdout.decode().splitlines()
    assert out[-1] == "ok 3 bad 0", out
    assert out[0] == "200 " + SF + "/py/1", out
    reqs = ctx.proxy.requests()
    assert sorted(r["target"] for r in reqs) == ["/py/1", "/py/2", "/py3"], reqs
    for r in reqs:
        assert header_values(r, "X-From") == ["pycurl-multi"]
        assert r["status"] == 200, r


@test
def multi_unrun_transfer_records_nothing(ctx):
    """A handle added to a multi and taken away before it ran still shows the
    last transfer's 429: that must not block the route again."""
    cfg, _ = rl_cfg(ctx, "unrun", "default_backoff = 1;")
    queue_429(ctx, "not a date")
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "unrun", SF + "/u", "1500"], cfg=cfg))
    rows = parse_lines(p.stdout)
    assert rows[0]["status"] == "429", rows
    assert rows[1]["rc"] == "0" and rows[1]["status"] == "200", rows
    assert len(ctx.proxy.requests()) == 2


@test
def multi_cleanup_with_many_handles_in_it_gives_each_back(ctx):
    """34 routed transfers run in one multi handle, cleaned up with all of
    them still in it (taken off it a batch at a time): each handle's next
    transfer, to the third host, carries nothing of ours."""
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "multigone", SF + "/many", ctx.plain.url("/many"), "34"]))
    assert p.stdout.decode().count("multigone done=0\n") == 34, (p.stdout, p.stderr)
    rows = [r for r in parse_lines(p.stdout) if r["tag"] == "after-multi"]
    assert len(rows) == 34 and all(r["status"] == "200" for r in rows), rows
    assert len(ctx.proxy.requests()) == 34
    reqs = ctx.plain.requests()
    assert len(reqs) == 34, len(reqs)
    for r in reqs:
        assert_untouched(r)


@test
def multi_handle_added_twice_keeps_its_route(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "double-add", SF + "/twice"]))
    assert p.stdout.decode().strip() == "double-add first=0 second=7 status=200", p.stdout
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")
    assert ctx.plain.requests() == [] and ctx.tls.requests() == []
