"""Quiet by default (issue 16, item 7): what ampshim writes on a host's stderr
becomes the host's own error text, so at the default level a process says at
most one line per route per block (when it first sees the block), never one
per call or per retry, and nothing for a call that went well; the answer
itself (status, Retry-After, the JSON body) tells the application the rest.
A call answered here never names the proxy's address, at any level."""

import os
import time

from .harness import PY, SF, http_date, mark_all, ok, queue_429, rl_cfg, test

SLACK = "https://slack.com/api/chat.postMessage"

# N calls to each URL given, in one process, as a program that retries does;
# with "fork", the same again in a child forked after the parent's calls.
LOOP = r"""
import os, sys, pycurl, io
def calls(urls, n):
    for _ in range(n):
        for u in urls:
            c = pycurl.Curl()
            c.setopt(c.URL, u)
            c.setopt(c.WRITEDATA, io.BytesIO())
            try:
                c.perform()
                print(u, c.getinfo(c.RESPONSE_CODE), flush=True)
            except pycurl.error as e:
                print(u, "error", e.args[0], flush=True)
            c.close()
fork, n, urls = sys.argv[1] == "fork", int(sys.argv[2]), sys.argv[3:]
calls(urls, n)
if fork:
    pid = os.fork()
    if pid == 0:
        calls(urls, n)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def ours(p):
    """The lines ampshim wrote on stderr."""
    return [l for l in p.stderr.decode(errors="replace").splitlines() if l.startswith("ampshim[")]


def loop(ctx, cfg, urls, n=10, fork=False, env=None):
    return ok(ctx.run([PY, "-c", LOOP, "fork" if fork else "once", str(n), *urls], cfg=cfg, env=env))


def block(ctx, cfg, url, seconds=60):
    """A process of its own gets the proxy's 429 on url's route."""
    queue_429(ctx, http_date(int(time.time()) + seconds), "true")
    p = ok(ctx.curl("-o", "/dev/null", url, cfg=cfg))
    ctx.proxy.control("reset")
    mark_all(ctx)
    return p


@test
def quiet_call_that_went_well_says_nothing(ctx):
    cfg, _ = rl_cfg(ctx, "quiet-well", on_block="")
    p = loop(ctx, cfg, [SF + "/fine", SLACK], n=3)
    assert p.stdout.decode().split().count("200") == 6, p.stdout
    assert p.stderr == b"", p.stderr


@test
def quiet_retrying_program_one_line_per_block(ctx):
    """A loop of 10 calls to a blocked route in one process: one line, in every
    mode; the process that got the 429 itself says it once, not once more per call."""
    for mode in ("", "fail", "wait"):
        cfg, _ = rl_cfg(ctx, "quiet-retry-" + (mode or "respond"), on_block=mode)
        p = block(ctx, cfg, SF + "/first")
        assert len(ours(p)) == 1, (mode, p.stderr)
        p = loop(ctx, cfg, [SF + "/again"])
        assert len(p.stdout.decode().splitlines()) == 10, (mode, p.stdout)
        lines = ours(p)
        assert len(lines) == 1, (mode, lines)
        assert "https://*.my.salesforce.com" in lines[0] and "until" in lines[0], lines
        assert ctx.proxy.requests() == [], mode
    # The process that records the 429 and then retries: one line in all.
    cfg, _ = rl_cfg(ctx, "quiet-retry-self", on_block="")
    queue_429(ctx, http_date(int(time.time()) + 60), "true")
    p = loop(ctx, cfg, [SF + "/self"])
    assert p.stdout.decode().split().count("429") == 10, p.stdout
    assert len(ours(p)) == 1, p.stderr
    assert len(ctx.proxy.requests()) == 1


@test
def quiet_forked_child_and_two_routes(ctx):
    """A child forked after its parent said the block says nothing more; two
    blocked routes, one line each, whatever the number of calls."""
    cfg, _ = rl_cfg(ctx, "quiet-fork", on_block="")
    block(ctx, cfg, SF + "/first")
    p = loop(ctx, cfg, [SF + "/parent"], fork=True)
    assert p.stdout.decode().split().count("429") == 20, p.stdout
    assert len(ours(p)) == 1, p.stderr
    block(ctx, cfg, SLACK)
    p = loop(ctx, cfg, [SF + "/a", SLACK], n=10)
    lines = ours(p)
    assert len(lines) == 2, lines
    assert any("salesforce" in l for l in lines) and any("slack.com" in l for l in lines), lines
    assert ctx.proxy.requests() == []


@test
def quiet_answered_call_never_names_the_proxy(ctx):
    """At info and debug, a call answered here is never logged as sent to the
    proxy (`route … -> http://127.0.0.1:PORT/…`); a call sent there is."""
    cfg, _ = rl_cfg(ctx, "quiet-addr", on_block="")
    block(ctx, cfg, SF + "/first")
    for level in ("info", "debug"):
        p = ok(ctx.curl("-o", "/dev/null", "-w", "%{http_code}", SF + "/answered", cfg=cfg,
                        env=ctx.env(AMPSHIM_LOG=level)))
        assert p.stdout == b"429", p.stdout
        about = [l for l in ours(p) if "/answered" in l or "salesforce" in l]
        assert about, (level, p.stderr)
        for l in about:
            assert ctx.proxy.url() not in l and "127.0.0.1" not in l, (level, l)
        p = ok(ctx.curl("-o", "/dev/null", SLACK, cfg=cfg, env=ctx.env(AMPSHIM_LOG=level)))
        assert any("slack.com" in l and ctx.proxy.url() in l for l in ours(p)), (level, p.stderr)
    assert ctx.proxy.requests()[-1]["target"] == "/chat.postMessage"
