#!/usr/bin/python3
"""`make test`: the cmocka unit tests, then the integration tests, and one
closing line for all of them: "N passed, N failed"."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from integration import harness  # noqa: E402  (tests/integration/)


def unit(binary):
    p = subprocess.run([binary], capture_output=True, text=True)
    out = p.stdout + p.stderr
    sys.stdout.write(out)
    passed = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
    failed = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
    if p.returncode != 0 and failed == 0:
        failed = 1  # crashed before cmocka could say
    return passed, failed


def main():
    passed = failed = 0
    for binary in sys.argv[1:]:
        p, f = unit(binary)
        passed, failed = passed + p, failed + f
    print("== integration tests", flush=True)
    p, f, s = harness.main()
    passed, failed = passed + p, failed + f
    print(harness.closing_line(passed, failed, s))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
