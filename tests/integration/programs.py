"""Real programs other than the curl CLI, each routed through the easy
interface: pycurl, PHP's curl extension, git's HTTPS transport, R (its curl
package, httr and download.file, easy and multi), and our own C client
(several performs on one handle, a streamed upload)."""

import os
import re
import shutil
import subprocess
import time

from .harness import (
    PY, SF, Skip, assert_amp_headers, assert_untouched, body_of, client, header_values, http_date,
    mark_all, ok, one, queue_429, rl_cfg, test,
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


# R, as a data-science worker uses it: the curl package (curl_fetch_memory, and a pool run by
# multi_run), httr on top of it, and base R's download.file, which drives libcurl's multi
# interface itself. One line of output per call: what the application saw.
R_PROG = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressMessages({ library(curl); library(httr) })
h <- new_handle()
handle_setheaders(h, "X-From" = "r-curl")
r <- curl_fetch_memory(args[1], handle = h)
cat("curl", r$status_code, r$url, "\n")
r <- POST(args[2], body = "a=1&b=2", encode = "raw", add_headers("X-From" = "httr"))
cat("httr", status_code(r), r$url, headers(r)[["retry-after"]], "\n")
f <- tempfile()
got <- tryCatch(download.file(args[3], f, method = "libcurl", quiet = TRUE),
                warning = function(w) conditionMessage(w))
cat("download.file", got, "\n")
pool <- new_pool()
for (u in args[c(1, 4)])
    curl_fetch_multi(u, pool = pool, done = function(res) cat("multi", res$status_code, res$url, "\n"),
                     fail = function(e) cat("multi failed", e, "\n"))
invisible(multi_run(pool = pool))
"""


def r_with_packages():
    if not shutil.which("Rscript") or subprocess.run(
            ["Rscript", "-e", "library(curl); library(httr)"], capture_output=True).returncode != 0:
        raise Skip("R with its curl and httr packages is not installed")


@test
def r_curl_httr_download_file_routed(ctx):
    r_with_packages()
    mark_all(ctx)
    limits, post = SF + "/services/data/v56.0/limits", "https://slack.com/api/chat.postMessage"
    query = SF + "/services/data/v56.0/query?q=SELECT+Id"
    p = ok(ctx.run(["Rscript", "-e", R_PROG, limits, post, query, ctx.plain.url("/r-left-alone")]), "Rscript")
    lines = sorted(p.stdout.decode().splitlines())
    # The application sees its own URLs, and every call answered.
    assert lines == sorted(["curl 200 %s " % limits, "httr 200 %s " % post, "download.file 0 ",
                            "multi 200 %s " % limits, "multi 200 %s " % ctx.plain.url("/r-left-alone")]), lines
    reqs = sorted(ctx.proxy.requests(), key=lambda r: (r["method"], r["target"]))
    assert [(r["method"], r["target"]) for r in reqs] == [
        ("GET", "/services/data/v56.0/limits"), ("GET", "/services/data/v56.0/limits"),
        ("GET", "/services/data/v56.0/query?q=SELECT+Id"), ("POST", "/chat.postMessage")], reqs
    for r in reqs:
        if r["target"] == "/chat.postMessage":
            assert_amp_headers(r, integration="slack-main", group="grp-42")
            assert body_of(r) == b"a=1&b=2" and header_values(r, "X-From") == ["httr"]
        else:
            assert_amp_headers(r, installation="inst-sf-1")
    assert sum(header_values(r, "X-From") == ["r-curl"] for r in reqs) == 1
    assert_untouched(one(ctx.plain))


@test
def r_blocked_call_answered_as_the_proxys_429(ctx):
    """After the proxy's 429, a later R process is answered here, as the proxy would have:
    httr sees 429 and Retry-After, download.file what it does with the proxy's own 429."""
    r_with_packages()
    cfg, _ = rl_cfg(ctx, "rl-r", on_block=None)
    queue_429(ctx, http_date(int(time.time()) + 60), "true")
    mark_all(ctx)
    ok(ctx.run(["Rscript", "-e", "invisible(curl::curl_fetch_memory('%s'))" % (SF + "/x")], cfg=cfg))
    assert len(ctx.proxy.requests()) == 1
    mark_all(ctx)
    p = ok(ctx.run(["Rscript", "-e", R_PROG, SF + "/services/data/v56.0/limits", SF + "/services/data/v56.0/sobjects",
                    SF + "/y", ctx.plain.url("/r-left-alone")], cfg=cfg), "Rscript")
    lines = p.stdout.decode().splitlines()
    assert lines[0] == "curl 429 %s/services/data/v56.0/limits " % SF, lines
    # httr reads the seconds to wait (the proxy's X-Amp-Retry-After, some 60 s away).
    m = re.fullmatch(r"httr 429 %s/services/data/v56.0/sobjects (\d+) " % re.escape(SF), lines[1])
    assert m and 50 <= int(m.group(1)) <= 61, lines
    # FAILONERROR: no body written, and R says so, as it does for the proxy's own 429.
    assert lines[2].startswith("download.file downloaded length 0 != reported length"), lines
    assert sorted(lines[3:]) == ["multi 200 %s " % ctx.plain.url("/r-left-alone"),
                                 "multi 429 %s/services/data/v56.0/limits " % SF], lines
    assert ctx.proxy.requests() == []
    assert_untouched(one(ctx.plain))
