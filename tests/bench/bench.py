#!/usr/bin/python3
"""ampshim's benchmark (`make bench`, which builds what it runs).

A keep-alive libcurl client (build/bench/bench_client) makes many requests to
a local upstream on loopback (build/bench/upstream), three ways:

  direct   http://127.0.0.1:PORT/items..., no preload: the program as it is;
  native   the same, with the headers ampshim adds (x-amp-*, x-api-key: read
           first from a request ampshim sends) set by the program itself, no
           preload: ampshim's request made without ampshim (what a program
           calling the proxy itself costs);
  ampshim  https://acme.my.salesforce.com/items... under `ampshim run`, the
           route rewriting it to the same upstream (the config's proxy).

So the same upstream answers all three, byte for byte the same answer.
ampshim - native is ampshim's own work (matching, headers, options on and
off the handle, the rate-limit check); native - direct is libcurl formatting
the ~180 bytes of headers the proxy needs, which any way of reaching the
proxy pays.

Four scenarios: the same URL on every request or a different one each time,
with 1 route or 1,000 routes. For each:
  time: ROUNDS rounds of REQUESTS requests, the three kinds interleaved (the
        order rotates every round); each run's median per-request time, and
        the median of those per kind;
  instructions: callgrind's Ir total for N1 and N2 requests,
        (Ir(N2) - Ir(N1)) / (N2 - N1) per request (start-up removed).

It exits 0 whatever the numbers are (a measurement, not a test), and 1 when
something did not run: the upstream did not start, a request failed or was
answered other than 200 by the upstream, valgrind failed.

Everything runs on one CPU (the last this process may use; BENCH_CPU=N for
another, BENCH_CPU=none for no pinning): client and upstream then take turns
on it, each request a plain ping-pong, and the medians repeat to within ~1%;
spread over two CPUs (one VM's here), each request waits for a cross-CPU
wake-up and run medians wander by 20-40%.

Environment: BENCH_ROUNDS (9), BENCH_REQUESTS (10000), BENCH_N1 (200),
BENCH_N2 (2200), BENCH_CPU, BENCH_KEEP=DIR (keep the callgrind files there)."""

import collections
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
CLIENT = os.path.join(BUILD, "bench", "bench_client")
UPSTREAM = os.path.join(BUILD, "bench", "upstream")
LAUNCHER = os.path.join(BUILD, "ampshim")
LIBRARY = os.path.join(BUILD, "libampshim.so")

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10000"))
N1 = int(os.environ.get("BENCH_N1", "200"))
N2 = int(os.environ.get("BENCH_N2", "2200"))
KEEP = os.environ.get("BENCH_KEEP")
TARGET = 2.0  # percent

PROJECT = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
API_KEY = "bench-key-0123456789"
PROVIDER = "https://acme.my.salesforce.com"
# The headers ampshim adds with that route, read from a request it sends
# (see capture_headers): the "native" client sends them itself.
NATIVE_HEADERS = []
KINDS = ("direct", "native", "ampshim")
SCENARIOS = [("same", 1), ("vary", 1), ("same", 1000), ("vary", 1000)]


class BenchError(Exception):
    pass


def die(msg):
    print("bench: FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- set-up

def clean_env():
    env = dict(os.environ)
    for k in list(env):
        if k in ("LD_PRELOAD", "AMPSHIM_CONFIG", "AMPSHIM_LOG") or \
                k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            del env[k]
    return env


def write_config(path, port, nroutes, state_file):
    routes = []
    for i in range(1, nroutes):  # nroutes - 1 generated ones, distinct hosts
        if i % 4 == 0:
            base, who = "https://api%d.provider%d.test" % (i, i), 'installation_id = "inst-g%d";' % i
        elif i % 4 == 1:
            base, who = "https://*.tenant%d.example.test" % i, 'installation_id = "inst-g%d";' % i
        elif i % 4 == 2:
            base = "https://api%d.provider%d.test/v%d/data" % (i, i, i % 7 + 1)
            who = 'integration_name = "integ-%d"; group_ref = "group-%d";' % (i, i)
        else:
            base = "https://*.eu%d.example.test/services/*/api" % i
            who = 'installation_id = "inst-g%d";' % i
        routes.append('  { base_url = "%s"; %s }' % (base, who))
    routes.append('  { base_url = "https://*.my.salesforce.com"; installation_id = "inst-1"; }')
    text = (
        "# written by tests/bench/bench.py\n"
        "proxy:\n{\n"
        '  url = "http://127.0.0.1:%d";\n'
        '  project_id = "%s";\n'
        '  api_key = "%s";\n'
        '  rate_limiter_mode = "throttle";\n'
        "};\n"
        "routes = (\n%s\n);\n"
        'throttle: { state_file = "%s"; };\n'
    ) % (port, PROJECT, API_KEY, ",\n".join(routes), state_file)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    r = subprocess.run([LAUNCHER, "check", "-c", path], env=clean_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    m = re.search(r"routes \((\d+)\)", r.stdout)
    if r.returncode != 0 or not m or int(m.group(1)) != nroutes:
        raise BenchError("ampshim check -c %s (%d routes) said:\n%s" % (path, nroutes, r.stdout))


def start_upstream(tmp):
    portfile = os.path.join(tmp, "port")
    p = subprocess.Popen([UPSTREAM, portfile], env=clean_env())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise BenchError("the upstream exited at start (status %d)" % p.returncode)
        try:
            with open(portfile) as f:
                return p, int(f.read())
        except (OSError, ValueError):
            time.sleep(0.02)
    p.kill()
    raise BenchError("the upstream never wrote its port")


def capture_request(runner, kind):
    """The header lines of the request the client sends with one kind of
    run, answered by a one-shot listener on loopback."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(20)
    port, got = ls.getsockname()[1], []

    def serve():
        try:
            c, _ = ls.accept()
            with c:
                c.settimeout(20)
                data = b""
                while b"\r\n\r\n" not in data:
                    more = c.recv(65536)
                    if not more:
                        return
                    data += more
                got.append(data.split(b"\r\n\r\n")[0].decode("latin-1"))
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n" +
                          b'{"items":[1,2,3]}')
        except OSError:
            pass

    t = threading.Thread(target=serve)
    t.start()
    cfg = os.path.join(runner.tmp, "capture.cfg")
    write_config(cfg, port, 1, os.path.join(runner.tmp, "state", "state"))
    try:
        Runner(runner.tmp, port, {1: cfg}).run(kind, "same", 1, 1, False)
    finally:
        t.join()
        ls.close()
        os.unlink(cfg)
    if not got:
        raise BenchError("no request reached the capture listener (%s)" % kind)
    return got[0].split("\r\n")[1:]


def capture_headers(runner):
    """What ampshim adds to the application's request."""
    direct = capture_request(runner, "direct")
    routed = capture_request(runner, "ampshim")
    names = {h.split(":")[0].lower() for h in direct}
    added = [h for h in routed if h.split(":")[0].lower() not in names]
    if not added:
        raise BenchError("ampshim's request has no headers of its own:\n" + "\n".join(routed))
    return added


# ---------------------------------------------------------------- runs

class Runner:
    def __init__(self, tmp, port, configs):
        self.tmp, self.port, self.configs = tmp, port, configs
        self.env = clean_env()
        self.notes = collections.OrderedDict()

    def command(self, kind, urls, nroutes, n, timing, valgrind_out=None):
        base = PROVIDER if kind == "ampshim" else "http://127.0.0.1:%d" % self.port
        cmd = [CLIENT, base, str(n), urls, "time" if timing else "count", str(self.port)]
        if kind == "native":
            cmd += NATIVE_HEADERS
        if valgrind_out:
            cmd = ["valgrind", "-q", "--tool=callgrind", "--callgrind-out-file=" + valgrind_out] + cmd
        if kind == "ampshim":
            cmd = [LAUNCHER, "run", "-c", self.configs[nroutes], "--"] + cmd
        return cmd

    def run(self, kind, urls, nroutes, n, timing, valgrind_out=None):
        cmd = self.command(kind, urls, nroutes, n, timing, valgrind_out)
        r = subprocess.run(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        m = re.search(r"^ok requests=(\d+) connects=(\d+) median_us=(\S+)$", r.stdout, re.M)
        if r.returncode != 0 or not m or int(m.group(1)) != n:
            raise BenchError("%s exited %d\nstdout: %s\nstderr: %s" % (
                " ".join(cmd), r.returncode, r.stdout.strip(), r.stderr.strip()))
        for line in r.stderr.splitlines():
            self.notes.setdefault("%s: %s" % (kind, line), None)
        if int(m.group(2)) != 1:
            self.notes.setdefault("%s %s: %s connections for %d requests (keep-alive lost)"
                                  % (kind, urls, m.group(2), n), None)
        return float(m.group(3)) if timing else None


# ---------------------------------------------------------------- callgrind

NAME_SPACE = {"ob": "ob", "cob": "ob", "fn": "fn", "cfn": "fn",
              "fl": "fl", "fi": "fl", "fe": "fl", "cfl": "fl", "cfi": "fl"}


def callgrind_self(path):
    """Total Ir, and the self Ir of each (object, function), of a callgrind
    output file (name compression understood; a call's inclusive cost line
    is not self cost)."""
    names = {"ob": {}, "fn": {}, "fl": {}}
    ob = fn = "?"
    cost = collections.Counter()
    total, after_call = None, False
    with open(path) as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                if after_call:
                    after_call = False
                    continue
                t = line.split()
                if len(t) > 1:
                    cost[(ob, fn)] += int(t[1])
                continue
            if line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
                continue
            key, eq, val = line.rstrip("\n").partition("=")
            if not eq:
                continue
            if key == "calls":
                after_call = True
            elif key in NAME_SPACE:
                space = names[NAME_SPACE[key]]
                m = re.match(r"\((\d+)\)(?: (.*))?$", val)
                if m:
                    if m.group(2) is not None:
                        space[m.group(1)] = m.group(2)
                    val = space.get(m.group(1), "?")
                if key == "ob":
                    ob = val
                elif key == "fn":
                    fn = val
    if total is None:
        raise BenchError("no totals in " + path)
    return total, cost


class Count:
    """Instructions of one kind of run: per request, fixed, and per
    request by (object, function)."""

    def __init__(self, small, large):
        (t1, c1), (t2, c2) = small, large
        self.per_req = (t2 - t1) / (N2 - N1)
        self.fixed = t1 - self.per_req * N1
        self.by_fn = {k: (c2[k] - c1[k]) / (N2 - N1) for k in set(c1) | set(c2)}


def count(runner, kind, urls, nroutes):
    res = []
    for n in (N1, N2):
        out = os.path.join(runner.tmp, "callgrind.%s.%s.%d.%d" % (kind, urls, nroutes, n))
        runner.run(kind, urls, nroutes, n, False, valgrind_out=out)
        res.append(callgrind_self(out))
        if KEEP:
            os.makedirs(KEEP, exist_ok=True)
            shutil.copy(out, KEEP)
        os.unlink(out)
    return Count(*res)


def short_object(ob):
    name = os.path.basename(ob)
    return re.sub(r"\.so\.[\d.]+$", ".so", name)


# ---------------------------------------------------------------- main

def mad_pct(v):
    m = statistics.median(v)
    return statistics.median(abs(x - m) for x in v) / m * 100


def pct(a, b):
    return (a / b - 1) * 100


def main():
    for path in (CLIENT, UPSTREAM, LAUNCHER, LIBRARY):
        if not os.access(path, os.X_OK if path != LIBRARY else os.R_OK):
            die("%s is missing: run `make bench`" % path)
    if not shutil.which("valgrind"):
        die("valgrind is not installed")

    cpu = os.environ.get("BENCH_CPU", "")
    if cpu != "none":
        cpu = int(cpu) if cpu else max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})  # inherited by everything started below
        where = "all on CPU %d" % cpu
    else:
        where = "not pinned"

    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="ampshim-bench-")
    upstream = None
    try:
        upstream, port = start_upstream(tmp)
        os.mkdir(os.path.join(tmp, "state"), 0o700)
        state = os.path.join(tmp, "state", "state")
        configs = {}
        for nroutes in (1, 1000):
            configs[nroutes] = os.path.join(tmp, "routes%d.cfg" % nroutes)
            write_config(configs[nroutes], port, nroutes, state)
        runner = Runner(tmp, port, configs)
        NATIVE_HEADERS[:] = capture_headers(runner)

        # A first request of each kind, so a broken set-up fails at once.
        for kind in KINDS:
            for nroutes in (1, 1000):
                runner.run(kind, "vary", nroutes, 3, True)

        print("ampshim benchmark: %s, libcurl %s, %d CPUs, client and upstream %s" % (
            os.uname().machine, curl_version(), os.cpu_count() or 0, where))
        print("native sends: " + "; ".join(re.sub(r"(?i)^(x-api-key: ).*(.{4})$", r"\1****\2", h)
                                       for h in NATIVE_HEADERS))
        print("time: %d rounds x %d requests per kind and scenario, kinds interleaved; "
              "instructions: callgrind, %d and %d requests" % (ROUNDS, REQUESTS, N1, N2))
        sys.stdout.flush()

        times = {}
        for urls, nroutes in SCENARIOS:
            meds = {k: [] for k in KINDS}
            for r in range(ROUNDS):
                order = KINDS[r % 3:] + KINDS[:r % 3]
                for kind in order:
                    meds[kind].append(runner.run(kind, urls, nroutes, REQUESTS, True))
            times[(urls, nroutes)] = {k: statistics.median(v) for k, v in meds.items()}
            times[(urls, nroutes)]["mad"] = {k: mad_pct(v) for k, v in meds.items()}

        counts = {}
        for urls in ("same", "vary"):
            counts[("direct", urls)] = count(runner, "direct", urls, 1)
            counts[("native", urls)] = count(runner, "native", urls, 1)
            for nroutes in (1, 1000):
                counts[("ampshim", urls, nroutes)] = count(runner, "ampshim", urls, nroutes)
    except BenchError as e:
        die(str(e))
    finally:
        if upstream:
            upstream.send_signal(signal.SIGTERM)
            try:
                upstream.wait(5)
            except subprocess.TimeoutExpired:
                upstream.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    def name(urls, nroutes):
        return "%s URL, %d route%s" % (urls, nroutes, "" if nroutes == 1 else "s")

    print()
    print("time per request: the median of the %d runs' medians; ampshim / direct and / native; "
          "MAD = the runs'" % ROUNDS)
    print("median absolute deviation from that median, in %, for direct/native/ampshim")
    print("%-22s | %9s | %9s | %10s | %9s | %9s | %14s" % (
        "scenario", "direct µs", "native µs", "ampshim µs", "/direct", "/native", "MAD d/n/a %"))
    for urls, nroutes in SCENARIOS:
        t = times[(urls, nroutes)]
        print("%-22s | %9.2f | %9.2f | %10.2f | %9.4f | %9.4f | %14s" % (
            name(urls, nroutes), t["direct"], t["native"], t["ampshim"],
            t["ampshim"] / t["direct"], t["ampshim"] / t["native"],
            "/".join("%.1f" % t["mad"][k] for k in KINDS)))

    print()
    print("instructions per request (callgrind Ir, (Ir(%d) - Ir(%d)) / %d)" % (N2, N1, N2 - N1))
    print("%-22s | %10s | %10s | %11s | %10s | %10s" % (
        "scenario", "direct Ir", "native Ir", "ampshim Ir", "vs direct", "vs native"))
    for urls, nroutes in SCENARIOS:
        d, n, a = (counts[("direct", urls)], counts[("native", urls)],
                   counts[("ampshim", urls, nroutes)])
        print("%-22s | %10.0f | %10.0f | %11.0f | %+9.2f%% | %+9.2f%%" % (
            name(urls, nroutes), d.per_req, n.per_req, a.per_req,
            pct(a.per_req, d.per_req), pct(a.per_req, n.per_req)))
    print("start-up (fixed) Ir: direct %.1fM, native %.1fM, ampshim %.1fM with 1 route, "
          "%.1fM with 1,000 routes" % (
              counts[("direct", "same")].fixed / 1e6, counts[("native", "same")].fixed / 1e6,
              counts[("ampshim", "same", 1)].fixed / 1e6,
              counts[("ampshim", "same", 1000)].fixed / 1e6))

    print()
    print("where ampshim's extra instructions go (ampshim - native, Ir per request, self cost)")
    for urls, nroutes in SCENARIOS:
        a, n = counts[("ampshim", urls, nroutes)], counts[("native", urls)]
        delta = collections.Counter()
        for k in set(a.by_fn) | set(n.by_fn):
            delta[k] = a.by_fn.get(k, 0) - n.by_fn.get(k, 0)
        by_ob = collections.Counter()
        for (ob, _), v in delta.items():
            by_ob[short_object(ob)] += v
        obs = ", ".join("%s %+.0f" % (ob, v) for ob, v in
                        sorted(by_ob.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= 20)
        top = sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:6]
        fns = ", ".join("%s %+.0f" % (fn if not fn.startswith("0x") else
                                      short_object(ob) + ":" + fn, v) for (ob, fn), v in top)
        print("  %-22s total %+.0f: %s" % (name(urls, nroutes), a.per_req - n.per_req, obs))
        print("  %-22s top: %s" % ("", fns))

    print()
    print("targets: ampshim adds at most %g%% instructions and at most %g%% time per request"
          % (TARGET, TARGET))
    for base in ("direct", "native"):
        for what in ("instructions", "time"):
            missed = []
            for urls, nroutes in SCENARIOS:
                if what == "time":
                    t = times[(urls, nroutes)]
                    over = pct(t["ampshim"], t[base])
                else:
                    over = pct(counts[("ampshim", urls, nroutes)].per_req,
                               counts[(base, urls)].per_req)
                if over > TARGET:
                    missed.append("%s %+.1f%%" % (name(urls, nroutes), over))
            print("  vs %-6s %-12s: %s" % (
                base, what, "met in all 4 scenarios" if not missed else
                "NOT met in %d of 4 (%s)" % (len(missed), "; ".join(missed))))
    if runner.notes:
        print()
        print("notes:")
        for line in runner.notes:
            print("  " + line)
    print()
    print("bench: done in %.0f s" % (time.monotonic() - started))
    return 0


def curl_version():
    try:
        r = subprocess.run(["curl-config", "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        return r.stdout.split()[-1]
    except (OSError, IndexError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
