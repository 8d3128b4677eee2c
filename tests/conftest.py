"""Shared test fixtures: where the real captures live (absent: their tests skip), and databases."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.shared import fold_skip, require, shared_folders


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    fold_skip(report)
    return report


@pytest.fixture(autouse=True)
def _environment_kept() -> Any:
    """A test leaves gpuscout's environment variables as it found them (monkeypatch restores
    its own changes): a leaked broker or database URL would change what later tests see."""
    before = {k: v for k, v in os.environ.items() if k.startswith("GPUSCOUT_")}
    yield
    after = {k: v for k, v in os.environ.items() if k.startswith("GPUSCOUT_")}
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the test changed the environment variables {changed}"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The real captures' folder; tests that use it skip when it is absent (see tests.support.shared)."""
    return require(shared_folders()[0])


@pytest.fixture(scope="session")
def read_fixture(fixtures_dir: Path) -> Callable[[str], bytes]:
    """read_fixture("ebay-html/search-scard-uk-2025-08.html") -> the capture's bytes."""

    def _read(relative: str) -> bytes:
        return (fixtures_dir / relative).read_bytes()

    return _read


# --------------------------------------------------------------------------- databases

PG_ENV = "GPUSCOUT_TEST_DATABASE_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh, empty database URL: SQLite always; PostgreSQL (a throw-away schema) when
    $GPUSCOUT_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gpuscout.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    from bench.common import pg_database

    with pg_database(base, prefix="t_") as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Any:
    """A migrated engine on the database under test."""
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Any) -> Any:
    from gpuscout.models.storage.db import session_factory

    return session_factory(engine)


# --------------------------------------------------------------------------- no internet

@pytest.fixture(autouse=True)
def _rates_from_this_machine_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan asks the configured rates source for currency rates: in tests that must be a
    local server or a mock transport, never the public source of the default configuration."""
    from urllib.parse import urlsplit

    import gpuscout.jobs.rates as rates

    real = rates.fetch_usd_rates

    async def local_only(url: str, **kw: Any) -> Any:
        if kw.get("transport") is None and urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"a test asked {url} for currency rates (set scoring.rates_url)")
        return await real(url, **kw)

    monkeypatch.setattr(rates, "fetch_usd_rates", local_only)


# --------------------------------------------------------------------------- the cluster

@pytest.fixture
def redis_url() -> Any:
    """The Redis of the cluster tests ($GPUSCOUT_TEST_REDIS_URL, a database of its own: emptied
    before and after each test); they skip without it, like the PostgreSQL ones."""
    from tests.support.cluster import REDIS_ENV

    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} not set (a Redis database the tests may empty, e.g. "
                    "redis://127.0.0.1:6379/15)")
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def pg_url() -> Any:
    """A throw-away PostgreSQL schema (the cluster's tests need PostgreSQL: they skip without)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    from bench.common import pg_database

    with pg_database(base, prefix="c_") as url:
        yield url
