"""Ingest: ``upsert_listings`` on synthetic listings (insert, then unchanged re-ingest) beside a
plain ``sqlite3.executemany`` upsert of the same rows (the floor)."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from dataclasses import astuple, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.synthetic import NOW, listing_records
from gpuscout.models.storage.rawtime import sqlite_time
from gpuscout.models.storage.records import ListingRecord

_COLS = tuple(f.name for f in fields(ListingRecord))
_KEY = ("source", "external_id")


def _store_rates(url: str, records: list[ListingRecord]) -> dict[str, float]:
    """listings/s of upsert_listings: first insert, then the same listings seen again."""
    from gpuscout.models.storage.db import make_engine, session_factory, transaction
    from gpuscout.models.storage.migrate import upgrade
    from gpuscout.models.storage.store import upsert_listings

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    out: dict[str, float] = {}
    for label, now in (("insert", NOW), ("reingest", NOW + timedelta(hours=1))):
        t0 = time.perf_counter()
        with transaction(sessions) as session:
            result = upsert_listings(session, records, now=now, search="bench-search")
        out[label] = len(records) / (time.perf_counter() - t0)
        assert len(result.ids) == len(records)
        if label == "reingest":
            assert not result.new and not result.changed
    engine.dispose()
    return out


def _floor_rates(path: Path, records: list[ListingRecord]) -> dict[str, float]:
    """listings/s of one executemany INSERT ... ON CONFLICT DO UPDATE on the bare driver, the rows
    already converted to tuples (only the driver and the database are timed)."""
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    cols = (*_COLS, "first_seen", "last_seen")
    update = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in (*_KEY, "first_seen"))
    sql = (f"INSERT INTO listings ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
           f"ON CONFLICT(source, external_id) DO UPDATE SET {update}")
    out: dict[str, float] = {}
    plain = [tuple(sqlite_time(v) if isinstance(v, datetime) else v for v in astuple(rec))
             for rec in records]
    for label, now in (("insert", NOW), ("reingest", NOW + timedelta(hours=1))):
        stamp = sqlite_time(now)
        rows = [(*values, stamp, stamp) for values in plain]
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        out[label] = len(records) / (time.perf_counter() - t0)
    conn.close()
    return out


def run(n: int, pg_url: str | None = None) -> dict[str, Any]:
    """Ingest ``n`` listings both ways on SQLite files (and PostgreSQL when ``pg_url`` is given)."""
    records = listing_records(n, seed=7)
    with tempfile.TemporaryDirectory(prefix="gpuscout-bench-") as tmp:
        store = _store_rates(f"sqlite:///{Path(tmp) / 'store.db'}", records)
        floor = _floor_rates(Path(tmp) / "floor.db", records)
    out: dict[str, Any] = {
        "n": n,
        "insert_per_s": store["insert"], "reingest_per_s": store["reingest"],
        "floor_insert_per_s": floor["insert"], "floor_reingest_per_s": floor["reingest"],
        "listings_per_s": min(store.values()),
        "fraction_of_floor": min(store["insert"] / floor["insert"],
                                 store["reingest"] / floor["reingest"]),
    }
    if pg_url:
        from bench.common import pg_database

        with pg_database(pg_url) as url:
            pg = _store_rates(url, records)
        out["pg_insert_per_s"], out["pg_reingest_per_s"] = pg["insert"], pg["reingest"]
    return out
