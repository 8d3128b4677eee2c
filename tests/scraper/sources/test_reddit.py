"""Tests for the Reddit source: the real r/hardwareswap capture, body prices, outcomes, OAuth."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuscout.scraper.errors import (
    Blocked,
    MarkupDrift,
    MissingCredentials,
    RateLimited,
    ScrapeError,
    UnsupportedPage,
)
from gpuscout.scraper.fetch.memory import FetchMemory, TokenCache
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources import detect_source, get_source
from gpuscout.scraper.sources.base import ParseResult, SearchSpec
from gpuscout.scraper.sources.reddit.prices import BodyPrice, read_body_price
from gpuscout.scraper.sources.reddit.source import RedditSource, decode

CAPTURE = "reddit/hardwareswap-new-2023-02.json"
PAGE_URL = "https://www.reddit.com/r/hardwareswap/new.json?limit=100&raw_json=1"
D = Decimal


@pytest.fixture(scope="module")
def capture(read_fixture: Callable[[str], bytes]) -> bytes:
    return read_fixture(CAPTURE)


@pytest.fixture(scope="module")
def result(capture: bytes) -> ParseResult:
    return RedditSource().parse(capture, PAGE_URL)


@pytest.fixture(scope="module")
def by_id(result: ParseResult) -> dict[str, RawListing]:
    return {listing.external_id: listing for listing in result.listings}


def _page(*posts: dict[str, Any], after: str | None = None) -> bytes:
    children = [{"kind": "t3", "data": post} for post in posts]
    return json.dumps({"kind": "Listing", "data": {"after": after, "dist": len(children),
                                                   "children": children, "before": None}}).encode()


def _post(**fields: Any) -> dict[str, Any]:
    post: dict[str, Any] = {
        "id": "abc123", "title": "[USA-CA] [H] EVGA RTX 3090 FTW3 [W] PayPal",
        "selftext": "$800 shipped", "author": "seller1", "author_flair_text": "Trades: 4",
        "link_flair_text": "SELLING", "created_utc": 1700000000.0, "stickied": False,
        "distinguished": None, "subreddit": "hardwareswap",
        "permalink": "/r/hardwareswap/comments/abc123/usaca_h_evga_rtx_3090/",
        "thumbnail": "self", "url": "https://www.reddit.com/r/hardwareswap/comments/abc123/x/",
    }
    post.update(fields)
    return post


# --- the real capture --------------------------------------------------------------------


def test_capture_counts(result: ParseResult) -> None:
    assert len(result.listings) == 25
    assert result.skipped == 2  # the two OFFICIAL stickies
    assert result.incomplete == 0
    assert result.empty is False
    assert result.next_url == PAGE_URL + "&after=t3_11a0v9f"


def test_capture_skips_official_stickies(by_id: dict[str, RawListing]) -> None:
    assert "10qn2wi" not in by_id  # February Confirmed Trade Thread
    assert "112leb0" not in by_id  # New Rule for Phone Sales
    assert next(iter(by_id)) == "11a6ta9"  # page order is kept


def test_capture_rtx_3090_founders_edition(by_id: dict[str, RawListing]) -> None:
    post = by_id["11a7rf2"]
    assert post.source == "reddit"
    assert post.title == ("[USA-NY][H] Rtx 3090 Founders Edition and Meta Quest 2 256gb "
                          "[W] Paypal or Local Cash")
    assert post.url == ("https://www.reddit.com/r/hardwareswap/comments/11a7rf2/"
                        "usanyh_rtx_3090_founders_edition_and_meta_quest_2/")
    # "$715 local or $730 shipped OBO" for the card; the Quest's "$280 local or $300" is not it
    assert post.price == D("730.00")
    assert post.price_local == D("715.00")
    assert post.shipping == D("0.00")
    assert post.currency == "USD"
    assert post.buying_format == "best_offer"
    assert post.location == "USA-NY"
    assert post.seller == "Svylas"
    assert post.seller_feedback == 3
    assert post.status == "active"
    assert post.condition is None
    assert post.posted_at == datetime(2023, 2, 23, 20, 26, 0, tzinfo=UTC)
    assert post.image_url == "https://imgur.com/a/6gfENje"
    assert post.images == ("https://imgur.com/a/6gfENje",)
    assert post.description is not None
    assert post.description.startswith("Local is 11934\n\nCurrently looking to sell off my RTX")
    assert post.description.endswith("Edit: Comment before PM please, thank you.")


def test_capture_rx_6900_xt_local_and_shipped_lines(by_id: dict[str, RawListing]) -> None:
    post = by_id["119wm44"]
    assert post.title.startswith("[USA-NJ] [H] PowerColor Red Devil Radeon RX 6900 XT")
    # "Local cash @ 07605 $575\nPayPal-Shipped $600": the zip code is not a price
    assert (post.price, post.price_local, post.shipping) == (D("600.00"), D("575.00"), D("0.00"))
    assert (post.seller, post.seller_feedback, post.location) == ("Holagringo", 11, "USA-NJ")
    assert post.buying_format == "fixed"
    assert post.image_url == "https://imgur.com/a/cTpPcDK"


def test_capture_buying_post_is_wanted_without_price(by_id: dict[str, RawListing]) -> None:
    post = by_id["11a79f1"]  # "My budget is $50-75 shipped": a budget, not a price
    assert post.title == "[USA-FL] [H] Paypal, local cash [W] 4gb-8gb GPU GTX960-1060 or R470-R590"
    assert post.status == "wanted"
    assert (post.price, post.price_local, post.shipping) == (None, None, None)
    assert (post.seller, post.seller_feedback, post.location) == ("Viagrus", 8, "USA-FL")
    assert post.posted_at == datetime(2023, 2, 23, 20, 5, 37, tzinfo=UTC)
    assert post.image_url is None and post.images == ()


def test_capture_closed_post_is_sold(by_id: dict[str, RawListing]) -> None:
    post = by_id["11a1vwo"]
    assert post.title == "[USA-AR] [H] Paypal [W] Logitech G305 Mouse"
    assert post.status == "sold"
    assert post.price is None  # "[H] Paypal": what a buyer offered
    assert (post.seller, post.seller_feedback) == ("roncorepfts", 2)


def test_capture_statuses(result: ParseResult) -> None:
    wanted = sorted(p.external_id for p in result.listings if p.status == "wanted")
    assert wanted == ["11a0v9f", "11a14k9", "11a1s76", "11a6q8k", "11a79f1", "11a7kv9"]
    assert [p.external_id for p in result.listings if p.status == "sold"] == ["11a1vwo"]
    assert sum(p.status == "active" for p in result.listings) == 18


def test_capture_entities_decoded(by_id: dict[str, RawListing]) -> None:
    assert by_id["11a0193"].title.endswith("[W] PayPal G&S, Local Cash")
    assert by_id["11a5i0n"].title == ("[USA-PA][H] BNIB - Razer Viper V2 Pro & DeathAdder V3 Pro "
                                      "[W] PayPal/Local Cash")
    description = by_id["11a631m"].description
    assert description is not None
    assert "&#x200B;" not in description and "&amp;" not in description
    assert "\u200b" not in description


def test_capture_missing_trade_flair(by_id: dict[str, RawListing]) -> None:
    post = by_id["11a5tm5"]
    assert post.seller == "Puzzleheaded-Role-72"
    assert post.seller_feedback is None


@pytest.mark.parametrize(("post_id", "price", "local", "shipping"), [
    ("11a6ta9", "290", None, "0"),      # "Asking for 290 shipped."
    ("11a57od", "670", None, "0"),      # "looking for 670 shipped"
    ("11a5i0n", "95", "90", None),      # "$95ea + Shipping or $90ea local"
    ("11a59sb", "90", None, "0"),       # "$90 Shipped"
    ("11a1y60", "800", None, "0"),      # "Price: $800.00 Shipped" (a laptop)
    ("11a1gox", "350", None, "0"),      # "I'm looking for $350 Shipped"
    ("11a4o2c", "750", "750", None),    # "asking $750 picked up"
    ("11a46hs", "70", None, "0"),       # "$70 each (shipping included)"
])
def test_capture_single_item_prices(by_id: dict[str, RawListing], post_id: str, price: str,
                                     local: str | None, shipping: str | None) -> None:
    post = by_id[post_id]
    assert post.price == D(price)
    assert post.price_local == (D(local) if local else None)
    assert post.shipping == (D(shipping) if shipping else None)


@pytest.mark.parametrize("post_id", [
    "11a631m",  # keyboard $125 shipped, printer $175 local
    "11a7mhg",  # table of four switches
    "11a7fb9",  # table of five Apple devices
    "11a0193",  # CPU, board, combo, case lines
    "11a5tm5",  # two laptops ("GPU: 3060 CPU: …" rows are systems, not cards)
    "11a4wsc",  # CPU $350 OBO, monitor $220 OBO, combo $500
    "11a1jj9",  # two-row table
    "11a4ob1",  # three bold item lines
])
def test_capture_multi_item_posts_without_a_card_have_no_price(
        by_id: dict[str, RawListing], post_id: str) -> None:
    assert by_id[post_id].price is None
    assert by_id[post_id].status == "active"


def test_capture_raw_json_gives_the_same_listings(capture: bytes) -> None:
    """The capture lacks raw_json=1; the same page with raw_json=1 reads identically."""
    doc = json.loads(capture)
    for child in doc["data"]["children"]:
        for key in ("title", "selftext"):
            child["data"][key] = html.unescape(child["data"][key])
    raw = RedditSource().parse(json.dumps(doc).encode(), PAGE_URL)
    escaped = RedditSource().parse(capture, PAGE_URL)
    assert raw.listings == escaped.listings


def test_sniff_and_detect(capture: bytes) -> None:
    assert RedditSource.sniff(capture, None)
    assert RedditSource.sniff(capture, PAGE_URL)
    assert not RedditSource.sniff(b"<html><body>reddit</body></html>", PAGE_URL)
    assert not RedditSource.sniff(b'{"itemSummaries": []}', None)
    assert not RedditSource.sniff(b'{"kind": "Listing", "data": []}', None)
    assert isinstance(detect_source(capture, None), RedditSource)
    assert isinstance(get_source("reddit"), RedditSource)


# --- body prices -------------------------------------------------------------------------

TITLE = "[USA-CA] [H] RTX 3090 FE [W] PayPal"


@pytest.mark.parametrize(("body", "price", "shipping", "local"), [
    ("$700 shipped", "700", "0", None),
    ("700$ shipped", "700", "0", None),
    ("$700 + shipping", "700", None, None),
    ("$700 plus shipping", "700", None, None),
    ("$700 + $25 shipping", "700", "25", None),
    ("asking 650", "650", None, None),
    ("Asking for 650 OBO", "650", None, None),
    ("shipped: $700 / local: $650", "700", "0", "650"),
    ("Shipped: 700 / Local: 650", "700", "0", "650"),
    ("$650 local, $700 shipped", "700", "0", "650"),
    ("RTX 3090 FE\n\nLocal: $650\n\nShipped: $700", "700", "0", "650"),
    ("Price: $1,050.00 shipped", "1050", "0", None),
    ("$700 (free shipping)", "700", "0", None),
    ("~~$750~~ $700 shipped", "700", "0", None),
    ("bought it for $1500 last year, asking $700 shipped", "700", "0", None),
])
def test_body_phrasings(body: str, price: str, shipping: str | None, local: str | None) -> None:
    read = read_body_price(TITLE, body, currency="USD")
    assert read.price == D(price)
    assert read.shipping == (D(shipping) if shipping else None)
    assert read.price_local == (D(local) if local else None)
    assert read.currency == "USD"


def test_bullet_list_picks_the_card_line() -> None:
    body = "Prices:\n\n- i9-9900k - $250 shipped\n- RTX 3090 FE - $700\n- 32GB DDR4 - $80 shipped"
    read = read_body_price("[USA-CA] [H] i9-9900k, RTX 3090 FE, RAM [W] PayPal", body,
                           currency="USD")
    assert (read.price, read.shipping, read.for_gpu) == (D("700"), None, True)


def test_table_picks_the_card_row() -> None:
    body = ("|Item|Price|\n|:-|:-|\n|i9 9900k|$250 shipped|\n|EVGA 3090 FTW3 Ultra|$800 shipped|"
            "\n|Corsair RM850x|$90|")
    read = read_body_price("[USA-TX] [H] 3090, 9900k, PSU [W] PayPal", body, currency="USD")
    assert (read.price, read.shipping) == (D("800"), D("0"))


def test_item_colon_amount_lines_price_the_card_line() -> None:
    body = "RTX 3090 FE: 700\ni9-10900K: 220\n32GB (2x16) DDR4 3600: 70\n\nPrices are shipped."
    read = read_body_price("[USA-TX] [H] RTX 3090 FE, i9-10900K, 32GB DDR4 [W] PayPal", body,
                           currency="USD")
    assert (read.price, read.for_gpu) == (D("700"), True)


def test_price_per_item_is_marked() -> None:
    read = read_body_price("[USA-GA] [H] 2x RTX 3090 Founders Edition [W] PayPal",
                           "$700 shipped each, $650 each local. Will sell separately.",
                           currency="USD")
    assert (read.price, read.shipping, read.price_local, read.each) == (
        D("700"), D("0"), D("650"), True)
    together = read_body_price("[USA-OR] [H] RTX 3090 FE x2 [W] PayPal",
                               "$1400 shipped for both", currency="USD")
    assert (together.price, together.each) == (D("1400"), False)


def test_parsed_post_carries_the_per_item_mark() -> None:
    page = _page(_post(title="[USA-GA] [H] 2x RTX 3090 FE [W] PayPal",
                       selftext="$700 shipped each"))
    (listing,) = RedditSource().parse(page, PAGE_URL).listings
    assert (listing.price, listing.price_each) == (D("700"), True)


def test_one_item_offered_locally_somewhere_or_shipped() -> None:
    read = read_body_price("[CAN-ON] [H] RTX 3090 FE [W] Local cash",
                           "3090 FE, gaming only. $950 local in Toronto or $990 shipped.",
                           currency="CAD")
    assert (read.price, read.shipping, read.price_local) == (D("990"), D("0"), D("950"))


def test_several_items_on_one_line() -> None:
    read = read_body_price("[USA-TX] [H] i7, RTX 3080 [W] PayPal",
                           "i7 9700k - $200, RTX 3080 - $500 shipped", currency="USD")
    assert read.price == D("500")


def test_unlabelled_first_price_belongs_to_the_title_card() -> None:
    body = "Timestamps\n\n$600 shipped\n\nCablemod extension kit $50 shipped"
    read = read_body_price("[USA-WA] [H] EVGA 3080 FTW3, cables [W] PayPal", body, currency="USD")
    assert (read.price, read.for_gpu) == (D("600"), True)


def test_k_amounts_and_budgets_are_not_prices() -> None:
    assert read_body_price("[USA-CA] [H] Gaming rig [W] PayPal",
                           "The rig is worth 3k, selling for $2.5k", currency="USD").price is None
    assert read_body_price("[USA-CA] [H] PayPal [W] RTX 3090", "Budget is $700 shipped",
                           currency="USD", wanted=True) == BodyPrice()


def test_laptop_rows_are_not_cards() -> None:
    body = ("|Model|Specs|Price|\n|:-|:-|:-|\n| Zephyrus | GPU: 3080 CPU: i9 RAM: 32GB | $1400 |\n"
            "| Legion | GPU: 3070 CPU: R7 RAM: 16GB | $1100 |")
    assert read_body_price("[USA-NJ] [H] two laptops [W] PayPal", body, currency="USD").price \
        is None


def test_price_in_title_when_body_has_none() -> None:
    read = read_body_price("[USA-CA] [H] RTX 3090 FE $700 shipped [W] PayPal", "Timestamps",
                           currency="USD")
    assert (read.price, read.shipping) == (D("700"), D("0"))


def test_range_gives_low_and_high() -> None:
    read = read_body_price(TITLE, "$700-750 shipped", currency="USD")
    assert (read.price, read.price_max) == (D("700"), D("750"))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.text(max_size=80))
def test_body_reader_never_crashes(body: str, title: str) -> None:
    read = read_body_price(title, body, currency="USD")
    assert read.price is None or read.price > 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(
    ["$700", "700$", " shipped", " local", " or ", " + ", "shipping", "RTX 3090", " FE", "\n",
     "|", "- ", "asking ", "k", "obo", "~~", "[", "](", ")", "3090", ":", "/", "€", "£"]),
    max_size=40))
def test_body_reader_never_crashes_on_price_like_text(pieces: list[str]) -> None:
    read_body_price(TITLE, "".join(pieces), currency="USD")


# --- currency ----------------------------------------------------------------------------


@pytest.mark.parametrize(("subreddit", "body", "currency"), [
    ("hardwareswap", "$800 shipped", "USD"),
    ("CanadianHardwareSwap", "$900 shipped", "CAD"),
    ("hardwareswapuk", "£650 delivered", "GBP"),
    ("hardwareswapaustralia", "$1100 shipped", "AUD"),
    ("hardwareswapeu", "700€ shipped", "EUR"),
])
def test_currency_per_subreddit(subreddit: str, body: str, currency: str) -> None:
    page = _page(_post(subreddit=subreddit, selftext=body))
    listing = RedditSource().parse(page, f"https://www.reddit.com/r/{subreddit}/new.json")
    assert listing.listings[0].currency == currency
    assert listing.listings[0].shipping == D("0")


def test_currency_mapping_is_configurable() -> None:
    source = RedditSource(currencies={"homelabsales": "USD", "hardwareswapnz": "NZD"})
    page = _page(_post(subreddit="hardwareswapnz", selftext="$900 shipped"))
    assert source.parse(page, "https://www.reddit.com/r/hardwareswapnz/new.json") \
        .listings[0].currency == "NZD"


def test_explicit_currency_beats_the_subreddit() -> None:
    page = _page(_post(subreddit="hardwareswapeu", selftext="£600 shipped"))
    assert RedditSource().parse(page, PAGE_URL).listings[0].currency == "GBP"


# --- images ------------------------------------------------------------------------------


def test_preview_image_is_decoded_and_preferred() -> None:
    preview = {"images": [{"source": {
        "url": "https://preview.redd.it/abc.jpg?width=640&amp;format=pjpg&amp;s=1f"}}]}
    page = _page(_post(preview=preview, selftext="$800 shipped https://imgur.com/a/XYZ12"))
    listing = RedditSource().parse(page, PAGE_URL).listings[0]
    assert listing.image_url == "https://preview.redd.it/abc.jpg?width=640&format=pjpg&s=1f"
    assert listing.images == (listing.image_url,)


def test_gallery_images_in_gallery_order() -> None:
    metadata = {"m1": {"s": {"u": "https://preview.redd.it/one.jpg?a=1&amp;b=2"}},
                "m2": {"s": {"u": "https://preview.redd.it/two.jpg"}}}
    gallery = {"items": [{"media_id": "m2"}, {"media_id": "m1"}]}
    page = _page(_post(media_metadata=metadata, gallery_data=gallery,
                       thumbnail="https://b.thumbs.redditmedia.com/t.jpg"))
    listing = RedditSource().parse(page, PAGE_URL).listings[0]
    assert listing.images == ("https://preview.redd.it/two.jpg",
                              "https://preview.redd.it/one.jpg?a=1&b=2",
                              "https://b.thumbs.redditmedia.com/t.jpg")


def test_direct_image_link_post() -> None:
    page = _page(_post(url="https://i.redd.it/xyz789.jpg", thumbnail="default"))
    assert RedditSource().parse(page, PAGE_URL).listings[0].image_url == \
        "https://i.redd.it/xyz789.jpg"


# --- outcomes ----------------------------------------------------------------------------


def test_empty_listing_is_empty() -> None:
    result = RedditSource().parse(_page(), PAGE_URL)
    assert result == ParseResult(listings=(), empty=True)


def test_only_stickies_is_empty_with_skips() -> None:
    page = _page(_post(stickied=True), _post(id="m2", distinguished="moderator"),
                 _post(id="m3", link_flair_text="OFFICIAL"))
    result = RedditSource().parse(page, PAGE_URL)
    assert (result.listings, result.skipped, result.empty) == ((), 3, True)


def test_children_without_id_or_title_are_drift() -> None:
    page = _page({"author": "x"}, {"title": 5, "id": "a"})
    with pytest.raises(MarkupDrift):
        RedditSource().parse(page, PAGE_URL)


def test_some_incomplete_children_are_counted() -> None:
    result = RedditSource().parse(_page(_post(), {"author": "x"}), PAGE_URL)
    assert (len(result.listings), result.incomplete) == (1, 1)


@pytest.mark.parametrize("body", [
    b'{"kind": "t2", "data": {"name": "someone"}}',
    b'[{"kind": "Listing", "data": {}}, {"kind": "Listing", "data": {}}]',
    b'{"kind": "Listing", "data": {"children": "nope"}}',
    b'{"data": {"things": []}}',
])
def test_reddit_json_that_is_not_a_listing_is_drift(body: bytes) -> None:
    with pytest.raises(MarkupDrift):
        RedditSource().parse(body, PAGE_URL)


def test_forbidden_json_is_blocked() -> None:
    body = b'{"reason": "private", "message": "Forbidden", "error": 403}'
    with pytest.raises(Blocked) as caught:
        RedditSource().parse(body, PAGE_URL)
    assert caught.value.reason == "private"


def test_too_many_requests_is_rate_limited() -> None:
    with pytest.raises(RateLimited):
        RedditSource().parse(b'{"message": "Too Many Requests", "error": 429}', PAGE_URL)
    with pytest.raises(RateLimited):
        RedditSource().parse(b"Too Many Requests", PAGE_URL)


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html><head><title>Too Many Requests</title></head><body><h1>whoa there, pardner!</h1>"
     b"<p>reddit's awesome and all, but you may have a bit of a problem.</p></body></html>",
     "whoa-there"),
    (b"<!DOCTYPE html><html><body>You've been blocked by network security. To continue, log in"
     b" to your Reddit account or use your developer token</body></html>", "network-security"),
    (b'<html><head><title>reddit.com: Log in</title></head><body><form action="/login">'
     b"</form></body></html>", "login"),
])
def test_reddit_refusal_pages_are_blocked(body: bytes, reason: str) -> None:
    with pytest.raises(Blocked) as caught:
        RedditSource().parse(body, PAGE_URL)
    assert caught.value.reason == reason


def test_other_reddit_html_is_drift() -> None:
    body = b"<html><head><title>r/hardwareswap - Reddit</title></head><body></body></html>"
    with pytest.raises(MarkupDrift):
        RedditSource().parse(body, PAGE_URL)


def test_other_sites_are_unsupported(read_fixture: Callable[[str], bytes]) -> None:
    with pytest.raises(UnsupportedPage):
        RedditSource().parse(b"<html><body>Hello</body></html>", "https://example.com/")
    with pytest.raises(UnsupportedPage):
        RedditSource().parse(read_fixture("ebay-api/search-rtx-4090-2023-12.json"),
                             "https://api.ebay.com/buy/browse/v1/item_summary/search")
    with pytest.raises(UnsupportedPage) as caught:
        RedditSource().parse(read_fixture("kleinanzeigen/search-2026-04.html"),
                             "https://www.kleinanzeigen.de/s-grafikkarte/k0")
    assert caught.value.reason == "Kleinanzeigen"
    with pytest.raises(UnsupportedPage):
        RedditSource().parse(b"", PAGE_URL)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_scrape_errors(body: bytes) -> None:
    with contextlib.suppress(ScrapeError):
        RedditSource().parse(body, PAGE_URL)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "title", "selftext", "created_utc", "author_flair_text",
                         "link_flair_text", "preview", "images", "source", "url", "permalink",
                         "media_metadata", "gallery_data", "items", "s", "u", "kind", "data"]),
        inner, max_size=6),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(_JSON, max_size=4))
def test_arbitrary_children_raise_only_scrape_errors(children: list[Any]) -> None:
    body = json.dumps({"kind": "Listing", "data": {"after": None, "children": children}})
    with contextlib.suppress(ScrapeError):
        RedditSource().parse(body.encode(), PAGE_URL)


def test_decode_is_idempotent() -> None:
    assert decode("G&amp;S &amp;amp; &#x200B;") == "G&S & \u200b"
    assert decode(decode("G&amp;S")) == decode("G&S") == "G&S"


# --- requests ----------------------------------------------------------------------------


def _spec(query: str = "", **options: str) -> SearchSpec:
    """A search on the public JSON pages (the ``json`` route)."""
    return SearchSpec(query=query, base_url="https://www.reddit.com",
                      options={"route": "json", **options})


APP = {"client_id": "cid", "client_secret": "sec"}


def _api(query: str = "", credentials: dict[str, str] | None = None, **options: str
         ) -> SearchSpec:
    return SearchSpec(query=query, base_url="https://www.reddit.com", options=options,
                      credentials=APP if credentials is None else credentials)


def test_api_route_is_the_default_and_polls_new_on_the_oauth_host() -> None:
    source = RedditSource()
    assert source.uses_api(_api("rtx 3090")) and source.uses_api(_api(credentials={}))
    # NOTE: the query does not go to Reddit: /new is filtered here (see select)
    assert source.search_url(_api("rtx 3090")) == \
        "https://oauth.reddit.com/r/hardwareswap/new?limit=100&raw_json=1"
    assert source.search_url(_api("", oauth_base_url="http://127.0.0.1:9/",
                                  subreddit="r/CanadianHardwareSwap")) == \
        "http://127.0.0.1:9/r/CanadianHardwareSwap/new?limit=100&raw_json=1"
    assert source.search_url(_api("3090 fe", listing="search")) == (
        "https://oauth.reddit.com/r/hardwareswap/search?q=3090+fe&restrict_sr=1&sort=new"
        "&t=month&limit=100&raw_json=1")


def test_json_route_reads_the_public_pages_on_base_url() -> None:
    assert RedditSource().search_url(_spec("rtx 3090")) == \
        "https://www.reddit.com/r/hardwareswap/new.json?limit=100&raw_json=1"
    assert RedditSource().search_url(_spec("rtx 3090", listing="search")) == (
        "https://www.reddit.com/r/hardwareswap/search.json?q=rtx+3090&restrict_sr=1"
        "&sort=new&t=month&limit=100&raw_json=1")
    local = SearchSpec(query=" ", base_url="http://127.0.0.1:8080/", options={"route": "json"})
    assert RedditSource().search_url(local) == \
        "http://127.0.0.1:8080/r/hardwareswap/new.json?limit=100&raw_json=1"
    assert not RedditSource().uses_api(local)


def test_unknown_route_or_listing_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedPage, match="route = 'html'"):
        RedditSource().search_url(_api(route="html"))
    with pytest.raises(UnsupportedPage, match="listing = 'hot'"):
        RedditSource().search_url(_api("3090", listing="hot"))


def test_request_headers() -> None:
    assert RedditSource().request_headers(_spec()) == {"Accept": "application/json"}
    # Reddit's API rules: <platform>:<app ID>:<version string> (by /u/<reddit username>)
    headers = RedditSource().request_headers(_api(credentials={**APP, "username": "gpu_buyer"}))
    assert headers["Accept"] == "application/json"
    assert re.fullmatch(r"python:gpuscout:[\w.+-]+ \(by /u/gpu_buyer\)", headers["User-Agent"])
    anonymous = RedditSource().request_headers(_api())["User-Agent"]
    assert re.fullmatch(r"python:gpuscout:[\w.+-]+ \(\+https://github\.com/gpuscout/gpuscout\)",
                        anonymous)


def test_select_keeps_the_posts_matching_every_query_word() -> None:
    posts = [_post(id="a1", title="[USA-CA] [H] RTX 3090 FE [W] PayPal"),
             _post(id="a2", title="[USA-NY] [H] 3080 [W] PayPal", selftext="not a 3090"),
             _post(id="a3", title="[USA-TX] [H] RTX 3090 Ti [W] PayPal"),
             _post(id="a4", title="[USA-WA] [H] Ryzen 7 [W] PayPal")]
    source = RedditSource()
    result = source.parse(_page(*posts), PAGE_URL)
    kept = source.select(_api("3090"), result)
    assert [listing.external_id for listing in kept.listings] == ["a1", "a2", "a3"]
    assert kept.unmatched == 1
    narrow = source.select(_api("rtx 3090 -ti"), result)
    assert [listing.external_id for listing in narrow.listings] == ["a1"]
    assert narrow.unmatched == 3
    # an empty query, or Reddit's own search, keeps everything
    assert source.select(_api(""), result) == result
    assert source.select(_api("3090", listing="search"), result) == result


def test_next_url_replaces_after() -> None:
    source = RedditSource()
    first = source.search_url(_spec("rtx 3090", listing="search"))
    second = source.next_url(first, "t3_aaa")
    assert second == first + "&after=t3_aaa"
    third = source.next_url(second or "", "t3_bbb")
    assert third is not None
    assert parse_qs(urlsplit(third).query)["after"] == ["t3_bbb"]
    assert parse_qs(urlsplit(third).query)["q"] == ["rtx 3090"]
    assert source.next_url(first, None) is None


def test_parse_sets_next_url_from_after() -> None:
    url = "https://www.reddit.com/r/hardwareswap/new.json?limit=100&raw_json=1&after=t3_old"
    result = RedditSource().parse(_page(_post(), after="t3_new"), url)
    assert result.next_url == \
        "https://www.reddit.com/r/hardwareswap/new.json?limit=100&raw_json=1&after=t3_new"
    assert RedditSource().parse(_page(_post()), url).next_url is None


def test_oauth_page_links_to_www() -> None:
    result = RedditSource().parse(_page(_post()), "https://oauth.reddit.com/r/hardwareswap/new.json")
    assert result.listings[0].url.startswith("https://www.reddit.com/r/hardwareswap/comments/")


def _prepare(spec: SearchSpec, handler: Callable[[httpx.Request], httpx.Response],
             tokens: TokenCache | None = None, renew: bool = False) -> dict[str, str]:
    async def run() -> dict[str, str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await RedditSource().prepare(client, spec, tokens, renew=renew)
    return asyncio.run(run())


def test_prepare_on_the_json_route_adds_nothing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")
    assert _prepare(_spec(), handler) == {}


def test_api_route_without_credentials_is_blocked_with_what_to_set_up() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")
    with pytest.raises(MissingCredentials) as info:
        _prepare(_api(credentials={}), handler)
    assert info.value.reason == "no-credentials"
    assert str(info.value) == (
        'Reddit\'s API needs an app: create a "script" app at https://www.reddit.com/prefs/apps, '
        "then set GPUSCOUT_REDDIT_CLIENT_ID (the id under the app's name) and "
        "GPUSCOUT_REDDIT_CLIENT_SECRET")
    assert "robots" not in str(info.value)


def test_prepare_client_credentials_grant() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "tok123", "token_type": "bearer",
                                         "expires_in": 86400, "scope": "*"})
    assert _prepare(_api(), handler) == {"Authorization": "bearer tok123"}
    request = seen[0]
    assert (request.method, str(request.url)) == \
        ("POST", "https://www.reddit.com/api/v1/access_token")
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:sec").decode()
    assert parse_qs(request.content.decode()) == {"grant_type": ["client_credentials"]}
    assert request.headers["User-Agent"].startswith("python:gpuscout:")


def test_the_token_is_cached_until_shortly_before_it_expires_and_renewed_on_demand() -> None:
    issued: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        issued.append(f"tok{len(issued) + 1}")
        return httpx.Response(200, json={"access_token": issued[-1], "token_type": "bearer",
                                         "expires_in": 3600, "scope": "*"})
    clock = [1000.0]
    tokens = TokenCache(FetchMemory(), lambda: clock[0])
    assert _prepare(_api(), handler, tokens) == {"Authorization": "bearer tok1"}
    clock[0] += 3000  # within the hour, less the renewal margin
    assert _prepare(_api(), handler, tokens) == {"Authorization": "bearer tok1"}
    clock[0] += 500   # 2 minutes before it expires: a new one
    assert _prepare(_api(), handler, tokens) == {"Authorization": "bearer tok2"}
    # the API refused the cached token (revoked): renew asks for another at once
    assert _prepare(_api(), handler, tokens, renew=True) == {"Authorization": "bearer tok3"}
    # another app (client id) has its own token
    assert _prepare(_api(credentials={"client_id": "other", "client_secret": "s"}), handler,
                    tokens) == {"Authorization": "bearer tok4"}
    assert issued == ["tok1", "tok2", "tok3", "tok4"]


def test_prepare_password_grant_on_configured_auth_base() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "tok456", "token_type": "bearer"})
    spec = _api(auth_base_url="http://127.0.0.1:9",
                credentials={"client_id": "cid", "client_secret": "sec",
                             "username": "me", "password": "pw"})
    assert _prepare(spec, handler) == {"Authorization": "bearer tok456"}
    assert str(seen[0].url) == "http://127.0.0.1:9/api/v1/access_token"
    assert parse_qs(seen[0].content.decode()) == \
        {"grant_type": ["password"], "username": ["me"], "password": ["pw"]}


@pytest.mark.parametrize(("response", "error"), [
    (httpx.Response(401, json={"message": "Unauthorized", "error": 401}), Blocked),
    (httpx.Response(200, json={"error": "invalid_grant"}), Blocked),
    (httpx.Response(429, text="slow down"), RateLimited),
    (httpx.Response(200, text="<html>oops</html>"), MarkupDrift),
])
def test_prepare_failures(response: httpx.Response, error: type[Exception]) -> None:
    spec = _api(credentials={"client_id": "cid", "client_secret": "sec",
                             "username": "me", "password": "bad"})
    with pytest.raises(error):
        _prepare(spec, lambda request: response)
