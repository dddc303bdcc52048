"""`--json` on `check`, `route` and `state`: one JSON document on stdout and
nothing else, with the shape ampshim-json(7) documents, the key
masked and never anywhere in it, the exit status of the text form (valid,
broken, missing config; routed, not routed; blocked, locked, no block),
strings escaped whatever they hold (a URL with quotes and backslashes, a
config path with odd characters, bytes that are not UTF-8), and usage errors
writing nothing on stdout."""

import json
import os
import shutil
import subprocess
import time

from .harness import AMPSHIM, BROKEN, KEY, PROJECT, ROOT, SF, http_date, queue_429, rl_cfg, test

TOP = {"version", "command", "ok", "config", "warnings"}
ROUTE = {"line", "base_url", "provider", "ident", "installation_id", "integration_name", "group_ref",
         "headers", "drop_headers"}
BLOCK = {"route", "installation_id", "integration_name", "group_ref", "proxy", "project_id", "locked",
         "guessed", "retry_at", "retry_at_utc", "retry_in", "hold_until", "hold_until_utc", "recorded_at",
         "recorded_at_utc", "reason", "description"}
ERROR = {"file", "line", "message", "text"}
# A block of `state` says, besides, the route its record names and whose file holds it.
STATE_BLOCK = BLOCK | {"recorded_route", "state_file", "user", "uid"}


def launch(ctx, *args, env=None):
    return subprocess.run([AMPSHIM, *args], capture_output=True, env=env or ctx.env(), timeout=60)


def both(ctx, cmd, *args, env=None, text_echoes_key=False):
    """`ampshim cmd --json args` and the text form: the same exit status; the
    document (which must be all of stdout) and the JSON run. The key is in
    neither, unless the arguments hold it (the text form says them back)."""
    text = launch(ctx, cmd, *args, env=env)
    p = launch(ctx, cmd, "--json", *args, env=env)
    assert p.returncode == text.returncode, "%s: --json exited %d, text %d\n%s\n%s" % (
        cmd, p.returncode, text.returncode, p.stdout, p.stderr)
    for out in (p.stdout, p.stderr) + (() if text_echoes_key else (text.stdout, text.stderr)):
        assert KEY.encode() not in out, "the key is in the output: %r" % out
    doc = json.loads(p.stdout.decode("utf-8"))  # all of stdout, strict UTF-8
    assert set(doc) >= TOP, sorted(doc)
    assert doc["version"] == 1 and doc["command"] == cmd, doc
    assert isinstance(doc["warnings"], list), doc
    return doc, p


def check_route_object(r):
    assert set(r) == ROUTE, sorted(r)
    assert isinstance(r["line"], int) and isinstance(r["base_url"], str) and isinstance(r["ident"], str)
    assert all(set(h) == {"name", "value"} for h in r["headers"]), r["headers"]
    keys = [h["value"] for h in r["headers"] if h["name"].lower() == "x-api-key"]
    assert keys == ["****" + KEY[-4:]], r["headers"]
    assert isinstance(r["drop_headers"], list)


def check_block_object(b, members=BLOCK):
    assert set(b) == members, sorted(b)
    for k in ("retry_at", "retry_in", "recorded_at"):
        assert isinstance(b[k], int), (k, b)
    for k in ("locked", "guessed"):
        assert isinstance(b[k], bool), (k, b)
    assert b["retry_at_utc"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(b["retry_at"])), b
    assert b["recorded_at_utc"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(b["recorded_at"])), b


@test
def json_check_valid_config(ctx):
    doc, p = both(ctx, "check", "-c", ctx.cfg)
    assert p.returncode == 0 and doc["ok"] is True and doc["config"] == ctx.cfg, doc
    assert "error" not in doc and doc["warnings"] == [] and p.stderr == b"", (doc, p.stderr)
    proxy = doc["proxy"]
    assert proxy == {"url": ctx.proxy.url(), "plain_http": True, "project_id": PROJECT,
                     "api_key": "****" + KEY[-4:], "api_key_from": "api_key",
                     "rate_limiter_mode": "throttle", "drop_headers": []}, proxy
    t = doc["throttle"]
    assert set(t) == {"on_block", "when_blocked", "max_wait", "default_backoff", "lockout_hold", "state_file"}, t
    assert t["on_block"] == "respond" and t["max_wait"] == 30 and t["default_backoff"] == 30, t
    assert t["lockout_hold"] == 0 and isinstance(t["state_file"], str), t
    assert [r["base_url"] for r in doc["routes"]] == ["https://*.my.salesforce.com", "https://slack.com/api",
                                                      "https://api.anthropic.com"], doc["routes"]
    for r in doc["routes"]:
        check_route_object(r)
    sf, slack = doc["routes"][0], doc["routes"][1]
    assert sf["line"] == 10 and sf["ident"] == "installation inst-sf-1" and sf["installation_id"] == "inst-sf-1"
    assert sf["integration_name"] is None and sf["group_ref"] is None and sf["provider"] is None, sf
    assert {"name": "x-amp-installation-id", "value": "inst-sf-1"} in sf["headers"], sf["headers"]
    assert slack["ident"] == "integration slack-main group grp-42" and slack["group_ref"] == "grp-42", slack
    assert doc["notes"] == [], doc["notes"]
    # A key file others can read: the warning on stderr, and in the document.
    readable = ctx.write_cfg("json-readable.cfg", ctx.config(), mode=0o644)
    doc, p = both(ctx, "check", "-c", readable)
    assert p.returncode == 0 and len(doc["warnings"]) == 1 and "chmod 600" in doc["warnings"][0], doc
    assert b"chmod 600" in p.stderr, p.stderr
    # Routes by provider name, the key from the environment, drop_headers, on_block.
    cfg = ctx.write_cfg("json-provider.cfg", """
proxy: { url = "%s"; project_id = "%s"; api_key_env = "JSON_TEST_KEY"; drop_headers = ["Authorization"]; };
routes = ( { provider = "salesforce"; workspace = "acme"; installation_id = "inst-p"; } );
throttle: { on_block = "wait"; max_wait = 7; lockout_hold = 60; };
""" % (ctx.proxy.url(), PROJECT))
    doc, p = both(ctx, "check", "-c", cfg, env=ctx.env(JSON_TEST_KEY=KEY))
    assert p.returncode == 0, p.stderr
    assert doc["proxy"]["api_key_from"] == "api_key_env JSON_TEST_KEY", doc["proxy"]
    assert doc["proxy"]["drop_headers"] == ["Authorization"], doc["proxy"]
    assert doc["throttle"]["on_block"] == "wait" and doc["throttle"]["max_wait"] == 7, doc["throttle"]
    assert doc["throttle"]["lockout_hold"] == 60, doc["throttle"]
    r = doc["routes"][0]
    check_route_object(r)
    assert r["provider"] == "salesforce" and r["base_url"] == SF and r["drop_headers"] == ["Authorization"], r


@test
def json_check_broken_and_missing_config(ctx):
    bad = ctx.write_cfg("json-broken.cfg", BROKEN)
    doc, p = both(ctx, "check", "-c", bad)
    assert p.returncode == 2 and doc["ok"] is False and doc["config"] == bad, (p.returncode, doc)
    e = doc["error"]
    assert set(e) == ERROR and e["file"] == bad and e["line"] == 1, e
    assert "project_id" in e["message"] and e["text"] == "%s:1: %s" % (bad, e["message"]), e
    assert e["text"].encode() in p.stderr, p.stderr  # the diagnostic stays on stderr
    syntax = ctx.write_cfg("json-syntax.cfg", 'proxy: {\n  url = "https://x";\n  oops\n};\n')
    doc, p = both(ctx, "check", "-c", syntax)
    assert p.returncode == 2 and doc["error"]["file"] == syntax and doc["error"]["line"] in (3, 4), doc
    # A folder: no line.
    doc, p = both(ctx, "check", "-c", ctx.dir)
    assert p.returncode == 2 and doc["error"]["file"] == ctx.dir and doc["error"]["line"] is None, doc
    # No config at all.
    doc, p = both(ctx, "check")
    assert p.returncode == 2 and doc["config"] is None, doc
    assert doc["error"]["file"] is None and doc["error"]["message"].startswith("no config"), doc


@test
def json_route_routed_and_not(ctx):
    url = SF + "/services/data/v56.0/sobjects?x=1"
    doc, p = both(ctx, "route", "-c", ctx.cfg, url)
    assert p.returncode == 0 and doc["ok"] is True and doc["routed"] is True, (p.returncode, doc)
    assert set(doc) == TOP | {"url", "routed", "proxy_url", "rewritten_url", "route", "blocked", "on_block",
                              "when_blocked", "also_matching", "nearest_misses"}, sorted(doc)
    assert doc["url"] == url and doc["proxy_url"] == ctx.proxy.url(), doc
    assert doc["rewritten_url"] == ctx.proxy.url("/services/data/v56.0/sobjects?x=1"), doc
    check_route_object(doc["route"])
    assert doc["route"]["base_url"] == "https://*.my.salesforce.com" and doc["route"]["line"] == 10, doc
    assert doc["blocked"] is None and doc["on_block"] == "respond" and "429" in doc["when_blocked"], doc
    # A look-alike: not routed, exit 1, the nearest miss and why.
    doc, p = both(ctx, "route", "-c", ctx.cfg, "https://acme.my.salesforce.com.evil.test/services/data")
    assert p.returncode == 1 and doc["ok"] is True and doc["routed"] is False, (p.returncode, doc)
    assert doc["route"] is None and doc["rewritten_url"] is None and doc["blocked"] is None, doc
    miss = doc["nearest_misses"][0]
    assert set(miss) == {"line", "base_url", "why"} and miss["line"] == 10, miss
    assert miss["why"].startswith("host acme.my.salesforce.com.evil.test"), miss
    doc, p = both(ctx, "route", "-c", ctx.cfg, "https://slack.com/apix/chat.postMessage")
    assert p.returncode == 1 and "segment boundary" in doc["nearest_misses"][0]["why"], doc
    doc, p = both(ctx, "route", "-c", ctx.cfg, "https://example.org/")
    assert p.returncode == 1 and doc["nearest_misses"] == [] and doc["also_matching"] == [], doc
    # A less specific route that matches too.
    cfg = ctx.write_cfg("json-also.cfg", ctx.config(
        extra_routes=',\n  { base_url = "https://acme.my.salesforce.com/services"; installation_id = "inst-acme"; }'))
    doc, p = both(ctx, "route", "-c", cfg, SF + "/services/data")
    assert p.returncode == 0 and doc["route"]["installation_id"] == "inst-acme", doc
    assert doc["also_matching"] == [{"line": 10, "base_url": "https://*.my.salesforce.com"}], doc
    # Broken config: exit 2, the error.
    bad = ctx.write_cfg("json-route-broken.cfg", BROKEN)
    doc, p = both(ctx, "route", "-c", bad, url)
    assert p.returncode == 2 and doc["ok"] is False and doc["error"]["file"] == bad, doc


@test
def json_route_escapes_what_the_url_holds(ctx):
    path = '/services/a"b\\c/\u00e9?q="x"&t=\u20ac'
    doc, p = both(ctx, "route", "-c", ctx.cfg, SF + path)
    assert p.returncode == 0 and doc["url"] == SF + path, (p.returncode, doc.get("url"))
    assert doc["rewritten_url"] == ctx.proxy.url(path), doc["rewritten_url"]
    # Control characters: libcurl refuses such a URL; it comes back as it was.
    odd = SF + "/a\tb\x01c\x7f"
    doc, p = both(ctx, "route", "-c", ctx.cfg, odd)
    assert doc["url"] == odd and b"\\t" in p.stdout and b"\\u0001" in p.stdout and b"\\u007f" in p.stdout, p.stdout
    # Bytes that are not UTF-8: U+FFFD each, the document still strict UTF-8.
    doc, p = both(ctx, "route", "-c", ctx.cfg, os.fsdecode(SF.encode() + b"/x\xffy"))
    assert doc["url"] == SF + "/x\ufffdy", doc["url"]
    # The key, should a URL hold it, is masked there too.
    doc, p = both(ctx, "route", "-c", ctx.cfg, SF + "/x?k=" + KEY, text_echoes_key=True)
    assert doc["url"] == SF + "/x?k=****" + KEY[-4:], doc["url"]


@test
def json_config_path_with_odd_characters(ctx):
    folder = os.path.join(ctx.dir, 'odd "dir" \\ \u00e9 :7: ')
    os.makedirs(folder, exist_ok=True)
    good = os.path.join(folder, 'a"b\\c\td\u00e9.cfg')
    with open(good, "w") as f:
        f.write(ctx.config())
    os.chmod(good, 0o600)
    for cmd, args in (("check", ()), ("route", (SF + "/x",)), ("state", ())):
        doc, p = both(ctx, cmd, "-c", good, *args)
        assert p.returncode == 0 and doc["config"] == good, (cmd, p.returncode, doc)
    bad = os.path.join(folder, 'broken "x".cfg')
    with open(bad, "w") as f:
        f.write(BROKEN)
    doc, p = both(ctx, "check", "-c", bad)
    assert p.returncode == 2 and doc["config"] == bad, doc
    assert doc["error"]["file"] == bad and doc["error"]["line"] == 1, doc["error"]
    # A name that is not UTF-8.
    raw = os.fsencode(ctx.dir) + b"/json-\xff.cfg"
    with open(raw, "w") as f:
        f.write(ctx.config())
    os.chmod(raw, 0o600)
    doc, p = both(ctx, "check", "-c", os.fsdecode(raw))
    assert p.returncode == 0 and doc["config"] == ctx.dir + "/json-\ufffd.cfg", doc["config"]


@test
def json_state_and_route_blocked(ctx):
    cfg, state = rl_cfg(ctx, "json-state")
    doc, p = both(ctx, "state", "-c", cfg)
    assert p.returncode == 0 and doc["ok"] is True and doc["blocks"] == [], doc
    assert set(doc) == TOP | {"state_file", "now", "blocks"} and doc["state_file"] == state, doc
    assert abs(doc["now"] - time.time()) < 30, doc["now"]
    retry_at = int(time.time()) + 120
    queue_429(ctx, http_date(retry_at))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    doc, p = both(ctx, "state", "-c", cfg)
    assert p.returncode == 0 and len(doc["blocks"]) == 1, doc
    b = doc["blocks"][0]
    check_block_object(b, STATE_BLOCK)
    assert b["route"] == "https://*.my.salesforce.com" and b["installation_id"] == "inst-sf-1", b
    assert b["recorded_route"] == b["route"] and b["state_file"] == state, b
    assert (b["user"], b["uid"]) == ("root", 0), b
    assert b["integration_name"] is None and b["group_ref"] is None, b
    assert b["proxy"] == ctx.proxy.url() and b["project_id"] == PROJECT, b
    assert b["locked"] is False and b["guessed"] is False and b["retry_at"] == retry_at, b
    assert 100 <= b["retry_in"] <= 120 and b["hold_until"] is None, b
    assert "X-Amp-Retry-After" in b["reason"] and "rate limited until" in b["description"], b
    # route says the same block.
    doc, p = both(ctx, "route", "-c", cfg, SF + "/x")
    assert p.returncode == 0 and doc["routed"] is True, doc
    check_block_object(doc["blocked"])
    assert doc["blocked"]["retry_at"] == retry_at and doc["on_block"] == "fail", doc
    # Without a config, the default state file: the block is there, its route not named.
    runtime = os.path.join(ctx.dir, "json-runtime")
    os.makedirs(os.path.join(runtime, "ampshim"), mode=0o700, exist_ok=True)
    shutil.copy(state, os.path.join(runtime, "ampshim", "state"))
    doc, p = both(ctx, "state", env=ctx.env(XDG_RUNTIME_DIR=runtime))
    assert p.returncode == 0 and doc["config"] is None, doc
    assert doc["state_file"] == os.path.join(runtime, "ampshim", "state"), doc
    assert [(b["route"], b["installation_id"]) for b in doc["blocks"]] == [(None, "inst-sf-1")], doc
    # A lock-out, of an integration.
    cfg, _ = rl_cfg(ctx, "json-locked")
    queue_429(ctx, http_date(int(time.time()) + 1), "false")
    ctx.curl("-o", "/dev/null", "https://slack.com/api/auth.test", cfg=cfg)
    doc, p = both(ctx, "state", "-c", cfg)
    assert p.returncode == 0 and len(doc["blocks"]) == 1, doc
    b = doc["blocks"][0]
    check_block_object(b, STATE_BLOCK)
    assert b["locked"] is True and b["hold_until"] is None and b["installation_id"] is None, b
    assert b["integration_name"] == "slack-main" and b["group_ref"] == "grp-42", b
    assert "ampshim clear slack-main" in b["description"], b
    # A broken config: the state all the same, with a warning saying it does not load.
    bad = ctx.write_cfg("json-state-broken.cfg", BROKEN)
    doc, p = both(ctx, "state", "-c", bad)
    assert p.returncode == 0 and doc["ok"] is True and "error" not in doc, doc
    assert len(doc["warnings"]) == 1 and "json-state-broken.cfg:1" in doc["warnings"][0], doc


@test
def json_usage_errors_write_nothing(ctx):
    for args in (("check", "--json", "-c", ctx.cfg, "extra"), ("route", "--json", "-c", ctx.cfg),
                 ("state", "--json", "-c", ctx.cfg, "extra"), ("clear", "--json", "-c", ctx.cfg),
                 ("run", "--json", "-c", ctx.cfg, "--", "true")):
        p = launch(ctx, *args)
        assert p.returncode == 2 and p.stdout == b"" and p.stderr, (args, p.returncode, p.stdout)
    # --help names the option, as does the manual page.
    help_text = subprocess.run([AMPSHIM, "--help"], capture_output=True).stdout.decode()
    page = open(os.path.join(ROOT, "man", "ampshim.1")).read()
    shapes = open(os.path.join(ROOT, "man", "ampshim-json.7")).read()
    assert "--json" in help_text and "\\-\\-json" in page and "ampshim\\-json (7)" in page
    assert ".SS check" in shapes and ".SS stats" in shapes
