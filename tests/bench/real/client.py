"""A Python program making N requests with pycurl, for tests/bench/real/real.py
(not run by make test).

  /usr/bin/python3 client.py fresh|reuse N URL NOPROXY [HEADER...]

fresh: a new pycurl.Curl() for every request, set up, performed and closed
(a new connection each time); reuse: one handle for all N (keep-alive).
NOPROXY 1 sets NOPROXY "*" (the native run, which also sends ampshim's
headers itself: HEADER...). Prints "ok requests=N" when every request was
answered 200, else exits 1."""
import sys

import pycurl


def setup(c, url, noproxy, headers, sink):
    c.setopt(pycurl.URL, url)
    c.setopt(pycurl.WRITEFUNCTION, sink)
    if noproxy == "1":
        c.setopt(pycurl.NOPROXY, "*")
    if headers:
        c.setopt(pycurl.HTTPHEADER, headers)


def main():
    mode, n, url, noproxy = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    headers = sys.argv[5:]
    body = []
    sink = body.append
    c = None
    for i in range(n):
        if mode == "fresh" or c is None:
            c = pycurl.Curl()
            setup(c, url, noproxy, headers, sink)
        c.perform()
        if c.getinfo(pycurl.RESPONSE_CODE) != 200:
            print("request %d answered %d" % (i, c.getinfo(pycurl.RESPONSE_CODE)), file=sys.stderr)
            return 1
        del body[:]
        if mode == "fresh":
            c.close()
            c = None
    print("ok requests=%d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
