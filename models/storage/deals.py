"""`deals`: the best active listings for a watch, read through the DB-API connection alone.

NOTE: this is the read a user waits on (``gpuscout deals``), so it neither imports SQLAlchemy
nor builds ORM objects: the CLI answers from a SQLite file with the standard library, and every
other caller hands in its session's own DB-API connection (see ``queries.deals``). Two steps: the listing
ids of the top ``limit`` from the scores table alone (it holds copies of the listing columns the
filters need, and indexes that give the order; see ``tables.listings.Score``), then only those
rows in full.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gpuscout.models.storage.rawtime import from_stored, pg_time, sqlite_time

#: a "first seen since" window holding fewer active fitting scores than this is read whole from
#: its own index and sorted; a wider one is filtered while walking the score order
RECENT_ENOUGH = 2000

_ROW = ("l.id", "l.source", "l.external_id", "l.title", "l.url", "l.location", "l.model",
        "l.variant", "l.posted_at", "l.first_seen", "s.total", "s.unit_price", "s.currency",
        "s.reasons", "s.components")


@dataclass(frozen=True, slots=True)
class Deal:
    """One ranked listing: what a deals table, a script or an alert preview shows of it."""

    listing_id: int
    source: str
    external_id: str
    title: str
    url: str
    location: str | None
    model: str | None
    variant: str | None
    posted_at: datetime | None
    first_seen: datetime
    total: int
    unit_price: int | None
    currency: str | None
    reasons: tuple[str, ...]
    components: Any


@dataclass(frozen=True, slots=True)
class DealFilter:
    """What ``gpuscout deals`` may ask for (money in minor units)."""

    watch: str
    max_price: int | None = None
    min_score: int | None = None
    source: str | None = None
    since: datetime | None = None
    limit: int = 20


class _Dialect:
    """Placeholders and value conversion of one DB-API driver (sqlite3 or psycopg)."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.mark = "?" if sqlite else "%s"

    def time_param(self, value: datetime) -> Any:
        return sqlite_time(value) if self.sqlite else pg_time(value)

    def json_value(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value


def top_ids_sql(f: DealFilter, *, sqlite: bool, narrow_since: bool) -> tuple[str, list[Any]]:
    """The first step's statement and parameters: listing ids of the top ``f.limit``, in order.

    ``narrow_since`` (SQLite only) sorts the ``since`` window read from its own index instead of
    walking the score order: expressions, not columns, then stand in for the ordered column and
    the source, so that no other index can serve them.
    """
    d = _Dialect(sqlite)
    m = d.mark
    where = [f"watch = {m}", f"fits = {m}", "status = 'active'"]
    params: list[Any] = [f.watch, True]
    if f.max_price is not None:
        where.append(f"unit_price <= {m}")
        params.append(f.max_price)
    if f.min_score is not None:
        where.append(f"total >= {m}")
        params.append(f.min_score)
    if f.since is not None:
        where.append(f"first_seen >= {m}")
        params.append(d.time_param(f.since))
    narrow = narrow_since and sqlite and f.since is not None
    if f.source is not None:
        where.append(f"source || '' = {m}" if narrow else f"source = {m}")
        params.append(f.source)
    total = "total + 0" if narrow else "total"
    sql = (f"SELECT listing_id FROM scores WHERE {' AND '.join(where)} "
           f"ORDER BY {total} DESC, unit_price ASC, listing_id ASC LIMIT {m}")
    return sql, [*params, f.limit]


def chosen_top_ids_sql(cur: Any, f: DealFilter, *, sqlite: bool) -> tuple[str, list[Any]]:
    """``top_ids_sql`` with the strategy decided for the data behind the cursor ``cur``."""
    narrow = sqlite and f.since is not None and _few_since(cur, _Dialect(sqlite), f.watch, f.since)
    return top_ids_sql(f, sqlite=sqlite, narrow_since=narrow)


def top_deals(conn: Any, f: DealFilter, *, sqlite: bool) -> list[Deal]:
    """The deals ``f`` asks for, best first, read on the DB-API connection ``conn``."""
    d = _Dialect(sqlite)
    cur = conn.cursor()
    try:
        cur.execute(*chosen_top_ids_sql(cur, f, sqlite=sqlite))
        ids = [row[0] for row in cur.fetchall()]
        if not ids:
            return []
        m = d.mark
        cur.execute(f"SELECT {', '.join(_ROW)} FROM listings l JOIN scores s ON s.listing_id = l.id "
                    f"AND s.watch = {m} WHERE l.id IN ({', '.join([m] * len(ids))})",
                    [f.watch, *ids])
        found = {row[0]: row for row in cur.fetchall()}
    finally:
        cur.close()
    return [_deal(d, found[i]) for i in ids if i in found]


def _few_since(cur: Any, d: _Dialect, watch: str, since: datetime) -> bool:
    """Whether fewer than ``RECENT_ENOUGH`` active fitting scores were first seen since ``since``
    (counted on the window's index, never past that many entries)."""
    m = d.mark
    cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM scores WHERE watch = {m} AND fits = {m} "
                f"AND status = 'active' AND first_seen >= {m} LIMIT {m}) AS w",
                [watch, True, d.time_param(since), RECENT_ENOUGH])
    return int(cur.fetchone()[0]) < RECENT_ENOUGH


def _deal(d: _Dialect, row: Any) -> Deal:
    (listing_id, source, external_id, title, url, location, model, variant, posted_at,
     first_seen, total, unit_price, currency, reasons, components) = row
    first = from_stored(first_seen)
    assert first is not None
    return Deal(listing_id=listing_id, source=source, external_id=external_id, title=title,
                url=url, location=location, model=model, variant=variant,
                posted_at=from_stored(posted_at), first_seen=first, total=total,
                unit_price=unit_price, currency=currency,
                reasons=tuple(str(r) for r in d.json_value(reasons) or ()),
                components=d.json_value(components))


def open_sqlite_reader(url: str) -> sqlite3.Connection | None:
    """A standard-library connection to the SQLite file ``url`` names, when that file exists and
    its schema is current; None otherwise (another backend, an in-memory or URI database, a
    missing file, or one that needs the upgrade SQLAlchemy's path runs)."""
    from gpuscout.models.storage.migrate import head_revision
    from gpuscout.models.storage.urls import BUSY_TIMEOUT_MS, sqlite_file

    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        row = None
    if row is None or row[0] != head_revision():
        conn.close()
        return None
    return conn


def count_listings(conn: Any) -> int:
    cur = conn.cursor()
    try:
        cur.execute("SELECT count(*) FROM listings")
        return int(cur.fetchone()[0])
    finally:
        cur.close()
