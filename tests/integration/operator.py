"""The operator's view of a service: a program running as www-data records
its blocks and counters in its own default place (/tmp/ampshim-33/), and
root's `ampshim state|stats|clear -c the-service.cfg` finds them, with or
without XDG_RUNTIME_DIR, saying whose they are, and never takes a folder of
another user's for the service's; `state`, `stats` and `clear` with a broken
config; `state` naming the route that got the 429; Prometheus output that a
scrape accepts when two projects share a state file, written atomically;
`check` on a service's config without a state_file."""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

from .harness import AMPSHIM, LIB, PROJECT, SF, http_date, ok, queue_429, rl_cfg, test
from .stats import prometheus_samples, series

WWW = 33
AS_WWW = ["setpriv", "--reuid=%d" % WWW, "--regid=%d" % WWW, "--clear-groups"]


def tmp_places():
    return glob.glob("/tmp/ampshim-%d" % WWW) + glob.glob("/tmp/ampshim-%d.*" % WWW)


def forget_www_places():
    for d in tmp_places():
        shutil.rmtree(d, ignore_errors=True)


def launcher(ctx, *args, xdg=None, prefix=(), env=None):
    env = dict(env or ctx.env())
    env.pop("XDG_RUNTIME_DIR", None)
    if xdg:
        env["XDG_RUNTIME_DIR"] = xdg
    return subprocess.run([*prefix, AMPSHIM, *args], capture_output=True, env=env, timeout=30)


class Service:
    """A folder www-data can read, and a config in it without a state_file."""

    def __init__(self, ctx, name, text=None):
        self.dir = tempfile.mkdtemp(prefix="ampshim-it-op-")
        os.chmod(self.dir, 0o755)
        self.cfg = os.path.join(self.dir, name + ".cfg")
        with open(self.cfg, "w") as f:
            f.write(text or ctx.config())
        os.chown(self.cfg, WWW, WWW)
        os.chmod(self.cfg, 0o600)
        self.home = os.path.join(self.dir, "home")
        os.mkdir(self.home)
        os.chown(self.home, WWW, WWW)

    def env(self, ctx):
        env = ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=self.cfg, HOME=self.home)
        env.pop("XDG_RUNTIME_DIR", None)
        return env

    def curl(self, ctx, path):
        return subprocess.run(AS_WWW + ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                        SF + path], capture_output=True, env=self.env(ctx), timeout=30)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def operator_sees_a_services_blocks_and_counts(ctx):
    """www-data's call gets a 429, the next one is answered here. Root's
    `state -c` (without XDG_RUNTIME_DIR, and with it set to a folder of
    root's) lists the block as www-data's, in /tmp/ampshim-33/state, in text
    and in JSON; `stats` shows www-data's counts; a folder of the same name
    pattern that another user owns is never read; `clear` clears the block
    in www-data's file (still www-data's own), and the next call is sent."""
    forget_www_places()
    svc = Service(ctx, "svc")
    xdg = os.path.join(ctx.dir, "op-root-xdg")
    os.makedirs(xdg, mode=0o700, exist_ok=True)
    planted = "/tmp/ampshim-%d.9" % WWW
    try:
        queue_429(ctx, retry_after=http_date(time.time() + 300))
        ctx.proxy.mark()
        first, second = svc.curl(ctx, "/first"), svc.curl(ctx, "/second")
        assert (first.stdout, second.stdout) == (b"429", b"429"), (first, second)
        assert [r["target"] for r in ctx.proxy.requests()] == ["/first"], second
        place = "/tmp/ampshim-%d/state" % WWW
        st = os.lstat(os.path.dirname(place))
        assert st.st_uid == WWW and st.st_mode & 0o777 == 0o700, st
        # A folder another user made under a name of www-data's: never read.
        os.mkdir(planted)
        shutil.copy(place, planted + "/state")
        os.chown(planted, 65534, 65534)

        for env_xdg in (None, xdg):
            p = ok(launcher(ctx, "state", "-c", svc.cfg, xdg=env_xdg))
            out = p.stdout.decode()
            assert "inst-sf-1" in out and "https://*.my.salesforce.com" in out, out
            assert "%s (recorded by www-data (uid 33))" % place in out, out
            assert planted not in out, out
            if env_xdg:  # root's own place there is new: empty
                assert "state file: %s/ampshim/state (recorded by root (uid 0))\nno route is blocked" % xdg \
                    in out, out
            doc = json.loads(ok(launcher(ctx, "state", "--json", "-c", svc.cfg, xdg=env_xdg)).stdout)
            mine = [b for b in doc["blocks"] if b["user"] == "www-data"]
            assert len(mine) == 1 and mine[0]["uid"] == WWW and mine[0]["state_file"] == place, doc
            assert mine[0]["route"] == "https://*.my.salesforce.com", mine
            assert mine[0]["installation_id"] == "inst-sf-1", mine
            assert all(b["state_file"] != planted + "/state" for b in doc["blocks"]), doc

        doc = json.loads(ok(launcher(ctx, "stats", "--json", "-c", svc.cfg)).stdout)
        sf = [r for r in doc["routes"] if r["user"] == "www-data"]
        assert len(sf) == 1 and sf[0]["routed"] == 1 and sf[0]["blocked"] == 1, doc
        assert sf[0]["counts_file"] == place + ".counts" and sf[0]["uid"] == WWW, sf
        table = ok(launcher(ctx, "stats", "-c", svc.cfg, xdg=xdg)).stdout.decode()
        assert "%s.counts (recorded by www-data (uid 33))" % place in table, table

        # www-data itself, with an XDG_RUNTIME_DIR of its own, sees its /tmp place too.
        own_xdg = os.path.join(svc.home, "run")
        os.mkdir(own_xdg, 0o700)
        os.chown(own_xdg, WWW, WWW)
        p = ok(launcher(ctx, "state", "-c", svc.cfg, xdg=own_xdg, prefix=AS_WWW,
                        env=ctx.env(HOME=svc.home)))
        assert "inst-sf-1" in p.stdout.decode() and place in p.stdout.decode(), p

        # A config that names no routes (it does not load) clears no one else's blocks.
        vague = ctx.write_cfg("op-vague.cfg", "proxy: { oops };\n")
        p = ok(launcher(ctx, "clear", "-c", vague, xdg=xdg))
        assert place not in p.stdout.decode(), p
        assert "inst-sf-1" in ok(launcher(ctx, "state", "-c", svc.cfg)).stdout.decode()

        p = ok(launcher(ctx, "clear", "-c", svc.cfg))
        assert "cleared 1 blocked route in %s (recorded by www-data (uid 33))" % place in \
            p.stdout.decode(), p
        for f in (place, place + ".counts"):
            assert os.lstat(f).st_uid == WWW, f
        ctx.proxy.mark()
        third = svc.curl(ctx, "/third")
        assert third.stdout == b"200", third
        assert [r["target"] for r in ctx.proxy.requests()] == ["/third"]
        assert "inst-sf-1" not in ok(launcher(ctx, "state", "-c", svc.cfg)).stdout.decode()
    finally:
        svc.close()
        forget_www_places()


@test
def operator_tools_work_with_a_broken_config(ctx):
    """A config with a typo: `state`, `stats` and `clear` say so in one
    warning line, and work from what its text still says (its state_file,
    its installation IDs); a config that says nothing usable shows every
    recorded entry of the default place."""
    cfg, state = rl_cfg(ctx, "op-broken")
    queue_429(ctx, retry_after=http_date(time.time() + 300))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    text = open(cfg).read().replace("installation_id = \"inst-anthropic\"",
                                    "instalation_id = \"inst-anthropic\"")
    broken = ctx.write_cfg("op-broken-typo.cfg", text)
    for cmd in (("state",), ("stats",), ("state", "--json"), ("stats", "--json"), ("stats", "--prometheus")):
        p = launcher(ctx, *cmd, "-c", broken)
        assert p.returncode == 0, (cmd, p)
        err = [l for l in p.stderr.decode().splitlines() if l]
        assert len(err) == 1 and "op-broken-typo.cfg" in err[0] and "does not load" in err[0], (cmd, err)
        out = p.stdout.decode()
        assert state in out or "inst-sf-1" in out, (cmd, out)
    doc = json.loads(launcher(ctx, "state", "--json", "-c", broken).stdout)
    assert doc["state_file"] == state and [b["installation_id"] for b in doc["blocks"]] == ["inst-sf-1"], doc
    assert doc["ok"] is True and any("does not load" in w for w in doc["warnings"]), doc
    doc = json.loads(launcher(ctx, "stats", "--json", "-c", broken).stdout)
    assert [r["routed"] for r in doc["routes"]] == [1], doc
    p = ok(launcher(ctx, "clear", "-c", broken))
    assert "cleared 1 blocked route in %s" % state in p.stdout.decode(), p
    # Nothing readable but the state_file: every entry, by its stored name.
    ctx.curl("-o", "/dev/null", "https://slack.com/api/x", cfg=cfg)
    queue_429(ctx, retry_after=http_date(time.time() + 300))
    ctx.curl("-o", "/dev/null", SF + "/y", cfg=cfg)
    bare = ctx.write_cfg("op-broken-bare.cfg", "throttle: { state_file = \"%s\"; oops };\n" % state)
    p = ok(launcher(ctx, "state", "-c", bare))
    assert "inst-sf-1" in p.stdout.decode() and "does not load" in p.stderr.decode(), p
    p = ok(launcher(ctx, "stats", "-c", bare))
    assert "slack.com" in p.stdout.decode() and "salesforce" in p.stdout.decode(), p
    ok(launcher(ctx, "clear", "-c", bare))


@test
def state_names_the_route_that_got_the_429(ctx):
    """Two routes of one installation: the 429 came on the second, and
    `state` names the second (not the installation's first route)."""
    state = os.path.join(ctx.dir, "op-second.state")
    text = ctx.config(extra_routes=',\n  { base_url = "https://api.hubapi.com"; installation_id = "inst-sf-1"; }')
    cfg = ctx.write_cfg("op-second.cfg", text + 'throttle: { state_file = "%s"; };\n' % state)
    queue_429(ctx, retry_after=http_date(time.time() + 300))
    ctx.curl("-o", "/dev/null", "https://api.hubapi.com/crm/v3", cfg=cfg)
    out = ok(launcher(ctx, "state", "-c", cfg)).stdout.decode()
    assert "route https://api.hubapi.com (installation inst-sf-1)" in out, out
    doc = json.loads(ok(launcher(ctx, "state", "--json", "-c", cfg)).stdout)
    assert [b["route"] for b in doc["blocks"]] == ["https://api.hubapi.com"], doc
    assert doc["blocks"][0]["recorded_route"] == "https://api.hubapi.com", doc


@test
def prometheus_two_projects_sharing_a_state_file(ctx):
    """Two configs of two projects (same routes, same IDs) share a state
    file: the Prometheus text has every series once (strict parser), HELP
    and TYPE once per metric, and the project label tells them apart."""
    state = os.path.join(ctx.dir, "op-shared.state")
    other = "11111111-2222-3333-4444-555555555555"
    a = ctx.write_cfg("op-proj-a.cfg", ctx.config() + 'throttle: { state_file = "%s"; };\n' % state)
    b = ctx.write_cfg("op-proj-b.cfg", ctx.config(project=other) +
                      'throttle: { state_file = "%s"; };\n' % state)
    ctx.proxy.control("reset")
    ok(ctx.curl("-o", "/dev/null", SF + "/a", cfg=a))
    ctx.curl("-o", "/dev/null", SF + "/b", cfg=b)  # the mock knows one project: a 4xx, counted
    for cfg, mine in ((a, PROJECT), (b, other)):
        text = ok(launcher(ctx, "stats", "--prometheus", "-c", cfg)).stdout.decode()
        s = prometheus_samples(text)
        for metric in ("ampshim_routed_total", "ampshim_responses_total", "ampshim_last_status"):
            assert text.count("# TYPE %s " % metric) == 1 and text.count("# HELP %s " % metric) == 1
        routed = [k for k in s if k[0] == "ampshim_routed_total"]
        assert len(routed) == 2, routed
        assert series(s, "ampshim_routed_total", project=mine, installation="inst-sf-1") == 1, s


@test
def prometheus_output_file_is_replaced_whole(ctx):
    """`stats --prometheus --output FILE` writes a new file beside FILE and
    renames it over FILE: a reader holding the old file still reads the old
    text, the new one is 0644 and complete, nothing else is left there."""
    cfg, _ = rl_cfg(ctx, "op-output")
    ok(ctx.curl("-o", "/dev/null", SF + "/a", cfg=cfg))
    folder = os.path.join(ctx.dir, "op-textfile")
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, "ampshim.prom")
    with open(target, "w") as f:
        f.write("old\n")
    os.link(target, target + ".keep")
    old = os.stat(target).st_ino
    p = ok(launcher(ctx, "stats", "--prometheus", "--output", target, "-c", cfg))
    assert p.stdout == b"", p
    st = os.stat(target)
    assert st.st_ino != old and st.st_mode & 0o777 == 0o644, st
    assert open(target + ".keep").read() == "old\n"
    s = prometheus_samples(open(target).read())
    assert series(s, "ampshim_routed_total", installation="inst-sf-1") == 1, s
    assert sorted(os.listdir(folder)) == ["ampshim.prom", "ampshim.prom.keep"], os.listdir(folder)
    # A folder that cannot be written: an error, the old file left as it was.
    p = launcher(ctx, "stats", "--prometheus", "--output", "/proc/ampshim.prom", "-c", cfg)
    assert p.returncode == 2 and p.stderr, p


@test
def check_warns_when_a_services_config_has_no_state_file(ctx):
    """A config under /etc (one a system service reads) without
    throttle.state_file: `check` warns that a private /tmp hides its state,
    naming the state_file to set; with one set, or a config elsewhere, no
    warning."""
    folder = tempfile.mkdtemp(prefix="ampshim-it-", dir="/etc")
    try:
        cfg = os.path.join(folder, "worker.cfg")
        with open(cfg, "w") as f:
            f.write(ctx.config())
        os.chmod(cfg, 0o600)
        p = ok(launcher(ctx, "check", "-c", cfg))
        err = p.stderr.decode()
        assert "state_file" in err and "/var/lib/ampshim/worker.state" in err and "PrivateTmp" in err, err
        doc = json.loads(ok(launcher(ctx, "check", "--json", "-c", cfg)).stdout)
        assert any("/var/lib/ampshim/worker.state" in w for w in doc["warnings"]), doc
        with open(cfg, "a") as f:
            f.write('throttle: { state_file = "/var/lib/ampshim/worker.state"; };\n')
        p = ok(launcher(ctx, "check", "-c", cfg))
        assert b"state_file" not in p.stderr, p
        p = ok(launcher(ctx, "check", "-c", ctx.cfg))
        assert p.stderr == b"", p
    finally:
        shutil.rmtree(folder, ignore_errors=True)
