"""Servers as they are really deployed: php-fpm as Debian packages it (its
environment cleared, its title rewritten, workers running as www-data) started
through the launcher and with LD_PRELOAD alone, and Apache 2 prefork with
mod_php, each with a config and key only root may read; a process that cannot
read its config until a chown while it runs; and the line a configured process
that never called libcurl leaves at exit.

Each server runs from a work folder of its own that www-data may enter, is
stopped by its pid (its process group as a last resort) even when the test
fails, and listens on loopback or a unix socket only."""

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from .harness import (AMPSHIM, KEY, PY, SANITIZER, SF, Skip, assert_amp_headers, http_date, not_under,
                      preload_env, queue_429, test)

FPM = "/usr/sbin/php-fpm8.2"
APACHE = "/usr/sbin/apache2"
CGI_FCGI = "/usr/bin/cgi-fcgi"
MODULES = "/usr/lib/apache2/modules"

# What a worker runs: one php-curl call to a routed URL, its outcome as JSON.
SCRIPT = r"""<?php
$ch = curl_init("https://acme.my.salesforce.com/services/data/v56.0/limits?pid=" . getmypid());
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
$body = curl_exec($ch);
echo json_encode(["pid" => getmypid(), "status" => curl_getinfo($ch, CURLINFO_RESPONSE_CODE),
                  "errno" => curl_errno($ch), "error" => curl_error($ch), "body" => $body]), "\n";
"""

FPM_CONF = """[global]
pid = {dir}/fpm.pid
error_log = {dir}/fpm.log
daemonize = no

[app]
user = www-data
group = www-data
listen = {dir}/fpm.sock
pm = static
pm.max_children = 2
clear_env = yes
catch_workers_output = yes
"""

APACHE_CONF = """ServerRoot {dir}
ServerName localhost
DefaultRuntimeDir {dir}
PidFile {dir}/apache.pid
Mutex file:{dir} default
ErrorLog {dir}/apache-error.log
LogLevel warn
LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule php_module {modules}/libphp8.2.so
Listen 127.0.0.1:{port}
User www-data
Group www-data
StartServers 2
MinSpareServers 2
MaxSpareServers 2
MaxRequestWorkers 2
ServerLimit 2
DocumentRoot {dir}/www
<Directory {dir}/www>
  Require all granted
</Directory>
<FilesMatch "\\.php$">
  SetHandler application/x-httpd-php
</FilesMatch>
"""

# A loop running as www-data: a pycurl call to a routed URL every 0.1 s, one line each.
LOOP = r"""
import io, json, os, pycurl, sys, time
c = pycurl.Curl()
n = 0
while not os.path.exists(sys.argv[2]) and n < 400:
    c.setopt(c.URL, "%s/services/data/v56.0/limits?n=%d" % (sys.argv[1], n))
    c.setopt(c.WRITEDATA, io.BytesIO())
    try:
        c.perform()
        out = {"n": n, "rc": 0, "status": c.getinfo(c.RESPONSE_CODE)}
    except pycurl.error as e:
        out = {"n": n, "rc": e.args[0], "error": e.args[1]}
    out["t"] = time.time()
    print(json.dumps(out), flush=True)
    n += 1
    time.sleep(0.1)
"""


def needs(*paths):
    for p in paths:
        if not os.path.exists(p):
            raise Skip("%s is not installed (tests/deps.sh installs it)" % p)
    if os.geteuid() != 0:
        raise Skip("needs root: the servers drop privileges to www-data")
    if SANITIZER:
        raise Skip("the servers run the plain build")


@contextlib.contextmanager
def workdir(ctx, name):
    """A folder www-data may enter (the suite's own is root's 0700), removed after."""
    d = tempfile.mkdtemp(prefix="ampshim-%s-" % name)
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def root_only(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    os.chown(path, 0, 0)
    return path


def root_only_config(ctx, d, name="app.cfg", key_line=None, folder=None):
    """The suite's config with a state file of the service's own (in a folder of
    www-data's), as root's 0600 file."""
    state = os.path.join(d, "state")
    os.makedirs(state, 0o700, exist_ok=True)
    www = pwd.getpwnam("www-data")
    os.chown(state, www.pw_uid, www.pw_gid)
    text = ctx.config(key_line=key_line) + 'throttle: { state_file = "%s/state"; };\n' % state
    return root_only(os.path.join(folder or d, name), text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Started:
    """A server process of ours: stopped by its pid, then its process group."""

    def __init__(self, argv, env, log):
        self.out = open(log, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def pids(self):
        """The server's processes: its own and its children's."""
        pids = {self.proc.pid}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.proc.pid:
                    pids.add(int(entry))
        return pids

    def stop(self):
        try:
            if self.alive():
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        finally:
            self.out.close()


def listening_only_on_loopback(server):
    """Every TCP socket the server's processes listen on is a loopback one."""
    pids = server.pids()
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if any("pid=%d," % p in line for p in pids):
            local = line.split()[3]
            assert local.startswith("127.0.0.1:") or local.startswith("[::1]:"), \
                "the server listens beyond loopback: %s" % line


def wait_for(what, seconds, why):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("%s: not within %.0fs" % (why, seconds))


def fcgi_call(d, script):
    env = {"SCRIPT_FILENAME": script, "SCRIPT_NAME": "/" + os.path.basename(script),
           "REQUEST_METHOD": "GET", "QUERY_STRING": "", "SERVER_NAME": "localhost",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1",
           "REMOTE_ADDR": "127.0.0.1", "PATH": "/usr/bin:/bin"}
    p = subprocess.run([CGI_FCGI, "-bind", "-connect", os.path.join(d, "fpm.sock")], env=env,
                       capture_output=True, timeout=20)
    body = p.stdout.decode(errors="replace").split("\r\n\r\n", 1)[-1]
    try:
        return json.loads(body.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError("cgi-fcgi got no answer from the script: rc=%d %r %r" % (
            p.returncode, p.stdout, p.stderr))


def http_call(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/call.php" % port, timeout=20) as r:
        return json.loads(r.read().decode().strip().splitlines()[-1])


def server_log(d):
    text = ""
    for name in ("fpm.log", "apache-error.log", "server.out"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            text += "--- %s\n%s" % (name, open(p, errors="replace").read()[-3000:])
    return text


def routed_then_blocked_everywhere(ctx, d, call):
    """Calls routed with the right headers from every worker; then a 429 from the
    proxy, and the next call in every worker answered here, nothing sent."""
    ctx.proxy.mark()
    pids = set()
    for _ in range(16):
        r = call()
        assert r["errno"] == 0 and r["status"] == 200, "not routed: %r\n%s" % (r, server_log(d))
        pids.add(r["pid"])
        if len(pids) == 2 and _ >= 3:
            break
    assert len(pids) == 2, "calls were answered by %d worker(s), expected 2" % len(pids)
    reqs = ctx.proxy.requests()
    assert reqs, "nothing reached the proxy"
    for req in reqs:
        assert_amp_headers(req, installation="inst-sf-1")
        assert req["target"].startswith("/services/data/v56.0/limits?pid="), req["target"]
    queue_429(ctx, retry_after=http_date(time.time() + 120))
    r = call()
    assert r["status"] == 429, "the proxy's 429 did not reach the script: %r" % r
    time.sleep(0.1)  # another process's block is seen within 50 ms (README)
    ctx.proxy.mark()
    blocked = set()
    for _ in range(16):
        r = call()
        assert r["errno"] == 0 and r["status"] == 429, "not answered 429 here: %r\n%s" % (r, server_log(d))
        blocked.add(r["pid"])
        if blocked >= pids:
            break
    assert blocked >= pids, "workers %r answered, not every one of %r" % (blocked, pids)
    assert ctx.proxy.requests() == [], "a call to a blocked route was sent: %r" % ctx.proxy.requests()


def kept_when_unreadable(ctx, d, cfg, call):
    """The root-only config changed: the workers, which may not read it, keep the
    one they have, each saying so once."""
    with open(cfg, "a") as f:
        f.write("# changed\n")
    time.sleep(1.1)
    pids = set()
    for _ in range(8):
        r = call()
        assert r["errno"] == 0 and r["status"] == 429, "the config in use was lost: %r" % r
        pids.add(r["pid"])
        time.sleep(0.3)
    said = [l for l in server_log(d).splitlines() if "stays in use" in l]
    assert said, "no worker said it keeps its config\n%s" % server_log(d)
    for pid in pids:
        mine = [l for l in said if "%d]" % pid in l]
        assert len(mine) <= 1, "worker %d said it more than once:\n%s" % (pid, "\n".join(mine))


def fpm_service(ctx, through_launcher):
    needs(FPM, CGI_FCGI)
    with workdir(ctx, "fpm") as d:
        cfg = root_only_config(ctx, d)
        script = os.path.join(d, "call.php")
        with open(script, "w") as f:
            f.write(SCRIPT)
        os.chmod(script, 0o644)
        conf = os.path.join(d, "fpm.conf")
        with open(conf, "w") as f:
            f.write(FPM_CONF.format(dir=d))
        fpm = [FPM, "-F", "-y", conf]
        if through_launcher:
            argv, env = [AMPSHIM, "run", "-c", cfg, "--"] + fpm, ctx.env()
        else:
            argv, env = fpm, preload_env(ctx, AMPSHIM_CONFIG=cfg)
        server = Started(argv, env, os.path.join(d, "server.out"))
        try:
            wait_for(lambda: os.path.exists(os.path.join(d, "fpm.sock")) or not server.alive(), 10,
                     "php-fpm's socket")
            assert server.alive(), "php-fpm exited\n%s" % server_log(d)
            wait_for(lambda: len(server.pids()) >= 3, 5, "php-fpm's two workers")
            listening_only_on_loopback(server)
            routed_then_blocked_everywhere(ctx, d, lambda: fcgi_call(d, script))
            if not through_launcher:
                kept_when_unreadable(ctx, d, cfg, lambda: fcgi_call(d, script))
        finally:
            server.stop()
        # The workers ran with an empty environment and a rewritten title, as www-data:
        # their config was the one the master read.
        log = server_log(d)
        assert "no config" not in log and "will fail until it is fixed" not in log, log


@test
def fpm_through_launcher_root_only_config(ctx):
    fpm_service(ctx, through_launcher=True)


@test
def fpm_preloaded_root_only_config(ctx):
    fpm_service(ctx, through_launcher=False)


@test
def apache_prefork_mod_php_root_only_config(ctx):
    needs(APACHE, os.path.join(MODULES, "libphp8.2.so"), os.path.join(MODULES, "mod_mpm_prefork.so"))
    with workdir(ctx, "apache") as d:
        # In a folder only root may enter: the workers cannot even look at it.
        secret = os.path.join(d, "secret")
        os.mkdir(secret, 0o700)
        cfg = root_only_config(ctx, d, folder=secret)
        os.mkdir(os.path.join(d, "www"), 0o755)
        with open(os.path.join(d, "www", "call.php"), "w") as f:
            f.write(SCRIPT)
        port = free_port()
        conf = os.path.join(d, "apache2.conf")
        with open(conf, "w") as f:
            f.write(APACHE_CONF.format(dir=d, port=port, modules=MODULES))
        env = preload_env(ctx, AMPSHIM_CONFIG=cfg)
        server = Started([APACHE, "-f", conf, "-DFOREGROUND"], env, os.path.join(d, "server.out"))
        try:
            def up():
                if not server.alive():
                    return True
                with socket.socket() as s:
                    return s.connect_ex(("127.0.0.1", port)) == 0
            wait_for(up, 10, "Apache listening")
            assert server.alive(), "apache2 exited\n%s" % server_log(d)
            wait_for(lambda: len(server.pids()) >= 3, 5, "Apache's two workers")
            listening_only_on_loopback(server)
            routed_then_blocked_everywhere(ctx, d, lambda: http_call(port))
            time.sleep(1.1)  # the workers look at the config again: nothing to say of it
            assert http_call(port)["status"] == 429
        finally:
            server.stop()
        log = server_log(d)
        assert "Permission denied" not in log and "will fail" not in log, log


def chowned_while_running(ctx, d, cfg, chowned):
    """A loop running as www-data under cfg, which it cannot read until chowned is
    given to www-data: routing starts within ~2 s of the chown."""
    stop = os.path.join(d, "stop")
    env = preload_env(ctx, AMPSHIM_CONFIG=cfg)
    env["HOME"] = d
    argv = ["setpriv", "--reuid=www-data", "--regid=www-data", "--clear-groups",
            PY, "-c", LOOP, SF, stop]
    ctx.proxy.mark()
    out = os.path.join(d, "loop.out")
    loop = Started(argv, env, out)

    def lines():
        with open(out) as f:
            return [json.loads(l) for l in f.read().splitlines() if l.startswith("{")]
    try:
        wait_for(lambda: len(lines()) >= 5 or not loop.alive(), 10, "the loop's first calls")
        early = lines()
        assert early and all(l["rc"] != 0 for l in early), "routed before the chown: %r" % early
        assert ctx.proxy.requests() == [], "reached the proxy before the chown"
        www = pwd.getpwnam("www-data")
        t0 = time.time()
        os.chown(chowned, www.pw_uid, www.pw_gid)
        first = wait_for(lambda: ctx.proxy.requests(), 6, "a routed call after the chown")
        took = time.time() - t0
        assert took < 2.5, "routing started %.1fs after the chown" % took
        assert_amp_headers(first[0], installation="inst-sf-1")
        assert loop.alive(), "the loop ended\n%s" % open(out).read()
    finally:
        open(stop, "w").close()
        try:
            loop.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        loop.stop()
    said = [l for l in open(out).read().splitlines() if l.startswith("ampshim[")]
    assert len(said) <= 1, "said more than once:\n%s" % "\n".join(said)
    os.unlink(stop)


@test
@not_under("asan", "runs as www-data, which cannot read the sanitizer's build")
def readable_after_chown_while_running(ctx):
    """A process that could not read its config routes within ~2 s of a chown
    (the file's size and mtime unchanged); the same for its api_key_file."""
    needs("/usr/bin/setpriv")
    with workdir(ctx, "chown") as d:
        cfg = root_only_config(ctx, d)
        chowned_while_running(ctx, d, cfg, cfg)
        key = root_only(os.path.join(d, "key"), KEY + "\n")
        cfg = root_only_config(ctx, d, "keyed.cfg", key_line='api_key_file = "%s";' % key)
        os.chmod(cfg, 0o644)
        chowned_while_running(ctx, d, cfg, key)


@test
def never_called_libcurl_said_at_exit(ctx):
    """At info a configured process that never called libcurl says so at exit
    (stderr, one line); one that did, and any at the default level, say nothing."""
    p = ctx.run(["/bin/true"], env=ctx.env(AMPSHIM_LOG="info"))
    err = p.stderr.decode()
    assert p.returncode == 0 and p.stdout == b""
    assert err.count("never called libcurl") == 1, err
    assert ctx.cfg in err, err
    p = ctx.run(["/bin/true"])
    assert p.stderr == b"" and p.stdout == b"", p.stderr
    p = ctx.run(["curl", "-sS", "-o", "/dev/null", SF + "/x"], env=ctx.env(AMPSHIM_LOG="info"))
    assert p.returncode == 0 and "never called libcurl" not in p.stderr.decode(), p.stderr
