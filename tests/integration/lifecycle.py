"""A handle's life and the process around it: duphandle, reset, a CURLU,
CURLOPT_PORT, a new header list each perform, a handle used inside another's
callback; both libcurl flavours in one process, a program without curl, a
plugin found by RUNPATH; threads (also under ThreadSanitizer), fork, and no
deadlock with a plugin that calls curl from its constructor."""

import json
import os
import subprocess
import time

from .harness import (
    AMPSHIM, BROKEN, BUILD, KEY, LIB, SF, assert_amp_headers, assert_untouched, header_values,
    http_date, mark_all, not_under, ok, one, parse_lines, preload_env, prog, queue_429, rl_cfg, test,
)


@test
def both_flavours_in_one_process(ctx):
    """The program's libcurl (OpenSSL) and a plugin's libcurl-gnutls loaded
    with RTLD_LOCAL: each handle reaches its own flavour, both are routed."""
    mark_all(ctx)
    plug = os.path.join(BUILD, "plugins", "libflavour_plug.so")
    p = ok(ctx.run([os.path.join(BUILD, "two_flavours"), plug, SF + "/from-openssl",
                    "https://slack.com/api/from-gnutls"], env=ctx.env(AMPSHIM_LOG="debug")))
    assert p.stdout.decode().splitlines() == ["main rc=0 status=200", "plugin rc=0 status=200"] * 2, p.stdout
    err = p.stderr.decode()
    assert "using /lib/x86_64-linux-gnu/libcurl.so.4" in err or "libcurl.so.4" in err, err
    assert "libcurl-gnutls.so.4" in err, err
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/from-openssl", "/from-gnutls"] * 2, reqs
    assert reqs[1]["method"] == "HEAD"
    for r in reqs:
        assert r["status"] == 200, r


@test
def two_flavours_one_origin(ctx):
    """Both flavours' handles on the same origin, new handles each round: each
    takes its first URL's origin from the config's table (origins.h) only as
    its own flavour decided it, and every request reaches the proxy, routed."""
    mark_all(ctx)
    plug = os.path.join(BUILD, "plugins", "libflavour_plug.so")
    p = ok(ctx.run([os.path.join(BUILD, "two_flavours"), plug, SF + "/same/openssl", SF + "/same/gnutls", "again"]))
    assert p.stdout.decode().splitlines() == (["main rc=0 status=200"] * 2 + ["plugin rc=0 status=200"] * 2) * 2, \
        (p.stdout, p.stderr)
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == (["/same/openssl"] * 2 + ["/same/gnutls"] * 2) * 2, reqs
    for r in reqs:
        assert header_values(r, "x-amp-installation-id") == ["inst-sf-1"], r["headers"]


@test
def second_flavour_loaded_while_another_thread_calls_curl(ctx):
    """A thread calls curl without pause (each of its calls after a dlopen
    may look at the loaded objects) while the main thread loads a plugin
    with libcurl-gnutls and fetches a refused URL through it: every run the
    plugin's handle reaches its own libcurl (7, could not connect; 3 was a
    handle of the program's libcurl handed to libcurl-gnutls)."""
    plug = os.path.join(BUILD, "plugins", "libflavour_plug.so")
    results = []
    for _ in range(30):
        p = subprocess.run([prog("flavour_race"), plug, "http://127.0.0.1:9/"], capture_output=True,
                           env=ctx.env(AMPSHIM_CONFIG=ctx.cfg, LD_PRELOAD=LIB), timeout=60)
        results.append((p.returncode, p.stdout))
    assert set(results) == {(0, b"7\n")}, sorted(set(results))


def each_flavour_routed_twice(ctx, plugin, main_path, plugin_path):
    """two_flavours with "again": the program's handle and the plugin's,
    each performing twice, two rounds; every request at the proxy, in
    order, with our key."""
    mark_all(ctx)
    plug = os.path.join(BUILD, "plugins", plugin)
    p = ok(ctx.run([os.path.join(BUILD, "two_flavours"), plug, SF + main_path,
                    "https://slack.com/api" + plugin_path, "again"]))
    assert p.stdout.decode().splitlines() == (["main rc=0 status=200"] * 2 + ["plugin rc=0 status=200"] * 2) * 2, \
        p.stdout
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ([main_path] * 2 + [plugin_path] * 2) * 2, reqs
    assert [r["method"] for r in reqs] == (["GET"] * 2 + ["HEAD"] * 2) * 2, reqs
    for r in reqs:
        assert header_values(r, "x-api-key") == [KEY], r["headers"]
        assert r["status"] == 200, r


@test
def a_libcurl_not_named_libcurl(ctx):
    """A plugin whose libcurl (gnutls) is a copy bundled under another file
    name, loaded with RTLD_LOCAL: known for a libcurl by what it defines,
    not by its name. Each handle reaches its own flavour (a handle of the
    program's libcurl handed to the copy failed with 3, or crashed), both
    are routed, their URLs set again too (the one-libcurl shortcut off)."""
    each_flavour_routed_twice(ctx, "librenamed_plug.so", "/from-openssl", "/from-copy")


@test
def both_flavours_url_set_again(ctx):
    """Two libcurls in one process, each handle's URL set once more to the
    URL it went to (with one libcurl, that CURLOPT_URL is handed to it
    without asking which libcurl the caller uses; with two, it must still
    be asked): each transfer reaches its own flavour and the proxy, with our
    headers."""
    each_flavour_routed_twice(ctx, "libflavour_plug.so", "/again-openssl", "/again-gnutls")


@test
def program_without_curl_untouched(ctx):
    bad = ctx.write_cfg("broken2.cfg", BROKEN)
    no_curl = os.path.join(BUILD, "no_curl")
    for verbose, p in ((False, ctx.run([no_curl])),
                       (True, ctx.run([no_curl], env=preload_env(ctx, AMPSHIM_CONFIG=bad, AMPSHIM_LOG="debug"),
                                      launcher=False))):
        ok(p)
        if verbose:  # one line at exit, that it never called libcurl (the config unread)
            said = p.stderr.decode().splitlines()
            assert len(said) == 1 and "never called libcurl" in said[0] and bad in said[0], said
        else:
            assert p.stderr == b"", p.stderr
        out = p.stdout.decode()
        assert out.endswith("no curl here\n"), out
        assert "libampshim.so" in out, "the preload was not in effect"
        for lib in ("libcurl", "libconfig", "libpthread", "libdl"):
            assert lib not in out, "%s loaded into a program that does not use curl:\n%s" % (lib, out)


@test
@not_under("asan", "ASan's own dlopen interceptor calls glibc's dlopen, which then reads the RUNPATH "
                   "of libasan, not of the program (build/asan/runpath_main fails so without ampshim)")
def dlopen_by_runpath_still_works(ctx):
    p = ok(ctx.run([os.path.join(BUILD, "runpath_main")]))
    assert p.stdout == b"plugin says 42\n", p.stdout


@test
def lifecycle_duphandle(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "dup", SF + "/d1", SF + "/d2"]))
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 5, rows
    assert [r["url"] for r in rows] == [SF + "/d1", SF + "/d1", SF + "/d2", SF + "/d1", SF + "/d1"], rows
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/d1", "/d1", "/d2", "/d1", "/d1"], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")
        assert header_values(r, "Authorization") == ["Bearer app-token"]


@test
def lifecycle_reset(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "reset", SF + "/before", ctx.plain.url("/after")]))
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0", "0"], rows
    assert [r["target"] for r in ctx.proxy.requests()] == ["/before"]
    req = one(ctx.plain)
    assert_untouched(req)
    assert header_values(req, "X-App") == [], "the reset handle still had the old headers"


@test
def lifecycle_multi_calls_libcurl_refuses_change_nothing(ctx):
    """curl_multi_remove_handle(NULL, easy) and curl_multi_cleanup(NULL),
    which libcurl refuses (CURLM_BAD_HANDLE), called from the header callback
    of a routed transfer answered 429: the transfer is ours to the end, and
    the block lasts until the proxy's retry time (ampshim once took either
    call for the end of a handle in no multi handle, the one running
    included: its watch let go at the status line, before
    X-Amp-Retry-After)."""
    cfg, _ = rl_cfg(ctx, "null-cleanup")
    retry_at = int(time.time()) + 600
    queue_429(ctx, http_date(retry_at))
    p = ok(ctx.run([prog("lifecycle_client"), "nullcleanup", SF + "/n"], cfg=cfg))
    out = p.stdout.decode()
    assert "multi_remove_handle(NULL)=refused\nmulti_cleanup(NULL)=refused" in out and "status=429" in out, (out, p.stderr)
    st = json.loads(ok(subprocess.run([AMPSHIM, "state", "--json", "-c", cfg], capture_output=True,
                                      env=ctx.env())).stdout)
    (b,) = st["blocks"]
    assert b["retry_at"] == retry_at and "X-Amp-Retry-After" in b["reason"], b


@test
def lifecycle_reset_from_a_callback_in_a_multi_handle(ctx):
    """curl_easy_reset from the header callback of a routed transfer in a
    multi handle, which then stops it: libcurl goes on to end it
    (CURLE_WRITE_ERROR), and ampshim's own header callback, which called the
    application's, still reads the handle's entry after it returns (it was
    freed by the reset: use after free, `make asan`). The handle, set up
    again, is routed."""
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "resetcb", SF + "/resetcb"]))
    out = p.stdout.decode()
    assert "resetcb done=23\n" in out, (out, p.stderr)
    rows = [r for r in parse_lines(p.stdout) if r["tag"] == "after-reset"]
    assert rows and rows[0]["rc"] == "0" and rows[0]["status"] == "200", (out, p.stderr)
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/resetcb", "/resetcb"], reqs
    assert_amp_headers(reqs[1], installation="inst-sf-1")


@test
def lifecycle_curlu_honoured_and_untouched(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "curlu", SF + "/u1?x=1", "/u2"]))
    lines = p.stdout.decode().splitlines()
    assert lines[1] == "curlu-now " + SF + "/u1?x=1", lines  # the application's CURLU unchanged
    assert lines[3] == "curlu-now " + SF + "/u2?x=1", lines
    assert "url=" + SF + "/u1?x=1 " in lines[0], lines
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/u1?x=1", "/u2?x=1"], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")


@test
def lifecycle_port_and_connect_to_cannot_divert(ctx):
    """CURLOPT_PORT, CONNECT_TO and unified proxy headers pointing at another
    host must not carry our headers there."""
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "port", SF + "/p1", "127.0.0.1:%d" % ctx.plain.port]))
    assert "rc=0 status=200" in p.stdout.decode(), p.stdout
    assert ctx.plain.requests() == []
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def lifecycle_new_header_list_each_perform(ctx):
    mark_all(ctx)
    ok(ctx.run([prog("lifecycle_client"), "newlists", SF + "/n"]))
    keys = [header_values(r, "Idempotency-Key") for r in ctx.proxy.requests()]
    assert keys == [["request-0001"], ["request-0002"], ["request-0003"]], keys


@test
def lifecycle_nested_handle_in_callback(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "nested", SF + "/outer", SF + "/inner"]))
    rows = parse_lines(p.stdout)
    assert [(r["tag"], r["url"]) for r in rows] == [
        ("inner", SF + "/inner"), ("outer", SF + "/outer"), ("b-again", SF + "/inner")], rows
    assert sorted(r["target"] for r in ctx.proxy.requests()) == ["/inner", "/inner", "/outer"]


@test
def threads_8_by_500_all_routed(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("threads_client"), "8", "500", SF + "/threads"]))
    assert p.stdout == b"ok 4000 failed 0\n", p.stdout
    reqs = ctx.proxy.requests()
    assert len(reqs) == 4000, len(reqs)
    want = {"/threads/t%d/%d" % (t, i) for t in range(8) for i in range(500)}
    assert {r["target"] for r in reqs} == want
    for r in reqs:
        assert r["status"] == 200, r
        assert header_values(r, "x-amp-installation-id") == ["inst-sf-1"]
        assert header_values(r, "X-Thread") == ["yes"]


@test
def fork_parent_and_child_keep_routing(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("fork_client"), SF + "/forked"]))
    lines = p.stdout.decode().splitlines()
    assert lines.count("child rc=0 status=200") == 2 and lines.count("parent rc=0 status=200") == 2, lines
    for r in ctx.proxy.requests():
        assert r["target"] == "/forked" and r["status"] == 200, r


@test
@not_under("asan", "ThreadSanitizer and AddressSanitizer cannot share a process (make test runs it)")
def threads_race_free_under_thread_sanitizer(ctx):
    """The library and threaded clients built with -fsanitize=thread: no report."""
    mark_all(ctx)
    env = ctx.env(AMPSHIM_CONFIG=ctx.cfg, LD_PRELOAD=os.path.join(BUILD, "tsan", "libampshim.so"),
                  TSAN_OPTIONS="halt_on_error=1 exitcode=66")
    for cmd in ([os.path.join(BUILD, "tsan", "threads_client"), "8", "25", SF + "/tsan"],
                [os.path.join(BUILD, "tsan", "multi_client"), "socket", SF + "/tsan-m1",
                 "https://slack.com/api/tsan-m2", ctx.plain.url("/tsan-m3")]):
        p = ctx.run(cmd, env=env, launcher=False)
        assert b"ThreadSanitizer" not in p.stderr, p.stderr.decode()[-3000:]
        assert p.returncode == 0, (cmd, p.returncode, p.stderr[-2000:])
    assert len(ctx.proxy.requests()) == 8 * 25 + 2


@test
@not_under("asan", "ThreadSanitizer and AddressSanitizer cannot share a process (make test runs it)")
def new_origins_decided_by_many_threads_at_once(ctx):
    """Eight threads, a new handle for each request, 40 hosts of the wildcard
    route between them (more origins than the config's shared table holds,
    origins.h, filled by the threads at once): under ThreadSanitizer no
    report, and every request arrives at the proxy once, routed."""
    mark_all(ctx)
    env = ctx.env(AMPSHIM_CONFIG=ctx.cfg, LD_PRELOAD=os.path.join(BUILD, "tsan", "libampshim.so"),
                  TSAN_OPTIONS="halt_on_error=1 exitcode=66")
    p = ctx.run([os.path.join(BUILD, "tsan", "threads_client"), "8", "25", SF + "/orig", "40"], env=env,
                launcher=False)
    assert b"ThreadSanitizer" not in p.stderr, p.stderr.decode()[-3000:]
    assert p.returncode == 0 and p.stdout == b"ok 200 failed 0\n", (p.returncode, p.stdout, p.stderr[-2000:])
    reqs = ctx.proxy.requests()
    assert len(reqs) == 200, len(reqs)
    # Each path once, each through the wildcard route (the proxy is told the
    # installation, not the host).
    want = {"/orig/t%d/%d" % (t, i) for t in range(8) for i in range(25)}
    for r in reqs:
        assert r["target"] in want and ["x-amp-installation-id", "inst-sf-1"] in r["headers"], r
        want.remove(r["target"])
    assert not want, want


@test
def no_deadlock_with_curl_in_library_constructors(ctx):
    plug = os.path.join(BUILD, "plugins", "libctor_plug.so")
    for env in (ctx.env(AMPSHIM_CONFIG=ctx.cfg, LD_PRELOAD=LIB), ctx.env(LD_PRELOAD=LIB)):
        p = subprocess.run([prog("dl_race"), plug, "3000"], capture_output=True, env=env, timeout=90)
        assert p.returncode == 0 and p.stdout == b"done\n", (p.returncode, p.stdout, p.stderr)
