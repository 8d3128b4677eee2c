"""eBay Browse API bodies on the project's own pages: a bare itemSummaries array, the full search
envelope with its next page, and getItem. Runs without the real captures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gpuscout.scraper.errors import MarkupDrift
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources.base import ParseResult
from gpuscout.scraper.sources.ebay.source import EbaySource
from tests.support.pages import by_id, read_page

API_URL = "https://api.ebay.com/buy/browse/v1/item_summary/search?q=rtx+3090&limit=200"
GETITEM_URL = "https://api.ebay.com/buy/browse/v1/item/v1%7C500000000011%7C0"
D = Decimal


@pytest.fixture(scope="module")
def source() -> EbaySource:
    return EbaySource()


def test_bare_array_counts_and_repeat(source: EbaySource) -> None:
    result = source.parse(read_page("ebay-api/search.json"), API_URL)
    # five summaries, the first repeated at the end (as at the seam of two stitched pages)
    assert [x.external_id for x in result.listings] == [
        "500000000001", "500000000002", "500000000003", "500000000004"]
    assert (result.skipped, result.incomplete, result.next_url, result.empty) == (1, 0, None, False)


def test_bare_array_fixed_price_summary(source: EbaySource) -> None:
    assert by_id(source.parse(read_page("ebay-api/search.json"), API_URL))["500000000001"] == \
        RawListing(
            source="ebay", external_id="500000000001", url="https://www.ebay.com/itm/500000000001",
            title="[EXAMPLE] NVIDIA GeForce RTX 3090 Founders Edition 24GB - tested",
            price=D("715.00"), shipping=D("0.00"), currency="USD", location="787**, US",
            posted_at=datetime(2025, 10, 2, 14, 20, 5, tzinfo=UTC), seller="example-seller-11",
            seller_feedback=412, seller_positive_pct=99.7, condition="Used",
            buying_format="fixed",
            image_url="https://i.ebayimg.com/thumbs/images/g/EXAMPLEAP1/s-l225.jpg",
            images=("https://i.ebayimg.com/thumbs/images/g/EXAMPLEAP1/s-l225.jpg",
                    "https://i.ebayimg.com/images/g/EXAMPLEAP2/s-l1600.jpg"),
        )


def test_bare_array_offers_auctions_shipping_and_variations(source: EbaySource) -> None:
    listings = by_id(source.parse(read_page("ebay-api/search.json"), API_URL))
    offer = listings["500000000002"]  # calculated shipping only: no stated cost
    assert (offer.buying_format, offer.shipping, offer.price) == ("best_offer", None, D("760.00"))
    assert offer.location == "Exampleville, Oregon, 970**, US"
    auction = listings["500000000003"]  # the current bid, the cheaper of two shipping options
    assert (auction.buying_format, auction.bids, auction.price, auction.shipping) == (
        "auction", 9, D("455.00"), D("14.90"))
    assert (auction.location, auction.image_url, auction.images) == ("US", None, ())
    assert auction.posted_at == datetime(2025, 10, 6, 19, 45, tzinfo=UTC)
    riser = listings["500000000004"]  # "v1|<item>|<variation>": the variation stays in the link
    assert riser.url == "https://www.ebay.com/itm/500000000004?var=600000000004"
    assert (riser.seller_feedback, riser.seller_positive_pct, riser.location) == (25800, 96.5, "CN")


def test_envelope_next_url_and_currencies(source: EbaySource) -> None:
    body = read_page("ebay-api/search-envelope.json")
    result = source.parse(body, API_URL)
    assert [x.external_id for x in result.listings] == ["500000000011", "500000000012"]
    assert result.next_url == ("https://api.ebay.com/buy/browse/v1/item_summary/search"
                               "?q=rtx+3090+founders+edition&limit=2&offset=2")
    local = source.parse(body, "http://127.0.0.1:8181/buy/browse/v1/item_summary/search?q=x")
    assert local.next_url == ("http://127.0.0.1:8181/buy/browse/v1/item_summary/search"
                              "?q=rtx+3090+founders+edition&limit=2&offset=2")
    listings = by_id(result)
    assert (listings["500000000011"].buying_format, listings["500000000011"].shipping) == (
        "best_offer", D("0.00"))
    canadian = listings["500000000012"]
    assert (canadian.price, canadian.currency, canadian.shipping) == (D("1085.00"), "CAD", D("45.00"))
    assert canadian.url == "https://www.ebay.ca/itm/500000000012"
    assert canadian.location == "Example Falls, Ontario, CA"


def test_envelope_past_the_last_page_is_empty(source: EbaySource) -> None:
    doc = json.loads(read_page("ebay-api/search-envelope.json"))
    del doc["itemSummaries"], doc["next"]
    doc["offset"] = 8
    assert source.parse(json.dumps(doc).encode(), API_URL) == ParseResult(listings=(), empty=True)


def test_getitem(source: EbaySource) -> None:
    result = source.parse(read_page("ebay-api/getitem.json"), GETITEM_URL)
    (item,) = result.listings
    assert (item.external_id, item.url) == ("500000000011", "https://www.ebay.com/itm/500000000011")
    assert item.title == "[EXAMPLE] NVIDIA RTX 3090 Founders Edition 24GB"
    assert (item.price, item.currency, item.shipping) == (D("690.00"), "USD", D("0.00"))
    assert item.location == "Exampletown, New York, 100**, US"
    assert item.posted_at == datetime(2025, 11, 1, 10, 0, tzinfo=UTC)
    assert (item.seller, item.seller_feedback, item.seller_positive_pct) == (
        "example-seller-15", 57, 100.0)
    assert (item.condition, item.buying_format) == ("Used", "best_offer")
    assert item.images == ("https://i.ebayimg.com/images/g/EXAMPLEGI1/s-l1600.jpg",
                           "https://i.ebayimg.com/images/g/EXAMPLEGI2/s-l1600.jpg",
                           "https://i.ebayimg.com/images/g/EXAMPLEGI3/s-l1600.jpg")
    assert item.description is not None
    lines = item.description.splitlines()
    # the HTML description's blocks become lines (the short description is not repeated)
    assert "Repasted in 2025, runs cool." in lines
    assert lines[-4:] == ["Original box", "Example receipt", "",
                          "Condition notes: Light wear on the backplate, no scratches on the fans."]
    assert "Example card, used for two years" not in item.description


def test_getitem_description_keeps_inline_markup_on_its_line(source: EbaySource) -> None:
    item = source.parse(read_page("ebay-api/getitem.json"), GETITEM_URL).listings[0]
    assert item.description is not None
    assert item.description.splitlines()[0] == "Example RTX 3090 Founders Edition, never mined."


def test_getitem_without_a_price_is_drift(source: EbaySource) -> None:
    doc = json.loads(read_page("ebay-api/getitem.json"))
    del doc["price"]
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps(doc).encode(), GETITEM_URL)


def test_summaries_mostly_without_price_are_drift(source: EbaySource) -> None:
    items = json.loads(read_page("ebay-api/search.json"))
    for item in items[1:]:
        item.pop("price", None)
        item.pop("currentBidPrice", None)
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps(items).encode(), API_URL)
