"""SQLite in WAL mode: `gpuscout deals` answers from committed data while a writer holds the
database, and while a scan is in progress (hung on a slow marketplace)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.scan import ScanSummary, run_scan
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine
from gpuscout.models.storage.migrate import upgrade
from tests.support.market import OWN_PAGES, market_config, serve_pages, write_toml

#: generous: a reader blocked by the writer would wait the 30 s busy timeout, then fail
ANSWER_WITHIN = 20.0


@pytest.fixture
def scanned(tmp_path: Path) -> Iterator[tuple[LocalMarket, Any, dict[str, Any], Path]]:
    """A SQLite database holding one scan of the project's own pages, and its config file."""
    db_path = tmp_path / "gpuscout.db"
    with LocalMarket() as market:
        serve_pages(market, OWN_PAGES)
        cfg, data = market_config(market.url, f"sqlite:///{db_path}", tmp_path)
        engine = make_engine(f"sqlite:///{db_path}")
        upgrade(engine)
        summary = run_scan(cfg, engine, now=datetime.now(UTC))
        assert {s.outcome for s in summary.searches} == {"ok"}
        conf = write_toml(data, tmp_path / "gpuscout.toml")
        yield market, engine, data, conf
        engine.dispose()


def _deals(run_cli: Any, conf: Path) -> list[dict[str, Any]]:
    """`gpuscout deals --format json`, run in a worker thread so a blocked read fails the test
    instead of hanging it; the rows without their clock-dependent age."""
    out: dict[str, Any] = {}

    def work() -> None:
        out["result"] = run_cli("deals", "--format", "json", "--limit", "100", config=str(conf))

    worker = threading.Thread(target=work, name="deals")
    worker.start()
    worker.join(ANSWER_WITHIN)
    assert not worker.is_alive(), "deals waited on the writer's lock"
    result = out["result"]
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    for row in rows:
        row.pop("age", None)
    return rows


def test_deals_reads_committed_data_while_a_write_transaction_is_open(
        scanned: Any, run_cli: Any) -> None:
    _market, _engine, _data, conf = scanned
    committed = _deals(run_cli, conf)
    fe = next(r for r in committed if r["external_id"] == OWN_PAGES.fe_post)
    assert fe["unit_price"] == str(OWN_PAGES.fe_price) and fe["source"] == "reddit"

    writer = sqlite3.connect(conf.parent / "gpuscout.db", isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        # NOTE: EXCLUSIVE, not just IMMEDIATE: with a rollback journal it would lock readers out
        # (as a committing scan does); in WAL mode readers go on reading the last commit
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute("UPDATE listings SET price = 100, title = 'uncommitted' "
                       f"WHERE external_id = '{OWN_PAGES.fe_post}'")
        writer.execute("UPDATE scores SET total = 100, unit_price = 100")
        columns = [r[1] for r in writer.execute("PRAGMA table_info(listings)")
                   if r[1] not in ("id", "external_id")]
        names = ", ".join(columns)
        writer.execute(f"INSERT INTO listings (external_id, {names}) SELECT 'uncommitted-1', "
                       f"{names} FROM listings WHERE external_id = '{OWN_PAGES.fe_post}'")
        assert writer.in_transaction

        during = _deals(run_cli, conf)
        assert during == committed  # the open transaction's rows are invisible
        status = run_cli("status", "--format", "json", config=str(conf))
        assert status.exit_code == 0, status.output
    finally:
        writer.rollback()
        writer.close()
    assert _deals(run_cli, conf) == committed


def test_deals_answers_while_a_scan_is_waiting_on_the_network(
        scanned: Any, run_cli: Any) -> None:
    market, engine, data, conf = scanned
    committed = _deals(run_cli, conf)
    cfg, _ = market_config(market.url, data["database"]["url"], conf.parent)
    market.add("/r/hardwareswap/search.json", fault="hang")  # no answer until released
    fetching = threading.Event()
    done: dict[str, ScanSummary] = {}

    def progress(search: str, what: str) -> None:
        if search == "hws-3090" and what == "fetching":
            fetching.set()

    def scan() -> None:
        done["summary"] = run_scan(cfg, engine, only="hws-3090", progress=progress,
                                   now=datetime.now(UTC))

    scanner = threading.Thread(target=scan, name="scan")
    scanner.start()
    try:
        assert fetching.wait(ANSWER_WITHIN)
        assert _deals(run_cli, conf) == committed
        assert scanner.is_alive()  # the scan was still waiting on the market all along
    finally:
        market.release()
        scanner.join(ANSWER_WITHIN)
    assert not scanner.is_alive()
    assert done["summary"].searches[0].outcome == "error"
    assert _deals(run_cli, conf) == committed
