"""Glue between stored listings and the pure evaluator: identify, score for every watch, events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.config import Config, WatchConfig

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gpuscout.models.storage.records import ListingRecord, UpsertResult
    from gpuscout.models.storage.tables.listings import Listing
    from gpuscout.scraper.listing import RawListing


@dataclass(frozen=True)
class ListingEvent:
    """Something an alert rule may care about: a new listing, a price drop, a return."""

    listing_id: int
    event: str  # new | price_drop | back_in_stock | ending_soon
    old_price: int | None = None
    new_price: int | None = None


_CATALOGS: dict[str, Any] = {}


def score_rules() -> Any:
    """The judge's rules, with the local-pickup marketplaces of the source registry."""
    from dataclasses import replace

    from gpuscout.models.judge.score import DEFAULT_RULES
    from gpuscout.scraper.sources.registry import LOCAL_SOURCES

    return replace(DEFAULT_RULES, local_sources=LOCAL_SOURCES)


def catalog_of(cfg: Config) -> Any:
    """The model catalogue for ``cfg``: the shipped one, plus its ``[[catalog]]`` entries (built
    once per distinct set of entries)."""
    from gpuscout.models.judge.catalog import DEFAULT, merge_catalog

    if not cfg.catalog:
        return DEFAULT
    import json

    key = json.dumps(cfg.catalog, sort_keys=True, default=str)
    if key not in _CATALOGS:
        _CATALOGS[key] = merge_catalog(DEFAULT, {"model": [dict(e) for e in cfg.catalog]})
    return _CATALOGS[key]


def identify_raw(raw: RawListing, catalog: Any = None) -> Any:
    return identify_raw_fields(raw.title, raw.description, raw.condition, raw.status,
                               catalog=catalog)


class IdentityCache:
    """Identities of one scan's listings by the fields identification reads: the same listing in
    several searches, or one seller's identical listings, are identified once."""

    def __init__(self, catalog: Any = None) -> None:
        self._known: dict[tuple[str, str | None, str | None, bool], Any] = {}
        self._catalog = catalog

    def __call__(self, raw: RawListing) -> Any:
        key = (raw.title, raw.description, raw.condition, raw.status == "wanted")
        ident = self._known.get(key)
        if ident is None:
            ident = self._known[key] = identify_raw(raw, self._catalog)
        return ident


def to_record(raw: RawListing, identity: Any | None = None, *,
              now: datetime | None = None) -> ListingRecord:
    """A parsed listing as a storage record: money in minor units, identity and the items it
    read attached; an auction's "time left" becomes its end time from ``now`` (when the page
    was read)."""
    from gpuscout.models.judge.items import items_to_json
    from gpuscout.models.storage.records import ListingRecord, to_minor

    ident = identity if identity is not None else identify_raw(raw)
    cur = raw.currency
    ends_at = raw.ends_at
    if ends_at is None and raw.ends_in is not None and now is not None:
        ends_at = now + raw.ends_in
    return ListingRecord(
        source=raw.source, external_id=raw.external_id[:64], url=raw.url[:1000],
        title=raw.title[:500], description=raw.description,
        price=to_minor(raw.price, cur), shipping=to_minor(raw.shipping, cur),
        price_local=to_minor(raw.price_local, cur), price_max=to_minor(raw.price_max, cur),
        currency=cur, location=(raw.location or None) and raw.location[:200],
        seller=(raw.seller or None) and raw.seller[:200], seller_feedback=raw.seller_feedback,
        seller_positive_pct=raw.seller_positive_pct,
        condition=(raw.condition or None) and raw.condition[:100],
        buying_format=raw.buying_format, bids=raw.bids, status=raw.status,
        image_url=(raw.image_url or None) and raw.image_url[:1000], posted_at=raw.posted_at,
        sold_at=raw.sold_at, model=ident.model, variant=ident.variant, kind=ident.kind,
        quantity=ident.quantity, ends_at=ends_at, price_each=raw.price_each,
        items=items_to_json(ident.items),
    )


def score_watch(watch: WatchConfig) -> Any:
    from gpuscout.models.judge.score import Watch as ScoreWatch

    return ScoreWatch(name=watch.name, model=watch.model, variant=watch.variant,
                      price_low=watch.price_low, price_high=watch.price_high,
                      currency=watch.currency, prefer=watch.prefer)


def facts_of(listing: Listing) -> Any:
    from gpuscout.models.judge.score import ListingFacts
    from gpuscout.models.storage.records import from_minor

    cur = listing.currency
    return ListingFacts(
        title=listing.title, description=listing.description,
        price=from_minor(listing.price, cur), shipping=from_minor(listing.shipping, cur),
        price_local=from_minor(listing.price_local, cur), currency=cur, source=listing.source,
        seller_feedback=listing.seller_feedback, seller_positive_pct=listing.seller_positive_pct,
        condition=listing.condition, buying_format=listing.buying_format,
        location=listing.location, posted_at=listing.posted_at, status=listing.status,
        bids=listing.bids, ends_at=listing.ends_at, price_each=bool(listing.price_each),
    )


def identity_of(listing: Listing) -> Any:
    from gpuscout.models.judge.identify import Identity
    from gpuscout.models.judge.items import items_from_json

    return Identity(model=listing.model or "none", variant=listing.variant or "unknown",
                    kind=listing.kind or "other", quantity=listing.quantity or 1, evidence=(),
                    items=items_from_json(listing.items))


#: the listing columns scoring reads (see ``facts_of`` and ``identity_of``), and the market
#: (see ``gpuscout.jobs.market``)
_SCORED_COLUMNS = ("id", "title", "description", "price", "shipping", "price_local", "currency",
                   "source", "seller_feedback", "seller_positive_pct", "condition", "buying_format",
                   "location", "posted_at", "model", "variant", "kind", "quantity", "status",
                   "bids", "ends_at", "price_each", "items", "first_seen", "last_seen", "sold_at")
#: ids per ``IN (...)`` when reading listings back to score them
_ID_CHUNK = 500


class Evaluator:
    """Scores listings for every configured watch, with each watch's market reference computed
    once per evaluator from the market prices stored in its window, and records what the
    listings add to the market."""

    def __init__(self, cfg: Config, session: Session, *, now: datetime) -> None:
        from gpuscout.jobs.rates import cached_usd, rates_into, usd_values

        self.cfg = cfg
        self.session = session
        self.now = now
        self._refs: dict[str, Any] = {}
        self._watches: dict[str, Any] = {}
        cached = cached_usd(session)
        #: the value of each known currency in US dollars (the cache over the table)
        self.usd = usd_values(cfg, cached)
        self._rates = {w.currency: rates_into(cfg, w.currency, cached) for w in cfg.watches}
        self._rules = score_rules()
        #: the rows the last ``score_ids`` read, with their facts and identities
        self._rows_read: list[Any] = []
        self._judged: dict[int, tuple[Any, Any]] = {}

    def rates(self, currency: str) -> dict[str, Decimal]:
        if currency not in self._rates:
            from gpuscout.jobs.rates import cached_usd, rates_into

            self._rates[currency] = rates_into(self.cfg, currency, cached_usd(self.session))
        return self._rates[currency]

    def reference(self, watch: WatchConfig) -> Any:
        if watch.name not in self._refs:
            from gpuscout.jobs.market import market_points, reference_at

            points = market_points(self.session, watch, now=self.now, usd=self.usd)
            self._refs[watch.name] = reference_at(watch, points, self.now)
        return self._refs[watch.name]

    def score(self, listing: Listing, watch: WatchConfig) -> Any:
        return self._score(facts_of(listing), identity_of(listing), watch)

    def _score(self, facts: Any, identity: Any, watch: WatchConfig) -> Any:
        from gpuscout.models.judge.score import score_listing

        if watch.name not in self._watches:
            self._watches[watch.name] = score_watch(watch)
        return score_listing(facts, identity, self._watches[watch.name], now=self.now,
                             reference=self.reference(watch), rates=self.rates(watch.currency),
                             rules=self._rules)

    def score_ids(self, ids: Sequence[int]) -> int:
        """Score (or rescore) the listings ``ids`` for every watch and store the scores."""
        from gpuscout.models.storage.store import save_scores

        watches = list(self.cfg.watches)
        rows = self._rows_read = self.rows(ids)
        self._judged = {}
        references = {w.name: self.reference(w).to_dict() for w in watches} if rows else {}
        records = []
        for row in rows:
            facts, identity = facts_of(row), identity_of(row)
            self._judged[row.id] = (facts, identity)
            for watch in watches:
                records.append(score_record(row.id, watch.name, self._score(facts, identity, watch),
                                            self.now, reference=references[watch.name]))
        save_scores(self.session, records)
        return len(records)

    def record_gone(self, ids: Sequence[int]) -> int:
        """What listings just marked gone add to the market (see ``MarketRecorder``)."""
        from gpuscout.jobs.market import MarketRecorder

        if not ids:
            return 0
        return MarketRecorder(self.cfg, self.session, now=self.now, usd=self.usd).record_gone(
            self.rows(ids))

    def rows(self, ids: Sequence[int]) -> list[Any]:
        """The scored columns of the listings ``ids`` (plain rows: no ORM objects to build)."""
        from sqlalchemy import select

        from gpuscout.models.storage.tables.listings import Listing

        columns = [getattr(Listing, c) for c in _SCORED_COLUMNS]
        wanted = list(ids)
        rows: list[Any] = []
        for i in range(0, len(wanted), _ID_CHUNK):
            part = wanted[i:i + _ID_CHUNK]
            rows.extend(self.session.execute(select(*columns).where(Listing.id.in_(part))))
        return rows

    def score_and_collect(self, ids: Sequence[int], result: UpsertResult) -> list[ListingEvent]:
        """Score ``ids`` and report what alert rules may care about: new listings, price drops,
        returns, and auctions that now end within the longest ``auction_hours`` of a rule. What
        the listings add to the market is recorded after they are scored (the references of
        this evaluator are those from before)."""
        from gpuscout.jobs.market import MarketRecorder

        self.score_ids(ids)
        MarketRecorder(self.cfg, self.session, now=self.now, usd=self.usd).record(
            self._rows_read, new=result.new, judged=self._judged)
        events = [ListingEvent(i, "new") for i in result.new]
        hours = [r.auction_hours for r in self.cfg.alerts if r.auction_hours is not None]
        if hours and ids:
            from gpuscout.models.storage.queries import auctions_ending

            until = self.now + timedelta(hours=max(hours))
            events += [ListingEvent(i, "ending_soon")
                       for i in auctions_ending(self.session, ids, after=self.now, until=until)]
        for ch in result.changed:
            old = (ch.old_price or 0) + (ch.old_shipping or 0)
            new = (ch.new_price or 0) + (ch.new_shipping or 0)
            if ch.old_price is not None and ch.new_price is not None and new < old:
                events.append(ListingEvent(ch.listing_id, "price_drop", old, new))
        events.extend(ListingEvent(i, "back_in_stock") for i in result.back)
        return events


def score_record(listing_id: int, watch: str, score: Any, now: datetime, *,
                 reference: dict[str, Any] | None) -> Any:
    """The stored form of ``score``; ``reference`` is ``score.reference.to_dict()``, which the
    caller makes once per watch, not once per listing."""
    from gpuscout.models.storage.records import ScoreRecord, to_minor

    components = {c.name: c.to_dict() for c in score.components}
    return ScoreRecord(
        listing_id=listing_id, watch=watch, version=score.version, total=score.total,
        fits=score.fits, unfit_reason=score.unfit_reason,
        unit_price=to_minor(score.unit_price, score.currency), currency=score.currency,
        price_points=_points(components.get("price")),
        condition_points=_points(components.get("condition")),
        risk_points=_points(components.get("risk")), components=components,
        flags=list(score.flags), reasons=list(score.reasons), reference=reference,
        computed_at=now,
    )


def _points(component: Any) -> int:
    if not component:
        return 0
    return int(component.get("points", 0))


def identify_raw_fields(title: str, description: str | None, condition: str | None,
                        status: str, *, catalog: Any = None) -> Any:
    """Identify from stored or parsed fields; a wanted post reads as Reddit's BUYING flair.
    ``catalog``: the configuration's (``catalog_of``); None is the shipped one."""
    from gpuscout.models.judge.identify import identify

    extra = {} if catalog is None else {"catalog": catalog}
    return identify(title, description, condition=condition,
                    flair="BUYING" if status == "wanted" else None, **extra)


def rescore_all(cfg: Config, sessions: Any, *, now: datetime, batch: int = 2000,
                progress: Any = None) -> int:
    """Re-identify every listing and record again what it adds to the market (its prices and
    its copies), then re-score every listing against the market so rebuilt; one committed batch
    at a time."""
    from sqlalchemy import select

    from gpuscout.jobs.market import MarketRecorder
    from gpuscout.models.judge.items import items_to_json
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.market import price_histories
    from gpuscout.models.storage.tables.listings import Listing

    catalog = catalog_of(cfg)
    last = 0
    while True:
        with transaction(sessions) as session:
            rows = list(session.scalars(select(Listing).where(Listing.id > last)
                                        .order_by(Listing.id).limit(batch)))
            if not rows:
                break
            for listing in rows:
                ident = identify_raw_fields(listing.title, listing.description, listing.condition,
                                            listing.status, catalog=catalog)
                listing.model, listing.variant = ident.model, ident.variant
                listing.kind, listing.quantity = ident.kind, ident.quantity
                listing.items = items_to_json(ident.items)
            session.flush()
            evaluator = Evaluator(cfg, session, now=now)
            ids = [r.id for r in rows]
            MarketRecorder(cfg, session, now=now, usd=evaluator.usd).rebuild(
                evaluator.rows(ids), price_histories(session, ids))
            last = rows[-1].id
    last, done = 0, 0
    while True:
        with transaction(sessions) as session:
            ids = list(session.scalars(select(Listing.id).where(Listing.id > last)
                                       .order_by(Listing.id).limit(batch)))
            if not ids:
                return done
            Evaluator(cfg, session, now=now).score_ids(ids)
            last = ids[-1]
            done += len(ids)
        if progress:
            progress(done)
