"""A tiny HTTP server on 127.0.0.1 for vendor emulators, with faults that tests can inject.

An emulator is a function ``handle(request) -> Response`` that follows one vendor's documented contract; this module
serves it on a free loopback port in a thread and can be told to answer the next requests with a 429 and
Retry-After, a 5xx, a slow answer, truncated JSON or a 401, before the real handler sees them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass
class Fault:
    """What to do instead of (or before) answering one request."""

    kind: str  # "429", "500", "502", "503", "slow", "truncated", "401", "html"
    retry_after: float | None = None
    delay_s: float = 0.0
    #: Only a request whose path contains this text takes the fault (None: the next request, whatever it is).
    path: str | None = None


Handler = Callable[[Request], Response]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up (the point of a "slow" fault) is not an error worth printing.
        pass


class EmulatorServer:
    """Serves ``handler`` on 127.0.0.1:<free port> in a background thread. Use as a context manager."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.faults: deque[Fault] = deque()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Buffer each answer and send it in one write (flushed per request by the base class): headers and body
            # in separate small writes meet Nagle's algorithm and delayed ACKs, costing ~40 ms per request.
            wbufsize = 1 << 16

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                response = emulator._answer(request)
                payload = response.encode()
                self.send_response(response.status)
                headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        # A short poll interval makes shutdown() return in ~50 ms instead of the default 0.5 s per test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, *faults: Fault | str) -> None:
        """Answer the next requests with these faults, one each, in order."""
        with self._lock:
            self.faults.extend(f if isinstance(f, Fault) else Fault(f) for f in faults)

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            fault = next((f for f in self.faults if f.path is None or f.path in request.path), None)
            if fault is not None:
                self.faults.remove(fault)
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.delay_s)
            elif fault.kind in ("429", "500", "502", "503"):
                headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                return Response(int(fault.kind), {"error": f"injected {fault.kind}"}, headers)
            elif fault.kind == "401":
                return Response(401, {"error": "Couldn't authenticate you"})
            elif fault.kind == "html":
                return Response(
                    200, raw=b"<html><body>maintenance</body></html>", headers={"Content-Type": "text/html"}
                )
            elif fault.kind == "truncated":
                full = self.handler(request).encode()
                return Response(200, raw=full[: max(1, len(full) // 2)])
        return self.handler(request)

    def __enter__(self) -> EmulatorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
