"""Rate limits, in throttle mode: a 429 from the proxy is recorded in the
shared state file (however the transfer ends) and later calls on that route,
in any process, fail at once (on_block = "fail") or wait (on_block = "wait")
until the retry time; lock-outs until `ampshim clear`, the retry headers'
forms, a libcurl without curl_easy_header(), a dozen processes at once, the
state file's modes and a planted symlink, and a 429 of the application's own
proxy (not recorded). The answer in HTTP (on_block = "respond") is in
respond.py."""

import hashlib
import json
import os
import subprocess
import time

from .harness import (
    AMPSHIM, PY, SF, Skip, assert_amp_headers, client, http_date, mark_all, ok, one, parse_lines, prog,
    queue_429, rl_cfg, switched, test,
)


def code_of(p):
    return p.stdout.decode().strip()


@test
def rl_429_blocks_later_processes_until_retry_time(ctx):
    cfg, _ = rl_cfg(ctx, "rl-basic")
    retry_at = int(time.time()) + 3
    queue_429(ctx, http_date(retry_at), "true")
    mark_all(ctx)
    p = ctx.curl("-w", "%{http_code}", SF + "/services/data/v56.0/limits", cfg=cfg)
    assert p.returncode == 0 and p.stdout == b"slow down429", p.stdout  # the app gets the 429
    assert len(ctx.proxy.requests()) == 1
    # A new process, before the retry time: nothing leaves the machine.
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/services/data/v56.0/limits", cfg=cfg)
    assert p.returncode == 55, (p.returncode, p.stderr)
    err = p.stderr.decode()
    assert "rate limited until" in err and "https://*.my.salesforce.com" in err, err
    assert "installation inst-sf-1" in err and "X-Amp-Retry-After" in err, err
    assert ctx.proxy.requests() == []
    # Another route is not affected.
    ok(ctx.curl("https://slack.com/api/auth.test", cfg=cfg))
    assert len(ctx.proxy.requests()) == 1
    # After the retry time the call goes through.
    time.sleep(max(0, retry_at - time.time()) + 0.2)
    mark_all(ctx)
    p = ok(ctx.curl("-w", "%{http_code}", "-o", "/dev/null", SF + "/services/data/v56.0/limits", cfg=cfg))
    assert p.stdout == b"200"
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def rl_c_client_second_perform_blocked(ctx):
    cfg, _ = rl_cfg(ctx, "rl-client")
    queue_429(ctx, http_date(int(time.time()) + 60))
    mark_all(ctx)
    p = client(ctx, "--repeat", "2", SF + "/services/data/v56.0/query", cfg=cfg)
    lines = p.stdout.decode().splitlines()
    assert lines[0].startswith("perform 1: rc=0 status=429"), lines
    assert lines[1].startswith("perform 2: rc=55 "), lines
    assert "err=ampshim: route https://*.my.salesforce.com (installation inst-sf-1) is rate limited until" in lines[1], lines[1]
    assert "url=" + SF + "/services/data/v56.0/query " in lines[1], lines[1]
    assert len(ctx.proxy.requests()) == 1


@test
def rl_wait_mode_waits_then_sends(ctx):
    cfg, _ = rl_cfg(ctx, "rl-wait", 'on_block = "wait"; max_wait = 10;')
    retry_at = int(time.time()) + 2
    queue_429(ctx, http_date(retry_at))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    mark_all(ctx)
    t0 = time.time()
    p = ok(ctx.curl("-w", "%{http_code}", "-o", "/dev/null", SF + "/x", cfg=cfg,
                    env=ctx.env(AMPSHIM_LOG="info")))
    assert p.stdout == b"200", p.stdout
    assert time.time() >= retry_at, "sent before the retry time"
    assert time.time() - t0 >= 0.5, "did not wait"
    assert "waiting" in p.stderr.decode(), p.stderr
    assert one(ctx.proxy)["status"] == 200


@test
def rl_wait_mode_longer_block_fails_at_once(ctx):
    cfg, _ = rl_cfg(ctx, "rl-wait-long", 'on_block = "wait"; max_wait = 5;')
    queue_429(ctx, http_date(int(time.time()) + 120))
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    mark_all(ctx)
    t0 = time.time()
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 55 and time.time() - t0 < 3, (p.returncode, time.time() - t0)
    assert ctx.proxy.requests() == []


@test
def rl_not_retryable_locks_until_clear(ctx):
    cfg, _ = rl_cfg(ctx, "rl-lock")
    queue_429(ctx, http_date(int(time.time()) + 1), "false")
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    time.sleep(1.5)  # past the retry time: a lock-out does not end with it
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 67, (p.returncode, p.stderr)  # CURLE_LOGIN_DENIED
    err = p.stderr.decode()
    assert "locked out" in err and "ampshim clear inst-sf-1" in err, err
    assert ctx.proxy.requests() == []
    st = ok(subprocess.run([AMPSHIM, "state", "-c", cfg], capture_output=True, env=ctx.env()))
    out = st.stdout.decode()
    assert "LOCKED  inst-sf-1" in out and "https://*.my.salesforce.com" in out, out
    ok(subprocess.run([AMPSHIM, "clear", "-c", cfg, "inst-sf-1"], capture_output=True, env=ctx.env()))
    st = ok(subprocess.run([AMPSHIM, "state", "-c", cfg], capture_output=True, env=ctx.env()))
    assert "no route is blocked" in st.stdout.decode(), st.stdout
    ok(ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg))
    assert len(ctx.proxy.requests()) == 1


@test
def rl_lockout_hold_expires(ctx):
    cfg, _ = rl_cfg(ctx, "rl-hold", "lockout_hold = 2;")
    queue_429(ctx, http_date(int(time.time())), "false")
    ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 67 and "or until" in p.stderr.decode(), p.stderr
    time.sleep(2.2)
    mark_all(ctx)
    ok(ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg))
    assert len(ctx.proxy.requests()) == 1


@test
def rl_unparsable_time_holds_default_backoff(ctx):
    cfg, _ = rl_cfg(ctx, "rl-garbage", "default_backoff = 45;")
    queue_429(ctx, "whenever you like")
    p = ctx.curl("-w", "%{http_code}", "-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.stdout == b"429", p.stdout
    assert "unparsable X-Amp-Retry-After 'whenever you like'" in p.stderr.decode(), p.stderr
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 55 and "(in 4" in p.stderr.decode(), p.stderr  # 45s or 44s left
    assert ctx.proxy.requests() == []


@test
def rl_retry_time_empty_or_a_year_ahead_said_plainly(ctx):
    """An empty X-Amp-Retry-After is no retry time (its bare CR never printed on
    the host's stderr); a date more than a year ahead is said to be that, not
    unparsable. Both hold the default backoff (found by the hostile review)."""
    cfg, _ = rl_cfg(ctx, "rl-plain-words", "default_backoff = 45;")
    queue_429(ctx, "")
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    err = p.stderr.decode()
    assert "answered 429" in err and "(no retry time: held for throttle.default_backoff = 45s)" in err, err
    assert b"\r" not in p.stderr, p.stderr
    ok(subprocess.run([AMPSHIM, "clear", "-c", cfg], capture_output=True, env=ctx.env()))
    far = http_date(int(time.time()) + 2 * 366 * 86400)
    queue_429(ctx, far)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    err = p.stderr.decode()
    assert "an X-Amp-Retry-After more than a year ahead '%s'" % far in err, err
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 55 and "(in 4" in p.stderr.decode(), p.stderr
    assert ctx.proxy.requests() == []


@test
def rl_standard_retry_after_seconds(ctx):
    cfg, _ = rl_cfg(ctx, "rl-seconds")
    queue_429(ctx, extra={"Retry-After": "30"})
    ctx.curl("-o", "/dev/null", "https://slack.com/api/chat.postMessage", cfg=cfg)
    p = ctx.curl("-o", "/dev/null", "https://slack.com/api/chat.postMessage", cfg=cfg)
    assert p.returncode == 55 and "with Retry-After" in p.stderr.decode(), p.stderr
    assert "integration slack-main group grp-42" in p.stderr.decode()


@test
def rl_header_callback_of_a_kept_handle_sees_every_line_and_the_next_429(ctx):
    """A handle kept from one perform to the next, with a header callback of
    the application's (as PHP, the curl tool, R): answers of 30 lines reach
    it whole and in order, the lines after a 200's status line handed on
    without being looked at; a second perform is set up as the first was
    (begin's short way), a third gets a 429, which is looked at all the same
    and blocks the fourth; a callback set anew between performs gets the
    next answer's lines."""
    cfg, _ = rl_cfg(ctx, "rl-kept-callback")
    many = [["X-Line-%02d" % k, "v%d" % k] for k in range(30)]
    retry_at = int(time.time()) + 600
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [
        {"status": 200, "headers": many, "body": "one"},
        {"status": 200, "headers": many, "body": "two"},
        {"status": 200, "headers": many, "body": "three"},
        {"status": 429, "headers": [["X-Amp-Retry-After", http_date(retry_at)]] + many,
         "body": "slow down"},
    ])
    prog = (
        "import pycurl, io, sys\n"
        "lines = {'first': [], 'later': []}\n"
        "sink = lines['first']\n"
        "c = pycurl.Curl()\n"
        "c.setopt(c.URL, sys.argv[1])\n"
        "c.setopt(c.HEADERFUNCTION, lambda l: lines['first'].append(l))\n"
        "c.setopt(c.WRITEDATA, io.BytesIO())\n"
        "def go(tag):\n"
        "    del sink[:]\n"
        "    try:\n"
        "        c.perform()\n"
        "        code = c.getinfo(c.RESPONSE_CODE)\n"
        "    except pycurl.error as e:\n"
        "        code = 'error %d' % e.args[0]\n"
        "    h = sink\n"
        "    xs = [l.decode().strip() for l in h if l.startswith(b'X-Line-')]\n"
        "    print(tag, code, len(h), h[0].decode().strip() if h else '-', h[-1] if h else '-',\n"
        "          ' '.join(xs))\n"
        "go('first')\n"
        "go('second')\n"
        "sink = lines['later']\n"
        "c.setopt(c.HEADERFUNCTION, lambda l: lines['later'].append(l))\n"
        "go('third')\n"
        "go('blocked')\n"
        "go('fourth')\n")
    # The second perform: nothing set since the first (begin's short way);
    # the third: a header callback set anew (the long way); the fourth:
    # nothing set since the third.
    p = ok(ctx.run([PY, "-c", prog, SF + "/kept"], cfg=cfg))
    rows = p.stdout.decode().splitlines()
    want = " ".join("X-Line-%02d: v%d" % (k, k) for k in range(30))
    counts = set()
    for tag, row in zip(("first", "second", "third"), rows):
        t, code, n, rest = row.split(" ", 3)
        assert (t, code) == (tag, "200") and rest.endswith(" " + want), row
        assert rest.startswith("HTTP/1.1 200 ") and "b'\\r\\n'" in rest, row
        counts.add(n)
    assert len(counts) == 1, rows  # the same lines, none lost or doubled
    t, code, n, rest = rows[3].split(" ", 3)
    assert (t, code) == ("blocked", "429") and rest.startswith("HTTP/1.1 429") and rest.endswith(want), rows[3]
    assert rows[4].startswith("fourth error 55 "), rows
    reqs = ctx.proxy.requests()
    assert [r["target"] for r in reqs] == ["/kept"] * 4, reqs
    for r in reqs[:3]:
        assert_amp_headers(r, installation="inst-sf-1")
    ours = [h for h in reqs[2]["headers"] if h[0].lower().startswith("x-a")]
    assert ours and [h for h in reqs[3]["headers"] if h[0].lower().startswith("x-a")] == ours, reqs[3]


@test
def rl_php_kept_handle_header_callback_sees_every_line_and_the_next_429(ctx):
    """The same with php-cli's php-curl, which always reads headers with a
    callback of its own (CURLOPT_HEADERFUNCTION given or not): one handle
    kept, three 200s of 30 lines each to the application's header
    function, whole and in order, then a 429 that blocks the next call."""
    cfg, _ = rl_cfg(ctx, "rl-php-kept")
    many = [["X-Line-%02d" % k, "v%d" % k] for k in range(30)]
    mark_all(ctx)
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 200, "headers": many, "body": "ok"}] * 3 + [
        {"status": 429, "headers": [["X-Amp-Retry-After", http_date(int(time.time()) + 600)]],
         "body": "slow down"}])
    prog = (
        '$c = curl_init($argv[1]);'
        'curl_setopt($c, CURLOPT_RETURNTRANSFER, true);'
        '$lines = [];'
        'curl_setopt($c, CURLOPT_HEADERFUNCTION, function ($c, $l) use (&$lines) {'
        '  $lines[] = $l; return strlen($l); });'
        'foreach (["a", "b", "c", "429", "blocked"] as $tag) {'
        '  $lines = []; $body = curl_exec($c);'
        '  $x = array_values(array_filter($lines, function ($l) { return strpos($l, "X-Line-") === 0; }));'
        '  echo $tag, " ", curl_errno($c), " ", curl_getinfo($c, CURLINFO_RESPONSE_CODE), " ",'
        '    count($lines), " ", md5(implode("", $x)), " ", $lines ? $lines[count($lines) - 1] === "\\r\\n" : 0, "\\n";'
        '}')
    p = ok(ctx.run(["php", "-r", prog, "--", SF + "/php-kept"], cfg=cfg), "php")
    rows = [r.split() for r in p.stdout.decode().splitlines()]
    want = hashlib.md5("".join("X-Line-%02d: v%d\r\n" % (k, k) for k in range(30)).encode()).hexdigest()
    assert [r[:3] for r in rows[:4]] == [["a", "0", "200"], ["b", "0", "200"], ["c", "0", "200"],
                                         ["429", "0", "429"]], rows
    assert rows[4][:2] == ["blocked", "55"] and rows[4][3] == "0", rows  # no line: nothing sent
    assert all(r[4] == want and r[5] == "1" for r in rows[:3]) and rows[0][3] == rows[1][3] == rows[2][3], rows
    assert [r["target"] for r in ctx.proxy.requests()] == ["/php-kept"] * 4


@test
def rl_header_callback_fallback(ctx):
    """Where libcurl lacks curl_easy_header(): our header callback reads
    the 429 and still gives the application every header (the tests' library,
    with curl_easy_header() switched off)."""
    cfg, _ = rl_cfg(ctx, "rl-callback")
    queue_429(ctx, http_date(int(time.time()) + 60), "true")
    dump = os.path.join(ctx.dir, "headers.txt")

    def run(cmd):
        return switched(ctx, cmd, cfg, AMPSHIM_NO_HEADER_API="1")
    p = run(["curl", "-sS", "-D", dump, "-o", "/dev/null", SF + "/x"])
    assert p.returncode == 0
    got = open(dump).read()
    assert got.startswith("HTTP/1.1 429") and "X-Amp-Retry-After:" in got and "X-Amp-Retryable: true" in got, got
    mark_all(ctx)
    p = run(["curl", "-sS", "-o", "/dev/null", SF + "/x"])
    assert p.returncode == 55, p.stderr
    assert ctx.proxy.requests() == []
    # pycurl with a HEADERFUNCTION of its own, and a plain 200: every header arrives.
    ok(subprocess.run([AMPSHIM, "clear", "-c", cfg], capture_output=True, env=ctx.env()))
    prog = ("import pycurl,io,sys\nh=[]\nc=pycurl.Curl()\nc.setopt(c.URL,sys.argv[1])\n"
            "c.setopt(c.HEADERFUNCTION,h.append)\nc.setopt(c.WRITEDATA,io.BytesIO())\nc.perform()\n"
            "print(c.getinfo(c.RESPONSE_CODE), any(l.startswith(b'X-Mock-Mode') for l in h), h[0].strip())\n")
    p = ok(run([PY, "-c", prog, SF + "/y"]))
    assert p.stdout.decode().strip() == "200 True b'HTTP/1.1 200 OK'", p.stdout


@test
def rl_dozen_concurrent_processes_honour_block(ctx):
    cfg, _ = rl_cfg(ctx, "rl-many")
    queue_429(ctx, http_date(int(time.time()) + 60))
    ctx.curl("-o", "/dev/null", SF + "/first", cfg=cfg)
    mark_all(ctx)
    procs = [subprocess.Popen([AMPSHIM, "run", "-c", cfg, "--", "curl", "-sS", "-o", "/dev/null",
                               SF + "/n%d" % i], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=ctx.env()) for i in range(12)]
    codes = [p.wait(timeout=30) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert codes == [55] * 12, codes
    assert ctx.proxy.requests() == []


@test
def rl_state_file_private_and_symlink_refused(ctx):
    run = os.path.join(ctx.dir, "xdg-run")
    os.makedirs(run, mode=0o700)
    queue_429(ctx, http_date(int(time.time()) + 60))
    p = ctx.curl("-o", "/dev/null", SF + "/x", env=ctx.env(XDG_RUNTIME_DIR=run))
    folder = os.path.join(run, "ampshim")
    assert os.stat(folder).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(folder, "state")).st_mode & 0o777 == 0o600
    # A planted symlink is refused, never followed; calls still work.
    target = os.path.join(ctx.dir, "victim.txt")
    open(target, "w").write("precious\n")
    link = os.path.join(ctx.dir, "planted.state")
    os.symlink(target, link)
    cfg = ctx.write_cfg("rl-symlink.cfg", ctx.config() + 'throttle: { state_file = "%s"; };\n' % link)
    ctx.proxy.control("reset")
    mark_all(ctx)
    p = ok(ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg))
    assert "symlink" in p.stderr.decode(), p.stderr
    assert open(target).read() == "precious\n"
    assert len(ctx.proxy.requests()) == 1


@test
def rl_429_recorded_however_the_transfer_ends(ctx):
    """A 429 is recorded when its headers arrive: no curl_multi_info_read,
    a multi handle cleaned up with the transfer in it, a handle cleaned up in
    its multi, a header callback that stops at the status line, a long-jump
    out of the transfer. The next process sends nothing."""
    for mode in ("noinfo", "multi-cleanup", "easy-cleanup", "abort-status", "longjmp", "pause"):
        cfg, _ = rl_cfg(ctx, "ending-" + mode)
        queue_429(ctx, http_date(int(time.time()) + 60))
        mark_all(ctx)
        p = ctx.run([prog("ending_client"), mode, SF + "/ending/" + mode], cfg=cfg)
        assert p.returncode == 0, (mode, p.returncode, p.stderr)
        out = p.stdout.decode()
        assert "status=429" in out or mode in ("abort-status", "longjmp"), (mode, out)
        assert len(ctx.proxy.requests()) == 1, mode
        mark_all(ctx)
        p = ctx.curl("-o", "/dev/null", SF + "/ending/next", cfg=cfg)
        assert p.returncode == 55, (mode, p.returncode, p.stderr)
        assert ctx.proxy.requests() == [], mode
    # After all that, the handle is the application's again: a new perform
    # on it (after a remove, or after its multi handle is gone) is routed anew.
    mark_all(ctx)
    for mode in ("noinfo", "multi-cleanup"):
        p = ok(ctx.run([prog("ending_client"), mode, SF + "/again/" + mode, SF + "/again/" + mode + "-2"]))
        rows = parse_lines(p.stdout)
        assert [r["status"] for r in rows] == ["200", "200"], (mode, rows)
        assert rows[1]["url"].startswith(SF + "/again/" + mode), rows
    assert sorted(r["target"] for r in ctx.proxy.requests()) == sorted(
        ["/again/noinfo", "/again/noinfo-2", "/again/multi-cleanup", "/again/multi-cleanup"])


@test
def rl_429_recorded_without_a_header_callback(ctx):
    """A program with no header callback, on curl_easy_perform to the plain
    relay, has none of ours either (AMP_MODE_LEAN): its 429 is recorded
    from the first of its body, or, with none, as the perform returns, its
    retry time read from the headers libcurl kept; the next call is stopped
    here, and the program's own write callback sees every body byte."""
    for body in ("slow down", ""):
        cfg, _ = rl_cfg(ctx, "rl-lean-%d" % len(body))
        ctx.proxy.control("reset")
        ctx.proxy.control("queue", [
            {"status": 200, "headers": {}, "body": "fine"},
            {"status": 429, "headers": {"X-Amp-Retry-After": http_date(int(time.time()) + 60),
                                        "X-Amp-Retryable": "true"}, "body": body},
        ])
        mark_all(ctx)
        p = client(ctx, SF + "/lean/a", SF + "/lean/b", SF + "/lean/c", cfg=cfg)
        lines = p.stdout.decode().splitlines()
        assert len(lines) == 3, (lines, p.stderr)
        assert lines[0].startswith("perform 1: rc=0 status=200"), lines
        assert lines[1].startswith("perform 2: rc=0 status=429"), lines
        assert lines[2].startswith("perform 3: rc=55 "), lines
        err = p.stderr.decode()
        assert "answered 429: blocked until" in err and "usable retry time" not in err, err
        assert len(ctx.proxy.requests()) == 2, (lines, p.stderr, ctx.proxy.requests())


@test
def rl_429_after_long_answers_on_the_same_handle(ctx):
    """A handle whose answers are long has the rest of a 200's lines handed
    to the application by libcurl itself once the status is read
    (ratelimit.c): every line still reaches the application's header
    callback, and the next transfer on the handle is watched again, its 429
    recorded (the call after it stopped here), each answer counted."""
    cfg, _ = rl_cfg(ctx, "rl-long")
    many = [["X-Filler-%d" % i, "v%d" % i] for i in range(16)]
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [
        {"status": 200, "headers": many, "body": "first"},
        {"status": 200, "headers": many, "body": "second"},
        {"status": 429, "headers": {"X-Amp-Retry-After": http_date(int(time.time()) + 60),
                                    "X-Amp-Retryable": "true"}, "body": "slow down"},
    ])
    mark_all(ctx)
    p = client(ctx, "--lines", "1", SF + "/a", SF + "/b", SF + "/c", SF + "/d", cfg=cfg)
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 4, (lines, p.stderr)
    first, second = (int(l.rsplit("lines=", 1)[1]) for l in lines[:2])
    assert lines[0].startswith("perform 1: rc=0 status=200"), lines
    assert lines[1].startswith("perform 2: rc=0 status=200"), lines
    # The status line, the 16 fillers and the mock's own, the blank line:
    # the same count whoever handed them on.
    assert first == second and first >= 19, (first, second)
    assert lines[2].startswith("perform 3: rc=0 status=429"), lines
    assert lines[3].startswith("perform 4: rc=55 "), lines
    assert len(ctx.proxy.requests()) == 3
    out = subprocess.run([AMPSHIM, "stats", "--json", "-c", cfg], capture_output=True, env=ctx.env())
    routes = {r["route"]: r for r in json.loads(out.stdout)["routes"]}
    sf = [r for name, r in routes.items() if "salesforce" in name]
    assert len(sf) == 1 and sf[0]["answers"]["2xx"] == 2 and sf[0]["answers"]["4xx"] == 1, routes


@test
def rl_429_of_the_apps_own_proxy_not_recorded(ctx):
    """The application's HTTP proxy refusing a CONNECT with 429 is not Ampersand
    rate limiting the route: nothing is recorded."""
    cfg = ctx.write_cfg("connect-429.cfg", ctx.config(proxy_url="https://127.0.0.1:%d" % ctx.tls.port) +
                        'throttle: { state_file = "%s"; };\n' % os.path.join(ctx.dir, "connect-429.state"))
    ctx.plain.control("reset")
    ctx.plain.control("queue", {"status": 429, "headers": {"Retry-After": "120"}, "body": ""})
    try:
        p = ctx.curl("-x", ctx.plain.url(), "-o", "/dev/null", SF + "/x", cfg=cfg, env=ctx.env(NO_PROXY=""))
        assert p.returncode == 56, (p.returncode, p.stderr)  # CONNECT tunnel failed
        assert [r["method"] for r in ctx.plain.requests()][-1:] == ["CONNECT"], ctx.plain.requests()
    finally:
        ctx.plain.control("reset")
    st = ok(subprocess.run([AMPSHIM, "state", "-c", cfg], capture_output=True, env=ctx.env()))
    assert "no route is blocked" in st.stdout.decode(), st.stdout


@test
def rl_429_of_another_process_stops_a_handle_sent_again_as_it_was(ctx):
    """A long-lived pycurl handle (no header callback: lean, and sent again
    as its last transfer was, ampshim's short way) performing the same URL:
    another process's 429 on its route, 60 ms before its next perform,
    stops that perform here (within the state's 50 ms), nothing sent; and
    the handle's own next perform is stopped too."""
    cfg, _ = rl_cfg(ctx, "rl-other-process")
    script = ("import pycurl, sys\n"
              "c = pycurl.Curl(); got = []\n"
              "c.setopt(pycurl.WRITEFUNCTION, got.append); c.setopt(pycurl.URL, sys.argv[1])\n"
              "def go():\n"
              "    try:\n"
              "        c.perform(); return c.getinfo(pycurl.RESPONSE_CODE)\n"
              "    except pycurl.error as e:\n"
              "        return 'E%d' % e.args[0]\n"
              "for line in sys.stdin:\n"
              "    print(' '.join(str(go()) for _ in range(int(line))), flush=True)\n")
    ctx.proxy.control("reset")
    mark_all(ctx)
    p = subprocess.Popen([AMPSHIM, "run", "-c", cfg, "--", PY, "-c", script, SF + "/long/lived"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=ctx.env(), text=True)
    try:
        p.stdin.write("3\n")
        p.stdin.flush()
        assert p.stdout.readline().split() == ["200"] * 3
        queue_429(ctx, http_date(int(time.time()) + 60), "true")
        other = ctx.curl("-o", "/dev/null", "-w", "%{http_code}", SF + "/other", cfg=cfg)
        assert other.stdout == b"429", other
        time.sleep(0.06)
        p.stdin.write("2\n")
        p.stdin.flush()
        assert p.stdout.readline().split() == ["E55"] * 2
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    assert [r["target"] for r in ctx.proxy.requests()] == ["/long/lived"] * 3 + ["/other"]
    err = p.stderr.read()
    assert "rate limited until" in err, err
    p.stdout.close()
    p.stderr.close()


@test
def rl_429_read_after_the_application_paused_in_its_header_callback(ctx):
    """An application that pauses in its header callback (CURL_WRITEFUNC_PAUSE,
    pycurl here, unpaused from its progress callback): libcurl's header store
    then misses some of the 429's headers (curl_easy_header() finds no
    X-Amp-Retry-After), which our header callback was handed all the same.
    The block lasts until the proxy's retry time, not the default backoff
    (found by the hostile review)."""
    cfg, _ = rl_cfg(ctx, "rl-paused")
    retry_at = int(time.time()) + 600
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", {"status": 429, "body": "slow down", "headers": [
        ["X-Amp-Retryable", "true"], ["Content-Type", "text/plain"],
        ["X-Amp-Retry-After", http_date(retry_at)]]})
    prog = ("import pycurl,io,sys\nc=pycurl.Curl()\nst={'p':0}\n"
            "def hdr(l):\n"
            "    if st['p']==0:\n        st['p']=1\n        return pycurl.WRITEFUNC_PAUSE\n"
            "def prog(*a):\n"
            "    if st['p']==1:\n        st['p']=2\n        c.pause(pycurl.PAUSE_CONT)\n"
            "c.setopt(c.URL,sys.argv[1])\nc.setopt(c.HEADERFUNCTION,hdr)\nc.setopt(c.NOPROGRESS,0)\n"
            "c.setopt(c.XFERINFOFUNCTION,prog)\nc.setopt(c.WRITEDATA,io.BytesIO())\nc.setopt(c.TIMEOUT,20)\n"
            "c.perform()\nprint(c.getinfo(c.RESPONSE_CODE), st['p'])\n")
    p = ok(ctx.run([PY, "-c", prog, SF + "/x"], cfg=cfg))
    assert p.stdout.decode().split() == ["429", "2"], (p.stdout, p.stderr)
    st = json.loads(ok(subprocess.run([AMPSHIM, "state", "--json", "-c", cfg], capture_output=True,
                                      env=ctx.env())).stdout)
    (b,) = st["blocks"]
    assert b["retry_at"] == retry_at and "X-Amp-Retry-After" in b["reason"], b


FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


@test
def rl_block_recorded_before_the_clock_went_back_ends(ctx):
    """A block recorded, then the clock set back a day (faketime): its retry
    time, read against that clock, is a day and more away, and the route
    would stay blocked that long (sixty years, set back sixty). A block
    recorded more than a minute in the future says the clock moved: it ends,
    and the next call asks the proxy again, which says again if it still holds
    (found by the hostile review). A lock-out that only `ampshim clear` ends
    is not one of them."""
    if not os.path.exists(FAKETIME):
        raise Skip("faketime is not installed")
    cfg, _ = rl_cfg(ctx, "rl-clock", on_block="respond")
    queue_429(ctx, http_date(int(time.time()) + 120))
    ctx.curl("-o", "/dev/null", SF + "/first", cfg=cfg)
    for back in ("-1d", "-60y"):
        mark_all(ctx)
        p = ctx.curl("-o", "/dev/null", "-w", "%{http_code}", SF + "/x", cfg=cfg,
                     env=ctx.env(LD_PRELOAD=FAKETIME, FAKETIME=back))
        assert p.stdout == b"200", (back, p.stdout, p.stderr)
        assert len(ctx.proxy.requests()) == 1, back
    # At the right time again, the block holds.
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", "-w", "%{http_code}", SF + "/x", cfg=cfg)
    assert p.stdout == b"429" and ctx.proxy.requests() == [], (p.stdout, p.stderr)
    # A lock-out until `ampshim clear`, the clock set back: still locked.
    queue_429(ctx, http_date(int(time.time()) + 120), "false")
    ok(subprocess.run([AMPSHIM, "clear", "-c", cfg], capture_output=True, env=ctx.env()))
    ctx.curl("-o", "/dev/null", SF + "/lock", cfg=cfg)
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", "-w", "%{http_code}", SF + "/x", cfg=cfg,
                 env=ctx.env(LD_PRELOAD=FAKETIME, FAKETIME="-1d"))
    assert p.stdout == b"429" and ctx.proxy.requests() == [], (p.stdout, p.stderr)


@test
def rl_429_values_not_kept_for_a_later_lean_429(ctx):
    """A 429 our header callback read (a transfer following redirects: not
    lean) leaves nothing for a later 429 of the same handle that libcurl
    alone reads (lean: no redirects followed, no header callback): that
    one's block is its own Retry-After's, not the X-Amp-Retry-After of the
    first (found by the per-handle cost review)."""
    cfg, _ = rl_cfg(ctx, "rl-stale")
    first_at = int(time.time()) + 1
    mark_all(ctx)  # the requests counted are this test's alone, whichever ran before
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [
        {"status": 429, "body": "slow down", "headers": {
            "X-Amp-Retry-After": http_date(first_at), "X-Amp-Retryable": "true"}},
        {"status": 429, "body": "slow down", "headers": {"Retry-After": "600"}},
    ])
    sticky = prog("sticky_client")
    p = ctx.run([sticky, "url=" + SF + "/one", "follow=1", "perform", "wait", "wait",
                 "url=" + SF + "/two", "follow=0", "perform"], cfg=cfg)
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 2 and all("status=429" in l for l in lines), (lines, p.stderr)
    assert len(ctx.proxy.requests()) == 2, (lines, p.stderr, ctx.proxy.requests())
    st = json.loads(ok(subprocess.run([AMPSHIM, "state", "--json", "-c", cfg], capture_output=True,
                                      env=ctx.env())).stdout)
    assert len(st["blocks"]) == 1, (st, p.stderr)
    (b,) = st["blocks"]
    assert b["retry_at"] >= int(time.time()) + 590, (b, p.stderr)
    assert "X-Amp-Retry-After" not in b["reason"] and "Retry-After" in b["reason"], b


@test
def rl_429s_on_one_handle_each_read_alone(ctx):
    """Three 429s on one handle, read by our header callback alone (the
    tests' library with curl_easy_header() switched off, as before libcurl
    7.84) and with the application's own header callback paused at each
    answer's first line (pycurl): each block is its own answer's, nothing of
    one 429 is kept for the next (the last says only Retry-After: 600)."""
    prog_text = (
        "import pycurl,io,sys,time\nc=pycurl.Curl()\nst={'p':0}\n"
        "def hdr(l):\n"
        "    if st['p']==0:\n        st['p']=1\n        return pycurl.WRITEFUNC_PAUSE\n"
        "def prog(*a):\n"
        "    if st['p']==1:\n        st['p']=2\n        c.pause(pycurl.PAUSE_CONT)\n"
        "c.setopt(c.HEADERFUNCTION,hdr)\nc.setopt(c.NOPROGRESS,0)\n"
        "c.setopt(c.XFERINFOFUNCTION,prog)\nc.setopt(c.WRITEDATA,io.BytesIO())\nc.setopt(c.TIMEOUT,20)\n"
        "for i,u in enumerate(sys.argv[1:]):\n"
        "    st['p']=0 if sys.argv[0]=='-c' and 'pause' in u else 3\n"
        "    c.setopt(c.URL,u)\n    c.perform()\n    print(c.getinfo(c.RESPONSE_CODE))\n"
        "    if i < len(sys.argv)-2:\n        time.sleep(2.2)\n")
    for how in ("noheaderapi", "pause"):
        cfg, _ = rl_cfg(ctx, "rl-each-" + how)
        soon = http_date(int(time.time()) + 1)
        ctx.proxy.control("reset")
        ctx.proxy.control("queue", [
            {"status": 429, "body": "slow down", "headers": {"X-Amp-Retry-After": soon, "X-Amp-Retryable": "true"}},
            {"status": 429, "body": "slow down", "headers": {"X-Amp-Retry-After": soon}},
            {"status": 429, "body": "slow down", "headers": {"Retry-After": "600"}},
        ])
        urls = [SF + "/%s/%d" % (how, i) for i in range(3)]
        mark_all(ctx)
        cmd = [PY, "-c", prog_text] + urls
        p = (switched(ctx, cmd, cfg, AMPSHIM_NO_HEADER_API="1") if how == "noheaderapi"
             else ctx.run(cmd, cfg=cfg))
        assert p.stdout.decode().split() == ["429"] * 3, (p.stdout, p.stderr)
        assert len(ctx.proxy.requests()) == 3
        st = json.loads(ok(subprocess.run([AMPSHIM, "state", "--json", "-c", cfg], capture_output=True,
                                          env=ctx.env())).stdout)
        assert len(st["blocks"]) == 1, (how, st, p.stderr)
        (b,) = st["blocks"]
        assert b["retry_at"] >= int(time.time()) + 590, (how, b, p.stderr)
        assert "X-Amp-Retry-After" not in b["reason"] and "Retry-After" in b["reason"], (how, b)
        assert not b.get("locked"), (how, b)


@test
def rl_lockout_recorded_ahead_of_the_clock_said_plainly(ctx):
    """A lock-out until `ampshim clear` recorded while the clock was a day
    ahead (faketime), read with the clock right again: it still holds (only
    clear ends it), `ampshim state` says it was recorded ahead of the clock
    instead of "-86400s ago", and `ampshim clear` ends it."""
    if not os.path.exists(FAKETIME):
        raise Skip("faketime is not installed")
    cfg, _ = rl_cfg(ctx, "rl-lock-ahead")
    queue_429(ctx, http_date(int(time.time()) + 86400 + 120), "false")
    ctx.curl("-o", "/dev/null", SF + "/lock", cfg=cfg, env=ctx.env(LD_PRELOAD=FAKETIME, FAKETIME="+1d"))
    mark_all(ctx)
    p = ctx.curl("-o", "/dev/null", SF + "/x", cfg=cfg)
    assert p.returncode == 67 and ctx.proxy.requests() == [], (p.returncode, p.stderr)
    out = ok(subprocess.run([AMPSHIM, "state", "-c", cfg], capture_output=True, env=ctx.env())).stdout.decode()
    assert "LOCKED  inst-sf-1" in out and "s ago" not in out, out
    assert "ahead of the clock" in out, out
    cl = ok(subprocess.run([AMPSHIM, "clear", "-c", cfg], capture_output=True, env=ctx.env()))
    assert "cleared 1 blocked route" in cl.stdout.decode(), cl.stdout
    ok(ctx.curl("-o", "/dev/null", SF + "/y", cfg=cfg))
    assert len(ctx.proxy.requests()) == 1
