#!/usr/bin/python3
"""libcurl through ctypes (dlopen + dlsym), easy interface.
usage: ctypes_easy.py [--lib SONAME] [--post] URL...
One line per URL: `url=U rc=N status=S body_len=L body=B` (B = response body, newlines as \\n).
Exit status: 0 when every transfer returned CURLE_OK, else 1."""
import ctypes as C, sys

from ctypes_args import parse

lib, post, args = parse()

curl = C.CDLL(lib)                              # dlopen(lib, RTLD_NOW); curl.X -> dlsym(handle, "X")
curl.curl_easy_init.restype = C.c_void_p        # default restype c_int would truncate the pointer
curl.curl_easy_cleanup.argtypes = [C.c_void_p]
curl.curl_easy_perform.argtypes = [C.c_void_p]
curl.curl_easy_perform.restype = C.c_int
curl.curl_easy_getinfo.restype = C.c_int        # variadic: no argtypes, typed args at each call
curl.curl_easy_setopt.restype = C.c_int         # variadic: no argtypes, typed args at each call
curl.curl_slist_append.argtypes = [C.c_void_p, C.c_char_p]
curl.curl_slist_append.restype = C.c_void_p
curl.curl_slist_free_all.argtypes = [C.c_void_p]

URL, WRITEFUNCTION, HTTPHEADER, POSTFIELDS, POSTFIELDSIZE = 10002, 20011, 10023, 10015, 60
RESPONSE_CODE = 0x200002
BODY = b'{"Name":"ffi-ctypes","n":1}'
WRITE_CB = C.CFUNCTYPE(C.c_size_t, C.c_void_p, C.c_size_t, C.c_size_t, C.c_void_p)

def setopt(h, opt, val):
    rc = curl.curl_easy_setopt(C.c_void_p(h), C.c_int(opt), val)
    assert rc == 0, "setopt %d -> %d" % (opt, rc)

failed = 0
for url in args:
    chunks = []
    def on_data(ptr, size, nmemb, _ud):
        chunks.append(C.string_at(ptr, size * nmemb))
        return size * nmemb
    cb = WRITE_CB(on_data)                      # keep a reference until after perform
    h = curl.curl_easy_init()
    hdrs = curl.curl_slist_append(None, b"X-Ffi-Test: ctypes-easy")
    hdrs = curl.curl_slist_append(hdrs, b"Accept: application/json")
    setopt(h, URL, C.c_char_p(url.encode()))
    setopt(h, HTTPHEADER, C.c_void_p(hdrs))
    setopt(h, WRITEFUNCTION, cb)
    if post:
        setopt(h, POSTFIELDS, C.c_char_p(BODY))  # libcurl does not copy POSTFIELDS: BODY stays alive
        setopt(h, POSTFIELDSIZE, C.c_long(len(BODY)))
    rc = curl.curl_easy_perform(C.c_void_p(h))
    status = C.c_long(0)
    curl.curl_easy_getinfo(C.c_void_p(h), C.c_int(RESPONSE_CODE), C.byref(status))
    body = b"".join(chunks)
    print("url=%s rc=%d status=%d body_len=%d body=%s" % (
        url, rc, status.value, len(body), body.decode("latin-1").replace("\n", "\\n")), flush=True)
    curl.curl_easy_cleanup(C.c_void_p(h))
    curl.curl_slist_free_all(C.c_void_p(hdrs))
    failed |= rc != 0
sys.exit(1 if failed else 0)
