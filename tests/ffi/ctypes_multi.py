#!/usr/bin/python3
"""libcurl through ctypes (dlopen + dlsym), multi interface: all URLs in parallel on one multi handle.
usage: ctypes_multi.py [--lib SONAME] [--post] URL...
One line per URL, in argv order: `url=U rc=N status=S body_len=L body=B`.
Exit status: 0 when every transfer ended with CURLE_OK, else 1."""
import ctypes as C, sys

from ctypes_args import parse

lib, post, args = parse()

class CURLMsg(C.Structure):                     # { CURLMSG msg; CURL *easy_handle; union { void *; CURLcode result; } }
    _fields_ = [("msg", C.c_int), ("easy_handle", C.c_void_p), ("result", C.c_int), ("_pad", C.c_int)]

curl = C.CDLL(lib)
VP = C.c_void_p
for name, res, argt in (
        ("curl_easy_init", VP, []), ("curl_easy_cleanup", None, [VP]),
        ("curl_slist_append", VP, [VP, C.c_char_p]), ("curl_slist_free_all", None, [VP]),
        ("curl_multi_init", VP, []), ("curl_multi_cleanup", C.c_int, [VP]),
        ("curl_multi_add_handle", C.c_int, [VP, VP]), ("curl_multi_remove_handle", C.c_int, [VP, VP]),
        ("curl_multi_perform", C.c_int, [VP, C.POINTER(C.c_int)]),
        ("curl_multi_poll", C.c_int, [VP, VP, C.c_uint, C.c_int, C.POINTER(C.c_int)]),
        ("curl_multi_info_read", C.POINTER(CURLMsg), [VP, C.POINTER(C.c_int)])):
    f = getattr(curl, name); f.restype = res; f.argtypes = argt
curl.curl_easy_setopt.restype = C.c_int         # variadic: no argtypes, typed args at each call
curl.curl_easy_getinfo.restype = C.c_int

URL, WRITEFUNCTION, HTTPHEADER, POSTFIELDS, POSTFIELDSIZE = 10002, 20011, 10023, 10015, 60
RESPONSE_CODE, CURLMSG_DONE = 0x200002, 1
BODY = b'{"Name":"ffi-ctypes-multi","n":2}'
WRITE_CB = C.CFUNCTYPE(C.c_size_t, C.c_void_p, C.c_size_t, C.c_size_t, C.c_void_p)

def setopt(h, opt, val):
    rc = curl.curl_easy_setopt(VP(h), C.c_int(opt), val)
    assert rc == 0, "setopt %d -> %d" % (opt, rc)

multi = curl.curl_multi_init()
hdrs = curl.curl_slist_append(None, b"X-Ffi-Test: ctypes-multi")
xfers = {}                                      # easy handle -> [url, chunks, callback, rc]
for url in args:
    h = curl.curl_easy_init()
    chunks = []
    cb = WRITE_CB(lambda p, s, n, _u, chunks=chunks: chunks.append(C.string_at(p, s * n)) or s * n)
    setopt(h, URL, C.c_char_p(url.encode()))
    setopt(h, HTTPHEADER, VP(hdrs))
    setopt(h, WRITEFUNCTION, cb)
    if post:
        setopt(h, POSTFIELDS, C.c_char_p(BODY))
        setopt(h, POSTFIELDSIZE, C.c_long(len(BODY)))
    xfers[h] = [url, chunks, cb, None]
    assert curl.curl_multi_add_handle(VP(multi), VP(h)) == 0

running, queued = C.c_int(1), C.c_int(0)
while True:
    assert curl.curl_multi_perform(VP(multi), C.byref(running)) == 0
    while True:
        m = curl.curl_multi_info_read(VP(multi), C.byref(queued))
        if not m: break
        if m.contents.msg == CURLMSG_DONE:
            h = m.contents.easy_handle
            xfers[h][3] = m.contents.result
            curl.curl_multi_remove_handle(VP(multi), VP(h))
    if running.value == 0: break
    curl.curl_multi_poll(VP(multi), None, 0, 1000, None)

failed = 0
for h, (url, chunks, _cb, rc) in xfers.items():
    status = C.c_long(0)
    curl.curl_easy_getinfo(VP(h), C.c_int(RESPONSE_CODE), C.byref(status))
    body = b"".join(chunks)
    print("url=%s rc=%s status=%d body_len=%d body=%s" % (
        url, rc, status.value, len(body), body.decode("latin-1").replace("\n", "\\n")), flush=True)
    failed |= rc != 0
    curl.curl_easy_cleanup(VP(h))
curl.curl_multi_cleanup(VP(multi))
curl.curl_slist_free_all(VP(hdrs))
sys.exit(1 if failed else 0)
