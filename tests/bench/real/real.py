#!/usr/bin/python3
"""What ampshim costs per request in real programs (not run by make test):
php-cli with php-curl (client.php) and /usr/bin/python3 with pycurl
(client.py), each with a new handle per request (fresh: PHP's curl_init on
every call) and with one handle reused (reuse: keep-alive).

  /usr/bin/python3 tests/bench/real/real.py [LIB...]

needs `make all bench-build` (the upstream, the launcher, and bench_client
to read the headers ampshim adds). Each LIB is a libampshim.so to measure
(default: this tree's build/libampshim.so), e.g. an older commit's built in
another worktree. Two kinds of run, as make bench's (tests/bench/bench.py,
whose set-up it reuses):
  native   http://127.0.0.1:PORT/items with the headers ampshim adds sent
           by the program itself and NOPROXY "*", no preload;
  ampshim  https://acme.my.salesforce.com/items with LD_PRELOAD=LIB and a
           1-route config sending it to the same upstream.
The upstream answers each request 2 ms after reading it (so every request
takes the same path through libcurl). Per request: callgrind Ir of whole
runs of N1 and N2 requests, (Ir(N2) - Ir(N1)) / (N2 - N1), so start-up
(PHP's, Python's, the library's) cancels.
Then, for the first LIB and PHP fresh, where ampshim's instructions go
(self cost by object and function, ampshim - native; glibc malloc's apart).
Environment: REAL_N1 (100), REAL_N2 (600), REAL_KEEP=DIR (keep the callgrind
files), REAL_ONLY=php-fresh,... (a subset)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import bench  # noqa: E402  (tests/bench/bench.py: configs, upstream, callgrind reading)

N1 = int(os.environ.get("REAL_N1", "100"))
N2 = int(os.environ.get("REAL_N2", "600"))
KEEP = os.environ.get("REAL_KEEP")
PROGRAMS = {"php": [shutil.which("php") or "/usr/bin/php", os.path.join(HERE, "client.php")],
            "python": ["/usr/bin/python3", os.path.join(HERE, "client.py")]}
CASES = [(p, m) for p in ("php", "python") for m in ("fresh", "reuse")]


def run(tmp, prog, mode, n, kind, lib, port, config, headers):
    out = os.path.join(tmp, "callgrind.%s.%s.%s.%d" % (prog, mode, kind, n))
    env = bench.clean_env()
    env["AMPSHIM_CONFIG"] = config
    if kind == "native":
        cmd = PROGRAMS[prog] + [mode, str(n), "http://127.0.0.1:%d/items" % port, "1"] + headers
    else:
        env["LD_PRELOAD"] = lib
        cmd = PROGRAMS[prog] + [mode, str(n), bench.PROVIDER + "/items", "0"]
    r = subprocess.run(bench.valgrind(out) + cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 or ("ok requests=%d" % n) not in r.stdout:
        raise bench.BenchError("%s exited %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                       r.stderr))
    if r.stderr.strip():
        print("  (%s %s %s stderr: %s)" % (prog, mode, kind, r.stderr.strip()[:300]))
    res = bench.callgrind_self(out)
    if KEEP:
        os.makedirs(KEEP, exist_ok=True)
        shutil.copy(out, os.path.join(KEEP, os.path.basename(out) + "." + tag(lib, kind)))
    os.unlink(out)
    return res


def tag(lib, kind):
    return "native" if kind == "native" else lib.replace("/", "_").strip("_")


def count(tmp, prog, mode, kind, lib, port, config, headers):
    small = run(tmp, prog, mode, N1, kind, lib, port, config, headers)
    large = run(tmp, prog, mode, N2, kind, lib, port, config, headers)
    bench.N1, bench.N2 = N1, N2   # Count uses bench's N1, N2
    return bench.Count(small, large)


def main():
    libs = [os.path.abspath(p) for p in sys.argv[1:]] or [bench.LIBRARY]
    only = os.environ.get("REAL_ONLY")
    cases = [c for c in CASES if not only or "%s-%s" % c in only.split(",")]
    tmp = tempfile.mkdtemp(prefix="ampshim-real-")
    up = None
    try:
        os.mkdir(os.path.join(tmp, "state"), 0o700)
        up, port = bench.start_upstream(tmp, 2000)
        config = os.path.join(tmp, "routes1.cfg")
        bench.write_config(config, port, bench.many_routes(1), os.path.join(tmp, "state", "state"))
        headers = bench.capture_headers(tmp)
        print("native sends: %s; NOPROXY \"*\"" % "; ".join(h.split(":")[0] for h in headers))
        print("callgrind Ir per request = (Ir(%d) - Ir(%d)) / %d" % (N2, N1, N2 - N1))
        print("%-7s %-6s | %10s | %s" % ("program", "handle", "native Ir",
                                         " | ".join("%s Ir, vs native" % l for l in libs)))
        first = {}
        for prog, mode in cases:
            nat = count(tmp, prog, mode, "native", None, port, config, headers)
            cols = []
            for lib in libs:
                a = count(tmp, prog, mode, "ampshim", lib, port, config, headers)
                if lib == libs[0]:
                    first[(prog, mode)] = (a, nat)
                cols.append("%10.0f %+7.0f %+6.2f%%" % (a.per_req, a.per_req - nat.per_req,
                                                       bench.pct(a.per_req, nat.per_req)))
            print("%-7s %-6s | %10.0f | %s" % (prog, mode, nat.per_req, " | ".join(cols)))
            sys.stdout.flush()
        print()
        print("where ampshim's instructions go (%s; ampshim - native, self Ir per request)" % libs[0])
        for (prog, mode), (a, nat) in first.items():
            obs, fns = bench.where(a.by_fn, nat.by_fn, 14, 10)
            print("  %s %s: total %+.0f; glibc malloc %+.0f" % (
                prog, mode, a.per_req - nat.per_req, bench.malloc_part(a.by_fn, nat.by_fn)))
            print("    by object: " + obs)
            print("    top functions: " + fns)
    except bench.BenchError as e:
        print("real: FAILED: %s" % e, file=sys.stderr)
        return 1
    finally:
        if up:
            up.send_signal(signal.SIGTERM)
            up.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
