#!/usr/bin/python3
"""ampshim's benchmark (`make bench`, which builds what it runs).

A keep-alive libcurl client (build/bench/bench_client) makes requests to a
local upstream on loopback (build/bench/upstream), three ways:

  direct   http://127.0.0.1:PORT/items..., no preload: the program as it is
           (no CURLOPT_NOPROXY either, so libcurl looks up the proxy
           environment variables on every transfer, as the unchanged
           program would on its way to the provider);
  native   the same, with the headers ampshim adds (x-amp-*, x-api-key: read
           first from a request ampshim sends) set by the program itself,
           and CURLOPT_NOPROXY "*" (bench_client --noproxy), no preload:
           ampshim's request made without ampshim. ampshim sets NOPROXY "*"
           on a routed transfer when the proxy is plain http on loopback, as
           here, which spares libcurl its proxy-environment look-ups (a
           getenv of each proxy variable on every transfer: ~800
           instructions a request in the benchmark's 2-variable
           environment, ~2,900 in one of 30 variables); native does the
           same, so that the difference is ampshim's own work and nothing
           else;
  ampshim  https://acme.my.salesforce.com/items... with LD_PRELOAD of
           build/libampshim.so and AMPSHIM_CONFIG naming a config whose
           route sends it to the same upstream (the config's proxy).

So the same upstream answers all three, byte for byte the same answer.
ampshim - native is ampshim's own work (matching, headers, options on and
off the handle, the rate-limit check); native - direct is libcurl formatting
the ~180 bytes of headers the proxy needs, which any way of reaching the
proxy pays (less the proxy look-ups native skips).

Two upstreams: one answering at once, for the time runs; one answering each
request 2 ms after reading it (upstream DELAY_US=2000), for the callgrind
runs: the client is then always already waiting in poll() when the answer
comes, so every request takes the same path through libcurl and two
identical runs count the same instructions to within a few per request
(answered at once, whether the answer was already there decides the number
of poll rounds, and the count moves by tens to hundreds). Every process is
run with the same two environment variables (PATH, LC_ALL), whoever runs
the benchmark.

Per request, six scenarios: the same URL on every request or a different one
each time, with 1 route or 1,000 (a fifth of them given by provider name),
(issue 17) the same URL with 1 route against an upstream answering with
22 header lines, as real API providers do (the path /h22/ asks for them),
and the same URL with a new handle for each request (curl_easy_init, the
options, curl_easy_perform, curl_easy_cleanup: PHP's curl_init() does this
on every call, and so do many programs; a new connection each time).
  time: ROUNDS rounds of REQUESTS requests; in each round, direct, native,
        ampshim and native again (the order rotating from round to round),
        each run giving its median per-request time; per kind, the median
        of the runs' medians; ampshim against native: the median over the
        rounds of ampshim's run / native's run of the same round, so that a
        machine slower for a while weighs on both;
  instructions: callgrind's Ir total for N1 and N2 requests,
        (Ir(N2) - Ir(N1)) / (N2 - N1) per request (start-up removed); one
        of them is counted twice, and the difference printed.
Per process (callgrind, whole process, Ir totals):
  start-up: bench_client making ONE request, through ampshim (LD_PRELOAD and
        AMPSHIM_CONFIG) minus native (the same environment but LD_PRELOAD);
        with a 10-route config (8 routes by provider name, the request's
        route one of them), and with the 1,000-route one (the difference
        includes one request's worth of ampshim's per-request work, a few
        thousand instructions);
  /bin/true: with LD_PRELOAD and AMPSHIM_CONFIG, minus without LD_PRELOAD.

Targets (issue 10), each printed as met or MISSED with its numbers:
  a. instructions per request at most +1% over native, in all 6 scenarios,
     with and without glibc malloc's part when that part is a saving: which
     path glibc's allocator takes for libcurl's same calls depends on where
     ampshim's few allocations fell among libcurl's (the size of one of
     ampshim's buffers moved it by ~300 a request), so a saving there is the
     heap's shape, not ampshim's, and is never counted for it; a cost there
     is;
  b. time per request within noise of native: ampshim / native - 1 (above)
     at most the noise, which is how much two identical native runs differ:
     in each round native runs twice, and the noise is the median over the
     rounds of |native again / native - 1|;
  c. instructions per request the same with 1 and 1,000 routes: within
     SAME_TOL (50) instructions (far above the run-to-run spread of a few,
     far below what any scan of the routes would cost: 1,000 routes at even
     one instruction each);
  d. start-up at most +2M instructions with 10 routes, +20M with 1,000;
  e. /bin/true at most +15,000 instructions (with either config).

It exits 0 whatever the numbers are (a measurement, not a test), and 1 when
something did not run: an upstream did not start, a request failed or was
answered other than 200 by the upstream, valgrind failed.

Everything runs on one CPU (the last this process may use; BENCH_CPU=N for
another, BENCH_CPU=none for no pinning): client and upstream then take turns
on it, each request a plain ping-pong, and the medians repeat to within ~1%;
spread over two CPUs (one VM's here), each request waits for a cross-CPU
wake-up and run medians wander by 20-40%.

Environment: BENCH_ROUNDS (9), BENCH_REQUESTS (5000), BENCH_N1 (100),
BENCH_N2 (1100), BENCH_DELAY_US (2000), BENCH_PADS (0,13,37: the heap shapes
each count is the mean over), BENCH_CPU, BENCH_KEEP=DIR (keep the callgrind
files there)."""

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
TRUE = shutil.which("true", path="/bin:/usr/bin") or "/bin/true"

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "5000"))
N1 = int(os.environ.get("BENCH_N1", "100"))
N2 = int(os.environ.get("BENCH_N2", "1100"))
DELAY_US = int(os.environ.get("BENCH_DELAY_US", "2000"))
# The heap shapes each count is made on (bench_client --pad K), the mean
# taken: glibc's malloc takes other paths for the same calls on another
# heap, by a few hundred instructions a request either way.
PADS = [int(k) for k in os.environ.get("BENCH_PADS", "0,13,37").split(",")]
KEEP = os.environ.get("BENCH_KEEP")

# The targets.
MAX_IR_PCT = 1.0           # a: per request, over native
SAME_TOL = 50              # c: |Ir(1,000 routes) - Ir(1 route)| per request
STARTUP_MAX = {10: 2e6, 1000: 20e6}   # d: whole process, one request
TRUE_MAX = 15000           # e: /bin/true

PROJECT = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
API_KEY = "bench-key-0123456789"
PROVIDER = "https://acme.my.salesforce.com"
# The headers ampshim adds with that route, read from a request it sends
# (see capture_headers): the "native" client sends them itself.
NATIVE_HEADERS = []
KINDS = ("direct", "native", "ampshim")
# The time runs: native twice a round, for the noise.
TIME_KINDS = ("direct", "native", "ampshim", "native2")
# (URLs, routes, answer: see ANSWERS): the four of issue 10, an upstream
# answering with 22 header lines, as real providers do (issue 17), to a
# client without a header callback and to one with (every line then passes
# through ampshim's header watch: a client without one has no watch of
# ours, a "lean" transfer), and a new handle for each request ("fresh":
# made, set up, performed and cleaned up, as PHP's curl_init() does; a new
# connection each, since a handle's go with it).
SCENARIOS = [("same", 1, 2), ("vary", 1, 2), ("same", 1000, 2), ("vary", 1000, 2),
             ("same", 1, 22), ("same", 1, "22cb"), ("fresh", 1, 2)]
# Each answer: the URL path that makes the upstream answer with that many
# header lines, and whether the client reads them with a header callback
# of its own (bench_client --hdrcb), as the curl tool, PHP, R and git do.
ANSWERS = {2: ("", False), 22: ("/h22", False), "2cb": ("", True), "22cb": ("/h22", True)}
# Providers of the catalog with a {{.workspace}} host, for many distinct
# routes by provider name.
WORKSPACE_PROVIDERS = ("aha", "bynder", "chargebee", "freshdesk", "gorgias", "mixpanel",
                       "okta", "serviceNow", "shopify", "teamwork", "zendeskSupport", "zuora")


class BenchError(Exception):
    pass


def die(msg):
    print("bench: FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- set-up

def clean_env():
    """The environment of everything the benchmark runs: the same few
    variables whoever runs it, so that the counts do not depend on the
    caller's environment (libcurl's proxy look-ups in the direct run scan it
    on every request) and no proxy variable or AMPSHIM_* setting leaks in."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C"}


def many_routes(nroutes):
    """nroutes routes: nroutes - 1 generated ones on distinct hosts (a fifth
    by provider name), then the one the benchmark's requests match."""
    routes = []
    for i in range(1, nroutes):
        if i % 5 == 0:
            routes.append('{ provider = "%s"; workspace = "t%d"; installation_id = "inst-g%d"; }'
                          % (WORKSPACE_PROVIDERS[i // 5 % len(WORKSPACE_PROVIDERS)], i, i))
            continue
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
        routes.append('{ base_url = "%s"; %s }' % (base, who))
    routes.append('{ base_url = "https://*.my.salesforce.com"; installation_id = "inst-1"; }')
    return routes


# A small config as a real one looks: 10 routes, 8 by provider name, the
# request's (salesforce, workspace acme) one of them.
TEN_ROUTES = [
    '{ provider = "salesforce"; workspace = "acme"; installation_id = "inst-1"; }',
    '{ provider = "hubspot"; installation_id = "inst-2"; }',
    '{ provider = "slack"; integration_name = "integ-3"; group_ref = "group-3"; }',
    '{ provider = "zendeskSupport"; workspace = "acme-support"; installation_id = "inst-4"; }',
    '{ provider = "atlassian"; installation_id = "inst-5"; }',
    '{ provider = "github"; installation_id = "inst-6"; }',
    '{ provider = "stripe"; installation_id = "inst-7"; }',
    '{ provider = "shopify"; workspace = "acme-shop"; installation_id = "inst-8"; }',
    '{ base_url = "https://api.example.test/v1"; installation_id = "inst-9"; }',
    '{ base_url = "https://*.tenant.example.test"; installation_id = "inst-10"; }',
]


def write_config(path, port, routes, state_file):
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
    ) % (port, PROJECT, API_KEY, ",\n".join("  " + r for r in routes), state_file)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    r = subprocess.run([LAUNCHER, "check", "-c", path], env=clean_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The count is checked when the launcher prints it (its wording may change).
    m = re.search(r"routes \((\d+)\)", r.stdout)
    if r.returncode != 0 or (m and int(m.group(1)) != len(routes)):
        raise BenchError("ampshim check -c %s (%d routes) said:\n%s" % (path, len(routes), r.stdout))


def write_configs(tmp, tag, port):
    """The configs (1, 10 and 1,000 routes) for the upstream on port."""
    state = os.path.join(tmp, "state", "state")
    configs = {}
    for nroutes in (1, 10, 1000):
        configs[nroutes] = os.path.join(tmp, "%s-routes%d.cfg" % (tag, nroutes))
        write_config(configs[nroutes], port,
                     TEN_ROUTES if nroutes == 10 else many_routes(nroutes), state)
    return configs


def start_upstream(tmp, delay_us):
    portfile = os.path.join(tmp, "port%d" % delay_us)
    p = subprocess.Popen([UPSTREAM, portfile, str(delay_us)], env=clean_env())
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


def capture_request(tmp, kind):
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
    cfg = os.path.join(tmp, "capture.cfg")
    write_config(cfg, port, many_routes(1), os.path.join(tmp, "state", "state"))
    try:
        Runner(port, {1: cfg}).run(kind, "same", 1, 1, False)
    finally:
        t.join()
        ls.close()
        os.unlink(cfg)
    if not got:
        raise BenchError("no request reached the capture listener (%s)" % kind)
    return got[0].split("\r\n")[1:]


def capture_headers(tmp):
    """What ampshim adds to the application's request."""
    direct = capture_request(tmp, "direct")
    routed = capture_request(tmp, "ampshim")
    names = {h.split(":")[0].lower() for h in direct}
    added = [h for h in routed if h.split(":")[0].lower() not in names]
    if not added:
        raise BenchError("ampshim's request has no headers of its own:\n" + "\n".join(routed))
    return added


# ---------------------------------------------------------------- runs

NOTES = collections.OrderedDict()


class Runner:
    """Runs of the client against one upstream (port), with its configs."""

    def __init__(self, port, configs):
        self.port, self.configs = port, configs
        self.pad = 0

    def env(self, kind, nroutes):
        kind = kind.rstrip("2")
        # Every kind gets the same environment (AMPSHIM_CONFIG too, which
        # nothing reads without the library); ampshim gets LD_PRELOAD besides.
        env = clean_env()
        env["AMPSHIM_CONFIG"] = self.configs[nroutes]
        if kind == "ampshim":
            env["LD_PRELOAD"] = LIBRARY
        return env

    def command(self, kind, urls, n, timing, hdrs=2):
        kind = kind.rstrip("2")
        base = PROVIDER if kind == "ampshim" else "http://127.0.0.1:%d" % self.port
        path, callback = ANSWERS[hdrs]
        base += path
        cmd = [CLIENT] + (["--pad", str(self.pad)] if self.pad else [])
        cmd += ["--hdrcb"] if callback else []
        cmd += ["--noproxy"] if kind == "native" else []
        cmd += [base, str(n), urls, "time" if timing else "count", str(self.port)]
        if kind == "native":
            cmd += NATIVE_HEADERS
        return cmd

    def run(self, kind, urls, nroutes, n, timing, valgrind_out=None, hdrs=2):
        cmd = self.command(kind, urls, n, timing, hdrs)
        if valgrind_out:
            cmd = valgrind(valgrind_out) + cmd
        r = subprocess.run(cmd, env=self.env(kind, nroutes), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        m = re.search(r"^ok requests=(\d+) connects=(\d+) median_us=(\S+)$", r.stdout, re.M)
        if r.returncode != 0 or not m or int(m.group(1)) != n:
            raise BenchError("%s exited %d\nstdout: %s\nstderr: %s" % (
                " ".join(cmd), r.returncode, r.stdout.strip(), r.stderr.strip()))
        for line in r.stderr.splitlines():
            NOTES.setdefault("%s: %s" % (kind, line), None)
        if int(m.group(2)) != (n if urls == "fresh" else 1):
            NOTES.setdefault("%s %s: %s connections for %d requests (keep-alive lost)"
                             % (kind, urls, m.group(2), n), None)
        return float(m.group(3)) if timing else None


def valgrind(out):
    return ["valgrind", "-q", "--tool=callgrind", "--callgrind-out-file=" + out]


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


def keep(out):
    if KEEP:
        os.makedirs(KEEP, exist_ok=True)
        shutil.copy(out, KEEP)
    os.unlink(out)


class Count:
    """Instructions of one kind of run: per request, fixed, and per
    request by (object, function)."""

    def __init__(self, small=None, large=None):
        if small is None:
            return
        (t1, c1), (t2, c2) = small, large
        self.per_req = (t2 - t1) / (N2 - N1)
        self.fixed = t1 - self.per_req * N1
        self.by_fn = {k: (c2[k] - c1[k]) / (N2 - N1) for k in set(c1) | set(c2)}

    @staticmethod
    def mean(counts):
        m = Count()
        m.per_req = statistics.mean(c.per_req for c in counts)
        m.fixed = statistics.mean(c.fixed for c in counts)
        keys = set().union(*(c.by_fn for c in counts))
        m.by_fn = {k: statistics.mean(c.by_fn.get(k, 0) for c in counts) for k in keys}
        m.each = [c.per_req for c in counts]
        return m


def count(runner, tmp, kind, urls, nroutes, tag="", hdrs=2):
    """Per request, the mean over the heap shapes (PADS)."""
    counts = []
    for pad in PADS:
        runner.pad = pad
        res = []
        for n in (N1, N2):
            out = os.path.join(tmp, "callgrind.%s.%s.%d.h%s.%d.pad%d%s" % (
                kind, urls, nroutes, hdrs, n, pad, tag))
            runner.run(kind, urls, nroutes, n, False, valgrind_out=out, hdrs=hdrs)
            res.append(callgrind_self(out))
            keep(out)
        counts.append(Count(*res))
    runner.pad = 0
    return Count.mean(counts)


class Whole:
    """One whole process's instructions: total and by (object, function)."""

    def __init__(self, res):
        self.total, self.by_fn = res


def whole_client(runner, tmp, kind, nroutes):
    out = os.path.join(tmp, "callgrind.startup.%s.%d" % (kind, nroutes))
    runner.run(kind, "same", nroutes, 1, False, valgrind_out=out)
    w = Whole(callgrind_self(out))
    keep(out)
    return w


def whole_true(config, preload):
    out = os.path.join(os.path.dirname(config), "callgrind.true.%s.%s" % (
        os.path.basename(config), "preload" if preload else "plain"))
    env = clean_env()
    env["AMPSHIM_CONFIG"] = config
    if preload:
        env["LD_PRELOAD"] = LIBRARY
    cmd = valgrind(out) + [TRUE]
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise BenchError("%s exited %d\nstderr: %s" % (" ".join(cmd), r.returncode, r.stderr))
    w = Whole(callgrind_self(out))
    keep(out)
    return w


# glibc's allocator: ampshim's allocations interleave with libcurl's, so
# the same calls of libcurl's can cost more or fewer instructions here
# (issue 17 measured -360 to +970 a request); shown apart from the rest.
MALLOC_FNS = re.compile(r"^(_int_malloc|_int_free|_int_realloc|malloc|free|cfree|realloc|calloc|"
                        r"__libc_(malloc|free|calloc|realloc)|malloc_consolidate|unlink_chunk.*|"
                        r"tcache_.*|__GI___libc_(malloc|free|realloc)|_int_free_merge_chunk|"
                        r"_int_free_create_chunk|_int_free_maybe_consolidate|sysmalloc)$")


def malloc_part(a, b):
    """Of a's instructions over b's (self cost by function), glibc malloc's."""
    return sum(a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)
               if "libc" in os.path.basename(k[0]) and MALLOC_FNS.match(k[1]))


def short_object(ob):
    name = os.path.basename(ob)
    return re.sub(r"\.so\.[\d.]+$", ".so", name)


def where(a, b, ntop, floor):
    """Where a's instructions differ from b's (self cost by object, and the
    ntop functions that differ most)."""
    delta = collections.Counter()
    for k in set(a) | set(b):
        delta[k] = a.get(k, 0) - b.get(k, 0)
    by_ob = collections.Counter()
    for (ob, _), v in delta.items():
        by_ob[short_object(ob)] += v
    obs = ", ".join("%s %+.0f" % (ob, v) for ob, v in
                    sorted(by_ob.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= floor)
    top = sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:ntop]
    fns = ", ".join("%s %+.0f" % (fn if not fn.startswith("0x") else
                                  short_object(ob) + ":" + fn, v) for (ob, fn), v in top)
    return obs, fns


# ---------------------------------------------------------------- main

def mad_pct(v):
    m = statistics.median(v)
    return statistics.median(abs(x - m) for x in v) / m * 100


def pct(a, b):
    return (a / b - 1) * 100


def verdict(ok):
    return "met" if ok else "MISSED"


def mega(v):
    return "%+.2fM" % (v / 1e6)


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
        where_run = "all on CPU %d" % cpu
    else:
        where_run = "not pinned"

    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="ampshim-bench-")
    upstreams = []
    try:
        os.mkdir(os.path.join(tmp, "state"), 0o700)
        fast, fast_port = start_upstream(tmp, 0)
        upstreams.append(fast)
        slow, slow_port = start_upstream(tmp, DELAY_US)
        upstreams.append(slow)
        timer = Runner(fast_port, write_configs(tmp, "fast", fast_port))
        counter = Runner(slow_port, write_configs(tmp, "slow", slow_port))
        NATIVE_HEADERS[:] = capture_headers(tmp)

        # A first request of each kind, so a broken set-up fails at once.
        for kind in KINDS:
            for nroutes in (1, 10, 1000):
                timer.run(kind, "vary", nroutes, 3, True)

        print("ampshim benchmark: %s, libcurl %s, %d CPUs, client and upstream %s" % (
            os.uname().machine, curl_version(), os.cpu_count() or 0, where_run))
        print("native sends: " + "; ".join(re.sub(r"(?i)^(x-api-key: ).*(.{4})$", r"\1****\2", h)
                                       for h in NATIVE_HEADERS) + "; and sets CURLOPT_NOPROXY \"*\"")
        print("time: %d rounds x %d requests per kind and scenario, kinds interleaved (native "
              "twice), upstream answering at once" % (ROUNDS, REQUESTS))
        print("instructions: callgrind, %d and %d requests, upstream answering each %d µs after "
              "it came" % (N1, N2, DELAY_US))
        sys.stdout.flush()

        times = {}
        for urls, nroutes, hdrs in SCENARIOS:
            meds = {k: [] for k in TIME_KINDS}
            for r in range(ROUNDS):
                k = r % len(TIME_KINDS)
                for kind in TIME_KINDS[k:] + TIME_KINDS[:k]:
                    meds[kind].append(timer.run(kind, urls, nroutes, REQUESTS, True, hdrs=hdrs))
            t = times[(urls, nroutes, hdrs)] = {k: statistics.median(v) for k, v in meds.items()}
            t["mad"] = {k: mad_pct(v) for k, v in meds.items()}
            t["over"] = (statistics.median(a / n for a, n in zip(meds["ampshim"], meds["native"]))
                         - 1) * 100
            t["aa"] = (statistics.median(n2 / n for n2, n in zip(meds["native2"], meds["native"]))
                       - 1) * 100
            t["noise"] = statistics.median(abs(n2 / n - 1) for n2, n in
                                           zip(meds["native2"], meds["native"])) * 100

        counts = {}
        for urls, nroutes, hdrs in SCENARIOS:
            for kind in ("direct", "native"):
                if (kind, urls, hdrs) not in counts:
                    counts[(kind, urls, hdrs)] = count(counter, tmp, kind, urls, 1, hdrs=hdrs)
            counts[("ampshim", urls, nroutes, hdrs)] = count(counter, tmp, "ampshim", urls,
                                                             nroutes, hdrs=hdrs)
        # The same count again: how much identical runs differ.
        again = count(counter, tmp, "ampshim", "vary", 1000, ".again")

        startup = {}
        for nroutes in (10, 1000):
            startup[("native", nroutes)] = whole_client(counter, tmp, "native", nroutes)
            startup[("ampshim", nroutes)] = whole_client(counter, tmp, "ampshim", nroutes)
        startup["direct"] = whole_client(counter, tmp, "direct", 10)
        true = {}
        for nroutes in (10, 1000):
            for preload in (False, True):
                true[(nroutes, preload)] = whole_true(counter.configs[nroutes], preload)
    except BenchError as e:
        die(str(e))
    finally:
        for p in upstreams:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    def name(urls, nroutes, hdrs=2):
        if urls == "fresh":
            return "a handle each, %d route%s" % (nroutes, "" if nroutes == 1 else "s")
        if ANSWERS[hdrs][1]:
            return "%s URL, %s hdrs, header callback" % (urls, str(hdrs).rstrip("cb"))
        return "%s URL, %d route%s%s" % (urls, nroutes, "" if nroutes == 1 else "s",
                                         "" if hdrs == 2 else ", %d hdrs" % hdrs)

    print()
    print("time per request: the median of the %d runs' medians per kind; MAD = the runs' median "
          "absolute" % ROUNDS)
    print("deviation from it, in %, direct/native/ampshim; vs native: the median of the rounds' "
          "ampshim/native - 1;")
    print("native A/A: the same for native's second run of each round; noise: the median of "
          "|native2/native - 1|")
    print("%-34s | %9s | %9s | %10s | %9s | %9s | %9s | %7s | %14s" % (
        "scenario", "direct µs", "native µs", "ampshim µs", "vs direct", "vs native", "native A/A",
        "noise", "MAD d/n/a %"))
    for urls, nroutes, hdrs in SCENARIOS:
        t = times[(urls, nroutes, hdrs)]
        print("%-34s | %9.2f | %9.2f | %10.2f | %+8.2f%% | %+8.2f%% | %+9.2f%% | %6.2f%% | %14s" % (
            name(urls, nroutes, hdrs), t["direct"], t["native"], t["ampshim"],
            pct(t["ampshim"], t["direct"]), t["over"], t["aa"], t["noise"],
            "/".join("%.1f" % t["mad"][k] for k in KINDS)))

    print()
    print("instructions per request (callgrind Ir, (Ir(%d) - Ir(%d)) / %d)" % (N2, N1, N2 - N1))
    print("%-34s | %10s | %10s | %11s | %10s | %10s" % (
        "scenario", "direct Ir", "native Ir", "ampshim Ir", "vs direct", "vs native"))
    for urls, nroutes, hdrs in SCENARIOS:
        d, n, a = (counts[("direct", urls, hdrs)], counts[("native", urls, hdrs)],
                   counts[("ampshim", urls, nroutes, hdrs)])
        print("%-34s | %10.0f | %10.0f | %11.0f | %+9.2f%% | %+9.2f%%" % (
            name(urls, nroutes, hdrs), d.per_req, n.per_req, a.per_req,
            pct(a.per_req, d.per_req), pct(a.per_req, n.per_req)))
    first = counts[("ampshim", "vary", 1000, 2)]
    print("repeatability: ampshim, vary URL, 1000 routes counted twice: %.1f and %.1f Ir per "
          "request (%+.1f); whole %d-request runs %+.0f Ir apart" % (
              first.per_req, again.per_req, again.per_req - first.per_req, N2,
              (again.fixed + again.per_req * N2) - (first.fixed + first.per_req * N2)))

    print()
    print("where ampshim's extra instructions go (ampshim - native, Ir per request, self cost)")
    for urls, nroutes, hdrs in SCENARIOS:
        a, n = counts[("ampshim", urls, nroutes, hdrs)], counts[("native", urls, hdrs)]
        obs, fns = where(a.by_fn, n.by_fn, 6, 20)
        print("  %-34s total %+.0f: %s" % (name(urls, nroutes, hdrs), a.per_req - n.per_req, obs))
        print("  %-34s top: %s" % ("", fns))

    print()
    print("whole processes (callgrind Ir, total)")
    print("  bench_client, one request: direct %.2fM, native %.2fM; ampshim %.2fM with 10 routes "
          "(8 by provider name), %.2fM with 1,000" % (
              startup["direct"].total / 1e6, startup[("native", 10)].total / 1e6,
              startup[("ampshim", 10)].total / 1e6, startup[("ampshim", 1000)].total / 1e6))
    print("  %s: %d without the library; with it %d (10-route config), %d (1,000-route config)" % (
        TRUE, true[(10, False)].total, true[(10, True)].total, true[(1000, True)].total))
    print("where the extra instructions go (self cost)")
    for nroutes in (10, 1000):
        a, n = startup[("ampshim", nroutes)], startup[("native", nroutes)]
        obs, fns = where(a.by_fn, n.by_fn, 8, 1000)
        print("  start-up, %4d routes  total %s: %s" % (nroutes, mega(a.total - n.total), obs))
        print("  %-34s top: %s" % ("", fns))
    a, n = true[(10, True)], true[(10, False)]
    obs, fns = where(a.by_fn, n.by_fn, 8, 20)
    print("  %-34s total %+d: %s" % (os.path.basename(TRUE), a.total - n.total, obs))
    print("  %-34s top: %s" % ("", fns))

    results = []
    print()
    print("targets")
    print("  a. instructions per request at most +%g%% over native (callgrind), with and without "
          "glibc malloc's part when it is a saving" % MAX_IR_PCT)
    for urls, nroutes, hdrs in SCENARIOS:
        ca, cn = counts[("ampshim", urls, nroutes, hdrs)], counts[("native", urls, hdrs)]
        a, n = ca.per_req, cn.per_req
        m = malloc_part(ca.by_fn, cn.by_fn)
        # A malloc saving is the heap's shape (docstring): not counted for ampshim.
        unflattered = (a - n - min(m, 0)) / n * 100
        ok = pct(a, n) <= MAX_IR_PCT and unflattered <= MAX_IR_PCT
        results.append(ok)
        luck = "" if ok or pct(a, n) > MAX_IR_PCT else " (within only by malloc's %+.0f)" % m
        print("     %-34s %+6.2f%% (%+.0f Ir; malloc %+.0f, the rest %+.0f = %+.2f%%)  %s%s" % (
            name(urls, nroutes, hdrs), pct(a, n), a - n, m, a - n - m, (a - n - m) / n * 100,
            verdict(ok), luck))
    print("  b. time per request within noise of native (noise: how much two native runs of a "
          "round differ, median)")
    for urls, nroutes, hdrs in SCENARIOS:
        t = times[(urls, nroutes, hdrs)]
        over, noise = t["over"], t["noise"]
        ok = over <= noise
        results.append(ok)
        print("     %-34s %+6.2f%% (noise %.2f%%)  %s" % (name(urls, nroutes, hdrs), over, noise,
                                                       verdict(ok)))
    print("  c. instructions per request the same with 1 and 1,000 routes (within %d Ir)"
          % SAME_TOL)
    for urls in ("same", "vary"):
        a1 = counts[("ampshim", urls, 1, 2)].per_req
        a2 = counts[("ampshim", urls, 1000, 2)].per_req
        ok = abs(a2 - a1) <= SAME_TOL
        results.append(ok)
        print("     %-34s %.0f vs %.0f: %+.0f Ir  %s" % (urls + " URL", a1, a2, a2 - a1,
                                                        verdict(ok)))
    print("  d. start-up: a whole process making one request, ampshim over native")
    for nroutes in (10, 1000):
        extra = startup[("ampshim", nroutes)].total - startup[("native", nroutes)].total
        ok = extra <= STARTUP_MAX[nroutes]
        results.append(ok)
        print("     %-34s %s (at most +%.0fM)  %s" % (
            "%d routes" % nroutes + (" (8 by name)" if nroutes == 10 else ""), mega(extra),
            STARTUP_MAX[nroutes] / 1e6, verdict(ok)))
    print("  e. %s with the library and a config, over without: at most +%d Ir" % (TRUE, TRUE_MAX))
    for nroutes in (10, 1000):
        extra = true[(nroutes, True)].total - true[(nroutes, False)].total
        ok = extra <= TRUE_MAX
        results.append(ok)
        print("     %-34s %+d Ir  %s" % ("%d-route config" % nroutes, extra, verdict(ok)))
    print("  %d of %d met" % (sum(results), len(results)))

    if NOTES:
        print()
        print("notes:")
        for line in NOTES:
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
