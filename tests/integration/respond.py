"""on_block = "respond" (the default): a call on a blocked route is answered
here with the proxy's kind of HTTP 429, and nothing is sent; through the curl
CLI whatever its options, a large POST, pycurl, PHP, a multi handle; and
what `ampshim route` and --dry-run say of it."""

import json
import os
import subprocess
import time

from .harness import (
    AMPSHIM, PY, SF, assert_amp_headers, assert_untouched, http_date, mark_all, ok, one,
    parse_lines, prog, queue_429, rl_cfg, route_cmd, test,
)


def blocked_cfg(ctx, name, seconds=60, retryable="true", on_block=None):
    """A config of its own whose Salesforce route the proxy has just blocked."""
    cfg, state = rl_cfg(ctx, name, on_block=on_block)
    queue_429(ctx, http_date(int(time.time()) + seconds), retryable)
    ok(ctx.curl("-o", "/dev/null", SF + "/first", cfg=cfg))
    mark_all(ctx)
    return cfg


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
def respond_answered_in_http1_to_prior_knowledge(ctx):
    """A program that asked for HTTP/2 by prior knowledge (and for a PROXY
    protocol line) is answered in the HTTP/1.1 it understands: the curl CLI
    and pycurl get the 429, nothing reaches the proxy."""
    cfg = blocked_cfg(ctx, "respond-h2pk", on_block="")
    for opts in (["--http2-prior-knowledge"], ["--http2-prior-knowledge", "--haproxy-protocol"]):
        p = ok(ctx.curl(*opts, "-i", SF + "/pk", cfg=cfg))
        out = p.stdout.decode()
        assert out.startswith("HTTP/1.1 429 Too Many Requests\r\n") and '"sent":false' in out, (opts, out)
    script = ("import io, pycurl, sys\n"
              "c = pycurl.Curl(); c.setopt(pycurl.URL, sys.argv[1]); c.setopt(pycurl.WRITEDATA, io.BytesIO())\n"
              "c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)\n"
              "c.setopt(pycurl.HAPROXYPROTOCOL, 1)\n"
              "c.perform(); print(c.getinfo(pycurl.RESPONSE_CODE), c.getinfo(pycurl.INFO_HTTP_VERSION))\n")
    p = ok(ctx.run([PY, "-c", script, SF + "/py-pk"], cfg=cfg))
    assert p.stdout.split() == [b"429", b"2"], (p.stdout, p.stderr)  # 2: CURL_HTTP_VERSION_1_1
    assert ctx.proxy.requests() == []


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


@test
def respond_blocked_call_logs_one_true_line(ctx):
    """At AMPSHIM_LOG=info a blocked call answered here says one line: that
    it was blocked and answered here, and where it was not sent. It never
    says it was routed, nor the address of the local answer as if it had
    gone there (issue 18)."""
    cfg = blocked_cfg(ctx, "respond-log", seconds=60, on_block="")
    url = SF + "/services/data/v56.0/query?q=log"
    for n in range(2):  # the block's first sighting (a warning), then a later call (info)
        p = ok(ctx.curl("-o", "/dev/null", "-w", "%{http_code}", url, cfg=cfg,
                        env=ctx.env(AMPSHIM_LOG="info")))
        assert p.stdout == b"429", p
        lines = [l for l in p.stderr.decode().splitlines() if l.startswith("ampshim")]
        ours = [l for l in lines if "salesforce" in l]
        assert len(ours) == 1, lines
        assert "answered here with HTTP 429, not sent" in ours[0] and " until " in ours[0], ours
        assert not any("127.0.0.1" in l or "->" in l for l in lines), lines
    assert ctx.proxy.requests() == []
    # In one process: a call routed (said, with the proxy's address), the
    # 429 it gets, then the same URL blocked: nothing more of the route.
    cfg, _ = rl_cfg(ctx, "respond-log-one", on_block="")
    queue_429(ctx, http_date(int(time.time()) + 60), "true")
    code = ("import sys, pycurl\n"
            "c = pycurl.Curl(); c.setopt(c.URL, sys.argv[1]); c.setopt(c.WRITEFUNCTION, len)\n"
            "for i in range(2):\n"
            "    c.perform(); print(c.getinfo(c.RESPONSE_CODE))\n")
    p = ok(ctx.run([PY, "-c", code, url], cfg=cfg, env=ctx.env(AMPSHIM_LOG="info")))
    assert p.stdout.split() == [b"429", b"429"], p
    lines = [l for l in p.stderr.decode().splitlines() if l.startswith("ampshim")]
    said = [l for l in lines if "->" in l]
    assert len(said) == 1 and " -> " + ctx.proxy.url() in said[0], lines
    assert "answered 429" in lines[lines.index(said[0]) + 1], lines
    assert lines[-1].endswith("answered here with HTTP 429, not sent"), lines
    assert len(ctx.proxy.requests()) == 1
