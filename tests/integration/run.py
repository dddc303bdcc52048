#!/usr/bin/python3
"""Runs the integration tests: all of them, or those named, each name a
concern (a module of this folder) or a test:

    /usr/bin/python3 tests/integration/run.py
    /usr/bin/python3 tests/integration/run.py throttle ffi_luajit_routed
    /usr/bin/python3 tests/integration/run.py --list     # concern and name of each test

Ends with the line "N passed, N failed" (and ", N skipped" when some were)."""

import os
import sys

# The package is tests/integration: tests/ goes on the path, not this folder.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from integration import harness  # noqa: E402


def main(args):
    harness.load()
    if args == ["--list"]:
        for fn in harness.TESTS:
            print(harness.CONCERN_OF[fn.__name__], fn.__name__)
        return 0
    unknown = [a for a in args if a not in harness.CONCERNS and a not in harness.CONCERN_OF]
    if unknown:
        print("run.py: no concern or test named %s" % ", ".join(unknown), file=sys.stderr)
        return 2
    p, f, s = harness.main(set(args))
    print(harness.closing_line(p, f, s))
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
