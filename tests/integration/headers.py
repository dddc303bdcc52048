"""The request headers the proxy gets: ours (the application's own of the same
names replaced, x-amp-rate-limiter-mode only when set), drop_headers (the
application's and libcurl's own), and the Host header, always the proxy's
(curl -H, PHP set up as Guzzle does, HTTP/2's :authority)."""

import json
import os

from .harness import (
    FFI, SF, H2Proxy, assert_amp_headers, body_of, ffi_rows, header_values, mark_all, ok, one, test,
)


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
def curl_without_rate_limiter_mode(ctx):
    cfg = ctx.write_cfg("nomode.cfg", ctx.config(mode=""))
    mark_all(ctx)
    ok(ctx.curl(SF + "/z", cfg=cfg))
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1", mode=None)


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
    # HTTP/2 (an https proxy's, by ALPN): the :authority libcurl lists is the proxy's too.
    h2 = H2Proxy(ctx)
    try:
        p = ctx.curl("-v", "--cacert", h2.cert, "--http2", "-H", "Host: acme.my.salesforce.com",
                     "-o", "/dev/null", SF + "/h2host", cfg=h2.cfg(ctx, "h2-host"))
    finally:
        h2.close()
    err = p.stderr.decode()
    assert ":authority: 127.0.0.1:%d" % h2.port in err and "acme.my.salesforce.com]" not in err, err


@test
def handles_made_per_request_with_lists_and_urls_past_their_rooms(ctx):
    """PHP's way (a handle per request), pycurl here: header lists of 2, then
    14 lines (past the 12 a handle's entry holds ours in), URLs of 40 bytes
    and of 700 (past the 256 its entry holds them in), alternating on new
    handles and then on one handle: every request reaches the proxy with
    exactly the application's lines, ours once, and its own path."""
    mark_all(ctx)
    prog = (
        "import pycurl, io, sys\n"
        "sf = sys.argv[1]\n"
        "def go(c, i, n, long):\n"
        "    path = '/r%d/' % i + ('p' * 700 if long else 'x')\n"
        "    c.setopt(pycurl.URL, sf + path + '?q=%d' % i)\n"
        "    c.setopt(pycurl.HTTPHEADER, ['X-L%d-%d: v' % (i, k) for k in range(n)])\n"
        "    c.setopt(pycurl.WRITEDATA, io.BytesIO())\n"
        "    c.perform()\n"
        "    return c.getinfo(pycurl.RESPONSE_CODE)\n"
        "codes = []\n"
        "for i in range(8):\n"
        "    c = pycurl.Curl(); codes.append(go(c, i, 14 if i % 2 else 2, i % 4 >= 2)); c.close()\n"
        "one = pycurl.Curl()\n"
        "for i in range(8, 16):\n"
        "    codes.append(go(one, i, 14 if i % 2 else 2, i % 4 >= 2))\n"
        "print(codes)\n")
    p = ok(ctx.run(["/usr/bin/python3", "-c", prog, SF]))
    assert p.stdout.decode().strip() == str([200] * 16), (p.stdout, p.stderr)
    reqs = ctx.proxy.requests()
    assert len(reqs) == 16, reqs
    for i, req in enumerate(reqs):
        n, long = (14 if i % 2 else 2), i % 4 >= 2
        assert req["target"] == "/r%d/%s?q=%d" % (i, "p" * 700 if long else "x", i), req["target"][:80]
        assert_amp_headers(req, installation="inst-sf-1")
        mine = [h for h in req["headers"] if h[0].lower().startswith("x-l")]
        assert mine == [["X-L%d-%d" % (i, k), "v"] for k in range(n)], (i, mine)
