#!/usr/bin/python3
"""`make valgrind`: the C clients of tests/clients (easy, multi, lifecycle,
ending, threads, sticky, reset, with small counts) through the normal library
(build/libampshim.so, LD_PRELOAD), against the mock proxy, each under
valgrind's memcheck, with --error-exitcode and a full leak check.

What fails a run: any memcheck error (invalid read or write, uninitialised
value used, bad free...) and any definite leak whose stack holds a frame of
libampshim.so. Definite leaks elsewhere (the clients are small test programs,
libcurl's own) are listed, not counted. memcheck's own verdict is in its XML
(--xml-file), read here; --error-exitcode=99 makes a run whose errors were not
all read back fail too. Ends with "N passed, N failed".
"""

import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for var in ("AMPSHIM_TEST_BUILD", "AMPSHIM_TEST_LAUNCHER", "AMPSHIM_TEST_PRELOAD", "AMPSHIM_TEST_SANITIZER"):
    os.environ.pop(var, None)
sys.path.insert(0, os.path.dirname(HERE))
from integration import harness as it  # noqa: E402  (tests/integration/harness.py)

OUT = os.path.join(ROOT, "build", "valgrind")
VALGRIND = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite", "--track-origins=yes",
            "--num-callers=40", "--child-silent-after-fork=yes", "--xml=yes"]
ERROR_KINDS_ALWAYS = re.compile(r"^(Invalid|Uninit|Cond|Syscall|Overlap|Mismatched|FishyValue|ClientCheck)")


def frames(error):
    return [(f.findtext("obj") or "", f.findtext("fn") or "?", f.findtext("file") or "", f.findtext("line") or "")
            for f in error.iter("frame")]


def show(error):
    what = error.findtext("what") or (error.find("xwhat").findtext("text") if error.find("xwhat") is not None else "")
    lines = ["  %s: %s" % (error.findtext("kind"), what)]
    for obj, fn, file, line in frames(error)[:25]:
        lines.append("    %s %s" % (fn, "%s:%s" % (file, line) if file else "(%s)" % os.path.basename(obj)))
    return "\n".join(lines)


def judge(xml_file):
    """(errors that count, definite leaks outside ampshim) from memcheck's XML."""
    counted, aside = [], []
    try:
        root = ET.parse(xml_file).getroot()
    except (ET.ParseError, FileNotFoundError) as e:
        return ["  memcheck left no readable XML (%s)" % e], []
    for error in root.iter("error"):
        kind = error.findtext("kind") or ""
        ours = any(os.path.basename(obj).startswith("libampshim") for obj, _, _, _ in frames(error))
        if ERROR_KINDS_ALWAYS.match(kind) or (kind.startswith("Leak_Definitely") and ours):
            counted.append(show(error))
        elif kind.startswith("Leak_Definitely"):
            aside.append(show(error))
    return counted, aside


def main():
    t0 = time.monotonic()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    ctx = it.Ctx()
    b, sf = it.BUILD, it.SF
    up = os.path.join(ctx.dir, "upload.bin")
    with open(up, "wb") as f:
        f.write(bytes(range(256)) * 64)
    # A route blocked by a 429 the proxy answers: the record and the answer paths too.
    blocked_state = os.path.join(ctx.dir, "vg-blocked.state")
    blocked = ctx.write_cfg("vg-blocked.cfg", ctx.config() + 'throttle: { state_file = "%s"; };\n' % blocked_state)
    runs = [
        ("easy repeat", [b + "/easy_client", "--repeat", "3", "-H", "X-App: 1", "-H", "x-api-key: app",
                         sf + "/vg/easy?x=1"], None, "perform 3: rc=0 status=200"),
        ("easy upload", [b + "/easy_client", "-X", "POST", "--upload", up, sf + "/vg/upload"], None, "status=200"),
        ("easy unrouted", [b + "/easy_client", ctx.plain.url("/vg/plain")], None, "status=200"),
        ("multi perform", [b + "/multi_client", "perform", sf + "/vg/m1", "https://slack.com/api/vg-m2",
                           ctx.plain.url("/vg/m3")], None, "status=200"),
        ("multi socket", [b + "/multi_client", "socket", sf + "/vg/s1", "https://slack.com/api/vg-s2",
                          ctx.plain.url("/vg/s3")], None, "status=200"),
        ("threads 4x10", [b + "/threads_client", "4", "10", sf + "/vg/t"], None, "ok 40 failed 0"),
    ]
    for mode in ("dup", "reset", "curlu", "nested"):
        second = {"dup": sf + "/vg/d2", "reset": ctx.plain.url("/vg/r2"), "curlu": "/vg/u2",
                  "nested": sf + "/vg/n2"}[mode]
        runs.append(("lifecycle " + mode, [b + "/lifecycle_client", mode, sf + "/vg/" + mode, second], None, ""))
    runs.append(("lifecycle port", [b + "/lifecycle_client", "port", sf + "/vg/port",
                                    "127.0.0.1:%d" % ctx.plain.port], None, ""))
    for mode in ("newlists", "double-add"):
        runs.append(("lifecycle " + mode, [b + "/lifecycle_client", mode, sf + "/vg/" + mode], None, ""))
    for mode in ("noinfo", "multi-cleanup", "easy-cleanup", "abort-status", "longjmp", "pause"):
        runs.append(("ending " + mode, [b + "/ending_client", mode, sf + "/vg/end-" + mode,
                                        sf + "/vg/end-" + mode + "-2"], None, ""))
    # Options set from callbacks, resets after and inside a routed transfer,
    # a redirect off the proxy with the application's RESOLVE back.
    st = b + "/sticky_client"
    runs.append(("sticky reset", [st, "url=" + sf + "/vg/r1", "resolve=other.example:1:127.0.0.1", "callbacks",
                                  "cbset", "perform", "reset", "url=" + ctx.plain.url("/vg/r2"), "perform",
                                  "url=" + sf + "/vg/r3", "cbreset", "perform"], None, "perform-2 rc=0 status=200"))
    runs.append(("sticky late multi", [st, "url=" + sf + "/vg/m1", "madd", "follow=1", "verbose=1", "callbacks",
                                       "resolve=other.example:1:127.0.0.1", "header=X-App: 1", "mrun", "dup"],
                 None, "mrun-1"))
    # curl_easy_reset from a callback of a multi transfer (resets.py): a routed one, and one
    # answered here (the blocked route's, after the 429 below is recorded).
    rc = b + "/reset_client"
    runs.append(("reset perform header-abort", [rc, "perform", "header-abort", sf + "/vg/rs1",
                                                ctx.plain.url("/vg/rs2")], None, "again rc=0 status=200"))
    runs.append(("reset socket write answered", [rc, "socket", "write", sf + "/vg/rs3", ctx.plain.url("/vg/rs4")],
                 blocked, "again rc=0 status=200"))
    # The 429 recorded, then the next perform answered here (respond).
    runs.append(("easy 429 then blocked", [b + "/easy_client", "--repeat", "2", sf + "/vg/blocked"], blocked,
                 "perform 2: rc=0 status=429"))

    def run(i, name, argv, cfg, expect):
        xml = os.path.join(OUT, "%02d-%s.xml" % (i, re.sub(r"\W+", "-", name)))
        env = ctx.env(LD_PRELOAD=it.LIB, AMPSHIM_CONFIG=cfg or ctx.cfg)
        t = time.monotonic()
        p = subprocess.run(VALGRIND + ["--xml-file=" + xml] + argv, capture_output=True, env=env, timeout=300)
        counted, aside = judge(xml)
        if expect not in p.stdout.decode(errors="replace"):
            counted.append("  the client did not say %r:\n%s" % (expect, p.stdout.decode(errors="replace")))
        return name, p, counted, aside, time.monotonic() - t

    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "body": "slow down",
                                "headers": {"X-Amp-Retry-After": it.http_date(int(time.time()) + 600)}})
    passed = failed = 0
    try:
        # The 429 is queued first: the run that takes it goes alone, before the others.
        last = runs.pop()
        results = [run(len(runs), *last)]
        with ThreadPoolExecutor(2) as pool:
            results += list(pool.map(lambda a: run(a[0], *a[1]), enumerate(runs)))
        for name, p, counted, aside, secs in results:
            if p.returncode == 99 and not counted:
                counted = ["  memcheck counted errors (exit 99) that are not in its XML"]
            if counted or p.returncode != 0:
                failed += 1
                print("FAIL %s (%.1fs, exit %d)\n%s" % (name, secs, p.returncode, "\n".join(counted)), flush=True)
                if p.returncode not in (0, 99):
                    print("  stderr: " + p.stderr.decode(errors="replace")[-2000:])
            else:
                passed += 1
                print("ok   %s (%.1fs)" % (name, secs), flush=True)
            for a in aside:
                print("  note: a definite leak outside ampshim (not counted):\n" + a)
        reqs = ctx.proxy.requests()
        if not reqs:
            failed += 1
            print("FAIL nothing reached the proxy: the library was not in effect")
    finally:
        ctx.close()
    print("valgrind: %.0fs, XML in build/valgrind" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
