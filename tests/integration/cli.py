"""The launcher, `ampshim`: `run` (a bad config, the exit status, the
environment it sets), `check`, `route`, `--dry-run`, `--help`, `--version`,
and the manual pages in step with --help (and `make install` putting them
in place)."""

import os
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
    help_text = ok(subprocess.run([AMPSHIM, "--help"], capture_output=True)).stdout.decode()
    page1 = open(os.path.join(ROOT, "man", "ampshim.1")).read()
    page5 = open(os.path.join(ROOT, "man", "ampshim.cfg.5")).read()
    for word in ("run", "check", "route", "state", "clear", "env", "--dry-run", "-c", "--help", "--version",
                 "--shell", "--systemd", "--docker", "LoadCredential", "AMPSHIM_CONFIG", "AMPSHIM_LOG",
                 "AMPSHIM_DRY_RUN"):
        assert word in help_text, "--help lacks %s" % word
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
