"""Per-host pacing: when the next request to a host may start, in this process or across machines.

A ``Pacer`` is what a Fetcher asks before each request (``ready``: how long this process must
still wait, then ``claim``: a turn that no other process holds) and tells after it (``done``).

* ``LocalPacer`` (the default, one machine): one process's view: a request starts no earlier than
  the host's interval after the previous one to that host ended.
* ``SharedPacer`` (a cluster): the local rule, and besides it a moving-window limit of one request
  per host per interval kept in Redis through the ``limits`` library, so that any number of
  workers on any number of machines together start at most one request to a host per interval.
  As a request ends its end time replaces its start in the window, so the next request of any
  worker starts no earlier than the interval after the previous one ended: the one-machine rule,
  kept across machines.
  Redis holds whole seconds: an interval of 2.5 s is kept as 3 s across machines (never less).
  Timestamps are the machines' wall clocks: keep them in sync (NTP), as a skew between two
  machines shortens or stretches their shared gaps by as much.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from gpuscout.scraper.errors import DeadlineExceeded, FetchError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: the prefix of every key the shared limit writes in Redis
KEY_PREFIX = "gpuscout-pace"


class Pacer(Protocol):
    def ready(self, host: str, interval: Callable[[], float]) -> float:
        """Seconds this process must still wait before a request to ``host`` (≤ 0: none);
        ``interval()`` draws the (jittered) gap between two of its requests, when one is needed."""
        ...

    async def claim(self, host: str, interval: float, time_left: Callable[[], float | None]
                    ) -> None:
        """Wait for a turn at ``host`` that no other process holds (``interval``: the host's
        configured least gap); DeadlineExceeded when the turn would come after ``time_left()``."""
        ...

    async def done(self, host: str) -> None:
        """A request to ``host`` ended (the next one's interval counts from now)."""
        ...

    async def aclose(self) -> None:
        ...


class LocalPacer:
    """This process's requests only: the interval counts from the end of the previous request."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, float] = {}

    def ready(self, host: str, interval: Callable[[], float]) -> float:
        last = self._last.get(host)
        return 0.0 if last is None else last + interval() - self._clock()

    async def claim(self, host: str, interval: float, time_left: Callable[[], float | None]
                    ) -> None:
        return None

    async def done(self, host: str) -> None:
        self._last[host] = self._clock()

    async def aclose(self) -> None:
        return None


class SharedPacer(LocalPacer):
    """The local rule plus one request per host per interval across every process using the same
    Redis (``redis_url``, e.g. ``redis://cache:6379/0``). Use one per event loop: the Redis
    connection belongs to the loop that first used it."""

    def __init__(self, redis_url: str, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep, key_prefix: str = KEY_PREFIX) -> None:
        super().__init__(clock)
        self.redis_url = redis_url
        self._sleep = sleep
        self._key_prefix = key_prefix
        self._limiter: Any = None
        self._storage: Any = None
        self.waited = 0.0  # seconds spent waiting for another process's turn (for reports)
        self._windows: dict[str, int] = {}

    def _open(self) -> Any:
        if self._limiter is None:
            from limits.aio.storage import RedisStorage
            from limits.aio.strategies import MovingWindowRateLimiter

            uri = self.redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1)
            self._storage = RedisStorage(uri, implementation="redispy",
                                         key_prefix=self._key_prefix)
            self._limiter = MovingWindowRateLimiter(self._storage)
        return self._limiter

    @staticmethod
    def item(interval: float) -> Any:
        """One request per ``interval`` seconds, rounded up to whole seconds (at least one)."""
        from limits import RateLimitItemPerSecond

        return RateLimitItemPerSecond(1, max(1, math.ceil(interval - 1e-9)))

    async def claim(self, host: str, interval: float, time_left: Callable[[], float | None]
                    ) -> None:
        if interval <= 0:
            return
        limiter = self._open()
        item = self.item(interval)
        self._windows[host] = int(item.get_expiry())
        while True:
            try:
                if await limiter.hit(item, host):
                    return
                stats = await limiter.get_window_stats(item, host)
            except Exception as exc:  # NOTE: the shared limit is down: no request without it
                raise FetchError(f"the shared politeness limit (Redis at "
                                 f"{_masked(self.redis_url)}) cannot be reached: {exc}") from exc
            wait = max(0.01, stats.reset_time - time.time())
            left = time_left()
            if left is not None and wait >= left:
                raise DeadlineExceeded(f"the scan's deadline passed: {host} is busy with other "
                                       f"workers' requests for {wait:.0f} s more")
            self.waited += wait
            await self._sleep(wait)

    async def done(self, host: str) -> None:
        await super().done(host)
        window = self._windows.get(host)
        if window is None or self._storage is None:
            return
        # NOTE: the moving window of one request is the newest timestamp at the head of a Redis
        # list (limits' own layout, written by its acquire script): the end time is put there
        # in its place, so the window counts from the end of this request
        item = self.item(window)
        bridge = self._storage.bridge
        key = bridge.prefixed_key(item.key_for(host))
        try:
            async with bridge.get_connection().pipeline(transaction=True) as pipe:
                pipe.lpush(key, time.time())
                pipe.ltrim(key, 0, 0)
                pipe.expire(key, window)
                await pipe.execute()
        except Exception as exc:
            raise FetchError(f"the shared politeness limit (Redis at "
                             f"{_masked(self.redis_url)}) cannot be reached: {exc}") from exc

    async def aclose(self) -> None:
        if self._storage is not None:
            bridge = getattr(self._storage, "bridge", None)
            storage = getattr(bridge, "storage", None)
            close = getattr(storage, "aclose", None)
            if close is not None:
                await close()
            self._storage = self._limiter = None


def _masked(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return f"{head.split('://')[0]}://****@{tail}" if sep else url
