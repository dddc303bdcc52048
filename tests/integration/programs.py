"""Real programs other than the curl CLI, each routed through the easy
interface: pycurl, PHP's curl extension, git's HTTPS transport, and our own
C client (several performs on one handle, a streamed upload)."""

import os

from .harness import (
    PY, SF, assert_amp_headers, assert_untouched, body_of, client, header_values, mark_all, ok,
    one, test,
)


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
