"""Wiring ampshim into what runs for real (issue 16, items 5a, 6 and 8): the
launcher names a program it cannot route (statically linked, Go) and runs it
all the same; `ampshim env` prints what a systemd unit, a shell or a
Dockerfile needs; the README's Services section, its unit files checked by
systemd-analyze."""

import os
import re
import shutil
import subprocess

from .harness import (
    AMPSHIM, BROKEN, KEY, LIB, PROJECT, ROOT, SF, Skip, assert_amp_headers, mark_all, not_under, ok, one, test,
)


def launcher_lines(p):
    return [l for l in p.stderr.decode(errors="replace").splitlines() if l.startswith("ampshim:")]


@test
def run_warns_static_binary_and_runs_it(ctx):
    src = os.path.join(ctx.dir, "static_hello.c")
    exe = os.path.join(ctx.dir, "static_hello")
    with open(src, "w") as f:
        f.write('#include <stdio.h>\nint main(void) { puts("static ran"); return 3; }\n')
    subprocess.run(["gcc", "-static", "-O1", src, "-o", exe], check=True)
    for extra in ([], ["--dry-run"]):
        p = subprocess.run([AMPSHIM, "run", *extra, "-c", ctx.cfg, "--", exe], capture_output=True,
                           env=ctx.env())
        assert p.returncode == 3 and p.stdout == b"static ran\n", (p.returncode, p.stdout, p.stderr)
        lines = launcher_lines(p)
        assert len(lines) == 1 and lines == p.stderr.decode().splitlines(), p.stderr
        assert "statically linked" in lines[0] and exe in lines[0] and "cannot" in lines[0], lines
    # A static PIE (gcc -static-pie; Debian's ldconfig is one) has a PT_DYNAMIC and no
    # PT_INTERP, as the dynamic loader itself has, but no loader starts it either.
    pie = os.path.join(ctx.dir, "static_pie_hello")
    subprocess.run(["gcc", "-static-pie", "-O1", src, "-o", pie], check=True)
    p = subprocess.run([AMPSHIM, "run", "-c", ctx.cfg, "--", pie], capture_output=True, env=ctx.env())
    assert p.returncode == 3 and p.stdout == b"static ran\n", (p.returncode, p.stdout, p.stderr)
    assert [l for l in launcher_lines(p) if "statically linked" in l and pie in l], p.stderr
    # The loader run as a program (ld.so PROGRAM) honours LD_PRELOAD: no warning.
    loader = os.path.realpath("/lib64/ld-linux-x86-64.so.2")
    if os.path.exists(loader):
        p = ok(subprocess.run([AMPSHIM, "run", "-c", ctx.cfg, "--", loader, "/bin/true"], capture_output=True,
                              env=ctx.env()))
        assert p.stderr == b"", p.stderr
    # Found on PATH, as execvp finds it.
    env = ctx.env(PATH=ctx.dir + ":" + os.environ["PATH"])
    p = subprocess.run([AMPSHIM, "run", "-c", ctx.cfg, "--", "static_hello"], capture_output=True, env=env)
    assert p.returncode == 3 and "statically linked" in p.stderr.decode(), p.stderr
    # A dynamic program, a script, a file that is no program: no warning.
    script = os.path.join(ctx.dir, "hello.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho script ran\n")
    os.chmod(script, 0o755)
    junk = os.path.join(ctx.dir, "junk.bin")
    with open(junk, "wb") as f:
        f.write(b"\x7fELF\x02\x01\x01" + b"\xff" * 40)
    os.chmod(junk, 0o755)
    for cmd in (["true"], [script]):
        p = ok(subprocess.run([AMPSHIM, "run", "-c", ctx.cfg, "--", *cmd], capture_output=True, env=ctx.env()))
        assert p.stderr == b"", (cmd, p.stderr)
    # (execvp hands a file the kernel refuses to sh, which fails on it.)
    p = subprocess.run([AMPSHIM, "run", "-c", ctx.cfg, "--", junk], capture_output=True, env=ctx.env())
    assert p.returncode != 0 and launcher_lines(p) == [], (p.returncode, p.stderr)


@test
def run_warns_go_binary_and_runs_it(ctx):
    fzf = shutil.which("fzf")
    if not fzf:
        raise Skip("fzf (Debian's small Go program) is not installed: tests/deps.sh installs it")
    p = subprocess.run([AMPSHIM, "run", "-c", ctx.cfg, "--", "fzf", "--version"], capture_output=True,
                       env=ctx.env())
    assert p.returncode == 0 and p.stdout.strip(), (p.returncode, p.stdout, p.stderr)
    lines = launcher_lines(p)
    assert len(lines) == 1 and "Go program" in lines[0] and fzf in lines[0], p.stderr


def env_cmd(ctx, *args, env=None):
    return subprocess.run([AMPSHIM, "env", *args], capture_output=True, env=env or ctx.env())


def real_lib():
    """The library as the launcher finds it (beside it, in a build tree), its real path."""
    return os.path.realpath(LIB)


def key_file_cfg(ctx, name):
    """A config of its own in a folder of its own, the key in a file beside it."""
    folder = os.path.join(ctx.dir, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "app.key"), "w") as f:
        f.write(KEY + "\n")
    os.chmod(os.path.join(folder, "app.key"), 0o600)
    path = os.path.join(folder, "app.cfg")
    with open(path, "w") as f:
        f.write(ctx.config(key_line='api_key_file = "app.key";'))
    os.chmod(path, 0o600)
    return folder, path


@test
@not_under("asan", "a sanitizer's runtime must come first in LD_PRELOAD, and the shell form puts the library first")
def env_prints_shell_docker_and_systemd_forms(ctx):
    folder, cfg = key_file_cfg(ctx, "env-forms")
    lib = real_lib()
    shell = ("export LD_PRELOAD='%s'\"${LD_PRELOAD:+:$LD_PRELOAD}\"\n"
             "export AMPSHIM_CONFIG='%s'\n" % (lib, cfg))
    for args in ([], ["--shell"]):
        p = ok(env_cmd(ctx, "-c", cfg, *args))
        assert p.stdout.decode() == shell and p.stderr == b"", (args, p.stdout, p.stderr)
    p = ok(env_cmd(ctx, "-c", cfg, "--docker"))
    assert p.stdout.decode() == 'ENV LD_PRELOAD="%s"\nENV AMPSHIM_CONFIG="%s"\n' % (lib, cfg), p.stdout
    p = ok(env_cmd(ctx, "-c", cfg, "--systemd"))
    assert p.stdout.decode() == (
        "# a drop-in: /etc/systemd/system/UNIT.service.d/ampshim.conf, then systemctl daemon-reload\n"
        "[Service]\n"
        'Environment="LD_PRELOAD=%s"\n'
        'Environment="AMPSHIM_CONFIG=%s"\n'
        "LoadCredential=ampshim-api-key:%s/app.key\n" % (lib, cfg, folder)), p.stdout
    # The path as given, relative or through AMPSHIM_CONFIG, comes out absolute.
    p = ok(subprocess.run([AMPSHIM, "env"], capture_output=True, cwd=folder,
                          env=ctx.env(AMPSHIM_CONFIG="app.cfg")))
    assert p.stdout.decode() == shell, p.stdout
    # Quoted for each: a quote, a dollar, a percent sign in the path.
    odd = os.path.join(ctx.dir, "it's $HOME 100%")
    os.makedirs(odd, exist_ok=True)
    oddcfg = os.path.join(odd, "a.cfg")
    shutil.copy(ctx.cfg, oddcfg)
    out = ok(env_cmd(ctx, "-c", oddcfg)).stdout.decode()
    assert "export AMPSHIM_CONFIG='%s'\n" % oddcfg.replace("'", "'\\''") in out, out
    got = subprocess.run(["sh", "-c", out + 'printf %s "$AMPSHIM_CONFIG"'], capture_output=True).stdout.decode()
    assert got == oddcfg, got
    out = ok(env_cmd(ctx, "-c", oddcfg, "--docker")).stdout.decode()
    assert 'ENV AMPSHIM_CONFIG="%s"\n' % oddcfg.replace("$", "\\$") in out, out
    out = ok(env_cmd(ctx, "-c", oddcfg, "--systemd")).stdout.decode()
    assert 'Environment="AMPSHIM_CONFIG=%s"\n' % oddcfg.replace("%", "%%") in out and "LoadCredential" not in out, out
    # A key from the environment: the unit is told where it must come from.
    envcfg = ctx.write_cfg("env-keyenv.cfg", ctx.config(key_line='api_key_env = "APP_AMP_KEY";'))
    out = ok(env_cmd(ctx, "-c", envcfg, "--systemd", env=ctx.env(APP_AMP_KEY=KEY))).stdout.decode()
    assert "# the key: set APP_AMP_KEY" in out and KEY not in out, out


@test
def env_refuses_a_broken_config(ctx):
    bad = ctx.write_cfg("env-broken.cfg", BROKEN)
    for args in ([], ["--systemd"], ["--docker"]):
        p = env_cmd(ctx, "-c", bad, *args)
        assert p.returncode == 2 and p.stdout == b"", (args, p.returncode, p.stdout)
        assert p.stderr.decode().startswith(bad + ":"), p.stderr
    p = env_cmd(ctx, "-c", ctx.cfg, "--systemd", "--docker")
    assert p.returncode == 2 and p.stdout == b"", (p.returncode, p.stdout)
    p = env_cmd(ctx, "-c", ctx.cfg, "extra")
    assert p.returncode == 2 and p.stdout == b"", (p.returncode, p.stdout)


@test
@not_under("asan", "a sanitizer's runtime must come first in LD_PRELOAD, and the shell form puts the library first")
def env_shell_form_sourced_by_sh_routes_curl(ctx):
    _, cfg = key_file_cfg(ctx, "env-sourced")
    out = os.path.join(ctx.dir, "env-sourced.sh")
    with open(out, "wb") as f:
        f.write(ok(env_cmd(ctx, "-c", cfg)).stdout)
    mark_all(ctx)
    p = ok(subprocess.run(["sh", "-c", '. "$1" && exec curl -sS -o /dev/null -w "%{http_code}" "$2"', "sh",
                           out, SF + "/services/data/v56.0/sourced"], capture_output=True, cwd="/",
                          env=ctx.env()))
    assert p.stdout == b"200", (p.stdout, p.stderr)
    req = one(ctx.proxy)
    assert req["target"] == "/services/data/v56.0/sourced", req
    assert_amp_headers(req, installation="inst-sf-1")


def systemd_analyze():
    tool = shutil.which("systemd-analyze")
    if not tool:
        raise Skip("systemd-analyze is not installed (Debian's systemd package)")
    return tool


def verify_units(folder, unit):
    """systemd-analyze verify on unit (with its drop-ins beside it): its complaints."""
    p = subprocess.run([systemd_analyze(), "verify", os.path.join(folder, unit)], capture_output=True,
                       env=dict(os.environ, SYSTEMD_LOG_COLOR="0"))
    return p.returncode, p.stderr.decode(errors="replace") + p.stdout.decode(errors="replace")


@test
def env_systemd_drop_in_verified(ctx):
    folder, cfg = key_file_cfg(ctx, "env-unit")
    units = os.path.join(ctx.dir, "env-units")
    os.makedirs(os.path.join(units, "ampshim-demo.service.d"), exist_ok=True)
    with open(os.path.join(units, "ampshim-demo.service"), "w") as f:
        f.write("[Unit]\nDescription=ampshim demo\n\n[Service]\nExecStart=/usr/bin/curl -sS %s/x\n"
                "User=www-data\nPrivateTmp=yes\n" % SF)
    drop = os.path.join(units, "ampshim-demo.service.d", "ampshim.conf")
    with open(drop, "wb") as f:
        f.write(ok(env_cmd(ctx, "-c", cfg, "--systemd")).stdout)
    rc, said = verify_units(units, "ampshim-demo.service")
    assert rc == 0 and said.strip() == "", (rc, said)
    # The drop-in is read: a mistake planted in it is reported.
    with open(drop, "a") as f:
        f.write("LoadCredentialBogus=x\n")
    rc, said = verify_units(units, "ampshim-demo.service")
    assert "ampshim.conf" in said and "LoadCredentialBogus" in said, (rc, said)


@test
def env_systemd_credential_wins_over_api_key_file(ctx):
    """Under systemd, LoadCredential=ampshim-api-key:PATH hands the key over in
    $CREDENTIALS_DIRECTORY (readable by the service's user): read there, instead
    of api_key_file's path (which that user may not read)."""
    creds = os.path.join(ctx.dir, "credentials", "demo.service")
    os.makedirs(creds, exist_ok=True)
    with open(os.path.join(creds, "ampshim-api-key"), "w") as f:
        f.write(KEY + "\n")
    cfg = ctx.write_cfg("env-cred.cfg", ctx.config(key_line='api_key_file = "/nonexistent/root-only.key";'))
    p = env_cmd(ctx, "-c", cfg, "--systemd")
    assert p.returncode == 2 and b"/nonexistent/root-only.key" in p.stderr, p.stderr
    env = ctx.env(CREDENTIALS_DIRECTORY=creds)
    p = ok(subprocess.run([AMPSHIM, "check", "-c", cfg], capture_output=True, env=env))
    assert "api_key_file %s/ampshim-api-key" % creds in p.stdout.decode(), p.stdout
    mark_all(ctx)
    ok(ctx.curl("-o", "/dev/null", SF + "/cred", cfg=cfg, env=env))
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")
    # Without that credential, the directory changes nothing.
    os.unlink(os.path.join(creds, "ampshim-api-key"))
    p = subprocess.run([AMPSHIM, "check", "-c", cfg], capture_output=True, env=env)
    assert p.returncode == 2 and b"/nonexistent/root-only.key" in p.stderr, p.stderr


def readme_blocks():
    """The README's fenced blocks marked with a title (```ini title=NAME): {NAME: text}."""
    blocks, name, lines = {}, None, []
    for line in open(os.path.join(ROOT, "README.md")).read().splitlines():
        if name is None and line.startswith("```") and " title=" in line:
            name, lines = line.split(" title=", 1)[1].strip(), []
        elif name is not None and line.startswith("```"):
            blocks[name] = "\n".join(lines) + "\n"
            name = None
        elif name is not None:
            lines.append(line)
    return blocks


PACKAGED_LIB = "/usr/lib/x86_64-linux-gnu/ampshim/libampshim.so"


def readme_config(ctx, text, key_file=None):
    """A config of the README made loadable here: its placeholders filled, its key file ours."""
    text = text.replace('project_id = "…"', 'project_id = "%s"' % PROJECT).replace("…", "inst-1")
    if key_file:
        text = re.sub(r'api_key_file = "[^"]*"', 'api_key_file = "%s"' % key_file, text)
    return text


@test
def readme_services_as_written(ctx):
    """The Services section: its units verified by systemd-analyze with their drop-ins, each
    drop-in, ENV or export line what `ampshim env` prints, its configs loadable."""
    blocks = readme_blocks()
    for name in ("ampshim-demo.service", "ampshim-demo.service.d/ampshim.conf",
                 "php8.2-fpm.service.d/ampshim.conf", "sync.cfg", "Dockerfile", "ampshim-pod.yaml"):
        assert name in blocks, "README.md lacks the block %s" % name
    etc = os.path.join(ctx.dir, "readme-etc")
    os.makedirs(etc, exist_ok=True)
    key = os.path.join(etc, "sync.key")
    with open(key, "w") as f:
        f.write(KEY + "\n")
    os.chmod(key, 0o600)

    def as_printed(cfg_name, text, *form):
        cfg = os.path.join(etc, cfg_name)
        with open(cfg, "w") as f:
            f.write(text)
        os.chmod(cfg, 0o600)
        out = ok(env_cmd(ctx, "-c", cfg, *form)).stdout.decode()
        out = out.replace(real_lib(), PACKAGED_LIB).replace(etc + "/", "/etc/ampshim/")
        return [l for l in out.splitlines() if not l.startswith("#")]

    # The unit's config, as written but for its placeholders: loads, and gives the drop-in shown.
    sync = readme_config(ctx, blocks["sync.cfg"])
    assert as_printed("sync.cfg", sync, "--systemd") == \
        [l for l in blocks["ampshim-demo.service.d/ampshim.conf"].splitlines() if not l.startswith("#")]
    assert "state_file" in sync and "/var/lib/ampshim-demo/" in sync
    site = ctx.config(key_line='api_key = "%s";' % KEY)
    assert as_printed("site.cfg", site, "--systemd") == \
        blocks["php8.2-fpm.service.d/ampshim.conf"].splitlines()
    readme = open(os.path.join(ROOT, "README.md")).read()
    for line in as_printed("site.cfg", site, "--shell"):
        assert line in readme.splitlines(), "README.md's envvars lines lack %r" % line
    docker = [l for l in blocks["Dockerfile"].splitlines() if l.startswith("ENV ")]
    assert as_printed("app.cfg", site, "--docker") == docker, docker
    # The pod's config, from its ConfigMap.
    pod = blocks["ampshim-pod.yaml"]
    cm = pod.split("app.cfg: |\n", 1)[1].split("---", 1)[0]
    cm = "\n".join(l[4:] for l in cm.splitlines()) + "\n"
    cfg = ctx.write_cfg("readme-pod.cfg", readme_config(ctx, cm, key_file=key))
    ok(subprocess.run([AMPSHIM, "check", "-c", cfg], capture_output=True, env=ctx.env()))
    for needed in ("/var/run/secrets/ampshim/api-key", "name: LD_PRELOAD", "value: " + PACKAGED_LIB,
                   "mountPath: /var/run/secrets/ampshim", "configMap:", "secretName:"):
        assert needed in pod, needed
    # The units, verified with their drop-ins; the unit of a package's drop-in as installed.
    units = os.path.join(ctx.dir, "readme-units")
    for name, text in blocks.items():
        if ".service" in name:
            os.makedirs(os.path.dirname(os.path.join(units, name)) or units, exist_ok=True)
            with open(os.path.join(units, name), "w") as f:
                f.write(text)
    for entry in os.listdir(units):
        path = os.path.join(units, entry[:-2])
        if entry.endswith(".d") and not os.path.exists(path):
            packaged = os.path.join("/lib/systemd/system", entry[:-2])
            with open(path, "w") as f:
                f.write(open(packaged).read() if os.path.exists(packaged) else
                        "[Service]\nExecStart=/bin/true\n")
    checked = 0
    for unit in sorted(u for u in os.listdir(units) if u.endswith(".service")):
        rc, said = verify_units(units, unit)
        # A package's own unit may name helpers not installed here: only our lines count.
        ours_said = [l for l in said.splitlines() if "ampshim" in l or unit.startswith("ampshim")]
        assert rc == 0 and ours_said == [], (unit, rc, said)
        checked += 1
    assert checked >= 2, os.listdir(units)
