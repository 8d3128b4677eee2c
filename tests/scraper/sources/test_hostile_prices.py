"""Hostile price texts on every source's own page: "$1e9" and "-5" are never stored as $1 or $5."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gpuscout.scraper.sources import get_source
from tests.support.pages import read_page

HOSTILE = ("$1e9", "-5", "-$5", "$-5")
MISREAD = {Decimal("1.00"), Decimal("5.00")}


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize(("name", "page", "url", "original", "template"), [
    ("ebay", "ebay/search-scard-us.html", "https://www.ebay.com/sch/i.html?_nkw=rtx+3090",
     's-card__price">$699.00', 's-card__price">{}'),
    ("craigslist", "craigslist/search-static.html",
     "https://sfbay.craigslist.org/search/sss?query=rtx+3090", '"price">$1,050', '"price">{}'),
    ("facebook", "facebook/search.html",
     "https://www.facebook.com/marketplace/nyc/search/?query=rtx+3090",
     '"formatted_amount":"$740"', '"formatted_amount":"{}"'),
])
def test_a_hostile_price_is_no_price(name: str, page: str, url: str, original: str,
                                     template: str, hostile: str) -> None:
    body = read_page(page)
    assert body.count(original.encode()) == 1
    source = get_source(name)
    clean = {li.external_id: li.price for li in source.parse(body, url).listings}
    if name == "facebook":  # the amount field too, not only its display text
        body = body.replace(b'"amount":"740.00"', f'"amount":"{hostile}"'.encode(), 1)
    body = body.replace(original.encode(), template.format(hostile).encode(), 1)
    read = {li.external_id: li.price for li in source.parse(body, url).listings}
    changed = {key: price for key, price in read.items() if clean.get(key) != price}
    # the card is read without a price (or left out as incomplete), never at $1 or $5
    assert set(changed.values()) <= {None}, changed
    assert not MISREAD & set(read.values()) - set(clean.values())


@pytest.mark.parametrize("hostile", ["$1e9", "1e9 dollars", "asking 7e2"])
def test_reddit_reads_no_price_from_an_exponent(hostile: str) -> None:
    body = read_page("reddit/hardwareswap-new.json").replace(
        b"$700 local or $725 shipped OBO", hostile.encode(), 1)
    url = "https://www.reddit.com/r/hardwareswap/search.json?q=3090"
    post = next(li for li in get_source("reddit").parse(body, url).listings
                if li.external_id == "ex0001")
    assert post.price not in MISREAD | {Decimal(7), Decimal(700)}
