"""The user's documentation, checked: every command block of README.md marked for it is run
as a user would run it, and every manual page renders without a warning.

A block is run when the line right before its ```sh fence is an HTML comment

    <!-- test -->                     exit status 0
    <!-- test exit=1 expect="TEXT" --> that exit status, TEXT in its stdout or stderr
    <!-- test arrives="/PATH" -->      a request for /PATH reached the proxy, routed

(`exit=any` where the status depends on the network: a dry run's call goes to the provider
itself, which a test machine cannot reach; `setup=429` first has the proxy answer a call 429,
so that a block is recorded). The blocks run in the README's order, each with `bash -e -o
pipefail`, in one home folder of their own (the quick start's config is the next blocks'),
with `ampshim` on PATH (this build's), `$AMPERSAND_API_KEY` set, and `XDG_RUNTIME_DIR` a
private folder (their state is theirs). The one thing changed in their text: the proxy,
`https://proxy.withampersand.com`, is a mock on loopback (tests/mock_proxy.py) that knows the
README's project ID and this key.

Not marked, because a test cannot run them: `make demo` and `make test` (the suite itself),
`make deb`, `make install` and `apt install` (the package tests do those), systemctl, docker,
kubectl, and the commands that name files under /etc or /var of a real service."""

import os
import re
import shlex
import subprocess
import time

from .harness import AMPSHIM, ROOT, Server, http_date, not_under, test

README = os.path.join(ROOT, "README.md")
MARK = re.compile(r"^<!-- test(?P<attrs>( [^>]*)?) -->$")
REAL_PROXY = "https://proxy.withampersand.com"
# What the README's quick start writes: the project's ID, a key in $AMPERSAND_API_KEY.
README_PROJECT = "8f0c6a4e-1d2b-4c3a-9e5f-7a6b5c4d3e2f"
README_KEY = "amp-readme-key-3b9d0c1e5f27"
QUICK_URL = "https://acme.my.salesforce.com/services/data/v59.0/limits"
MAN_PAGES = ("ampshim.1", "ampshim.cfg.5", "ampshim-json.7")


def marked_blocks():
    """[(line number, attributes, text)] of the README's blocks marked to be run."""
    lines = open(README).read().splitlines()
    blocks = []
    for i, line in enumerate(lines):
        m = MARK.match(line)
        if not m:
            continue
        assert i + 1 < len(lines) and lines[i + 1] == "```sh", \
            "README.md:%d: a test mark not right before a ```sh block" % (i + 1)
        attrs = dict(a.split("=", 1) for a in shlex.split(m.group("attrs")))
        end = lines.index("```", i + 2)
        blocks.append((i + 2, attrs, "\n".join(lines[i + 2:end]) + "\n"))
    return blocks


def record_429(proxy, env):
    """The proxy answers the quick start's call 429 (retry in 60 s): a block is recorded."""
    proxy.control("reset")
    proxy.control("queue", {"status": 429, "body": "rate limited", "headers": {
        "X-Amp-Retry-After": http_date(time.time() + 60), "X-Amp-Retryable": "true"}})
    p = subprocess.run(["ampshim", "run", "--", "curl", "-sS", QUICK_URL], capture_output=True,
                       env=env, timeout=60)
    assert b"answered 429" in p.stderr, p.stderr


@test
@not_under("asan", "the README's commands run this build's ampshim from PATH, as a user's would")
def readme_commands_run(ctx):
    """Each marked block of README.md runs, in order, with the status and the output it says."""
    blocks = marked_blocks()
    assert len(blocks) >= 8, "only %d blocks of README.md are marked to be run" % len(blocks)
    text = open(README).read()
    for needed in ("make demo", "make test"):
        assert "\n%s" % needed in text, "README.md no longer shows %s" % needed
    home, bindir, runtime = (os.path.join(ctx.dir, "readme-" + n) for n in ("home", "bin", "run"))
    for d in (home, bindir, runtime):
        os.makedirs(d, mode=0o700, exist_ok=True)
    if not os.path.exists(os.path.join(bindir, "ampshim")):
        os.symlink(AMPSHIM, os.path.join(bindir, "ampshim"))
    env = ctx.env(HOME=home, XDG_RUNTIME_DIR=runtime, AMPERSAND_API_KEY=README_KEY,
                  PATH=bindir + ":" + os.environ["PATH"])
    env.pop("XDG_CONFIG_HOME")
    proxy = Server(ctx.dir, "readme-proxy", "--project-id", README_PROJECT, "--api-key", README_KEY)
    try:
        for line, attrs, block in blocks:
            where = "README.md:%d" % line
            if attrs.get("setup") == "429":
                record_429(proxy, env)
            proxy.mark()
            script = block.replace(REAL_PROXY, proxy.url())
            p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=home, env=env,
                               capture_output=True, timeout=60)
            out = (p.stdout + p.stderr).decode(errors="replace")
            want = attrs.get("exit", "0")
            assert want == "any" or p.returncode == int(want), "%s exited %d, not %s:\n%s%s" % (
                where, p.returncode, want, block, out)
            if "expect" in attrs:
                assert attrs["expect"] in out, "%s: %r not in its output:\n%s" % (where, attrs["expect"], out)
            if "arrives" in attrs:
                got = [r for r in proxy.requests() if r["target"] == attrs["arrives"]]
                assert len(got) == 1 and got[0]["status"] == 200, "%s: %s at the proxy: %r" % (
                    where, attrs["arrives"], proxy.requests())
                sent = {k.lower(): v for k, v in got[0]["headers"]}
                assert sent.get("x-amp-installation-id") == "inst-acme", sent
                assert sent.get("x-amp-project-id") == README_PROJECT, sent
    finally:
        proxy.stop()


def man_warnings(page):
    """What man and groff say of a page of man/ (nothing, for a clean one)."""
    path = os.path.join(ROOT, "man", page)
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    man = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True, env=env,
                         timeout=60)
    groff = subprocess.run(["groff", "-ww", "-z", "-man", path], capture_output=True, text=True,
                           timeout=60)
    return man, groff


@test
def man_pages_render_clean(ctx):
    """Each manual page renders (man at 80 columns, groff -ww) without a single warning, and
    ampshim(1)'s SYNOPSIS names every command."""
    for page in MAN_PAGES:
        man, groff = man_warnings(page)
        assert man.returncode == 0 and man.stdout.strip(), "man -l man/%s: %s" % (page, man.stderr)
        assert man.stderr == "", "man --warnings man/%s:\n%s" % (page, man.stderr)
        assert groff.returncode == 0 and groff.stderr == "", "groff -ww man/%s:\n%s" % (page, groff.stderr)
    synopsis = open(os.path.join(ROOT, "man", "ampshim.1")).read().split(".SH SYNOPSIS", 1)[1]
    synopsis = synopsis.split("\n.SH ", 1)[0]
    for cmd in ("run", "check", "route", "state", "clear", "stats", "env", "providers", "help", "version"):
        assert re.search(r"^\.B ampshim %s\b" % cmd, synopsis, re.M), "SYNOPSIS lacks %s" % cmd
