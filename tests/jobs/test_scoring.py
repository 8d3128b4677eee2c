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
