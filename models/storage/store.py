"""Writes: batched listing upserts, price observations, search sightings, gone marking, scores.

NOTE: the hot paths (``upsert_listings``, ``save_scores``) bypass SQLAlchemy's per-row parameter
processing, which cost more than the database work: each statement runs once per batch through
the driver (``executemany``, set-based ``INSERT ... SELECT``/``UPDATE``, PostgreSQL ``COPY``) on
the session's own connection and transaction. Values are converted here as the column types
would: datetimes to naive UTC text on SQLite (see ``models.storage.tables.base.UTCDateTime``), JSON to text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gpuscout.models.storage.batches import chunks
from gpuscout.models.storage.rawtime import pg_time, sqlite_time
from gpuscout.models.storage.records import ListingRecord, PriceChange, ScoreRecord, UpsertResult
from gpuscout.models.storage.tables.listings import Listing, Score, SearchHit

CHUNK = 500
#: fields a re-sighting refreshes (price fields are handled separately, to record observations)
_MUTABLE = (
    "url", "title", "description", "location", "seller", "seller_feedback", "seller_positive_pct",
    "condition", "buying_format", "bids", "image_url", "sold_at", "price_local", "price_max",
    "model", "variant", "kind", "quantity", "ends_at", "price_each", "items",
)
_PRICE = ("price", "shipping", "currency")
_RECORD_FIELDS = tuple(f.name for f in fields(ListingRecord))
#: insert column order: the datetimes last, so a row is (*plain values, *converted datetimes)
_TIME_FIELDS = ("posted_at", "sold_at", "ends_at")
_PLAIN_FIELDS = tuple(f for f in _RECORD_FIELDS if f not in _TIME_FIELDS)
_INSERT_COLUMNS = (*_PLAIN_FIELDS, *_TIME_FIELDS, "first_seen", "last_seen")
#: what is compared between a record and its stored row: price fields, then the mutable ones
_COMPARED = (*_PRICE, *_MUTABLE)
#: the compared datetimes (stored as text on SQLite, so compared in that form)
_COMPARED_TIMES = tuple(_COMPARED.index(f) for f in _TIME_FIELDS if f in _COMPARED)
_get_compared = attrgetter(*_COMPARED)
_get_plain = attrgetter(*_PLAIN_FIELDS)
_SCORE_FIELDS = tuple(f.name for f in fields(ScoreRecord))
_get_score = attrgetter(*_SCORE_FIELDS)
_SCORE_AT = {name: i for i, name in enumerate(_SCORE_FIELDS)}
#: copied from the listing into its scores (see ``gpuscout.models.storage.tables.listings.Score``)
_SCORE_COPIED = ("status", "source", "first_seen")
_OBSERVATION_COLUMNS = "listing_id, observed_at, price, shipping, currency"
#: ``json.dumps`` with its defaults, less the reference-cycle check (scores are plain trees)
_to_json = json.JSONEncoder(check_circular=False).encode


class _Raw:
    """The session's own DBAPI connection, with the dialect's placeholder and value conversion.

    NOTE: on SQLite a list of ids or keys goes in chunks of ``IN (?, ...)``; on PostgreSQL as one
    array parameter joined through ``unnest``, one statement whatever the size, so that even a
    plan made before the table has statistics is linear (``= ANY`` per chunk scanned it each time).
    """

    def __init__(self, session: Session) -> None:
        session.flush()  # NOTE: pending ORM changes must land before statements that bypass it
        conn = session.connection()
        self.sqlite = conn.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.time = sqlite_time if self.sqlite else pg_time
        self.cursor: Any = conn.connection.cursor()

    def marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        self.cursor.execute(sql, params)
        return list(self.cursor.fetchall()) if self.cursor.description is not None else []

    def update_ids(self, table: str, sets: str, set_params: Sequence[Any], where: str,
                   where_params: Sequence[Any], column: str, ids: Sequence[int]) -> None:
        """``UPDATE table SET sets WHERE where AND column IN ids``."""
        if not ids:
            return
        if not self.sqlite:
            self.cursor.execute(
                f"UPDATE {table} AS t SET {sets} FROM unnest(%s::bigint[]) AS k(v) "
                f"WHERE {where} t.{column} = k.v", [*set_params, list(ids), *where_params])
            return
        for part in chunks(ids):
            self.cursor.execute(
                f"UPDATE {table} SET {sets} WHERE {where} {column} IN ({self.marks(len(part))})",
                [*set_params, *where_params, *part])


def upsert_listings(session: Session, records: Sequence[ListingRecord], *, now: datetime,
                    search: str | None = None) -> UpsertResult:
    """Insert new listings, refresh known ones, record price changes; a few statements per batch.

    A listing seen again after being marked gone becomes active again (``back``); a listing the
    marketplace reports as sold becomes sold. Duplicate keys within ``records`` keep the last.
    """
    raw = _Raw(session)
    stamp = raw.time(now)
    unique = {(rec.source, rec.external_id): rec for rec in records}
    existing = _existing(raw, unique, search)

    ids: dict[tuple[str, str], int] = {}
    inserts: list[tuple[tuple[str, str], ListingRecord]] = []
    updates: dict[tuple[str, ...], list[list[Any]]] = {}
    touch: list[int] = []
    changed: list[PriceChange] = []
    back: list[int] = []
    sold: list[int] = []
    observations: list[tuple[Any, ...]] = []
    hits_known: list[int] = []
    hits_fresh: list[int] = []
    for key, rec in unique.items():
        row = existing.get(key)
        if row is None:
            inserts.append((key, rec))
            continue
        row_id, status, hit, stored = row[1], row[2], row[3], row[4:]
        ids[key] = row_id
        (hits_known if hit else hits_fresh).append(row_id)
        new_status = _next_status(status, rec.status)
        seen = _get_compared(rec)
        if raw.sqlite and any(seen[i] is not None for i in _COMPARED_TIMES):
            seen = tuple(sqlite_time(v) if i in _COMPARED_TIMES and v is not None else v
                         for i, v in enumerate(seen))
        if seen == stored and new_status == status:
            touch.append(row_id)
            continue
        # NOTE: a page that omits the price (None) keeps the stored one instead of erasing it
        diff = {c: v for c, v, old in zip(_COMPARED, seen, stored, strict=True)
                if v != old and (v is not None or c not in _PRICE)}
        if new_status != status:
            diff["status"] = new_status
            if status == "gone" and new_status == "active":
                back.append(row_id)
            if new_status == "sold":
                sold.append(row_id)
        old_price, old_shipping, old_currency = stored[0], stored[1], stored[2]
        if "price" in diff or "shipping" in diff or "currency" in diff:
            price = diff.get("price", old_price)
            shipping = diff.get("shipping", old_shipping)
            changed.append(PriceChange(row_id, old_price, price, old_shipping, shipping))
            observations.append((row_id, stamp, price, shipping,
                                 diff.get("currency", old_currency)))
        if diff:
            updates.setdefault(tuple(diff), []).append([*diff.values(), stamp, row_id])
        else:
            touch.append(row_id)

    m = raw.mark
    statuses: list[tuple[str, int]] = []
    for cols, rows in updates.items():
        sets = ", ".join(f"{c} = {m}" for c in (*cols, "last_seen"))
        raw.many(f"UPDATE listings SET {sets} WHERE id = {m}", rows)
        if "status" in cols:
            at = cols.index("status")
            statuses += [(row[at], row[-1]) for row in rows]
    raw.many(f"UPDATE scores SET status = {m} WHERE listing_id = {m}", statuses)
    raw.update_ids("listings", f"last_seen = {m}", [stamp], "", [], "id", touch)
    raw.many(f"INSERT INTO price_observations ({_OBSERVATION_COLUMNS}) VALUES ({raw.marks(5)})",
             observations)
    if search is not None:
        raw.update_ids("search_hits", f"last_seen = {m}, missed = 0", [stamp],
                       f"search = {m} AND", [search], "listing_id", hits_known)
        raw.many(f"INSERT INTO search_hits (search, listing_id, last_seen, missed) "
                 f"VALUES ({m}, {m}, {m}, 0)", [(search, i, stamp) for i in hits_fresh])
    new_ids = _insert(raw, inserts, stamp, ids, search)
    raw.cursor.close()
    return UpsertResult(ids=ids, new=tuple(new_ids), changed=tuple(changed), back=tuple(back),
                        sold=tuple(sold))


def _existing(raw: _Raw, keys: Iterable[tuple[str, str]], search: str | None = None
              ) -> dict[tuple[str, str], Any]:
    """Rows (external_id, id, status, whether ``search`` has seen it, *compared values) of the
    stored listings among ``keys``."""
    by_source: dict[str, list[str]] = {}
    for source, ext in keys:
        by_source.setdefault(source, []).append(ext)
    m = raw.mark
    hit, join, head = "0", "", []
    if search is not None:
        hit, head = "h.id IS NOT NULL", [search]
        join = f"LEFT JOIN search_hits h ON h.listing_id = l.id AND h.search = {m}"
    select_ = (f"SELECT l.external_id, l.id, l.status, {hit}, "
               f"{', '.join(f'l.{c}' for c in _COMPARED)}")
    found: dict[tuple[str, str], Any] = {}
    for source, exts in by_source.items():
        parts: list[tuple[str, list[Any]]]
        if raw.sqlite:
            parts = [(f"{select_} FROM listings l {join} WHERE l.source = ? AND l.external_id "
                      f"IN ({raw.marks(len(part))})", [*head, source, *part])
                     for part in chunks(exts)]
        else:
            parts = [(f"{select_} FROM unnest(%s::text[]) AS k(v) JOIN listings l "
                      f"ON l.source = %s AND l.external_id = k.v {join}", [exts, source, *head])]
        for sql, params in parts:
            for row in raw.query(sql, params):
                found[(source, row[0])] = row
    return found


def _insert(raw: _Raw, inserts: list[tuple[tuple[str, str], ListingRecord]], stamp: Any,
            ids: dict[tuple[str, str], int], search: str | None) -> list[int]:
    """Insert the new listings with their first price observation and sighting; their ids go
    into ``ids``; returns them in insertion order."""
    if not inserts:
        return []
    to_time = raw.time
    rows = [(*_get_plain(rec), to_time(rec.posted_at), to_time(rec.sold_at), to_time(rec.ends_at),
             stamp, stamp) for _key, rec in inserts]
    columns = ", ".join(_INSERT_COLUMNS)
    before = raw.query("SELECT max(id) FROM listings", [])[0][0] or 0
    if raw.sqlite:
        raw.many(f"INSERT INTO listings ({columns}) VALUES ({raw.marks(len(rows[0]))})", rows)
    else:
        with raw.cursor.copy(f"COPY listings ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    # NOTE: new rows get ids above the largest one before (SQLite rowids, PostgreSQL sequences):
    # one range scan finds them instead of an index probe per key. Rows other writers may have
    # added meanwhile are ignored; anything not found is looked up by key.
    wanted = {key for key, _rec in inserts}
    after = raw.query(f"SELECT id, source, external_id FROM listings WHERE id > {raw.mark}",
                      [before])
    for row_id, source, ext in after:
        if (source, ext) in wanted:
            ids[(source, ext)] = row_id
    missing = [key for key in wanted if key not in ids]
    for key, found in _existing(raw, missing).items():
        ids[key] = found[1]
    new_ids = [ids[key] for key, _rec in inserts]
    priced = "(l.price IS NOT NULL OR l.shipping IS NOT NULL)"
    if raw.sqlite and len(after) == len(inserts) and not missing:
        # NOTE: SQLite holds the write lock, so the rows above ``before`` are exactly these:
        # their first observation and sighting are copied set-based.
        raw.query(f"INSERT INTO price_observations ({_OBSERVATION_COLUMNS}) SELECT l.id, ?, "
                  f"l.price, l.shipping, l.currency FROM listings l WHERE l.id > ? AND {priced} "
                  "ORDER BY l.id", [stamp, before])
        if search is not None:
            raw.query("INSERT INTO search_hits (search, listing_id, last_seen, missed) "
                      "SELECT ?, id, ?, 0 FROM listings WHERE id > ? ORDER BY id",
                      [search, stamp, before])
    elif raw.sqlite:
        raw.many(f"INSERT INTO price_observations ({_OBSERVATION_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                 [(ids[key], stamp, rec.price, rec.shipping, rec.currency)
                  for key, rec in inserts if rec.price is not None or rec.shipping is not None])
        if search is not None:
            raw.many("INSERT INTO search_hits (search, listing_id, last_seen, missed) "
                     "VALUES (?, ?, ?, 0)", [(search, i, stamp) for i in new_ids])
    else:
        new = "unnest(%s::bigint[]) WITH ORDINALITY AS k(v, n) JOIN listings l ON l.id = k.v"
        raw.query(f"INSERT INTO price_observations ({_OBSERVATION_COLUMNS}) SELECT l.id, %s, "
                  f"l.price, l.shipping, l.currency FROM {new} WHERE {priced} ORDER BY k.n",
                  [stamp, new_ids])
        if search is not None:
            raw.query("INSERT INTO search_hits (search, listing_id, last_seen, missed) "
                      f"SELECT %s, l.id, %s, 0 FROM {new} ORDER BY k.n", [search, stamp, new_ids])
    return new_ids


def _next_status(old: str, seen: str) -> str:
    """Status after a sighting: sold/wanted come from the page; anything seen again is not gone."""
    if seen in ("sold", "wanted"):
        return seen
    if old == "sold":
        return "sold"  # NOTE: a sold post that is still listed stays sold
    return "active"


def mark_missing(session: Session, search: str, *, now: datetime, gone_after: int,
                 posted_since: datetime | None = None) -> list[int]:
    """After a *successful* scan of ``search``: count a miss for every listing it did not see, and
    mark active listings gone once missed ``gone_after`` scans in a row. Returns the gone ids.

    ``posted_since``: the scan read its results newest first only back to this posting time
    (it stopped early): only listings posted since then count a miss."""
    missed = [SearchHit.search == search, SearchHit.last_seen < now]
    if posted_since is not None:
        missed.append(SearchHit.listing_id.in_(
            select(Listing.id).where(Listing.posted_at >= posted_since)))
    session.execute(update(SearchHit).where(*missed).values(missed=SearchHit.missed + 1))
    gone = list(session.scalars(
        select(Listing.id)
        .join(SearchHit, SearchHit.listing_id == Listing.id)
        .where(SearchHit.search == search, SearchHit.missed >= gone_after,
               Listing.status == "active")
    ))
    for part in chunks(gone, CHUNK):
        session.execute(update(Listing).where(Listing.id.in_(part)).values(status="gone"))
        session.execute(update(Score).where(Score.listing_id.in_(part)).values(status="gone"))
    return gone


def save_scores(session: Session, scores: Sequence[ScoreRecord]) -> None:
    """Insert or replace each listing's score for a watch, with the listing's status, source and
    first sighting copied beside it (see ``Score``); a score of an unknown listing is skipped."""
    if not scores:
        return
    raw = _Raw(session)
    to_time, sqlite = raw.time, raw.sqlite
    at = _SCORE_AT
    fits_at, at_time, reference_at = at["fits"], at["computed_at"], at["reference"]
    json_at = (at["components"], at["flags"], at["reasons"])
    # NOTE: the callers pass one reference object per watch and often one stamp: each is
    # converted once (the objects are kept, so that their ids stay theirs)
    references: dict[int, tuple[Any, str]] = {}
    stamps: dict[datetime, Any] = {}
    rows = []
    for s in scores:
        values = [*_get_score(s), s.listing_id]  # NOTE: the last one selects the listing
        reference = values[reference_at]
        known = references.get(id(reference))
        if known is None:
            known = references[id(reference)] = (reference, _to_json(reference))
        values[reference_at] = known[1]
        stamp = stamps.get(values[at_time])
        if stamp is None:
            stamp = stamps[values[at_time]] = to_time(values[at_time])
        values[at_time] = stamp
        for i in json_at:
            values[i] = _to_json(values[i])
        if sqlite:
            values[fits_at] = int(bool(values[fits_at]))
        rows.append(values)
    cols = ", ".join((*_SCORE_FIELDS, *_SCORE_COPIED))
    sets = ", ".join(f"{c} = excluded.{c}" for c in (*_SCORE_FIELDS, *_SCORE_COPIED)
                     if c not in ("listing_id", "watch"))
    copied = ", ".join(f"l.{c}" for c in _SCORE_COPIED)
    # NOTE: SQLite needs the WHERE to read ON CONFLICT as the upsert clause, not a join constraint
    raw.many(f"INSERT INTO scores ({cols}) SELECT {raw.marks(len(_SCORE_FIELDS))}, {copied} "
             f"FROM listings l WHERE l.id = {raw.mark} "
             f"ON CONFLICT (listing_id, watch) DO UPDATE SET {sets}", rows)
    raw.cursor.close()
