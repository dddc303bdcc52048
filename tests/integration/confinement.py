"""The key goes to the proxy and nowhere else: never in a log or in verbose
output (masked), not to a unix socket, another address, a DoH resolver or
the application's own HTTP proxy, only to a proxy whose certificate was
checked; and redirects (off the proxy without our headers, back onto a route
through the proxy, a POST not sent again as a GET)."""

import os
import time

from .harness import (
    KEY, PY, SF, H2Proxy, assert_amp_headers, assert_untouched, body_of, client, header_values, mark_all,
    ok, one, parse_lines, prog, test,
)


@test
def curl_key_never_logged(ctx):
    mark_all(ctx)
    p = ok(ctx.curl(SF + "/x", env=ctx.env(AMPSHIM_LOG="debug")))
    err = p.stderr.decode()
    assert "route https://*.my.salesforce.com" in err, err
    assert KEY not in err and KEY not in p.stdout.decode()
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


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
        # The same, from an entry the name cache keeps for the proxy's own
        # address: an unrouted transfer first loads "127.0.0.1:PORT" ->
        # 127.0.0.2 (another local server on the proxy's port), and the routed
        # one after it (its own RESOLVE set aside) found it there. It is not
        # sent at all.
        twin = sk.socket(sk.AF_INET, sk.SOCK_STREAM)
        twin.bind(("127.0.0.2", ctx.proxy.port))
        twin.listen(8)
        try:
            mark_all(ctx)
            p = ctx.curl("--resolve", "127.0.0.1:%d:127.0.0.2" % ctx.proxy.port, "-m", "5",
                         "-o", "/dev/null", ctx.plain.url("/unrouted"), "-o", "/dev/null", SF + "/cached")
            drain(twin)
            assert not any(KEY.encode() in b for b in seen), seen
            err = p.stderr.decode()
            assert "led to 127.0.0.2, not the proxy's own address: not sent" in err, err
            assert ctx.proxy.requests() == []
        finally:
            twin.close()
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
    """Over HTTP/2 (to an https proxy: a plain-http relay is reached in
    HTTP/1.1) libcurl lists the request headers as text lines: masked too."""
    h2 = H2Proxy(ctx)
    try:
        p = ctx.curl("-v", "--cacert", h2.cert, "--http2-prior-knowledge", "-o", "/dev/null", SF + "/h2",
                     cfg=h2.cfg(ctx, "h2-mask"))
    finally:
        h2.close()
    err = p.stderr.decode()
    assert "h2h3 [x-api-key: " in err, err  # the headers were shown, as HTTP/2 lists them
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


# The numbers of a program's connections to the proxy (port), for the scripts below.
TO_PROXY = """import os, pycurl, socket, sys
def to_proxy(port):
    found = []
    for f in range(3, 64):
        try:
            x = socket.fromfd(f, socket.AF_INET, socket.SOCK_STREAM)
        except OSError:
            continue
        try:
            if x.getpeername()[1:2] == (port,):
                found.append(f)
        except OSError:
            pass
        x.close()
    return found
"""


DAEMON = TO_PROXY + """import resource
url, port, how, proxy = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
c = pycurl.Curl(); c.setopt(pycurl.URL, url); c.setopt(pycurl.WRITEFUNCTION, lambda b: None)
c.setopt(pycurl.FOLLOWLOCATION, how == "follow"); c.setopt(pycurl.VERBOSE, how == "verbose")
m = pycurl.CurlMulti()
# One connection kept: the one on a number the program took is closed as the next is made.
c.setopt(pycurl.MAXCONNECTS, 1); m.setopt(pycurl.M_MAXCONNECTS, 1)
if how == "share":  # the later transfers on another handle, sharing the connections
    sh = pycurl.CurlShare(); sh.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_CONNECT)
    c2 = pycurl.Curl(); c2.setopt(pycurl.URL, url); c2.setopt(pycurl.WRITEFUNCTION, lambda b: None)
    c.setopt(pycurl.SHARE, sh); c2.setopt(pycurl.SHARE, sh)
def go():
    if how != "multi":
        return c.perform()
    m.add_handle(c); n = 1
    while n:
        n = m.perform()[1]; m.select(1.0)
    m.remove_handle(c)
def files():  # "high": libcurl's socket and the program's own above number 64 ("huge": 4096)
    return [os.open("/dev/null", os.O_RDONLY) for _ in range({"high": 100, "huge": 4100}.get(how, 0))]
if how == "huge":
    resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
files()
go()
if how == "fork":  # a daemon's fork: the child goes on with libcurl's kept connection
    pid = os.fork()
    if pid:
        os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
if how == "dup2":
    # Its own connection put over every number it did not open (dup2
    # replaces at once: no moment where the number is free).
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
    mine, kept = {s.fileno() for s in socks}, to_proxy(proxy)
    for f in range(3, 64):
        if f not in mine:
            try:
                os.fstat(f)
            except OSError:
                continue
            os.dup2(socks[0].fileno(), f)
    if len(kept) != 1:  # libcurl's kept connection was among them
        sys.exit("dup2: %d connections to the proxy replaced" % len(kept))
else:
    os.closerange(3, 8192)  # a daemon's, libcurl's connection to the proxy among them
    files()
    # The program's own connections (to another host) take the numbers libcurl still holds.
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
if how == "share":  # (the first handle kept: its cleanup would close its own, closed, numbers)
    first, c = c, c2
for _ in range(3):
    go()
    print(c.getinfo(pycurl.RESPONSE_CODE))
for s in socks:
    s.send(b"GET /own HTTP/1.0\\r\\n\\r\\n")  # still the program's: ampshim closed none of them
"""


@test
def daemon_closing_descriptors_never_sends_the_key_elsewhere(ctx):
    """A daemon closes every descriptor between transfers (libcurl's kept
    connection to the proxy among them) and opens connections of its own to
    another host, which get the numbers libcurl still holds: the next routed
    transfers go to the proxy on a new connection, never on the program's
    (easy lean, followed, verbose, multi, numbers above 64, in a forked
    child, on another handle sharing the connections); the same when it puts its own connection over every other
    number with dup2, libcurl's among them; and its sockets stay open."""
    for how in ("lean", "follow", "verbose", "multi", "high", "huge", "fork", "share", "dup2"):
        mark_all(ctx)
        p = ok(ctx.run([PY, "-c", DAEMON, SF + "/daemon/" + how, str(ctx.plain.port), how,
                        str(ctx.proxy.port)]), how)
        assert p.stdout.split() == [b"200"] * 3, (how, p.stdout, p.stderr)
        assert [r["target"] for r in ctx.proxy.requests()] == ["/daemon/" + how] * 4, how
        time.sleep(0.2)  # the program's own requests, logged as they are read
        own = ctx.plain.requests()
        assert [r["target"] for r in own] == ["/own"] * 8, (how, own)
        for r in own:
            assert_untouched(r)
        assert KEY.encode() not in p.stderr, p.stderr


LATE = TO_PROXY + """
url, port, how, proxy = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
socks = []
def take():  # the program's own connection to another host put over libcurl's to the proxy
    s = socket.create_connection(("127.0.0.1", port)); socks.append(s)
    kept = to_proxy(proxy)
    if len(kept) != 1:
        sys.exit("%s: %d connections to the proxy" % (how, len(kept)))
    os.dup2(s.fileno(), kept[0])
c = pycurl.Curl(); c.setopt(pycurl.WRITEFUNCTION, lambda b: None); c.setopt(pycurl.MAXCONNECTS, 1)
if how == "unrouted":  # the program's own request to the proxy's address: a connection not ours
    c.setopt(pycurl.URL, "http://127.0.0.1:%d/health" % proxy); c.perform(); take()
c.setopt(pycurl.URL, url)
if how == "added":
    m = pycurl.CurlMulti(); m.setopt(pycurl.M_MAXCONNECTS, 1)
    def run():
        m.add_handle(c); n = 1
        while n:
            n = m.perform()[1]; m.select(1.0)
        done = m.info_read()
        m.remove_handle(c)
        return done[2][0][1:] if done[2] else (0, "")
    print(run(), c.getinfo(pycurl.RESPONSE_CODE))
    m.add_handle(c)  # added, then its connection taken before the multi handle runs it
    take()
    n = 1
    while n:
        n = m.perform()[1]; m.select(1.0)
    done = m.info_read()
    print(done[2][0][1:] if done[2] else "sent")
    m.remove_handle(c)
else:
    if how == "progress":  # taken from the program's own callback, inside the perform
        def progress(*a):
            if armed and not socks:
                take()
        armed = False
        c.setopt(pycurl.NOPROGRESS, 0); c.setopt(pycurl.XFERINFOFUNCTION, progress)
        c.perform(); armed = True
    c.perform()
for _ in range(2):
    c.perform()
    print(c.getinfo(pycurl.RESPONSE_CODE))
for s in socks:
    s.send(b"GET /own HTTP/1.0\\r\\n\\r\\n")  # still the program's: ampshim closed none
"""


@test
def connection_taken_after_the_check_never_gets_the_key(ctx):
    """libcurl's kept connection to a plain-http relay taken by the program
    later than a transfer's start: after the transfer was added to a multi
    handle, from the program's own progress callback inside the perform; or
    a connection to the relay's address that libcurl made for the program's
    own unrouted request and reuses for a routed one. A routed request goes
    out only on a socket of ours, as libcurl is about to send it: the
    perform sends it on a new connection, an added multi transfer fails
    with a message; the program's socket gets nothing and stays open."""
    for how in ("added", "progress", "unrouted"):
        mark_all(ctx)
        p = ok(ctx.run([PY, "-c", LATE, SF + "/late/" + how, str(ctx.plain.port), how,
                        str(ctx.proxy.port)]), how)
        out = p.stdout.decode().splitlines()
        if how == "added":
            assert out[0] == "(0, '') 200", out
            assert out[1].startswith("(55, ") and ("ampshim: the connection libcurl kept to the plain-http "
                                                   "proxy is not ampshim's socket any more") in out[1], out
        assert out[-2:] == ["200", "200"], (how, out, p.stderr)
        targets = [r["target"] for r in ctx.proxy.requests()]
        assert targets == ["/health"] * (how == "unrouted") + ["/late/" + how] * (4 if how == "progress" else 3), \
            (how, targets)
        time.sleep(0.2)  # the program's own request, logged as it is read
        own = ctx.plain.requests()
        assert [r["target"] for r in own] == ["/own"], (how, own)
        assert_untouched(own[0])
        assert KEY.encode() not in p.stderr, p.stderr
    # A health check of the relay's own, then a routed call, in one multi handle: the routed
    # call does not fail for the program's connection libcurl keeps (it takes a new one).
    mark_all(ctx)
    p = ok(ctx.curl("-Z", "--parallel-max", "1", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} ",
                    "http://127.0.0.1:%d/health" % ctx.proxy.port, SF + "/late/health"))
    assert p.stdout == b"400 200 ", p.stdout
    assert [r["target"] for r in ctx.proxy.requests()] == ["/health", "/late/health"]


ALIAS = TO_PROXY + """
url, port, proxy = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def handle():
    c = pycurl.Curl(); c.setopt(pycurl.URL, url); c.setopt(pycurl.WRITEFUNCTION, lambda b: None)
    return c
def fill(upto):  # the free numbers below upto taken
    while os.open("/dev/null", os.O_RDONLY) < upto - 1:
        pass
c1, c2 = handle(), handle()
c1.perform(); c2.perform()  # each keeps a connection to the proxy: numbers a and b
a, b = to_proxy(proxy)
os.closerange(3, 1024)
fill(a)
socks = [socket.create_connection(("127.0.0.1", port))]  # the program's own on a: the next is a new connection
fill(b)
c2.setopt(pycurl.FORBID_REUSE, 1)
c2.perform()  # a new connection, on b if it may (which c2's kept one still holds), closed after it
c1.close()
while socks[-1].fileno() < b:  # the program's own, up to b
    socks.append(socket.create_connection(("127.0.0.1", port)))
assert socks[0].fileno() == a and socks[-1].fileno() == b, (a, b, [x.fileno() for x in socks])
c2.setopt(pycurl.FORBID_REUSE, 0)
c2.perform()  # c2's kept connection is on the program's socket b
print(c2.getinfo(pycurl.RESPONSE_CODE))
for x in socks:
    x.send(b"GET /own HTTP/1.0\\r\\n\\r\\n")
"""


@test
def a_new_connection_on_a_kept_ones_number_never_sends_the_key_elsewhere(ctx):
    """A new connection to the proxy never takes the number of one libcurl
    keeps whose socket the program closed: two connections on one number,
    the close of one (FORBID_REUSE) took the socket and the record of the
    other, which was then reused on the program's own connection to another
    host, the key in it."""
    mark_all(ctx)
    p = ok(ctx.run([PY, "-c", ALIAS, SF + "/alias", str(ctx.plain.port), str(ctx.proxy.port)]))
    time.sleep(0.2)  # the program's own requests, logged as they are read
    own = ctx.plain.requests()
    for r in own:
        assert_untouched(r)
    assert own and [r["target"] for r in own] == ["/own"] * len(own), own
    assert p.stdout.split() == [b"200"], (p.stdout, p.stderr)
    assert [r["target"] for r in ctx.proxy.requests()] == ["/alias"] * 4
