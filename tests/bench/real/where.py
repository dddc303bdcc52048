#!/usr/bin/python3
"""Where a routed run's instructions go, per request, by callgrind_annotate
(not run by make test): files kept by real.py (REAL_KEEP=DIR).

  /usr/bin/python3 tests/bench/real/where.py N1 N2 AMP_N1 AMP_N2 NATIVE_N1 NATIVE_N2

e.g., after REAL_KEEP=/tmp/k real.py, in /tmp/k: where.py 100 600
  callgrind.php.fresh.ampshim.{100,600}.<the library's path, / as _>
  callgrind.php.fresh.native.{100,600}.native

Each file is read by callgrind_annotate (self cost by function, threshold
100%, so every function is listed); a function's cost per request is
(Ir in the N2 run - Ir in the N1 run) / (N2 - N1), and what is printed is
ampshim's run minus native's, grouped: ampshim's objects, glibc's malloc
(the functions tests/bench/bench.py counts as malloc's), the rest of libc,
and everything else by object, each with its functions that differ most.
callgrind_annotate keys a function by file:function, so two objects' functions
of the same name and file (ld.so's strdup and libc's; ampshim's curl_easy_perform
and libcurl's, both in no known file) are listed under one object: the totals by
object that real.py prints (read from the raw files) are the exact ones."""

import collections
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import bench  # noqa: E402  (MALLOC_FNS, short_object)

LINE = re.compile(r"^\s*([\d,]+) \([ \d.]+%\)\s+(.*?)(?: \[(.*)\])?$")


def annotate(path):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", "--auto=no",
                          path],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    rows, home = [], {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or m.group(2) == "PROGRAM TOTALS":
            continue
        fn = m.group(2).rsplit(":", 1)[-1]
        rows.append((m.group(3), fn, int(m.group(1).replace(",", ""))))
        if m.group(3) and not fn.startswith("0x"):
            home.setdefault(fn, m.group(3))
    # callgrind_annotate prints a function's code inlined from another file
    # (fi=/fe=) on a line of its own without the object: it is given the
    # object the same function is listed with elsewhere.
    cost = collections.Counter()
    for ob, fn, ir in rows:
        cost[(bench.short_object(ob or home.get(fn, "?")), fn)] += ir
    return cost


def per_request(n1, n2, f1, f2):
    c1, c2 = annotate(f1), annotate(f2)
    return {k: (c2[k] - c1[k]) / (n2 - n1) for k in set(c1) | set(c2)}


def group(ob, fn):
    if ob.startswith("libampshim"):
        return "ampshim (" + ob + ")"
    if ob.startswith("libc.so"):
        return "libc malloc" if bench.MALLOC_FNS.match(fn) else "libc, the rest"
    return ob


def main():
    n1, n2 = int(sys.argv[1]), int(sys.argv[2])
    amp = per_request(n1, n2, sys.argv[3], sys.argv[4])
    nat = per_request(n1, n2, sys.argv[5], sys.argv[6])
    delta = {k: amp.get(k, 0) - nat.get(k, 0) for k in set(amp) | set(nat)}
    groups = collections.defaultdict(dict)
    for (ob, fn), v in delta.items():
        groups[group(ob, fn)][fn if not fn.startswith("0x") else ob + ":" + fn] = v
    print("ampshim - native, self Ir per request: total %+.0f (native %.0f, ampshim %.0f)" % (
        sum(delta.values()), sum(nat.values()), sum(amp.values())))
    for name, fns in sorted(groups.items(), key=lambda kv: -abs(sum(kv[1].values()))):
        tot = sum(fns.values())
        if abs(tot) < 20:
            continue
        top = sorted(fns.items(), key=lambda kv: -abs(kv[1]))
        shown = [(f, v) for f, v in top if abs(v) >= 20][:15]
        print("  %-34s %+7.0f   %s" % (name, tot, ", ".join("%s %+.0f" % fv for fv in shown)))


if __name__ == "__main__":
    main()
