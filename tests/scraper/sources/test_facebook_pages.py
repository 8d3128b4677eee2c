"""Facebook Marketplace (experimental) on the project's own pages: a search page's embedded feed,
bulk-route-definitions, and the login wall. Runs without the real captures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gpuscout.scraper.errors import Blocked, MarkupDrift
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources import detect_source
from gpuscout.scraper.sources.facebook import FacebookSource
from tests.support.pages import read_page

SEARCH = "facebook/search.html"
ROUTES = "facebook/bulk-route-definitions.json"
LOGIN_WALL = "facebook/item-login-wall.html"
SEARCH_URL = "https://www.facebook.com/marketplace/nyc/search/?query=rtx+3090&exact=false"
ROUTES_URL = "https://www.facebook.com/ajax/bulk-route-definitions/"
ITEM_URL = "https://www.facebook.com/marketplace/item/100000000000001/"
D = Decimal


@pytest.fixture(scope="module")
def source() -> FacebookSource:
    return FacebookSource()


def test_search_page_feed(source: FacebookSource) -> None:
    result = source.parse(read_page(SEARCH), SEARCH_URL)
    # an advert edge is skipped; an edge whose listing has no title is incomplete
    assert (result.skipped, result.incomplete, result.empty, result.next_url) == (1, 1, False, None)
    first, sold, canadian = result.listings
    assert first == RawListing(
        source="facebook", external_id="100000000000001",
        url="https://www.facebook.com/marketplace/item/100000000000001/",
        title="[EXAMPLE] NVIDIA RTX 3090 Founders Edition 24GB", price=D("740.00"),
        currency="USD", location="Brooklyn, NY", posted_at=datetime(2026, 1, 1, tzinfo=UTC),
        seller="Example Seller One",
        image_url="https://scontent.example.fbcdn.net/v/example-100000000000001.jpg",
        images=("https://scontent.example.fbcdn.net/v/example-100000000000001.jpg",),
    )
    # is_sold, and the city page's name when the reverse geocode has no city
    assert (sold.external_id, sold.status, sold.price) == ("100000000000002", "sold", D("650.00"))
    assert sold.location == "Queens, New York"
    assert (canadian.price, canadian.currency, canadian.image_url) == (D("1050.00"), "CAD", None)


def test_search_listing_links_follow_the_page_host(source: FacebookSource) -> None:
    result = source.parse(read_page(SEARCH), "http://127.0.0.1:8123/marketplace/nyc/search/")
    assert result.listings[0].url == "http://127.0.0.1:8123/marketplace/item/100000000000001/"


def test_search_page_without_edges_is_empty(source: FacebookSource) -> None:
    body = read_page(SEARCH)
    start = body.index(b'"edges":[') + len(b'"edges":[')
    end = body.index(b'],"page_info"')
    result = source.parse(body[:start] + body[end:], SEARCH_URL)
    assert (result.listings, result.empty) == ((), True)


def test_search_page_with_only_unreadable_entries_is_drift(source: FacebookSource) -> None:
    body = read_page(SEARCH).replace(b'"marketplace_listing_title":"[EXAMPLE]', b'"other_title":"x')
    with pytest.raises(MarkupDrift):
        source.parse(body, SEARCH_URL)


def test_route_definitions(source: FacebookSource) -> None:
    result = source.parse(read_page(ROUTES), ROUTES_URL)
    # the search route holds no listing: skipped; route definitions carry no prices
    assert (result.skipped, result.incomplete, result.empty) == (1, 0, False)
    assert [(x.external_id, x.title, x.location) for x in result.listings] == [
        ("100000000000101", "[EXAMPLE] NVIDIA RTX 3090 Founders Edition", "Brooklyn, New York"),
        ("100000000000102", "[EXAMPLE] Gaming PC · RTX 3090, Ryzen 7", "Jersey City, New Jersey"),
        ("100000000000103", "[EXAMPLE] RTX 3090 FE", "Hoboken, New Jersey"),
    ]
    assert all(x.price is None and x.currency is None for x in result.listings)
    assert result.listings[0].url == "https://www.facebook.com/marketplace/item/100000000000101/"


def test_route_definitions_behind_the_loop_prefix_and_failed_routes(source: FacebookSource) -> None:
    assert len(source.parse(b"for (;;);" + read_page(ROUTES), ROUTES_URL).listings) == 3
    doc = json.loads(read_page(ROUTES))
    first = next(iter(doc["payload"]["payloads"]))
    doc["payload"]["payloads"][first] = {"error": True, "result": None}
    result = source.parse(json.dumps(doc).encode(), ROUTES_URL)
    assert (len(result.listings), result.incomplete) == (2, 1)


def test_route_definitions_without_listing_routes_are_drift(source: FacebookSource) -> None:
    doc = json.loads(read_page(ROUTES))
    for route in doc["payload"]["payloads"].values():
        route["result"]["exports"]["tracePolicy"] = "comet.marketplace.search"
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps(doc).encode(), ROUTES_URL)


def test_login_wall_is_blocked(source: FacebookSource) -> None:
    with pytest.raises(Blocked) as caught:
        source.parse(read_page(LOGIN_WALL), ITEM_URL)
    assert caught.value.reason == "login"


@pytest.mark.parametrize("name", [SEARCH, ROUTES, LOGIN_WALL])
def test_own_pages_are_detected_as_facebook(name: str) -> None:
    assert FacebookSource.sniff(read_page(name))
    assert isinstance(detect_source(read_page(name)), FacebookSource)
