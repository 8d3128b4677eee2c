"""Writes: batched listing upserts, price observations, search sightings, gone marking, scores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.listing import Listing, PriceObservation, Score, SearchHit
from models.records import ListingRecord, PriceChange, ScoreRecord, UpsertResult

CHUNK = 500
#: fields a re-sighting refreshes (price fields are handled separately, to record observations)
_MUTABLE = (
    "url", "title", "description", "location", "seller", "seller_feedback", "seller_positive_pct",
    "condition", "buying_format", "bids", "image_url", "sold_at", "price_local", "price_max",
    "model", "variant", "kind", "quantity",
)
_PRICE = ("price", "shipping", "currency")
_RECORD_FIELDS = tuple(f.name for f in fields(ListingRecord))
_T = Listing.__table__


def _chunks(seq: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _dialect_insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


def upsert_listings(session: Session, records: Sequence[ListingRecord], *, now: datetime,
                    search: str | None = None) -> UpsertResult:
    """Insert new listings, refresh known ones, record price changes; one round trip per chunk.

    A listing seen again after being marked gone becomes active again (``back``); a listing the
    marketplace reports as sold becomes sold. Duplicate keys within ``records`` keep the last.
    """
    unique: dict[tuple[str, str], ListingRecord] = {}
    for rec in records:
        unique[(rec.source, rec.external_id)] = rec
    by_source: dict[str, list[str]] = {}
    for source, ext in unique:
        by_source.setdefault(source, []).append(ext)

    cols = [_T.c.id, _T.c.source, _T.c.external_id, _T.c.status,
            *(_T.c[c] for c in _PRICE), *(_T.c[c] for c in _MUTABLE)]
    existing: dict[tuple[str, str], Any] = {}
    for source, exts in by_source.items():
        for part in _chunks(exts):
            rows = session.execute(
                select(*cols).where(_T.c.source == source, _T.c.external_id.in_(part))
            ).all()
            for row in rows:
                existing[(row.source, row.external_id)] = row

    ids: dict[tuple[str, str], int] = {}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    touch: list[int] = []
    changed: list[PriceChange] = []
    back: list[int] = []
    sold: list[int] = []
    observations: list[dict[str, Any]] = []
    for key, rec in unique.items():
        row = existing.get(key)
        if row is None:
            values = {f: getattr(rec, f) for f in _RECORD_FIELDS}
            values["first_seen"] = values["last_seen"] = now
            inserts.append(values)
            continue
        ids[key] = row.id
        new_status = _next_status(row.status, rec.status)
        diff: dict[str, Any] = {c: getattr(rec, c) for c in _MUTABLE if getattr(rec, c) != getattr(row, c)}
        # NOTE: a page that omits the price (None) keeps the stored one instead of erasing it
        price_diff = {c: getattr(rec, c) for c in _PRICE
                      if getattr(rec, c) is not None and getattr(rec, c) != getattr(row, c)}
        if new_status != row.status:
            diff["status"] = new_status
            if row.status == "gone" and new_status == "active":
                back.append(row.id)
            if new_status == "sold":
                sold.append(row.id)
        if price_diff:
            diff.update(price_diff)
            changed.append(PriceChange(row.id, row.price, price_diff.get("price", row.price),
                                       row.shipping, price_diff.get("shipping", row.shipping)))
            observations.append({
                "listing_id": row.id, "observed_at": now,
                "price": price_diff.get("price", row.price),
                "shipping": price_diff.get("shipping", row.shipping),
                "currency": price_diff.get("currency", row.currency),
            })
        if diff:
            diff.update(_id=row.id, last_seen=now)
            updates.append(diff)
        else:
            touch.append(row.id)

    new_ids: list[int] = []
    if inserts:
        # NOTE: a plain executemany, then one indexed lookup for the ids, is far faster than
        # INSERT ... RETURNING with ordered parameters (row-at-a-time on SQLite).
        session.execute(insert(_T), inserts)
        for source in {v["source"] for v in inserts}:
            exts = [v["external_id"] for v in inserts if v["source"] == source]
            for part in _chunks(exts):
                for row in session.execute(
                    select(_T.c.id, _T.c.external_id)
                    .where(_T.c.source == source, _T.c.external_id.in_(part))
                ):
                    ids[(source, row.external_id)] = row.id
                    new_ids.append(row.id)
        for values in inserts:
            if values["price"] is not None or values["shipping"] is not None:
                observations.append({
                    "listing_id": ids[(values["source"], values["external_id"])],
                    "observed_at": now, "price": values["price"],
                    "shipping": values["shipping"], "currency": values["currency"],
                })
    # NOTE: rows differ in which columns changed; group by column set so each executemany is uniform
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for u in updates:
        groups.setdefault(tuple(sorted(u)), []).append(u)
    for keys, rows in groups.items():
        del keys
        session.execute(update(_T).where(_T.c.id == bindparam("_id")), rows)
    for part in _chunks(touch):
        session.execute(update(_T).where(_T.c.id.in_(part)).values(last_seen=now))
    if observations:
        session.execute(insert(PriceObservation.__table__), observations)
    if search is not None and ids:
        _record_hits(session, search, list(ids.values()), now)
    return UpsertResult(ids=ids, new=tuple(new_ids), changed=tuple(changed), back=tuple(back),
                        sold=tuple(sold))


def _next_status(old: str, seen: str) -> str:
    """Status after a sighting: sold/wanted come from the page; anything seen again is not gone."""
    if seen in ("sold", "wanted"):
        return seen
    if old == "sold":
        return "sold"  # NOTE: a sold post that is still listed stays sold
    return "active"


def _record_hits(session: Session, search: str, listing_ids: list[int], now: datetime) -> None:
    hits = SearchHit.__table__
    known: set[int] = set()
    for part in _chunks(listing_ids):
        known.update(session.scalars(
            select(hits.c.listing_id).where(hits.c.search == search, hits.c.listing_id.in_(part))))
        session.execute(update(hits).where(hits.c.search == search, hits.c.listing_id.in_(part))
                        .values(last_seen=now, missed=0))
    fresh = [{"search": search, "listing_id": lid, "last_seen": now, "missed": 0}
             for lid in listing_ids if lid not in known]
    if fresh:
        session.execute(insert(hits), fresh)


def mark_missing(session: Session, search: str, *, now: datetime, gone_after: int) -> list[int]:
    """After a *successful* scan of ``search``: count a miss for every listing it did not see, and
    mark active listings gone once missed ``gone_after`` scans in a row. Returns the gone ids."""
    session.execute(
        update(SearchHit)
        .where(SearchHit.search == search, SearchHit.last_seen < now)
        .values(missed=SearchHit.missed + 1)
    )
    gone = list(session.scalars(
        select(Listing.id)
        .join(SearchHit, SearchHit.listing_id == Listing.id)
        .where(SearchHit.search == search, SearchHit.missed >= gone_after,
               Listing.status == "active")
    ))
    for part in _chunks(gone):
        session.execute(update(Listing).where(Listing.id.in_(part)).values(status="gone"))
    return gone


def save_scores(session: Session, scores: Sequence[ScoreRecord]) -> None:
    """Insert or replace each listing's score for a watch."""
    if not scores:
        return
    ins = _dialect_insert(session)
    rows = [asdict(s) for s in scores]
    for part in _chunks(rows):
        stmt = ins(Score).values(list(part))
        stmt = stmt.on_conflict_do_update(
            index_elements=["listing_id", "watch"],
            set_={c: getattr(stmt.excluded, c) for c in rows[0] if c not in ("listing_id", "watch")},
        )
        session.execute(stmt)


def listings_by_ids(session: Session, ids: Iterable[int]) -> list[Listing]:
    wanted = list(ids)
    out: list[Listing] = []
    for part in _chunks(wanted):
        out.extend(session.scalars(select(Listing).where(Listing.id.in_(part))))
    return out


def recent_prices(session: Session, *, model: str, variant: str | None, currency: str,
                  since: datetime) -> list[int]:
    """Asks and sales of one model (and variant) seen since ``since``: the market reference."""
    conds = [Listing.model == model, Listing.last_seen >= since, Listing.kind == "card",
             Listing.currency == currency, Listing.price.is_not(None),
             Listing.status.in_(("active", "sold", "gone"))]
    if variant and variant != "any":
        conds.append(Listing.variant == variant)
    rows = session.execute(select(Listing.price, Listing.shipping).where(and_(*conds))).all()
    return [p + (s or 0) for p, s in rows]
