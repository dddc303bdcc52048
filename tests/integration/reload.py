"""A service that runs for months: a running process picks up a changed
config, and a rotated key file, within about a second: the file edited in
place, replaced by rename, a symlink swapped to new contents (as Kubernetes
updates a secret mount); a config that does not load is not used (the last
good one stays, with one warning naming the file and line); a key file
gone for a moment is read again when it is back."""

import os
import re
import subprocess
import time

from .harness import AMPSHIM, BUILD, KEY, PROJECT, PY, SF, header_values, mark_all, not_under, prog, test

LOOP = r"""
import io, os, pycurl, sys, time
c = pycurl.Curl()
n = 0
while not os.path.exists(sys.argv[2]) and n < 4000:
    c.setopt(c.URL, "%s/loop/%d" % (sys.argv[1], n))
    c.setopt(c.WRITEDATA, io.BytesIO())
    c.perform()
    n += 1
    time.sleep(0.05)
print(n)
"""


def write(path, text, how="in place"):
    if how == "in place":
        with open(path, "w") as f:
            f.write(text)
    else:  # a new file renamed over the old one
        tmp = path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def seen_within(ctx, what, seconds=2.0):
    """Waits until the last request at the proxy satisfies what(req)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reqs = ctx.proxy.requests()
        if reqs and what(reqs[-1]):
            return reqs[-1]
        time.sleep(0.05)
    reqs = ctx.proxy.requests()
    raise AssertionError("not seen within %.1fs; last request: %r" % (seconds, reqs[-1] if reqs else None))


@test
def reload_config_and_key_while_running(ctx):
    d = os.path.join(ctx.dir, "reload")
    for sub in ("a", "b"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    keyfile = os.path.join(d, "key")
    write(keyfile, KEY + "\n", "rename")
    link = os.path.join(d, "app.cfg")  # a symlink, as a secret mount has
    first = os.path.join(d, "a", "app.cfg")

    def text(inst):
        return ctx.config(key_line='api_key_file = "%s";' % keyfile).replace("inst-sf-1", inst)

    write(first, text("inst-A"), "rename")
    os.symlink(first, link)
    stop = os.path.join(d, "stop")
    ctx.proxy.control("reset")
    mark_all(ctx)
    loop = subprocess.Popen([AMPSHIM, "run", "-c", link, "--", PY, "-c", LOOP, SF, stop],
                            env=ctx.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        inst = lambda v: lambda r: header_values(r, "x-amp-installation-id") == [v]
        seen_within(ctx, inst("inst-A"), 10)
        write(first, text("inst-B"))                      # edited in place
        seen_within(ctx, inst("inst-B"))
        write(first, text("inst-C"), "rename")            # replaced by rename
        seen_within(ctx, inst("inst-C"))
        second = os.path.join(d, "b", "app.cfg")          # a symlink swapped
        write(second, text("inst-D"), "rename")
        os.symlink(second, link + ".new")
        os.replace(link + ".new", link)
        seen_within(ctx, inst("inst-D"))
        write(keyfile, "amp-rotated-key-0123456789\n", "rename")   # the key rotated
        seen_within(ctx, lambda r: header_values(r, "x-api-key") == ["amp-rotated-key-0123456789"])
        os.rename(keyfile, keyfile + ".away")                       # gone a moment
        time.sleep(1.5)
        write(keyfile, KEY + "\n", "rename")                       # and back
        seen_within(ctx, lambda r: header_values(r, "x-api-key") == [KEY])
        write(second, text("inst-E").replace("routes", "routes routes"))   # broken
        time.sleep(2.5)
        reqs = ctx.proxy.requests()
        assert header_values(reqs[-1], "x-amp-installation-id") == ["inst-D"], reqs[-1]
        assert header_values(reqs[-1], "x-api-key") == [KEY], reqs[-1]
    finally:
        open(stop, "w").close()
        out, err = loop.communicate(timeout=30)
    assert loop.returncode == 0, err
    assert int(out) > 20, out
    warnings = [l for l in err.decode().splitlines() if "stays in use" in l]
    assert len(warnings) == 2, err  # the key file gone, the broken config: one line each
    assert keyfile in warnings[0], warnings
    assert re.search(re.escape(link) + r":\d+: ", warnings[1]), warnings  # the file and line
    assert "amp-rotated-key" not in err.decode() and KEY not in err.decode(), err


# --- many reloads: what each leaves behind, and threads while it happens ------
# reload_client (tests/clients/reload_client.c) changes the config before each
# transfer; its own clock makes the library look at every transfer, so that
# thousands of reloads take seconds. Memory is judged by its VmRSS.

def reload_texts(ctx, nroutes, key_line=None):
    """Two configs of nroutes routes that differ in one value (so that each
    change loads), and their files."""
    paths = []
    for inst in ("inst-A", "inst-B"):
        routes = ['{ base_url = "https://*.my.salesforce.com"; installation_id = "%s"; }' % inst]
        routes += ['{ base_url = "https://p%d.example.com/api/v%d"; installation_id = "inst-%d"; }'
                   % (i, i, i) for i in range(1, nroutes)]
        text = ('proxy: { url = "%s"; project_id = "%s"; %s };\nroutes = (\n  %s\n);\n'
                % (ctx.proxy.url(), PROJECT, key_line or 'api_key = "%s";' % KEY, ",\n  ".join(routes)))
        paths.append(ctx.write_cfg("reload-%d-%s.cfg" % (nroutes, inst), text))
    return paths


def run_reloads(ctx, nroutes, requests, limit_kb, mode="write", key_line=None, touch=()):
    a, b = reload_texts(ctx, nroutes, key_line)
    cfg = ctx.write_cfg("reload-%d-live.cfg" % nroutes, open(a).read())
    ctx.proxy.control("reset")
    mark_all(ctx)
    # ~3 ms a request: longer than ctx.run waits on a busy machine.
    p = subprocess.run([AMPSHIM, "run", "-c", cfg, "--", prog("reload_client"), "1", str(requests),
                        SF + "/many", str(limit_kb), mode, cfg, a, b, *touch],
                       capture_output=True, env=ctx.env(AMPSHIM_LOG="info"), timeout=300)
    out = p.stdout.decode()
    assert p.returncode == 0, (p.returncode, out, p.stderr.decode(errors="replace")[-2000:])
    f = out.split()
    stats = {f[i]: int(f[i + 1]) for i in range(0, len(f) - 1, 2)}
    err = p.stderr.decode(errors="replace")
    stats["reloads"] = err.count(" read again: ")
    stats["grown_kb"] = stats["rss_end"] - stats["rss_start"]
    print("     %d routes, %s: %r" % (nroutes, mode, stats), flush=True)
    assert KEY not in err
    return stats


@test
@not_under("asan", "its quarantine keeps freed memory resident on purpose")
def reloads_of_a_small_config_leave_nothing_behind(ctx):
    """10,000 reloads of a 1-route config: the process ends within a few MB
    of where it started (each used to keep ~4 KB for good)."""
    s = run_reloads(ctx, 1, 10000, 32 * 1024)
    assert s["done"] == 10000 and s["reloads"] >= 9990, s
    assert s["grown_kb"] < 3 * 1024, s
    reqs = ctx.proxy.requests()
    assert len(reqs) == 10000
    assert [header_values(r, "x-amp-installation-id") for r in reqs[-2:]] == [["inst-A"], ["inst-B"]]


@test
@not_under("asan", "its quarantine keeps freed memory resident on purpose")
def reloads_of_a_large_config_leave_nothing_behind(ctx):
    """1,000 reloads of a 1,000-route config (~544 KB each, kept for good,
    before): within a few MB of where it started."""
    s = run_reloads(ctx, 1000, 1000, 64 * 1024)
    assert s["done"] == 1000 and s["reloads"] >= 999, s
    assert s["grown_kb"] < 4 * 1024, s


@test
def touched_files_load_nothing(ctx):
    """A config and a key file whose mtime moves while their contents stay
    are not loaded again."""
    keyfile = os.path.join(ctx.dir, "reload-touch.key")
    write(keyfile, KEY + "\n", "rename")
    s = run_reloads(ctx, 1, 300, 0, "touch", 'api_key_file = "%s";' % keyfile, [keyfile])
    assert s["done"] == 300 and s["reloads"] == 0, s
    reqs = ctx.proxy.requests()
    assert len(reqs) == 300 and all(header_values(r, "x-api-key") == [KEY] for r in reqs)


@test
def a_waiting_transfer_keeps_its_config(ctx):
    """A transfer added to a multi handle before 200 reloads and run after
    them goes with the config it was added under, which was kept for it
    (every other old one freed)."""
    s = run_reloads(ctx, 1, 200, 0, "multi")
    assert s["ok"] == 201 and s["reloads"] >= 199, s
    reqs = ctx.proxy.requests()
    held = [r for r in reqs if r["target"].endswith("/many/held")]
    assert len(held) == 1 and header_values(held[0], "x-amp-installation-id") == ["inst-A"], held
    assert header_values(held[0], "x-api-key") == [KEY]


@test
@not_under("asan", "ThreadSanitizer and AddressSanitizer cannot share a process (make test runs it)")
def reload_under_threads_race_free_under_thread_sanitizer(ctx):
    """The config changed before each of one thread's transfers while three
    others run theirs (on one handle each, then each transfer on a new handle
    to one of 40 hosts: new origins in each config's shared table, more than
    it holds), under ThreadSanitizer: no report, every call routed with one
    config or the other."""
    for mode in ("write", "hosts"):
        reload_under_tsan(ctx, mode)


def reload_under_tsan(ctx, mode):
    a, b = reload_texts(ctx, 3)
    cfg = ctx.write_cfg("reload-tsan-live.cfg", open(a).read())
    ctx.proxy.control("reset")
    mark_all(ctx)
    env = ctx.env(AMPSHIM_CONFIG=cfg, LD_PRELOAD=os.path.join(BUILD, "tsan", "libampshim.so"),
                  TSAN_OPTIONS="halt_on_error=1 exitcode=66")
    p = ctx.run([os.path.join(BUILD, "tsan", "reload_client"), "4", "150", SF + "/tsan-reload", "0",
                 mode, cfg, a, b], env=env, launcher=False)
    assert b"ThreadSanitizer" not in p.stderr, p.stderr.decode(errors="replace")[-4000:]
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr[-2000:])
    reqs = ctx.proxy.requests()
    insts = {tuple(header_values(r, "x-amp-installation-id")) for r in reqs}
    assert insts == {("inst-A",), ("inst-B",)}, insts
    assert all(header_values(r, "x-api-key") == [KEY] for r in reqs)
