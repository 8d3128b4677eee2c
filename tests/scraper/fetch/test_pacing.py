"""Pacing across processes: two Fetchers (as on two machines) asking one host at once keep its
interval only when they share the Redis limit; the local pacer keeps one process's rule."""

from __future__ import annotations

import asyncio
import time
from itertools import pairwise

import httpx
import pytest

from gpuscout.scraper.fetch.client import Fetcher, FetchSettings
from gpuscout.scraper.fetch.pacing import LocalPacer, SharedPacer


def _transport(arrivals: list[float]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        arrivals.append(time.monotonic())
        return httpx.Response(200, text="ok")

    return httpx.MockTransport(answer)


async def _two_fetchers(pacers: tuple[object, object], requests: int) -> list[float]:
    arrivals: list[float] = []
    settings = FetchSettings(min_interval=1.0, jitter=0, obey_robots=False)
    fetchers = [Fetcher(settings, transport=_transport(arrivals), pacer=p)  # type: ignore[arg-type]
                for p in pacers]

    async def run(f: Fetcher) -> None:
        for i in range(requests):
            await f.get(f"http://shop.example/page/{i}")

    try:
        await asyncio.gather(*(run(f) for f in fetchers))
    finally:
        for f in fetchers:
            await f.aclose()
            await f.pacer.aclose()
    return sorted(arrivals)


def test_two_processes_with_local_pacers_each_keep_only_their_own_interval() -> None:
    arrivals = asyncio.run(_two_fetchers((LocalPacer(), LocalPacer()), 2))
    gaps = [b - a for a, b in pairwise(arrivals)]
    assert len(arrivals) == 4 and min(gaps) < 0.5  # the host sees both at once


def test_shared_pacers_keep_one_interval_across_fetchers(redis_url: str) -> None:
    pacers = (SharedPacer(redis_url), SharedPacer(redis_url))
    arrivals = asyncio.run(_two_fetchers(pacers, 2))
    gaps = [b - a for a, b in pairwise(arrivals)]
    assert len(arrivals) == 4 and min(gaps) >= 1.0, gaps
    assert pacers[0].waited + pacers[1].waited > 0


def test_shared_windows_are_whole_seconds_never_shorter() -> None:
    assert SharedPacer.item(2.0).get_expiry() == 2
    assert SharedPacer.item(2.5).get_expiry() == 3
    assert SharedPacer.item(0.2).get_expiry() == 1


def test_an_unreachable_shared_limit_fails_the_request_instead_of_ignoring_it() -> None:
    from gpuscout.scraper.errors import FetchError

    async def go() -> None:
        pacer = SharedPacer("redis://127.0.0.1:1/0")
        async with Fetcher(FetchSettings(min_interval=1.0, obey_robots=False),
                           transport=_transport([]), pacer=pacer) as f:
            with pytest.raises(FetchError, match="shared politeness limit"):
                await f.get("http://shop.example/")
        await pacer.aclose()

    asyncio.run(go())
