"""Each allocation the library makes failing in turn (build/allocfail, built
from tests/allocfail): a routed call, a 429 recorded, a blocked call
answered; each fails closed."""

import os
import subprocess
import time

from .harness import (
    BUILD, KEY, PROJECT, SF, assert_untouched, header_values, http_date, mark_all, ok, queue_429, test,
)


ALLOCFAIL = os.path.join(BUILD, "allocfail", "libampshim.so")


def complete_headers(req):
    """The proxy's own check passed: every header of ours, once, right."""
    for name, value in (("x-amp-proxy-version", "1"), ("x-amp-project-id", PROJECT), ("x-api-key", KEY),
                        ("x-amp-installation-id", "inst-sf-1")):
        if header_values(req, name) != [value]:
            return False
    return req["status"] not in (400, 401, 403)


@test
def allocation_failures_fail_closed(ctx):
    """Each allocation the library makes fails in turn (a build of it with
    every one countable), for a routed GET, a 429 recorded, and a blocked
    call answered: no crash, no hang, no call left unrouted (an unrouted
    one would reach the TLS mock through --connect-to), and no request at
    the proxy without our headers."""
    import concurrent.futures
    ctx.tls.mark()
    mark_all(ctx)
    scenarios = {}
    for name in ("get", "record", "answered"):
        state = os.path.join(ctx.dir, "allocfail-%s.state" % name)
        scenarios[name] = ctx.write_cfg("allocfail-%s.cfg" % name, ctx.config() +
                                        'throttle: { state_file = "%s"; };\n' % state)
    # "answered": the route is blocked before the runs (one clean 429).
    queue_429(ctx, http_date(int(time.time()) + 600))
    ok(ctx.curl("-o", "/dev/null", SF + "/block-first", cfg=scenarios["answered"]))

    def run(name, n):
        env = ctx.env(LD_PRELOAD=ALLOCFAIL, AMPSHIM_CONFIG=scenarios[name], AMPSHIM_FAIL_ALLOC=str(n))
        if name == "record":  # a state file of its own each time: every run records
            env["AMPSHIM_CONFIG"] = ctx.write_cfg("allocfail-record-%d.cfg" % n, ctx.config() +
                                                  'throttle: { state_file = "%s"; };\n'
                                                  % os.path.join(ctx.dir, "rec-%d.state" % n))
        p = subprocess.run(["curl", "-sS", "-k", "--connect-to", "::127.0.0.1:%d" % ctx.tls.port,
                            "-o", "/dev/null", "-w", "%{http_code}", SF + "/allocfail/%s/%d" % (name, n)],
                           capture_output=True, env=env, timeout=30)
        return n, p

    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "headers": {"X-Amp-Retry-After": http_date(int(time.time()) + 600)},
                                "body": "slow", "count": -1})
    try:
        for name in ("get", "record", "answered"):
            if name == "get":
                ctx.proxy.control("reset")
            elif name == "record":
                ctx.proxy.control("queue", {"status": 429, "body": "slow", "count": -1,
                                            "headers": {"X-Amp-Retry-After": http_date(int(time.time()) + 600)}})
            last = None
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                for start in range(1, 2000, 40):
                    results = list(pool.map(lambda n: run(name, n), range(start, start + 40)))
                    for n, p in results:
                        assert p.returncode >= 0 and p.returncode not in (134, 139), (name, n, p.returncode, p.stderr)
                        if b"allocfail: failing" not in p.stderr and last is None:
                            last = n
                    if last is not None:
                        break
            # Enough allocations failed in turn to mean something (a routed
            # GET made 9 once a handle's own buffers lived in its entry).
            assert last and last > 5, (name, last)
            assert ctx.tls.requests() == [], (name, "a call went out unrouted")
            bad = [r for r in ctx.proxy.requests() if not complete_headers(r)]
            assert not bad, (name, bad[:2])
    finally:
        ctx.proxy.control("reset")


@test
def allocation_failures_at_a_multi_cleanup_leave_no_handle_in_it(ctx):
    """A routed transfer run in a multi handle that is then cleaned up with
    the handle still in it; the handle then performs a URL of the third
    host. Each allocation the library makes failing in turn, the third host
    never gets our headers: the handles of a multi handle cleaned up are
    taken off it without allocating (one left marked in it was handed to
    libcurl as it was, our header list still on it)."""
    mark_all(ctx)
    last = None
    for n in range(1, 1000):
        env = ctx.env(LD_PRELOAD=ALLOCFAIL, AMPSHIM_CONFIG=ctx.cfg, AMPSHIM_FAIL_ALLOC=str(n))
        p = subprocess.run([os.path.join(BUILD, "lifecycle_client"), "multigone", SF + "/gone",
                            ctx.plain.url("/gone/%d" % n)], capture_output=True, env=env, timeout=30)
        assert p.returncode == 0, (n, p.returncode, p.stderr)
        if b"allocfail: failing" not in p.stderr:
            last = n
            break
    assert last and last > 10, last
    for r in ctx.plain.requests():
        assert_untouched(r)
