"""A local ntfy-compatible push endpoint for tests and benchmarks: it takes ntfy's JSON publish
(Apprise ``ntfy://host:port/topic`` posts to the root) and Apprise's ``json://`` posts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gpuscout.jobs.testing.localmarket import LocalMarket, Request


@dataclass(frozen=True)
class Push:
    """One notification as the endpoint received it."""

    topic: str
    title: str
    message: str
    at: float  # time.monotonic() on arrival


class PushServer:
    """``with push_server() as push: push.ntfy_url("deals")``; ``push.received``."""

    def __init__(self, market: LocalMarket) -> None:
        self.market = market
        self.received: list[Push] = []
        self.status = 200
        market.serve("/", self._ntfy)
        market.serve("/hook", self._json)

    @property
    def host(self) -> str:
        return self.market.url.removeprefix("http://")

    def ntfy_url(self, topic: str = "gpu-deals") -> str:
        # NOTE: ntfy also takes a publish at /<topic> (Apprise sends long bodies that way)
        self.market.serve(f"/{topic}", self._ntfy_topic)
        return f"ntfy://{self.host}/{topic}"

    def json_url(self) -> str:
        return f"json://{self.host}/hook"

    def _answer(self, push: Push) -> tuple[int, dict[str, str], bytes]:
        if self.status != 200:
            return self.status, {"Content-Type": "application/json"}, b'{"error": "nope"}'
        self.received.append(push)
        return 200, {"Content-Type": "application/json"}, b'{"id": "x1", "event": "message"}'

    def _ntfy(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        body: Any = json.loads(request.body or b"{}")
        return self._answer(Push(str(body.get("topic", "")), str(body.get("title", "")),
                                 str(body.get("message", "")), time.monotonic()))

    def _ntfy_topic(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        return self._answer(Push(request.path.lstrip("/"), request.headers.get("x-title", ""),
                                 request.body.decode("utf-8", "replace"), time.monotonic()))

    def _json(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        body: Any = json.loads(request.body or b"{}")
        return self._answer(Push("json", str(body.get("title", "")),
                                 str(body.get("message", "")), time.monotonic()))


@contextmanager
def push_server() -> Iterator[PushServer]:
    with LocalMarket() as market:
        yield PushServer(market)
