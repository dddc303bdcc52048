"""The harness the integration tests share: the mock servers (Server), what
each test is given (Ctx: the mocks, a work folder, the main config, a way to
run a program under `ampshim run`), the registry of tests (@test, TESTS,
Skip, not_under), the constants (ROOT, BUILD, AMPSHIM, LIB, SWITCH_LIB, KEY, SF...), the
helpers more than one concern uses, and the runner (main, closing_line).

The tests are in the other modules of this folder, one concern each
(CONCERNS below). All of them run against one set of mock servers, and no
test depends on another having run before it: each marks the mocks' logs
before it reads them, and names its files in the work folder its own way.
Run them with tests/integration/run.py (all, or by concern or name), or
through tests/run_all.py (which adds the unit tests). Both end with the line
"N passed, N failed"."""

import base64
import importlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import traceback
import urllib.request

# This file is tests/integration/harness.py.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# `make asan` (tests/asan/run_asan.py) runs this suite against another build of the library,
# the launcher and the C clients (AMPSHIM_TEST_BUILD: build/asan), through a wrapper of the
# launcher (AMPSHIM_TEST_LAUNCHER), with what must come first in every process's LD_PRELOAD
# (AMPSHIM_TEST_PRELOAD: the ASan runtime) and the sanitizer's name (AMPSHIM_TEST_SANITIZER).
# Unset, as in `make test`: build/.
PLAIN_BUILD = os.path.join(ROOT, "build")
BUILD = os.environ.get("AMPSHIM_TEST_BUILD") or PLAIN_BUILD
AMPSHIM = os.environ.get("AMPSHIM_TEST_LAUNCHER") or os.path.join(BUILD, "ampshim")
LIB = os.path.join(BUILD, "libampshim.so")
# The library with the tests' switches compiled in (AMPSHIM_NO_HEADER_API, AMPSHIM_NO_CONFIG_ARENA:
# the Makefile's TESTSWITCH), its catalog beside it; LIB, the one installed, reads neither.
SWITCH_LIB = os.path.join(BUILD, "testswitch", "libampshim.so")
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


# --- helpers more than one concern uses ---------------------------------------

def client(ctx, *args, **kw):
    return ctx.run([os.path.join(BUILD, "easy_client"), *args], **kw)


BROKEN = 'proxy: { url = "http://127.0.0.1:1"; project_id = "not-a-uuid"; api_key = "k"; };\nroutes = ();\n'


def preload_env(ctx, **extra):
    return ctx.env(LD_PRELOAD=LIB, **extra)


def switched(ctx, cmd, cfg, **switches):
    """cmd with SWITCH_LIB preloaded, cfg its config and the switches in its environment:
    not under `ampshim run`, which would preload LIB as well."""
    return ctx.run(cmd, env=ctx.env(LD_PRELOAD=SWITCH_LIB, AMPSHIM_CONFIG=cfg, **switches),
                   launcher=False)


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


def stats_of(ctx, cfg):
    """`ampshim stats --json` of cfg: each route's counters, by its base URL."""
    p = subprocess.run([AMPSHIM, "stats", "-c", cfg, "--json"], capture_output=True, env=ctx.env(),
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return {r["route"].split(" ")[0]: r for r in json.loads(p.stdout)["routes"]}


def blocked_cfg(ctx, name, **kw):
    """A config of its own (rl_cfg) whose Salesforce route the proxy has just answered 429,
    retryable in a minute: the next call to it is blocked."""
    cfg, _ = rl_cfg(ctx, name, **kw)
    queue_429(ctx, http_date(int(time.time()) + 60))
    ctx.curl("-o", "/dev/null", SF + "/first", cfg=cfg)
    return cfg


def queue_429(ctx, retry_after=None, retryable=None, extra=None):
    headers = dict(extra or {})
    if retry_after is not None:
        headers["X-Amp-Retry-After"] = retry_after
    if retryable is not None:
        headers["X-Amp-Retryable"] = retryable
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "headers": headers, "body": "slow down"})


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


def ip_cert(ctx):
    """A certificate for 127.0.0.1 and its key, made once: a TLS server on loopback that a
    program verifies with --cacert (the TLS mock's names upstream.test)."""
    cert, key = os.path.join(ctx.dir, "ip-cert.pem"), os.path.join(ctx.dir, "ip-key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class H2Proxy:
    """An https proxy on loopback that takes HTTP/2 by ALPN, reads the request and answers
    nothing: enough for libcurl to send it in HTTP/2 (and list its headers in verbose
    output), then fail. The mock speaks HTTP/1.1 only, and a plain-http relay is reached
    in HTTP/1.1 whatever the application asked."""

    def __init__(self, ctx):
        import socket, ssl, threading
        self.cert, key = ip_cert(ctx)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(self.cert, key)
        tls.set_alpn_protocols(["h2"])
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

        def serve():
            while True:
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    return
                try:
                    with tls.wrap_socket(conn, server_side=True) as t:
                        t.settimeout(2)
                        t.recv(65536)
                except OSError:
                    pass
        threading.Thread(target=serve, daemon=True).start()

    def cfg(self, ctx, name):
        return ctx.write_cfg(name + ".cfg", ctx.config(proxy_url="https://127.0.0.1:%d" % self.port))

    def close(self):
        self.sock.close()


def route_cmd(ctx, url, cfg=None):
    return subprocess.run([AMPSHIM, "route", "-c", cfg or ctx.cfg, url], capture_output=True, env=ctx.env())


# --- runner --------------------------------------------------------------------

# The modules of this folder that hold tests, in the order they run.
CONCERNS = ("routing", "headers", "programs", "config", "cli", "json_output", "lifecycle", "handles",
            "multi", "throttle", "stats", "reload", "respond", "confinement", "late_options", "resets",
            "cookies", "ffi", "allocfail", "package", "state_files", "servers", "quiet", "wiring", "operator", "service_user", "readme",
            "stage1", "structure", "providers", "stranger", "refused")
CONCERN_OF = {}  # test name -> its module's name


def load():
    """Imports the modules of CONCERNS, whose @test functions fill TESTS. Once is
    enough: a module imported again adds nothing."""
    for name in CONCERNS:
        first = len(TESTS)
        importlib.import_module("%s.%s" % (__package__, name))
        CONCERN_OF.update((fn.__name__, name) for fn in TESTS[first:])


def main(selected=None):
    """Runs the tests, or those selected (by their name or their concern's);
    returns (passed, failed, skipped)."""
    load()
    ctx = Ctx()
    passed = failed = skipped = 0
    try:
        for fn in TESTS:
            ctx.proxy.control("reset")
            if selected and fn.__name__ not in selected and CONCERN_OF.get(fn.__name__) not in selected:
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
