"""Copying a database into another, empty one (SQLite to SQLite always; SQLite to PostgreSQL when
$GPUSCOUT_TEST_DATABASE_URL is set): every row, new ids after the copied ones, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, insert, select

from gpuscout.models.errors import DatabaseError, ScanLocked
from gpuscout.models.storage import transfer
from gpuscout.models.storage.db import make_engine, session_factory, transaction
from gpuscout.models.storage.lock import scan_lock
from gpuscout.models.storage.migrate import head_revision, upgrade
from gpuscout.models.storage.records import ListingRecord, ScoreRecord
from gpuscout.models.storage.store import save_scores, upsert_listings
from gpuscout.models.storage.tables import AlertDelivery, ScrapeRun

T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def _seed(engine: Engine) -> None:
    """Listings with scores, a running and a finished run, and an alert."""
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        ids = upsert_listings(s, [ListingRecord(
            source="ebay", external_id=f"10{n}", url=f"https://www.ebay.com/itm/10{n}",
            title=f"RTX 3090 Founders Edition #{n}", price=69900 + n * 1000, shipping=0,
            currency="USD", location="Austin, TX", seller="gpu_seller", condition="Used",
            status="active", model="rtx 3090", variant="fe", kind="card",
            buying_format="auction" if n == 2 else "fixed",
            ends_at=T0 + timedelta(hours=5) if n == 2 else None) for n in range(3)], now=T0).ids
        save_scores(s, [ScoreRecord(
            listing_id=lid, watch="3090-fe", version=3, total=80 + i, fits=True, unfit_reason=None,
            unit_price=69900, currency="USD", price_points=50, condition_points=20,
            risk_points=10 + i, components={"price": {"points": 50, "reasons": ["under"]}},
            flags=["auction"] if i == 2 else [], reasons=["price 4 % under the market"],
            reference={"median": "725.00", "source": "market"}, computed_at=T0)
            for i, lid in enumerate(ids.values())])
        s.add_all([ScrapeRun(search="ebay-3090-fe", source="ebay", started_at=T0,
                             finished_at=T0 + timedelta(seconds=4), outcome="ok", pages=1,
                             listings=3, new=3),
                   ScrapeRun(search="hws-3090", source="reddit", started_at=T0),
                   AlertDelivery(dedupe_key="deals:101:new", listing_id=ids[("ebay", "101")],
                                 rule="deals", watch="3090-fe", event="new", price=70900,
                                 currency="USD", score=81, state="sent", created_at=T0,
                                 due_at=T0, sent_at=T0, attempts=1, channel="email")])


@pytest.fixture
def source(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'one-machine.db'}")
    upgrade(engine)
    _seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def target(db_url: str) -> Any:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None \
        else value


def _rows(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
    return [tuple(_utc(v) for v in row) for row in rows]


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _table(name: str) -> Table:
    return next(t for t in transfer.copied_tables() if t.name == name)


def test_every_row_is_copied_and_new_ids_follow_the_copied_ones(source: Engine,
                                                                target: Engine) -> None:
    seen: list[tuple[str, int]] = []
    copied = transfer.copy_database(source, target, now=T0 + timedelta(hours=1),
                                    progress=lambda table, rows: seen.append((table, rows)))
    counts = {c.table: c.rows for c in copied}
    assert {k: v for k, v in counts.items() if v} == {
        "listings": 3, "price_observations": 3, "scores": 3, "scrape_runs": 2,
        "alert_deliveries": 1}
    # parents before the tables that refer to them; the lock and heartbeats are not data
    assert list(counts).index("listings") < list(counts).index("scores")
    assert "scan_lock" not in counts and "cluster_nodes" not in counts
    assert ("listings", 3) in seen
    runs = _table("scrape_runs")
    for table in transfer.copied_tables():
        if table is runs:
            continue
        assert _rows(target, table) == _rows(source, table), table.name
    # the run the source left running is closed in the copy; the source is left as it was
    (left,) = [r for r in _rows(source, runs) if r[1] == "hws-3090"]
    (closed,) = [r for r in _rows(target, runs) if r[1] == "hws-3090"]
    assert left[5] == "running" and closed[5] == "interrupted"
    # a listing stored after the copy gets the next id, not a copied one
    listings = _table("listings")
    with target.begin() as conn:
        new_id = conn.execute(insert(listings).values(
            source="craigslist", external_id="7900000001", url="https://sfbay.craigslist.org/x",
            title="RTX 3090", currency="USD", status="active", first_seen=T0, last_seen=T0,
        ).returning(listings.c.id)).scalar_one()
    assert new_id == max(r[0] for r in _rows(source, listings)) + 1


def test_a_target_that_holds_data_is_refused_and_left_as_it_was(source: Engine,
                                                                 target: Engine) -> None:
    transfer.copy_database(source, target, now=T0)
    before = _count(target, _table("listings"))
    with pytest.raises(DatabaseError, match=r"the target database already holds data \(in "
                                            r".*listings.*\): copy only into an empty database"):
        transfer.copy_database(source, target, now=T0)
    assert _count(target, _table("listings")) == before == 3


def test_a_copy_that_fails_half_way_leaves_the_target_empty(
        source: Engine, target: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    real = transfer._copy_table

    def fail_at_scores(src: Any, dst: Any, table: Table, progress: Any) -> int:
        if table.name == "scores":
            raise RuntimeError("killed")
        return real(src, dst, table, progress)

    monkeypatch.setattr(transfer, "_copy_table", fail_at_scores)
    with pytest.raises(RuntimeError, match="killed"):
        transfer.copy_database(source, target, now=T0)
    assert all(_count(target, t) == 0 for t in transfer.copied_tables())
    monkeypatch.setattr(transfer, "_copy_table", real)
    transfer.copy_database(source, target, now=T0)
    assert _count(target, _table("scores")) == 3


def test_a_scan_running_on_the_source_stops_the_copy(source: Engine, target: Engine) -> None:
    with scan_lock(source, now=T0), pytest.raises(ScanLocked):
        transfer.copy_database(source, target, now=T0)
    assert _count(target, _table("listings")) == 0


def test_a_source_behind_the_schema_or_the_same_database_is_refused(tmp_path: Path) -> None:
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(old, "0006")
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(DatabaseError, match=rf"at revision 0006, not {head_revision()}: run "
                                            r"`gpuscout db upgrade` on it first"):
        transfer.copy_database(old, other, now=T0)
    upgrade(old)
    with pytest.raises(DatabaseError, match="the source and the target are the same database"):
        transfer.copy_database(old, make_engine(f"sqlite:///{tmp_path / 'old.db'}"), now=T0)
    old.dispose()
    other.dispose()
