"""A fault-injecting HTTP proxy in front of the Risk API, for the drills (`make chaos`).

    python -m jobs.drills.proxy [--listen 5011] [--control 5012] [--upstream http://127.0.0.1:5001]

It forwards every request to the Risk API unchanged, except what its current fault says:
  pass       forward (an unreachable upstream resets the client's connection, as a stopped server would)
  slow       forward after `delay_s` seconds (10 by default: slower than the bolt's read timeout)
  error      answer 500 with a problem document, without asking the Risk API
  malformed  answer 200 with a body that is not the promised JSON
  down       reset every connection (the Risk API unreachable)
and, in every mode, answers 500 to any request whose JSON body names one of the `poison_ids` (a record the Risk
API always fails on). The fault is set on the control port, which is separate so that no Risk API path is shadowed:
    curl -X PUT 127.0.0.1:5012/fault -d '{"mode": "slow", "delay_s": 10, "poison_ids": ["X-1"]}'
    curl 127.0.0.1:5012/fault        (the current fault and request counters)
toxiproxy was considered: it works at the TCP level and cannot answer 500 for one applicant in a batch body.
Both ports listen on 127.0.0.1 only; request bodies are bounded like the Risk API's own.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MODES = ("pass", "slow", "error", "malformed", "down")
MAX_BODY = 16 * 1024 * 1024
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@dataclass
class Fault:
    """The fault the proxy currently injects; `counts` says what it did to how many requests."""

    mode: str = "pass"
    delay_s: float = 10.0
    poison_ids: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, data: dict[str, Any]) -> str | None:
        """Apply a control request; return an error text when it is invalid."""
        mode = data.get("mode", self.mode)
        if mode not in MODES:
            return f"mode must be one of {', '.join(MODES)}"
        try:
            delay = float(data.get("delay_s", self.delay_s))
            poison = {str(i) for i in data.get("poison_ids", self.poison_ids)}
        except (TypeError, ValueError) as exc:
            return f"bad value: {exc}"
        with self.lock:
            self.mode, self.delay_s, self.poison_ids = mode, delay, poison
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the fault and the counters as JSON-ready data."""
        with self.lock:
            return {
                "mode": self.mode,
                "delay_s": self.delay_s,
                "poison_ids": sorted(self.poison_ids),
                "counts": dict(self.counts),
            }

    def count(self, what: str) -> None:
        """Count one request handled as `what`."""
        with self.lock:
            self.counts[what] += 1


def names_poison(body: bytes, poison_ids: set[str]) -> bool:
    """Tell whether a JSON request body names an applicant id of the poison set."""
    if not poison_ids or not body:
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    applicants = data.get("applicants") if isinstance(data, dict) else None
    items = applicants if isinstance(applicants, list) else [data]
    return any(isinstance(a, dict) and str(a.get("id")) in poison_ids for a in items)


def problem(status: int, title: str, detail: str) -> bytes:
    """Return a problem-details body."""
    return json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()


class ProxyHandler(BaseHTTPRequestHandler):
    """Forward one request to the upstream Risk API, or inject the current fault."""

    protocol_version = "HTTP/1.1"
    server: ProxyServer

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.handle_request()

    def do_POST(self) -> None:
        self.handle_request()

    def read_body(self) -> bytes | None:
        """Read the request body, None when it is larger than MAX_BODY."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def handle_request(self) -> None:
        """Apply the fault to this request."""
        body = self.read_body()
        if body is None:
            self.answer(413, problem(413, "Payload Too Large", f"at most {MAX_BODY} bytes"), "application/problem+json")
            return
        fault = self.server.fault
        with fault.lock:
            mode, delay, poison = fault.mode, fault.delay_s, set(fault.poison_ids)
        if names_poison(body, poison):
            fault.count("poison")
            self.answer(
                500, problem(500, "Internal Server Error", "injected: poison applicant"), "application/problem+json"
            )
            return
        fault.count(mode)
        if mode == "down":
            self.reset()
        elif mode == "error":
            self.answer(500, problem(500, "Internal Server Error", "injected fault"), "application/problem+json")
        elif mode == "malformed":
            self.answer(200, b'{"results": [{"application_id": ', "application/json")
        else:
            if mode == "slow":
                time.sleep(delay)
            self.forward(body)

    def forward(self, body: bytes) -> None:
        """Send the request upstream and relay the answer; reset the client when the upstream is unreachable."""
        up = self.server.upstream
        host = up.hostname or "localhost"  # an upstream URL without a host: the loopback, as connecting to None does
        conn = http.client.HTTPConnection(host, up.port or 80, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError:
            self.server.fault.count("upstream unreachable")
            self.reset()
            return
        finally:
            conn.close()
        self.answer(resp.status, data, resp.getheader("Content-Type", "application/octet-stream"))

    def answer(self, status: int, body: bytes, content_type: str) -> None:
        """Write a complete response."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reset(self) -> None:
        """Close the client's connection with a TCP reset (SO_LINGER 0), as a dead server's host would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class ControlHandler(BaseHTTPRequestHandler):
    """GET /fault shows the fault and counters; PUT /fault sets it."""

    protocol_version = "HTTP/1.1"
    server: ControlServer

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.reply(200, self.server.fault.to_dict())

    def do_PUT(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.reply(400, {"title": "Bad Request", "detail": "body must be JSON"})
            return
        error = self.server.fault.update(data) if isinstance(data, dict) else "body must be a JSON object"
        if error:
            self.reply(400, {"title": "Bad Request", "detail": error})
        else:
            self.reply(200, self.server.fault.to_dict())

    def reply(self, status: int, data: dict[str, Any]) -> None:
        """Write a JSON response."""
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status < 400 else "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ProxyServer(ThreadingHTTPServer):
    """The proxy's listening server: knows the upstream and the shared fault."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], upstream: str, fault: Fault) -> None:
        """Listen on address and forward to upstream."""
        super().__init__(address, ProxyHandler)
        self.upstream, self.fault = urlsplit(upstream), fault


class ControlServer(ThreadingHTTPServer):
    """The control port's server."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], fault: Fault) -> None:
        """Listen on address."""
        super().__init__(address, ControlHandler)
        self.fault = fault


def main(argv: list[str] | None = None) -> int:
    """Run the proxy and its control port until killed."""
    p = argparse.ArgumentParser(prog="python -m jobs.drills.proxy", description=__doc__.splitlines()[0])
    p.add_argument("--listen", type=int, default=5011)
    p.add_argument("--control", type=int, default=5012)
    p.add_argument("--upstream", default="http://127.0.0.1:5001")
    args = p.parse_args(argv)
    fault = Fault()
    proxy = ProxyServer(("127.0.0.1", args.listen), args.upstream, fault)
    control = ControlServer(("127.0.0.1", args.control), fault)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(
        f"risk proxy on 127.0.0.1:{args.listen} -> {args.upstream}, control on 127.0.0.1:{args.control}",
        file=sys.stderr,
        flush=True,
    )
    proxy.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
