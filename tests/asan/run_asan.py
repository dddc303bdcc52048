#!/usr/bin/python3
"""`make asan`: the cmocka unit tests and the integration tests of `make test`,
against the ASan+UBSan build in build/asan (library, launcher, C clients, unit
tests), ending with the line "N passed, N failed" like `make test`.

How a report fails the test that caused it:
- Every process a test starts has, first in LD_PRELOAD, the ASan runtime and
  asan_first.so (see that file: ASan is set up before any other constructor,
  or Debian's curl hangs in setlocale; an error ends the process with status
  86). The launcher is called through tests/asan/launcher.sh, which keeps
  that order for `ampshim run`.
- ASan, LSan and UBSan write their reports to files under a directory of this
  run (log_path, one file per process), not to the program's stderr, which
  the tests inspect. After each test the new files are read: the test fails
  on any error report (ASan, UBSan), printing it.
- Leaks: LSan is on in every process. The host programs (curl, python3,
  ruby, git, ...) leak at exit by design, and those leaks have nothing to do
  with ampshim: suppressing them by library name cannot work, as every stack
  also holds the host's frames, ampshim's allocations included. So leak
  reports do not change a process's exit status (exitcode=0; errors still
  end it with 86), and a leak counts when its allocation stack holds a frame
  of this repository's code (libampshim.so, src/, tests/): ampshim's own
  allocations, and our clients'. The others are counted and left aside.
  Malloc stacks are unwound with DWARF (fast_unwind_on_malloc=0): Debian's
  libraries have no frame pointers, and a fast unwind stops in the first of
  them, which would hide an ampshim frame below a libcurl one.
- Unit tests (our code only) run with exitcode=23: any report fails them.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
A = os.path.join(ROOT, "build", "asan")
REPORTS = os.path.join(A, "reports")

COMMON = "halt_on_error=1:detect_leaks=1:malloc_context_size=30:fast_unwind_on_malloc=0"
UBSAN = "halt_on_error=1:print_stacktrace=1:report_error_type=1"
ERROR_EXIT = 86  # asan_first.so's death callback


def runtime():
    """The ASan runtime the library was linked against, by the path the loader uses."""
    out = subprocess.run(["ldd", os.path.join(A, "libampshim.so")], capture_output=True, text=True).stdout
    m = re.search(r"libasan\.so\.\d+ => (\S+)", out)
    if not m:
        sys.exit("asan: no libasan in ldd build/asan/libampshim.so:\n" + out)
    return m.group(1)


OURS = re.compile(r"#\d+ 0x[0-9a-f]+ .*(libampshim\.so|%s/(src|tests)/)" % re.escape(ROOT))


def classify(path):
    """(counted reports, ignored leak count) for one report file."""
    text = open(path, errors="replace").read()
    counted, ignored = [], 0
    if "runtime error:" in text or re.search(r"ERROR: AddressSanitizer", text) or \
            "Sanitizer CHECK failed" in text or ("ERROR:" in text and "LeakSanitizer" not in text):
        return [text], 0
    for block in re.split(r"\n(?=(?:Direct|Indirect) leak of )", text):
        if not re.match(r"(Direct|Indirect) leak of ", block):
            continue
        block = block.split("\n\n")[0]
        if OURS.search(block):
            counted.append(block)
        else:
            ignored += 1
    if counted:
        head = text.split("\n(Direct", 1)[0].split("Direct leak", 1)[0]
        counted = [head.strip() + "\n" + "\n\n".join(counted)]
    return counted, ignored


class Reports:
    def __init__(self):
        shutil.rmtree(REPORTS, ignore_errors=True)
        os.makedirs(os.path.join(REPORTS, "seen"))
        self.ignored = self.ignored_files = 0

    def collect(self, what):
        """Moves the new report files aside; returns the reports that count."""
        counted = []
        time.sleep(0.05)  # a process killed at the end of a test may still be writing
        for path in sorted(glob.glob(os.path.join(REPORTS, "*.*"))):
            if os.path.isdir(path):
                continue
            c, i = classify(path)
            self.ignored += i
            self.ignored_files += 1 if i and not c else 0
            name = os.path.basename(path)
            shutil.move(path, os.path.join(REPORTS, "seen", "%s.%s" % (what, name)))
            for text in c:
                counted.append("--- %s (kept as build/asan/reports/seen/%s.%s)\n%s" % (name, what, name, text))
        return counted


def checked(fn, reports):
    """The test, failing on any report that counts from a process it ran."""
    def run(ctx):
        try:
            fn(ctx)
        finally:
            found = reports.collect(fn.__name__)
        if found:
            raise AssertionError("sanitizer reports:\n" + "\n".join(found))
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


def unit(binary, env):
    p = subprocess.run([binary], capture_output=True, text=True, env=env)
    out = p.stdout + p.stderr
    sys.stdout.write(out)
    passed = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
    failed = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
    if p.returncode != 0 and failed == 0:
        failed = 1  # a sanitizer report (exit 23) or a crash after cmocka's own lines
        print("FAIL %s: exit status %d" % (os.path.basename(binary), p.returncode))
    return passed, failed


def main():
    t0 = time.monotonic()
    reports = Reports()
    preload = runtime() + ":" + os.path.join(A, "asan_first.so")
    os.environ.update({
        "AMPSHIM_TEST_BUILD": A,
        "AMPSHIM_TEST_LAUNCHER": os.path.join(HERE, "launcher.sh"),
        "AMPSHIM_TEST_PRELOAD": preload,
        "AMPSHIM_TEST_SANITIZER": "asan",
        "ASAN_OPTIONS": COMMON + ":exitcode=0:log_exe_name=1:log_path=" + os.path.join(REPORTS, "asan"),
        "UBSAN_OPTIONS": UBSAN + ":exitcode=%d:log_exe_name=1:log_path=%s" % (
            ERROR_EXIT, os.path.join(REPORTS, "ubsan")),
    })
    os.environ.pop("LSAN_OPTIONS", None)
    passed = failed = 0
    print("== unit tests (ASan+UBSan)", flush=True)
    unit_env = dict(os.environ, ASAN_OPTIONS=COMMON + ":exitcode=23", UBSAN_OPTIONS=UBSAN + ":exitcode=23")
    for binary in sys.argv[1:]:
        p, f = unit(binary, unit_env)
        passed, failed = passed + p, failed + f

    sys.path.insert(0, os.path.dirname(HERE))
    import integration  # noqa: E402  (reads the AMPSHIM_TEST_* variables set above)
    integration.TESTS[:] = [checked(fn, reports) for fn in integration.TESTS]
    print("== integration tests (ASan+UBSan: %s)" % integration.LIB, flush=True)
    p, f, s = integration.main()
    passed, failed = passed + p, failed + f
    late = reports.collect("after-the-tests")
    if late:
        failed += 1
        print("FAIL reports from processes that outlived their test:\n" + "\n".join(late))
    print("asan: %d leak reports in host programs' own code left aside (in %d processes; "
          "build/asan/reports/seen); %.0fs" % (reports.ignored, reports.ignored_files, time.monotonic() - t0))
    print(integration.closing_line(passed, failed, s))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
