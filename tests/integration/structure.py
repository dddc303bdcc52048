"""The library's structure, read from its source: each part of a handle's
state (include/handle.h) written by its owner only, the table of handles
changed by handles.c only, and no include cycle between modules (a module:
src/x.c with include/x.h, and the x_*.c and x_*.h it is split into)."""

import glob
import os
import re

from .harness import ROOT, test

# Part of struct amp_handle -> the files that may write it. A module's header
# is its own (small writers inlined there for the callbacks' sake).
OWNERS = {
    "decision": {"src/transfer.c"},
    "xfer": {"src/transfer.c", "include/inflight.h"},
    "guard": {"src/transfer.c", "include/inflight.h"},
    "hdrs": {"src/transfer.c"},
    "watch": {"src/ratelimit.c", "include/ratelimit.h"},
    "answer": {"src/respond.c"},
    "cookies": {"src/cookies.c"},
    "app": {"src/options.c"},
    # The table's bookkeeping (options.c); the URL and lists a routed request
    # is given (transfer.c).
    "opts": {"src/options.c", "src/transfer.c"},
    "orphaned": {"src/handles.c"},
    "orphan_next": {"src/handles.c"},
}

# The struct each part is, for a pointer taken to it (`struct amp_guard *g = &hs->guard`).
TYPES = {"decision": "amp_decision", "xfer": "amp_inflight", "guard": "amp_guard",
         "hdrs": "amp_header_cache", "watch": "amp_watch", "answer": "amp_answer",
         "cookies": "amp_cookies", "app": "amp_app_options", "opts": "amp_opt_state"}

# The application's error buffer is its memory, not a part of ours: filled
# in one place.
ERRBUF_WRITER = "src/transfer.c"

# Modules that include each other, each needing the other's types, listed
# here rather than hidden (none now: the routes as data are routes.h's,
# which both route.c and its index read).
ONE_MODULE = set()

ASSIGN = r"(?:[-+*/|&^]?=(?!=)|\+\+|--)"
MEMBER = r"(?:->|\.)%s(?:(?:\.|->)\w+(?:\[[^]]*\])?)*\s*" + ASSIGN
WHOLE = r"(?:->|\.)%s\s*=(?!=)"
ADDRESS = (r"(?:memset|memcpy|memmove|free|amp_ownfd_\w+|close_fd|\w+_free)"
           r"\s*\(\s*&?\w+(?:->|\.)%s\b")


def source_files():
    files = sorted(glob.glob(os.path.join(ROOT, "src", "*.c")) +
                   glob.glob(os.path.join(ROOT, "include", "*.h")))
    return [(os.path.relpath(f, ROOT), open(f, encoding="utf-8").read()) for f in files]


def without_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def writes(text):
    """(part, line number, line) for every write to a part of a handle, and every pointer
    to a part taken to write through (a const one only reads)."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        for part in OWNERS:
            hit = (re.search(MEMBER % part, line) or re.search(WHOLE % part, line) or
                   re.search(ADDRESS % part, line))
            if not hit and part in TYPES:
                hit = re.search(r"(?<!const )struct %s\s*\*\s*\w+\s*=\s*&" % TYPES[part], line)
            if hit:
                found.append((part, n, line))
    return found


# A write into the application's error buffer (the memory app.errbuf points at).
INTO_ERRBUF = re.compile(r"\b(?:mem\w+|str\w+|\w*printf)\s*\(\s*\w+->app\.errbuf\b")
# The handle table changed or walked: its own variable, or a hash op on an entry.
ON_TABLE = re.compile(r"\bHASH_\w+\s*\((?:hh\s*,\s*)?table\b|\bamp_handle\b[^;]*\bhh\b|"
                      r"\bHASH_(?:ADD|DEL|REPLACE|DELETE|ITER|CLEAR)\w*\s*\([^)]*\bhs\b")


def misplaced(files):
    wrong = []
    for path, text in files:
        code = without_comments(text)
        for n, line in enumerate(code.splitlines(), 1):
            if INTO_ERRBUF.search(line) and path != ERRBUF_WRITER:
                wrong.append("%s:%d fills the application's error buffer (%s's)"
                             % (path, n, ERRBUF_WRITER))
            if ON_TABLE.search(line) and path != "src/handles.c":
                wrong.append("%s:%d changes the table of handles (handles.c's)" % (path, n))
        for part, n, line in writes(code):
            if part == "app" and INTO_ERRBUF.search(line):
                continue  # the buffer it points to, checked above
            if path not in OWNERS[part]:
                wrong.append("%s:%d writes %s (%s's)" % (path, n, part, ", ".join(sorted(OWNERS[part]))))
    return wrong


def cycles(files):
    """Strongly connected groups of modules, each of more than one."""
    names = {os.path.splitext(os.path.basename(path))[0] for path, _ in files}

    def module(name):
        """x_part (config_load.h, state_fork.c) is a file of module x."""
        head = name.split("_", 1)[0]
        return head if head != name and head in names else name

    graph = {}
    for path, text in files:
        mod = module(os.path.splitext(os.path.basename(path))[0])
        for inc in re.findall(r'^\s*#\s*include\s+"([\w]+)\.h"', without_comments(text), re.M):
            if module(inc) != mod and os.path.exists(os.path.join(ROOT, "include", inc + ".h")):
                graph.setdefault(mod, set()).add(module(inc))
    index, low, stack, on, groups = {}, {}, [], set(), []

    def visit(v):  # Tarjan's
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 and frozenset(group) not in ONE_MODULE:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


@test
def structure_each_part_written_by_its_owner(ctx):
    wrong = misplaced(source_files())
    assert not wrong, "\n".join(wrong)


@test
def structure_no_include_cycle(ctx):
    found = cycles(source_files())
    assert not found, "include cycles: " + "; ".join(" <-> ".join(g) for g in found)


@test
def structure_the_check_sees_what_it_looks_for(ctx):
    """The checks above catch each kind of write, and a cycle."""
    bad = ("void f(struct amp_handle *hs) {\n"
           "    hs->decision.done = 0;\n"
           "    hs->xfer.multi = NULL;\n"
           "    struct amp_guard *g = &hs->guard;\n"
           "    memset(&hs->watch, 0, sizeof(hs->watch));\n"
           "    hs->answer.len++;\n"
           "    hs->orphaned = 1;\n"
           "    HASH_DEL(table, hs);\n"
           "    memcpy(hs->app.errbuf, msg, n);\n"
           "}\n")
    wrong = misplaced([("src/easy.c", bad)])
    assert len(wrong) == 8, wrong
    assert not misplaced([("src/easy.c", "const struct amp_guard *g = &hs->guard;\n"
                                         "if (hs->decision.done == 1) return;\n")])
    assert cycles([("src/handles.c", '#include "options.h"\n'),
                   ("src/options.c", '#include "handles.h"\n')]) == [["handles", "options"]]


# The first stage (include/stage1.h) is loaded into every process: it is
# built from its own sources only, which include no header of the core's.
STAGE1_HEADERS = {"stage1", "env", "hooked", "curlapi", "deepbind", "elfsym"}


def makefile_list(name):
    text = open(os.path.join(ROOT, "Makefile"), encoding="utf-8").read().replace("\\\n", " ")
    return re.search(r"^%s\s*:=(.*)$" % name, text, re.M).group(1).split()


def stage1_strays(stage1_files, core_files):
    """Headers a first-stage file includes beyond its own; core files that
    include the first stage's private ones."""
    wrong = []
    for path, text in stage1_files:
        for inc in re.findall(r'^\s*#\s*include\s+"(\w+)\.h"', without_comments(text), re.M):
            if inc not in STAGE1_HEADERS:
                wrong.append("%s (first stage) includes %s.h" % (path, inc))
    for path, text in core_files:
        for inc in re.findall(r'^\s*#\s*include\s+"(deepbind|elfsym)\.h"', without_comments(text), re.M):
            wrong.append("%s (core) includes the first stage's %s.h" % (path, inc))
    return wrong


@test
def structure_first_stage_stands_alone(ctx):
    stage1, core = set(makefile_list("STAGE1_SRC")), set(makefile_list("LIB_SRC"))
    assert stage1 and core and not stage1 & core, ("in both", sorted(stage1 & core))
    files = dict(source_files())
    wrong = stage1_strays([("src/" + f, files["src/" + f]) for f in sorted(stage1)],
                          [("src/" + f, files["src/" + f]) for f in sorted(core)])
    assert not wrong, "\n".join(wrong)
    # The check sees what it looks for.
    assert len(stage1_strays([("src/stage1.c", '#include "log.h"\n')],
                             [("src/real.c", '#include "elfsym.h"\n')])) == 2
