"""Reads: deals, one listing with its history, status of searches, market statistics, export."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from gpuscout.models.storage.batches import chunks
from gpuscout.models.storage.deals import Deal, DealFilter, top_deals
from gpuscout.models.storage.tables.listings import Listing, PriceObservation, Score
from gpuscout.models.storage.tables.runs import ScrapeRun

#: the largest id a database integer holds (SQLite's INTEGER, PostgreSQL's bigint)
MAX_ID = 2**63 - 1


def deals(session: Session, *, watch: str, max_price: int | None = None,
          min_score: int | None = None, source: str | None = None, since: datetime | None = None,
          limit: int = 20) -> list[Deal]:
    """Active listings that fit ``watch``, best score first, then cheapest, then oldest (see
    ``gpuscout.models.storage.deals``)."""
    return read_deals(session, DealFilter(watch, max_price, min_score, source, since, limit))


def read_deals(session: Session, wanted: DealFilter) -> list[Deal]:
    """``gpuscout.models.storage.deals.top_deals`` on the session's own connection and transaction."""
    return top_deals(session.connection().connection, wanted,
                     sqlite=session.get_bind().dialect.name == "sqlite")


def auctions_ending(session: Session, ids: Sequence[int], *, after: datetime,
                    until: datetime) -> list[int]:
    """Of ``ids``, the active auctions that end after ``after`` and by ``until``."""
    found: list[int] = []
    wanted = list(ids)
    for part in chunks(wanted):
        found.extend(session.scalars(select(Listing.id).where(
            Listing.id.in_(part), Listing.buying_format == "auction",
            Listing.status == "active", Listing.ends_at > after, Listing.ends_at <= until)))
    return sorted(found)


def count_listings(session: Session) -> int:
    return int(session.scalar(select(func.count(Listing.id))) or 0)


def get_listing(session: Session, listing_id: int) -> Listing | None:
    return session.get(Listing, listing_id)


def find_listing(session: Session, ref: str) -> Listing | None:
    """By database id, or by "source:external_id"; None when there is no such listing (an id
    beyond any integer column is none)."""
    if re.fullmatch(r"[0-9]{1,19}", ref) and int(ref) <= MAX_ID:
        found = session.get(Listing, int(ref))
        if found is not None:
            return found
    source, sep, ext = ref.partition(":")
    if sep:
        return session.scalar(select(Listing).where(Listing.source == source,
                                                    Listing.external_id == ext))
    return None


def history(session: Session, listing_id: int) -> list[PriceObservation]:
    return list(session.scalars(select(PriceObservation)
                                .where(PriceObservation.listing_id == listing_id)
                                .order_by(PriceObservation.observed_at, PriceObservation.id)))


def scores_for(session: Session, listing_id: int) -> list[Score]:
    return list(session.scalars(select(Score).where(Score.listing_id == listing_id)
                                .order_by(Score.watch)))


def recent_runs(session: Session, search: str, limit: int = 10) -> list[ScrapeRun]:
    return list(session.scalars(select(ScrapeRun).where(ScrapeRun.search == search)
                                .order_by(ScrapeRun.started_at.desc(), ScrapeRun.id.desc())
                                .limit(limit)))


def searches_with_runs(session: Session) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in session.execute(
        select(ScrapeRun.search, ScrapeRun.source).distinct().order_by(ScrapeRun.search))]


@dataclass(frozen=True, slots=True)
class ModelStats:
    model: str
    variant: str
    currency: str
    active: int
    asks_30d: int
    median: int | None
    p25: int | None
    sold: int


def _quantile(values: Sequence[int], q: float) -> int | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[int(q * 100) - 1])


def stats(session: Session, *, since: datetime, model: str | None = None,
          variant: str | None = None) -> list[ModelStats]:
    """Per model and variant: active count, median and 25th percentile of asks (unit price incl.
    shipping) seen since ``since``, and how many sold."""
    conds: list[Any] = [Listing.model.is_not(None), Listing.model != "none",
                        Listing.kind == "card"]
    if model:
        conds.append(Listing.model == model)
    if variant and variant != "any":
        conds.append(Listing.variant == variant)
    rows = session.execute(
        select(Listing.model, Listing.variant, Listing.currency, Listing.status, Listing.price,
               Listing.shipping, Listing.quantity, Listing.last_seen).where(and_(*conds))
    ).all()
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for m, v, cur, status, price, ship, qty, seen in rows:
        g = groups.setdefault((m or "none", v or "unknown", cur or "?"),
                              {"active": 0, "sold": 0, "asks": []})
        if status == "active":
            g["active"] += 1
        if status == "sold":
            g["sold"] += 1
        if price is not None and seen >= since and status in ("active", "sold", "gone"):
            g["asks"].append((price + (ship or 0)) // max(qty or 1, 1))
    out = []
    for (m, v, cur), g in sorted(groups.items()):
        asks = sorted(g["asks"])
        out.append(ModelStats(m, v, cur, g["active"], len(asks),
                              round(statistics.median(asks)) if asks else None,
                              _quantile(asks, 0.25), g["sold"]))
    return out


def iter_listings(session: Session, batch: int = 1000) -> Iterator[Listing]:
    """Every listing in id order, streamed in batches (for export)."""
    last = 0
    while True:
        rows = list(session.scalars(select(Listing).where(Listing.id > last)
                                    .order_by(Listing.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].id
