"""A stranger's attempts on the transfer core: handles made and freed per
request on threads (the freed entries reused), options set on one handle
and not the next, duplicates, resets, late options, redirects of every
kind, cookie jars, fork and a daemon closing every descriptor. In each, the
key is looked for in every request the third host received, on the
program's stderr and in every file it wrote."""

import glob
import os
import subprocess

from .harness import KEY, PY, SF, assert_amp_headers, assert_untouched, header_values, mark_all, ok, prog, test


def key_nowhere(ctx, p, files=()):
    for server in (ctx.plain, ctx.tls):
        for r in server.requests():
            assert_untouched(r)
    assert KEY.encode() not in p.stdout, p.stdout[-2000:]
    assert KEY.encode() not in p.stderr, p.stderr[-2000:]
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        assert KEY.encode() not in data, (path, data[-2000:])


def fresh(ctx):
    """Nothing queued on the proxy or the third host by an earlier test."""
    ctx.proxy.control("reset")
    ctx.plain.control("reset")
    mark_all(ctx)


def pyrun(ctx, body, *args):
    script = os.path.join(ctx.dir, "stranger_script.py")
    with open(script, "w") as f:
        f.write("import pycurl, io, os, sys, threading, socket\n" + body)
    return ctx.run([PY, script, *args])


PHP_STYLE = r'''
SF, THIRD, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
errs = []
def opts(c, k):
    if k == 0: c.setopt(pycurl.PORT, PORT)
    elif k == 1: c.setopt(pycurl.CONNECT_TO, ["::127.0.0.1:%d" % PORT])
    elif k == 2: c.setopt(pycurl.RESOLVE, ["acme.my.salesforce.com:443:127.0.0.1"])
    elif k == 3: c.setopt(pycurl.INTERFACE, "lo")
    elif k == 4: c.setopt(pycurl.SSL_VERIFYPEER, 0)
    elif k == 5: c.setopt(pycurl.HAPROXYPROTOCOL, 1)
    elif k == 6: c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
    elif k == 7: c.setopt(pycurl.HTTPHEADER, ["X-A: 1", "X-B: 2", "X-C: 3"])
    elif k == 8: c.setopt(pycurl.VERBOSE, 1)
def work(t):
    for i in range(60):
        c = pycurl.Curl(); b = io.BytesIO()
        routed = (i + t) % 2 == 0
        c.setopt(pycurl.URL, (SF + "/r/%d/%d" % (t, i)) if routed else (THIRD + "/t/%d/%d" % (t, i)))
        c.setopt(pycurl.WRITEDATA, b)
        if routed:
            opts(c, (i // 2 + t) % 10)
        try:
            c.perform()
            code = c.getinfo(pycurl.RESPONSE_CODE)
            if code != 200: errs.append((t, i, routed, code))
        except pycurl.error as e:
            errs.append((t, i, routed, str(e)))
        c.close()
th = [threading.Thread(target=work, args=(t,)) for t in range(6)]
[x.start() for x in th]; [x.join() for x in th]
print("ERRS", errs)
'''


@test
def stranger_php_style_threads_options_on_alternate_handles(ctx):
    """Six threads making a handle per request, alternating a routed origin
    (each with one of PORT, CONNECT_TO, RESOLVE, INTERFACE, VERIFYPEER 0,
    PROXY line, HTTP/2 prior knowledge, headers, VERBOSE) and the third host
    (with none): every routed request at the proxy, every third request
    untouched and as asked, no key anywhere."""
    fresh(ctx)
    p = ok(pyrun(ctx, PHP_STYLE, SF, ctx.plain.url(""), str(ctx.plain.port)))
    assert b"ERRS []" in p.stdout, (p.stdout, p.stderr[-3000:])
    third = ctx.plain.requests()
    assert sorted(r["target"] for r in third) == sorted(
        "/t/%d/%d" % (t, i) for t in range(6) for i in range(60) if (i + t) % 2), len(third)
    assert len(ctx.proxy.requests()) == 180
    for r in third:
        assert [k for k, _ in r["headers"] if k.lower().startswith("x-")] == [], r
    key_nowhere(ctx, p)


@test
def stranger_dup_and_reset_sent_to_the_third_host(ctx):
    """A routed handle with headers, PORT, CONNECT_TO, verbose: its duplicate
    (made before and after the transfer) and the handle itself reset, sent
    to the third host: nothing of ours there, nor on stderr."""
    fresh(ctx)
    body = r'''
SF, THIRD, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = pycurl.Curl(); c.setopt(pycurl.URL, SF + "/dup"); c.setopt(pycurl.WRITEDATA, io.BytesIO())
c.setopt(pycurl.HTTPHEADER, ["X-App: 1"]); c.setopt(pycurl.VERBOSE, 1)
c.setopt(pycurl.CONNECT_TO, ["::127.0.0.1:%d" % PORT])
d0 = c.duphandle()
c.perform()
d1 = c.duphandle()
for d, n in ((d0, 0), (d1, 1)):
    d.setopt(pycurl.URL, THIRD + "/dup%d" % n); d.setopt(pycurl.WRITEDATA, io.BytesIO())
    d.setopt(pycurl.CONNECT_TO, []); d.perform(); print(d.getinfo(pycurl.RESPONSE_CODE))
c.reset(); c.setopt(pycurl.URL, THIRD + "/reset"); c.setopt(pycurl.WRITEDATA, io.BytesIO()); c.perform()
print(c.getinfo(pycurl.RESPONSE_CODE))
c.setopt(pycurl.URL, SF + "/again"); c.perform(); print(c.getinfo(pycurl.RESPONSE_CODE))
'''
    p = ok(pyrun(ctx, body, SF, ctx.plain.url(""), str(ctx.plain.port)))
    assert p.stdout.split() == [b"200"] * 4, p.stdout
    assert [r["target"] for r in ctx.plain.requests()] == ["/dup0", "/dup1", "/reset"]
    assert [r["target"] for r in ctx.proxy.requests()] == ["/dup", "/again"]
    key_nowhere(ctx, p)


@test
def stranger_redirects_every_status_late_follow(ctx):
    """301/302/303/307/308 from the proxy to the third host (absolute), with
    FOLLOWLOCATION and a POST body set after curl_multi_add_handle; then a
    relative one that stays on the routed origin."""
    for status in (301, 302, 303, 307, 308):
        fresh(ctx)
        ctx.proxy.control("queue", {"status": status,
                                    "headers": {"Location": ctx.plain.url("/land%d" % status)}})
        body = r'''
c = pycurl.Curl(); m = pycurl.CurlMulti()
c.setopt(pycurl.URL, sys.argv[1]); c.setopt(pycurl.WRITEDATA, io.BytesIO())
c.setopt(pycurl.POSTFIELDS, "a=b")
m.add_handle(c); c.setopt(pycurl.FOLLOWLOCATION, 1); c.setopt(pycurl.POSTREDIR, 7)
c.setopt(pycurl.HTTPHEADER, ["X-Late: 1"])
n = 1
while n:
    r, n = m.perform(); m.select(1.0)
print(c.getinfo(pycurl.RESPONSE_CODE), c.getinfo(pycurl.EFFECTIVE_URL))
'''
        p = ok(pyrun(ctx, body, SF + "/redir%d" % status))
        assert p.stdout.startswith(b"200 "), (status, p.stdout, p.stderr)
        assert [r["target"] for r in ctx.plain.requests()] == ["/land%d" % status], status
        key_nowhere(ctx, p)
    fresh(ctx)
    ctx.proxy.control("queue", {"status": 302, "headers": {"Location": "/back/here"}})
    p = ok(pyrun(ctx, "c = pycurl.Curl(); c.setopt(pycurl.URL, sys.argv[1]); c.setopt(pycurl.FOLLOWLOCATION, 1)\n"
                 "c.setopt(pycurl.WRITEDATA, io.BytesIO()); c.perform(); print(c.getinfo(pycurl.RESPONSE_CODE))\n",
                 SF + "/rel"))
    assert p.stdout.strip() == b"200", p.stdout
    assert [r["target"] for r in ctx.proxy.requests()] == ["/rel", "/back/here"]
    assert ctx.plain.requests() == []
    key_nowhere(ctx, p)


@test
def stranger_curl_cli_files_hold_no_key(ctx):
    """curl with a cookie jar, -D, -o, --trace, --stderr and -v, the proxy
    setting a cookie and redirecting to the third host: no file holds the key."""
    fresh(ctx)
    ctx.proxy.control("queue", {"status": 302, "headers": {"Location": ctx.plain.url("/cli"),
                                                           "Set-Cookie": "sid=abc; Path=/"}})
    d = ctx.dir
    p = ctx.curl("-L", "-v", "-c", d + "/jar.txt", "-b", "", "-D", d + "/hdr.txt", "-o", d + "/out.bin",
                 "--trace", d + "/trace.txt", SF + "/cli", "-o", d + "/out2.bin", SF + "/cli2",
                 "--stderr", d + "/err.txt")
    ok(p)
    files = [d + "/" + n for n in ("jar.txt", "hdr.txt", "out.bin", "out2.bin", "trace.txt", "err.txt")]
    assert b"x-api-key" in open(d + "/trace.txt", "rb").read().lower()
    key_nowhere(ctx, p, files)


@test
def stranger_fork_both_perform(ctx):
    """Transfers, fork, both processes perform routed and third-host
    transfers on new and old handles. The parent waits for its child
    first: the old handle's kept connection is both processes' after the
    fork, and two processes writing requests into one connection each
    read what answers come first (so with libcurl alone: a program's
    race, which once made this test hang one run in twenty)."""
    fresh(ctx)
    body = r'''
SF, THIRD = sys.argv[1], sys.argv[2]
def go(c, u):
    c.setopt(pycurl.URL, u); c.setopt(pycurl.WRITEDATA, io.BytesIO()); c.perform()
    return c.getinfo(pycurl.RESPONSE_CODE)
old = pycurl.Curl(); old.setopt(pycurl.HTTPHEADER, ["X-O: 1"]); go(old, SF + "/pre")
pid = os.fork()
who = "child" if pid == 0 else "parent"
if pid != 0:
    os.waitpid(pid, 0)
codes = [go(old, SF + "/" + who + "1"), go(old, THIRD + "/" + who + "1"),
         go(pycurl.Curl(), SF + "/" + who + "2"), go(pycurl.Curl(), THIRD + "/" + who + "2")]
print(who, codes, flush=True)
if pid == 0:
    os._exit(0)
'''
    p = ok(pyrun(ctx, body, SF, ctx.plain.url("")))
    assert p.stdout.count(b"[200, 200, 200, 200]") == 2, (p.stdout, p.stderr)
    assert sorted(r["target"] for r in ctx.plain.requests()) == ["/child1", "/child2", "/parent1", "/parent2"]
    assert sorted(r["target"] for r in ctx.proxy.requests()) == ["/child1", "/child2", "/parent1",
                                                                 "/parent2", "/pre"]
    key_nowhere(ctx, p)


@test
def stranger_daemon_closes_every_descriptor(ctx):
    """A daemon closes 3..1024 between transfers, opens its own file and
    sockets (taking the numbers ampshim may have held), and performs again:
    nothing of ours written to them, the request still routed."""
    fresh(ctx)
    out = os.path.join(ctx.dir, "daemon_out")
    body = r'''
SF, THIRD, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
def go(u):
    c = pycurl.Curl(); c.setopt(pycurl.URL, u); c.setopt(pycurl.WRITEDATA, io.BytesIO()); c.perform()
    r = c.getinfo(pycurl.RESPONSE_CODE); c.close(); return r
codes = [go(SF + "/d1"), go(THIRD + "/d1")]
os.closerange(3, 1024)
lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(4)
cl = socket.create_connection(lst.getsockname()); sv, _ = lst.accept()
fs = [open(OUT + "%d" % i, "wb", buffering=0) for i in range(6)]
codes += [go(SF + "/d2"), go(THIRD + "/d2"), go(SF + "/d3")]
sv.setblocking(False); cl.setblocking(False)
got = b""
for s in (sv, cl):
    try: got += s.recv(65536)
    except BlockingIOError: pass
print(codes, "GOT", repr(got), [f.fileno() for f in fs], sv.fileno(), cl.fileno())
'''
    p = ok(pyrun(ctx, body, SF, ctx.plain.url(""), out))
    assert p.stdout.startswith(b"[200, 200, 200, 200, 200] GOT b''"), (p.stdout, p.stderr)
    assert sorted(r["target"] for r in ctx.proxy.requests()) == ["/d1", "/d2", "/d3"]
    files = sorted(glob.glob(out + "*"))
    for f in files:
        assert os.path.getsize(f) == 0, (f, open(f, "rb").read())
    key_nowhere(ctx, p, files)


BACK = r'''
SF, how = sys.argv[1], sys.argv[2]
c = pycurl.Curl(); c.setopt(pycurl.URL, SF + "/out"); c.setopt(pycurl.WRITEDATA, io.BytesIO())
c.setopt(pycurl.SSL_VERIFYPEER, 0); c.setopt(pycurl.SSL_VERIFYHOST, 0)
if how.startswith("connect_to="): c.setopt(pycurl.CONNECT_TO, [how[11:]])
if how.startswith("resolve="): c.setopt(pycurl.RESOLVE, [how[8:]])
if how.startswith("port="): c.setopt(pycurl.PORT, int(how[5:]))
c.setopt(pycurl.FOLLOWLOCATION, 1)
try:
    c.perform(); print(c.getinfo(pycurl.RESPONSE_CODE), c.getinfo(pycurl.EFFECTIVE_URL))
except pycurl.error as e:
    print("ERR", e)
'''


@test
def stranger_redirect_back_to_routed_with_apps_connection_options(ctx):
    """The proxy redirects to the third host, which redirects back to the
    routed origin, the application's CONNECT_TO / RESOLVE / PORT pointing
    the origin at another (TLS) host: that host never gets the key."""
    tls = ctx.tls.port
    for how in ("connect_to=acme.my.salesforce.com:443:127.0.0.1:%d" % tls,
                "resolve=acme.my.salesforce.com:%d:127.0.0.1" % tls, "port=%d" % tls):
        fresh(ctx)
        ctx.proxy.control("queue", {"status": 302, "headers": {"Location": ctx.plain.url("/mid")}})
        ctx.plain.control("reset")
        loc = SF + "/back" if not how.startswith("resolve") else SF.replace(".com", ".com:%d" % tls) + "/back"
        ctx.plain.control("queue", {"status": 302, "headers": {"Location": loc}})
        p = ok(pyrun(ctx, BACK, SF, how))
        assert [r["target"] for r in ctx.plain.requests()] == ["/mid"], how
        key_nowhere(ctx, p)
    ctx.plain.control("reset")


@test
def stranger_late_url_switch_in_multi(ctx):
    """URL changed after curl_multi_add_handle, both ways, and after a
    transfer ended but before its message was read (then re-added): the
    third host never gets our headers."""
    fresh(ctx)
    body = r'''
SF, THIRD = sys.argv[1], sys.argv[2]
def drive(m):
    n = 1
    while n:
        r, n = m.perform(); m.select(1.0)
m = pycurl.CurlMulti()
a = pycurl.Curl(); a.setopt(pycurl.URL, SF + "/a"); a.setopt(pycurl.WRITEDATA, io.BytesIO())
a.setopt(pycurl.HTTPHEADER, ["X-A: 1"])
m.add_handle(a); a.setopt(pycurl.URL, THIRD + "/a-late"); a.setopt(pycurl.VERBOSE, 1)
drive(m); print("a", a.getinfo(pycurl.RESPONSE_CODE)); m.remove_handle(a)
b = pycurl.Curl(); b.setopt(pycurl.URL, THIRD + "/b"); b.setopt(pycurl.WRITEDATA, io.BytesIO())
m.add_handle(b); b.setopt(pycurl.URL, SF + "/b-late")
drive(m); print("b", b.getinfo(pycurl.RESPONSE_CODE), m.info_read())
b.setopt(pycurl.URL, THIRD + "/b-after"); b.setopt(pycurl.FOLLOWLOCATION, 1)
b.setopt(pycurl.PORT, 0); b.setopt(pycurl.RESOLVE, ["x.test:80:127.0.0.1"])
m.remove_handle(b); m.add_handle(b); drive(m)
print("b2", b.getinfo(pycurl.RESPONSE_CODE))
'''
    p = ok(pyrun(ctx, body, SF, ctx.plain.url("")))
    assert sorted(r["target"] for r in ctx.plain.requests()) == ["/a-late", "/b-after"], p.stdout
    key_nowhere(ctx, p)


DUP_ROUTED = r'''
SF, THIRD, PORT, TLS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sets = [(pycurl.PORT, PORT), (pycurl.CONNECT_TO, ["::127.0.0.1:%d" % TLS]),
        (pycurl.RESOLVE, ["acme.my.salesforce.com:443:127.0.0.1"]), (pycurl.HAPROXYPROTOCOL, 1),
        (pycurl.SSL_VERIFYPEER, 0), (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)]
out = []
for opt, val in sets:
    for before in (0, 1):
        c = pycurl.Curl(); c.setopt(pycurl.WRITEDATA, io.BytesIO())
        c.setopt(opt, val); c.setopt(pycurl.SSL_VERIFYHOST, 0)
        if before:
            c.setopt(pycurl.URL, THIRD + "/orig"); c.setopt(pycurl.PORT, PORT)
            try: c.perform()
            except pycurl.error: pass
            if opt != pycurl.PORT: c.setopt(pycurl.PORT, 0)
        d = c.duphandle(); c.close()
        d.setopt(pycurl.URL, SF + "/dup"); d.setopt(pycurl.WRITEDATA, io.BytesIO())
        try:
            d.perform(); out.append(d.getinfo(pycurl.RESPONSE_CODE))
        except pycurl.error as e:
            out.append(str(e))
        e = d.duphandle(); d.close()
        e.setopt(pycurl.URL, SF + "/dup2"); e.setopt(pycurl.WRITEDATA, io.BytesIO())
        try:
            e.perform(); out.append(e.getinfo(pycurl.RESPONSE_CODE))
        except pycurl.error as x:
            out.append(str(x))
print(out)
'''


@test
def stranger_duplicate_of_a_handle_with_connection_options_routed(ctx):
    """A handle given PORT, CONNECT_TO, RESOLVE, a PROXY line, -k or HTTP/2
    prior knowledge (and one that went to the third host first), duplicated
    and the duplicate (and its own duplicate) sent to a routed origin: the
    request goes to the proxy, never to the third host or the TLS host."""
    fresh(ctx)
    p = ok(pyrun(ctx, DUP_ROUTED, SF, ctx.plain.url(""), str(ctx.plain.port), str(ctx.tls.port)))
    assert p.stdout.strip() == str([200] * 24).encode(), p.stdout
    # The application's own PROXY line and h2c preface reach the third host as it asked.
    assert sorted(r["target"] for r in ctx.plain.requests()) == ["*", "/orig", "/orig", "/orig", "TCP4"]
    assert [r["target"] for r in ctx.proxy.requests()] == ["/dup", "/dup2"] * 12
    # (CONNECT_TO's /orig went to the TLS host in plain http: nothing else went there.)
    assert [r for r in ctx.tls.requests() if r.get("target") not in (None, "/orig")] == [], ctx.tls.requests()
    key_nowhere(ctx, p)


@test
def stranger_c_threads_handle_per_request_verbose_to_a_file(ctx):
    """tests/clients/stranger_stress.c: six threads, a handle per request
    alternating a routed origin (verbose to the program's own CURLOPT_STDERR
    file, one to six header lines, PORT or a PROXY line on some) and the
    third host, then a multi of six each with three URLs changed to the third
    host after they were added: every routed request at the proxy with our
    headers, the verbose files show our header masked, the third host gets
    nothing of ours."""
    exe = os.path.join(ctx.dir, "stranger_stress")
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "clients",
                       "stranger_stress.c")
    subprocess.run(["cc", "-O1", "-o", exe, src, "-lcurl", "-lpthread"], check=True)
    fresh(ctx)
    p = ok(ctx.run([exe, SF, ctx.plain.url(""), str(ctx.plain.port), ctx.dir]))
    assert p.stdout.strip().endswith(b"errors=0"), p.stdout
    third = sorted(r["target"] for r in ctx.plain.requests())
    want = sorted(["/t/%d/%d" % (t, i) for t in range(6) for i in range(40) if (i + t) % 2] +
                  ["/late/%d/%d" % (t, i) for t in range(6) for i in (1, 3, 5)])
    assert third == want, (len(third), len(want))
    routed = ctx.proxy.requests()
    assert len(routed) == 6 * 20 + 6 * 3, len(routed)
    for r in routed:
        n = int(r["target"].split("/")[-1]) % 6 + 1
        assert len([k for k, _ in r["headers"] if k.startswith("X-L")]) == n, r
    files = glob.glob(os.path.join(ctx.dir, "verbose*.txt"))
    assert len(files) == 6
    assert all(b"x-api-key: " in open(f, "rb").read().lower() for f in files)
    key_nowhere(ctx, p, files)


@test
def stranger_autoreferer_off_the_proxy_names_the_apps_url(ctx):
    """AUTOREFERER and a redirect from the proxy to the third host (easy and
    multi): the third host's Referer is the application's URL, as without
    ampshim, not the proxy's address; the next hop's is the third host's;
    the application's own REFERER is back on the handle after."""
    body = r'''
SF, how = sys.argv[1], sys.argv[2]
c = pycurl.Curl(); c.setopt(pycurl.WRITEDATA, io.BytesIO()); c.setopt(pycurl.REFERER, "https://app.example/own")
c.setopt(pycurl.URL, SF + "/ref?q=1"); c.setopt(pycurl.FOLLOWLOCATION, 1); c.setopt(pycurl.AUTOREFERER, 1)
if how == "multi":
    m = pycurl.CurlMulti(); m.add_handle(c); n = 1
    while n:
        r, n = m.perform(); m.select(1.0)
    m.remove_handle(c)
else:
    c.perform()
print(c.getinfo(pycurl.RESPONSE_CODE))
c.setopt(pycurl.AUTOREFERER, 0); c.setopt(pycurl.URL, sys.argv[3]); c.perform()
'''
    for how in ("easy", "multi"):
        fresh(ctx)
        ctx.proxy.control("queue", {"status": 302, "headers": {"Location": ctx.plain.url("/landed")}})
        ctx.plain.control("reset")
        ctx.plain.control("queue", {"status": 302, "headers": {"Location": "/hop2"}})
        p = ok(pyrun(ctx, body, SF, how, ctx.plain.url("/after")))
        assert p.stdout.strip() == b"200", p.stdout
        got = [(r["target"], header_values(r, "Referer")) for r in ctx.plain.requests()]
        assert got == [("/landed", [SF + "/ref?q=1"]), ("/hop2", [ctx.plain.url("/landed")]),
                       ("/after", ["https://app.example/own"])], (how, got)
        key_nowhere(ctx, p)
    ctx.plain.control("reset")


PAST_ROOMS = r'''
SF, THIRD = sys.argv[1], sys.argv[2]
def hdrs(n, tag):
    return ["X-L%02d-%s: v%d" % (i, tag, i) for i in range(n)]
def url(base, tag, long):
    return base + "/" + tag + ("?" + "p=" + "x" * 400 if long else "")
def go(c, base, tag, long, n):
    c.setopt(pycurl.URL, url(base, tag, long)); c.setopt(pycurl.HTTPHEADER, hdrs(n, tag))
    c.setopt(pycurl.WRITEDATA, io.BytesIO()); c.perform()
    return c.getinfo(pycurl.RESPONSE_CODE)
out = []
c = pycurl.Curl()
for i, (long, n) in enumerate([(1, 15), (0, 2), (1, 13), (0, 12), (0, 40), (1, 1), (1, 15)]):
    out.append(go(c, SF, "same%d" % i, long, n))
    out.append(go(c, THIRD, "tsame%d" % i, long, n))
# the application's list kept from one transfer to the next, a long URL then a short one
lst = hdrs(14, "keep")
c.setopt(pycurl.HTTPHEADER, lst); c.setopt(pycurl.URL, url(SF, "keep", 1)); c.perform()
out.append(c.getinfo(pycurl.RESPONSE_CODE))
c.setopt(pycurl.URL, url(SF, "keep2", 0)); c.perform(); out.append(c.getinfo(pycurl.RESPONSE_CODE))
c.close()
for i in range(8):
    d = pycurl.Curl()
    long, n = i % 2, (15 if i % 3 else 3)
    out.append(go(d, SF, "new%d" % i, long, n)); out.append(go(d, THIRD, "tnew%d" % i, long, n))
    e = d.duphandle(); d.close()
    out.append(go(e, SF, "dup%d" % i, 1 - long, 20 - n)); e.close()
def work(t):
    for i in range(30):
        h = pycurl.Curl()
        long, n = (i + t) % 2, (i * 7 + t) % 18
        try:
            code = go(h, SF if i % 3 else THIRD, "th%d_%d" % (t, i), long, n)
            if code != 200: out.append(("th", t, i, code))
        except pycurl.error as x:
            out.append(("th", t, i, str(x)))
        h.close()
th = [threading.Thread(target=work, args=(t,)) for t in range(4)]
[x.start() for x in th]; [x.join() for x in th]
print(out)
'''


@test
def stranger_header_lists_and_urls_past_the_rooms(ctx):
    """Header lists of 1 to 40 lines and URLs of some 450 bytes (past the
    entry's 12 header rooms and 256-byte URL room) alternating with short
    ones on one handle, on new handles and their duplicates, and on four
    threads making a handle per request, routed and to the third host: each
    routed request at the proxy with our headers exactly once and the
    application's lines all there in order, its URL whole; the third host
    gets the application's lines and nothing of ours."""
    fresh(ctx)
    p = ok(pyrun(ctx, PAST_ROOMS, SF, ctx.plain.url("")))
    assert p.stdout.strip() == str([200] * (14 + 2 + 24)).encode(), (p.stdout, p.stderr[-2000:])
    sizes = {}
    for i, (long, n) in enumerate([(1, 15), (0, 2), (1, 13), (0, 12), (0, 40), (1, 1), (1, 15)]):
        sizes["same%d" % i] = sizes["tsame%d" % i] = (long, n)
    sizes["keep"], sizes["keep2"] = (1, 14), (0, 14)
    for i in range(8):
        long, n = i % 2, (15 if i % 3 else 3)
        sizes["new%d" % i] = sizes["tnew%d" % i] = (long, n)
        sizes["dup%d" % i] = (1 - long, 20 - n)
    routed_th, third_th = set(), set()
    for t in range(4):
        for i in range(30):
            sizes["th%d_%d" % (t, i)] = ((i + t) % 2, (i * 7 + t) % 18)
            (routed_th if i % 3 else third_th).add("th%d_%d" % (t, i))
    seen = {"proxy": [], "plain": []}
    for name, server in (("proxy", ctx.proxy), ("plain", ctx.plain)):
        for r in server.requests():
            tag = r["target"].split("?")[0].lstrip("/")
            long, n = sizes[tag]
            want_q = "p=" + "x" * 400
            assert (r["target"].split("?", 1)[1:] == [want_q]) == bool(long), (tag, r["target"][:80])
            lt = "keep" if tag.startswith("keep") else tag
            want = [("X-L%02d-%s" % (i, lt), "v%d" % i) for i in range(n)]
            got = [(k, v) for k, v in r["headers"] if k.startswith("X-L")]
            assert got == want, (name, tag, got, want)
            if name == "proxy":
                assert_amp_headers(r, installation="inst-sf-1")
            else:
                assert_untouched(r)
            seen[name].append(tag)
    want_proxy = (["same%d" % i for i in range(7)] + ["keep", "keep2"] +
                  ["new%d" % i for i in range(8)] + ["dup%d" % i for i in range(8)] + sorted(routed_th))
    want_plain = ["tsame%d" % i for i in range(7)] + ["tnew%d" % i for i in range(8)] + sorted(third_th)
    assert sorted(seen["proxy"]) == sorted(want_proxy), len(seen["proxy"])
    assert sorted(seen["plain"]) == sorted(want_plain), len(seen["plain"])
    key_nowhere(ctx, p)


MULTI_RESET = r'''
SF, THIRD, how = sys.argv[1], sys.argv[2], sys.argv[3]
LONG = "?p=" + "y" * 300
def hdrs(n, tag):
    return ["X-L%02d-%s: v%d" % (i, tag, i) for i in range(n)]
def drive(m):
    n = 1
    while n:
        r, n = m.perform(); m.select(1.0)
out = []
m = pycurl.CurlMulti()
a = pycurl.Curl(); a.setopt(pycurl.URL, SF + "/m1" + LONG); a.setopt(pycurl.WRITEDATA, io.BytesIO())
m.add_handle(a)
a.setopt(pycurl.HTTPHEADER, hdrs(16, "m1"))
drive(m)
out.append(a.getinfo(pycurl.RESPONSE_CODE))
if how == "reset-in":
    a.reset()          # done, still in the multi handle, message unread
    a.setopt(pycurl.URL, THIRD + "/m2" + LONG); a.setopt(pycurl.HTTPHEADER, hdrs(15, "m2"))
    a.setopt(pycurl.WRITEDATA, io.BytesIO())
    m.remove_handle(a); m.add_handle(a); drive(m)
elif how == "dup-in":
    d = a.duphandle(); m.remove_handle(a)
    d.setopt(pycurl.URL, THIRD + "/m2" + LONG); d.setopt(pycurl.HTTPHEADER, hdrs(15, "m2"))
    d.setopt(pycurl.WRITEDATA, io.BytesIO()); m.add_handle(d); drive(m); a = d
else:              # after: options set once it finished, the message read
    m.info_read()
    a.setopt(pycurl.URL, THIRD + "/m2" + LONG); a.setopt(pycurl.HTTPHEADER, hdrs(15, "m2"))
    m.remove_handle(a); m.add_handle(a); drive(m)
out.append(a.getinfo(pycurl.RESPONSE_CODE))
# and back to a routed URL on the same handle, a short one, then a third host again
m.remove_handle(a)
a.setopt(pycurl.URL, SF + "/m3"); a.setopt(pycurl.HTTPHEADER, hdrs(3, "m3")); a.setopt(pycurl.WRITEDATA, io.BytesIO())
m.add_handle(a); drive(m); out.append(a.getinfo(pycurl.RESPONSE_CODE)); m.remove_handle(a)
a.reset(); a.setopt(pycurl.URL, THIRD + "/m4"); a.setopt(pycurl.WRITEDATA, io.BytesIO())
a.perform(); out.append(a.getinfo(pycurl.RESPONSE_CODE))
print(out)
'''


@test
def stranger_long_lists_in_multi_reset_dup_then_third_host(ctx):
    """A routed multi transfer with 16 header lines set after
    curl_multi_add_handle and a 330-byte URL; then the handle reset while
    still in the multi handle (its message unread), or duplicated there, or
    given new options after it finished, and sent to the third host with a
    long list and URL; then routed again, reset, third host again: our
    headers once on each routed request, the application's lines intact,
    nothing of ours at the third host."""
    for how in ("reset-in", "dup-in", "after"):
        fresh(ctx)
        p = ok(pyrun(ctx, MULTI_RESET, SF, ctx.plain.url(""), how))
        assert p.stdout.strip() == b"[200, 200, 200, 200]", (how, p.stdout, p.stderr[-2000:])
        routed = ctx.proxy.requests()
        assert [r["target"].split("?")[0] for r in routed] == ["/m1", "/m3"], how
        assert routed[0]["target"] == "/m1?p=" + "y" * 300
        for r, tag, n in ((routed[0], "m1", 16), (routed[1], "m3", 3)):
            assert_amp_headers(r, installation="inst-sf-1")
            got = [(k, v) for k, v in r["headers"] if k.startswith("X-L")]
            assert got == [("X-L%02d-%s" % (i, tag), "v%d" % i) for i in range(n)], (how, got)
        third = ctx.plain.requests()
        assert [r["target"].split("?")[0] for r in third] == ["/m2", "/m4"], how
        got = [(k, v) for k, v in third[0]["headers"] if k.startswith("X-L")]
        assert got == [("X-L%02d-m2" % i, "v%d" % i) for i in range(15)], (how, got)
        assert [k for k, _ in third[1]["headers"] if k.startswith("X-L")] == [], how
        key_nowhere(ctx, p)


PHP_STRANGER = r'''
[$_, $SF, $THIRD, $DIR] = $argv;
$long = "?p=" . str_repeat("z", 300);
function hl($n, $tag) { $o = []; for ($i = 0; $i < $n; $i++) $o[] = sprintf("X-L%02d-%s: v%d", $i, $tag, $i); return $o; }
function go($c, $url, $n, $tag) {
    curl_setopt($c, CURLOPT_URL, $url);
    curl_setopt($c, CURLOPT_HTTPHEADER, hl($n, $tag));
    curl_setopt($c, CURLOPT_RETURNTRANSFER, true);
    $body = curl_exec($c);
    file_put_contents($GLOBALS["DIR"] . "/php_bodies.txt", (string)$body, FILE_APPEND);
    return curl_getinfo($c, CURLINFO_RESPONSE_CODE);
}
$out = [];
// cookies: libcurl's engine, the provider's Set-Cookie with a redirect to the third host
$c = curl_init();
curl_setopt($c, CURLOPT_COOKIEFILE, "");
curl_setopt($c, CURLOPT_FOLLOWLOCATION, true);
curl_setopt($c, CURLOPT_VERBOSE, true);
$log = fopen($DIR . "/php_verbose.txt", "w");
curl_setopt($c, CURLOPT_STDERR, $log);
$out[] = go($c, "$SF/ck1$long", 14, "ck1");
$out[] = go($c, "$THIRD/ck2$long", 13, "ck2");
$out[] = go($c, "$SF/ck3", 2, "ck3");
file_put_contents($DIR . "/php_cookies.txt", implode("\n", curl_getinfo($c, CURLINFO_COOKIELIST)));
// a redirect followed by hand: routed, its Location at the third host, back
curl_setopt($c, CURLOPT_FOLLOWLOCATION, false);
$out[] = go($c, "$SF/hand1", 20, "hand1");
$loc = curl_getinfo($c, CURLINFO_REDIRECT_URL);
$out[] = go($c, $loc, 20, "hand2");
$out[] = go($c, "$SF/hand3$long", 1, "hand3");
$d = curl_copy_handle($c);
curl_reset($c);
curl_setopt($c, CURLOPT_COOKIEFILE, "");
$out[] = go($c, "$THIRD/reset1", 0, "reset1");
$out[] = go($d, "$THIRD/copy1$long", 17, "copy1");
$out[] = go($d, "$SF/copy2", 17, "copy2");
curl_close($c); curl_close($d); fclose($log);
// a handle per request, alternating
for ($i = 0; $i < 40; $i++) {
    $h = curl_init();
    $out[] = go($h, ($i % 2 ? $THIRD : $SF) . "/per$i" . ($i % 4 < 2 ? $long : ""), ($i * 5) % 19, "per$i");
    curl_close($h);
}
echo json_encode($out), "\n";
'''


@test
def stranger_php_cookies_redirects_copy_reset_long_lists(ctx):
    """php-cli with php-curl: libcurl's cookie engine on, the provider's
    Set-Cookie with a redirect to the third host (followed), then the third
    host and the provider again on the same handle; a redirect followed by
    hand (routed, then its Location at the third host); curl_copy_handle and
    curl_reset, both sent to the third host; then a handle per request;
    header lists of 0 to 20 lines and URLs over 300 bytes throughout, verbose
    to a file: our headers once on each routed request with the
    application's lines whole, the provider's cookie back to the provider
    only, nothing of ours at the third host or in any file."""
    fresh(ctx)
    ctx.proxy.control("queue", [
        {"status": 302, "headers": [["Set-Cookie", "sid=prov1; Path=/"], ["Location", ctx.plain.url("/ck1land")]]},
        {"status": 200},
        {"status": 302, "headers": [["Location", ctx.plain.url("/hand2")]]}])
    p = ok(ctx.run(["php", "-r", PHP_STRANGER, "--", SF, ctx.plain.url(""), ctx.dir]), "php")
    want_plain = ["ck1land", "ck2", "hand2", "reset1", "copy1"] + ["per%d" % i for i in range(1, 40, 2)]
    want_proxy = ["ck1", "ck3", "hand1", "hand3", "copy2"] + ["per%d" % i for i in range(0, 40, 2)]
    assert p.stdout.strip() == str([200, 200, 200, 302] + [200] * 45).replace(" ", "").encode(), p.stdout
    n_of = {"ck1": 14, "ck1land": 14, "ck2": 13, "ck3": 2, "hand1": 20, "hand2": 20, "hand3": 1,
            "reset1": 0, "copy1": 17, "copy2": 17}
    n_of.update({"per%d" % i: (i * 5) % 19 for i in range(40)})
    for name, server, want in (("proxy", ctx.proxy, want_proxy), ("plain", ctx.plain, want_plain)):
        reqs = server.requests()
        assert [r["target"].split("?")[0].lstrip("/") for r in reqs] == want, (name, [r["target"][:40] for r in reqs])
        for r in reqs:
            tag = r["target"].split("?")[0].lstrip("/")
            # A redirect followed by libcurl keeps the list of the request it came from.
            lt = "ck1" if tag == "ck1land" else tag
            got = [(k, v) for k, v in r["headers"] if k.startswith("X-L")]
            assert got == [("X-L%02d-%s" % (i, lt), "v%d" % i) for i in range(n_of[tag])], (name, tag, got)
            cookies = header_values(r, "Cookie")
            if name == "proxy":
                assert_amp_headers(dict(r, status=200), installation="inst-sf-1")  # (some answered 302)
                assert cookies == (["sid=prov1"] if tag in ("ck3", "hand1", "hand3") else []), (tag, cookies)
            else:
                assert_untouched(r)
                assert cookies == [], (tag, cookies)
    files = [os.path.join(ctx.dir, n) for n in ("php_bodies.txt", "php_verbose.txt", "php_cookies.txt")]
    jar = open(files[2], "rb").read()
    assert b"acme.my.salesforce.com" in jar and b"prov1" in jar, jar
    key_nowhere(ctx, p, files)


@test
def stranger_c_lists_changed_under_libcurl_and_a_duplicate_of_a_closed_handle(ctx):
    """tests/clients/stranger_lists.c: a list of twelve lines grown to
    thirteen after it was set (not set again), a line rewritten in place,
    the list freed and another set; long and short URLs by turns; a
    duplicate performed, as copied, after its original was closed and
    another handle used: each routed request carries the application's
    lines as the list held them then, ours once; the third host none of
    ours."""
    exe = os.path.join(ctx.dir, "stranger_lists")
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "clients",
                       "stranger_lists.c")
    subprocess.run(["cc", "-O1", "-o", exe, src, "-lcurl"], check=True)
    fresh(ctx)
    p = ok(ctx.run([exe, SF, ctx.plain.url("")]))
    tags = ["a1", "a2", "a3", "a4", "a5", "a6", "b1", "c1", "dup", "d2", "c2"]
    assert p.stdout.decode().split("\n")[:-1] == ["%s 0 200" % t for t in tags], p.stdout
    a = [("X-L%02d-a" % i, "v%d" % i) for i in range(12)]
    a13 = a + [("X-L12-a", "v12")]
    a13w = [a13[0], ("X-L01-a", "w1")] + a13[2:]
    b = [("X-L%02d-b" % i, "v%d" % i) for i in range(3)]
    c = [("X-L%02d-c" % i, "v%d" % i) for i in range(14)]
    want = {"proxy": [("a1", a), ("a3", a), ("a4", a13), ("a6", a13w), ("b1", b), ("c1", c), ("b1", b)],
            "plain": [("a2", a), ("a5", a13), ("d2", b), ("c2", c)]}
    for name, server in (("proxy", ctx.proxy), ("plain", ctx.plain)):
        got = [(r["target"].split("?")[0].lstrip("/"), [(k, v) for k, v in r["headers"] if k.startswith("X-L")])
               for r in server.requests()]
        assert got == want[name], (name, got)
        for r in server.requests():
            if name == "proxy":
                assert_amp_headers(r, installation="inst-sf-1")
            else:
                assert_untouched(r)
    key_nowhere(ctx, p)



@test
def stranger_header_callback_turns_cookies_on_inside_a_200(ctx):
    """A header callback that turns libcurl's cookie engine on in the middle
    of a 200's lines (ampshim hands a 200's later lines straight on): as
    with libcurl alone, that answer's Set-Cookie is not kept (libcurl makes
    its engine as a transfer starts); the next answer's is, filed under the
    provider's host, never the proxy's, and sent with the request after."""
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 200, "headers": [["X-Line-00", "a"], ["X-Line-01", "b"],
                                                            ["Set-Cookie", "sid=7; Path=/"]],
                                 "body": "ok"}] * 2)
    p = ok(ctx.run([prog("hdrcb_client"), "url=" + SF + "/services/c", "cb", "at=X-Line-01:cookies",
                    "perform", "jar", "perform", "jar", "perform"]))
    out = p.stdout.decode().splitlines()
    jars = [l for l in out if l.startswith("jar ") or l.startswith("perform-")]
    assert [l.split(" ")[0] for l in jars] == ["perform-1", "perform-2", "jar", "perform-3"], jars
    jar = [l for l in jars if l.startswith("jar ")][0]
    assert jar.startswith("jar acme.my.salesforce.com\t") and jar.endswith("\tsid\t7"), jar
    reqs = ctx.proxy.requests()
    assert [header_values(r, "Cookie") for r in reqs] == [[], [], ["sid=7"]], [r["headers"] for r in reqs]


@test
def stranger_header_callback_sets_options_inside_a_kept_handles_transfer(ctx):
    """A kept handle whose header callback (begin's short way from its second
    perform) sets the URL, then the header list, then another header callback
    from inside itself, on a 200's lines the callback is handed without a look
    of ours: every line reaches the callback that is current, once and in order,
    and each next request goes where and with what was set."""
    fresh(ctx)
    many = [["X-Line-%02d" % k, "v%d" % k] for k in range(4)]
    ctx.proxy.control("queue", [{"status": 200, "headers": many, "body": "a", "count": 7}])
    p = ok(ctx.run([prog("hdrcb_client"), "url=" + SF + "/a", "cb", "at=X-Line-01:url=" + SF + "/b",
                    "perform", "perform", "at=X-Line-01:hdr=X-App: 2", "perform", "perform",
                    "at=X-Line-02:stop", "perform", "at=X-Line-02:other", "perform", "perform"]))
    rows = p.stdout.decode().splitlines()
    assert len(rows) == 7, rows
    want = "\\r\\n".join(["X-Line-%02d: v%d" % (k, k) for k in range(4)])
    for row in rows[:4]:
        assert " rc=0 status=200 lines=HTTP/1.1 200 OK\\r\\n" in row and want in row, row
        assert row.endswith("Content-Length: 1\\r\\n\\r\\n") and row.count("HTTP/") == 1, row
    assert " rc=23 " in rows[4] and rows[4].endswith("X-Line-02: v2\\r\\n"), rows[4]
    assert "X-Line-02: v2\\r\\n+X-Line-03: v3\\r\\n+" in rows[5], rows[5]
    assert rows[6].split("lines=")[1].startswith("+HTTP/1.1 200 OK\\r\\n+"), rows[6]
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/a"] + ["/b"] * 6, reqs
    assert [header_values(r, "X-App") for r in reqs] == [[]] * 3 + [["2"]] * 4, reqs
    for r in reqs:
        assert_amp_headers(r, installation="inst-sf-1")


@test
def stranger_block_recorded_by_another_process_stops_a_kept_handle(ctx):
    """A kept handle with a header callback (begin's short way after its
    first perform): a 429 another process records between two performs
    blocks the next one (50 ms later at most), nothing sent."""
    from .harness import http_date, rl_cfg
    import time
    cfg, _ = rl_cfg(ctx, "stranger-other-process")
    fresh(ctx)
    body = r'''
import subprocess, time
c = pycurl.Curl(); c.setopt(pycurl.URL, sys.argv[1]); c.setopt(pycurl.WRITEDATA, io.BytesIO())
c.setopt(pycurl.HEADERFUNCTION, lambda l: None)
def go():
    try:
        c.perform(); return c.getinfo(pycurl.RESPONSE_CODE)
    except pycurl.error as e:
        return "error %d" % e.args[0]
print(go()); print(go())
subprocess.run(["curl", "-sS", "-o", "/dev/null", sys.argv[1] + "/other"], check=True)
time.sleep(0.06)
print(go())
'''
    ctx.proxy.control("queue", [{"status": 200, "body": "a", "count": 2},
                                {"status": 429, "headers": [["X-Amp-Retry-After", http_date(int(time.time()) + 600)]],
                                 "body": "slow"}])
    script = os.path.join(ctx.dir, "stranger_script.py")
    with open(script, "w") as f:
        f.write("import pycurl, io, os, sys\n" + body)
    p = ok(ctx.run([PY, script, SF + "/kept"], cfg=cfg))
    assert p.stdout.decode().split("\n")[:3] == ["200", "200", "error 55"], (p.stdout, p.stderr)
    assert [r["target"] for r in ctx.proxy.requests()] == ["/kept", "/kept", "/kept/other"]


KEPT_CB = r'''
SF, THIRD, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
res = []
def mk():
    c = pycurl.Curl(); c.setopt(pycurl.WRITEDATA, io.BytesIO()); c.setopt(pycurl.HEADERFUNCTION, lambda l: None)
    return c
def go(c, u):
    c.setopt(pycurl.URL, u)
    try:
        c.perform(); res.append(c.getinfo(pycurl.RESPONSE_CODE))
    except pycurl.error as e:
        res.append(str(e.args))
def drive(m, c):
    m.add_handle(c)
    while m.perform()[1]:
        m.select(0.2)
    m.remove_handle(c)
c = mk(); go(c, SF + "/k1"); go(c, SF + "/k2"); go(c, THIRD + "/t1")
c = mk(); go(c, SF + "/k3"); go(c, SF + "/k4"); d = c.duphandle(); go(d, THIRD + "/t2"); go(c, THIRD + "/t3")
c = mk(); go(c, SF + "/k5"); go(c, SF + "/k6"); c.reset(); c.setopt(pycurl.WRITEDATA, io.BytesIO()); go(c, THIRD + "/t4")
c = mk(); go(c, SF + "/k7"); go(c, SF + "/k8")
m = pycurl.CurlMulti(); m.add_handle(c); c.setopt(pycurl.URL, THIRD + "/t5"); c.setopt(pycurl.HTTPHEADER, ["X-A: 1"])
while m.perform()[1]:
    m.select(0.2)
m.remove_handle(c); go(c, SF + "/k9"); go(c, SF + "/k10"); go(c, THIRD + "/t6")
c = mk(); go(c, SF + "/k11"); go(c, SF + "/k12")
pid = os.fork()
if pid == 0:
    go(c, THIRD + "/t7"); print("child", res[-1], flush=True); os._exit(0)
os.waitpid(pid, 0)
c = mk(); go(c, SF + "/k13"); go(c, SF + "/k14")
os.closerange(3, 1024)
ss = [socket.create_connection(("127.0.0.1", PORT)) for i in range(6)]
go(c, SF + "/k15"); go(c, SF + "/k16")
for s in ss:
    s.sendall(b"GET /own HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print(res, flush=True)
'''


@test
def stranger_kept_handles_with_a_header_callback_then_the_third_host(ctx):
    """Kept handles with a header callback, each performed twice (begin's
    short way the second time), then: the URL switched to the third host;
    duplicated and both sent there; reset and sent there; added to a multi
    handle with the URL and a list set after the add; performed in a
    forked child toward the third host; and a daemon's closerange(3, 1024)
    with six sockets of its own to the third host (taking libcurl's old
    numbers) before two more routed performs: the third host gets its
    requests alone, none of ours, and the routed ones all reach the proxy."""
    fresh(ctx)
    p = ok(pyrun(ctx, KEPT_CB, SF, ctx.plain.url(""), str(ctx.plain.port)))
    assert p.stdout.decode().split("\n")[:2] == ["child 200", str([200] * 21)], (p.stdout, p.stderr)
    assert [r["target"] for r in ctx.proxy.requests()] == ["/k%d" % i for i in range(1, 17)]
    third = [r["target"] for r in ctx.plain.requests()]
    assert third == ["/t%d" % i for i in range(1, 8)] + ["/own"] * 6, third
    for r in ctx.plain.requests():
        assert [k for k, _ in r["headers"]] in (["Host", "User-Agent", "Accept"], ["Host", "User-Agent", "Accept", "X-A"],
                                                ["Host", "Connection"]), r["headers"]
    key_nowhere(ctx, p)
