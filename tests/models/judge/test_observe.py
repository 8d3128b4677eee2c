"""What a listing adds to the market, and how cross-posts and reposts are recognised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from gpuscout.models.judge.duplicates import (
    CardFacts,
    image_keys,
    match_keys,
    offer_words,
    same_card,
    seller_key,
)
from gpuscout.models.judge.identify import identify
from gpuscout.models.judge.inputs import ListingFacts
from gpuscout.models.judge.observe import MarketUse, observe, placeholder

TITLE = "NVIDIA GeForce RTX 3090 Founders Edition 24GB GDDR6X"
NOW = datetime(2023, 6, 1, tzinfo=UTC)


def seen(title: str = TITLE, **kw: Any) -> Any:
    facts = ListingFacts(title=title, description=kw.pop("description", None),
                         currency=kw.pop("currency", "USD"), **kw)
    return observe(facts, identify(title, facts.description))


def test_an_ask_a_sale_and_an_auctions_final_price() -> None:
    ask = seen(price=D("700"), shipping=D("25"))
    assert ask.uses == (MarketUse("rtx 3090", "fe", "ask", D("725.00"), "USD", "ok"),)
    sold = seen(price=D("690"), shipping=D(0), status="sold")
    assert sold.uses[0].kind == "sold" and sold.uses[0].price == D("690.00")
    final = seen(price=D("655"), status="sold", buying_format="auction", bids=31)
    assert final.uses[0].kind == "sold"
    running = seen(price=D("255"), buying_format="auction", bids=7)
    assert running.uses == () and running.excluded == "a running auction's bid is no price"
    gbp = seen(price=D("560"), currency="GBP")
    assert gbp.uses[0].price == D("560.00") and gbp.uses[0].currency == "GBP"


@pytest.mark.parametrize(("kw", "why"), [
    ({"price": D("1")}, "a placeholder price (1.00)"),
    ({"price": D("9999")}, "a placeholder price (9999.00)"),
    ({"price": D("12345")}, "a placeholder price (12345.00)"),
    ({"price": D("700"), "description": "Artifacts after an hour of gaming"}, "a described fault"),
    ({"price": D("700"), "description": "Zelle only", "source": "ebay", "seller_feedback": 0},
     "a payment scam risk (asks for Zelle and is an eBay seller with 0 feedback)"),
    ({"price": D("700"), "status": "wanted"}, "a buying post"),
    ({}, "no price"),
])
def test_what_adds_nothing_to_the_market(kw: dict[str, Any], why: str) -> None:
    out = seen(**kw)
    assert (out.uses, out.excluded) == ((), why)


@pytest.mark.parametrize(("title", "why"), [
    ("RTX 3090 Founders Edition EMPTY BOX ONLY", "not a single card (box_only)"),
    ("Gaming PC Ryzen 7 5800X RTX 3090 FE 32GB RAM 1TB SSD", "not a single card (system)"),
    ("NVIDIA RTX 3090 Founders Edition for parts, no display", "not a single card (parts)"),
])
def test_what_is_no_card_adds_nothing(title: str, why: str) -> None:
    assert seen(title, price=D("700")).excluded == why


def test_a_mined_card_is_marked_and_a_multi_item_post_adds_each_card_line() -> None:
    mined = seen(price=D("600"), description="Ran in a mining rig for a year")
    assert mined.uses[0].condition == "mined"
    never = seen(price=D("700"), description="Never mined, gaming only")
    assert never.uses[0].condition == "ok"
    title = "[USA-WA] [H] RTX 3090 FE, RTX 3080 FTW3 [W] PayPal"
    body = "~~RTX 3080 FTW3 - $480 shipped~~ SOLD\nRTX 3090 FE - $690 shipped\nDesk lamp - $20"
    out = seen(title, description=body, price=D("480"), source="reddit", seller_feedback=30)
    assert out.uses == (MarketUse("rtx 3080", "partner", "sold", D("480.00"), "USD", "ok"),
                        MarketUse("rtx 3090", "fe", "ask", D("690.00"), "USD", "ok"))


def test_placeholders_against_the_published_band() -> None:
    assert placeholder(D("5"), "rtx 3090") and placeholder(D("1111"), "rtx 3090")
    assert placeholder(D("4001"), "rtx 3090")   # over five times the band's high
    assert placeholder(D("129"), "rtx 3090")    # under a fifth of its low
    assert not placeholder(D("1234.50"), "rtx 4090") and not placeholder(D("700"), "rtx 3090")
    assert not placeholder(D("4001"), "rtx 2060")  # no published band to compare with


# ---- cross-posts and reposts ---------------------------------------------------------------

def card(listing_id: int, **kw: Any) -> CardFacts:
    base: dict[str, Any] = {"source": "reddit", "model": "rtx 3090", "variant": "fe",
                            "title": "[USA-CA] [H] RTX 3090 Founders Edition, original box [W] "
                                     "PayPal", "price": D("700"), "seen": NOW,
                            "seller": "u/Gpu_Seller"}
    base.update(kw)
    return CardFacts(listing_id=listing_id, **base)


def test_offer_words_seller_and_photo_keys() -> None:
    assert offer_words(card(1).title) == frozenset({"rtx", "3090", "founders", "edition",
                                                    "original", "box"})
    assert offer_words("RTX 3090 FE 24GB - PRICE DROP!") == frozenset({"rtx", "3090", "fe"})
    assert seller_key("u/Gpu_Seller") == seller_key("gpu_seller") == "gpu_seller"
    assert image_keys("https://i.ebayimg.com/images/g/AbCdEfGh12/s-l500.webp") == {
        "ebay:AbCdEfGh12"}
    assert image_keys("https://images.craigslist.org/00a0a_abc123XYZ_600x450.jpg") == {
        "craigslist:00a0a_abc123XYZ"}
    assert image_keys(None, "Timestamps: https://imgur.com/a/Xy12Zab and imgur.com/Qq99Rr8") == {
        "imgur:Xy12Zab", "imgur:Qq99Rr8"}
    keys = match_keys(card(1, description="timestamps imgur.com/a/Xy12Zab"))
    assert [k.split(":")[0] for k in keys] == ["img", "seller", "title"]
    assert keys[1].endswith("|rtx 3090|fe")


def test_a_cross_post_by_the_same_seller_is_one_card() -> None:
    old = card(1)
    cross = card(2, source="ebay", title="NVIDIA RTX 3090 Founders Edition with original box",
                 seller="gpu_seller", price=D("720"), seen=NOW + timedelta(days=2))
    assert same_card(cross, old) == ("the same seller 'gpu_seller' with a similar title at a "
                                     "similar price")
    relisted = card(3, price=D("600"), seen=NOW + timedelta(days=20))
    assert same_card(relisted, old) is not None  # 14% cheaper: a price drop, the same card
    other_card = card(4, title="[USA-CA] [H] RTX 3080 Ti FTW3 [W] PayPal")
    assert same_card(other_card, old) is None
    other_seller = card(5, seller="someone_else")
    assert same_card(other_seller, old) is None
    far = card(6, seen=NOW + timedelta(days=61))
    assert same_card(far, old) is None


def test_the_same_photo_or_title_price_and_place_is_one_card() -> None:
    photo = "https://images.craigslist.org/00a0a_abc123XYZ_600x450.jpg"
    a = card(1, source="craigslist", seller=None, image_url=photo, location="San Jose",
             title="RTX 3090 FE")
    b = card(2, source="facebook", seller=None, image_url=photo, location="Palo Alto",
             title="rtx 3090 founders", price=D("650"))
    assert same_card(b, a) == "the same photo (craigslist:00a0a_abc123XYZ)"
    c = card(3, source="facebook", seller=None, location="San Jose", title="RTX 3090 FE")
    assert same_card(c, a) == "the same title and price in the same place"
    elsewhere = card(4, source="facebook", seller=None, location="Boston", title="RTX 3090 FE")
    assert same_card(elsewhere, a) is None
    # a generic title with no place to compare is not enough
    d = card(5, source="facebook", seller=None, title="RTX 3090 FE")
    assert same_card(d, card(6, seller=None, title="RTX 3090 FE")) is None


def test_a_sold_card_offered_again_is_a_new_sale() -> None:
    sold = card(1, status="sold")
    assert same_card(card(2, seen=NOW + timedelta(days=3)), sold) is None
    assert same_card(card(3, status="sold"), sold) is not None
    assert same_card(card(4, variant="partner"), card(5)) is None
