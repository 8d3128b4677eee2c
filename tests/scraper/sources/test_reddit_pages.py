"""Reddit's listing JSON on the project's own page of r/hardwareswap: flairs, stickies, escaped
titles, prices in the body, trade counts, images and the next page. Runs without the captures."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gpuscout.scraper.errors import Blocked, MarkupDrift
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources import detect_source
from gpuscout.scraper.sources.base import ParseResult
from gpuscout.scraper.sources.reddit.source import RedditSource
from tests.support.pages import read_page

PAGE = "reddit/hardwareswap-new.json"
PAGE_URL = "https://www.reddit.com/r/hardwareswap/new.json?limit=100"
D = Decimal


@pytest.fixture(scope="module")
def result() -> ParseResult:
    return RedditSource().parse(read_page(PAGE), PAGE_URL)


@pytest.fixture(scope="module")
def by_id(result: ParseResult) -> dict[str, RawListing]:
    return {listing.external_id: listing for listing in result.listings}


def test_counts_skips_and_next_page(result: ParseResult) -> None:
    # the moderator's sticky and the removed post are skipped; page order is kept
    assert [x.external_id for x in result.listings] == [
        "ex0001", "ex0002", "ex0003", "ex0004", "ex0005", "ex0006"]
    assert (result.skipped, result.incomplete, result.empty) == (2, 0, False)
    assert result.next_url == PAGE_URL + "&after=t3_ex0007"


def test_founders_edition_post_with_local_and_shipped_prices(by_id: dict[str, RawListing]) -> None:
    assert by_id["ex0001"] == RawListing(
        source="reddit", external_id="ex0001",
        url=("https://www.reddit.com/r/hardwareswap/comments/ex0001/"
             "usatx_h_rtx_3090_founders_edition_example_headset/"),
        # the title is HTML-escaped in the JSON ("&amp;"): decoded
        title="[USA-TX] [H] RTX 3090 Founders Edition & example headset [W] PayPal, local cash",
        # "$700 local or $725 shipped OBO" for the card; the headset's "$60 shipped" is not it
        price=D("725.00"), shipping=D("0.00"), price_local=D("700.00"), currency="USD",
        location="USA-TX", posted_at=datetime(2025, 11, 1, 12, 26, 40, tzinfo=UTC),
        seller="example-seller-1", seller_feedback=14, buying_format="best_offer",
        status="active",
        description=("Timestamps: https://imgur.com/a/EXAMPLE1\n\nRTX 3090 Founders Edition: $700 "
                     "local or $725 shipped OBO. Repasted, never mined.\n\nExample headset: $60 "
                     "shipped\n\nComment before PM please."),
        image_url="https://imgur.com/a/EXAMPLE1", images=("https://imgur.com/a/EXAMPLE1",),
    )


def test_buying_post_is_wanted_and_its_budget_no_price(by_id: dict[str, RawListing]) -> None:
    post = by_id["ex0002"]
    assert (post.status, post.price, post.shipping, post.price_local) == ("wanted", None, None, None)
    assert (post.seller, post.seller_feedback, post.location) == ("example-buyer-1", 2, "USA-CA")


def test_closed_post_is_sold_and_entities_are_decoded(by_id: dict[str, RawListing]) -> None:
    post = by_id["ex0003"]
    assert (post.status, post.price, post.shipping) == ("sold", D("650.00"), D("0.00"))
    assert post.seller_feedback == 31
    assert post.description is not None
    assert "&#x200B;" not in post.description and "\u200b" not in post.description
    assert post.description.startswith("$650 shipped, original box included.")


def test_post_without_trade_flair(by_id: dict[str, RawListing]) -> None:
    post = by_id["ex0004"]  # "Asking 420 shipped."
    assert (post.price, post.shipping, post.seller, post.seller_feedback) == (
        D("420.00"), D("0.00"), "example-seller-3", None)


def test_image_post_preview_first(by_id: dict[str, RawListing]) -> None:
    post = by_id["ex0005"]  # "$690 + shipping, or best offer."
    assert (post.price, post.shipping, post.buying_format) == (D("690.00"), None, "best_offer")
    assert post.images == ("https://preview.redd.it/example0005.jpg?width=1080&format=pjpg&s=example",
                           "https://i.redd.it/example0005.jpg",
                           "https://b.thumbs.redditmedia.com/example0005.jpg")
    assert post.image_url == post.images[0]


def test_local_only_system_price(by_id: dict[str, RawListing]) -> None:
    post = by_id["ex0006"]  # "$1,400 local, pick up in Example City."
    assert (post.price, post.price_local, post.shipping) == (D("1400.00"), D("1400.00"), None)
    assert post.location == "USA-FL"


def test_raw_json_page_reads_the_same() -> None:
    """The page as asked with raw_json=1 (nothing escaped) gives the same listings."""
    doc = json.loads(read_page(PAGE))
    for child in doc["data"]["children"]:
        for key in ("title", "selftext"):
            child["data"][key] = html.unescape(child["data"][key])
    raw = RedditSource().parse(json.dumps(doc).encode(), PAGE_URL)
    assert raw.listings == RedditSource().parse(read_page(PAGE), PAGE_URL).listings


def test_only_skipped_posts_is_empty() -> None:
    doc = json.loads(read_page(PAGE))
    doc["data"]["children"] = [c for c in doc["data"]["children"]
                               if c["data"]["id"] in ("ex0000", "ex0007")]
    result = RedditSource().parse(json.dumps(doc).encode(), PAGE_URL)
    assert (result.listings, result.skipped, result.empty) == ((), 2, True)


def test_posts_without_ids_are_incomplete_or_drift() -> None:
    doc = json.loads(read_page(PAGE))
    for child in doc["data"]["children"]:
        child["data"].pop("id")
    # the skipped sticky and removed post are still recognised; the rest count as incomplete
    # (which the crawl calls drift, over half of the cards lacking a field)
    result = RedditSource().parse(json.dumps(doc).encode(), PAGE_URL)
    assert (result.listings, result.skipped, result.incomplete, result.empty) == ((), 2, 6, False)
    doc["data"]["children"] = doc["data"]["children"][1:-1]
    with pytest.raises(MarkupDrift):
        RedditSource().parse(json.dumps(doc).encode(), PAGE_URL)


def test_whoa_there_page_is_blocked() -> None:
    body = (b"<!doctype html><html><head><title>Too Many Requests</title></head><body>"
            b"<h1>whoa there, pardner!</h1><p>An example of reddit's bot page.</p></body></html>")
    with pytest.raises(Blocked) as caught:
        RedditSource().parse(body, PAGE_URL)
    assert caught.value.reason == "whoa-there"


def test_detected_as_reddit() -> None:
    assert RedditSource.sniff(read_page(PAGE))
    assert isinstance(detect_source(read_page(PAGE)), RedditSource)
