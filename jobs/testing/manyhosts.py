"""A local marketplace of many hosts: Craigslist-like regional sites, each on its own loopback
address (127.1.x.y, one port), served by one asyncio thread; every request is recorded with the
host it reached and when, so that the gap between two requests to one host can be measured.

Linux routes all of 127.0.0.0/8 to the loopback interface and lets a server bind any address in
it, so 400 hosts need no configuration: their names are the addresses themselves. Each host's
search has ``pages`` pages of ``per_page`` made-up ads, linked by ``<link rel="next">``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

from gpuscout.jobs.testing.pages import DemoAd, craigslist_search_page


def host_address(index: int) -> str:
    """The loopback address of host ``index`` (0 ≤ index < 62500)."""
    return f"127.1.{index // 250}.{index % 250 + 1}"


@dataclass(frozen=True)
class Hit:
    host: str
    path: str
    query: dict[str, str]
    #: time.monotonic() when the request line arrived
    at: float


class ManyHosts:
    """``with ManyHosts(400) as market: market.base_url`` (``http://{site}:PORT``, a Craigslist
    base URL whose ``site`` option is the host's address)."""

    def __init__(self, hosts: int, *, pages: int = 3, per_page: int = 5) -> None:
        self.hosts = hosts
        self.pages = pages
        self.per_page = per_page
        self.hits: list[Hit] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[Any] = []
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://{{site}}:{self.port}"

    def site(self, index: int) -> str:
        return host_address(index)

    def page(self, host: str, query: str, number: int) -> bytes:
        """Page ``number`` (1-based) of ``host``'s results for ``query``."""
        index = _host_index(host)
        base = f"http://{host}:{self.port}"
        ads = tuple(DemoAd(post_id=str(7_000_000_000 + index * 1000 + number * 50 + k),
                           title=f"NVIDIA RTX 3090 Founders Edition {index}-{number}-{k}",
                           price=Decimal(650 + (index + number + k) % 150),
                           location="Exampleville", role="ok")
                    for k in range(self.per_page))
        body = craigslist_search_page(base, query, ads)
        if number < self.pages:
            link = (f'<link rel="next" href="/search/sss?query={quote_plus(query)}&amp;'
                    f'sort=date&amp;s={number * self.per_page}">')
            body = body.replace(b"</head>", link.encode() + b"\n</head>", 1)
        return body

    def gaps(self) -> dict[str, list[float]]:
        """Per host, the seconds between consecutive requests to it."""
        by_host: dict[str, list[float]] = {}
        with self._lock:
            for hit in sorted(self.hits, key=lambda h: h.at):
                by_host.setdefault(hit.host, []).append(hit.at)
        return {host: [b - a for a, b in pairwise(times)]
                for host, times in by_host.items()}

    # -- server -----------------------------------------------------------------------------

    def start(self) -> ManyHosts:
        self._thread = threading.Thread(target=self._run, name="manyhosts", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the many-host marketplace did not start")
        return self

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        loop.run_until_complete(self._listen())
        self._ready.set()
        loop.run_forever()
        for server in self._servers:
            server.close()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    async def _listen(self) -> None:
        # NOTE: one free port, found on the first address, then bound on every address
        probe = socket.socket()
        probe.bind((host_address(0), 0))
        self.port = probe.getsockname()[1]
        probe.close()
        for i in range(self.hosts):
            self._servers.append(await asyncio.start_server(
                self._handle, host_address(i), self.port, backlog=64, reuse_address=True))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            at = time.monotonic()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            host = writer.get_extra_info("sockname")[0]
            target = line.split(b" ")[1].decode() if line.count(b" ") >= 2 else "/"
            parts = urlsplit(target)
            query = dict(parse_qsl(parts.query))
            with self._lock:
                self.hits.append(Hit(host, parts.path, query, at))
            if parts.path == "/search/sss":
                offset = int(query.get("s", "0") or 0)
                status, body = 200, self.page(host, query.get("query", ""),
                                              offset // self.per_page + 1)
                kind = "text/html; charset=utf-8"
            else:
                status, body, kind = 404, b"not found", "text/plain"
            reason = "OK" if status == 200 else "Not Found"
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                         + body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ManyHosts:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _host_index(host: str) -> int:
    parts = host.split(".")
    return int(parts[2]) * 250 + int(parts[3]) - 1
