"""The two stages of the preload (include/stage1.h): a program that never
uses libcurl gets the first stage only, neither the core nor libcurl; the
core is loaded where libcurl is, at start or at a later dlopen; without the
core a program runs as it would without ampshim, unrouted, its exit status
its own, silent unless the log is asked for."""

import os
import shutil
import subprocess

from .harness import (
    LIB, PY, RUNTIME_PRELOAD, Skip, assert_untouched, mark_all, ok, one, preload_env, prog, test,
)

CORE = "libampshim-core.so"

# Prints whether the core and libcurl are mapped, before and after it opens
# a libcurl with ctypes (as an FFI binding does) and after it takes
# curl_easy_perform by name.
LATER = r"""
import ctypes, sys
def mapped():
    maps = open("/proc/self/maps").read()
    return "core=%d curl=%d" % ("libampshim-core.so" in maps, "libcurl" in maps)
print("start", mapped())
import json, _ctypes  # extension modules: dlopen'ed, no curl
print("imports", mapped())
lib = ctypes.CDLL("libcurl.so.4")
print("opened", mapped())
lib.curl_easy_perform
print("looked-up", mapped())
"""


@test
def stage1_program_without_curl_maps_no_core(ctx):
    """/bin/true and a program listing its objects: the first stage is
    there, the core and libcurl are not, and nothing is said. (With
    AMPSHIM_LOG at info the core is loaded at start: lifecycle.py.)"""
    env = preload_env(ctx, AMPSHIM_CONFIG=ctx.cfg)
    p = ok(ctx.run([prog("no_curl")], env=env, launcher=False))
    out = p.stdout.decode()
    assert "libampshim.so" in out, "the preload was not in effect:\n" + out
    assert CORE not in out and "libcurl" not in out, out
    assert p.stderr == b"", p.stderr
    p = subprocess.run(["/bin/true"], env=env, capture_output=True)
    assert p.returncode == 0 and p.stdout == p.stderr == b"", p
    # LD_DEBUG=files: the loader names every object it loads.
    p = subprocess.run(["/bin/true"], env=dict(env, LD_DEBUG="files"), capture_output=True)
    said = p.stderr.decode()
    assert "libampshim.so" in said and CORE not in said and "libcurl" not in said, said


@test
def stage1_core_loaded_at_start_when_curl_is_linked(ctx):
    """A program linked against libcurl has the core before main runs."""
    p = ok(ctx.run(["sh", "-c", "cat /proc/$$/maps; exec %s" % prog("no_curl")],
                   env=preload_env(ctx, AMPSHIM_CONFIG=ctx.cfg), launcher=False))
    assert CORE not in p.stdout.decode(), "a shell without curl got the core"
    p = subprocess.run(["curl", "-s", "file:///proc/self/maps"], env=preload_env(ctx, AMPSHIM_CONFIG=ctx.cfg),
                       capture_output=True)
    assert p.returncode == 0 and CORE.encode() in p.stdout, p.stdout.decode()


@test
def stage1_core_loaded_when_libcurl_is_opened_later(ctx):
    """Python: its own imports load no core; opening libcurl does, before
    its first call; taking a function by name is routed (ffi.py routes
    whole transfers so)."""
    p = ok(ctx.run([PY, "-c", LATER], env=preload_env(ctx, AMPSHIM_CONFIG=ctx.cfg), launcher=False))
    lines = p.stdout.decode().splitlines()
    assert lines == ["start core=0 curl=0", "imports core=0 curl=0", "opened core=1 curl=1",
                     "looked-up core=1 curl=1"], lines


def lone_stage1(ctx):
    """A folder with the first stage and no core beside it: the LD_PRELOAD that
    names it (after a sanitizer's runtime, which a sanitized client needs first)."""
    d = os.path.join(ctx.dir, "no-core")
    os.makedirs(d, exist_ok=True)
    shutil.copy(LIB, d)
    return ":".join(filter(None, (RUNTIME_PRELOAD, os.path.join(d, "libampshim.so"))))


@test
def stage1_without_core_runs_unrouted(ctx):
    """The core missing: a curl program's request goes where it would go
    without ampshim (not to the proxy), its exit status unchanged; one
    warning on stderr where the process is configured (the log's default
    level), none at AMPSHIM_LOG=error nor where nothing configured it; a
    program's own exit status kept."""
    lib = lone_stage1(ctx)
    route = ', { base_url = "%s"; installation_id = "inst-stage1"; }' % ctx.plain.url("/routed")
    cfg = ctx.write_cfg("stage1.cfg", ctx.config(extra_routes=route))
    url = ctx.plain.url("/routed/thing")
    # With the core: routed (so the route is one).
    mark_all(ctx)
    ok(ctx.run([prog("easy_client"), url], env=preload_env(ctx, AMPSHIM_CONFIG=cfg), launcher=False))
    assert one(ctx.proxy)["target"] == "/thing" and ctx.plain.requests() == []
    for log in (None, "warn", "error"):
        mark_all(ctx)
        extra = {"AMPSHIM_LOG": log} if log else {}
        p = ok(ctx.run([prog("easy_client"), url], env=ctx.env(LD_PRELOAD=lib, AMPSHIM_CONFIG=cfg, **extra),
                       launcher=False))
        assert "rc=0 status=200" in p.stdout.decode(), p.stdout
        assert_untouched(one(ctx.plain))
        assert ctx.proxy.requests() == []
        err = p.stderr.decode()
        if log != "error":
            assert "cannot load" in err and CORE in err and "not routed" in err, err
            assert len(err.splitlines()) == 1, err
        else:
            assert err == "", err
    mark_all(ctx)
    p = ctx.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url],
                env=ctx.env(LD_PRELOAD=lib, AMPSHIM_CONFIG=cfg, AMPSHIM_LOG="error"), launcher=False)
    assert p.returncode == 0 and p.stdout == b"200" and p.stderr == b"", p
    assert_untouched(one(ctx.plain))
    # ctypes takes the functions by name: libcurl's own, unrouted.
    p = subprocess.run([PY, "-c", "import ctypes; l = ctypes.CDLL('libcurl.so.4'); "
                        "print(l.curl_easy_init() != 0); raise SystemExit(7)"],
                       env=ctx.env(LD_PRELOAD=lib, AMPSHIM_CONFIG=cfg), capture_output=True)
    assert p.returncode == 7 and p.stdout == b"True\n" and b"not routed" in p.stderr, p
    p = subprocess.run(["sh", "-c", "exit 3"], env=ctx.env(LD_PRELOAD=lib), capture_output=True)
    assert p.returncode == 3 and p.stderr == b"", p
    # A curl program nobody configured (no AMPSHIM_CONFIG, no AMPSHIM_LOG): silent.
    p = ctx.run(["curl", "-s", "-o", "/dev/null", url], env=ctx.env(LD_PRELOAD=lib), launcher=False)
    assert p.returncode == 0 and p.stderr == b"", p


# chdir('/') before the first curl call: the core must still be found beside
# a first stage the loader knows by a relative path.
AWAY = r"""
import io, os, pycurl, sys
os.chdir("/")
c = pycurl.Curl(); c.setopt(c.URL, sys.argv[1]); c.setopt(c.WRITEDATA, io.BytesIO())
c.perform(); print(c.getinfo(c.RESPONSE_CODE))
"""


@test
def stage1_relative_preload_by_the_loader_then_chdir(ctx):
    """The first stage preloaded by a relative path that LD_PRELOAD does not
    hold (`ld.so --preload`, as /etc/ld.so.preload would): a chdir before the
    first transfer still finds the core beside it, and the call is routed."""
    loaders = [p for p in ("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1") if os.path.exists(p)]
    if not loaders:
        raise Skip("no known dynamic loader path on this machine")
    route = ', { base_url = "%s"; installation_id = "inst-stage1"; }' % ctx.plain.url("/routed")
    cfg = ctx.write_cfg("stage1-rel.cfg", ctx.config(extra_routes=route))
    env = ctx.env(AMPSHIM_CONFIG=cfg)
    env.pop("LD_PRELOAD", None)
    preload = ":".join(filter(None, (RUNTIME_PRELOAD, "./" + os.path.basename(LIB))))
    mark_all(ctx)
    p = subprocess.run([loaders[0], "--preload", preload, PY, "-c", AWAY, ctx.plain.url("/routed/away")],
                       cwd=os.path.dirname(LIB), env=env, capture_output=True, timeout=60)
    assert p.returncode == 0, p
    assert one(ctx.proxy)["target"] == "/away" and ctx.plain.requests() == [], p.stderr
