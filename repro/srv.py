#!/usr/bin/python3
"""A scripted plain-HTTP server for the repros: answers by a word in the path.
slow429: a 429 whose body comes 1 byte every 0.5 s (4 s); auth: 401 Basic unless
Authorization; big: 200 with 200,000 bytes; else 200 "hello".  Logs each request's
headers (one JSON line) to argv[2]; writes its port to argv[1]."""
import json, socket, sys, threading, time, email.utils

def handle(c, log):
    f = c.makefile("rb")
    while True:
        line = f.readline()
        if not line:
            return
        target = line.split()[1].decode()
        hdrs = []
        while True:
            h = f.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode().partition(":")
            hdrs.append((k.strip(), v.strip()))
        n = int(dict((k.lower(), v) for k, v in hdrs).get("content-length", 0))
        if n:
            f.read(n)
        with open(log, "a") as lf:
            lf.write(json.dumps({"t": time.time(), "target": target, "headers": hdrs}) + "\n")
        retry = email.utils.formatdate(time.time() + 60, usegmt=True).replace("GMT", "UTC")
        head_only = line.startswith(b"HEAD")
        if "slow429" in target:
            body = b"slow down"
            c.sendall(b"HTTP/1.1 429 Too Many Requests\r\nX-Amp-Retry-After: %s\r\nX-Amp-Retryable: true\r\n"
                      b"Content-Length: %d\r\n\r\n" % (retry.encode(), len(body)))
            if not head_only:
                for b in body:
                    c.sendall(bytes([b])); time.sleep(0.5)
            continue
        if "q429" in target:
            body = b"" if head_only else b"slow down"
            c.sendall(b"HTTP/1.1 429 Too Many Requests\r\nX-Amp-Retry-After: %s\r\nX-Amp-Retryable: true\r\n"
                      b"Content-Length: 9\r\n\r\n%s" % (retry.encode(), body))
            continue
        if "auth" in target and not any(k.lower() == "authorization" for k, _ in hdrs):
            body = b"denied"
            c.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), b"" if head_only else body))
            continue
        body = b"x" * 200000 if "big" in target else b"hello"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), b"" if head_only else body))

s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(50)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    threading.Thread(target=lambda c=c: (handle(c, sys.argv[2]), c.close()), daemon=True).start()
