"""Per-route counters over processes (`ampshim stats`): calls routed, answers
by class, 429s, calls blocked here, the last status; as a table, as JSON and
in Prometheus' text format; reset."""

import json
import os
import re
import shutil
import socket
import subprocess
import time

from .harness import AMPSHIM, KEY, PROJECT, PY, SF, http_date, ok, rl_cfg, test


def stats(ctx, cfg, *args):
    return subprocess.run([AMPSHIM, "stats", "-c", cfg, *args], capture_output=True,
                          env=ctx.env(), timeout=30)


def prometheus_samples(text):
    """A strict parser of the text format (0.0.4): {(name, labels...): value}.
    Fails on what a scrape would reject: a sample line that does not parse, a
    label name given twice, a bad escape, HELP or TYPE given twice or TYPE after
    the metric's first sample, a metric's samples not together, and a series
    (name and label set) given twice. When promtool is installed, it checks the
    text too."""
    typed, helped, samples, done, current = {}, set(), {}, set(), None
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            assert len(parts) == 4 and re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", parts[2]), line
            name = parts[2]
            if parts[1] == "HELP":
                assert name not in helped, "HELP twice for %s" % name
                helped.add(name)
            else:
                assert name not in typed, "TYPE twice for %s" % name
                assert not any(k[0] == name for k in samples), "TYPE after samples of %s" % name
                assert parts[3] in ("counter", "gauge"), line
                typed[name] = parts[3]
            continue
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)', line)
        assert m, "not a sample line: %r" % line
        name, body = m.group(1), m.group(2)
        assert name in typed, "no # TYPE before %r" % line
        if name != current:
            assert name not in done, "samples of %s not together" % name
            if current:
                done.add(current)
            current = name
        labels, rest = [], body
        while rest:
            lm = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)', rest)
            assert lm, "bad labels in %r" % line
            labels.append((lm.group(1), lm.group(2)))
            rest = rest[lm.end():]
            assert rest or lm.group(3) == "", line
        names = [k for k, _ in labels]
        assert len(names) == len(set(names)), "a label twice in %r" % line
        key = (name,) + tuple(sorted(labels))
        assert key not in samples, "series given twice: %r" % line
        samples[key] = float(m.group(3))
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
        assert p.returncode == 0, p
    return samples


def series(samples, name, **labels):
    """The value of the one series of name whose labels include labels."""
    got = [v for k, v in samples.items()
           if k[0] == name and set(labels.items()) <= set(k[1:])]
    assert len(got) == 1, (name, labels, sorted(samples))
    return got[0]


@test
def stats_count_calls_of_several_processes(ctx):
    """Three processes: one gets two 500s and a 200, one two 200s on another
    route, one a 429 and then a call blocked (answered here). The counters
    say exactly that, in every form; --reset zeroes them."""
    cfg, _ = rl_cfg(ctx, "stats", on_block="respond")
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 500, "body": "oops"}, {"status": 500, "body": "oops"}])
    ok(ctx.curl("-o", "/dev/null", SF + "/a", "-o", "/dev/null", SF + "/b", "-o", "/dev/null",
                SF + "/c", cfg=cfg))
    ok(ctx.curl("-o", "/dev/null", "https://slack.com/api/x", "-o", "/dev/null",
                "https://slack.com/api/y", cfg=cfg))
    ctx.proxy.control("queue", {"status": 429, "body": "slow down",
                                "headers": {"X-Amp-Retry-After": http_date(time.time() + 300)}})
    ok(ctx.curl("-o", "/dev/null", SF + "/d", "-o", "/dev/null", SF + "/e", cfg=cfg))

    p = stats(ctx, cfg, "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["version"] == 1 and doc["command"] == "stats" and doc["ok"], doc
    got = {r["route"].split(" ")[0]: r for r in doc["routes"]}
    sf, slack = got["https://*.my.salesforce.com"], got["https://slack.com/api"]
    assert (sf["routed"], sf["answers"], sf["status_429"], sf["blocked"], sf["last_status"]) == (
        4, {"2xx": 1, "3xx": 0, "4xx": 1, "5xx": 2}, 1, 1, 429), sf
    assert (slack["routed"], slack["answers"], slack["status_429"], slack["blocked"],
            slack["last_status"]) == (2, {"2xx": 2, "3xx": 0, "4xx": 0, "5xx": 0}, 0, 0, 200), slack
    assert abs(sf["last_at"] - time.time()) < 60 and sf["last_at_utc"].endswith("Z"), sf
    assert KEY.encode() not in p.stdout

    table = stats(ctx, cfg)
    assert table.returncode == 0 and b"https://slack.com/api" in table.stdout, table
    prom = stats(ctx, cfg, "--prometheus")
    assert prom.returncode == 0, prom.stderr
    s = prometheus_samples(prom.stdout.decode())
    assert series(s, "ampshim_routed_total", route=sf["route"]) == 4, s
    assert series(s, "ampshim_responses_total", route=sf["route"], **{"class": "5xx"}) == 2, s
    assert series(s, "ampshim_rate_limited_total", route=sf["route"]) == 1, s
    assert series(s, "ampshim_blocked_total", route=sf["route"]) == 1, s
    assert series(s, "ampshim_last_status", route=slack["route"], integration="slack-main",
                  group="grp-42", project=PROJECT) == 200, s
    assert series(s, "ampshim_routed_total", installation="inst-sf-1", project=PROJECT,
                  proxy=ctx.proxy.url(), user="root") == 4, s

    p = stats(ctx, cfg, "--reset")
    assert p.returncode == 0, p.stderr
    doc = json.loads(stats(ctx, cfg, "--json").stdout)
    assert doc["routes"] == [], doc
    bad = stats(ctx, cfg, "--json", "--reset")
    assert bad.returncode == 2 and bad.stdout == b"", bad


@test
def stats_count_one_lean_handle_as_its_answers_come(ctx):
    """One pycurl handle with no header callback (lean: counted routed as
    each transfer ends, when its request went), the same URL each time: a
    204, a timeout after the request went, a HEAD, a 429, a call blocked
    here; then its config moved to a relay that refuses connections (the
    same state and counters): nothing more routed, however often it tries,
    though the handle's earlier transfers sent bytes."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    state = os.path.join(ctx.dir, "lean-counts.state")
    throttle = 'throttle: { state_file = "%s"; on_block = "fail"; };\n' % state
    cfg = ctx.write_cfg("lean-counts.cfg", ctx.config() + throttle)
    moved = ctx.write_cfg("lean-counts.cfg.new",
                          ctx.config(proxy_url="http://127.0.0.1:%d" % dead) + throttle)
    script = ("import os, pycurl, sys, time\n"
              "c = pycurl.Curl(); got = []\n"
              "c.setopt(pycurl.WRITEFUNCTION, got.append); c.setopt(pycurl.URL, sys.argv[1])\n"
              "def go(**opts):\n"
              "    for k, v in opts.items(): c.setopt(getattr(pycurl, k), v)\n"
              "    try:\n"
              "        c.perform(); r = str(c.getinfo(pycurl.RESPONSE_CODE))\n"
              "    except pycurl.error as e:\n"
              "        r = 'E%d' % e.args[0]\n"
              "    for k in opts: c.setopt(getattr(pycurl, k), 0)\n"
              "    return r\n"
              "out = [go(), go(TIMEOUT_MS=500), go(NOBODY=1), go(), go()]\n"
              "os.rename(sys.argv[2], sys.argv[3]); time.sleep(1.2)\n"
              "out += [go(), go()]\n"
              "print(' '.join(out))\n")
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 204, "body": ""}, {"status": 200, "body": "late", "delay": 1.5},
                                {"status": 200, "body": ""},
                                {"status": 429, "body": "",
                                 "headers": {"X-Amp-Retry-After": http_date(time.time() + 300)}}])
    p = ok(ctx.run([PY, "-c", script, SF + "/lean/counts", moved, cfg], cfg=cfg))
    assert p.stdout.decode().split() == ["204", "E28", "200", "429", "E55", "E7", "E7"], (p.stdout, p.stderr)
    doc = json.loads(stats(ctx, cfg, "--json").stdout)
    sf = {r["route"].split(" ")[0]: r for r in doc["routes"]}["https://*.my.salesforce.com"]
    assert (sf["routed"], sf["answers"], sf["status_429"], sf["blocked"], sf["last_status"]) == (
        4, {"2xx": 2, "3xx": 0, "4xx": 1, "5xx": 0}, 1, 1, 429), sf
