"""Routing, through the curl CLI: a URL a route matches goes to the proxy with
the rest of its path and its query byte for byte, the verb and the body
untouched; every other URL (a look-alike host, another path, plain http)
goes where the application sent it, with nothing of ours."""

import os

from .harness import (
    SF, assert_amp_headers, assert_untouched, body_of, header_values, mark_all, ok, one, test,
)


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
def curl_percent_encoded_unreserved_path_routed(ctx):
    """RFC 3986 §6.2.2.2: /%61%70i is /api to the provider, so the route on
    /api takes it; the proxy gets the rest of the path and the query as the
    application wrote them (escapes kept)."""
    mark_all(ctx)
    ok(ctx.curl("https://slack.com/%61%70i/chat.%70ostMessage/%7euser?q=%61"))
    req = one(ctx.proxy)
    assert req["method"] == "GET"
    assert req["target"] == "/chat.%70ostMessage/%7euser?q=%61", req["target"]
    assert_amp_headers(req, integration="slack-main", group="grp-42")
    assert ctx.plain.requests() == [] and ctx.tls.requests() == []


@test
def curl_percent_encoded_reserved_path_not_routed(ctx):
    """%2F is not '/' (a reserved character escaped keeps its meaning):
    /api%2Fx is not under /api, and goes out as written, with nothing of ours."""
    mark_all(ctx)
    ok(ctx.curl("-k", "--connect-to", "::127.0.0.1:%d" % ctx.tls.port,
                "https://slack.com/api%2Fchat.postMessage"))
    req = one(ctx.tls)
    assert req["target"] == "/api%2Fchat.postMessage", req["target"]
    assert_untouched(req)
    assert ctx.proxy.requests() == []


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
