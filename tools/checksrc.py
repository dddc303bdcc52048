#!/usr/bin/python3
"""`make checksrc`: the mechanical style rules of src/ and include/, in the
spirit of curl's scripts/checksrc.pl. Each finding is printed as
FILE:LINE: RULE: what, and the run fails on any.

  BANNEDFUNC     strcat, strcpy, strncat, sprintf, vsprintf, gets, strtok
                 (an unbounded write, or hidden state): snprintf and memcpy
                 with a known length instead
  ASSIGNWITHINCONDITION
                 an assignment inside the condition of an if or a while
                 (`if ((x = f()) < 0)`): assign first, then test
  LONGLINE       a line over 110 columns
  HEADERCOMMENT  a file that does not open with a comment saying its job
  NOTSTATIC      a function defined in one object of the library or the
                 launcher that no other object uses (found with nm): static

Run as tools/checksrc.py [BUILD_DIR]; NOTSTATIC reads the objects of
BUILD_DIR/lib, BUILD_DIR/stage1 and BUILD_DIR/cli (default build/), so `make` comes first."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINE = 110
BANNED = re.compile(r"\b(strcat|strcpy|strncat|sprintf|vsprintf|gets|strtok)\s*\(")
COND = re.compile(r"\b(if|while)\s*\(")


def strip(text):
    """The text with comments, strings and character constants blanked (same
    length and lines), so rules see only code."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j]) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def condition_of(code, start):
    """The text between the parenthesis at start and its match."""
    depth = 0
    for j in range(start, len(code)):
        if code[j] == "(":
            depth += 1
        elif code[j] == ")":
            depth -= 1
            if depth == 0:
                return code[start + 1:j]
    return code[start + 1:]


def assigns(cond):
    """An '=' that is an assignment: not ==, !=, <=, >=, nor part of them."""
    return re.search(r"(?<![=!<>+\-*/%&|^])=(?!=)", cond) is not None


def check_file(path, findings):
    rel = os.path.relpath(path, ROOT)
    text = open(path, encoding="utf-8").read()
    if not text.startswith("/*"):
        findings.append("%s:1: HEADERCOMMENT: the file does not open with a comment" % rel)
    for no, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE:
            findings.append("%s:%d: LONGLINE: %d columns (at most %d)" % (rel, no, len(line), MAX_LINE))
    code = strip(text)
    for m in BANNED.finditer(code):
        no = code.count("\n", 0, m.start()) + 1
        findings.append("%s:%d: BANNEDFUNC: %s" % (rel, no, m.group(1)))
    for m in COND.finditer(code):
        cond = condition_of(code, m.end() - 1)
        if assigns(cond):
            no = code.count("\n", 0, m.start()) + 1
            findings.append("%s:%d: ASSIGNWITHINCONDITION: assign before the %s" % (rel, no, m.group(1)))


def symbols(obj):
    """(defined global functions, undefined names) of an object file."""
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "T":
            defined.add(name)
        elif kind == "U":
            used.add(name)
    return defined, used


def check_static(build, findings):
    """A function defined in one object that no other object of the same
    program (library, or launcher) nor any test uses."""
    exported = set()
    hooked = open(os.path.join(ROOT, "include", "hooked.h")).read()
    for m in re.finditer(r"\b(?:RET|VOID|VA1?)\((?:[^,]+,\s*)?(\w+)\s*,", hooked):
        exported.add("curl_" + m.group(1))
    # The core's one export, looked up by name by the first stage.
    stage1 = open(os.path.join(ROOT, "include", "stage1.h")).read()
    exported |= set(re.findall(r'#define AMP_CORE_ATTACH "(\w+)"', stage1))
    objs = {}
    for sub in ("lib", "stage1", "cli"):
        d = os.path.join(build, sub)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            # An object whose source is gone, or older than its source, is a
            # stale one of an older tree (a file that moved to another program).
            src = os.path.join(ROOT, "src", f[:-2] + ".c")
            obj = os.path.join(d, f)
            if f.endswith(".o") and os.path.exists(src) and os.path.getmtime(obj) >= os.path.getmtime(src):
                objs.setdefault(f, []).append(obj)
    if not objs:
        findings.append("%s: NOTSTATIC: no objects (run make first)" % build)
        return
    used_anywhere = set()
    defined_in = {}
    for f, paths in objs.items():
        for p in paths:
            d, u = symbols(p)
            used_anywhere |= u
            for name in d:
                defined_in.setdefault(name, set()).add(f)
    # What the tests call counts as a use too (the unit tests link the objects).
    for root, _, files in os.walk(os.path.join(ROOT, "tests")):
        for f in files:
            if f.endswith(".c"):
                used_anywhere |= set(re.findall(r"\b(amp_\w+)\s*\(", open(os.path.join(root, f),
                                                                         errors="replace").read()))
    for name, where in sorted(defined_in.items()):
        if name in used_anywhere or name in exported or not name.startswith("amp_") and name != "main":
            continue
        if name == "main":
            continue
        findings.append("src/%s: NOTSTATIC: %s is used only where it is defined: static" %
                        (sorted(where)[0].replace(".o", ".c"), name))


def main(argv):
    build = argv[1] if len(argv) > 1 else os.path.join(ROOT, "build")
    findings = []
    for d in ("src", "include"):
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            if f.endswith((".c", ".h")):
                check_file(os.path.join(ROOT, d, f), findings)
    check_static(build, findings)
    for f in findings:
        print(f)
    print("checksrc: %d finding%s in src/ and include/" % (len(findings), "" if len(findings) == 1 else "s"))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
