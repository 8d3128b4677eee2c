"""Glue between stored listings and the market: what each listing adds to the market of its model
(observed prices per card and week), which listings are one card (cross-posts, reposts), and a
watch's market reference from the stored prices."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.config import Config, WatchConfig

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gpuscout.models.judge.duplicates import CardFacts
    from gpuscout.models.storage.market import PriceRecord

#: a listing gone within this long of first being seen most likely sold: a weaker sale
QUICKLY_GONE = timedelta(days=7)
#: a first ask is dated when the listing was posted, if that is no longer ago than this
POSTED_WITHIN = timedelta(days=30)
#: the newest observed prices of each kind a reference reads at most (with a 10-day half-life
#: the older ones would weigh little; the median of 500 is within about half a percent)
REFERENCE_CAP = 500


def to_usd_minor(minor: int | None, currency: str | None, usd: Mapping[str, Decimal]
                 ) -> int | None:
    """An amount in minor units of ``currency`` as US cents, or None without a known rate."""
    from gpuscout.models.storage.records import from_minor, to_minor

    amount = from_minor(minor, currency)
    value = usd.get((currency or "USD").upper())
    if amount is None or value is None:
        return None
    return to_minor(amount * value, "USD")


def _records(row: Any, uses: Sequence[Any], grp: int, at: datetime,
             usd: Mapping[str, Decimal], kind: str | None = None) -> list[PriceRecord]:
    from gpuscout.models.storage.market import PriceRecord
    from gpuscout.models.storage.records import to_minor

    out = []
    for use in uses:
        minor = to_minor(use.price, use.currency)
        if minor is None:
            continue
        out.append(PriceRecord(
            listing_id=row.id, grp=grp, model=use.model, variant=use.variant,
            kind=kind or use.kind, observed_at=at, price=minor, currency=use.currency,
            base_price=to_usd_minor(minor, use.currency, usd), condition=use.condition))
    return out


def _sold_at(row: Any, now: datetime) -> datetime:
    """When a sold listing sold: the page's sold date, else when it was last seen."""
    at = row.sold_at or row.last_seen or now
    return min(at, now)


def _first_ask_at(row: Any) -> datetime:
    """When a listing's first ask was made: its posting, when that is recent, else its first
    sighting."""
    seen: datetime = row.first_seen
    posted: datetime | None = row.posted_at
    if posted is not None and seen - POSTED_WITHIN <= posted < seen:
        return posted
    return seen


class MarketRecorder:
    """Records what listings add to the market, with the rates (US dollar values) ``usd``."""

    def __init__(self, cfg: Config, session: Session, *, now: datetime,
                 usd: Mapping[str, Decimal]) -> None:
        from gpuscout.jobs.scoring import catalog_of, score_rules

        self.cfg, self.session, self.now, self.usd = cfg, session, now, usd
        self.catalog = catalog_of(cfg)
        self.rules = score_rules()

    def observed(self, row: Any, judged: tuple[Any, Any] | None = None) -> Any:
        """What ``row`` adds to the market; ``judged``: its facts and identity, when the caller
        built them already (scoring does)."""
        from gpuscout.jobs.scoring import facts_of, identity_of
        from gpuscout.models.judge.observe import observe

        facts, identity = judged or (facts_of(row), identity_of(row))
        return observe(facts, identity, rules=self.rules, catalog=self.catalog)

    def record(self, rows: Sequence[Any], *, new: Iterable[int] = (),
               judged: Mapping[int, tuple[Any, Any]] | None = None) -> int:
        """Store each sighted listing's observed prices: an ask for the week of this sighting
        (a new listing's first ask dated at its posting), a sale when it is sold. ``new``
        listings are first matched with the copies of their card already stored."""
        from gpuscout.models.storage.market import save_prices

        fresh = set(new)
        judged = judged or {}
        seen = [(row, self.observed(row, judged.get(row.id))) for row in rows]
        records: list[PriceRecord] = []
        for row, grp, asks, sold in self._uses(seen, link=lambda row: row.id in fresh):
            if asks:
                records += _records(row, asks, grp, self.now, self.usd)
                if row.id in fresh and _first_ask_at(row) < self.now:
                    records += _records(row, asks, grp, _first_ask_at(row), self.usd)
            if sold:
                records += _records(row, sold, grp, _sold_at(row, self.now), self.usd)
        save_prices(self.session, records)
        return len(records)

    def _uses(self, seen: Sequence[tuple[Any, Any]], *, link: Callable[[Any], bool]
              ) -> list[tuple[Any, int, list[Any], list[Any]]]:
        """Of (row, what it adds) pairs, the rows that add prices, each with its card's group,
        its asks and its sales; the rows ``link`` accepts are first matched with the copies of
        their card already stored."""
        from gpuscout.models.storage.market import groups_of

        usable = [(row, obs) for row, obs in seen if obs.uses]
        self.link_copies([row for row, _obs in usable if link(row)])
        groups = groups_of(self.session, [row.id for row, _obs in usable])
        return [(row, groups[row.id], [u for u in obs.uses if u.kind == "ask"],
                 [u for u in obs.uses if u.kind == "sold"]) for row, obs in usable]

    def record_gone(self, rows: Sequence[Any]) -> int:
        """Listings just marked gone: those gone within days of appearing add a weaker sale at
        their last asking price, when they were last seen."""
        from gpuscout.models.storage.market import groups_of, save_prices

        records: list[PriceRecord] = []
        quick = [r for r in rows if r.status == "gone" and r.last_seen - r.first_seen <= QUICKLY_GONE
                 and (r.buying_format or "fixed") != "auction"]
        groups = groups_of(self.session, [r.id for r in quick])
        for row in quick:
            obs = self.observed(replace_status(row, "active"))
            asks = [u for u in obs.uses if u.kind == "ask"]
            records += _records(row, asks, groups[row.id], row.last_seen, self.usd, kind="gone")
        save_prices(self.session, records)
        return len(records)

    def link_copies(self, rows: Sequence[Any]) -> int:
        """Match new listings with the stored listings that share a key with them (a photo,
        the seller, the offer's words) and record those that are the same card."""
        from gpuscout.models.judge.duplicates import match_keys, same_card
        from gpuscout.models.storage.market import (
            card_rows,
            groups_of,
            listings_by_keys,
            save_keys,
            save_same,
        )

        if not rows:
            return 0
        cards = {c.listing_id: c for c in (self.card(r) for r in card_rows(
            self.session, [row.id for row in rows])) if c is not None}
        keys = {i: match_keys(c) for i, c in cards.items()}
        stored = listings_by_keys(self.session, {k for ks in keys.values() for k in ks})
        others = {i for ids in stored.values() for i in ids} - set(cards)
        known = {c.listing_id: c for c in (self.card(r) for r in card_rows(self.session, others))
                 if c is not None}
        first = groups_of(self.session, others)
        links: list[tuple[int, int, str]] = []
        for listing_id in sorted(cards):
            card = cards[listing_id]
            candidates = sorted({i for k in keys[listing_id] for i in stored.get(k, ())
                                 if i != listing_id and i < listing_id})
            for other in candidates:
                old = known.get(other) or cards.get(other)
                why = None if old is None else same_card(card, old)
                if why is not None:
                    links.append((listing_id, first.get(other, other), why))
                    first[listing_id] = first.get(other, other)
                    break
            for key in keys[listing_id]:
                stored.setdefault(key, []).append(listing_id)
        save_same(self.session, links, now=self.now)
        save_keys(self.session, [(k, i) for i, ks in keys.items() for k in ks])
        return len(links)

    def card(self, data: Mapping[str, Any]) -> CardFacts | None:
        from gpuscout.models.judge.duplicates import CardFacts
        from gpuscout.models.storage.records import from_minor

        model = data.get("model")
        if not model or model in ("none", "multiple"):
            return None
        total = (data["price"] or 0) + (data["shipping"] or 0) if data["price"] is not None \
            else None
        usd = to_usd_minor(total, data["currency"], self.usd)
        per_card = None if usd is None else from_minor(usd // max(data["quantity"] or 1, 1),
                                                       "USD")
        return CardFacts(listing_id=data["id"], source=data["source"], model=model,
                         variant=data["variant"] or "unknown", title=data["title"],
                         price=per_card, seen=data["first_seen"], status=data["status"],
                         seller=data["seller"], location=data["location"],
                         image_url=data["image_url"], description=data["description"])

    def rebuild(self, rows: Sequence[Any], history: Mapping[int, Sequence[Any]]) -> int:
        """Record again, from scratch, what ``rows`` add to the market: an ask for every
        recorded price (``history``: a listing's price observations) and for its last
        sighting, its sale, or its quick disappearance; their copies are matched again."""
        from gpuscout.models.storage.market import delete_prices, forget_keys, save_prices

        ids = [row.id for row in rows]
        delete_prices(self.session, ids, kinds=("sold", "gone", "ask"))
        forget_keys(self.session, ids)
        seen = [(row, self.observed(replace_status(row, "active") if row.status == "gone"
                                    else row)) for row in rows]
        records: list[PriceRecord] = []
        for row, grp, asks, sold in self._uses(seen, link=lambda _row: True):
            if asks:
                records += _records(row, asks, grp, _first_ask_at(row), self.usd)
                # NOTE: the listing's own price changes; an item line's price has no history
                for obs_row in () if row.items else history.get(row.id, ())[1:]:
                    records += _records(row, [replace(u, price=_observed_unit(obs_row, u))
                                              for u in asks], grp, obs_row.observed_at, self.usd)
                records += _records(row, asks, grp, row.last_seen, self.usd)
            if sold:
                records += _records(row, sold, grp, _sold_at(row, row.last_seen), self.usd)
        save_prices(self.session, records)
        self.record_gone([row for row in rows if row.status == "gone"])
        return len(records)


def _observed_unit(observation: Any, use: Any) -> Decimal:
    """The price an earlier price observation of a listing stated, shipping included (in the
    use's currency; another currency keeps the use's price)."""
    from gpuscout.models.storage.records import from_minor

    if observation.price is None or (observation.currency or use.currency) != use.currency:
        return Decimal(use.price)
    total = observation.price + (observation.shipping or 0)
    amount = from_minor(total, use.currency)
    return Decimal(use.price) if amount is None else amount


class _Status:
    """A row with another status (the rest of its columns read through)."""

    def __init__(self, row: Any, status: str) -> None:
        self._row, self.status = row, status

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def replace_status(row: Any, status: str) -> Any:
    return _Status(row, status)


# --------------------------------------------------------------------------- the reference

def market_points(session: Session, watch: WatchConfig, *, now: datetime,
                  usd: Mapping[str, Decimal], days: int | None = None) -> list[Any]:
    """The observed prices of the watch's model and variant in the ``days`` (default: the
    reference window) before ``now``, in the watch's currency, for the judge."""
    from gpuscout.models.judge.market import MarketPoint
    from gpuscout.models.storage.market import raw_connection, recent_prices

    conn, sqlite = raw_connection(session)
    return points_from(recent_prices(conn, sqlite=sqlite, model=watch.model,
                                     variant=watch.variant,
                                     since=now - timedelta(days=days or watch.reference_window_days),
                                     until=now, limit=REFERENCE_CAP),
                       watch.currency, usd, MarketPoint)


def points_from(stored: Iterable[Any], currency: str, usd: Mapping[str, Decimal],
                point: Any) -> list[Any]:
    """Stored prices (US cents) as judge points in ``currency`` (none without its rate)."""
    value = usd.get(currency)
    if not value:
        return []
    factor = Decimal(1) / (100 * value)
    return [point(p.kind, Decimal(p.base_price) * factor, p.observed_at, p.grp, p.condition)
            for p in stored]


def market_rules(watch: WatchConfig) -> Any:
    from gpuscout.models.judge.inputs import MarketRules

    return replace(MarketRules(), band_weight=float(watch.reference_min_count))


def reference_at(watch: WatchConfig, points: Iterable[Any], now: datetime) -> Any:
    """The watch's market reference at ``now`` from ``points`` (see ``market_points``).

    NOTE: the judge's market module alone (no scoring rules imported): `gpuscout market`
    computes a reference per week and should start fast."""
    from gpuscout.models.judge.market import reference_for

    return reference_for((watch.price_low, watch.price_high), points, now=now,
                         window_days=watch.reference_window_days, currency=watch.currency,
                         rules=market_rules(watch))
