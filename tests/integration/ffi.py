"""Programs that bind libcurl themselves through FFI and take each function
with dlsym: Python's ctypes, Ruby's ethon, LuaJIT, in both flavours; another
preload that hooks dlsym too; every other look-up left to glibc."""

import os
import shutil
import subprocess

from .harness import (
    BUILD, FFI, PY, SF, Skip, assert_amp_headers, assert_untouched, body_of, ffi_rows,
    header_values, mark_all, not_under, ok, one, test,
)


def gnutls_soname():
    return "libcurl-gnutls.so.4"


@test
def ffi_python_ctypes_routed_easy_and_multi(ctx):
    """ctypes opens libcurl itself and takes each function with dlsym: routed
    like a linked program, in both flavours, with its headers and its body."""
    for script in ("ctypes_easy.py", "ctypes_multi.py"):
        for lib in ("libcurl.so.4", gnutls_soname()):
            mark_all(ctx)
            tag = script.split(".")[0] + "-" + lib.split(".")[0]
            p = ctx.run([PY, os.path.join(FFI, script), "--lib", lib, "--post",
                         SF + "/services/data/v56.0/" + tag, ctx.plain.url("/left-alone/" + tag)],
                        env=ctx.env(AMPSHIM_LOG="debug"))
            ok(p, tag)
            rows = ffi_rows(p)
            assert [(r["rc"], r["status"]) for r in rows] == [("0", "200"), ("0", "200")], (tag, rows)
            req = one(ctx.proxy)
            assert req["method"] == "POST" and req["target"] == "/services/data/v56.0/" + tag, req
            assert_amp_headers(req, installation="inst-sf-1")
            assert header_values(req, "X-Ffi-Test") and body_of(req).startswith(b'{"Name":"ffi-ctypes'), req
            assert_untouched(one(ctx.plain))
            err = p.stderr.decode()
            assert "curl_easy_perform looked up by name" in err or "curl_multi_add_handle looked up by name" in err, err
            assert lib.split(".")[0] in err, err  # bound to the flavour it opened


@test
def ffi_ruby_ethon_routed(ctx):
    """Ruby's ethon (the usual backend of Faraday and Typhoeus) binds libcurl with ffi."""
    if not shutil.which("ruby") or subprocess.run(["ruby", "-e", "require 'ethon'"],
                                                  capture_output=True).returncode != 0:
        raise Skip("ruby-ethon is not installed")
    mark_all(ctx)
    p = ok(ctx.run(["ruby", os.path.join(FFI, "ethon_req.rb"), "--post", SF + "/services/data/v56.0/ethon",
                    ctx.plain.url("/ethon-left-alone")]))
    rows = ffi_rows(p)
    assert [(r["rc"], r["status"]) for r in rows] == [("ok", "200"), ("ok", "200")], rows
    req = one(ctx.proxy)
    assert (req["method"], req["target"]) == ("POST", "/services/data/v56.0/ethon"), req
    assert_amp_headers(req, installation="inst-sf-1")
    assert header_values(req, "X-Ffi-Test") == ["ruby-ethon"]
    assert body_of(req) == b'{"Name":"ffi-ethon","n":3}', body_of(req)
    assert_untouched(one(ctx.plain))


@test
def ffi_luajit_routed(ctx):
    """LuaJIT's FFI: ffi.load and a look-up per function, easy and multi, both flavours."""
    if not shutil.which("luajit"):
        raise Skip("luajit is not installed")
    for args in ([], ["--multi"], ["--multi", "--lib", gnutls_soname()]):
        mark_all(ctx)
        p = ok(ctx.run(["luajit", os.path.join(FFI, "luajit_curl.lua"), *args, "--post",
                        SF + "/services/data/v56.0/lua", ctx.plain.url("/lua-left-alone")]))
        assert [(r["rc"], r["status"]) for r in ffi_rows(p)] == [("0", "200"), ("0", "200")], (args, p.stdout)
        req = one(ctx.proxy)
        assert req["method"] == "POST" and body_of(req) == b'{"Name":"ffi-luajit","n":5}', req
        assert_amp_headers(req, installation="inst-sf-1")
        assert_untouched(one(ctx.plain))


@test
@not_under("asan", "the tracer prints (fprintf) from dlsym, which the ASan runtime calls to bind its "
                   "interceptors before its own fprintf works: it crashes so without ampshim too")
def ffi_another_dlsym_hook_still_called(ctx):
    """A preload that stands in front of dlsym too (MangoHud, apitrace) is
    called behind ours, and the FFI program is routed all the same."""
    tracer = os.path.join(BUILD, "plugins", "libdlsym_tracer.so")
    mark_all(ctx)
    p = ok(ctx.run([PY, os.path.join(FFI, "ctypes_easy.py"), SF + "/services/data/v56.0/traced"],
                   env=ctx.env(LD_PRELOAD=tracer)))
    assert "tracer: dlsym curl_easy_perform" in p.stderr.decode(), p.stderr
    assert_amp_headers(one(ctx.proxy), installation="inst-sf-1")


@test
def ffi_dlsym_untouched_without_curl_names(ctx):
    """Every other look-up is glibc's own, RTLD_NEXT included (an interposer
    after us still finds the next definition), and a program that never uses
    curl loads nothing."""
    prog_ = ("import ctypes,sys\n"
             "libc=ctypes.CDLL(None)\n"
             "d=ctypes.CDLL('libc.so.6')\n"
             "print(ctypes.cast(libc.getpid,ctypes.c_void_p).value==ctypes.cast(d.getpid,ctypes.c_void_p).value)\n"
             "print(open('/proc/self/maps').read().count('libcurl'))\n")
    p = ok(ctx.run([PY, "-c", prog_]))
    assert p.stdout.decode().split() == ["True", "0"], p.stdout
