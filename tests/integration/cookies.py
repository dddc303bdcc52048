"""Cookies as if ampshim were not there (issue 15, finding 3): with libcurl's
cookie engine on, a routed request carries the application's cookies for the
provider's URL (never any for the proxy's host), a routed answer's cookies are
filed for the provider's host (Domain=, Path=, Max-Age= as libcurl reads them),
the jar names the providers' hosts, and a cookie set through one route is never
sent on another. What arrived at the mock proxy and what the jar holds are
checked, from outside the programs (pycurl with COOKIEFILE "", the curl CLI with
-b/-c)."""

import os
import time

from .harness import KEY, PY, SF, assert_untouched, header_values, mark_all, not_under, ok, test

# A driver: OP VALUE pairs run in order on one pycurl handle whose cookie
# engine is on (COOKIEFILE ""). get URL: a transfer; list LINE: CURLOPT_COOKIELIST;
# cookie STR: CURLOPT_COOKIE; jar FILE: CURLOPT_COOKIEJAR (written at close);
# show -: the handle's cookies (CURLINFO_COOKIELIST), one "cookie LINE" each.
DRIVER = r"""
import io, sys, pycurl
c = pycurl.Curl()
c.setopt(c.COOKIEFILE, "")
a = sys.argv[1:]
for op, val in zip(a[0::2], a[1::2]):
    if op == "jar": c.setopt(c.COOKIEJAR, val)
    elif op == "list": c.setopt(c.COOKIELIST, val)
    elif op == "cookie": c.setopt(c.COOKIE, val)
    elif op == "get":
        c.setopt(c.URL, val); c.setopt(c.WRITEDATA, io.BytesIO()); c.perform()
        print("status", c.getinfo(c.RESPONSE_CODE))
    elif op == "again":
        c.perform()
        print("status", c.getinfo(c.RESPONSE_CODE))
    elif op == "show":
        for l in c.getinfo(c.INFO_COOKIELIST): print("cookie", l)
c.close()
"""

ANTHROPIC = "https://api.anthropic.com"
# Two more routes: one on slack.com beside https://slack.com/api (the same host,
# another route), one whose drop_headers names Cookie.
ROUTES = """,
  { base_url = "https://slack.com/files"; installation_id = "inst-slack-files"; },
  { base_url = "https://api.dropcookies.test"; installation_id = "inst-drop"; drop_headers = [ "Cookie" ]; }"""


def cfg(ctx):
    return ctx.write_cfg("cookies.cfg", ctx.config(extra_routes=ROUTES))


def answers(ctx, *set_cookies):
    """The next answers of the proxy, in order: each a list of Set-Cookie values."""
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 200, "headers": [["Set-Cookie", v] for v in sc],
                                 "body": "ok"} for sc in set_cookies])


def drive(ctx, *ops):
    mark_all(ctx)
    p = ok(ctx.run([PY, "-c", DRIVER, *ops], cfg=cfg(ctx)), "pycurl")
    shown = [l[len("cookie "):] for l in p.stdout.decode().splitlines() if l.startswith("cookie ")]
    return ctx.proxy.requests(), shown


def cookies_of(req):
    return header_values(req, "Cookie")


@test
def cookie_of_one_route_never_sent_on_another(ctx):
    """A cookie answered through the salesforce route goes back to salesforce, not to
    anthropic's route, though both requests go to the proxy's host."""
    answers(ctx, ["sf_session=S1; Path=/"])
    reqs, _ = drive(ctx, "get", SF + "/services/a", "get", ANTHROPIC + "/v1/messages",
                    "get", SF + "/services/b")
    assert len(reqs) == 3, reqs
    assert cookies_of(reqs[0]) == [], reqs[0]
    assert cookies_of(reqs[1]) == [], "salesforce's cookie went with anthropic's request: %r" % reqs[1]
    assert cookies_of(reqs[2]) == ["sf_session=S1"], reqs[2]["headers"]


@test
def cookie_of_one_route_not_on_another_of_the_same_host(ctx):
    """slack.com/api and slack.com/files are two routes: a Path=/ cookie of the first is not
    sent on the second (without ampshim it would be; the rule of no cookie across routes wins)."""
    answers(ctx, ["s=1; Path=/"])
    reqs, _ = drive(ctx, "get", "https://slack.com/api/auth.test", "get", "https://slack.com/files/f1",
                    "get", "https://slack.com/api/chat.postMessage")
    assert len(reqs) == 3, reqs
    assert cookies_of(reqs[1]) == [], reqs[1]
    assert cookies_of(reqs[2]) == ["s=1"], reqs[2]["headers"]


@test
def application_cookies_go_with_routed_request(ctx):
    """The application's own cookies for the provider's host (CURLOPT_COOKIELIST) go with
    the routed request, those of other hosts and secure ones over http do not, and
    CURLOPT_COOKIE comes after them in the one Cookie header, as libcurl writes it."""
    reqs, _ = drive(ctx,
                    "list", "acme.my.salesforce.com\tFALSE\t/\tFALSE\t0\tmine\tM1",
                    "list", ".salesforce.com\tTRUE\t/services\tTRUE\t0\tdom\tD1",
                    "list", "api.anthropic.com\tFALSE\t/\tFALSE\t0\tother\tO1",
                    "list", "acme.my.salesforce.com\tFALSE\t/elsewhere\tFALSE\t0\tnot_here\tN1",
                    "get", SF + "/services/data/v1",
                    "cookie", "extra=E1",
                    "get", SF + "/services/data/v2",
                    "get", ANTHROPIC + "/v1/models")
    assert len(reqs) == 3, reqs
    assert cookies_of(reqs[0]) == ["dom=D1; mine=M1"], reqs[0]["headers"]
    assert cookies_of(reqs[1]) == ["dom=D1; mine=M1; extra=E1"], reqs[1]["headers"]
    assert cookies_of(reqs[2]) == ["other=O1; extra=E1"], reqs[2]["headers"]


@test
def answer_cookies_filed_for_provider_host(ctx):
    """Set-Cookie from a routed answer: filed under the provider's host (a host-only cookie
    with the provider path's folder as default path, a Domain= one for the domain), none
    under the proxy's; Max-Age=0 deletes; later requests carry them as libcurl would."""
    answers(ctx, ["h=2", "d=1; Domain=.salesforce.com; Path=/services; HttpOnly",
                  "gone=3; Path=/", "x=9; Domain=evil.test"],
                 ["gone=; Max-Age=0; Path=/"])
    reqs, shown = drive(ctx, "get", SF + "/services/data/v1?q=1",
                        "get", SF + "/services/data/v2",
                        "get", "https://other.my.salesforce.com/services/data/v3",
                        "show", "-")
    assert len(reqs) == 3, reqs
    assert cookies_of(reqs[0]) == [], reqs[0]
    assert cookies_of(reqs[1]) == ["h=2; d=1; gone=3"], reqs[1]["headers"]
    # Another host of the same (wildcard) route: the domain cookie only.
    assert cookies_of(reqs[2]) == ["d=1"], reqs[2]["headers"]
    # An expired cookie may still be listed until libcurl sweeps it (it sends and
    # writes none): left out.
    shown = [l for l in shown if not 0 < int(l.split("\t")[4]) < time.time()]
    assert sorted(shown) == sorted([
        "acme.my.salesforce.com\tFALSE\t/services/data/\tFALSE\t0\th\t2",
        "#HttpOnly_.salesforce.com\tTRUE\t/services\tFALSE\t0\td\t1",
    ]), shown


@test
def answer_cookies_go_with_the_next_perform_of_a_handle_left_as_it_was(ctx):
    """A handle performed again with nothing set since (begin's short way
    for other handles): the cookie its last answer set goes with the next
    request, and the one after."""
    answers(ctx, ["sid=1; Path=/"], [], [])
    reqs, _ = drive(ctx, "get", SF + "/services/a", "again", "-", "again", "-")
    assert [cookies_of(r) for r in reqs] == [[], ["sid=1"], ["sid=1"]], [r["headers"] for r in reqs]


@test
def answer_cookie_after_location_filed_for_provider_host(ctx):
    """A routed answer redirecting off the proxy whose Set-Cookie comes after its Location:
    the cookie is still the provider's (the next request being the application's own does not
    make this answer's cookies the proxy host's), never sent to the host the redirect leads
    to, nor to another service on the relay's address."""
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 302, "body": "",
                                 "headers": [["Location", ctx.plain.url("/after")],
                                             ["Set-Cookie", "sid=abc; Path=/"]]}])
    jar = os.path.join(ctx.dir, "after-location.jar")
    mark_all(ctx)
    ok(ctx.curl("-L", "-b", "", "-c", jar, "-o", "/dev/null", SF + "/services/data/v1/x",
                "-o", "/dev/null", ctx.plain.url("/again"), cfg=cfg(ctx)))
    own = ctx.plain.requests()
    assert [r["target"] for r in own] == ["/after", "/again"], own
    for r in own:
        assert cookies_of(r) == [], r["headers"]
        assert_untouched(r)
    lines = [l for l in open(jar).read().splitlines() if l and not l.startswith("# ")]
    assert lines == ["acme.my.salesforce.com\tFALSE\t/\tFALSE\t0\tsid\tabc"], lines


@test
def drop_headers_cookie_sends_no_cookie(ctx):
    """A route whose drop_headers names Cookie: neither the application's cookies nor
    those of its answers go through the proxy (they are still filed for its host)."""
    answers(ctx, ["t=1"])
    reqs, shown = drive(ctx, "list", "api.dropcookies.test\tFALSE\t/\tFALSE\t0\tmine\tM1",
                        "get", "https://api.dropcookies.test/v1/a",
                        "get", "https://api.dropcookies.test/v1/b", "show", "-")
    assert len(reqs) == 2, reqs
    for r in reqs:
        assert cookies_of(r) == [], r["headers"]
    assert "api.dropcookies.test\tFALSE\t/v1/\tFALSE\t0\tt\t1" in shown, shown


@test
def curl_cookie_jar_as_without_ampshim(ctx):
    """curl -b FILE -c JAR: the file's cookie for the provider goes through the proxy, the
    jar names the provider's host (never the proxy's), and the key is nowhere in it."""
    src = os.path.join(ctx.dir, "cookies-in.txt")
    jar = os.path.join(ctx.dir, "cookies-jar.txt")
    with open(src, "w") as f:
        f.write("acme.my.salesforce.com\tFALSE\t/\tTRUE\t0\tfromfile\tF1\n")
    if os.path.exists(jar):
        os.unlink(jar)
    answers(ctx, ["sid=abc; Path=/services; Secure; Max-Age=3600"])
    mark_all(ctx)
    ok(ctx.curl("-b", src, "-c", jar, SF + "/services/data/v1", SF + "/services/data/v2",
                cfg=cfg(ctx)))
    reqs = ctx.proxy.requests()
    assert len(reqs) == 2, reqs
    assert cookies_of(reqs[0]) == ["fromfile=F1"], reqs[0]["headers"]
    assert cookies_of(reqs[1]) == ["sid=abc; fromfile=F1"], reqs[1]["headers"]
    text = open(jar).read()
    assert KEY not in text
    lines = [l for l in text.splitlines() if l and not l.startswith("# ")]
    assert "127.0.0.1" not in text, text
    names = sorted(l.split("\t")[5] for l in lines)
    assert names == ["fromfile", "sid"], text
    sid = [l.split("\t") for l in lines if l.split("\t")[5] == "sid"][0]
    assert sid[:4] == ["acme.my.salesforce.com", "FALSE", "/services", "TRUE"], sid


@test
@not_under("asan", "it measures resident memory, which ASan's quarantine keeps for freed blocks")
def cookies_set_and_deleted_leave_nothing_behind(ctx):
    """A provider that sets and at once deletes cookies of new names (a
    nonce-named token): libcurl keeps none of them, and neither does
    ampshim's memory of which route set a cookie; a real cookie after
    15,000 of them is filed for the provider as usual."""
    script = r"""
import io, json, os, sys, urllib.request, pycurl
port = sys.argv[1]
def ctl(path, body):
    r = urllib.request.Request("http://127.0.0.1:%s/__mock/%s" % (port, path),
                               data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(r, timeout=5).read()
def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1])
c = pycurl.Curl(); c.setopt(c.COOKIEFILE, "")
v = "v" * 1500
def get(url):
    c.setopt(c.URL, url); c.setopt(c.WRITEDATA, io.BytesIO()); c.perform()
get(SFURL + "/warm")
start = rss()
for t in range(300):
    ctl("queue", [{"status": 200, "body": "ok", "headers": [
        ["Set-Cookie", "n%d_%d=%s; Max-Age=0; Path=/" % (t, i, v)] for i in range(50)]}])
    get(SFURL + "/x")
grew = rss() - start
ctl("queue", [{"status": 200, "body": "ok", "headers": [["Set-Cookie", "session=IMPORTANT; Path=/"]]}])
get(SFURL + "/login")
print(json.dumps({"grew_kb": grew, "cookies": c.getinfo(c.INFO_COOKIELIST)}))
""".replace("SFURL", repr(SF))
    ctx.proxy.control("reset")
    p = ok(ctx.run([PY, "-c", script, str(ctx.proxy.port)]))
    got = __import__("json").loads(p.stdout.decode().strip().splitlines()[-1])
    assert got["grew_kb"] < 8 * 1024, got["grew_kb"]
    assert len(got["cookies"]) == 1 and "\tsession\tIMPORTANT" in got["cookies"][0], got["cookies"]
    assert got["cookies"][0].startswith("acme.my.salesforce.com") or \
        got["cookies"][0].startswith("#HttpOnly_acme.my.salesforce.com"), got["cookies"]


RESET_KEEPS_JAR = r"""
import io, os, sys, pycurl
SF = sys.argv[1]
c = pycurl.Curl()
c.setopt(c.COOKIEFILE, "")
c.setopt(c.URL, SF + "/services/one"); c.setopt(c.WRITEDATA, io.BytesIO())
c.perform()
c.reset()
for k in range(2):
    c.setopt(c.URL, SF + "/services/two"); c.setopt(c.WRITEDATA, io.BytesIO())
    if sys.argv[2] == "hdrcb": c.setopt(c.HEADERFUNCTION, lambda l: None)
    c.perform()
for l in c.getinfo(c.INFO_COOKIELIST): print("cookie", l)
"""


@test
def answer_cookies_of_a_reset_handle_are_the_providers(ctx):
    """curl_easy_reset keeps libcurl's cookies and its engine (PHP's
    curl_reset, pycurl's reset): the reset handle's requests carry the
    provider's cookies, and an answer's Set-Cookie is filed for the provider,
    none under the proxy's host (with and without a header callback)."""
    for how in ("lean", "hdrcb"):
        answers(ctx, ["a=1; Path=/"], ["b=2; Path=/"], [])
        mark_all(ctx)
        p = ok(ctx.run([PY, "-c", RESET_KEEPS_JAR, SF, how], cfg=cfg(ctx)), "pycurl")
        reqs = ctx.proxy.requests()
        shown = sorted(l[len("cookie "):] for l in p.stdout.decode().splitlines() if l.startswith("cookie "))
        # (As sets: the order of a=1, filed before the reset, and b=2 is not asked here.)
        sent = [sorted(c for line in cookies_of(r) for c in line.split("; ")) for r in reqs]
        assert sent == [[], ["a=1"], ["a=1", "b=2"]], (how, [r["headers"] for r in reqs])
        assert shown == ["acme.my.salesforce.com\tFALSE\t/\tFALSE\t0\ta\t1",
                         "acme.my.salesforce.com\tFALSE\t/\tFALSE\t0\tb\t2"], (how, shown)
