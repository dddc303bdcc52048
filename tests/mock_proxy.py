#!/usr/bin/python3
"""Mock of the Ampersand proxy (https://proxy.withampersand.com) for ampshim tests.

Standard library only; runs with Debian's /usr/bin/python3 (3.11).

    mock_proxy.py serve --port-file FILE --log FILE [--port N] [--host 127.0.0.1]
                        [--project-id UUID] [--api-key KEY] [--plain]
    mock_proxy.py show --log FILE [--last N] [--mask]

serve
    Listens (HTTP/1.1, keep-alive, any method), writes the bound port to
    --port-file (atomically) once listening, and runs until SIGTERM/SIGINT
    (exit status 0).  Every request except the /__mock/ control endpoints
    is appended to --log as one JSON line, written *before* the response is
    sent, so it is on disk once the client has its answer:

      {"method": "GET", "target": "/raw/target?q=1",
       "headers": [["Host", "127.0.0.1:4242"], ...],   # order and case as received
       "body_b64": "...",                              # exact (de-chunked) body bytes
       "status": 200, "reason": "ok"}

    Strings are the received bytes decoded as ISO-8859-1 (encode back with
    latin-1 to get the raw bytes).  "target" is the request target exactly
    as it appeared in the request line (no decoding, no '//' folding).
    A request that cannot even be parsed is logged with whatever is known
    (possibly empty method/target) and the status Python's parser sent.

    Proxy mode (default) validates the headers the real proxy documents, in
    this order, answering {"error": reason} with the first failure:
      1. duplicate x-amp-proxy-version / x-amp-project-id / x-api-key /
         x-amp-installation-id / x-amp-integration-name / x-amp-group-ref /
         x-amp-rate-limiter-mode                          -> 400
      2. x-amp-proxy-version missing or not "1"           -> 400
      3. x-api-key missing, empty, or != --api-key        -> 401
      4. x-amp-project-id missing -> 400; not a UUID or != --project-id
         -> 403 "Ampersand user or API key is not authorized to access this resource"
      5. no x-amp-installation-id and not both x-amp-integration-name and
         x-amp-group-ref -> 400; bad x-amp-integration-name -> 400
      6. x-amp-rate-limiter-mode present and not "throttle" -> 400
    Success: 200 application/json {"ok": true, "method", "target", "body_len"}.
    --plain: no validation, every request is recorded and answered like success.

    Control endpoints (not logged, not validated):
      POST /__mock/queue   {"status": 429, "headers": {...} or [[n, v], ...],
                            "body": "text" | JSON value, "body_b64": "...",
                            "count": 1,      (count -1 = until reset)
                            "status_line": "HTTP/1.1  302 Found",  (sent as is)
                            "delay": 0.5}    (seconds before the answer)
                           or a JSON array of such objects (queued in order).
                           The next non-control request that passes validation
                           gets the head of the queue (FIFO) instead of 200.
      POST /__mock/reset   clear the queue
      GET  /__mock/queue   show the queue
      GET  /__mock/health  200 "ok"

show
    Pretty-prints the log for humans.  Secrets are always masked (x-api-key,
    Authorization, Proxy-Authorization values become "****" + last 4
    characters, and a request's x-api-key value is scrubbed from its target,
    other headers and printed body).  --mask is accepted for clarity; there is
    no way to unmask.
"""

import argparse
import base64
import json
import os
import re
import signal
import socket
import sys
import threading
import traceback
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTROL_PREFIX = "/__mock/"
NOT_AUTHORIZED = "Ampersand user or API key is not authorized to access this resource"
SINGLETON_HEADERS = (
    "x-amp-proxy-version",
    "x-amp-project-id",
    "x-api-key",
    "x-amp-installation-id",
    "x-amp-integration-name",
    "x-amp-group-ref",
    "x-amp-rate-limiter-mode",
)
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
INTEGRATION_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
MAX_BODY = 512 * 1024 * 1024
MAX_CHUNK_LINE = 65536
DEBUG = bool(os.environ.get("MOCK_PROXY_DEBUG"))


class BadRequest(Exception):
    """The request body could not be read; answer 400 and close."""


class State:
    def __init__(self, log_path, plain, api_key, project_id):
        self.log_path = log_path
        self.plain = plain
        self.api_key = api_key
        self.project_id = project_id
        self.log_lock = threading.Lock()
        self.queue_lock = threading.Lock()
        self.queue = []  # list of dicts: status, headers (list of pairs), body (bytes), count

    def record(self, entry):
        line = json.dumps(entry) + "\n"
        with self.log_lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()

    def take_queued(self):
        with self.queue_lock:
            if not self.queue:
                return None
            item = self.queue[0]
            if item["count"] > 0:
                item["count"] -= 1
                if item["count"] == 0:
                    self.queue.pop(0)
            return item


def parse_queue_item(obj):
    """Validate one scripted response; returns the internal dict or raises ValueError."""
    if not isinstance(obj, dict):
        raise ValueError("queue item must be a JSON object")
    status = obj.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise ValueError("status must be an integer 200..599")
    raw_headers = obj.get("headers", {})
    if isinstance(raw_headers, dict):
        pairs = list(raw_headers.items())
    elif isinstance(raw_headers, list):
        pairs = []
        for p in raw_headers:
            if not (isinstance(p, (list, tuple)) and len(p) == 2):
                raise ValueError("headers list items must be [name, value]")
            pairs.append((p[0], p[1]))
    else:
        raise ValueError("headers must be an object or a list of [name, value]")
    headers = []
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, (str, int)):
            raise ValueError("header names must be strings, values strings or ints")
        value = str(value)
        if not re.match(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", name):
            raise ValueError("invalid header name %r" % name)
        if any(c in value for c in "\r\n\0"):
            raise ValueError("header value for %r contains CR/LF/NUL" % name)
        if name.lower() in ("content-length", "transfer-encoding"):
            continue  # the mock always frames the body itself
        headers.append((name, value))
    content_type = None
    if "body_b64" in obj:
        try:
            body = base64.b64decode(obj["body_b64"], validate=True)
        except Exception:
            raise ValueError("body_b64 is not valid base64")
    else:
        b = obj.get("body", "")
        if isinstance(b, str):
            body = b.encode("utf-8")
            content_type = "text/plain; charset=utf-8"
        elif b is None:
            body = b""
        else:
            body = json.dumps(b).encode("utf-8")
            content_type = "application/json"
    if body and content_type and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", content_type))
    count = obj.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or (count < 1 and count != -1):
        raise ValueError("count must be a positive integer or -1")
    status_line = obj.get("status_line")
    if status_line is not None and (not isinstance(status_line, str) or
                                    any(c in status_line for c in "\r\n\0")):
        raise ValueError("status_line must be one line")
    delay = obj.get("delay", 0)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 10:
        raise ValueError("delay must be 0..10 seconds")
    return {"status": status, "headers": headers, "body": body, "count": count,
            "status_line": status_line, "delay": delay}


def validate(headers, state):
    """Return None if the headers pass, else (status, reason)."""
    by_name = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(value)
    for name in SINGLETON_HEADERS:
        if len(by_name.get(name, [])) > 1:
            return 400, "duplicate header %s" % name

    def get(name):
        vals = by_name.get(name)
        return None if vals is None else vals[0].strip(" \t")

    version = get("x-amp-proxy-version")
    if version is None:
        return 400, "missing x-amp-proxy-version"
    if version != "1":
        return 400, "unsupported x-amp-proxy-version"

    key = get("x-api-key")
    if key is None:
        return 401, "missing x-api-key"
    if key == "":
        return 401, "empty x-api-key"
    if state.api_key is not None and key != state.api_key:
        return 401, "invalid x-api-key"

    project = get("x-amp-project-id")
    if project is None:
        return 400, "missing x-amp-project-id"
    if not UUID_RE.match(project):
        return 403, NOT_AUTHORIZED
    if state.project_id is not None and project.lower() != state.project_id.lower():
        return 403, NOT_AUTHORIZED

    installation = get("x-amp-installation-id")
    integration = get("x-amp-integration-name")
    group = get("x-amp-group-ref")
    if not installation and not (integration and group):
        return 400, "missing x-amp-installation-id (or x-amp-integration-name and x-amp-group-ref)"
    if integration is not None and not INTEGRATION_RE.match(integration):
        return 400, "invalid x-amp-integration-name"

    mode = get("x-amp-rate-limiter-mode")
    if mode is not None and mode != "throttle":
        return 400, "invalid x-amp-rate-limiter-mode"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body go out in two writes: with Nagle's algorithm the
    # body waits for the client's delayed ACK, 40 ms a request on a kept
    # connection (tests that make thousands of requests, reload.py).
    disable_nagle_algorithm = True
    server_version = "ampshim-mock-proxy/1"
    state = None  # set by serve()
    _in_handler = False

    def version_string(self):
        return self.server_version

    # --- quiet -----------------------------------------------------------
    def log_message(self, format, *args):
        pass

    # --- any verb ---------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _raw_target(self):
        words = (getattr(self, "requestline", "") or "").split()
        return words[1] if len(words) >= 2 else ""

    def _header_list(self):
        h = getattr(self, "headers", None)
        if h is None:
            return []
        try:
            return [[str(n), str(v)] for n, v in h.items()]
        except Exception:
            return []

    def handle_one_request(self):
        self.headers = None  # no stale headers from an earlier request on this connection
        self.requestline = ""
        super().handle_one_request()

    # Requests Python's parser rejects (bad request line, header overflow, ...)
    def send_error(self, code, message=None, explain=None):
        if not self._in_handler:
            try:
                self.state.record({
                    "method": self.command or "",
                    "target": self._raw_target(),
                    "headers": self._header_list(),
                    "body_b64": "",
                    "status": int(code),
                    "reason": "malformed request: %s" % (message or code),
                })
            except Exception:
                pass
            self.close_connection = True
        super().send_error(code, message, explain)

    # --- body -------------------------------------------------------------
    def _read_exact(self, n):
        data = self.rfile.read(n)
        if data is None or len(data) != n:
            raise BadRequest("body truncated")
        return data

    def _read_body(self):
        te = self.headers.get_all("Transfer-Encoding") or []
        codings = [c.strip().lower() for v in te for c in v.split(",") if c.strip()]
        if codings:
            if codings[-1] != "chunked":
                raise BadRequest("unsupported transfer-encoding")
            return self._read_chunked()
        cls = self.headers.get_all("Content-Length") or []
        if not cls:
            return b""
        values = {v.strip() for cl in cls for v in cl.split(",")}
        if len(values) != 1:
            raise BadRequest("conflicting content-length")
        v = values.pop()
        if not v.isdigit():
            raise BadRequest("invalid content-length")
        n = int(v)
        if n > MAX_BODY:
            raise BadRequest("body too large")
        return self._read_exact(n) if n else b""

    def _read_chunked(self):
        parts = []
        total = 0
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE + 1)
            if not line.endswith(b"\n") or len(line) > MAX_CHUNK_LINE:
                raise BadRequest("bad chunk size line")
            size_str = line.split(b";", 1)[0].strip()
            try:
                size = int(size_str, 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            if size < 0 or not re.fullmatch(rb"[0-9a-fA-F]+", size_str):
                raise BadRequest("bad chunk size")
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise BadRequest("body too large")
            parts.append(self._read_exact(size))
            crlf = self.rfile.readline(MAX_CHUNK_LINE + 1)
            if crlf not in (b"\r\n", b"\n"):
                raise BadRequest("missing CRLF after chunk")
        # trailers (ignored) up to the empty line
        for _ in range(1000):
            line = self.rfile.readline(MAX_CHUNK_LINE + 1)
            if not line:
                raise BadRequest("truncated trailers")
            if line in (b"\r\n", b"\n"):
                return b"".join(parts)
        raise BadRequest("too many trailers")

    # --- responses --------------------------------------------------------
    def _respond(self, status, headers, body, reason_phrase=None, status_line=None):
        if status_line:
            # A status line as a server may write it (odd spacing, ...).
            self.log_request(status)
            if not hasattr(self, "_headers_buffer"):
                self._headers_buffer = []
            self._headers_buffer.append((status_line + "\r\n").encode("latin-1"))
            self.send_header("Server", self.version_string())
            self.send_header("Date", self.date_time_string())
        else:
            self.send_response(status, reason_phrase)
        for name, value in headers:
            self.send_header(name, value)
        if status != 204 and status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304) and body:
            self.wfile.write(body)
        self.wfile.flush()

    def _json(self, status, obj, extra=()):
        body = json.dumps(obj).encode("utf-8")
        self._respond(status, [("Content-Type", "application/json")] + list(extra), body)

    # --- main handler -----------------------------------------------------
    def _handle(self):
        self._in_handler = True
        target = self._raw_target()
        headers = self._header_list()
        state = self.state
        entry = {"method": self.command, "target": target, "headers": headers,
                 "body_b64": "", "status": 0, "reason": ""}
        is_control = target.startswith(CONTROL_PREFIX)
        try:
            try:
                body = self._read_body()
            except BadRequest as e:
                self.close_connection = True
                if not is_control:
                    entry.update(status=400, reason="bad request body: %s" % e)
                    state.record(entry)
                self._json(400, {"error": str(e)}, [("Connection", "close")])
                return
            if is_control:
                self._control(target, body)
                return
            entry["body_b64"] = base64.b64encode(body).decode("ascii")
            mode = "plain" if state.plain else "proxy"
            failure = None if state.plain else validate(headers, state)
            if failure is not None:
                status, reason = failure
                entry.update(status=status, reason=reason)
                state.record(entry)
                self._json(status, {"error": reason}, [("X-Mock-Mode", mode)])
                return
            queued = state.take_queued()
            if queued is not None:
                entry.update(status=queued["status"], reason="queued")
                state.record(entry)
                if queued["delay"]:
                    time.sleep(queued["delay"])
                self._respond(queued["status"], queued["headers"] + [("X-Mock-Mode", mode)],
                              queued["body"], status_line=queued["status_line"])
                return
            entry.update(status=200, reason="ok")
            state.record(entry)
            self._json(200, {"ok": True, "method": self.command, "target": target,
                             "body_len": len(body)}, [("X-Mock-Mode", mode)])
        except (ConnectionError, BrokenPipeError, TimeoutError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # never crash; answer 500 if we can
            self.close_connection = True
            if DEBUG:
                traceback.print_exc()
            try:
                if not is_control and entry["status"] == 0:
                    entry.update(status=500, reason="internal error: %s" % e)
                    state.record(entry)
                self._json(500, {"error": "internal error"}, [("Connection", "close")])
            except Exception:
                pass
        finally:
            self._in_handler = False

    def _control(self, target, body):
        path = target.split("?", 1)[0]
        state = self.state
        if path == "/__mock/health":
            self._respond(200, [("Content-Type", "text/plain")], b"ok")
        elif path == "/__mock/reset" and self.command == "POST":
            with state.queue_lock:
                state.queue.clear()
            self._json(200, {"ok": True})
        elif path == "/__mock/queue" and self.command == "POST":
            try:
                obj = json.loads(body.decode("utf-8") or "{}")
                items = [parse_queue_item(o) for o in (obj if isinstance(obj, list) else [obj])]
            except (ValueError, UnicodeDecodeError) as e:
                self._json(400, {"error": "bad queue request: %s" % e})
                return
            with state.queue_lock:
                state.queue.extend(items)
                n = len(state.queue)
            self._json(200, {"ok": True, "queued": n})
        elif path == "/__mock/queue" and self.command in ("GET", "HEAD"):
            with state.queue_lock:
                q = [{"status": i["status"], "headers": [list(h) for h in i["headers"]],
                      "body_b64": base64.b64encode(i["body"]).decode("ascii"),
                      "count": i["count"]} for i in state.queue]
            self._json(200, q)
        elif path in ("/__mock/reset", "/__mock/queue"):
            self._json(405, {"error": "method not allowed"})
        else:
            self._json(404, {"error": "unknown control endpoint"})


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if DEBUG:
            super().handle_error(request, client_address)


class QuietServer6(QuietServer):
    address_family = socket.AF_INET6


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def serve(args):
    if args.project_id is not None and not UUID_RE.match(args.project_id):
        print("mock_proxy: warning: --project-id %r is not a UUID; every request will get 403"
              % args.project_id, file=sys.stderr)
    try:
        os.unlink(args.port_file)  # never leave a stale port behind for a waiting test
    except FileNotFoundError:
        pass
    open(args.log, "a").close()
    Handler.state = State(args.log, args.plain, args.api_key, args.project_id)
    cls = QuietServer6 if ":" in args.host else QuietServer
    server = cls((args.host, args.port), Handler)
    port = server.server_address[1]
    if args.tls_cert:
        # A TLS host on loopback: where look-alike https URLs are sent, to
        # show they arrive as the application wrote them.
        import ssl
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = tls.wrap_socket(server.socket, server_side=True)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    write_port_file(args.port_file, port)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


# --- show ---------------------------------------------------------------------

SECRET_HEADERS = ("x-api-key", "authorization", "proxy-authorization")


def mask(value):
    if len(value) <= 8:
        return "****"  # too short to show any of it
    return "****" + value[-4:]


def printable(s):
    out = []
    for ch in s:
        if ch == "\t" or (ch.isprintable() and ch != "\x7f"):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii") if ord(ch) < 0x10000
                       else "\\U%08x" % ord(ch))
    return "".join(out)


def scrub(text, secrets):
    for s in secrets:
        if s:
            text = text.replace(s, mask(s))
    return text


def show(args):
    try:
        with open(args.log, encoding="utf-8", errors="replace") as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
    except FileNotFoundError:
        print("mock_proxy: no log at %s" % args.log, file=sys.stderr)
        return 1
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            entries.append(None)
    # Every key seen anywhere in the log is scrubbed everywhere (a key leaked into
    # a URL or body of a request without an x-api-key header is still hidden).
    secrets = sorted({v.strip() for e in entries if isinstance(e, dict)
                      for n, v in (e.get("headers") or [])
                      if n.lower() == "x-api-key" and len(v.strip()) >= 4}, key=len, reverse=True)
    if args.last is not None:
        entries = entries[-args.last:] if args.last > 0 else []
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            print("(unparseable log line)")
            continue
        headers = e.get("headers") or []
        if i:
            print()
        print("%s %s -> %s%s" % (printable(e.get("method", "")),
                                 printable(scrub(e.get("target", ""), secrets)),
                                 e.get("status"),
                                 " (%s)" % printable(e["reason"]) if e.get("reason") else ""))
        for name, value in headers:
            lname = name.lower()
            if lname in SECRET_HEADERS:
                parts = value.strip().split(" ", 1)
                if lname != "x-api-key" and len(parts) == 2:  # keep the scheme: "Bearer ****abcd"
                    value = parts[0] + " " + mask(parts[1].strip())
                else:
                    value = mask(value.strip())
            else:
                value = scrub(value, secrets)
            print("  %s: %s" % (printable(name), printable(value)))
        try:
            body = base64.b64decode(e.get("body_b64") or "")
        except Exception:
            body = b""
        print("  body: %d bytes" % len(body))
        if body and len(body) <= 512:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and all(c.isprintable() or c in "\t\r\n" for c in text):
                for bl in scrub(text, secrets).splitlines():
                    print("  | %s" % bl)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="mock_proxy.py", description="Mock Ampersand proxy for ampshim tests")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the mock proxy")
    s.add_argument("--port-file", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--project-id")
    s.add_argument("--api-key")
    s.add_argument("--plain", action="store_true", help="plain upstream: no validation, always 200")
    s.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    s.add_argument("--tls-key", help="the certificate's private key (PEM)")
    w = sub.add_parser("show", help="pretty-print a request log (secrets masked)")
    w.add_argument("--log", required=True)
    w.add_argument("--last", type=int)
    w.add_argument("--mask", action="store_true", help="mask secrets (always on)")
    args = p.parse_args(argv)
    if args.cmd == "serve":
        return serve(args)
    return show(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # show | head
        try:
            sys.stdout = None
        except Exception:
            pass
        sys.exit(0)
