"""A local marketplace: an HTTP server on 127.0.0.1 that serves recorded or generated pages at the
paths the real sites use, and misbehaves on purpose when told to (for the demo, tests, benchmarks).
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: what a route can do besides answering normally: reset, hang (no answer), truncate (half the
#: body), bad_gzip, huge and huge_unsized (``size`` bytes, with or without Content-Length),
#: trickle_status (the status line one byte per ``trickle_interval``), trickle_body (the headers,
#: then the body one byte per ``trickle_interval``) and gzip_bomb (``Content-Encoding: gzip, gzip``,
#: a few kilobytes that inflate to ``size`` bytes)
FAULTS = ("reset", "hang", "truncate", "bad_gzip", "huge", "huge_unsized", "trickle_status",
          "trickle_body", "gzip_bomb")


@dataclass
class Route:
    """One answer. ``query`` lists parameters that must match for this route to be chosen (the
    route with most matching parameters wins). ``fault`` makes the server misbehave instead."""

    path: str
    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    fault: str | None = None
    #: for "huge" (Content-Length announced) and "huge_unsized" (none): how many bytes to stream
    size: int = 0
    #: answer only this many times, then fall through to the next matching route
    times: int | None = None
    hits: int = 0
    #: answers each request itself (a feed that changes over time): (status, headers, body)
    handler: Callable[[Request], Answer] | None = None


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    #: time.monotonic() when it arrived
    at: float = 0.0


#: what a dynamic route answers: status, headers, body
Answer = tuple[int, Mapping[str, str], bytes]


class LocalMarket:
    """``with LocalMarket() as market: market.add("/sch/i.html", body); market.url``"""

    def __init__(self, *, trickle_interval: float = 1.0) -> None:
        #: seconds between two bytes of a trickling answer
        self.trickle_interval = trickle_interval
        self.routes: list[Route] = []
        self.requests: list[Request] = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._arrived = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- routes ---------------------------------------------------------------------------

    def add(self, path: str, body: bytes | str = b"", *, status: int = 200,
            content_type: str | None = None, headers: Mapping[str, str] | None = None,
            query: Mapping[str, str] | None = None, fault: str | None = None, size: int = 0,
            times: int | None = None) -> Route:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        data = body.encode() if isinstance(body, str) else body
        hdrs = dict(headers or {})
        if content_type:
            hdrs.setdefault("Content-Type", content_type)
        route = Route(path=path, body=data, status=status, headers=hdrs, query=dict(query or {}),
                      fault=fault, size=size, times=times)
        with self._lock:
            # newest first, so a later add() overrides an earlier one for the same request
            self.routes.insert(0, route)
        return route

    def serve(self, path: str, handler: Callable[[Request], Answer], *,
              query: Mapping[str, str] | None = None) -> Route:
        """A route whose every answer ``handler`` makes from the request."""
        route = Route(path=path, query=dict(query or {}), handler=handler)
        with self._lock:
            self.routes.insert(0, route)
        return route

    def wait_for(self, path: str, timeout: float = 30.0) -> bool:
        """Block until a request for ``path`` has arrived (True), or ``timeout`` passed (False)."""
        with self._arrived:
            return self._arrived.wait_for(
                lambda: any(r.path == path for r in self.requests), timeout)

    def clear(self) -> None:
        with self._lock:
            self.routes.clear()
            self.requests.clear()

    def match(self, path: str, query: Mapping[str, str]) -> Route | None:
        best: Route | None = None
        with self._lock:
            for route in self.routes:
                if route.path != path or (route.times is not None and route.hits >= route.times):
                    continue
                if any(query.get(k) != v for k, v in route.query.items()):
                    continue
                if best is None or len(route.query) > len(best.query):
                    best = route
            if best is not None:
                best.hits += 1
        return best

    # -- server ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the local marketplace is not running")
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

    def start(self) -> LocalMarket:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # NOTE: a short poll interval makes stop() quick (shutdown waits for the next poll)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="localmarket")
        self._thread.start()
        return self

    def release(self) -> None:
        """Let every "hang" handler finish now (closing without an answer), and later ones at once."""
        self._release.set()

    def stop(self) -> None:
        self.release()  # let hanging handlers finish
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalMarket:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@cache
def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes (a multiple of 1 MiB) gzipped twice: 2 GiB become about 3.4 KB.

    NOTE: after a full flush deflate starts afresh, so every MiB of zeros compresses to the same
    bytes: the inner stream is built by repetition instead of compressing gigabytes.
    """
    mib = bytes(1 << 20)
    count = max(1, size >> 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    unit = packer.compress(mib) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(mib, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = (crc.to_bytes(4, "little") + ((count << 20) & 0xFFFFFFFF).to_bytes(4, "little"))
    inner = header + unit * count + packer.flush() + trailer
    return gzip.compress(inner, compresslevel=9)


def _huge_chunks(size: int) -> Iterator[bytes]:
    chunk = b"<!-- padding -->" * 4096
    sent = 0
    while sent < size:
        part = chunk[: size - sent]
        sent += len(part)
        yield part


def _make_handler(market: LocalMarket) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(self.rfile.read(length) if length else b"")

        def do_PUT(self) -> None:
            self.do_POST()

        def _answer(self, body: bytes = b"") -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            request = Request(self.command, parts.path, query,
                              {k.lower(): v for k, v in self.headers.items()}, body,
                              time.monotonic())
            with market._arrived:
                market.requests.append(request)
                market._arrived.notify_all()
            route = market.match(parts.path, query)
            if route is None:
                route = Route(path=parts.path, status=404, body=b"not found",
                              headers={"Content-Type": "text/plain"})
            elif route.handler is not None:
                status, answer_headers, answer = route.handler(request)
                route = Route(path=parts.path, status=status, body=answer,
                              headers=dict(answer_headers))
            self.close_connection = True
            fault = route.fault
            if fault == "reset":
                # NOTE: SO_LINGER 0 makes close() send a RST instead of a FIN
                import socket
                import struct

                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                # NOTE: close now: the server's own shutdown(SHUT_WR) would send a FIN first, and
                # the client would see a clean end of stream instead of a reset
                self.rfile.close()  # the socket closes only once its reader is closed too
                self.connection.close()
                return
            if fault == "hang":
                market._release.wait(30)
                return
            if fault == "trickle_status":
                self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                              b"Content-Length: 1000\r\n\r\n" + b"x" * 1000)
                return
            body = route.body
            headers = dict(route.headers)
            if fault == "bad_gzip":
                body = b"\x1f\x8b\x08\x00" + b"this is not deflate data" * 10
                headers["Content-Encoding"] = "gzip"
            elif fault == "gzip_bomb":
                body = gzip_bomb(route.size)
                headers["Content-Encoding"] = "gzip, gzip"
            elif route.headers.get("Content-Encoding") == "gzip" and body[:2] != b"\x1f\x8b":
                body = gzip.compress(body)
            self.send_response(route.status)
            headers.setdefault("Content-Type", "text/html; charset=utf-8")
            # NOTE: one request per connection; saying so keeps clients from reusing a closed one
            headers["Connection"] = "close"
            for k, v in headers.items():
                self.send_header(k, v)
            if fault in ("huge", "huge_unsized"):
                if fault == "huge":
                    self.send_header("Content-Length", str(route.size))
                self.end_headers()
                try:
                    for chunk in _huge_chunks(route.size):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if fault == "trickle_body":
                self.send_header("Content-Length", str(max(len(body), 1000)))
                self.end_headers()
                self.wfile.flush()
                self._trickle(body.ljust(1000, b" "))
                return
            if fault == "truncate":
                self.send_header("Content-Length", str(len(body) * 2 + 100))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def _trickle(self, data: bytes) -> None:
            """Send ``data`` one byte per ``trickle_interval`` until done, the client hangs up, or
            the market stops."""
            for i in range(len(data)):
                try:
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    return
                if market._release.wait(market.trickle_interval):
                    return

    return Handler
