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

from .harness import AMPSHIM, KEY, PY, SF, header_values, mark_all, test

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
