"""A monotonic clock for fetch tests that only moves when the code under test sleeps."""

from __future__ import annotations

import asyncio


class FakeTime:
    """Pass ``clock`` and ``sleep`` to a Fetcher; every requested sleep is recorded, none waited."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)
