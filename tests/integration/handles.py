"""A handle across transfers, the way a long-lived program uses it: ampshim's
options stay on a handle between routed transfers (src/options.c), so every
place the application could tell is tested: an unrouted transfer after a
routed one, options changed in between, a header list changed in place,
verbose output and redirects turned on and off, a duplicate made after a
routed transfer, CURLINFO_EFFECTIVE_URL; and the application's protocol
options that are for the provider's side, not the hop to the proxy (a PROXY
protocol line, HTTP/2 by prior knowledge), as they arrive, byte for byte."""

import os
import re
import socket
import threading
import time

from .harness import (
    BUILD, KEY, PROJECT, PY, SF, Server, assert_amp_headers, assert_untouched, header_values,
    ip_cert, mark_all, ok, one, parse_lines, test,
)


def sticky(ctx, *steps, env=None):
    """tests/clients/sticky_client.c through a script of steps."""
    return ctx.run([os.path.join(BUILD, "sticky_client"), *steps], env=env)


@test
def sticky_routed_then_unrouted_gets_the_apps_options(ctx):
    """A routed transfer, then unrouted ones on the same handle: each finds
    the application's own PORT, SSL verification, NOPROXY, header option and
    callbacks, not ours (which stay on the handle between routed transfers)."""
    mark_all(ctx)
    env = ctx.env(http_proxy=ctx.plain.url(""))
    env.pop("NO_PROXY", None)
    p = sticky(ctx, "callbacks", "verbose=1", "noproxy=", "headeropt=unified", "insecure=1",
               "port=%d" % ctx.tls.port, "header=X-App: 1",
               "url=" + SF + "/first", "perform",
               "url=https://127.0.0.1/second", "perform",
               "port=0", "url=http://unrouted.test/third", "perform",
               "url=" + SF + "/fourth", "perform", env=env)
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 4, (rows, p.stderr)
    assert [r["status"] for r in rows] == ["200"] * 4, rows
    assert [r["url"] for r in rows] == [SF + "/first", "https://127.0.0.1/second",
                                        "http://unrouted.test/third", SF + "/fourth"], rows
    for r in rows:
        assert int(r["hdrlines"]) > 2 and int(r["debug"]) > 2 and r["data_ok"] == "1", r
    assert [r["target"] for r in ctx.proxy.requests()] == ["/first", "/fourth"]
    for r in ctx.proxy.requests():
        assert_amp_headers(r, installation="inst-sf-1")
    # The application's port and its -k, given back: the self-signed upstream reached.
    req = one(ctx.tls)
    assert req["target"] == "/second", req
    assert_untouched(req)
    # Its NOPROXY "" (not our "*"): through its own http_proxy.
    req = one(ctx.plain)
    assert req["target"] == "http://unrouted.test/third", req
    assert_untouched(req)
    err = p.stderr.decode()
    assert KEY not in err and "x-amp-installation-id: inst-sf-1" in err, err


@test
def sticky_options_changed_between_transfers(ctx):
    """Options changed between routed transfers take effect: a header list
    changed in place, verbose on then off, redirects followed then not, a
    duplicate made after a routed transfer."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 200},
                                {"status": 200},
                                {"status": 302, "headers": {"Location": "https://slack.com/api/next"}, "body": "moved"}])
    p = sticky(ctx, "header=X-App: one", "url=" + SF + "/a", "perform",
               "inplace=X-App: two", "verbose=1", "perform",
               "verbose=0", "follow=1", "url=" + SF + "/b", "perform",
               "follow=0", "url=" + SF + "/c", "perform",
               "dup", "url=" + ctx.plain.url("/plain"), "dup", "perform")
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 7, (rows, p.stderr)
    assert [r["url"] for r in rows][:4] == [SF + "/a", SF + "/a", SF + "/b", SF + "/c"], rows
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/a", "/a", "/b", "/next", "/c", "/c"], reqs
    assert [header_values(r, "X-App") for r in reqs] == [["one"], ["two"], ["two"], ["two"], ["two"], ["two"]], reqs
    for i, r in enumerate(reqs):
        if r["target"] == "/b":
            assert header_values(r, "x-amp-installation-id") == ["inst-sf-1"], r
        elif r["target"] == "/next":
            assert_amp_headers(r, integration="slack-main", group="grp-42")
        else:
            assert_amp_headers(r, installation="inst-sf-1")
    # Verbose for the second transfer only, the key masked.
    err = p.stderr.decode()
    assert err.count("GET /a HTTP/1.1") == 1 and "GET /b" not in err and KEY not in err, err
    plain = ctx.plain.requests()
    assert [r["target"] for r in plain] == ["/plain", "/plain"], plain
    for r in plain:
        assert_untouched(r)
        assert header_values(r, "X-App") == ["two"], r


@test
def sticky_header_list_grown_past_four_lines_and_set_short_again(ctx):
    """The list a handle's header list is checked against holds four lines
    in the handle's entry and more elsewhere: a list grown in place from
    three lines to six, then replaced by one of a line, then grown again,
    goes out line for line each time, ours added once."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    p = sticky(ctx, "header=X-L1: a", "append=X-L2: b", "append=X-L3: c", "url=" + SF + "/a",
               "perform", "append=X-L4: d", "append=X-L5: e", "append=X-L6: f", "url=" + SF + "/a",
               "perform", "perform", "header=X-L1: z", "url=" + SF + "/a", "perform",
               "append=X-L2: y", "append=X-L3: x", "append=X-L4: w", "append=X-L5: v",
               "url=" + SF + "/a", "perform")
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 5, (rows, p.stderr)
    reqs = ctx.proxy.requests()
    assert len(reqs) == 5, reqs
    want = [list("abc"), list("abcdef"), list("abcdef"), list("z"), list("zyxwv")]
    for r, lines in zip(reqs, want):
        got = [header_values(r, "X-L%d" % i) for i in range(1, 7)]
        assert got == [[v] for v in lines] + [[]] * (6 - len(lines)), (got, r)
        assert_amp_headers(r, installation="inst-sf-1")


@test
def sticky_header_list_grown_in_place(ctx):
    """A handle sent again as it was last (ampshim's short way) still sees
    its header list grow: a line appended to the list libcurl holds, not set
    again, goes out with the next request, as libcurl alone would send it;
    and a line rewritten in place after that, too."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    p = sticky(ctx, "header=X-App: one", "url=" + SF + "/a", "perform", "perform",
               "append=X-More: two", "url=" + SF + "/a", "perform",
               "inplace=X-App: six", "perform")
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0"] * 4, (rows, p.stderr)
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/a"] * 4, reqs
    assert [header_values(r, "X-App") for r in reqs] == [["one"], ["one"], ["one"], ["six"]], reqs
    assert [header_values(r, "X-More") for r in reqs] == [[], [], ["two"], ["two"]], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")


@test
def sticky_multi_options_changed_after_add(ctx):
    """A transfer added to a multi handle reads its options only when the
    multi handle first drives it: a routed transfer whose URL or port the
    application changes in between is routed again, so nothing of ours goes
    where the new value leads; its own URL is what CURLINFO_EFFECTIVE_URL
    says even before curl_multi_info_read."""
    mark_all(ctx)
    p = sticky(ctx, "url=" + SF + "/first", "madd", "url=" + ctx.plain.url("/plain-after-add"), "mrun",
               "url=" + SF + "/second", "madd", "url=" + SF + "/routed-after-add", "mrun",
               "url=" + SF + "/third", "madd", "port=%d" % ctx.plain.port, "mrun")
    rows = parse_lines(p.stdout)
    assert [r["rc"] for r in rows] == ["0", "0", "0"], (rows, p.stderr)
    assert [r["url"] for r in rows] == [ctx.plain.url("/plain-after-add"), SF + "/routed-after-add",
                                        SF + "/third"], rows
    plain = ctx.plain.requests()
    assert [r["target"] for r in plain] == ["/plain-after-add"], plain
    assert_untouched(plain[0])
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/routed-after-add", "/third"], reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")


@test
def sticky_redirect_url_is_the_providers(ctx):
    """A redirect the application does not follow: CURLINFO_REDIRECT_URL names
    the provider's URL it leads to (the proxy's path mapped back through the
    route), so a program that follows it by hand is routed again."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [
        {"status": 302, "headers": {"Location": "/services/data/next?page=2"}, "body": "moved"},
        {"status": 302, "headers": {"Location": "/chat.next"}, "body": "moved"}])
    p = sticky(ctx, "url=" + SF + "/services/data/first", "perform",
               "url=https://slack.com/api/chat.first", "perform",
               "url=" + SF + "/services/data/next?page=2", "perform")
    rows = parse_lines(p.stdout)
    assert [r["status"] for r in rows] == ["302", "302", "200"], (rows, p.stderr)
    assert [r["redirect"] for r in rows] == [SF + "/services/data/next?page=2",
                                             "https://slack.com/api/chat.next", "-"], rows
    assert [r["url"] for r in rows] == [SF + "/services/data/first", "https://slack.com/api/chat.first",
                                        SF + "/services/data/next?page=2"], rows
    assert [r["target"] for r in ctx.proxy.requests()] == ["/services/data/first", "/chat.first",
                                                          "/services/data/next?page=2"]


class Wire:
    """A loopback listener in this process keeping, byte for byte, what each
    connection to it sent: it answers each request itself (200 "ok",
    Connection: close), or, given a port, passes every byte on to that
    server and back (a tee in front of the mock proxy)."""

    def __init__(self, to_port=None):
        self.to_port, self.got = to_port, []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            got = bytearray()
            self.got.append(got)
            threading.Thread(target=self._serve if self.to_port is None else self._tee,
                             args=(conn, got), daemon=True).start()

    def _serve(self, conn, got):
        conn.settimeout(5)
        try:
            while b"\r\n\r\n" not in got:
                data = conn.recv(65536)
                if not data:
                    return
                got += data
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass
        finally:
            conn.close()

    def _tee(self, conn, got):
        up = socket.create_connection(("127.0.0.1", self.to_port))

        def end(s):
            # shutdown, not close alone: the other thread is blocked in a
            # recv on this socket, which a close from here neither wakes
            # nor lets send its FIN. The proxy closed after an HTTP/1.0
            # answer; the client, never told, sent its next request on the
            # kept connection and waited for an answer that never came (the
            # test hung one run in a dozen under load).
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

        def back():
            try:
                while True:
                    data = up.recv(65536)
                    if not data:
                        break
                    conn.sendall(data)
            except OSError:
                pass
            finally:
                end(conn)
        threading.Thread(target=back, daemon=True).start()
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                got += data
                up.sendall(data)
        except OSError:
            pass
        finally:
            end(up)

    def sent(self):
        """What each connection sent, in the order they came (given a moment to arrive)."""
        time.sleep(0.2)
        return [bytes(g) for g in self.got]

    def close(self):
        self.sock.close()


def proxy_tee(ctx, name):
    """A Wire in front of the mock proxy, and a config whose proxy URL it is."""
    tee = Wire(ctx.proxy.port)
    return tee, ctx.write_cfg(name + ".cfg", ctx.config(proxy_url="http://127.0.0.1:%d" % tee.port))


def proxy_line(port):
    """libcurl's PROXY protocol v1 line for a connection to port on loopback."""
    return re.compile(rb"PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ %d\r\n" % port)


@test
def haproxy_line_only_where_the_application_sends_it(ctx):
    """curl --haproxy-protocol, and pycurl's HAPROXYPROTOCOL on one handle:
    a routed request reaches the proxy (a plain-http relay here, or an https
    proxy) without the PROXY line, which is for the provider's load balancer
    and which the proxy takes for a broken request; our headers are there.
    An unrouted URL on the same handle, after a routed one, still sends it."""
    tee, cfg = proxy_tee(ctx, "haproxy")
    raw = Wire()
    try:
        mark_all(ctx)
        p = ok(ctx.curl("--haproxy-protocol", SF + "/cli", "http://127.0.0.1:%d/cli-own" % raw.port, cfg=cfg))
        assert p.stdout.decode().endswith("ok"), p.stdout
        script = ("import io, pycurl, sys\n"
                  "c = pycurl.Curl(); c.setopt(pycurl.HAPROXYPROTOCOL, 1)\n"
                  "for url in sys.argv[1:]:\n"
                  "    b = io.BytesIO(); c.setopt(pycurl.URL, url); c.setopt(pycurl.WRITEDATA, b)\n"
                  "    c.perform(); print(c.getinfo(pycurl.RESPONSE_CODE))\n")
        own = "http://127.0.0.1:%d/py-own" % raw.port
        p = ok(ctx.run([PY, "-c", script, SF + "/py1", own, SF + "/py2", own], cfg=cfg))
        assert p.stdout.split() == [b"200"] * 4, (p.stdout, p.stderr)
        sent = b"".join(tee.sent())
        assert b"PROXY" not in sent, sent
        assert sent.startswith(b"GET /cli HTTP/1.1\r\n"), sent
        reqs = ctx.proxy.requests()
        assert [r["target"] for r in reqs] == ["/cli", "/py1", "/py2"], reqs
        for r in reqs:
            assert_amp_headers(r, installation="inst-sf-1")
        own_sent = raw.sent()
        assert len(own_sent) == 3, own_sent
        for got, path in zip(own_sent, (b"/cli-own", b"/py-own", b"/py-own")):
            line = proxy_line(raw.port).match(got)
            assert line and got[line.end():].startswith(b"GET %s HTTP/1.1\r\n" % path), got
    finally:
        tee.close()
        raw.close()
    # An https proxy: the line would come before the TLS handshake.
    cert, key = ip_cert(ctx)
    tls = Server(ctx.dir, "tls-proxy", "--project-id", PROJECT, "--api-key", KEY,
                 "--tls-cert", cert, "--tls-key", key)
    try:
        cfg = ctx.write_cfg("haproxy-tls.cfg", ctx.config(proxy_url="https://127.0.0.1:%d" % tls.port))
        ok(ctx.curl("--cacert", cert, "--haproxy-protocol", SF + "/tls", cfg=cfg))
        assert_amp_headers(one(tls), installation="inst-sf-1")
    finally:
        tls.stop()


@test
def http2_prior_knowledge_reaches_a_plain_relay_in_http1(ctx):
    """curl --http2-prior-knowledge, and pycurl's HTTP_VERSION on one handle:
    a plain-http relay is reached in HTTP/1.1 (not the h2c preface, nor an
    h2c upgrade), or in the HTTP/1.0 the application asked for; our headers
    there. An unrouted URL on the same handle gets the preface it asked for."""
    tee, cfg = proxy_tee(ctx, "h2pk")
    raw = Wire()
    try:
        mark_all(ctx)
        ok(ctx.curl("--http2-prior-knowledge", SF + "/cli", cfg=cfg))
        script = ("import io, pycurl, sys\n"
                  "c = pycurl.Curl()\n"
                  "for version, url in zip(sys.argv[1::2], sys.argv[2::2]):\n"
                  "    c.setopt(pycurl.HTTP_VERSION, int(version))\n"
                  "    b = io.BytesIO(); c.setopt(pycurl.URL, url); c.setopt(pycurl.WRITEDATA, b)\n"
                  "    try:\n"
                  "        c.perform(); print(c.getinfo(pycurl.RESPONSE_CODE))\n"
                  "    except pycurl.error as e:\n"
                  "        print('E%d' % e.args[0])\n")
        own = "http://127.0.0.1:%d/own" % raw.port
        p = ok(ctx.run([PY, "-c", script, "5", SF + "/pk", "5", own, "5", SF + "/pk-again",
                        "1", SF + "/one-oh", "3", SF + "/upgrade"], cfg=cfg))
        codes = p.stdout.decode().split()
        assert codes[:1] + codes[2:] == ["200"] * 4 and codes[1].startswith("E"), (p.stdout, p.stderr)
        sent = b"".join(tee.sent())
        assert b"PRI * HTTP/2.0" not in sent and b"h2c" not in sent, sent
        for path, version in ((b"/cli", b"1.1"), (b"/pk", b"1.1"), (b"/pk-again", b"1.1"),
                              (b"/one-oh", b"1.0"), (b"/upgrade", b"1.1")):
            assert b"GET %s HTTP/%s\r\n" % (path, version) in sent, (path, sent)
        reqs = ctx.proxy.requests()
        assert [r["target"] for r in reqs] == ["/cli", "/pk", "/pk-again", "/one-oh", "/upgrade"], reqs
        for r in reqs:
            assert_amp_headers(r, installation="inst-sf-1")
        own_sent = raw.sent()
        assert len(own_sent) == 1 and own_sent[0].startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), own_sent
    finally:
        tee.close()
        raw.close()
