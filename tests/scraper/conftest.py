"""Fetch and page tests run their async code on asyncio (anyio's pytest plugin, shipped with httpx)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
