#!/usr/bin/python3
"""`make asan`: the cmocka unit tests and the integration tests of `make test`,
against the ASan+UBSan build in build/asan (library, launcher, C clients, unit
tests), ending with the line "N passed, N failed" like `make test`.

How a report fails the test that caused it:
- A process that loads the sanitized library has, first in LD_PRELOAD, the ASan
  runtime and asan_first.so (see that file: ASan is set up before any other
  constructor, or Debian's curl hangs in setlocale; a sanitizer error ends the
  process with status 86). tests/asan/launcher.sh puts them there for
  `ampshim run`, and the launcher keeps the runtime first.
- ASan and LSan write their reports to files under build/asan/reports
  (log_path, one file per process), not to the program's stderr, which the
  tests inspect. GCC 12's UBSan cannot (see asan_first.c): its report stays on
  stderr, the process ends with 86, and asan_first.so leaves a note (died.PID).
  After each test the new files are read: the test fails on any error report
  or note, and prints it.
- Leaks: LSan is on in every sanitized process. The host programs (curl,
  python3, ruby, git...) leak at exit by design, and those leaks are not ours.
  LSan suppressions cannot separate them (a suppression matches any frame of
  the stack, and ampshim's own allocations have the host's frames below them
  too), so leak reports do not change a process's exit status (exitcode=0;
  errors still end it, with 86) and each leak is judged by its allocation
  stack, read from the allocator outwards: past the C library, the sanitizer
  runtime and the libraries ampshim itself calls into (libcurl, both flavours,
  what they use, libconfig), the first frame decides. In this tree's build
  (libampshim.so, our clients, unit tests): the leak counts. Anywhere else (the
  host's interpreter, an FFI callback of the application that ampshim chained
  to): left aside, and counted in the closing summary.
  Malloc stacks are unwound with DWARF (fast_unwind_on_malloc=0): Debian's
  libraries have no frame pointers, and a fast unwind stops in the first of
  them, which would hide the frame that decides.
- Unit tests (our code only) run with exitcode=23: any report fails them.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
A = os.path.join(ROOT, "build", "asan")
REPORTS = os.path.join(A, "reports")

# use_sigaltstack=0: ruby's threads install signal stacks of their own, which ASan
# would unmap as its own when they end (CHECK failed: "unable to unmap").
# Each frame ends with its module in braces, for the leak verdict.
COMMON = ("halt_on_error=1:detect_leaks=1:malloc_context_size=30:fast_unwind_on_malloc=0:"
          "use_sigaltstack=0:stack_trace_format='    #%n %p %F %L {%m}'")
UBSAN = "halt_on_error=1:print_stacktrace=1:report_error_type=1"
ERROR_EXIT = 86  # asan_first.so's death callback

harness = None  # tests/integration/harness.py, imported in main()


def ldd(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return dict(re.findall(r"^\s*(\S+) => (\S+)", out, re.M))


def runtime():
    """The ASan runtime the library's core was linked against, by the path the loader uses
    (the first stage beside it is the plain build's, never instrumented)."""
    for name, path in ldd(os.path.join(A, "libampshim-core.so")).items():
        if name.startswith("libasan.so"):
            return path
    sys.exit("asan: build/asan/libampshim-core.so is not linked against libasan")


def stem(path):
    """libcurl-gnutls for /usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4.8.0."""
    return os.path.basename(path).split(".so")[0]


def transparent_libraries():
    """The C library, the sanitizer runtimes, and what ampshim calls into: libcurl (both
    flavours, and what they use), libconfig."""
    names = {"libc", "libm", "ld-linux-x86-64", "libasan", "libubsan", "libstdc++", "libgcc_s",
             "libcurl", "libcurl-gnutls", "libconfig"}
    for lib in ("libcurl.so.4", "libcurl-gnutls.so.4", "libconfig.so.9"):
        for path in glob.glob("/usr/lib/*/%s" % lib) + glob.glob("/lib/*/%s" % lib):
            names.update(stem(p) for p in ldd(path).values())
    return names


TRANSPARENT = transparent_libraries()
FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ (?:in (\S+) )?.*\{(.*)\}\s*$", re.M)
# The application's curl_easy_setopt passed on to libcurl as it is: what libcurl keeps on the
# handle then (R's curl package sets COOKIEFILE, which libcurl holds in a list) is the
# handle's, freed with it, and leaked with it by a program that never cleans its handles up.
PASSED_ON = {"setopt_value", "amp_easy_setopt_word", "amp_easy_setopt", "easy_setopt_slow"}


def leak_is_ours(block):
    for fn, module in FRAME.findall(block):
        # The copy of libcurl-gnutls under another name (build/.../plugins/
        # xibcurl-gnutls.so.4, lifecycle.py) is libcurl's code, not ours.
        if stem(module) == "xibcurl-gnutls":
            continue
        if fn in PASSED_ON and stem(module).startswith("libampshim"):
            continue
        if module.startswith(os.path.join(ROOT, "build") + "/"):
            return True
        if stem(module) not in TRANSPARENT:
            return False
    return False


def classify(path):
    """(reports that count, leaks left aside) for one report file."""
    text = open(path, errors="replace").read()
    if "runtime error:" in text or "ERROR: AddressSanitizer" in text or "CHECK failed" in text:
        return [text], 0
    counted, ignored = [], 0
    blocks = [b.split("\n\n")[0] for b in re.split(r"\n(?=(?:Direct|Indirect) leak of )", text)
              if re.match(r"(Direct|Indirect) leak of ", b)]
    for block in blocks:
        if leak_is_ours(block):
            counted.append(block)
        else:
            ignored += 1
    if counted:
        return ["\n\n".join(counted)], ignored
    if not blocks and text.strip():  # not a leak report, not an error: say it, count it
        return [text], 0
    return [], ignored


class Reports:
    def __init__(self):
        shutil.rmtree(REPORTS, ignore_errors=True)
        os.makedirs(os.path.join(REPORTS, "seen"))
        self.ignored = self.processes = 0

    def collect(self, what):
        """Moves the new report files aside; returns the reports that count."""
        counted, pids = [], set()
        paths = [p for p in glob.glob(os.path.join(REPORTS, "*.*")) if not os.path.isdir(p)]
        # A note of asan_first.so (the process ended by a report) counts when no
        # report of that process does: UBSan's, which is on the program's stderr.
        for path in sorted(paths, key=lambda p: os.path.basename(p).startswith("died.")):
            pid = path.rsplit(".", 1)[-1]
            if os.path.basename(path).startswith("died."):
                c, i = ([] if pid in pids else [open(path, errors="replace").read()]), 0
            else:
                c, i = classify(path)
                pids.update([pid] if c else [])
            self.ignored += i
            self.processes += 1 if i else 0
            kept = os.path.join(REPORTS, "seen", "%s.%s" % (what, os.path.basename(path)))
            shutil.move(path, kept)
            for text in c:
                counted.append("--- %s\n%s" % (os.path.relpath(kept, ROOT), text))
        return counted


def checked(fn, reports):
    """The test, failing on any report that counts from a process it ran."""
    def run(ctx):
        failure = None
        try:
            fn(ctx)
        except harness.Skip:
            reports.collect(fn.__name__)
            raise
        except Exception:
            failure = traceback.format_exc()
        found = reports.collect(fn.__name__)
        if found:
            raise AssertionError("sanitizer reports:\n" + "\n".join(found) +
                                 ("\nand the test failed:\n" + failure if failure else ""))
        if failure:
            raise AssertionError(failure)
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
    global harness
    t0 = time.monotonic()
    reports = Reports()
    os.environ.update({
        "AMPSHIM_TEST_BUILD": A,
        "AMPSHIM_TEST_LAUNCHER": os.path.join(HERE, "launcher.sh"),
        "AMPSHIM_TEST_PRELOAD": runtime() + ":" + os.path.join(A, "asan_first.so"),
        "AMPSHIM_TEST_SANITIZER": "asan",
        "ASAN_OPTIONS": COMMON + ":exitcode=0:log_exe_name=1:log_path=" + os.path.join(REPORTS, "asan"),
        # No log_path for UBSan: see asan_first.c (its report stays on stderr, and
        # asan_first.so leaves a note of the process it ended).
        "UBSAN_OPTIONS": UBSAN + ":exitcode=%d" % ERROR_EXIT,
        "AMPSHIM_TEST_DEATHS": os.path.join(REPORTS, "died"),
    })
    os.environ.pop("LSAN_OPTIONS", None)
    passed = failed = 0
    print("== unit tests (ASan+UBSan)", flush=True)
    unit_env = dict(os.environ, ASAN_OPTIONS=COMMON + ":exitcode=23", UBSAN_OPTIONS=UBSAN + ":exitcode=23")
    for binary in sys.argv[1:]:
        p, f = unit(binary, unit_env)
        passed, failed = passed + p, failed + f

    sys.path.insert(0, os.path.dirname(HERE))
    from integration import harness  # noqa: E402  (reads the AMPSHIM_TEST_* variables set above)
    harness.load()  # every concern's tests in TESTS, to be wrapped
    harness.TESTS[:] = [checked(fn, reports) for fn in harness.TESTS]
    print("== integration tests (ASan+UBSan: %s)" % os.path.relpath(harness.LIB, ROOT), flush=True)
    p, f, s = harness.main()
    passed, failed = passed + p, failed + f
    late = reports.collect("after-the-tests")
    if late:
        failed += 1
        print("FAIL reports from processes that outlived their test:\n" + "\n".join(late))
    print("asan: %d leaks of the host programs' own left aside (from %d processes; "
          "build/asan/reports/seen); %.0fs" % (reports.ignored, reports.processes, time.monotonic() - t0))
    print(harness.closing_line(passed, failed, s))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
