"""Per-route counters over processes (`ampshim stats`): calls routed, answers
by class, 429s, calls blocked here, the last status; as a table, as JSON and
in Prometheus' text format; reset."""

import json
import re
import subprocess
import time

from .harness import AMPSHIM, KEY, SF, http_date, ok, rl_cfg, test


def stats(ctx, cfg, *args):
    return subprocess.run([AMPSHIM, "stats", "-c", cfg, *args], capture_output=True,
                          env=ctx.env(), timeout=30)


def prometheus_samples(text):
    """A small parser of the text format: {(name, labels...): value}; every
    sample's metric has its # TYPE line before it."""
    typed, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge"), line
            typed[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'([a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)+)\} (\d+(?:\.\d+)?)', line)
        assert m, "not a sample line: %r" % line
        assert m.group(1) in typed, "no # TYPE before %r" % line
        labels = tuple(sorted(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2))))
        samples[(m.group(1),) + labels] = float(m.group(3))
    return samples


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
    sf_label = ("route", sf["route"])
    assert s[("ampshim_routed_total", sf_label)] == 4, s
    assert s[("ampshim_responses_total", ("class", "5xx"), sf_label)] == 2, s
    assert s[("ampshim_rate_limited_total", sf_label)] == 1, s
    assert s[("ampshim_blocked_total", sf_label)] == 1, s
    assert s[("ampshim_last_status", ("route", slack["route"]))] == 200, s

    p = stats(ctx, cfg, "--reset")
    assert p.returncode == 0, p.stderr
    doc = json.loads(stats(ctx, cfg, "--json").stdout)
    assert doc["routes"] == [], doc
    bad = stats(ctx, cfg, "--json", "--reset")
    assert bad.returncode == 2 and bad.stdout == b"", bad
