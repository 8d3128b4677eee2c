"""Shared test fixtures: where the real captures live, and (below) databases and local servers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def fixtures_root() -> Path:
    """The real marketplace captures: $GPUSCOUT_FIXTURES, else ../shared/fixtures beside the repo."""
    env = os.environ.get("GPUSCOUT_FIXTURES")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "fixtures")


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    root = fixtures_root()
    if not root.is_dir():
        pytest.fail(f"real captures not found at {root}; set GPUSCOUT_FIXTURES to their folder")
    return root


@pytest.fixture(scope="session")
def read_fixture(fixtures_dir: Path) -> Callable[[str], bytes]:
    """read_fixture("ebay-html/search-scard-uk-2025-08.html") -> the capture's bytes."""

    def _read(relative: str) -> bytes:
        return (fixtures_dir / relative).read_bytes()

    return _read
