"""A scan killed mid-way (kill -9, SIGTERM) in a real child process: the next scan starts at
once, closes the dead scan's runs as "interrupted", and loses nothing already stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from gpuscout.jobs.scan import run_scan
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.errors import ScanLocked
from gpuscout.models.storage.db import session_factory
from gpuscout.models.storage.lock import INTERRUPTED, PG_LOCK_CLASS, scan_lock
from gpuscout.models.storage.tables.listings import Listing
from gpuscout.models.storage.tables.runs import ScanLock, ScrapeRun
from tests.support.market import OWN_PAGES, market_config, serve_pages, write_toml

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def market() -> Iterator[LocalMarket]:
    with LocalMarket() as m:
        yield m


def _runs(engine: Any) -> list[ScrapeRun]:
    with session_factory(engine)() as s:
        return list(s.scalars(select(ScrapeRun).order_by(ScrapeRun.id)))


def _wait_for_advisory_lock(engine: Any) -> None:
    """On PostgreSQL, block until the dead scan's session is gone and its lock free (the server
    notices the closed connection on its own; this waits for that, it does not poll)."""
    if engine.dialect.name != "postgresql":
        return
    key = "hashtext(current_schema() || ':' || 'scan')"
    with engine.connect() as conn:
        conn.execute(text("SET lock_timeout = '10s'"))
        conn.execute(text(f"SELECT pg_advisory_lock({PG_LOCK_CLASS}, {key})"))
        conn.execute(text(f"SELECT pg_advisory_unlock({PG_LOCK_CLASS}, {key})"))
        conn.commit()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_killed_scan_leaves_no_lock_and_no_running_run(
        sig: signal.Signals, market: LocalMarket, engine: Any, db_url: str,
        tmp_path: Path) -> None:
    cfg, data = market_config(market.url, db_url, tmp_path)
    serve_pages(market, OWN_PAGES)
    run_scan(cfg, engine, now=T0)
    with session_factory(engine)() as s:
        stored = s.scalar(select(Listing.id).order_by(Listing.id.desc()).limit(1))
    assert stored is not None
    conf = write_toml(data, tmp_path / "gpuscout.toml")

    # the child's eBay search hangs: it holds the lock, its runs are open, when it is killed
    market.add("/sch/i.html", b"", fault="hang")
    market.requests.clear()
    child = subprocess.Popen(
        [sys.executable, "-m", "gpuscout.jobs.cli.main", "--config", str(conf), "scan", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
        env={**os.environ, "GPUSCOUT_DATABASE_URL": db_url})
    try:
        assert market.wait_for("/sch/i.html", timeout=30), child.stderr
        assert [r.outcome for r in _runs(engine)[-3:]] == ["running"] * 3
        with pytest.raises(ScanLocked), scan_lock(engine, now=T0 + timedelta(hours=1)):
            pass  # the child lives: its lock holds
        child.send_signal(sig)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stderr is not None
        child.stderr.close()
    assert child.returncode == -sig

    if engine.dialect.name == "sqlite":
        with session_factory(engine)() as s:
            holder = s.scalar(select(ScanLock.holder))
        assert holder is not None and f":{child.pid}:" in holder  # the dead scan's lease remains
    _wait_for_advisory_lock(engine)
    serve_pages(market, OWN_PAGES)
    when = T0 + timedelta(hours=1, minutes=1)  # well inside the dead scan's two-hour lease
    summary = run_scan(cfg, engine, now=when)

    assert {s.outcome for s in summary.searches} == {"ok"}
    runs = _runs(engine)
    dead = runs[3:6]
    assert [(r.outcome, r.finished_at is not None) for r in dead] == [(INTERRUPTED, True)] * 3
    assert all(r.error and r.error.startswith("interrupted:") for r in dead)
    assert [r.outcome for r in runs[6:]] == ["ok"] * 3
    assert not [r for r in runs if r.outcome == "running"]
    with session_factory(engine)() as s:
        assert s.get(Listing, stored) is not None
        assert s.scalar(select(ScanLock.holder)) is None  # released after the scan
