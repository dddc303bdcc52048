"""Wiring ampshim into what runs for real (issue 16, items 5a, 6 and 8): the
launcher names a program it cannot route (statically linked, Go) and runs it
all the same; `ampshim env` prints what a systemd unit, a shell or a
Dockerfile needs; the README's Services section, its unit files checked by
systemd-analyze."""

import os
import shutil
import subprocess

from .harness import AMPSHIM, Skip, ok, test


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
