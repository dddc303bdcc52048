"""The files ampshim keeps for every process of the user (the rate-limit
state and the counters beside it), as a program that does unusual things
with its descriptors, forks, or shares /tmp with other users sees them:
the descriptors stay ours and the application's stay its own, a child never
counts its parent's calls, another user's folder is never used, and the
counters file's corner cases are quiet and write nothing where they must not."""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

from .harness import AMPSHIM, LIB, PY, SF, http_date, ok, queue_429, rl_cfg, test

# A pycurl host: routed calls, each line "NAME STATUS" (0 when refused).
CALLS = (
    "import os, sys, pycurl\n"
    "def call(u):\n"
    "    c = pycurl.Curl(); c.setopt(c.URL, u); c.setopt(c.WRITEFUNCTION, lambda b: None)\n"
    "    try:\n"
    "        c.perform(); s = c.getinfo(c.RESPONSE_CODE)\n"
    "    except pycurl.error:\n"
    "        s = 0\n"
    "    c.close(); return s\n"
)


def stats_json(ctx, cfg, env=None, prefix=()):
    p = subprocess.run([*prefix, AMPSHIM, "stats", "-c", cfg, "--json"], capture_output=True,
                       env=env or ctx.env(), timeout=30)
    assert p.returncode == 0, p
    return {r["route"].split(" ")[0]: r for r in json.loads(p.stdout)["routes"]}


@test
def state_descriptor_taken_by_the_application_is_left_alone(ctx):
    """A daemon-like program puts its log file on the number of our state
    file's descriptor (as closing everything and opening a log does). The
    next routed call, which gets a 429, neither closes nor writes that
    descriptor: the log holds exactly the program's lines, the state file is
    still a state file, and the block it records stops the call after it."""
    cfg, state = rl_cfg(ctx, "fdtaken")
    log = os.path.join(ctx.dir, "fdtaken.log")
    prog_ = CALLS + (
        "state, log, base = sys.argv[1:4]\n"
        "print('one', call(base + '/one'))\n"
        "fds = [int(f) for f in os.listdir('/proc/self/fd')\n"
        "       if os.path.realpath('/proc/self/fd/' + f) == os.path.realpath(state)]\n"
        "assert fds, 'no state descriptor'\n"
        "lfd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)\n"
        "os.dup2(lfd, fds[0]); os.close(lfd)\n"
        "os.write(fds[0], b'app line 1\\n')\n"
        "__import__('time').sleep(0.1)\n"
        "print('two', call(base + '/two'))\n"
        "os.write(fds[0], b'app line 2\\n')\n"
        "__import__('time').sleep(0.1)\n"
        "print('three', call(base + '/three'))\n"
        "os.write(fds[0], b'app line 3\\n')\n")
    ctx.proxy.control("reset")
    ctx.proxy.control("queue", [{"status": 200, "body": "fine"},
                                {"status": 429, "body": "slow down",
                                 "headers": {"X-Amp-Retry-After": http_date(time.time() + 300)}}])
    ctx.proxy.mark()
    p = ok(subprocess.run([PY, "-c", prog_, state, log, SF], capture_output=True, timeout=30,
                          env=ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg)))
    assert p.stdout.decode().split() == ["one", "200", "two", "429", "three", "0"], p
    with open(log, "rb") as f:
        assert f.read() == b"app line 1\napp line 2\napp line 3\n", p.stderr
    with open(state, "rb") as f:
        assert f.read(8) == b"AMPSHIMS"
    assert [r["target"] for r in ctx.proxy.requests()] == ["/one", "/two"]


@test
def forked_children_do_not_count_their_parents_calls(ctx):
    """Five routed calls, then four children, one of which makes a call of
    its own, each ending normally (exit handlers run): the counters say six,
    not the parent's unflushed calls again for every child."""
    cfg, state = rl_cfg(ctx, "forkcount")
    prog_ = CALLS + (
        "for i in range(5):\n"
        "    assert call(sys.argv[1] + '/p%d' % i) == 200\n"
        "kids = []\n"
        "for i in range(4):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        if i == 0:\n"
        "            assert call(sys.argv[1] + '/child') == 200\n"
        "        sys.exit(0)\n"
        "    kids.append(pid)\n"
        "for pid in kids:\n"
        "    assert os.waitpid(pid, 0)[1] == 0\n"
        "print('done')\n")
    ctx.proxy.control("reset")
    ok(subprocess.run([PY, "-c", prog_, SF], capture_output=True, timeout=30,
                      env=ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg)))
    sf = stats_json(ctx, cfg)["https://*.my.salesforce.com"]
    assert sf["routed"] == 6 and sf["answers"]["2xx"] == 6, sf


@test
def forked_children_ending_with_exit_underscore_are_counted(ctx):
    """Children that make several calls within a second and end with _exit
    (no exit handlers: Python's multiprocessing workers end so): every call
    is counted, once."""
    cfg, state = rl_cfg(ctx, "forkexit")
    prog_ = CALLS + (
        "import multiprocessing\n"
        "assert call(sys.argv[1] + '/parent') == 200\n"
        "kids = []\n"
        "for i in range(5):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        ok = all(call(sys.argv[1] + '/c%d/%d' % (i, j)) == 200 for j in range(3))\n"
        "        os._exit(0 if ok else 1)\n"
        "    kids.append(pid)\n"
        "for pid in kids:\n"
        "    assert os.waitpid(pid, 0)[1] == 0\n"
        "with multiprocessing.get_context('fork').Pool(4) as pool:\n"
        "    assert pool.map(call, [sys.argv[1] + '/mp%d' % i for i in range(20)]) == [200] * 20\n"
        "print('done')\n")
    ctx.proxy.control("reset")
    ok(subprocess.run([PY, "-c", prog_, SF], capture_output=True, timeout=60,
                      env=ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg)))
    sf = stats_json(ctx, cfg)["https://*.my.salesforce.com"]
    assert sf["routed"] == 36 and sf["answers"]["2xx"] == 36, sf


@test
def multi_transfer_run_in_parent_and_child_is_counted_routed_in_each(ctx):
    """A transfer added to a multi handle before fork and run by both the
    parent and the child is sent by each: each counts it routed where it
    sends it (and its answer), so the counters say two of each."""
    cfg, state = rl_cfg(ctx, "forkmulti")
    prog_ = (
        "import os, sys, pycurl\n"
        "m = pycurl.CurlMulti(); c = pycurl.Curl()\n"
        "c.setopt(c.URL, sys.argv[1] + '/both'); c.setopt(c.WRITEFUNCTION, len)\n"
        "m.add_handle(c)\n"
        "pid = os.fork()\n"
        "while m.perform()[1]:\n"
        "    m.select(1.0)\n"
        "assert m.info_read()[1] == [c], 'not done'\n"
        "assert c.getinfo(c.RESPONSE_CODE) == 200\n"
        "m.remove_handle(c); c.close()\n"
        "if pid == 0:\n"
        "    os._exit(0)\n"
        "assert os.waitpid(pid, 0)[1] == 0\n"
        "print('done')\n")
    ctx.proxy.control("reset")
    ctx.proxy.mark()
    p = ok(subprocess.run([PY, "-c", prog_, SF], capture_output=True, timeout=30,
                          env=ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg)))
    assert p.stdout == b"done\n", p
    assert [r["target"] for r in ctx.proxy.requests()] == ["/both", "/both"]
    sf = stats_json(ctx, cfg)["https://*.my.salesforce.com"]
    assert sf["routed"] == 2 and sf["answers"]["2xx"] == 2, sf


@test
def state_folder_of_another_user_is_passed_over(ctx):
    """/tmp/ampshim-UID made, world-writable, by another user: the user's
    processes (no XDG_RUNTIME_DIR) agree on a private folder of their own
    instead, so a block recorded by one stops the next process's call, the
    counters count, the launcher finds both, and each process says once
    where the state went."""
    uid = 50000 + os.getpid() % 10000
    theirs = "/tmp/ampshim-%d" % uid
    work = tempfile.mkdtemp(prefix="ampshim-it-uid-")
    as_user = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]
    try:
        for old in glob.glob(theirs) + glob.glob(theirs + ".*"):
            shutil.rmtree(old)
        os.mkdir(theirs)
        os.chown(theirs, 65534, 65534)
        os.chmod(theirs, 0o777)
        os.chown(work, uid, uid)
        cfg = os.path.join(work, "user.cfg")
        with open(cfg, "w") as f:
            f.write(ctx.config() + 'throttle: { on_block = "fail"; };\n')
        os.chown(cfg, uid, uid)
        env = ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg, HOME=work)
        env.pop("XDG_RUNTIME_DIR", None)
        queue_429(ctx, retry_after=http_date(time.time() + 300))
        ctx.proxy.mark()
        first = subprocess.run(as_user + ["curl", "-sS", "-o", "/dev/null", SF + "/first"],
                               capture_output=True, env=env, timeout=30)
        second = subprocess.run(as_user + ["curl", "-sS", "-o", "/dev/null", SF + "/second"],
                                capture_output=True, env=env, timeout=30)
        assert [r["target"] for r in ctx.proxy.requests()] == ["/first"], (first, second)
        assert second.returncode != 0, second
        ours = theirs + ".1"
        err = first.stderr.decode()
        assert err.count(ours) == 1 and "this process only" not in err, err
        st = os.lstat(ours)
        assert st.st_uid == uid and st.st_mode & 0o777 == 0o700, st
        assert os.listdir(theirs) == [], "something was written into another user's folder"
        launcher_env = ctx.env(HOME=work)
        launcher_env.pop("XDG_RUNTIME_DIR", None)
        p = subprocess.run(as_user + [AMPSHIM, "state", "-c", cfg], capture_output=True,
                           env=launcher_env, timeout=30)
        assert p.returncode == 0 and b"salesforce" in p.stdout, p
        sf = stats_json(ctx, cfg, env=launcher_env, prefix=as_user)["https://*.my.salesforce.com"]
        assert sf["routed"] == 1 and sf["blocked"] == 1, sf
        # The other user takes their folder away: the user's next process
        # keeps to the folder the others use (the block still holds).
        shutil.rmtree(theirs)
        third = subprocess.run(as_user + ["curl", "-sS", "-o", "/dev/null", SF + "/third"],
                               capture_output=True, env=env, timeout=30)
        assert [r["target"] for r in ctx.proxy.requests()] == ["/first"], third
        assert third.returncode != 0 and not os.path.exists(theirs), third
    finally:
        for old in glob.glob(theirs) + glob.glob(theirs + ".*"):
            shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


@test
def counters_file_set_aside_is_not_written(ctx):
    """A counters file with a bad checksum is set aside as it was: the
    flush that found it goes to a new file at the path, not into it."""
    cfg, state = rl_cfg(ctx, "badsum")
    counts = state + ".counts"
    # A header that reads as ours, one record, and a checksum that does not match.
    bad = b"AMPSHIMC" + (1).to_bytes(4, "little") + (192).to_bytes(4, "little") + \
        (1).to_bytes(4, "little") + bytes(4) + (12345).to_bytes(8, "little") + bytes(192)
    with open(counts, "wb") as f:
        f.write(bad)
    os.chmod(counts, 0o600)
    ctx.proxy.control("reset")
    p = ok(ctx.curl("-o", "/dev/null", SF + "/badsum", cfg=cfg))
    aside = glob.glob(counts + ".corrupt-*")
    assert len(aside) == 1, (aside, p.stderr)
    with open(aside[0], "rb") as f:
        assert f.read() == bad, "the file set aside was written to"
    sf = stats_json(ctx, cfg)["https://*.my.salesforce.com"]
    assert sf["routed"] == 1, sf


@test
def counters_path_that_is_a_folder_is_said_once(ctx):
    """The counters path is a folder: a program routing calls for over two
    seconds (a flush a second) says so once, not once a second."""
    cfg, state = rl_cfg(ctx, "countsdir")
    os.mkdir(state + ".counts")
    prog_ = CALLS + (
        "import time\n"
        "end = time.time() + 2.6\n"
        "while time.time() < end:\n"
        "    assert call(sys.argv[1] + '/tick') == 200\n"
        "    time.sleep(0.1)\n"
        "print('done')\n")
    ctx.proxy.control("reset")
    p = ok(subprocess.run([PY, "-c", prog_, SF], capture_output=True, timeout=30,
                          env=ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg)))
    said = [l for l in p.stderr.decode().splitlines() if ".counts" in l]
    assert len(said) == 1, p.stderr
    assert p.stdout == b"done\n", p


@test
def answer_connection_number_taken_by_the_application_is_left_alone(ctx):
    """A blocked call answered here: while libcurl reads the answer, the
    program puts its log on the number of our end of that connection (found
    as the blocking one of the two ends of a loopback connection within the
    process: libcurl's is non-blocking). When the
    transfer ends ampshim does not close it: the program's later line
    reaches its log."""
    cfg, state = rl_cfg(ctx, "answerfd", on_block="respond")
    log = os.path.join(ctx.dir, "answerfd.log")
    prog_ = (
        "import fcntl, os, socket, sys, pycurl\n"
        "log, base = sys.argv[1:3]\n"
        "taken = []\n"
        "def ours_now():\n"
        "    ends = {}\n"
        "    for f in os.listdir('/proc/self/fd'):\n"
        "        try:\n"
        "            s = socket.socket(fileno=int(f))\n"
        "        except OSError:\n"
        "            continue\n"
        "        try:\n"
        "            if s.family == socket.AF_INET:\n"
        "                ends[int(f)] = (s.getsockname(), s.getpeername())\n"
        "        except OSError:\n"
        "            pass\n"
        "        s.detach()\n"
        "    for fd, (me, peer) in ends.items():\n"
        "        pair = [o for o, (m, p) in ends.items() if m == peer and p == me]\n"
        "        blocking = not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK\n"
        "        if pair and blocking and not taken:\n"
        "            lfd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)\n"
        "            os.dup2(lfd, fd); os.close(lfd); taken.append(fd)\n"
        "def call(u, take):\n"
        "    c = pycurl.Curl(); c.setopt(c.URL, u)\n"
        "    c.setopt(c.WRITEFUNCTION, (lambda b: ours_now()) if take else (lambda b: None))\n"
        "    c.perform(); s = c.getinfo(c.RESPONSE_CODE); c.close(); return s\n"
        "print('one', call(base + '/one', False))\n"
        "print('two', call(base + '/two', True))\n"
        "assert taken, 'no answer socket found'\n"
        "os.write(taken[0], b'after the answer\\n')\n")
    queue_429(ctx, retry_after=http_date(time.time() + 300))
    ctx.proxy.mark()
    p = ok(subprocess.run([PY, "-c", prog_, log, SF], capture_output=True, timeout=30,
                          env=ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg)))
    assert p.stdout.decode().split() == ["one", "429", "two", "429"], p
    with open(log, "rb") as f:
        assert f.read() == b"after the answer\n", p.stderr
    assert [r["target"] for r in ctx.proxy.requests()] == ["/one"]


# A loop of transfers that goes on through a blocked call (pycurl raises).
FOLLOW_LOOP = r"""
import io, os, pycurl, sys, time
c = pycurl.Curl()
n = 0
while not os.path.exists(sys.argv[2]) and n < 4000:
    c.setopt(c.URL, "%s/loop/%d" % (sys.argv[1], n))
    c.setopt(c.WRITEDATA, io.BytesIO())
    try:
        c.perform()
    except pycurl.error:
        pass
    n += 1
    time.sleep(0.05)
print(n)
"""


@test
def a_reload_naming_another_state_file_is_followed(ctx):
    """The state and the counters belong to the config that names them: a
    running process whose config is changed to name another state_file
    records its blocks, and adds its counters, there."""
    from .harness import header_values, mark_all
    d = os.path.join(ctx.dir, "follow")
    os.makedirs(d, exist_ok=True)
    first, second = os.path.join(d, "first.state"), os.path.join(d, "second.state")
    cfg = os.path.join(d, "app.cfg")

    def text(state, inst):
        return (ctx.config().replace("inst-sf-1", inst) +
                'throttle: { on_block = "fail"; state_file = "%s"; };\n' % state)

    def write(t):
        with open(cfg + ".new", "w") as f:
            f.write(t)
        os.chmod(cfg + ".new", 0o600)
        os.replace(cfg + ".new", cfg)

    def seen(inst, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            reqs = ctx.proxy.requests()
            if reqs and header_values(reqs[-1], "x-amp-installation-id") == [inst]:
                return
            time.sleep(0.05)
        raise AssertionError("%s not seen at the proxy" % inst)

    write(text(first, "inst-first"))
    stop = os.path.join(d, "stop")
    ctx.proxy.control("reset")
    mark_all(ctx)
    loop = subprocess.Popen([AMPSHIM, "run", "-c", cfg, "--", PY, "-c", FOLLOW_LOOP, SF, stop],
                            env=ctx.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen("inst-first")
        write(text(second, "inst-second"))
        seen("inst-second")
        queue_429(ctx, http_date(int(time.time()) + 300), "true")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
                r.get("status") == 429 for r in ctx.proxy.requests()):
            time.sleep(0.05)
        time.sleep(1.5)  # the block recorded, the counters added (once a second)
    finally:
        open(stop, "w").close()
        out, err = loop.communicate(timeout=30)
    assert loop.returncode == 0, err
    st = subprocess.run([AMPSHIM, "state", "-c", cfg], env=ctx.env(), capture_output=True)
    assert "inst-second" in st.stdout.decode(), (st.stdout, st.stderr, err)
    assert os.path.exists(second + ".counts"), os.listdir(d)
    write(text(first, "inst-first"))
    st = subprocess.run([AMPSHIM, "state", "-c", cfg], env=ctx.env(), capture_output=True)
    assert "no route is blocked" in st.stdout.decode(), st.stdout
