"""A service started as systemd would start it, without systemd: `env -i`
with only LD_PRELOAD, AMPSHIM_CONFIG (and CREDENTIALS_DIRECTORY), running
as nobody, HOME unset, in /. What the operator reads on its stderr when the
config is root's own, or the state folder is not the service user's (root's,
or /tmp read-only), must say whose it is and what to do; the call is never
sent unrouted, nothing reaches the plain host, nothing goes to stdout."""

import os
import shutil
import subprocess
import tempfile
import time

from .harness import KEY, LIB, PY, SF, Skip, http_date, preloaded, queue_429, test

NOBODY = 65534
AS_NOBODY = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]


def service_dir(ctx, state_line="", base=None):
    """A folder nobody may enter: the config (mode cfg_mode, root's) and a
    credentials folder holding the key, nobody's own (as LoadCredential= makes)."""
    d = tempfile.mkdtemp(prefix="ampshim-it-svc-", dir=base or ctx.dir)
    if not base:
        os.chmod(ctx.dir, 0o755)
    os.chmod(d, 0o755)
    creds = os.path.join(d, "creds")
    os.mkdir(creds, 0o500)
    key = os.path.join(creds, "ampshim-api-key")
    with open(key, "w") as f:
        f.write(KEY + "\n")
    os.chmod(key, 0o400)
    os.chown(key, NOBODY, NOBODY)
    os.chown(creds, NOBODY, NOBODY)
    cfg = os.path.join(d, "svc.cfg")
    with open(cfg, "w") as f:
        f.write(ctx.config(key_line='api_key_file = "/nonexistent/key";') + state_line)
    return d, cfg, creds


def as_service(ctx, cfg, creds, url, prefix=(), preload=None):
    """curl as the unit would run it: a clean environment, nobody, in /. (Under
    `make asan`, the sanitizer's runtime first in LD_PRELOAD and its options kept.)"""
    env = ["env", "-i", "LD_PRELOAD=" + (preload or preloaded(LIB)), "AMPSHIM_CONFIG=" + cfg,
           "CREDENTIALS_DIRECTORY=" + creds, "PATH=/usr/bin:/bin"]
    env += ["%s=%s" % (k, os.environ[k]) for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS") if k in os.environ]
    ctx.plain.mark()
    ctx.proxy.mark()
    return subprocess.run([*prefix, *env, *AS_NOBODY, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                           url], capture_output=True, cwd="/", timeout=30)


def nothing_leaked(ctx, p):
    assert ctx.plain.requests() == [], ctx.plain.requests()
    assert KEY.encode() not in p.stderr, p.stderr


@test
def service_config_only_root_reads_says_whose(ctx):
    d, cfg, creds = service_dir(ctx)
    os.chmod(cfg, 0o600)
    p = as_service(ctx, cfg, creds, SF + "/svc/unreadable")
    err = p.stderr.decode()
    # Fail closed: curl's own error, nothing sent anywhere, nothing on stdout but curl's -w.
    assert p.returncode == 2 and p.stdout == b"000", (p.returncode, p.stdout, err)
    assert ctx.proxy.requests() == [], ctx.proxy.requests()
    nothing_leaked(ctx, p)
    # The operator learns on the service's stderr (its journal) whose the file is and who
    # this process is: not only "Permission denied".
    line = [l for l in err.splitlines() if l.startswith("ampshim[curl ")][0]
    assert cfg in line and "Permission denied" in line, err
    assert "uid %d" % NOBODY in line and "uid 0" in line, err


@test
def service_state_folder_not_its_own_says_what_to_do(ctx):
    root_dir = tempfile.mkdtemp(prefix="ampshim-it-svcstate-", dir=ctx.dir)
    os.chmod(root_dir, 0o755)
    d, cfg, creds = service_dir(ctx, 'throttle: { state_file = "%s/state"; };\n' % root_dir)
    os.chmod(cfg, 0o644)
    p = as_service(ctx, cfg, creds, SF + "/svc/rootstate")
    err = p.stderr.decode()
    assert p.returncode == 0 and p.stdout == b"200", (p.returncode, p.stdout, err)
    assert len(ctx.proxy.requests()) == 1
    nothing_leaked(ctx, p)
    lines = [l for l in err.splitlines() if "rate-limit state" in l]
    assert len(lines) == 1, err
    # Whose the folder is, who the process is, and the setting that fixes it.
    assert "uid 0" in lines[0] and "uid %d" % NOBODY in lines[0], err
    assert "throttle.state_file" in lines[0], err
    assert os.listdir(root_dir) == [], os.listdir(root_dir)


@test
def service_tmp_read_only_says_what_to_do(ctx):
    # Outside /tmp, which is hidden below.
    d, cfg, creds = service_dir(ctx, base="/var/tmp")
    try:
        tmp_read_only(ctx, cfg, creds)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def preload_outside_tmp(dest):
    """LD_PRELOAD with what lives under /tmp (a build in a clone there, as CI may
    make it) copied to dest first: the tmpfs mounted on /tmp hides it. The
    library's core and catalog go with it (the first stage finds them beside it)."""
    parts = []
    for part in preloaded(LIB).split(":"):
        if part.startswith("/tmp/"):
            names = [os.path.basename(part)]
            if part == LIB:
                names += ["libampshim-core.so", "providers.cfg"]
            for name in names:
                src = os.path.join(os.path.dirname(part), name)
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(dest, name))
            part = os.path.join(dest, os.path.basename(part))
        parts.append(part)
    return ":".join(parts)


def tmp_read_only(ctx, cfg, creds):
    os.chmod(cfg, 0o644)
    # /tmp read-only in a mount namespace of its own (as ProtectSystem=strict without PrivateTmp).
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        raise Skip("unshare -m: %s" % probe.stderr.decode().strip())
    script = 'mount -t tmpfs -o ro tmpfs /tmp && exec "$@"'
    p = as_service(ctx, cfg, creds, SF + "/svc/rotmp", prefix=("unshare", "-m", "sh", "-c", script, "sh"),
                   preload=preload_outside_tmp(os.path.dirname(cfg)))
    err = p.stderr.decode()
    assert p.returncode == 0 and p.stdout == b"200", (p.returncode, p.stdout, err)
    nothing_leaked(ctx, p)
    lines = [l for l in err.splitlines() if "rate-limit state" in l]
    assert len(lines) == 1 and "Read-only file system" in lines[0], err
    assert "throttle.state_file" in lines[0] and "uid %d" % NOBODY in lines[0], err


# A long-running program: one pycurl call per line read, its status printed.
CALLER = r"""
import io, sys, pycurl
c = pycurl.Curl()
for line in sys.stdin:
    c.setopt(pycurl.URL, line.strip())
    c.setopt(pycurl.WRITEDATA, io.BytesIO())
    c.perform()
    print(c.getinfo(pycurl.RESPONSE_CODE), flush=True)
"""


@test
def state_folder_removed_while_running_still_records_429(ctx):
    # systemd-tmpfiles (or an operator's rm -rf) empties /tmp under a running service: the
    # 429 it gets next must still be recorded, so that its other processes do not send.
    folder = os.path.join(ctx.dir, "svc-gone")
    cfg = ctx.write_cfg("svc-gone.cfg", ctx.config() + 'throttle: { state_file = "%s/state"; };\n' % folder)
    p = subprocess.Popen([PY, "-c", CALLER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=ctx.env(LD_PRELOAD=LIB, AMPSHIM_CONFIG=cfg))
    try:
        p.stdin.write((SF + "/svc/gone/1\n").encode())
        p.stdin.flush()
        assert p.stdout.readline() == b"200\n"
        shutil.rmtree(folder)
        queue_429(ctx, http_date(int(time.time()) + 60))
        p.stdin.write((SF + "/svc/gone/2\n").encode())
        p.stdin.flush()
        assert p.stdout.readline() == b"429\n"
    finally:
        p.stdin.close()
        err = p.stderr.read().decode()
        p.wait(timeout=10)
    assert "could not record" not in err, err
    ctx.proxy.mark()
    q = ctx.curl("-o", "/dev/null", "-w", "%{http_code}", SF + "/svc/gone/3", cfg=cfg)
    assert q.stdout == b"429" and ctx.proxy.requests() == [], (q.stdout, q.stderr, ctx.proxy.requests())
    assert os.stat(folder).st_mode & 0o777 == 0o700
