"""What a packager and an installer get: `make deb` (debhelper) and lintian on
the .deb, its paths and fields, the launcher of the unpacked package routing a
call through the library beside it; `make install` and `make uninstall` with
DESTDIR; the version written once (debian/changelog); the bash completion
(commands, options, configs, the routes `ampshim clear` can clear).

The package is built once (`make deb`, about 45 s) for the tests that need it.
They need debhelper, dpkg-dev and lintian, which `make test` installs
(tests/deps.sh); without them they are skipped, and install nothing."""

import os
import re
import shutil
import subprocess
import time

from .harness import (
    AMPSHIM, ROOT, SF, Skip, assert_amp_headers, mark_all, not_under, ok, one, queue_429, rl_cfg,
    test, http_date,
)

COMPLETION = os.path.join(ROOT, "completion", "ampshim")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def changelog_version():
    """The version, read here on its own: the top entry of debian/changelog."""
    with open(os.path.join(ROOT, "debian", "changelog")) as f:
        return re.match(r"ampshim \(([^)]+)\)", f.readline()).group(1)


def multiarch():
    return subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], capture_output=True,
                          check=True, text=True).stdout.strip()


_deb = {}


def built_deb():
    """build/ampshim_<version>_<arch>.deb, made by `make deb` on first need
    (a failure is kept and raised again for the next test that asks)."""
    missing = [t for t in ("dpkg-buildpackage", "dh", "lintian", "dpkg-deb") if not shutil.which(t)]
    if missing:
        raise Skip("%s missing: tests/deps.sh installs them (make test runs it)" % ", ".join(missing))
    if "path" not in _deb:
        t0 = time.monotonic()
        p = subprocess.run(["make", "-s", "-C", ROOT, "deb"], capture_output=True, timeout=600)
        out = (p.stdout + p.stderr).decode(errors="replace")
        arch = subprocess.run(["dpkg-architecture", "-qDEB_HOST_ARCH"], capture_output=True,
                              text=True).stdout.strip()
        path = os.path.join(ROOT, "build", "ampshim_%s_%s.deb" % (changelog_version(), arch))
        if p.returncode != 0 or not os.path.exists(path):
            _deb["path"] = AssertionError("make deb exited %d, %s\n%s" % (
                p.returncode, "no " + path if not os.path.exists(path) else "", out[-4000:]))
        else:
            _deb["path"] = path
            print("     make deb: %.0f s" % (time.monotonic() - t0), flush=True)
    if isinstance(_deb["path"], Exception):
        raise _deb["path"]
    return _deb["path"]


def unpacked(ctx):
    """The package unpacked (dpkg -x) under the work folder: its root."""
    root = os.path.join(ctx.dir, "deb-root")
    if not os.path.isdir(root):
        ok(subprocess.run(["dpkg", "-x", built_deb(), root], capture_output=True), "dpkg -x")
    return root


def package_files(ml):
    return {
        "usr/bin/ampshim",
        "usr/lib/%s/ampshim/libampshim.so" % ml,
        "usr/lib/%s/ampshim/libampshim-core.so" % ml,
        "usr/lib/%s/ampshim/providers.cfg" % ml,
        "usr/share/man/man1/ampshim.1.gz",
        "usr/share/man/man5/ampshim.cfg.5.gz",
        "usr/share/man/man7/ampshim-json.7.gz",
        "usr/share/doc/ampshim/examples/example.cfg",
        "usr/share/doc/ampshim/copyright",
        "usr/share/doc/ampshim/changelog.gz",
        "usr/share/doc/ampshim/README.md.gz",
        "usr/share/doc/ampshim/libcurl.md.gz",
        "usr/share/bash-completion/completions/ampshim",
        "usr/share/lintian/overrides/ampshim",  # the first stage's missing NEEDED, on purpose
    }


@test
@not_under("asan", "the package is the plain build, checked by make test")
def deb_builds_lintian_clean(ctx):
    deb = built_deb()
    p = subprocess.run(["lintian", "-EvIL", "+pedantic", deb], capture_output=True, text=True, timeout=300)
    tags = [l for l in p.stdout.splitlines() if re.match(r"[A-Z]: ", l)]
    bad = [l for l in tags if l[0] in "EW"]
    assert p.returncode == 0 and not bad, "lintian exited %d:\n%s\n%s" % (p.returncode, p.stdout, p.stderr)
    if tags:
        print("     lintian: %s" % "; ".join(tags), flush=True)


@test
@not_under("asan", "the package is the plain build, checked by make test")
def deb_paths_and_fields(ctx):
    deb, ml = built_deb(), multiarch()
    listing = ok(subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True)).stdout
    files = {line.split()[-1][2:] for line in listing.splitlines() if not line.startswith("d")}
    assert files == package_files(ml), "unexpected: %s; missing: %s" % (
        sorted(files - package_files(ml)), sorted(package_files(ml) - files))
    assert re.search(r"^-rwxr-xr-x root/root .* \./usr/bin/ampshim$", listing, re.M), listing
    fields = ok(subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"], capture_output=True,
                               text=True)).stdout
    assert "Version: %s\n" % changelog_version() in fields, fields
    depends = re.search(r"^Depends: (.*)$", fields, re.M).group(1)
    for dep in ("libconfig9", "libcurl4", "libc6"):  # libconfig9 is dlopen'ed: named by hand
        assert re.search(r"(^|, )%s( |,|$)" % dep, depends), depends


@test
@not_under("asan", "the package is the plain build, checked by make test")
def deb_unpacked_launcher_routes(ctx):
    root, ml = unpacked(ctx), multiarch()
    launcher = os.path.join(root, "usr", "bin", "ampshim")
    lib = os.path.join(root, "usr", "lib", ml, "ampshim", "libampshim.so")
    # The launcher finds the library where it lies from /usr/bin once installed.
    p = ok(subprocess.run([launcher, "run", "-c", ctx.cfg, "--", "sh", "-c", 'echo "$LD_PRELOAD"'],
                          capture_output=True, env=ctx.env()))
    assert p.stdout.decode().strip() == lib, (p.stdout, lib)
    mark_all(ctx)
    p = ok(subprocess.run([launcher, "run", "-c", ctx.cfg, "--", "curl", "-sS",
                           SF + "/services/data/v56.0/limits?deb=1"], capture_output=True, env=ctx.env()))
    req = one(ctx.proxy)
    assert req["target"] == "/services/data/v56.0/limits?deb=1", req
    assert_amp_headers(req, installation="inst-sf-1")
    # The catalog beside that library answers routes given by provider name.
    p = ok(subprocess.run([launcher, "check", "-c", os.path.join(root, "usr/share/doc/ampshim/examples/example.cfg")],
                          capture_output=True, env=ctx.env(AMPERSAND_API_KEY="example-key-0000")))
    assert b"(salesforce)" in p.stdout, p.stdout
    # Alone, the launcher looks in the libdir the package was built for.
    alone = os.path.join(ctx.dir, "deb-alone", "bin")
    os.makedirs(alone, exist_ok=True)
    shutil.copy(launcher, alone)
    p = subprocess.run([os.path.join(alone, "ampshim"), "run", "-c", ctx.cfg, "--", "sh", "-c", 'echo "$LD_PRELOAD"'],
                       capture_output=True, env=ctx.env())
    installed = "/usr/lib/%s/ampshim/libampshim.so" % ml
    if os.path.exists(installed):  # the package is installed on this machine
        assert p.returncode == 0 and p.stdout.decode().strip() == installed, (p.stdout, p.stderr)
    else:
        assert p.returncode == 127 and ("/usr/lib/%s/ampshim" % ml).encode() in p.stderr, p.stderr


@test
def packaging_doc_says_what_make_deb_does(ctx):
    """docs/packaging.md says, in whole sentences, what the Makefile's deb target does: a copy
    of the tree in build/deb/ampshim-VERSION, dpkg-buildpackage -b run there."""
    makefile = open(os.path.join(ROOT, "Makefile")).read()
    assert "$(B)/deb/ampshim-$(VERSION)" in makefile and "dpkg-buildpackage -b" in makefile
    doc = open(os.path.join(ROOT, "docs", "packaging.md")).read()
    assert "`build/deb/ampshim-VERSION`" in doc and "`dpkg-buildpackage -b`" in doc, doc[:800]
    for para in re.sub(r"```.*?```", "", doc, flags=re.S).split("\n\n"):
        para = para.strip()
        assert not para or not re.match(r"[a-z][^.]*\)", para), "a paragraph cut short: %r" % para[:80]


@test
def install_uninstall_leave_nothing(ctx):
    dest = os.path.join(ctx.dir, "destdir")
    # Folders there before, one empty, one holding another's file: both stay.
    os.makedirs(os.path.join(dest, "usr", "local", "share", "man", "man5"))
    os.makedirs(os.path.join(dest, "usr", "local", "bin"))
    open(os.path.join(dest, "usr", "local", "bin", "other"), "w").close()
    before = tree(dest)
    ok(subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest], capture_output=True), "make install")
    prefix = os.path.join(dest, "usr", "local")
    found = {os.path.relpath(os.path.join(d, f), prefix) for d, _, fs in os.walk(dest) for f in fs}
    assert found - {"bin/other"} == {"bin/ampshim", "lib/ampshim/libampshim.so", "lib/ampshim/libampshim-core.so",
                     "lib/ampshim/providers.cfg",
                     "share/man/man1/ampshim.1", "share/man/man5/ampshim.cfg.5", "share/man/man7/ampshim-json.7",
                     "share/doc/ampshim/examples/example.cfg",
                     "share/bash-completion/completions/ampshim"}, sorted(found)
    # The installed launcher, run from the DESTDIR tree, takes the library installed beside it.
    lib = os.path.join(prefix, "lib", "ampshim", "libampshim.so")
    p = ok(subprocess.run([os.path.join(prefix, "bin", "ampshim"), "run", "-c", ctx.cfg, "--", "sh", "-c",
                           'echo "$LD_PRELOAD"'], capture_output=True, env=ctx.env()))
    assert p.stdout.decode().strip() == lib, p.stdout
    # Not when another user could have put it there.
    os.chmod(os.path.dirname(lib), 0o777)
    p = subprocess.run([os.path.join(prefix, "bin", "ampshim"), "run", "-c", ctx.cfg, "--", "sh", "-c",
                        'echo "$LD_PRELOAD"'], capture_output=True, env=ctx.env())
    assert lib.encode() not in p.stdout, p.stdout
    os.chmod(os.path.dirname(lib), 0o755)
    page = open(os.path.join(prefix, "share", "man", "man1", "ampshim.1")).readline()
    assert '"ampshim %s"' % changelog_version() in page, page
    ok(subprocess.run(["make", "-s", "-C", ROOT, "uninstall", "DESTDIR=" + dest], capture_output=True),
       "make uninstall")
    # No file or folder of ours left: the tree is as it was.
    assert tree(dest) == before, sorted(tree(dest) ^ before)


def tree(top):
    """Every folder and file below top, relative to it."""
    return {os.path.relpath(os.path.join(d, n), top) for d, ds, fs in os.walk(top) for n in ds + fs}


@test
def version_written_once(ctx):
    version = changelog_version()
    p = ok(subprocess.run([AMPSHIM, "--version"], capture_output=True, text=True))
    assert p.stdout == "ampshim %s\n" % version, (p.stdout, version)
    for page in ("ampshim.1", "ampshim.cfg.5"):
        assert '"ampshim %s"' % version in open(os.path.join(ROOT, "build", "man", page)).readline(), page
    # No copy of it elsewhere to drift.
    for path in ("Makefile", "src/main.c", "src/commands.c", "man/ampshim.1", "man/ampshim.cfg.5", "debian/control"):
        assert version not in open(os.path.join(ROOT, path)).read(), "%s holds the version %s" % (path, version)


def complete(ctx, *words, library=False):
    """COMPREPLY for the line `words` (the cursor in the last word), from
    completion/ampshim in a non-interactive bash, with bash-completion's
    functions loaded (as in a shell) or without them (the file sourced alone)."""
    script = ('%s source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _ampshim; printf "%%s\\n" "${COMPREPLY[@]}"'
              % ('source %s;' % BASH_COMPLETION if library else ""))
    p = ok(subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", COMPLETION, *words],
                          capture_output=True, text=True, env=ctx.env(), timeout=30), "completion")
    return sorted(l for l in p.stdout.splitlines() if l)


def both_ways(ctx, *words):
    """The same answer with and without bash-completion's functions."""
    alone = complete(ctx, *words)
    if os.path.exists(BASH_COMPLETION):
        with_library = complete(ctx, *words, library=True)
        assert alone == with_library, (words, alone, with_library)
    return alone


@test
def completion_commands_and_options(ctx):
    # (Every command and option against the launcher's table: cli.py.)
    assert both_ways(ctx, "ampshim", "c") == ["check", "clear"]
    assert both_ways(ctx, "ampshim", "env", "-c", ctx.cfg, "--s") == ["--shell", "--systemd"]
    assert both_ways(ctx, "ampshim", "bogus", "") == []
    assert both_ways(ctx, "ampshim", "help", "st") == ["state", "stats"]
    # After run's options, a command.
    assert "curl" in both_ways(ctx, "ampshim", "run", "-c", ctx.cfg, "--dry-run", "cur")
    assert "curl" in both_ways(ctx, "ampshim", "run", "--config", ctx.cfg, "cur")
    assert "curl" in both_ways(ctx, "ampshim", "run", "--", "cur")


@test
def completion_names_providers(ctx):
    """`ampshim providers sal<TAB>` offers the catalog's names, as `ampshim providers` lists them
    (the first word of each line after the heading); one name only, no options after it."""
    listed = subprocess.run([AMPSHIM, "providers"], capture_output=True, text=True).stdout
    names = sorted(l.split()[0] for l in listed.splitlines()[1:])
    assert len(names) > 100, names[:5]
    assert both_ways(ctx, AMPSHIM, "providers", "salesforceM") == ["salesforceMarketing"]
    assert both_ways(ctx, AMPSHIM, "providers", "") == names
    assert both_ways(ctx, AMPSHIM, "providers", "--json", "zendesk") == ["zendeskChat", "zendeskSupport"]
    assert both_ways(ctx, AMPSHIM, "providers", "hubspot", "") == []


@test
def completion_configs(ctx):
    d = os.path.join(ctx.dir, "complete-cfgs")
    os.makedirs(os.path.join(d, "sub"), exist_ok=True)
    for name in ("a.cfg", "b.cfg", "notes.txt"):
        open(os.path.join(d, name), "w").close()
    everything = sorted(os.path.join(d, n) for n in ("a.cfg", "b.cfg", "sub"))
    assert both_ways(ctx, "ampshim", "check", "-c", d + "/") == everything
    assert both_ways(ctx, "ampshim", "run", "--dry-run", "-c", d + "/a") == [os.path.join(d, "a.cfg")]
    assert both_ways(ctx, "ampshim", "state", "--config", "=", d + "/") == everything
    assert both_ways(ctx, "ampshim", "state", "--config", d + "/") == everything
    assert both_ways(ctx, "ampshim", "route", "--config=" + d + "/b") == ["--config=" + os.path.join(d, "b.cfg")]


@test
def completion_clear_names_blocked_routes(ctx):
    cfg, _ = rl_cfg(ctx, "complete-clear")
    for url in (SF + "/x", "https://slack.com/api/chat.postMessage"):
        queue_429(ctx, http_date(int(time.time()) + 300))
        ctx.curl("-o", "/dev/null", url, cfg=cfg)
    assert both_ways(ctx, AMPSHIM, "clear", "-c", cfg, "") == ["inst-sf-1", "slack-main"]
    assert both_ways(ctx, AMPSHIM, "clear", "-c", cfg, "sl") == ["slack-main"]
    assert both_ways(ctx, AMPSHIM, "clear", "--config", "=", cfg, "inst-sf-1", "") == ["slack-main"]
    assert both_ways(ctx, AMPSHIM, "clear", "--config", cfg, "") == ["inst-sf-1", "slack-main"]
    # Another config's state has none.
    other, _ = rl_cfg(ctx, "complete-clear-none")
    assert both_ways(ctx, AMPSHIM, "clear", "-c", other, "") == []
    ok(subprocess.run([AMPSHIM, "clear", "-c", cfg], capture_output=True, env=ctx.env()))
    assert both_ways(ctx, AMPSHIM, "clear", "-c", cfg, "") == []
