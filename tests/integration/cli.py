"""The launcher, `ampshim`: `run` (a bad config, the exit status, the
environment it sets), `check`, `route`, `--dry-run`, `--help`, `--version`,
and the manual pages in step with --help (and `make install` putting them
in place). Its table of commands (src/commands.c) against what uses it:
the dispatch, `help` and every command's `--help`, the usage errors, the
bash completion and the SYNOPSIS of ampshim(1). `state` and `clear` agreeing
on what is blocked; the `stats` table as wide as its routes."""

import os
import re
import subprocess
import time

from .harness import (
    AMPSHIM, BROKEN, KEY, LIB, ROOT, SF, assert_untouched, header_values, http_date, mark_all, ok,
    one, preloaded, queue_429, rl_cfg, route_cmd, test,
)


@test
def launcher_bad_config_exit_2_with_file_line(ctx):
    bad = ctx.write_cfg("bad-syntax.cfg", 'proxy: {\n  url = "https://x";\n  oops\n};\n')
    p = ctx.run(["true"], cfg=bad)
    assert p.returncode == 2, p.returncode
    assert p.stderr.decode().startswith(bad + ":4:") or p.stderr.decode().startswith(bad + ":3:"), p.stderr
    unknown = ctx.write_cfg("unknown.cfg", ctx.config().replace('installation_id = "inst-sf-1"',
                                                                   'instalation_id = "inst-sf-1"'))
    p = ctx.run(["true"], cfg=unknown)
    assert p.returncode == 2 and "instalation_id" in p.stderr.decode(), p.stderr
    assert (unknown + ":10:") in p.stderr.decode(), p.stderr


@test
def launcher_exit_status_env_and_exec_failure(ctx):
    assert ctx.run(["sh", "-c", "exit 7"]).returncode == 7
    p = ctx.run(["no-such-command-ampshim"])
    assert p.returncode == 127 and b"no-such-command-ampshim" in p.stderr, p.stderr
    # Found but not executable: 126, as sh and env(1) say; by path, and on PATH.
    folder = os.path.join(ctx.dir, "not-executable")
    os.makedirs(folder, exist_ok=True)
    script = os.path.join(folder, "ampshim-not-executable")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho ran\n")
    os.chmod(script, 0o644)
    for cmd, env in (([script], ctx.env()), ([folder], ctx.env()),
                     (["ampshim-not-executable"], ctx.env(PATH=folder + ":" + os.environ["PATH"]))):
        p = ctx.run(cmd, env=env)
        assert p.returncode == 126 and b"Permission denied" in p.stderr and p.stdout == b"", (cmd, p)
    env = ctx.env(LD_PRELOAD="/lib/x86_64-linux-gnu/libc.so.6")
    rel = os.path.relpath(ctx.cfg, ROOT)
    p = subprocess.run([AMPSHIM, "run", "-c", rel, "--", "sh", "-c",
                        'echo "$LD_PRELOAD"; echo "$AMPSHIM_CONFIG"'],
                       capture_output=True, env=env, cwd=ROOT)
    ok(p)
    preload, cfg = p.stdout.decode().splitlines()
    assert preload == preloaded(LIB + ":/lib/x86_64-linux-gnu/libc.so.6"), preload
    assert cfg == ctx.cfg, (cfg, ctx.cfg)


@test
def launcher_check_help_version(ctx):
    p = ok(subprocess.run([AMPSHIM, "check", "-c", ctx.cfg], capture_output=True, env=ctx.env()))
    out = p.stdout.decode()
    assert KEY not in out and "****" + KEY[-4:] in out, out
    assert "https://*.my.salesforce.com" in out and "installation inst-sf-1" in out
    assert p.stderr == b""
    readable = ctx.write_cfg("readable.cfg", ctx.config(), mode=0o644)
    p = ok(subprocess.run([AMPSHIM, "check", "-c", readable], capture_output=True, env=ctx.env()))
    assert b"warning" in p.stderr and b"chmod 600" in p.stderr, p.stderr
    bad = ctx.write_cfg("bad-check.cfg", BROKEN)
    p = subprocess.run([AMPSHIM, "check", "-c", bad], capture_output=True, env=ctx.env())
    assert p.returncode != 0 and (bad + ":1:").encode() in p.stderr
    # The example shipped in conf/ is a valid config.
    p = ok(subprocess.run([AMPSHIM, "check", "-c", os.path.join(ROOT, "conf", "example.cfg")],
                          capture_output=True, env=ctx.env(AMPERSAND_API_KEY="example-key-0000")))
    assert b"(salesforce)" in p.stdout, p.stdout
    p = ok(subprocess.run([AMPSHIM, "--help"], capture_output=True))
    assert b"ampshim run" in p.stdout and b"ampshim check" in p.stdout
    p = ok(subprocess.run([AMPSHIM, "--version"], capture_output=True))
    assert p.stdout.startswith(b"ampshim ")
    # No config anywhere: each place to create one named once.
    p = subprocess.run([AMPSHIM, "check"], capture_output=True, text=True, env=ctx.env())
    assert p.returncode == 2 and p.stderr == ("ampshim: no config: give -c FILE, set AMPSHIM_CONFIG, or create "
                                              "~/.config/ampshim/ampshim.cfg\n"), p.stderr
    p = subprocess.run([AMPSHIM, "run", "true"], capture_output=True, text=True, env=ctx.env())
    assert p.returncode == 2 and p.stderr.endswith(" create ~/.config/ampshim/true.cfg or "
                                                   "~/.config/ampshim/ampshim.cfg\n"), p.stderr


@test
def route_command_explains(ctx):
    p = route_cmd(ctx, SF + "/services/data/v56.0/sobjects?x=1")
    out = p.stdout.decode()
    assert p.returncode == 0, (p.returncode, out, p.stderr)
    assert "routed by: https://*.my.salesforce.com (line 10; installation inst-sf-1)" in out, out
    assert "the proxy receives: %s/services/data/v56.0/sobjects?x=1" % ctx.proxy.url() in out, out
    assert "x-api-key: ****" + KEY[-4:] in out and KEY not in out, out
    assert "x-amp-installation-id: inst-sf-1" in out and "blocked now: no" in out, out
    p = route_cmd(ctx, "https://acme.my.salesforce.com.evil.test/services/data")
    out = p.stdout.decode()
    assert p.returncode == 1 and "not routed" in out, out
    assert "nearest miss: https://*.my.salesforce.com (line 10): host acme.my.salesforce.com.evil.test" in out, out
    p = route_cmd(ctx, "https://slack.com/apix/chat.postMessage")
    assert p.returncode == 1 and "segment boundary" in p.stdout.decode(), p.stdout
    p = route_cmd(ctx, "http://acme.my.salesforce.com/x")
    assert p.returncode == 1 and "scheme http, the route's is https" in p.stdout.decode(), p.stdout
    p = route_cmd(ctx, "https://example.org/")
    assert p.returncode == 1 and "nearest miss" not in p.stdout.decode(), p.stdout
    # A blocked route says so.
    cfg, _ = rl_cfg(ctx, "route-blocked")
    queue_429(ctx, http_date(int(time.time()) + 120))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    p = route_cmd(ctx, SF + "/x", cfg=cfg)
    assert "blocked now: route https://*.my.salesforce.com" in p.stdout.decode(), p.stdout


@test
def dry_run_sends_nothing_and_reports(ctx):
    for how in ("flag", "env"):
        mark_all(ctx)
        args = ["-k", "--connect-to", "::127.0.0.1:%d" % ctx.tls.port, "-H", "x-api-key: app-own",
                SF + "/services/data/v56.0/dry?x=1"]
        if how == "flag":
            p = subprocess.run([AMPSHIM, "run", "--dry-run", "-c", ctx.cfg, "--", "curl", "-sS", *args],
                               capture_output=True, env=ctx.env())
        else:
            p = ctx.curl(*args, env=ctx.env(AMPSHIM_DRY_RUN="1"))
        ok(p)
        err = p.stderr.decode()
        assert ("dry run: %s/services/data/v56.0/dry?x=1 would go through route https://*.my.salesforce.com "
                "(installation inst-sf-1) to %s/services/data/v56.0/dry?x=1" % (SF, ctx.proxy.url())) in err, err
        assert "x-api-key: ****" + KEY[-4:] in err and KEY not in err, err
        assert ctx.proxy.requests() == []
        req = one(ctx.tls)  # it went out as the application made it
        assert_untouched(req)
        assert header_values(req, "x-api-key") == ["app-own"]


@test
def manual_pages_in_step_with_help(ctx):
    help_text = launcher("--help").stdout + "".join(launcher(name, "--help").stdout for name, _ in table())
    page1 = open(os.path.join(ROOT, "man", "ampshim.1")).read()
    page5 = open(os.path.join(ROOT, "man", "ampshim.cfg.5")).read()
    for word in ("run", "check", "route", "state", "clear", "env", "--dry-run", "-c", "--help", "--version",
                 "--shell", "--systemd", "--docker", "LoadCredential", "AMPSHIM_CONFIG", "AMPSHIM_LOG",
                 "AMPSHIM_DRY_RUN"):
        assert word in help_text, "the help lacks %s" % word
        assert word.replace("-", "\\-") in page1 or word in page1, "ampshim(1) lacks %s" % word
    for setting in ("url", "project_id", "api_key", "api_key_env", "api_key_file", "rate_limiter_mode",
                    "drop_headers", "base_url", "provider", "installation_id", "integration_name",
                    "group_ref", "on_block", "max_wait", "default_backoff", "lockout_hold", "state_file"):
        assert setting.replace("_", "_") in page5, "ampshim.cfg(5) lacks %s" % setting
    p = subprocess.run(["man", "-l", "-Tutf8", os.path.join(ROOT, "man", "ampshim.1")], capture_output=True,
                       env=dict(ctx.env(), MANWIDTH="80"))
    if p.returncode == 0:  # man-db may be absent on a minimal machine
        assert b"ampshim route" in p.stdout.replace(b"\x08", b""), p.stdout[:500]
    dest = os.path.join(ctx.dir, "install")
    ok(subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest],
                      capture_output=True))
    for f in ("usr/local/bin/ampshim", "usr/local/lib/ampshim/libampshim.so", "usr/local/lib/ampshim/providers.cfg",
              "usr/local/share/man/man1/ampshim.1", "usr/local/share/man/man5/ampshim.cfg.5"):
        assert os.path.exists(os.path.join(dest, f)), f


# --- the table of commands ---------------------------------------------------

def table():
    """The rows of the launcher's table of commands (src/commands.c): (name, handler)."""
    src = open(os.path.join(ROOT, "src", "commands.c")).read()
    body = src[src.index("amp_commands[] = {"):]
    rows = re.findall(r'^    \{ "([a-z]+)", (amp_cmd_\w+),', body[:body.index("\n};")], re.M)
    assert len(rows) >= 10, rows
    return rows


def launcher(*args, env=None):
    return subprocess.run([AMPSHIM, *args], capture_output=True, text=True, env=env, timeout=30)


def options_of(help_text):
    """The options a command's help lists under "Options:": {option: takes a value}."""
    section = help_text.split("\nOptions:\n", 1)[1].split("\n\n", 1)[0]
    found = {}
    for line in section.splitlines():
        m = re.match(r"  (-\w)?(?:, )?(--[a-z][a-z-]*)?( [A-Z]+)?  ", line)
        for opt in (m.groups()[:2] if m else ()):
            if opt:
                found[opt] = bool(m.group(3))
    return found


def usage_error(p, cmd, what):
    """p failed as a usage error of cmd (None: of ampshim): two lines on stderr, exit 2."""
    name = "ampshim" + (" " + cmd if cmd else "")
    assert (p.returncode, p.stdout) == (2, ""), (cmd, what, p)
    assert p.stderr == "%s: %s\nTry '%s --help' for more information.\n" % (name, what, name), (cmd, p.stderr)


@test
def every_command_of_the_table_dispatched_and_helped(ctx):
    """`help` lists exactly the table's commands; each has its --help (stdout,
    exit 0, the same as -h and `help NAME`) listing its own options, each of
    which it takes, and no option of another command's, which it refuses."""
    rows = table()
    names = [name for name, _ in rows]
    glob = launcher("help")
    assert glob.returncode == 0 and glob.stderr == "", glob
    assert re.findall(r"^  ampshim (\S+)", glob.stdout, re.M) == names, glob.stdout
    for args in (("--help",), ("-h",)):
        assert launcher(*args).stdout == glob.stdout, args
    alone = launcher()
    assert (alone.returncode, alone.stdout, alone.stderr) == (2, "", glob.stdout), alone
    helps = {}
    for name in names:
        p = launcher(name, "--help")
        assert p.returncode == 0 and p.stderr == "", (name, p)
        assert p.stdout.startswith("usage: ampshim %s" % name), (name, p.stdout)
        assert re.search(r"\nExample:\n  (sudo )?ampshim %s\b" % name, p.stdout), (name, p.stdout)
        assert launcher(name, "-h").stdout == p.stdout and launcher("help", name).stdout == p.stdout, name
        helps[name] = p.stdout
    own = {name: options_of(text) for name, text in helps.items()}
    every = {}
    for opts in own.values():
        every.update(opts)
    for name in names:
        assert {"-h", "--help"} <= set(own[name]), (name, own[name])
        for opt, takes_value in sorted(every.items()):
            # The option taken (then --help answers), or refused as unknown.
            p = launcher(name, opt, *(["x"] if takes_value else []), "--help")
            if opt in own[name]:
                assert p.returncode == 0 and p.stdout == helps[name], (name, opt, p)
            else:
                usage_error(p, name, "unknown option '%s'" % opt)
                assert not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), helps[name]), (name, opt)
    # The commands the code dispatches are the table's.
    handlers = set(re.findall(r"^int (amp_cmd_\w+)\(int argc, char \*\*argv\)$",
                              "".join(open(os.path.join(ROOT, "src", f)).read()
                                      for f in os.listdir(os.path.join(ROOT, "src")) if f.endswith(".c")), re.M))
    assert handlers - {h for _, h in rows} == set(), handlers


@test
def usage_errors_are_two_lines(ctx):
    cfg = ctx.cfg
    for args, cmd, what in (
            (("check", "-c", cfg, "--foo"), "check", "unknown option '--foo'"),
            (("check", "-c", cfg, "--foo=1"), "check", "unknown option '--foo'"),
            (("state", "-x"), "state", "unknown option '-x'"),
            (("env", "--s"), "env", "option '--s' is ambiguous (--shell, --systemd)"),
            (("check", "--json=yes"), "check", "option '--json' takes no argument"),
            (("check", "-c"), "check", "option '-c' needs an argument"),
            (("stats", "--output"), "stats", "option '--output' needs an argument"),
            (("route", "-c", cfg), "route", "no URL given"),
            (("route", "-c", cfg, "https://a.test/", "https://b.test/"), "route",
             "one URL at a time, not 'https://b.test/' too"),
            (("check", "-c", cfg, "extra"), "check", "takes no arguments, not 'extra'"),
            (("state", "-c", cfg, "extra"), "state", "takes no arguments, not 'extra'"),
            (("run", "-c", cfg), "run", "no COMMAND given"),
            (("env", "--shell", "--docker"), "env", "--shell, --systemd and --docker go alone"),
            (("stats", "--json", "--prometheus"), "stats", "--json, --prometheus and --reset go alone"),
            (("stats", "--reset", "-o", "x"), "stats", "--output does not go with --reset"),
            (("help", "bogus"), "help", "unknown command 'bogus'"),
            (("version", "extra"), "version", "takes no arguments, not 'extra'"),
            (("bogus",), None, "unknown command 'bogus'"),
            (("chekc",), None, "unknown command 'chekc'; did you mean 'check'?"),
            (("help", "provider"), "help", "unknown command 'provider'; did you mean 'providers'?"),
            (("run", "--dryrun", "--", "true"), "run", "unknown option '--dryrun'; did you mean '--dry-run'?"),
            (("stats", "--promethus"), "stats", "unknown option '--promethus'; did you mean '--prometheus'?"),
            (("check", "--jsno"), "check", "unknown option '--jsno'; did you mean '--json'?"),
            (("--bogus",), None, "unknown option '--bogus'")):
        usage_error(launcher(*args, env=ctx.env()), cmd, what)


@test
def long_options_take_their_value_both_ways(ctx):
    """--config FILE, --config=FILE, -c FILE and -cFILE; --output likewise; -V,
    --version and version."""
    outs = {launcher("check", *args, env=ctx.env()).stdout
            for args in (("--config", ctx.cfg), ("--config=" + ctx.cfg,), ("-c", ctx.cfg), ("-c" + ctx.cfg,))}
    assert len(outs) == 1 and "routes (3):" in outs.pop(), outs
    for i, args in enumerate((("--output", "{}"), ("--output={}",), ("-o", "{}"))):
        target = os.path.join(ctx.dir, "both-ways-%d.prom" % i)
        p = launcher("stats", "-c", ctx.cfg, "--prometheus", *[a.format(target) for a in args], env=ctx.env())
        assert p.returncode == 0 and p.stdout == "", (args, p)
        assert "# TYPE ampshim_routed_total counter" in open(target).read(), args
    versions = {launcher(*args).stdout for args in (("-V",), ("--version",), ("version",))}
    assert len(versions) == 1 and re.fullmatch(r"ampshim \S+\n", versions.pop()), versions


@test
def completion_and_manual_follow_the_table(ctx):
    """The bash completion offers exactly the table's commands, and for each
    command exactly the options its --help lists; the SYNOPSIS of ampshim(1)
    names every command."""
    from .package import both_ways
    names = [name for name, _ in table()]
    assert both_ways(ctx, "ampshim", "") == sorted(names + ["--help", "--version"])
    assert both_ways(ctx, "ampshim", "help", "") == sorted(names)
    for name in names:
        listed = set(options_of(launcher(name, "--help").stdout))
        offered = {o.rstrip("=") for o in both_ways(ctx, "ampshim", name, "-")} - {"--"}
        assert offered == listed, (name, sorted(offered), sorted(listed))
    page = open(os.path.join(ROOT, "man", "ampshim.1")).read()
    synopsis = page.split(".SH SYNOPSIS\n", 1)[1].split("\n.SH ", 1)[0]
    assert set(re.findall(r"^\.B ampshim (\w+)", synopsis, re.M)) == set(names), synopsis


# --- state, clear, stats ---------------------------------------------------------

@test
def state_and_clear_agree_on_what_is_blocked(ctx):
    """A block that has run out: `state` says nothing is blocked, and `clear`
    clears none (and finds no block for its name); one in force is cleared."""
    cfg, state = rl_cfg(ctx, "state-clear-agree")
    queue_429(ctx, http_date(int(time.time()) + 2))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert "blocked inst-sf-1" in ok(launcher("state", "-c", cfg, env=ctx.env())).stdout
    time.sleep(3)
    assert "no route is blocked" in ok(launcher("state", "-c", cfg, env=ctx.env())).stdout
    p = launcher("clear", "-c", cfg, "inst-sf-1", env=ctx.env())
    assert p.returncode == 1 and "cleared 0 blocked routes in %s" % state in p.stdout, p
    assert "no block recorded for 'inst-sf-1'" in p.stderr, p.stderr
    queue_429(ctx, http_date(int(time.time()) + 2))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    time.sleep(3)
    queue_429(ctx, http_date(int(time.time()) + 300))
    ctx.curl("-o", "/dev/null", "https://slack.com/api/chat.postMessage", cfg=cfg)
    p = ok(launcher("clear", "-c", cfg, env=ctx.env()))
    assert "cleared 1 blocked route in %s" % state in p.stdout, p.stdout
    assert "no route is blocked" in ok(launcher("state", "-c", cfg, env=ctx.env())).stdout


@test
def stats_table_as_wide_as_its_routes(ctx):
    """A route's name longer than any fixed column: the columns move with it,
    each value under its heading."""
    long_url = "https://a-tenant-with-a-long-name-for-the-stats-table.example.test/api/v1"
    state = os.path.join(ctx.dir, "stats-wide.state")
    cfg = ctx.write_cfg("stats-wide.cfg", ctx.config(extra_routes=',\n  { base_url = "%s"; installation_id = '
                                                                  '"inst-wide-columns"; }' % long_url)
                        + 'throttle: { state_file = "%s"; };\n' % state)
    ctx.proxy.control("reset")
    ok(ctx.curl("-o", "/dev/null", long_url + "/x", "-o", "/dev/null", SF + "/y", cfg=cfg))
    lines = ok(launcher("stats", "-c", cfg, env=ctx.env())).stdout.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("route "))
    header, rows = lines[head], lines[head + 1:]
    assert len(rows) == 2 and any(r.startswith(long_url + " (installation inst-wide-columns) ") for r in rows), lines
    # Each heading right-aligned over its numbers, two spaces at least apart.
    ends = [m.end() for m in re.finditer(r"\S+", header)][1:-1]  # routed .. blocked
    for row in rows:
        for end in ends:
            assert row[end - 1].isdigit() and row[end] == " " and row[end - len("  0") + 1] in " 0123456789", \
                (header, row)
        fields = re.split(r"  +", row.split("  ", 1)[1].strip())
        assert len(fields) == len(ends) + 1, (header, row)


# --- what a user reads: the help and the manual against the table ------------------

def rendered_manual(page, width):
    """A page of man/ as man renders it at width columns, plain ASCII, no overstrikes."""
    p = subprocess.run(["man", "-l", os.path.join(ROOT, "man", page)], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH=str(width), LC_ALL="C", MAN_KEEP_FORMATTING=""),
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return re.sub(r".\x08", "", p.stdout)


@test
def help_fits_80_columns_and_names_the_json_page(ctx):
    """`ampshim help` and each command's --help fit a terminal of 80 columns; where a command
    takes --json, its help sends the reader to ampshim-json(7), the page with the shapes (not
    ampshim(1), which has none)."""
    texts = {"ampshim help": launcher("help").stdout}
    texts.update({name: launcher(name, "--help").stdout for name, _ in table()})
    for name, text in texts.items():
        wide = [line for line in text.splitlines() if len(line) > 80]
        assert wide == [], (name, wide)
        # The --json option's entry: its line and the lines that go on with it.
        entry = re.search(r"^  --json .*\n(?: {21}.*\n)*", text, re.M)
        if name in ("ampshim help", "check", "route", "state", "stats", "providers"):
            assert entry and "ampshim-json(7)" in entry.group(0), (name, text)
            assert "ampshim(1)" not in entry.group(0), (name, entry.group(0))
    page = open(os.path.join(ROOT, "man", "ampshim.1")).read()
    assert "ampshim\\-json (7)" in page or "ampshim-json (7)" in page or "ampshim\\-json(7)" in page


@test
def manual_synopsis_and_options_are_the_helps(ctx):
    """ampshim(1)'s SYNOPSIS says each command as its --help's usage line does (the same
    options, the same names for their values), and the page names every option a command's
    --help lists (stats' -o too); `ampshim` alone, which prints the list of commands on
    stderr and exits 2, is in EXIT STATUS."""
    text = rendered_manual("ampshim.1", 300)
    synopsis = text.split("\nSYNOPSIS\n", 1)[1].split("\nDESCRIPTION\n", 1)[0]
    lines = [" ".join(l.split()) for l in synopsis.splitlines() if l.strip()]
    for name, _ in table():
        usage = launcher(name, "--help").stdout.splitlines()[0]
        assert usage.startswith("usage: ")
        assert usage[len("usage: "):] in lines, (name, usage, lines)
        for opt in options_of(launcher(name, "--help").stdout):
            assert re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), text), (name, opt)
    status = text.split("\nEXIT STATUS\n", 1)[1].split("\nENVIRONMENT\n", 1)[0]
    assert re.search(r"ampshim\s+alone", status), status
    alone = launcher()
    assert alone.returncode == 2 and alone.stdout == "" and "Commands:" in alone.stderr, alone
