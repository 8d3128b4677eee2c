"""What stored listings add to the market: observed prices per card and week, cross-posts counted
once, quick disappearances, the reference scores are computed against, and rescore rebuilding it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gpuscout.jobs.scoring import Evaluator, rescore_all
from gpuscout.models.storage.db import make_engine, session_factory, transaction
from gpuscout.models.storage.market import copies_of, week_of
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.records import ListingRecord, UpsertResult
from gpuscout.models.storage.store import upsert_listings
from gpuscout.models.storage.tables.listings import Listing, Score
from gpuscout.models.storage.tables.market import MarketPrice, SameCard
from tests.support.market import market_config

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
FE = "NVIDIA GeForce RTX 3090 Founders Edition 24GB"


def rec(ext: str, price: int | None, **kw: Any) -> ListingRecord:
    base: dict[str, Any] = {"source": "ebay", "url": f"https://www.ebay.com/itm/{ext}",
                            "title": FE, "shipping": 0, "currency": "USD", "model": "rtx 3090",
                            "variant": "fe", "kind": "card", "seller": f"seller-{ext}",
                            "seller_feedback": 300}
    base.update(kw)
    return ListingRecord(external_id=ext, price=price, **base)


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Any]:
    engine = make_engine(db_url)
    upgrade(engine)
    cfg, _ = market_config("http://127.0.0.1:9", db_url, tmp_path)
    sessions = session_factory(engine)

    class Store:
        def __init__(self) -> None:
            self.cfg, self.sessions = cfg, sessions

        def scan(self, records: list[ListingRecord], now: datetime = T0,
                 search: str = "s") -> UpsertResult:
            with transaction(sessions) as session:
                result = upsert_listings(session, records, now=now, search=search)
                Evaluator(cfg, session, now=now).score_and_collect(list(result.ids.values()),
                                                                   result)
                return result

        def prices(self) -> list[tuple[Any, ...]]:
            with sessions() as session:
                rows = session.scalars(select(MarketPrice).order_by(MarketPrice.listing_id,
                                                                    MarketPrice.kind,
                                                                    MarketPrice.week))
                return [(r.listing_id, r.kind, r.price, r.currency, r.base_price, r.condition,
                         r.grp) for r in rows]

    try:
        yield Store()
    finally:
        engine.dispose()


def test_what_each_listing_adds_to_the_market(store: Any) -> None:
    ids = store.scan([
        rec("ask", 70000, shipping=2500),
        rec("auction", 25500, buying_format="auction", bids=7),  # a running bid: no price
        rec("final", 69000, buying_format="auction", bids=31, status="sold",
            sold_at=T0 - timedelta(days=9)),
        rec("scam", 40000, description="Zelle only, new account", seller_feedback=0),
        rec("token", 100),
        rec("mined", 60000, description="Ran in a mining rig for a year"),
        rec("box", 3000, title="RTX 3090 Founders Edition EMPTY BOX ONLY", kind="box_only"),
        rec("gbp", 56000, currency="GBP"),
    ]).ids
    i = {ext: ids[("ebay", ext)] for _src, ext in ids}
    assert store.prices() == [
        (i["ask"], "ask", 72500, "USD", 72500, "ok", i["ask"]),
        (i["final"], "sold", 69000, "USD", 69000, "ok", i["final"]),
        (i["mined"], "ask", 60000, "USD", 60000, "mined", i["mined"]),
        (i["gbp"], "ask", 56000, "GBP", 71120, "ok", i["gbp"]),  # at the table's 1.27
    ]
    with store.sessions() as session:
        final = session.scalar(select(MarketPrice).where(MarketPrice.listing_id == i["final"]))
        assert final is not None and final.week == week_of(T0 - timedelta(days=9))


def test_a_card_asked_again_each_week_and_its_price_drop(store: Any) -> None:
    first = store.scan([rec("a", 80000)])
    lid = first.ids[("ebay", "a")]
    store.scan([rec("a", 76000)], now=T0 + timedelta(hours=5))  # same week: replaced
    store.scan([rec("a", 76000)], now=T0 + timedelta(days=7))   # next week: a new ask
    assert store.prices() == [(lid, "ask", 76000, "USD", 76000, "ok", lid),
                              (lid, "ask", 76000, "USD", 76000, "ok", lid)]
    store.scan([rec("a", 75000, status="sold", sold_at=T0 + timedelta(days=8))],
               now=T0 + timedelta(days=9))
    assert store.prices()[-1] == (lid, "sold", 75000, "USD", 75000, "ok", lid)


def test_a_cross_post_is_one_card_in_the_market(store: Any) -> None:
    reddit = dict(source="reddit", url="https://www.reddit.com/r/hardwareswap/comments/x1/",
                  title="[USA-CA] [H] RTX 3090 Founders Edition, original box [W] PayPal",
                  seller="Gpu_Seller", description="Timestamps: imgur.com/a/Xy12Zab $700 shipped")
    post = store.scan([rec("x1", 70000, **reddit)], search="hws").ids[("reddit", "x1")]
    cross = rec("c1", 70000, source="craigslist", url="https://sfbay.craigslist.org/c1.html",
                title="RTX 3090 FE with box", seller=None, location="San Jose",
                description="pics: https://imgur.com/a/Xy12Zab")
    cl = store.scan([cross], now=T0 + timedelta(hours=2), search="cl").ids[("craigslist", "c1")]
    other = store.scan([rec("o1", 70000)], now=T0 + timedelta(hours=3)).ids[("ebay", "o1")]
    with store.sessions() as session:
        links = [(s.listing_id, s.same_as, s.reason) for s in session.scalars(select(SameCard))]
        assert links == [(cl, post, "the same photo (imgur:Xy12Zab)")]
        assert copies_of(session, cl) == [(post, None), (cl, "the same photo (imgur:Xy12Zab)")]
    # one ask for the card this week (the newest sighting's), one for the other card
    asks = [(p[0], p[6]) for p in store.prices()]
    assert asks == [(cl, post), (other, other)]


def test_a_quick_disappearance_is_a_weaker_sale(store: Any) -> None:
    lid = store.scan([rec("g", 71000)]).ids[("ebay", "g")]
    old = store.scan([rec("h", 90000)], now=T0 - timedelta(days=20)).ids[("ebay", "h")]
    store.scan([rec("h", 90000)], now=T0 - timedelta(days=1))  # on offer for 19 days
    with transaction(store.sessions) as session:
        for listing in session.scalars(select(Listing)):
            listing.status = "gone"
        session.flush()
        assert Evaluator(store.cfg, session, now=T0 + timedelta(days=3)).record_gone(
            [lid, old]) == 1
    gone = [p for p in store.prices() if p[1] == "gone"]
    assert gone == [(lid, "gone", 71000, "USD", 71000, "ok", lid)]


def test_scores_follow_the_stored_market_and_rescore_moves_them(store: Any) -> None:
    sales = [rec(f"s{n}", 100000 + 500 * n, status="sold", sold_at=T0 - timedelta(days=n))
             for n in range(1, 13)]
    listing = rec("deal", 79000)
    # scored before the sales are known: against the band (725)
    first = store.scan([listing]).ids[("ebay", "deal")]
    store.scan(sales)
    with store.sessions() as session:
        before = session.scalar(select(Score).where(Score.listing_id == first))
        assert before is not None and before.reference["source"] == "band"
        assert before.price_points == 22  # 9% above a market of 725
        ref = Evaluator(store.cfg, session, now=T0).reference(store.cfg.watches[0])
        assert (ref.source, ref.sold_count, ref.sold_median) == ("market", 12, Decimal("1032.50"))
        assert ref.median == Decimal("916.67")  # the band still weighs 27%
    assert rescore_all(store.cfg, store.sessions, now=T0) == 13
    with store.sessions() as session:
        after = session.scalar(select(Score).where(Score.listing_id == first))
        assert after is not None and after.reference["median"] == "916.67"
        assert after.price_points == 45 and after.fits  # 14% under a dearer market
    # the rebuilt market holds the same prices
    assert len([p for p in store.prices() if p[1] == "sold"]) == 12
