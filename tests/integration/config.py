"""The configuration: where the key comes from (api_key_env, api_key_file), a
broken, missing or absent config (the host's calls fail closed, or the
library stays out of the way), discovery per program, files that are not
files (a FIFO, a folder, /dev/zero), and routes named by provider (the
catalog conf/providers.cfg, and the providers a route cannot use)."""

import os
import shutil
import subprocess
import time

from .harness import (
    AMPSHIM, BROKEN, BUILD, KEY, LIB, PY, ROOT, SF, SWITCH_LIB, Skip, assert_amp_headers,
    assert_untouched, header_values, mark_all, ok, one, preload_env, switched, test,
)


@test
def curl_key_from_env_and_file(ctx):
    keyfile = os.path.join(ctx.dir, "key.txt")
    with open(keyfile, "w") as f:
        f.write(KEY + "\n")
    os.chmod(keyfile, 0o600)
    for name, line, env in (("env.cfg", 'api_key_env = "AMP_TEST_KEY";', {"AMP_TEST_KEY": KEY}),
                            ("file.cfg", 'api_key_file = "key.txt";', {})):
        cfg = ctx.write_cfg(name, ctx.config(key_line=line))
        mark_all(ctx)
        ok(ctx.curl(SF + "/y", cfg=cfg, env=ctx.env(**env)), name)
        assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def broken_config_fails_closed(ctx):
    bad = ctx.write_cfg("broken.cfg", BROKEN)
    for cmd in (["curl", "-sS", ctx.plain.url("/must-not-arrive")],
                [os.path.join(BUILD, "easy_client"), ctx.plain.url("/must-not-arrive")]):
        mark_all(ctx)
        p = ctx.run(cmd, env=preload_env(ctx, AMPSHIM_CONFIG=bad), launcher=False)
        assert p.returncode != 0, cmd
        err = p.stderr.decode()
        ours = [l for l in err.splitlines() if l.startswith("ampshim[")]
        assert len(ours) == 1, err
        assert bad + ":1:" in ours[0] and "project_id" in ours[0], ours
        assert ctx.plain.requests() == [] and ctx.proxy.requests() == []
        if cmd[0] == "curl":
            assert p.returncode == 2, p.returncode  # CURLE_FAILED_INIT
            assert "curl: (2) ampshim: " + bad + ":1:" in err, err
        else:
            assert "rc=2 " in p.stdout.decode() and "err=ampshim: " + bad + ":1:" in p.stdout.decode()


@test
def missing_config_file_fails_closed(ctx):
    mark_all(ctx)
    missing = os.path.join(ctx.dir, "nope.cfg")
    p = ctx.run(["curl", "-sS", ctx.plain.url("/x")], env=preload_env(ctx, AMPSHIM_CONFIG=missing),
                launcher=False)
    assert p.returncode == 2 and missing in p.stderr.decode(), p.stderr
    assert ctx.plain.requests() == []


@test
def no_config_silent_pass_through(ctx):
    cmd = ["curl", "-sS", "-H", "x-api-key: own", SF.replace("https", "http") + "/x",
           "--connect-to", "::127.0.0.1:%d" % ctx.plain.port]
    mark_all(ctx)
    p = ok(ctx.run(cmd, env=preload_env(ctx), launcher=False))
    assert p.stderr == b"", p.stderr
    req = one(ctx.plain)
    assert_untouched(req)
    assert header_values(req, "x-api-key") == ["own"]
    # Asked for debug output, it says why it does nothing, and still does nothing.
    mark_all(ctx)
    p = ok(ctx.run(cmd, env=preload_env(ctx, AMPSHIM_LOG="debug"), launcher=False))
    assert b"no config" in p.stderr, p.stderr
    assert_untouched(one(ctx.plain))


@test
def config_discovered_per_program(ctx):
    home = os.path.join(ctx.dir, "home-discover")
    os.makedirs(os.path.join(home, ".config", "ampshim"))
    shutil.copy(ctx.cfg, os.path.join(home, ".config", "ampshim", "curl.cfg"))
    env = preload_env(ctx, HOME=home)
    env.pop("XDG_CONFIG_HOME")
    mark_all(ctx)
    ok(ctx.run(["curl", "-sS", SF + "/discovered"], env=env, launcher=False))
    assert one(ctx.proxy)["target"] == "/discovered"


@test
def a_relative_include_is_the_configs_neighbour(ctx):
    """`@include "routes.inc"` names the file beside the config, wherever the
    program runs (libconfig alone would read it from the current folder: the
    tests run in the tree, which has no such file): the launcher's check and
    the library in the host both load it, and the call is routed."""
    sub = os.path.join(ctx.dir, "incdir")
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "whole.inc"), "w") as f:
        f.write(ctx.config())
    mark_all(ctx)
    top = os.path.join(sub, "top.cfg")
    with open(top, "w") as f:
        f.write('@include "whole.inc"\n')
    os.chmod(top, 0o600)
    p = subprocess.run([AMPSHIM, "check", "-c", top], capture_output=True, env=ctx.env(), timeout=20, cwd="/")
    assert p.returncode == 0, p.stderr
    ok(ctx.run(["curl", "-sS", SF + "/included"], cfg=top))
    assert one(ctx.proxy)["target"] == "/included"
    # libconfig 1.5 would read an absolute name beside a relative one in the
    # wrong folder: the mix is refused, at its line, rather than misread.
    mixed = os.path.join(sub, "mixed.cfg")
    with open(mixed, "w") as f:
        f.write('@include "whole.inc"\n@include "%s"\n' % os.path.join(sub, "whole.inc"))
    p = subprocess.run([AMPSHIM, "check", "-c", mixed], capture_output=True, env=ctx.env(), timeout=20)
    assert p.returncode == 2 and b"mixed.cfg:2: @include: relative and absolute" in p.stderr, p.stderr


@test
def files_that_are_not_files_fail_closed(ctx):
    """A FIFO or a folder as the config, a FIFO as the key file or an
    include, /dev/zero as the key file: answered at once, in `ampshim check`
    and inside the host, which goes on with every call failing closed."""
    fifo = os.path.join(ctx.dir, "config.fifo")
    os.mkfifo(fifo, 0o600)
    folder = os.path.join(ctx.dir, "config.d")
    os.mkdir(folder)
    key_fifo = ctx.write_cfg("key-fifo.cfg", ctx.config(key_line='api_key_file = "%s";' % fifo))
    key_zero = ctx.write_cfg("key-zero.cfg", ctx.config(key_line='api_key_file = "/dev/zero";'))
    inc_fifo = ctx.write_cfg("inc-fifo.cfg", '@include "%s"\n' % fifo + ctx.config())
    for cfg, want in ((fifo, "not a regular file"), (folder, "not a regular file"),
                      (key_fifo, "not a regular file"), (key_zero, "not a regular file"),
                      (inc_fifo, "@include %s: not a regular file" % fifo)):
        t0 = time.time()
        p = subprocess.run([AMPSHIM, "check", "-c", cfg], capture_output=True, env=ctx.env(), timeout=20)
        assert p.returncode == 2 and want in p.stderr.decode(), (cfg, p.returncode, p.stderr)
        # Inside a host that makes two calls and then says it is still alive.
        prog_ = ("import pycurl,io,sys\n"
                 "for u in sys.argv[1:]:\n"
                 "    c=pycurl.Curl();c.setopt(c.URL,u);c.setopt(c.WRITEDATA,io.BytesIO())\n"
                 "    try:\n        c.perform();print('sent')\n"
                 "    except pycurl.error as e:\n        print('refused',e.args[0])\n"
                 "print('alive')\n")
        mark_all(ctx)
        p = subprocess.run([PY, "-c", prog_, SF + "/a", ctx.plain.url("/b")], capture_output=True, timeout=20,
                           env=ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg))
        assert p.stdout.decode().split() == ["refused", "2", "refused", "2", "alive"], (cfg, p.stdout, p.stderr)
        assert want in p.stderr.decode(), p.stderr
        assert time.time() - t0 < 10
        assert ctx.proxy.requests() == [] and ctx.plain.requests() == []


SHARED_TSV = os.environ.get("AMPSHIM_PROVIDERS_TSV",
                            os.path.join(os.path.dirname(ROOT), "shared", "providers.tsv"))


@test
def catalog_generated_from_shared_tsv(ctx):
    """conf/providers.cfg is what tools/gen_catalog.py makes of ../shared/providers.tsv."""
    if not os.path.exists(SHARED_TSV):
        raise Skip("%s is missing (set AMPSHIM_PROVIDERS_TSV): the catalog is not checked" % SHARED_TSV)
    p = ok(subprocess.run([PY, os.path.join(ROOT, "tools", "gen_catalog.py"), SHARED_TSV],
                          capture_output=True))
    committed = open(os.path.join(ROOT, "conf", "providers.cfg"), "rb").read()
    assert p.stdout == committed, "conf/providers.cfg has drifted from providers.tsv: rerun tools/gen_catalog.py"
    assert p.stdout.count(b"{ name = ") == 238


def provider_cfg(ctx, name, routes):
    text = ctx.config().split("routes = (")[0] + "routes = (\n" + ",\n".join(routes) + "\n);\n"
    return ctx.write_cfg(name, text)


@test
def routes_by_provider_name(ctx):
    cfg = provider_cfg(ctx, "providers.cfg", [
        '{ provider = "salesforce"; workspace = "acme"; installation_id = "inst-sf-name"; }',
        '{ provider = "slack"; integration_name = "slack-main"; group_ref = "grp-7"; }',
        '{ provider = "atlassian"; installation_id = "inst-jira"; }',
    ])
    cases = [
        (SF + "/services/data/v56.0/query?q=1", "/services/data/v56.0/query?q=1", dict(installation="inst-sf-name")),
        ("https://slack.com/api/chat.postMessage", "/chat.postMessage", dict(integration="slack-main", group="grp-7")),
        ("https://api.atlassian.com/ex/jira/4f2c-cloud/rest/api/3/issue/PRJ-1", "/3/issue/PRJ-1", dict(installation="inst-jira")),
    ]
    for url, target, who in cases:
        mark_all(ctx)
        ok(ctx.curl(url, cfg=cfg))
        req = one(ctx.proxy)
        assert req["target"] == target, (url, req["target"])
        assert_amp_headers(req, **who)
    # The workspace is part of the route: another Salesforce org is not routed.
    mark_all(ctx)
    ctx.curl("-k", "--connect-to", "::127.0.0.1:%d" % ctx.tls.port, "https://other.my.salesforce.com/x", cfg=cfg)
    assert ctx.proxy.requests() == []
    assert_untouched(one(ctx.tls))


@test
def check_rejects_unusable_providers(ctx):
    cases = [
        ('{ provider = "salesfroce"; installation_id = "i"; }', "unknown provider 'salesfroce'"),
        ('{ provider = "Salesforce"; installation_id = "i"; }', "did you mean 'salesforce'"),
        ('{ provider = "adobe"; installation_id = "i"; }', "does not support provider 'adobe'"),
        ('{ provider = "gong"; installation_id = "i"; }', "no base URL a route can use"),
        ('{ provider = "aws"; installation_id = "i"; }', "no base URL a route can use"),
        ('{ provider = "sugarCRM"; installation_id = "i"; }', "sugarCRM"),
        ('{ provider = "coupa"; installation_id = "i"; }', "set workspace"),
        ('{ provider = "salesforce"; region = "eu"; installation_id = "i"; }', "unknown setting 'region'"),
    ]
    for i, (route, want) in enumerate(cases):
        cfg = provider_cfg(ctx, "bad-provider-%d.cfg" % i,
                           ['{ base_url = "https://api.hubapi.com"; installation_id = "h"; }', route])
        p = subprocess.run([AMPSHIM, "check", "-c", cfg], capture_output=True, env=ctx.env())
        err = p.stderr.decode()
        assert p.returncode == 2, (route, p.returncode, err)
        assert err.startswith(cfg + ":11: ") and want in err, (route, err)
        p = ctx.run(["true"], cfg=cfg)
        assert p.returncode == 2 and (cfg + ":11:") in p.stderr.decode()


@test
def config_load_fallbacks_still_route(ctx):
    """The config is loaded on the caller's thread into memory of ours; where
    no thread can be made (a preload refusing pthread_create, as a limit on
    threads would), nothing changes, and with the arena off
    (AMPSHIM_NO_CONFIG_ARENA=1 to the tests' library, the way taken when
    nothing can be mapped) it is kept in the heap: calls are routed all the
    same."""
    no_threads = os.path.join(BUILD, "plugins", "libno_threads.so")
    cmd = ["curl", "-sS", SF + "/fallback"]
    for name, run in (("no thread", lambda: ctx.run(cmd, env=ctx.env(LD_PRELOAD=no_threads))),
                      ("no arena", lambda: switched(ctx, cmd, ctx.cfg, AMPSHIM_NO_CONFIG_ARENA="1"))):
        mark_all(ctx)
        ok(run(), name)
        req = one(ctx.proxy)
        assert req["target"] == "/fallback", (name, req)
        assert_amp_headers(req, installation="inst-sf-1")


@test
def switches_only_in_the_tests_library(ctx):
    """AMPSHIM_NO_HEADER_API and AMPSHIM_NO_CONFIG_ARENA are compiled into the
    tests' library only: the installed one does not read them."""
    core = "libampshim-core.so"  # beside each first stage, which reads no switch
    for name in (b"AMPSHIM_NO_HEADER_API", b"AMPSHIM_NO_CONFIG_ARENA"):
        for lib in (LIB, os.path.join(os.path.dirname(LIB), core)):
            with open(lib, "rb") as f:
                assert name not in f.read(), (lib, name)
        with open(os.path.join(os.path.dirname(SWITCH_LIB), core), "rb") as f:
            assert name in f.read(), (SWITCH_LIB, name)
