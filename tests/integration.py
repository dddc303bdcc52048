#!/usr/bin/python3
"""Integration tests: real programs (the curl CLI, pycurl, PHP, our own C
clients) run under `ampshim run` against the mock proxy on loopback; each
test checks what actually arrived there.

Run directly, or through tests/run_all.py (which adds the unit tests).
Ends with the line "N passed, N failed"."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# `make asan` (tests/asan/run_asan.py) runs this suite against another build of the library,
# the launcher and the C clients (AMPSHIM_TEST_BUILD: build/asan), through a wrapper of the
# launcher (AMPSHIM_TEST_LAUNCHER), with what must come first in every process's LD_PRELOAD
# (AMPSHIM_TEST_PRELOAD: the ASan runtime) and the sanitizer's name (AMPSHIM_TEST_SANITIZER).
# Unset, as in `make test`: build/.
PLAIN_BUILD = os.path.join(ROOT, "build")
BUILD = os.environ.get("AMPSHIM_TEST_BUILD") or PLAIN_BUILD
AMPSHIM = os.environ.get("AMPSHIM_TEST_LAUNCHER") or os.path.join(BUILD, "ampshim")
LIB = os.path.join(BUILD, "libampshim.so")
RUNTIME_PRELOAD = os.environ.get("AMPSHIM_TEST_PRELOAD", "")
SANITIZER = os.environ.get("AMPSHIM_TEST_SANITIZER", "")
MOCK = os.path.join(ROOT, "tests", "mock_proxy.py")
PY = "/usr/bin/python3"  # Debian's, the one python3-pycurl belongs to

PROJECT = "0b6e8a7e-7c9b-4a39-9d2f-6f5f3c1c2b10"
KEY = "amp-test-key-7f3a9c2e41d8"
SF = "https://acme.my.salesforce.com"

TESTS = []


class Skip(Exception):
    """A test that cannot run here (what it needs is missing); said, and counted apart."""


def test(fn):
    TESTS.append(fn)
    return fn


def not_under(sanitizer, why):
    """Marks a test that cannot work under that sanitizer's harness (`make asan`):
    skipped there, saying why. Goes below @test."""
    def mark(fn):
        def run(ctx):
            if SANITIZER == sanitizer:
                raise Skip("not under %s: %s" % (sanitizer, why))
            return fn(ctx)
        run.__name__, run.__doc__ = fn.__name__, fn.__doc__
        return run
    return mark


def preloaded(value):
    """LD_PRELOAD as a program run by `ampshim run` finds it when the launcher made it value
    (the library, then what was there). Under the sanitizer harness the runtime was there
    too, first, and the launcher keeps it first: "libasan:LIB:asan_first.so:rest"."""
    if not RUNTIME_PRELOAD:
        return value
    first, _, others = RUNTIME_PRELOAD.partition(":")
    lib, _, rest = value.partition(":")
    return ":".join(p for p in (first, lib, others, rest) if p)


class Server:
    """A mock_proxy.py process: the proxy, or a plain upstream host."""

    def __init__(self, workdir, name, *extra):
        self.log = os.path.join(workdir, name + ".jsonl")
        portfile = os.path.join(workdir, name + ".port")
        open(self.log, "w").close()
        self.proc = subprocess.Popen(
            [PY, MOCK, "serve", "--port-file", portfile, "--log", self.log, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(portfile):
                self.port = int(open(portfile).read().strip())
                break
            time.sleep(0.025)
        else:
            raise RuntimeError("mock %s did not start" % name)
        self.offset = 0

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def mark(self):
        """Forget what was received so far: requests() returns only newer ones."""
        self.offset = os.path.getsize(self.log)

    def requests(self):
        with open(self.log, "rb") as f:
            f.seek(self.offset)
            return [json.loads(l) for l in f.read().decode().splitlines() if l.strip()]

    def control(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        req = urllib.request.Request(self.url("/__mock/" + path), data=data, method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


class Ctx:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ampshim-it-")
        self.proxy = Server(self.dir, "proxy", "--project-id", PROJECT, "--api-key", KEY)
        self.plain = Server(self.dir, "plain", "--plain")
        self.cert, self.key = self._make_cert()
        self.tls = Server(self.dir, "tls", "--plain", "--tls-cert", self.cert, "--tls-key", self.key)
        self.cfg = self.write_cfg("main.cfg", self.config())

    def _make_cert(self):
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=upstream.test", "-keyout", key, "-out", cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return cert, key

    def config(self, proxy_url=None, project=PROJECT, extra_routes="", mode="throttle", key_line=None):
        return """
proxy:
{
  url = "%s";
  project_id = "%s";
  %s
  rate_limiter_mode = "%s";
};
routes = (
  { base_url = "https://*.my.salesforce.com"; installation_id = "inst-sf-1"; },
  { base_url = "https://slack.com/api"; integration_name = "slack-main"; group_ref = "grp-42"; },
  { base_url = "https://api.anthropic.com"; installation_id = "inst-anthropic"; }%s
);
""" % (proxy_url or self.proxy.url(), project, key_line or 'api_key = "%s";' % KEY, mode, extra_routes)

    def write_cfg(self, name, text, mode=0o600):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def env(self, **extra):
        env = dict(os.environ)
        for k in ("AMPSHIM_CONFIG", "LD_PRELOAD", "AMPSHIM_LOG", "http_proxy", "https_proxy",
                  "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
            env.pop(k, None)
        env["NO_PROXY"] = "*"
        # No config is found by discovery unless a test puts one there.
        env["HOME"] = os.path.join(self.dir, "home")
        env["XDG_CONFIG_HOME"] = os.path.join(self.dir, "home", ".config")
        env.update(extra)
        if RUNTIME_PRELOAD and any(p.startswith(BUILD + "/") for p in env.get("LD_PRELOAD", "").split(":")):
            # A sanitized build of the library needs the sanitizer's runtime first in LD_PRELOAD
            # (for `ampshim run`, AMPSHIM_TEST_LAUNCHER puts it there); other processes go without.
            env["LD_PRELOAD"] = RUNTIME_PRELOAD + ":" + env["LD_PRELOAD"]
        return env

    def run(self, cmd, cfg=None, env=None, input=None, launcher=True):
        """cmd under `ampshim run -c cfg --`, or with launcher=False as given."""
        env = env or self.env()
        ampshim = AMPSHIM
        if SANITIZER == "asan" and os.path.basename(cmd[0]) == "php":
            # PHP loads its extensions (curl.so, opcache.so) with RTLD_DEEPBIND, which ASan's
            # dlopen interceptor refuses (it ends the process) before ampshim's dlopen can take
            # the flag off: under `make asan`, PHP runs through the plain build, unsanitized.
            ampshim, env = os.path.join(PLAIN_BUILD, "ampshim"), dict(env)
            skip = set(RUNTIME_PRELOAD.split(":"))
            env["LD_PRELOAD"] = ":".join(os.path.join(PLAIN_BUILD, "libampshim.so") if p == LIB else p
                                         for p in env.get("LD_PRELOAD", "").split(":") if p and p not in skip)
        argv = [ampshim, "run", "-c", cfg or self.cfg, "--"] + cmd if launcher else cmd
        p = subprocess.run(argv, input=input, capture_output=True, env=env, timeout=60)
        return p

    def curl(self, *args, cfg=None, env=None, input=None):
        return self.run(["curl", "-sS", *args], cfg=cfg, env=env, input=input)

    def close(self):
        for s in (self.proxy, self.plain, self.tls):
            s.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- helpers ---------------------------------------------------------------

def headers_of(req):
    return req["headers"]


def header_values(req, name):
    return [v for k, v in req["headers"] if k.lower() == name.lower()]


def body_of(req):
    return base64.b64decode(req["body_b64"])


def one(server):
    reqs = server.requests()
    assert len(reqs) == 1, "expected 1 request at %s, got %d: %r" % (server.log, len(reqs), reqs)
    return reqs[0]


def ok(p, what="command"):
    assert p.returncode == 0, "%s exited %d\nstdout: %s\nstderr: %s" % (
        what, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
    return p


def assert_amp_headers(req, installation=None, integration=None, group=None, mode="throttle"):
    """Exactly one of each of our headers, with the right values."""
    expect = {"x-amp-proxy-version": "1", "x-amp-project-id": PROJECT, "x-api-key": KEY}
    if installation:
        expect["x-amp-installation-id"] = installation
    else:
        expect["x-amp-integration-name"] = integration
        expect["x-amp-group-ref"] = group
    if mode:
        expect["x-amp-rate-limiter-mode"] = mode
    for name, value in expect.items():
        assert header_values(req, name) == [value], "%s: %r" % (name, header_values(req, name))
    absent = {"x-amp-installation-id", "x-amp-integration-name", "x-amp-group-ref",
              "x-amp-rate-limiter-mode"} - set(expect)
    for name in absent:
        assert header_values(req, name) == [], "%s must not be sent: %r" % (name, req["headers"])
    assert req["status"] == 200, "proxy answered %s: %s" % (req["status"], req["reason"])


def assert_untouched(req):
    for k, _ in req["headers"]:
        assert not k.lower().startswith("x-amp-"), "our header reached a non-proxy host: %r" % k
    assert KEY not in json.dumps(req), "the Ampersand key reached a non-proxy host"


def mark_all(ctx):
    for s in (ctx.proxy, ctx.plain, ctx.tls):
        s.mark()


# --- the curl CLI ------------------------------------------------------------

@test
def curl_get_routed_with_headers(ctx):
    mark_all(ctx)
    p = ok(ctx.curl(SF + "/services/data/v56.0/sobjects/Account?fields=Id,Name",
                    "-H", "Accept: application/json", "-H", "X-Custom: kept"))
    req = one(ctx.proxy)
    assert req["method"] == "GET"
    assert req["target"] == "/services/data/v56.0/sobjects/Account?fields=Id,Name", req["target"]
    assert_amp_headers(req, installation="inst-sf-1")
    assert header_values(req, "X-Custom") == ["kept"]
    assert header_values(req, "Accept") == ["application/json"]
    assert b'"ok": true' in p.stdout
    assert ctx.plain.requests() == [] and ctx.tls.requests() == []


@test
def curl_post_binary_body_byte_for_byte(ctx):
    mark_all(ctx)
    data = bytes(range(256)) * 64 + b"\r\n\x00end"
    path = os.path.join(ctx.dir, "body.bin")
    open(path, "wb").write(data)
    ok(ctx.curl("--data-binary", "@" + path, "-H", "Content-Type: application/octet-stream",
                "https://slack.com/api/files.upload"))
    req = one(ctx.proxy)
    assert req["method"] == "POST" and req["target"] == "/files.upload", req["target"]
    assert body_of(req) == data, "body changed on the way"
    assert_amp_headers(req, integration="slack-main", group="grp-42")


@test
def curl_verbs_put_patch_delete_head(ctx):
    for verb, args in (("PUT", ["-X", "PUT", "--data-binary", "put-body"]),
                       ("PATCH", ["-X", "PATCH", "--data-binary", '{"a":1}']),
                       ("DELETE", ["-X", "DELETE"]),
                       ("HEAD", ["-I"])):
        mark_all(ctx)
        p = ok(ctx.curl(*args, SF + "/services/data/v56.0/sobjects/Account/001"), verb)
        req = one(ctx.proxy)
        assert req["method"] == verb, (verb, req["method"])
        assert req["target"] == "/services/data/v56.0/sobjects/Account/001"
        assert_amp_headers(req, installation="inst-sf-1")
        if verb == "PUT":
            assert body_of(req) == b"put-body"
        if verb == "PATCH":
            assert body_of(req) == b'{"a":1}'
        if verb == "HEAD":
            assert p.stdout.startswith(b"HTTP/1.1 200"), p.stdout[:40]


@test
def curl_query_and_path_byte_for_byte(ctx):
    mark_all(ctx)
    rest = "/chat.postMessage/a%2Fb/%7Euser?channel=C1&text=a%20b+c%2F&x=%E2%9C%93&empty=&k"
    ok(ctx.curl("https://slack.com/api" + rest))
    assert one(ctx.proxy)["target"] == rest


@test
def curl_app_headers_named_like_ours_replaced(ctx):
    """anthropic authenticates with its own x-api-key: ours replaces it, never twice."""
    mark_all(ctx)
    ok(ctx.curl("-H", "x-api-key: provider-own-key", "-H", "X-Amp-Project-Id: something-else",
                "-H", "anthropic-version: 2023-06-01", "--data-binary", "{}",
                "https://api.anthropic.com/v1/messages"))
    req = one(ctx.proxy)
    assert req["target"] == "/v1/messages"
    assert_amp_headers(req, installation="inst-anthropic")
    assert header_values(req, "anthropic-version") == ["2023-06-01"]
    assert "provider-own-key" not in json.dumps(req)


@test
def curl_unmatched_url_untouched(ctx):
    mark_all(ctx)
    p = ok(ctx.curl("-H", "x-api-key: app-own", ctx.plain.url("/v1/things?q=1")))
    req = one(ctx.plain)
    assert req["target"] == "/v1/things?q=1"
    assert header_values(req, "x-api-key") == ["app-own"], "the app's own header must be kept"
    assert_untouched(req)
    assert ctx.proxy.requests() == []
    assert b'"ok": true' in p.stdout


@test
def curl_lookalike_urls_never_routed(ctx):
    """Each look-alike is sent (by --connect-to) to a TLS host on loopback:
    it must arrive there as the application wrote it, with nothing of ours."""
    lookalikes = [
        ("https://acme.my.salesforce.com.evil.test/services/data", "acme.my.salesforce.com.evil.test"),
        ("https://acme.my.salesforce.com@evil.test/services/data", "evil.test"),
        ("https://evil.test/acme.my.salesforce.com/services/data", "evil.test"),
        ("https://evil.test/?next=https://acme.my.salesforce.com/x", "evil.test"),
        ("https://my.salesforce.com/services/data", "my.salesforce.com"),
        ("https://a.b.my.salesforce.com/services/data", "a.b.my.salesforce.com"),
        ("https://slack.com/apix/chat.postMessage", "slack.com"),
        ("https://slack.com.evil.test/api/chat.postMessage", "slack.com.evil.test"),
    ]
    for url, host in lookalikes:
        mark_all(ctx)
        p = ok(ctx.curl("-k", "--connect-to", "::127.0.0.1:%d" % ctx.tls.port, url), url)
        req = one(ctx.tls)
        assert header_values(req, "Host") == [host], (url, req["headers"])
        assert_untouched(req)
        assert ctx.proxy.requests() == [], url
        assert b'"ok": true' in p.stdout


@test
def curl_http_scheme_not_routed_for_https_route(ctx):
    mark_all(ctx)
    ok(ctx.curl("--connect-to", "::127.0.0.1:%d" % ctx.plain.port,
                "http://acme.my.salesforce.com/services/data"))
    assert_untouched(one(ctx.plain))
    assert ctx.proxy.requests() == []


@test
def curl_wrong_project_answered_403_by_mock(ctx):
    """The mock checks as the proxy would: a project other than ours is refused."""
    cfg = ctx.write_cfg("other.cfg", ctx.config(project="11111111-2222-3333-4444-555555555555"))
    mark_all(ctx)
    p = ok(ctx.curl("-w", "%{http_code}", "-o", "/dev/null", SF + "/x", cfg=cfg))
    assert p.stdout == b"403", p.stdout
    assert one(ctx.proxy)["status"] == 403


@test
def curl_key_never_logged(ctx):
    mark_all(ctx)
    p = ok(ctx.curl(SF + "/x", env=ctx.env(AMPSHIM_LOG="debug")))
    err = p.stderr.decode()
    assert "route https://*.my.salesforce.com" in err, err
    assert KEY not in err and KEY not in p.stdout.decode()
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


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
def curl_without_rate_limiter_mode(ctx):
    cfg = ctx.write_cfg("nomode.cfg", ctx.config(mode=""))
    mark_all(ctx)
    ok(ctx.curl(SF + "/z", cfg=cfg))
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1", mode=None)


# --- pycurl and PHP -------------------------------------------------------------

PYCURL_PROG = r"""
import io, sys, pycurl
c = pycurl.Curl()
for url, post in ((sys.argv[1], None), (sys.argv[2], b"payload\x00\xff")):
    buf = io.BytesIO()
    c.setopt(c.URL, url)
    c.setopt(c.HTTPHEADER, ["X-From: pycurl", "x-api-key: mine"])
    if post is not None:
        c.setopt(c.POSTFIELDS, post)
    c.setopt(c.WRITEDATA, buf)
    c.perform()
    print(c.getinfo(c.RESPONSE_CODE), c.getinfo(c.EFFECTIVE_URL))
c.close()
"""


@test
def pycurl_easy_routed(ctx):
    mark_all(ctx)
    p = ok(ctx.run([PY, "-c", PYCURL_PROG, "https://slack.com/api/conversations.list?limit=5",
                    SF + "/services/data/v56.0/composite"]), "pycurl")
    reqs = ctx.proxy.requests()
    assert len(reqs) == 2, reqs
    assert reqs[0]["method"] == "GET" and reqs[0]["target"] == "/conversations.list?limit=5"
    assert_amp_headers(reqs[0], integration="slack-main", group="grp-42")
    assert reqs[1]["method"] == "POST" and reqs[1]["target"] == "/services/data/v56.0/composite"
    assert body_of(reqs[1]) == b"payload\x00\xff"
    assert_amp_headers(reqs[1], installation="inst-sf-1")
    for r in reqs:
        assert header_values(r, "X-From") == ["pycurl"]
    # The application's view after the transfer: its own URL.
    lines = p.stdout.decode().split("\n")
    assert lines[0] == "200 https://slack.com/api/conversations.list?limit=5", lines
    assert lines[1] == "200 " + SF + "/services/data/v56.0/composite", lines


PHP_PROG = r"""
$c = curl_init();
curl_setopt($c, CURLOPT_RETURNTRANSFER, true);
curl_setopt($c, CURLOPT_HTTPHEADER, ["X-From: php"]);
curl_setopt($c, CURLOPT_URL, $argv[1]);
$r = curl_exec($c);
echo curl_getinfo($c, CURLINFO_RESPONSE_CODE), " ", curl_getinfo($c, CURLINFO_EFFECTIVE_URL), "\n";
curl_setopt($c, CURLOPT_URL, $argv[2]);
curl_setopt($c, CURLOPT_POSTFIELDS, "a=1&b=2");
$r = curl_exec($c);
echo curl_getinfo($c, CURLINFO_RESPONSE_CODE), " ", curl_getinfo($c, CURLINFO_EFFECTIVE_URL), "\n";
"""


@test
def php_curl_extension_routed(ctx):
    mark_all(ctx)
    p = ok(ctx.run(["php", "-r", PHP_PROG, "--", SF + "/services/data/v56.0/limits",
                    "https://slack.com/api/chat.postMessage"]), "php")
    reqs = ctx.proxy.requests()
    assert len(reqs) == 2, reqs
    assert reqs[0]["target"] == "/services/data/v56.0/limits"
    assert_amp_headers(reqs[0], installation="inst-sf-1")
    assert reqs[1]["method"] == "POST" and reqs[1]["target"] == "/chat.postMessage"
    assert body_of(reqs[1]) == b"a=1&b=2"
    assert_amp_headers(reqs[1], integration="slack-main", group="grp-42")
    assert header_values(reqs[1], "X-From") == ["php"]
    assert p.stdout.decode().split("\n")[0] == "200 " + SF + "/services/data/v56.0/limits"


# --- our own C client -------------------------------------------------------------

def client(ctx, *args, **kw):
    return ctx.run([os.path.join(BUILD, "easy_client"), *args], **kw)


@test
def c_client_repeated_performs_one_handle(ctx):
    mark_all(ctx)
    p = ok(client(ctx, "-H", "X-App: 1", "-H", "x-api-key: app-key", "--repeat", "3",
                  SF + "/services/data/v56.0/query?q=SELECT+Id", ctx.plain.url("/direct"),
                  "https://slack.com/api/auth.test"))
    lines = p.stdout.decode().strip().split("\n")
    assert len(lines) == 9, lines
    for i, line in enumerate(lines):
        assert "rc=0 status=200" in line and "headers=intact" in line, line
    # After each transfer the handle shows the application's own URL.
    assert "url=" + SF + "/services/data/v56.0/query?q=SELECT+Id " in lines[0], lines[0]
    assert "url=https://slack.com/api/auth.test " in lines[8], lines[8]
    reqs = ctx.proxy.requests()
    assert len(reqs) == 6, len(reqs)
    for r in reqs[:3]:
        assert r["target"] == "/services/data/v56.0/query?q=SELECT+Id"
        assert_amp_headers(r, installation="inst-sf-1")
        assert header_values(r, "X-App") == ["1"]
    for r in reqs[3:]:
        assert r["target"] == "/auth.test"
        assert_amp_headers(r, integration="slack-main", group="grp-42")
    direct = ctx.plain.requests()
    assert len(direct) == 3
    for r in direct:
        assert_untouched(r)
        assert header_values(r, "x-api-key") == ["app-key"]
        assert header_values(r, "X-App") == ["1"]


@test
def c_client_streamed_upload(ctx):
    mark_all(ctx)
    data = os.urandom(50000) + bytes(range(256))
    path = os.path.join(ctx.dir, "upload.bin")
    open(path, "wb").write(data)
    p = ok(client(ctx, "-X", "POST", "--upload", path, SF + "/services/data/v56.0/sobjects/Document"))
    assert "rc=0 status=200" in p.stdout.decode()
    req = one(ctx.proxy)
    assert req["method"] == "POST" and req["target"] == "/services/data/v56.0/sobjects/Document"
    assert body_of(req) == data, "streamed body changed: %d vs %d bytes" % (len(body_of(req)), len(data))
    assert_amp_headers(req, installation="inst-sf-1")


@test
def both_flavours_in_one_process(ctx):
    """The program's libcurl (OpenSSL) and a plugin's libcurl-gnutls loaded
    with RTLD_LOCAL: each handle reaches its own flavour, both are routed."""
    mark_all(ctx)
    plug = os.path.join(BUILD, "plugins", "libflavour_plug.so")
    p = ok(ctx.run([os.path.join(BUILD, "two_flavours"), plug, SF + "/from-openssl",
                    "https://slack.com/api/from-gnutls"], env=ctx.env(AMPSHIM_LOG="debug")))
    assert p.stdout.decode().splitlines() == ["main rc=0 status=200", "plugin rc=0 status=200"] * 2, p.stdout
    err = p.stderr.decode()
    assert "using /lib/x86_64-linux-gnu/libcurl.so.4" in err or "libcurl.so.4" in err, err
    assert "libcurl-gnutls.so.4" in err, err
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/from-openssl", "/from-gnutls"] * 2, reqs
    assert reqs[1]["method"] == "HEAD"
    for r in reqs:
        assert r["status"] == 200, r


# --- bad, missing and absent configuration ------------------------------------------

BROKEN = 'proxy: { url = "http://127.0.0.1:1"; project_id = "not-a-uuid"; api_key = "k"; };\nroutes = ();\n'


def preload_env(ctx, **extra):
    return ctx.env(LD_PRELOAD=LIB, **extra)


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
def program_without_curl_untouched(ctx):
    bad = ctx.write_cfg("broken2.cfg", BROKEN)
    no_curl = os.path.join(BUILD, "no_curl")
    for p in (ctx.run([no_curl]),
              ctx.run([no_curl], env=preload_env(ctx, AMPSHIM_CONFIG=bad, AMPSHIM_LOG="debug"),
                      launcher=False)):
        ok(p)
        assert p.stderr == b"", p.stderr
        out = p.stdout.decode()
        assert out.endswith("no curl here\n"), out
        assert "libampshim.so" in out, "the preload was not in effect"
        for lib in ("libcurl", "libconfig", "libpthread", "libdl"):
            assert lib not in out, "%s loaded into a program that does not use curl:\n%s" % (lib, out)


@test
@not_under("asan", "ASan's own dlopen interceptor calls glibc's dlopen, which then reads the RUNPATH "
                   "of libasan, not of the program (build/asan/runpath_main fails so without ampshim)")
def dlopen_by_runpath_still_works(ctx):
    p = ok(ctx.run([os.path.join(BUILD, "runpath_main")]))
    assert p.stdout == b"plugin says 42\n", p.stdout


# --- the launcher ---------------------------------------------------------------

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


# --- rate limits (throttle mode) ---------------------------------------------------

def http_date(t):
    """Ampersand's form: 'Thu, 06 Mar 2025 22:09:49 UTC'."""
    return time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime(t))


def rl_cfg(ctx, name, throttle="", on_block="fail"):
    """A config of its own, with a state file of its own. on_block is pinned
    (the tests of "fail" and "wait" predate "respond", the default)."""
    state = os.path.join(ctx.dir, name + ".state")
    if "on_block" not in throttle and on_block:
        throttle = 'on_block = "%s"; %s' % (on_block, throttle)
    text = ctx.config() + 'throttle: { state_file = "%s"; %s };\n' % (state, throttle)
    return ctx.write_cfg(name + ".cfg", text), state


def queue_429(ctx, retry_after=None, retryable=None, extra=None):
    headers = dict(extra or {})
    if retry_after is not None:
        headers["X-Amp-Retry-After"] = retry_after
    if retryable is not None:
        headers["X-Amp-Retryable"] = retryable
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "headers": headers, "body": "slow down"})


def code_of(p):
    return p.stdout.decode().strip()


@test
def rl_429_blocks_later_processes_until_retry_time(ctx):
    cfg, _ = rl_cfg(ctx, "rl-basic")
    retry_at = int(time.time()) + 3
    queue_429(ctx, http_date(retry_at), "true")
    mark_all(ctx)
    p = ctx.curl("-w", "%{http_code}", SF + "/services/data/v56.0/limits", cfg=cfg)
    assert p.returncode == 0 and p.stdout == b"slow down429", p.stdout  # the app gets the 429
    assert len(ctx.proxy.requests()) == 1
    # A new process, before the retry time: nothing leaves the machine.
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/services/data/v56.0/limits", cfg=cfg)
    assert p.returncode == 55, (p.returncode, p.stderr)
    err = p.stderr.decode()
    assert "rate limited until" in err and "https://*.my.salesforce.com" in err, err
    assert "installation inst-sf-1" in err and "X-Amp-Retry-After" in err, err
    assert ctx.proxy.requests() == []
    # Another route is not affected.
    ok(ctx.curl("https://slack.com/api/auth.test", cfg=cfg))
    assert len(ctx.proxy.requests()) == 1
    # After the retry time the call goes through.
    time.sleep(max(0, retry_at - time.time()) + 0.2)
    mark_all(ctx)
    p = ok(ctx.curl("-w", "%{http_code}", "-o", "/dev/null", SF + "/services/data/v56.0/limits", cfg=cfg))
    assert p.stdout == b"200"
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def rl_c_client_second_perform_blocked(ctx):
    cfg, _ = rl_cfg(ctx, "rl-client")
    queue_429(ctx, http_date(int(time.time()) + 60))
    mark_all(ctx)
    p = client(ctx, "--repeat", "2", SF + "/services/data/v56.0/query", cfg=cfg)
    lines = p.stdout.decode().splitlines()
    assert lines[0].startswith("perform 1: rc=0 status=429"), lines
    assert lines[1].startswith("perform 2: rc=55 "), lines
    assert "err=ampshim: route https://*.my.salesforce.com (installation inst-sf-1) is rate limited until" in lines[1], lines[1]
    assert "url=" + SF + "/services/data/v56.0/query " in lines[1], lines[1]
    assert len(ctx.proxy.requests()) == 1


@test
def rl_wait_mode_waits_then_sends(ctx):
    cfg, _ = rl_cfg(ctx, "rl-wait", 'on_block = "wait"; max_wait = 10;')
    retry_at = int(time.time()) + 2
    queue_429(ctx, http_date(retry_at))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    mark_all(ctx)
    t0 = time.time()
    p = ok(ctx.curl("-w", "%{http_code}", "-o", "/dev/null", SF + "/x", cfg=cfg,
                    env=ctx.env(AMPSHIM_LOG="info")))
    assert p.stdout == b"200", p.stdout
    assert time.time() >= retry_at, "sent before the retry time"
    assert time.time() - t0 >= 0.5, "did not wait"
    assert "waiting" in p.stderr.decode(), p.stderr
    assert one(ctx.proxy)["status"] == 200


@test
def rl_wait_mode_longer_block_fails_at_once(ctx):
    cfg, _ = rl_cfg(ctx, "rl-wait-long", 'on_block = "wait"; max_wait = 5;')
    queue_429(ctx, http_date(int(time.time()) + 120))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    mark_all(ctx)
    t0 = time.time()
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 55 and time.time() - t0 < 3, (p.returncode, time.time() - t0)
    assert ctx.proxy.requests() == []


@test
def rl_not_retryable_locks_until_clear(ctx):
    cfg, _ = rl_cfg(ctx, "rl-lock")
    queue_429(ctx, http_date(int(time.time()) + 1), "false")
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    time.sleep(1.5)  # past the retry time: a lock-out does not end with it
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 67, (p.returncode, p.stderr)  # CURLE_LOGIN_DENIED
    err = p.stderr.decode()
    assert "locked out" in err and "ampshim clear inst-sf-1" in err, err
    assert ctx.proxy.requests() == []
    st = ok(subprocess.run([AMPSHIM, "state", "-c", cfg], capture_output=True, env=ctx.env()))
    out = st.stdout.decode()
    assert "LOCKED  inst-sf-1" in out and "https://*.my.salesforce.com" in out, out
    ok(subprocess.run([AMPSHIM, "clear", "-c", cfg, "inst-sf-1"], capture_output=True, env=ctx.env()))
    st = ok(subprocess.run([AMPSHIM, "state", "-c", cfg], capture_output=True, env=ctx.env()))
    assert "no route is blocked" in st.stdout.decode(), st.stdout
    ok(ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg))
    assert len(ctx.proxy.requests()) == 1


@test
def rl_lockout_hold_expires(ctx):
    cfg, _ = rl_cfg(ctx, "rl-hold", "lockout_hold = 2;")
    queue_429(ctx, http_date(int(time.time())), "false")
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 67 and "or until" in p.stderr.decode(), p.stderr
    time.sleep(2.2)
    mark_all(ctx)
    ok(ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg))
    assert len(ctx.proxy.requests()) == 1


@test
def rl_unparsable_time_holds_default_backoff(ctx):
    cfg, _ = rl_cfg(ctx, "rl-garbage", "default_backoff = 45;")
    queue_429(ctx, "whenever you like")
    p = ctx.curl("-w", "%{http_code}", "-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.stdout == b"429", p.stdout
    assert "unparsable X-Amp-Retry-After 'whenever you like'" in p.stderr.decode(), p.stderr
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 55 and "(in 4" in p.stderr.decode(), p.stderr  # 45s or 44s left
    assert ctx.proxy.requests() == []


@test
def rl_standard_retry_after_seconds(ctx):
    cfg, _ = rl_cfg(ctx, "rl-seconds")
    queue_429(ctx, extra={"Retry-After": "30"})
    ctx.curl("-o", "/dev/null", "https://slack.com/api/chat.postMessage", cfg=cfg)
    p = ctx.curl("-o", "/dev/null", "https://slack.com/api/chat.postMessage", cfg=cfg)
    assert p.returncode == 55 and "with Retry-After" in p.stderr.decode(), p.stderr
    assert "integration slack-main group grp-42" in p.stderr.decode()


@test
def rl_header_callback_fallback(ctx):
    """Where libcurl lacks curl_easy_header(): our header callback reads
    the 429 and still gives the application every header."""
    cfg, _ = rl_cfg(ctx, "rl-callback")
    queue_429(ctx, http_date(int(time.time()) + 60), "true")
    dump = os.path.join(ctx.dir, "headers.txt")
    env = ctx.env(AMPSHIM_NO_HEADER_API="1")
    p = ctx.curl("-D", dump, "-o", "/dev/null", SF + "/x", cfg=cfg, env=env)
    assert p.returncode == 0
    got = open(dump).read()
    assert got.startswith("HTTP/1.1 429") and "X-Amp-Retry-After:" in got and "X-Amp-Retryable: true" in got, got
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg, env=env)
    assert p.returncode == 55, p.stderr
    assert ctx.proxy.requests() == []
    # pycurl with a HEADERFUNCTION of its own, and a plain 200: every header arrives.
    ok(subprocess.run([AMPSHIM, "clear", "-c", cfg], capture_output=True, env=env))
    prog = ("import pycurl,io,sys\nh=[]\nc=pycurl.Curl()\nc.setopt(c.URL,sys.argv[1])\n"
            "c.setopt(c.HEADERFUNCTION,h.append)\nc.setopt(c.WRITEDATA,io.BytesIO())\nc.perform()\n"
            "print(c.getinfo(c.RESPONSE_CODE), any(l.startswith(b'X-Mock-Mode') for l in h), h[0].strip())\n")
    p = ok(ctx.run([PY, "-c", prog, SF + "/y"], cfg=cfg, env=env))
    assert p.stdout.decode().strip() == "200 True b'HTTP/1.1 200 OK'", p.stdout


@test
def rl_dozen_concurrent_processes_honour_block(ctx):
    cfg, _ = rl_cfg(ctx, "rl-many")
    queue_429(ctx, http_date(int(time.time()) + 60))
    ctx.curl("-o", "/dev/null", SF + "/first", cfg=cfg)
    mark_all(ctx)
    procs = [subprocess.Popen([AMPSHIM, "run", "-c", cfg, "--", "curl", "-sS", "-o", "/dev/null",
                               SF + "/n%d" % i], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=ctx.env()) for i in range(12)]
    codes = [p.wait(timeout=30) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert codes == [55] * 12, codes
    assert ctx.proxy.requests() == []


@test
def rl_state_file_private_and_symlink_refused(ctx):
    run = os.path.join(ctx.dir, "xdg-run")
    os.makedirs(run, mode=0o700)
    queue_429(ctx, http_date(int(time.time()) + 60))
    p = ctx.curl("-o", "/dev/null", SF + "/x", env=ctx.env(XDG_RUNTIME_DIR=run))
    folder = os.path.join(run, "ampshim")
    assert os.stat(folder).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(folder, "state")).st_mode & 0o777 == 0o600
    # A planted symlink is refused, never followed; calls still work.
    target = os.path.join(ctx.dir, "victim.txt")
    open(target, "w").write("precious\n")
    link = os.path.join(ctx.dir, "planted.state")
    os.symlink(target, link)
    cfg = ctx.write_cfg("rl-symlink.cfg", ctx.config() + 'throttle: { state_file = "%s"; };\n' % link)
    ctx.proxy.control("reset")
    mark_all(ctx)
    p = ok(ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg))
    assert "symlink" in p.stderr.decode(), p.stderr
    assert open(target).read() == "precious\n"
    assert len(ctx.proxy.requests()) == 1


# --- every libcurl program: multi, lifecycle, URL handles, redirects, threads, fork ----

def prog(name):
    return os.path.join(BUILD, name)


def parse_lines(out):
    """'URL rc=0 status=200 url=... err=...' lines -> dicts, by their first word."""
    rows = []
    for line in out.decode().splitlines():
        head, _, rest = line.partition(" ")
        fields = {"tag": head}
        err = rest.split(" err=", 1)
        fields["err"] = err[1] if len(err) > 1 else ""
        for part in err[0].split():
            k, _, v = part.partition("=")
            fields[k] = v
        rows.append(fields)
    return rows


@test
def multi_curl_parallel(ctx):
    mark_all(ctx)
    urls = [SF + "/services/data/v56.0/p%d" % i for i in range(4)] + ["https://slack.com/api/users.list"]
    args = ["--parallel", "--parallel-max", "3"]
    for u in urls:
        args += ["-o", "/dev/null", u]
    ok(ctx.curl(*args))
    reqs = ctx.proxy.requests()
    assert sorted(r["target"] for r in reqs) == sorted(
        ["/services/data/v56.0/p%d" % i for i in range(4)] + ["/users.list"]), reqs
    for r in reqs:
        if r["target"] == "/users.list":
            assert_amp_headers(r, integration="slack-main", group="grp-42")
        else:
            assert_amp_headers(r, installation="inst-sf-1")


@test
def multi_c_client_perform_and_socket_action(ctx):
    for mode in ("perform", "socket"):
        mark_all(ctx)
        p = ok(ctx.run([prog("multi_client"), mode, SF + "/m/" + mode, "https://slack.com/api/" + mode,
                        ctx.plain.url("/untouched-" + mode)]), mode)
        rows = parse_lines(p.stdout)
        assert [r["rc"] for r in rows] == ["0", "0", "0"], rows
        assert [r["status"] for r in rows] == ["200", "200", "200"], rows
        assert rows[0]["url"] == SF + "/m/" + mode, rows[0]  # the application's view again
        reqs = sorted(ctx.proxy.requests(), key=lambda r: r["target"])
        assert [r["target"] for r in reqs] == ["/m/" + mode, "/" + mode], reqs
        assert_amp_headers(reqs[0], installation="inst-sf-1")
        assert_amp_headers(reqs[1], integration="slack-main", group="grp-42")
        assert_untouched(one(ctx.plain))


@test
def multi_mixed_blocked_routed_untouched(ctx):
    cfg, _ = rl_cfg(ctx, "multi-mixed")
    queue_429(ctx, http_date(int(time.time()) + 60))
    ctx.curl("-o", "/dev/null", SF + "/first", cfg=cfg)
    for mode in ("perform", "socket"):
        mark_all(ctx)
        p = ok(ctx.run([prog("multi_client"), mode, SF + "/blocked", "https://slack.com/api/fine",
                        ctx.plain.url("/plain")], cfg=cfg))
        blocked, routed, plain = parse_lines(p.stdout)
        assert blocked["rc"] == "55" and "rate limited until" in blocked["err"], blocked
        assert blocked["done"] == "1"
        assert blocked["url"] == SF + "/blocked", blocked
        assert routed["rc"] == "0" and routed["status"] == "200", routed
        assert plain["rc"] == "0" and plain["status"] == "200", plain
        assert [r["target"] for r in ctx.proxy.requests()] == ["/fine"]
        assert_untouched(one(ctx.plain))


@test
def multi_broken_config_fails_closed(ctx):
    bad = ctx.write_cfg("broken-multi.cfg", BROKEN)
    mark_all(ctx)
    p = ctx.run(["curl", "-sS", "--parallel", ctx.plain.url("/a"), ctx.plain.url("/b")],
                env=preload_env(ctx, AMPSHIM_CONFIG=bad), launcher=False)
    assert p.returncode != 0
    assert ctx.plain.requests() == [] and ctx.proxy.requests() == []
    p = ctx.run([prog("multi_client"), "perform", ctx.plain.url("/c")],
                env=preload_env(ctx, AMPSHIM_CONFIG=bad), launcher=False)
    row = parse_lines(p.stdout)[0]
    assert row["rc"] == "2" and bad + ":1:" in row["err"], row
    assert ctx.plain.requests() == []


PYCURL_MULTI = r"""
import io, sys, pycurl
m = pycurl.CurlMulti()
handles = []
for url in sys.argv[1:]:
    c = pycurl.Curl()
    c.setopt(c.URL, url)
    c.setopt(c.WRITEDATA, io.BytesIO())
    c.setopt(c.HTTPHEADER, ["X-From: pycurl-multi"])
    m.add_handle(c)
    handles.append(c)
while True:
    ret, n = m.perform()
    if ret != pycurl.E_CALL_MULTI_PERFORM and n == 0:
        break
    if ret != pycurl.E_CALL_MULTI_PERFORM:
        m.select(1.0)
q, good, bad = m.info_read()
for c in handles:
    print(c.getinfo(c.RESPONSE_CODE), c.getinfo(c.EFFECTIVE_URL))
    m.remove_handle(c)
print("ok", len(good), "bad", len(bad))
"""


@test
def pycurl_multi_routed(ctx):
    mark_all(ctx)
    p = ok(ctx.run([PY, "-c", PYCURL_MULTI, SF + "/py/1", SF + "/py/2", "https://slack.com/api/py3"]))
    out = p.stdout.decode().splitlines()
    assert out[-1] == "ok 3 bad 0", out
    assert out[0] == "200 " + SF + "/py/1", out
    reqs = ctx.proxy.requests()
    assert sorted(r["target"] for r in reqs) == ["/py/1", "/py/2", "/py3"], reqs
    for r in reqs:
        assert header_values(r, "X-From") == ["pycurl-multi"]
        assert r["status"] == 200, r


@test
def git_ls_remote_routed(ctx):
    """git's HTTPS transport: libcurl-gnutls, driven through the multi interface."""
    mark_all(ctx)
    env = ctx.env(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1")
    p = ctx.run(["git", "ls-remote", SF + "/tools/repo.git"], env=env)
    reqs = ctx.proxy.requests()
    assert reqs, "nothing reached the proxy: %s" % p.stderr
    req = reqs[0]
    assert req["target"] == "/tools/repo.git/info/refs?service=git-upload-pack", req["target"]
    assert_amp_headers(req, installation="inst-sf-1")
    assert any("git/" in v for v in header_values(req, "User-Agent")), req["headers"]


@test
def lifecycle_duphandle(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "dup", SF + "/d1", SF + "/d2"]))
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 5, rows
    assert [r["url"] for r in rows] == [SF + "/d1", SF + "/d1", SF + "/d2", SF + "/d1", SF + "/d1"], rows
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/d1", "/d1", "/d2", "/d1", "/d1"], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")
        assert header_values(r, "Authorization") == ["Bearer app-token"]


@test
def lifecycle_reset(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "reset", SF + "/before", ctx.plain.url("/after")]))
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0", "0"], rows
    assert [r["target"] for r in ctx.proxy.requests()] == ["/before"]
    req = one(ctx.plain)
    assert_untouched(req)
    assert header_values(req, "X-App") == [], "the reset handle still had the old headers"


@test
def lifecycle_curlu_honoured_and_untouched(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "curlu", SF + "/u1?x=1", "/u2"]))
    lines = p.stdout.decode().splitlines()
    assert lines[1] == "curlu-now " + SF + "/u1?x=1", lines  # the application's CURLU unchanged
    assert lines[3] == "curlu-now " + SF + "/u2?x=1", lines
    assert "url=" + SF + "/u1?x=1 " in lines[0], lines
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/u1?x=1", "/u2?x=1"], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")


@test
def lifecycle_port_and_connect_to_cannot_divert(ctx):
    """CURLOPT_PORT, CONNECT_TO and unified proxy headers pointing at another
    host must not carry our headers there."""
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "port", SF + "/p1", "127.0.0.1:%d" % ctx.plain.port]))
    assert "rc=0 status=200" in p.stdout.decode(), p.stdout
    assert ctx.plain.requests() == []
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def lifecycle_new_header_list_each_perform(ctx):
    mark_all(ctx)
    ok(ctx.run([prog("lifecycle_client"), "newlists", SF + "/n"]))
    keys = [header_values(r, "Idempotency-Key") for r in ctx.proxy.requests()]
    assert keys == [["request-0001"], ["request-0002"], ["request-0003"]], keys


@test
def lifecycle_nested_handle_in_callback(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "nested", SF + "/outer", SF + "/inner"]))
    rows = parse_lines(p.stdout)
    assert [(r["tag"], r["url"]) for r in rows] == [
        ("inner", SF + "/inner"), ("outer", SF + "/outer"), ("b-again", SF + "/inner")], rows
    assert sorted(r["target"] for r in ctx.proxy.requests()) == ["/inner", "/inner", "/outer"]


def queue_redirect(ctx, location, status=302):
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": status, "headers": {"Location": location}, "body": "moved"})


@test
def redirect_off_proxy_without_our_headers(ctx):
    for how in ("curl", "client", "multi"):
        mark_all(ctx)
        queue_redirect(ctx, ctx.plain.url("/landing?from=proxy"))
        if how == "curl":
            p = ok(ctx.curl("-L", "-H", "X-App: kept", "-w", "%{http_code}", "-o", "/dev/null", SF + "/file/1"))
            assert p.stdout == b"200", p.stdout
        elif how == "client":
            p = ok(client(ctx, "-L", "1", "-H", "X-App: kept", SF + "/file/1"))
            assert "rc=0 status=200" in p.stdout.decode(), p.stdout
        else:
            p = ok(ctx.run([prog("multi_client"), "perform", "-L", SF + "/file/1"]))
            assert parse_lines(p.stdout)[0]["status"] == "200", p.stdout
        assert [r["target"] for r in ctx.proxy.requests()] == ["/file/1"], how
        landed = one(ctx.plain)
        assert landed["target"] == "/landing?from=proxy"
        assert_untouched(landed)
        if how != "multi":
            assert header_values(landed, "X-App") == ["kept"], landed["headers"]


@test
def redirect_to_routed_url_routed_again(ctx):
    mark_all(ctx)
    queue_redirect(ctx, SF + "/services/data/v57.0/moved?x=1")
    p = ok(ctx.curl("-L", "-w", "%{http_code}", "-o", "/dev/null", SF + "/services/data/v56.0/old"))
    assert p.stdout == b"200", (p.stdout, p.stderr)
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/services/data/v56.0/old", "/services/data/v57.0/moved?x=1"], reqs
    assert_amp_headers(reqs[1], installation="inst-sf-1")
    # Relative redirects stay on the proxy, with our headers.
    mark_all(ctx)
    queue_redirect(ctx, "/elsewhere", 307)
    ok(client(ctx, "-L", "1", SF + "/rel"))
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/rel", "/elsewhere"], reqs
    assert_amp_headers(reqs[1], installation="inst-sf-1")
    assert ctx.plain.requests() == [] and ctx.tls.requests() == []


@test
def redirect_from_unrouted_url_to_a_provider_routed(ctx):
    """A transfer that starts at a URL no route matches and is redirected to
    one a route matches goes there through the proxy (or not at all), never
    to the provider directly."""
    mark_all(ctx)
    ctx.plain.control("queue", {"status": 302, "headers": {"Location": SF + "/services/data/v56.0/from-elsewhere"},
                                "body": "moved"})
    p = ok(ctx.curl("-L", "-w", "%{http_code}", "-o", "/dev/null", ctx.plain.url("/start")))
    assert p.stdout == b"200", (p.stdout, p.stderr)
    assert [r["target"] for r in ctx.plain.requests()] == ["/start"]
    req = one(ctx.proxy)
    assert req["target"] == "/services/data/v56.0/from-elsewhere", req
    assert_amp_headers(req, installation="inst-sf-1")
    # The multi interface cannot send it again: it fails and says why.
    mark_all(ctx)
    ctx.plain.control("queue", {"status": 302, "headers": {"Location": SF + "/m"}, "body": "moved"})
    p = ctx.run([prog("multi_client"), "perform", "-L", ctx.plain.url("/start-m")])
    row = parse_lines(p.stdout)[0]
    assert row["rc"] == "47" and "not following a redirect" in row["err"], row
    assert ctx.proxy.requests() == [] and ctx.tls.requests() == []
    # A POST answered 302 (libcurl would turn it into a GET): not followed at all.
    mark_all(ctx)
    ctx.plain.control("queue", {"status": 302, "headers": {"Location": SF + "/p"}, "body": "moved"})
    p = ctx.curl("-L", "-d", "x=1", ctx.plain.url("/start-post"))
    assert p.returncode == 47, (p.returncode, p.stderr)
    assert ctx.proxy.requests() == [] and ctx.tls.requests() == []
    ctx.plain.control("reset")


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


@test
def key_confined_to_the_proxy(ctx):
    """Options that would send a routed request elsewhere are set aside while
    it runs: a unix socket, an abstract one, --resolve to another loopback
    address, a DoH resolver. Whatever listens there never sees the key."""
    import socket as sk
    sock_path = os.path.join(ctx.dir, "listener.sock")
    listener = sk.socket(sk.AF_UNIX, sk.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(8)
    abstract = sk.socket(sk.AF_UNIX, sk.SOCK_STREAM)
    abstract.bind("\0ampshim-test-%d" % os.getpid())
    abstract.listen(8)
    other = sk.socket(sk.AF_INET, sk.SOCK_STREAM)
    other.bind(("127.0.0.2", 0))
    other.listen(8)
    seen = []

    def drain(s):
        s.settimeout(0.2)
        try:
            while True:
                c, _ = s.accept()
                c.settimeout(0.5)
                try:
                    seen.append(c.recv(65536))
                except OSError:
                    pass
                c.close()
        except OSError:
            pass
    try:
        cases = (["--unix-socket", sock_path], ["--abstract-unix-socket", "ampshim-test-%d" % os.getpid()],
                 ["--resolve", "127.0.0.1:%d:127.0.0.2" % ctx.proxy.port],
                 ["--connect-to", "127.0.0.1:%d:127.0.0.2:%d" % (ctx.proxy.port, other.getsockname()[1])],
                 ["--doh-url", "https://127.0.0.2:%d/dns-query" % other.getsockname()[1]])
        for opts in cases:
            mark_all(ctx)
            p = ctx.curl(*opts, "-m", "5", SF + "/services/data/v56.0/confined")
            for s in (listener, abstract, other):
                drain(s)
            assert not any(KEY.encode() in b for b in seen), (opts, seen)
            assert p.returncode == 0, (opts, p.returncode, p.stderr)
            assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")
        # An https-only application still reaches a plain-http relay on loopback.
        mark_all(ctx)
        ok(ctx.curl("--proto", "=https", "-o", "/dev/null", SF + "/https-only"))
        assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")
        # A plain-http proxy is reached only on a loopback address, whatever
        # the name cache says: here an unrouted transfer before it, in the
        # same multi handle, leaves "localhost" pointing off the machine (a
        # link-local address), and the routed one is then not sent at all.
        cfg = ctx.write_cfg("localhost-proxy.cfg", ctx.config(proxy_url="http://localhost:%d" % ctx.proxy.port))
        mark_all(ctx)
        p = ctx.curl("-Z", "--parallel-max", "1", "--resolve", "localhost:%d:169.254.0.1" % ctx.proxy.port,
                     "--connect-timeout", "2", "-o", "/dev/null", "http://localhost:%d/unrouted" % ctx.proxy.port,
                     "-o", "/dev/null", SF + "/x", cfg=cfg)
        err = p.stderr.decode()
        assert "led to 169.254.0.1, not a loopback address: not sent" in err, err
        assert ctx.proxy.requests() == []
    finally:
        for s in (listener, abstract, other):
            s.close()


@test
def drop_headers_not_forwarded(ctx):
    cfg = ctx.write_cfg("drop.cfg", ctx.config().replace(
        'rate_limiter_mode = "throttle";', 'rate_limiter_mode = "throttle"; drop_headers = [ "Authorization" ];').replace(
        'installation_id = "inst-anthropic"; }', 'installation_id = "inst-anthropic"; drop_headers = [ "anthropic-version" ]; }'))
    mark_all(ctx)
    ok(ctx.curl("-H", "Authorization: Bearer provider-token", "-H", "anthropic-version: 1", "-H", "X-Keep: 1",
                "https://api.anthropic.com/v1/models", cfg=cfg))
    req = one(ctx.proxy)
    assert header_values(req, "Authorization") == [] and header_values(req, "anthropic-version") == [], req
    assert header_values(req, "X-Keep") == ["1"]
    mark_all(ctx)
    ok(ctx.curl("-H", "Authorization: Bearer t", "-H", "anthropic-version: 1", SF + "/x", cfg=cfg))
    req = one(ctx.proxy)
    assert header_values(req, "Authorization") == [] and header_values(req, "anthropic-version") == ["1"]
    # libcurl's own Authorization (curl -u, --oauth2-bearer) is dropped too.
    for auth in (["-u", "appuser:apppass"], ["--oauth2-bearer", "apptoken"]):
        mark_all(ctx)
        ok(ctx.curl(*auth, SF + "/auth", cfg=cfg))
        assert header_values(one(ctx.proxy), "Authorization") == [], auth
    # Not routed: the application's headers go as they were.
    mark_all(ctx)
    ok(ctx.curl("-H", "Authorization: Bearer t", ctx.plain.url("/own"), cfg=cfg))
    assert header_values(one(ctx.plain), "Authorization") == ["Bearer t"]


@test
def threads_8_by_500_all_routed(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("threads_client"), "8", "500", SF + "/threads"]))
    assert p.stdout == b"ok 4000 failed 0\n", p.stdout
    reqs = ctx.proxy.requests()
    assert len(reqs) == 4000, len(reqs)
    want = {"/threads/t%d/%d" % (t, i) for t in range(8) for i in range(500)}
    assert {r["target"] for r in reqs} == want
    for r in reqs:
        assert r["status"] == 200, r
        assert header_values(r, "x-amp-installation-id") == ["inst-sf-1"]
        assert header_values(r, "X-Thread") == ["yes"]


@test
def fork_parent_and_child_keep_routing(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("fork_client"), SF + "/forked"]))
    lines = p.stdout.decode().splitlines()
    assert lines.count("child rc=0 status=200") == 2 and lines.count("parent rc=0 status=200") == 2, lines
    for r in ctx.proxy.requests():
        assert r["target"] == "/forked" and r["status"] == 200, r


@test
@not_under("asan", "ThreadSanitizer and AddressSanitizer cannot share a process (make test runs it)")
def threads_race_free_under_thread_sanitizer(ctx):
    """The library and threaded clients built with -fsanitize=thread: no report."""
    mark_all(ctx)
    env = ctx.env(AMPSHIM_CONFIG=ctx.cfg, LD_PRELOAD=os.path.join(BUILD, "tsan", "libampshim.so"),
                  TSAN_OPTIONS="halt_on_error=1 exitcode=66")
    for cmd in ([os.path.join(BUILD, "tsan", "threads_client"), "8", "25", SF + "/tsan"],
                [os.path.join(BUILD, "tsan", "multi_client"), "socket", SF + "/tsan-m1",
                 "https://slack.com/api/tsan-m2", ctx.plain.url("/tsan-m3")]):
        p = ctx.run(cmd, env=env, launcher=False)
        assert b"ThreadSanitizer" not in p.stderr, p.stderr.decode()[-3000:]
        assert p.returncode == 0, (cmd, p.returncode, p.stderr[-2000:])
    assert len(ctx.proxy.requests()) == 8 * 25 + 2


@test
def no_deadlock_with_curl_in_library_constructors(ctx):
    plug = os.path.join(BUILD, "plugins", "libctor_plug.so")
    for env in (ctx.env(AMPSHIM_CONFIG=ctx.cfg, LD_PRELOAD=LIB), ctx.env(LD_PRELOAD=LIB)):
        p = subprocess.run([prog("dl_race"), plug, "3000"], capture_output=True, env=env, timeout=90)
        assert p.returncode == 0 and p.stdout == b"done\n", (p.returncode, p.stdout, p.stderr)


@test
def app_http_proxy_never_sees_our_headers(ctx):
    """The application's own HTTP proxy (here the plain mock): a routed call
    to a loopback relay goes to it directly, and no CONNECT carries our key."""
    mark_all(ctx)
    ok(ctx.curl("-x", ctx.plain.url(), "--proxy-header", "X-Proxy-Only: 1", SF + "/via-proxy"))
    assert ctx.plain.requests() == [], ctx.plain.requests()
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")
    mark_all(ctx)
    p = ok(ctx.curl("-x", ctx.plain.url(), ctx.plain.url("/through-proxy")))
    assert_untouched(one(ctx.plain))  # an unrouted call still uses the application's proxy


@test
def verbose_output_masks_the_key(ctx):
    """curl -v and libcurl's own verbose output show the headers sent: ours
    appear, the key masked to its last 4 characters."""
    mark_all(ctx)
    p = ok(ctx.curl("-v", "-o", "/dev/null", SF + "/verbose"))
    err = p.stderr.decode()
    assert "> x-amp-installation-id: inst-sf-1" in err, err
    assert KEY not in err and ("x-api-key: " + "*" * (len(KEY) - 4) + KEY[-4:]) in err, err
    prog_ = "import pycurl,io,sys\nc=pycurl.Curl()\nc.setopt(c.URL,sys.argv[1])\nc.setopt(c.VERBOSE,1)\nc.setopt(c.WRITEDATA,io.BytesIO())\nc.perform()\n"
    p = ok(ctx.run([PY, "-c", prog_, SF + "/verbose2"]))
    err = p.stderr.decode()
    assert "> GET /verbose2 HTTP/1.1" in err and KEY not in err, err
    reqs = ctx.proxy.requests()
    assert len(reqs) == 2
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")  # the real key still went to the proxy


@test
def verbose_http2_lines_mask_the_key(ctx):
    """Over HTTP/2 libcurl lists the request headers as text lines: masked too."""
    p = ctx.curl("-v", "--http2-prior-knowledge", "-o", "/dev/null", SF + "/h2")
    err = p.stderr.decode()
    assert "x-api-key" in err.lower(), err  # the headers were shown
    assert KEY not in err, err


@test
def key_only_to_a_verified_proxy(ctx):
    """curl -k turns certificate checks off for the application's own
    connections; the routed one to the proxy is checked all the same."""
    cfg = ctx.write_cfg("tls-proxy.cfg", ctx.config(proxy_url="https://127.0.0.1:%d" % ctx.tls.port))
    mark_all(ctx)
    p = ctx.curl("-k", SF + "/tls", cfg=cfg)
    assert p.returncode == 60, (p.returncode, p.stderr)  # CURLE_PEER_FAILED_VERIFICATION
    assert ctx.tls.requests() == [], "the key went to a proxy whose certificate was not checked"
    # The application's own unrouted calls keep its -k.
    ok(ctx.curl("-k", "-o", "/dev/null", "--connect-to", "::127.0.0.1:%d" % ctx.tls.port,
                "https://elsewhere.test/x", cfg=cfg))
    assert_untouched(one(ctx.tls))


@test
def redirect_of_a_post_not_resent_as_post(ctx):
    """libcurl turns a POST answered 303 into a GET; sending the application's
    POST again would be wrong, so that redirect is handed back as an error."""
    mark_all(ctx)
    queue_redirect(ctx, SF + "/result/123", 303)
    p = ctx.curl("-L", "-d", "amount=100", SF + "/create")
    assert p.returncode == 47 and "not following the redirect (HTTP 303)" in p.stderr.decode(), p.stderr
    reqs = ctx.proxy.requests()
    assert [(r["method"], r["target"]) for r in reqs] == [("POST", "/create")], reqs
    # A 307 keeps the method and the body: sent again, through the proxy.
    mark_all(ctx)
    queue_redirect(ctx, SF + "/v2/create", 307)
    ok(ctx.curl("-L", "-d", "amount=100", SF + "/create"))
    reqs = ctx.proxy.requests()
    assert [(r["method"], r["target"], body_of(r)) for r in reqs] == [
        ("POST", "/create", b"amount=100"), ("POST", "/v2/create", b"amount=100")], reqs


@test
def multi_unrun_transfer_records_nothing(ctx):
    """A handle added to a multi and taken away before it ran still shows the
    last transfer's 429: that must not block the route again."""
    cfg, _ = rl_cfg(ctx, "unrun", "default_backoff = 1;")
    queue_429(ctx, "not a date")
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "unrun", SF + "/u", "1500"], cfg=cfg))
    rows = parse_lines(p.stdout)
    assert rows[0]["status"] == "429", rows
    assert rows[1]["rc"] == "0" and rows[1]["status"] == "200", rows
    assert len(ctx.proxy.requests()) == 2


@test
def multi_handle_added_twice_keeps_its_route(ctx):
    mark_all(ctx)
    p = ok(ctx.run([prog("lifecycle_client"), "double-add", SF + "/twice"]))
    assert p.stdout.decode().strip() == "double-add first=0 second=7 status=200", p.stdout
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")
    assert ctx.plain.requests() == [] and ctx.tls.requests() == []


# --- programs in the wild: FFI, the Host header, every 429 recorded, answers in HTTP ---

FFI = os.path.join(ROOT, "tests", "ffi")


def ffi_rows(p):
    """'url=U rc=N status=S body_len=L body=B' lines -> dicts."""
    rows = []
    for line in p.stdout.decode().splitlines():
        if not line.startswith("url="):
            continue
        head, _, body = line.partition(" body=")
        row = dict(kv.split("=", 1) for kv in head.split())
        row["body"] = body
        rows.append(row)
    return rows


def gnutls_soname():
    return "libcurl-gnutls.so.4"


@test
def ffi_python_ctypes_routed_easy_and_multi(ctx):
    """ctypes opens libcurl itself and takes each function with dlsym: routed
    like a linked program, in both flavours, with its headers and its body."""
    for script in ("ctypes_easy.py", "ctypes_multi.py"):
        for lib in ("libcurl.so.4", gnutls_soname()):
            mark_all(ctx)
            tag = script.split(".")[0] + "-" + lib.split(".")[0]
            p = ctx.run([PY, os.path.join(FFI, script), "--lib", lib, "--post",
                         SF + "/services/data/v56.0/" + tag, ctx.plain.url("/left-alone/" + tag)],
                        env=ctx.env(AMPSHIM_LOG="debug"))
            ok(p, tag)
            rows = ffi_rows(p)
            assert [(r["rc"], r["status"]) for r in rows] == [("0", "200"), ("0", "200")], (tag, rows)
            req = one(ctx.proxy)
            assert req["method"] == "POST" and req["target"] == "/services/data/v56.0/" + tag, req
            assert_amp_headers(req, installation="inst-sf-1")
            assert header_values(req, "X-Ffi-Test") and body_of(req).startswith(b'{"Name":"ffi-ctypes'), req
            assert_untouched(one(ctx.plain))
            err = p.stderr.decode()
            assert "curl_easy_perform looked up by name" in err or "curl_multi_add_handle looked up by name" in err, err
            assert lib.split(".")[0] in err, err  # bound to the flavour it opened


@test
def ffi_ruby_ethon_routed(ctx):
    """Ruby's ethon (the usual backend of Faraday and Typhoeus) binds libcurl with ffi."""
    if not shutil.which("ruby") or subprocess.run(["ruby", "-e", "require 'ethon'"],
                                                  capture_output=True).returncode != 0:
        raise Skip("ruby-ethon is not installed")
    mark_all(ctx)
    p = ok(ctx.run(["ruby", os.path.join(FFI, "ethon_req.rb"), "--post", SF + "/services/data/v56.0/ethon",
                    ctx.plain.url("/ethon-left-alone")]))
    rows = ffi_rows(p)
    assert [(r["rc"], r["status"]) for r in rows] == [("ok", "200"), ("ok", "200")], rows
    req = one(ctx.proxy)
    assert (req["method"], req["target"]) == ("POST", "/services/data/v56.0/ethon"), req
    assert_amp_headers(req, installation="inst-sf-1")
    assert header_values(req, "X-Ffi-Test") == ["ruby-ethon"]
    assert body_of(req) == b'{"Name":"ffi-ethon","n":3}', body_of(req)
    assert_untouched(one(ctx.plain))


@test
def ffi_luajit_routed(ctx):
    """LuaJIT's FFI: ffi.load and a look-up per function, easy and multi, both flavours."""
    if not shutil.which("luajit"):
        raise Skip("luajit is not installed")
    for args in ([], ["--multi"], ["--multi", "--lib", gnutls_soname()]):
        mark_all(ctx)
        p = ok(ctx.run(["luajit", os.path.join(FFI, "luajit_curl.lua"), *args, "--post",
                        SF + "/services/data/v56.0/lua", ctx.plain.url("/lua-left-alone")]))
        assert [(r["rc"], r["status"]) for r in ffi_rows(p)] == [("0", "200"), ("0", "200")], (args, p.stdout)
        req = one(ctx.proxy)
        assert req["method"] == "POST" and body_of(req) == b'{"Name":"ffi-luajit","n":5}', req
        assert_amp_headers(req, installation="inst-sf-1")
        assert_untouched(one(ctx.plain))


@test
@not_under("asan", "the tracer prints (fprintf) from dlsym, which the ASan runtime calls to bind its "
                   "interceptors before its own fprintf works: it crashes so without ampshim too")
def ffi_another_dlsym_hook_still_called(ctx):
    """A preload that stands in front of dlsym too (MangoHud, apitrace) is
    called behind ours, and the FFI program is routed all the same."""
    tracer = os.path.join(BUILD, "plugins", "libdlsym_tracer.so")
    mark_all(ctx)
    p = ok(ctx.run([PY, os.path.join(FFI, "ctypes_easy.py"), SF + "/services/data/v56.0/traced"],
                   env=ctx.env(LD_PRELOAD=tracer)))
    assert "tracer: dlsym curl_easy_perform" in p.stderr.decode(), p.stderr
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def ffi_dlsym_untouched_without_curl_names(ctx):
    """Every other look-up is glibc's own, RTLD_NEXT included (an interposer
    after us still finds the next definition), and a program that never uses
    curl loads nothing."""
    prog_ = ("import ctypes,sys\n"
             "libc=ctypes.CDLL(None)\n"
             "d=ctypes.CDLL('libc.so.6')\n"
             "print(ctypes.cast(libc.getpid,ctypes.c_void_p).value==ctypes.cast(d.getpid,ctypes.c_void_p).value)\n"
             "print(open('/proc/self/maps').read().count('libcurl'))\n")
    p = ok(ctx.run([PY, "-c", prog_]))
    assert p.stdout.decode().split() == ["True", "0"], p.stdout


@test
def host_header_is_the_proxys(ctx):
    """An application's own Host (curl -H, Guzzle) never reaches the proxy;
    an unrouted call keeps it."""
    mark_all(ctx)
    ok(ctx.curl("-H", "Host: acme.my.salesforce.com", SF + "/services/data/v56.0/host"))
    req = one(ctx.proxy)
    assert header_values(req, "Host") == ["127.0.0.1:%d" % ctx.proxy.port], req["headers"]
    assert_amp_headers(req, installation="inst-sf-1")
    mark_all(ctx)
    ok(ctx.curl("-H", "Host: vhost.example", ctx.plain.url("/vhost")))
    assert header_values(one(ctx.plain), "Host") == ["vhost.example"]
    # PHP set up the way Guzzle's CurlFactory does it: Host first in its list.
    mark_all(ctx)
    p = ok(ctx.run(["php", os.path.join(FFI, "php_host.php"), "--post", SF + "/services/data/v56.0/guzzle",
                    ctx.plain.url("/guzzle-left-alone")]))
    assert [(r["rc"], r["status"]) for r in ffi_rows(p)] == [("0", "200"), ("0", "200")], p.stdout
    req = one(ctx.proxy)
    assert header_values(req, "Host") == ["127.0.0.1:%d" % ctx.proxy.port], req["headers"]
    assert body_of(req) == b'{"Name":"php-guzzle-style","n":6}'
    assert header_values(one(ctx.plain), "Host") == ["127.0.0.1:%d" % ctx.plain.port]
    # drop_headers = ["Host"] changes nothing: there is still the proxy's Host.
    cfg = ctx.write_cfg("drop-host.cfg", ctx.config().replace(
        'rate_limiter_mode = "throttle";', 'rate_limiter_mode = "throttle"; drop_headers = [ "Host" ];'))
    mark_all(ctx)
    ok(ctx.curl("-H", "Host: acme.my.salesforce.com", SF + "/x", cfg=cfg))
    assert header_values(one(ctx.proxy), "Host") == ["127.0.0.1:%d" % ctx.proxy.port]
    # HTTP/2: the :authority libcurl lists is the proxy's too.
    p = ctx.curl("-v", "--http2-prior-knowledge", "-H", "Host: acme.my.salesforce.com", "-o", "/dev/null",
                 SF + "/h2host")
    err = p.stderr.decode()
    assert ":authority: 127.0.0.1:%d" % ctx.proxy.port in err and "acme.my.salesforce.com]" not in err, err


def blocked_cfg(ctx, name, seconds=60, retryable="true", on_block=None):
    """A config of its own whose Salesforce route the proxy has just blocked."""
    cfg, state = rl_cfg(ctx, name, on_block=on_block)
    queue_429(ctx, http_date(int(time.time()) + seconds), retryable)
    ok(ctx.curl("-o", "/dev/null", SF + "/first", cfg=cfg))
    mark_all(ctx)
    return cfg


@test
def rl_429_recorded_however_the_transfer_ends(ctx):
    """A 429 is recorded when its headers arrive: no curl_multi_info_read,
    a multi handle cleaned up with the transfer in it, a handle cleaned up in
    its multi, a header callback that stops at the status line, a long-jump
    out of the transfer. The next process sends nothing."""
    for mode in ("noinfo", "multi-cleanup", "easy-cleanup", "abort-status", "longjmp", "pause"):
        cfg, _ = rl_cfg(ctx, "ending-" + mode)
        queue_429(ctx, http_date(int(time.time()) + 60))
        mark_all(ctx)
        p = ctx.run([prog("ending_client"), mode, SF + "/ending/" + mode], cfg=cfg)
        assert p.returncode == 0, (mode, p.returncode, p.stderr)
        out = p.stdout.decode()
        assert "status=429" in out or mode in ("abort-status", "longjmp"), (mode, out)
        assert len(ctx.proxy.requests()) == 1, mode
        mark_all(ctx)
        p = ctx.curl("-o", "/dev/null", SF + "/ending/next", cfg=cfg)
        assert p.returncode == 55, (mode, p.returncode, p.stderr)
        assert ctx.proxy.requests() == [], mode
    # After all that, the handle is the application's again: a new perform
    # on it (after a remove, or after its multi handle is gone) is routed anew.
    mark_all(ctx)
    for mode in ("noinfo", "multi-cleanup"):
        p = ok(ctx.run([prog("ending_client"), mode, SF + "/again/" + mode, SF + "/again/" + mode + "-2"]))
        rows = parse_lines(p.stdout)
        assert [r["status"] for r in rows] == ["200", "200"], (mode, rows)
        assert rows[1]["url"].startswith(SF + "/again/" + mode), rows
    assert sorted(r["target"] for r in ctx.proxy.requests()) == sorted(
        ["/again/noinfo", "/again/noinfo-2", "/again/multi-cleanup", "/again/multi-cleanup"])


@test
def rl_429_of_the_apps_own_proxy_not_recorded(ctx):
    """The application's HTTP proxy refusing a CONNECT with 429 is not Ampersand
    rate limiting the route: nothing is recorded."""
    cfg = ctx.write_cfg("connect-429.cfg", ctx.config(proxy_url="https://127.0.0.1:%d" % ctx.tls.port) +
                        'throttle: { state_file = "%s"; };\n' % os.path.join(ctx.dir, "connect-429.state"))
    ctx.plain.control("reset")
    ctx.plain.control("queue", {"status": 429, "headers": {"Retry-After": "120"}, "body": ""})
    try:
        p = ctx.curl("-x", ctx.plain.url(), "-o", "/dev/null", SF + "/x", cfg=cfg, env=ctx.env(NO_PROXY=""))
        assert p.returncode == 56, (p.returncode, p.stderr)  # CONNECT tunnel failed
        assert [r["method"] for r in ctx.plain.requests()][-1:] == ["CONNECT"], ctx.plain.requests()
    finally:
        ctx.plain.control("reset")
    st = ok(subprocess.run([AMPSHIM, "state", "-c", cfg], capture_output=True, env=ctx.env()))
    assert "no route is blocked" in st.stdout.decode(), st.stdout


@test
def respond_curl_cli_answered_in_http(ctx):
    """on_block = "respond" (the default): a blocked call gets the proxy's
    kind of 429, made here; nothing reaches the proxy."""
    cfg = blocked_cfg(ctx, "respond-cli", seconds=60, on_block="")
    url = SF + "/services/data/v56.0/query?q=1"
    p = ok(ctx.curl("-i", "-w", "\ncode=%{http_code} url=%{url_effective}", url, cfg=cfg))
    out = p.stdout.decode()
    head, _, rest = out.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 429 Too Many Requests"), out
    assert "\r\nRetry-After: 60" in head or "\r\nRetry-After: 59" in head, head
    assert "\r\nX-Amp-Retryable: true" in head and "\r\nX-Amp-Retry-After: " in head, head
    body = json.loads(rest.rsplit("\ncode=", 1)[0])
    assert body["status"] == 429 and body["sent"] is False and body["route"] == "https://*.my.salesforce.com", body
    assert body["installationId"] == "inst-sf-1" and body["retryable"] is True, body
    assert rest.endswith("code=429 url=" + url), rest
    assert "answered here with HTTP 429" in p.stderr.decode(), p.stderr
    assert ctx.proxy.requests() == []
    # Whatever the application's own connection options say (an https-only
    # application, IPv6 only, an interface, a proxy, a unix socket, HTTP/2).
    for opts in (["--proto", "=https"], ["-6"], ["--interface", "lo"], ["-x", ctx.plain.url()],
                 ["--unix-socket", os.path.join(ctx.dir, "nowhere.sock")], ["--http2"], ["-I"]):
        p = ctx.curl(*opts, "-w", "%{http_code}", "-o", "/dev/null", url, cfg=cfg)
        assert (p.returncode, p.stdout) == (0, b"429"), (opts, p.returncode, p.stdout, p.stderr)
    assert ctx.proxy.requests() == [] and ctx.plain.requests() == []
    # -f: exit 22, as for the provider's own 429.
    p = ctx.curl("-f", "-o", "/dev/null", url, cfg=cfg)
    assert p.returncode == 22, (p.returncode, p.stderr)
    assert ctx.proxy.requests() == []
    # --retry waits the Retry-After, then gets through (a block of its own,
    # made just now: the steps above may have taken a while).
    cfg = blocked_cfg(ctx, "respond-retry", seconds=3, on_block="")
    t0 = time.time()
    saved = os.path.join(ctx.dir, "retried.json")
    p = ok(ctx.curl("--retry", "3", "-w", "%{http_code}", "-o", saved, url, cfg=cfg))
    assert p.stdout == b"200" and time.time() - t0 >= 1, (p.stdout, time.time() - t0)
    assert json.load(open(saved))["ok"] is True  # the proxy's answer, not ours
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def respond_large_post_sends_nothing(ctx):
    """A 5 MB POST to a blocked route is answered at once; not one byte of it
    leaves, and nothing of the key goes anywhere."""
    cfg = blocked_cfg(ctx, "respond-post", on_block="")
    big = os.path.join(ctx.dir, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(5 * 1024 * 1024))
    for extra in ([], ["-H", "Expect:"]):
        t0 = time.time()
        p = ok(ctx.curl(*extra, "--data-binary", "@" + big, "-w", "%{http_code} %{size_upload}", "-o", "/dev/null",
                        SF + "/services/data/v56.0/sobjects/Blob", cfg=cfg))
        code, sent = p.stdout.decode().split()
        assert code == "429", p.stdout
        assert time.time() - t0 < 5, "not answered at once"
        assert ctx.proxy.requests() == [] and ctx.plain.requests() == []


@test
def respond_bindings_and_multi(ctx):
    """pycurl, PHP and a multi handle mixing a blocked and a live transfer:
    the blocked one is CURLMSG_DONE with CURLE_OK and a 429, the others run."""
    cfg = blocked_cfg(ctx, "respond-bindings", on_block="")
    prog_ = ("import pycurl,io,sys\nb=io.BytesIO();h=[]\nc=pycurl.Curl()\nc.setopt(c.URL,sys.argv[1])\n"
             "c.setopt(c.WRITEDATA,b)\nc.setopt(c.HEADERFUNCTION,h.append)\nc.perform()\n"
             "print(c.getinfo(c.RESPONSE_CODE), c.getinfo(c.EFFECTIVE_URL), any(l.lower().startswith(b'retry-after:') for l in h), b'\"sent\":false' in b.getvalue())\n")
    p = ok(ctx.run([PY, "-c", prog_, SF + "/py"], cfg=cfg))
    assert p.stdout.decode().split() == ["429", SF + "/py", "True", "True"], p.stdout
    p = ok(ctx.run(["php", "-r", '$c=curl_init($argv[1]);curl_setopt($c,CURLOPT_RETURNTRANSFER,true);'
                    '$b=curl_exec($c);echo curl_getinfo($c,CURLINFO_RESPONSE_CODE)," ",curl_errno($c)," ",'
                    'json_decode($b)->route,"\\n";', SF + "/php"], cfg=cfg))
    assert p.stdout.decode().split() == ["429", "0", "https://*.my.salesforce.com"], p.stdout
    for mode in ("perform", "socket"):
        mark_all(ctx)
        p = ok(ctx.run([prog("multi_client"), mode, SF + "/blocked", "https://slack.com/api/fine",
                        ctx.plain.url("/plain")], cfg=cfg))
        blocked, routed, plain = parse_lines(p.stdout)
        assert blocked["rc"] == "0" and blocked["status"] == "429" and blocked["done"] == "1", blocked
        assert blocked["url"] == SF + "/blocked", blocked
        assert routed["status"] == "200" and plain["status"] == "200", (routed, plain)
        assert [r["target"] for r in ctx.proxy.requests()] == ["/fine"]
        assert_untouched(one(ctx.plain))
    # A locked-out route is answered the same way, X-Amp-Retryable: false.
    cfg = blocked_cfg(ctx, "respond-locked", retryable="false", on_block="")
    p = ok(ctx.curl("-i", SF + "/locked", cfg=cfg))
    out = p.stdout.decode()
    assert out.startswith("HTTP/1.1 429") and "X-Amp-Retryable: false" in out, out
    assert "\r\nRetry-After:" not in out and "ampshim clear inst-sf-1" in out, out
    assert ctx.proxy.requests() == []


@test
def respond_mode_said_by_route_and_dry_run(ctx):
    cfg, _ = rl_cfg(ctx, "mode-said", on_block="")
    p = route_cmd(ctx, SF + "/x", cfg=cfg)
    assert "when blocked: answered here with HTTP 429" in p.stdout.decode(), p.stdout
    cfg, _ = rl_cfg(ctx, "mode-said-fail")
    p = route_cmd(ctx, SF + "/x", cfg=cfg)
    assert "when blocked: fails at once" in p.stdout.decode(), p.stdout
    p = subprocess.run([AMPSHIM, "run", "--dry-run", "-c", cfg, "--", "curl", "-sS", "-k", "--connect-to",
                        "::127.0.0.1:%d" % ctx.tls.port, SF + "/dry"], capture_output=True, env=ctx.env())
    assert "when blocked: fails at once" in p.stderr.decode(), p.stderr


ALLOCFAIL = os.path.join(BUILD, "allocfail", "libampshim.so")


def complete_headers(req):
    """The proxy's own check passed: every header of ours, once, right."""
    for name, value in (("x-amp-proxy-version", "1"), ("x-amp-project-id", PROJECT), ("x-api-key", KEY),
                        ("x-amp-installation-id", "inst-sf-1")):
        if header_values(req, name) != [value]:
            return False
    return req["status"] not in (400, 401, 403)


@test
def allocation_failures_fail_closed(ctx):
    """Each allocation the library makes fails in turn (a build of it with
    every one countable), for a routed GET, a 429 recorded, and a blocked
    call answered: no crash, no hang, no call left unrouted (an unrouted
    one would reach the TLS mock through --connect-to), and no request at
    the proxy without our headers."""
    import concurrent.futures
    ctx.tls.mark()
    mark_all(ctx)
    scenarios = {}
    for name in ("get", "record", "answered"):
        state = os.path.join(ctx.dir, "allocfail-%s.state" % name)
        scenarios[name] = ctx.write_cfg("allocfail-%s.cfg" % name, ctx.config() +
                                        'throttle: { state_file = "%s"; };\n' % state)
    # "answered": the route is blocked before the runs (one clean 429).
    queue_429(ctx, http_date(int(time.time()) + 600))
    ok(ctx.curl("-o", "/dev/null", SF + "/block-first", cfg=scenarios["answered"]))

    def run(name, n):
        env = ctx.env(LD_PRELOAD=ALLOCFAIL, AMPSHIM_CONFIG=scenarios[name], AMPSHIM_FAIL_ALLOC=str(n))
        if name == "record":  # a state file of its own each time: every run records
            env["AMPSHIM_CONFIG"] = ctx.write_cfg("allocfail-record-%d.cfg" % n, ctx.config() +
                                                  'throttle: { state_file = "%s"; };\n'
                                                  % os.path.join(ctx.dir, "rec-%d.state" % n))
        p = subprocess.run(["curl", "-sS", "-k", "--connect-to", "::127.0.0.1:%d" % ctx.tls.port,
                            "-o", "/dev/null", "-w", "%{http_code}", SF + "/allocfail/%s/%d" % (name, n)],
                           capture_output=True, env=env, timeout=30)
        return n, p

    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "headers": {"X-Amp-Retry-After": http_date(int(time.time()) + 600)},
                                "body": "slow", "count": -1})
    try:
        for name in ("get", "record", "answered"):
            if name == "get":
                ctx.proxy.control("reset")
            elif name == "record":
                ctx.proxy.control("queue", {"status": 429, "body": "slow", "count": -1,
                                            "headers": {"X-Amp-Retry-After": http_date(int(time.time()) + 600)}})
            last = None
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                for start in range(1, 2000, 40):
                    results = list(pool.map(lambda n: run(name, n), range(start, start + 40)))
                    for n, p in results:
                        assert p.returncode >= 0 and p.returncode not in (134, 139), (name, n, p.returncode, p.stderr)
                        if b"allocfail: failing" not in p.stderr and last is None:
                            last = n
                    if last is not None:
                        break
            assert last and last > 10, (name, last)
            assert ctx.tls.requests() == [], (name, "a call went out unrouted")
            bad = [r for r in ctx.proxy.requests() if not complete_headers(r)]
            assert not bad, (name, bad[:2])
    finally:
        ctx.proxy.control("reset")


# --- the provider catalog, ampshim route, dry run, manual pages -------------------

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


def route_cmd(ctx, url, cfg=None):
    return subprocess.run([AMPSHIM, "route", "-c", cfg or ctx.cfg, url], capture_output=True, env=ctx.env())


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
    for word in ("run", "check", "route", "state", "clear", "--dry-run", "-c", "--help", "--version",
                 "AMPSHIM_CONFIG", "AMPSHIM_LOG", "AMPSHIM_DRY_RUN"):
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


# --- runner --------------------------------------------------------------------

def main(selected=None):
    ctx = Ctx()
    passed = failed = skipped = 0
    try:
        for fn in TESTS:
            ctx.proxy.control("reset")
            if selected and fn.__name__ not in selected:
                continue
            t0 = time.monotonic()
            try:
                fn(ctx)
                passed += 1
                print("ok   %s (%.1fs)" % (fn.__name__, time.monotonic() - t0), flush=True)
            except Skip as why:
                skipped += 1
                print("skip %s: %s" % (fn.__name__, why), flush=True)
            except Exception:
                failed += 1
                print("FAIL %s\n%s" % (fn.__name__, traceback.format_exc()), flush=True)
    finally:
        ctx.close()
    return passed, failed, skipped


def closing_line(passed, failed, skipped):
    return "%d passed, %d failed" % (passed, failed) + (", %d skipped" % skipped if skipped else "")


if __name__ == "__main__":
    p, f, s = main(set(sys.argv[1:]))
    print(closing_line(p, f, s))
    sys.exit(1 if f else 0)
