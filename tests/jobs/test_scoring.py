"""Scoring stored listings: identities kept per scan, and scores read from plain rows are the
scores of the stored listings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

import gpuscout.jobs.scoring as evaluation
from gpuscout.jobs.scoring import Evaluator, IdentityCache, identify_raw, to_record
from gpuscout.models.storage.db import make_engine, session_factory, transaction
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.records import to_minor
from gpuscout.models.storage.store import upsert_listings
from gpuscout.models.storage.tables.listings import Listing, Score
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources import get_source
from tests.support.market import PageSet, market_config

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _raw_listings(pages: PageSet) -> list[RawListing]:
    ebay = get_source("ebay").parse(pages.read(pages.ebay[0]),
                                    "https://www.ebay.com/sch/i.html?_nkw=x")
    reddit = get_source("reddit").parse(pages.read(pages.reddit),
                                        "https://www.reddit.com/r/hardwareswap/new.json")
    return [*ebay.listings, *reddit.listings]


def test_identity_cache_identifies_each_distinct_listing_once(
        page_set: PageSet, monkeypatch: Any) -> None:
    raws = _raw_listings(page_set)
    assert any(r.status == "wanted" for r in raws) and any(r.description for r in raws)
    calls: list[str] = []

    def counted(raw: RawListing, catalog: Any = None) -> Any:
        calls.append(raw.title)
        return identify_raw(raw, catalog)

    monkeypatch.setattr(evaluation, "identify_raw", counted)
    cache = IdentityCache()
    twice = [*raws, *raws]
    assert [cache(r) for r in twice] == [identify_raw(r) for r in twice]
    assert len(calls) == len({(r.title, r.description, r.condition, r.status == "wanted")
                              for r in raws})


def test_scores_from_rows_are_the_scores_of_the_stored_listings(
        page_set: PageSet, tmp_path: Path, db_url: str) -> None:
    watches = [
        {"name": "3090-fe", "model": "rtx 3090", "variant": "fe", "price_low": 650,
         "price_high": 800, "currency": "USD"},
        {"name": "3090-any-eur", "model": "rtx 3090", "variant": "any", "price_low": 600,
         "price_high": 750, "currency": "EUR", "prefer": "local"},
    ]
    cfg, _data = market_config("http://127.0.0.1:9", db_url, tmp_path, watch=watches,
                               scoring={"rates": {"USD": 0.9, "GBP": 1.15}})
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    try:
        with transaction(sessions) as session:
            records = [to_record(r) for r in _raw_listings(page_set)]
            ids = list(upsert_listings(session, records, now=T0, search="s").ids.values())
            assert Evaluator(cfg, session, now=T0).score_ids(ids) == len(ids) * len(watches)
        with sessions() as session:
            stored = {(s.listing_id, s.watch): s for s in session.scalars(select(Score))}
            listings = session.scalars(select(Listing).where(Listing.id.in_(ids))).all()
            fresh = Evaluator(cfg, session, now=T0)
            for listing in listings:
                for watch in cfg.watches:
                    want = fresh.score(listing, watch)
                    data = want.to_dict()
                    got = stored[(listing.id, watch.name)]
                    assert (got.total, got.fits, got.unfit_reason, got.version) == (
                        want.total, want.fits, want.unfit_reason, want.version)
                    assert got.unit_price == to_minor(want.unit_price, want.currency)
                    assert got.components == data["components"]
                    assert (got.flags, got.reasons) == (data["flags"], data["reasons"])
                    assert got.reference == data["reference"]
    finally:
        engine.dispose()


def test_records_carry_auction_ends_per_item_marks_and_items() -> None:
    from datetime import timedelta
    from decimal import Decimal

    from gpuscout.models.judge.items import items_from_json

    auction = RawListing(source="ebay", external_id="1", url="https://www.ebay.de/itm/1",
                         title="NVIDIA RTX 3090 Founders Edition", price=Decimal("255"),
                         currency="EUR", buying_format="auction", bids=7,
                         ends_in=timedelta(days=2, hours=4))
    rec = to_record(auction, now=T0)
    assert (rec.ends_at, rec.bids, rec.price_each, rec.items) == (
        T0 + timedelta(days=2, hours=4), 7, False, None)
    assert to_record(auction).ends_at is None  # a time left needs the moment it was read
    post = RawListing(source="reddit", external_id="p", url="https://www.reddit.com/p",
                      title="[USA-WA] [H] RTX 3090 FE, RTX 3080 FTW3 [W] PayPal",
                      description="RTX 3090 FE - $690 shipped\nRTX 3080 FTW3 - $480 shipped",
                      price=Decimal("690"), currency="USD", price_each=True)
    rec = to_record(post, now=T0)
    assert rec.model == "multiple" and rec.price_each is True
    assert [(i.model, i.variant, str(i.price)) for i in items_from_json(rec.items)] == [
        ("rtx 3090", "fe", "690"), ("rtx 3080", "partner", "480")]


def test_auctions_ending_within_a_rule_hours_become_events(tmp_path: Path, db_url: str) -> None:
    from datetime import timedelta

    from gpuscout.models.storage.records import ListingRecord, UpsertResult

    alert = [{"name": "auctions", "watch": "3090-fe", "auction_hours": 6}]
    email = {"smtp_host": "127.0.0.1", "sender": "a@example.com", "recipients": ["b@example.com"]}
    cfg, _data = market_config("http://127.0.0.1:9", db_url, tmp_path, alert=alert, email=email)
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    title = "NVIDIA GeForce RTX 3090 Founders Edition 24GB"

    def rec(ext: str, hours: float | None, fmt: str = "auction") -> ListingRecord:
        return ListingRecord(source="ebay", external_id=ext, url=f"https://www.ebay.com/itm/{ext}",
                             title=title, price=25500, shipping=2000, currency="USD",
                             buying_format=fmt, bids=7, seller_feedback=500,
                             ends_at=None if hours is None else T0 + timedelta(hours=hours),
                             model="rtx 3090", variant="fe", kind="card")
    try:
        with transaction(sessions) as session:
            ids = upsert_listings(session, [rec("1", 3), rec("2", 30), rec("3", None),
                                            rec("4", 2, "fixed"), rec("5", -1)], now=T0,
                                  search="s").ids
            events = Evaluator(cfg, session, now=T0).score_and_collect(list(ids.values()),
                                                                       UpsertResult())
            assert [(e.listing_id, e.event) for e in events] == [(ids[("ebay", "1")],
                                                                   "ending_soon")]
            scores = {s.listing_id: s for s in session.scalars(select(Score))}
            soon = scores[ids[("ebay", "1")]]
            assert (soon.unit_price, soon.fits) == (72500, True)
            assert soon.flags == ["auction"]
            ended = scores[ids[("ebay", "5")]]
            assert (ended.fits, ended.unfit_reason) == (False, "the auction has ended")
    finally:
        engine.dispose()
