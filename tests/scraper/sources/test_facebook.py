"""Facebook Marketplace source (experimental): URLs, login wall, route definitions, search JSON."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuscout.scraper.errors import Blocked, MarkupDrift, ScrapeError, UnsupportedPage
from gpuscout.scraper.sources.base import SearchSpec
from gpuscout.scraper.sources.facebook import FacebookSource

Reader = Callable[[str], bytes]

LOGIN_WALL = "facebook/item-login-wall-2025-04.html"
ROUTES = "facebook/bulk-route-definitions-2025-04.json"
ITEM_URL = "https://www.facebook.com/marketplace/item/972971497925330/"
ROUTES_URL = "https://www.facebook.com/ajax/bulk-route-definitions/"
SEARCH_URL = "https://www.facebook.com/marketplace/nyc/search/?query=rtx%203090&exact=false"
OTHER_CAPTURES = [
    "craigslist/search-static-2026-05.html", "craigslist/posting-2026-05.html",
    "craigslist/sapi-search-2026-04.json", "kijiji/search-next-data-2026-08.json",
    "kleinanzeigen/search-2026-04.html", "reddit/hardwareswap-new-2023-02.json",
    "ebay-html/search-scard-uk-2025-08.html", "ebay-html/item-rtx-5090-fe-2025-06.html",
    "ebay-api/search-envelope-rtx-a5000-2023-11.json",
]


@pytest.fixture
def source() -> FacebookSource:
    return FacebookSource()


# --- URLs and headers ----------------------------------------------------------------------------

def test_search_url(source: FacebookSource) -> None:
    spec = SearchSpec(query="rtx 3090 founders", base_url="https://www.facebook.com",
                      min_price=650, max_price=800)
    assert source.search_url(spec) == (
        "https://www.facebook.com/marketplace/nyc/search/"
        "?query=rtx+3090+founders&minPrice=650&maxPrice=800&exact=false")


def test_search_url_location_and_configured_base(source: FacebookSource) -> None:
    spec = SearchSpec(query="3090", base_url="http://127.0.0.1:8123/",
                      options={"location": "sanfrancisco"})
    assert source.search_url(spec) == (
        "http://127.0.0.1:8123/marketplace/sanfrancisco/search/?query=3090&exact=false")


def test_request_headers_are_a_document_navigation(source: FacebookSource) -> None:
    headers = source.request_headers(SearchSpec(query="x", base_url=""))
    assert headers["Accept"].startswith("text/html,application/xhtml+xml")
    assert headers["Accept-Language"] == "en-US,en;q=0.9"
    assert (headers["Sec-Fetch-Dest"], headers["Sec-Fetch-Mode"]) == ("document", "navigate")
    assert headers["Sec-Fetch-User"] == "?1"


# --- the login wall ------------------------------------------------------------------------------

def test_login_wall_capture_is_blocked(source: FacebookSource, read_fixture: Reader) -> None:
    with pytest.raises(Blocked) as caught:
        source.parse(read_fixture(LOGIN_WALL), ITEM_URL)
    assert caught.value.reason == "login"


def test_login_redirect_url_is_blocked(source: FacebookSource) -> None:
    with pytest.raises(Blocked) as caught:
        source.parse(b'<html id="facebook"><body></body></html>',
                     "https://www.facebook.com/login/?next=%2Fmarketplace%2F")
    assert caught.value.reason == "login"


def test_checkpoint_is_blocked(source: FacebookSource) -> None:
    with pytest.raises(Blocked) as caught:
        source.parse(b'<html id="facebook"><body><h2>You\xe2\x80\x99re Temporarily Blocked</h2>'
                     b"</body></html>", SEARCH_URL)
    assert caught.value.reason == "checkpoint"


# --- bulk route definitions (real capture) -------------------------------------------------------

def test_route_definitions_counts(source: FacebookSource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(ROUTES), ROUTES_URL)
    assert len(result.listings) == 15
    assert len({listing.external_id for listing in result.listings}) == 15
    assert (result.empty, result.next_url, result.skipped, result.incomplete) == (False, None, 0, 0)
    assert all(listing.price is None and listing.currency is None for listing in result.listings)


def test_route_definitions_field_by_field(source: FacebookSource, read_fixture: Reader) -> None:
    listings = source.parse(read_fixture(ROUTES), ROUTES_URL).listings
    first = listings[0]
    assert first.source == "facebook"
    assert first.external_id == "972971497925330"
    assert first.url == "https://www.facebook.com/marketplace/item/972971497925330/"
    assert first.title == "2005 Dodge Ram 1500 Crew Cab"
    assert first.location == "Dallas, Texas"
    assert first.status == "active"

    cruze = listings[3]
    assert cruze.external_id == "1338161540195483"
    assert cruze.title == "2018 Chevrolet Cruze"
    assert cruze.location == "Balch Springs, Texas"

    # a title with " · " and a category other than Cars & Trucks
    buyer = listings[4]
    assert buyer.external_id == "666497929466002"
    assert buyer.title == ("2025 Honda, Toyota, Ford, GMC, Chevy, Buying all cars trucks, SUVs · "
                           "Any condition wrecked non-runnin")
    assert buyer.location == "Irving, Texas"

    charger = listings[6]
    assert charger.external_id == "1168518461241305"
    assert charger.title == "2012 Dodge Charger · SXT Plus Sedan 4D"
    assert charger.location == "Fort Worth, Texas"

    assert listings[-1].external_id == "9130781616968355"
    assert listings[-1].title == "2013 Nissan Altima"


def test_route_definitions_with_loop_prefix(source: FacebookSource, read_fixture: Reader) -> None:
    result = source.parse(b"for (;;);" + read_fixture(ROUTES), ROUTES_URL)
    assert len(result.listings) == 15


def test_route_definitions_failed_routes_are_incomplete(source: FacebookSource,
                                                        read_fixture: Reader) -> None:
    doc = json.loads(read_fixture(ROUTES))
    payloads = doc["payload"]["payloads"]
    for key in list(payloads)[:2]:
        payloads[key] = {"error": True, "result": None}
    result = source.parse(json.dumps(doc).encode(), ROUTES_URL)
    assert (len(result.listings), result.incomplete) == (13, 2)


def test_route_definitions_without_listing_routes_is_drift(source: FacebookSource,
                                                           read_fixture: Reader) -> None:
    doc = json.loads(read_fixture(ROUTES))
    for route in doc["payload"]["payloads"].values():
        route["result"]["exports"]["tracePolicy"] = "comet.marketplace.search"
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps(doc).encode(), ROUTES_URL)


# --- search page (synthetic: no real capture with listings exists) -------------------------------

def _listing(listing_id: str, title: str, amount: str, formatted: str, *, sold: bool = False,
             city: str | None = "Brooklyn", state: str | None = "NY") -> dict[str, Any]:
    return {
        "__typename": "GroupCommerceProductItem", "id": listing_id,
        "marketplace_listing_title": title,
        "listing_price": {"formatted_amount": formatted, "amount": amount},
        "location": {"reverse_geocode": {"city": city, "state": state,
                                         "city_page": {"display_name": "Brooklyn, New York"}}},
        "primary_listing_photo": {"image": {"uri": f"https://scontent.example/{listing_id}.jpg"}},
        "is_sold": sold, "is_pending": False,
        "marketplace_listing_seller": {"__typename": "User", "name": "Test Seller"},
        "creation_time": 1767225600,
    }


def _edge(listing: dict[str, Any] | None) -> dict[str, Any]:
    node: dict[str, Any] = {"__typename": "MarketplaceFeedListingStoryObject"}
    if listing is not None:
        node["listing"] = listing
    else:
        node["__typename"] = "MarketplaceFeedAdStoryObject"
    return {"node": node, "cursor": "c"}


def _search_page(*edges: dict[str, Any], blobs: int = 1) -> bytes:
    """A clearly synthetic search page: the documented structure inside a Relay prefetch blob."""
    feed = {"data": {"marketplace_search": {"feed_units": {
        "edges": list(edges), "page_info": {"has_next_page": False, "end_cursor": None}}}}}
    blob = {"require": [["ScheduledServerJS", "handle", None, [{"__bbox": {"require": [
        ["RelayPrefetchedStreamCache", "next", [], ["adp_SYNTHETIC", {"__bbox": {
            "complete": True, "result": feed}}]]]}}]]]}
    scripts = "".join(
        f'<script type="application/json" data-sjs>{json.dumps(blob)}</script>'
        for _ in range(blobs))
    return (f'<!DOCTYPE html><html id="facebook"><head><title>Marketplace</title></head>'
            f'<body><div id="synthetic-test-page"></div>{scripts}</body></html>').encode()


SYNTHETIC = _search_page(
    _edge(_listing("100000000000001", "NVIDIA RTX 3090 Founders Edition", "750.00", "$750")),
    _edge(None),
    _edge(_listing("100000000000002", "EVGA RTX 3090 FTW3", "680", "$680", sold=True,
                   city=None, state=None)),
    _edge({"id": "100000000000003"}),
    _edge(_listing("100000000000004", "RTX 3090 FE (Canada)", "1,050.00", "CA$1,050")),
    blobs=2,
)


def test_synthetic_search_page_counts(source: FacebookSource) -> None:
    result = source.parse(SYNTHETIC, SEARCH_URL)
    # two identical blobs: listings are deduplicated, the ad and the broken edge count per blob
    assert len(result.listings) == 3
    assert (result.skipped, result.incomplete, result.empty, result.next_url) == (2, 2, False, None)


def test_synthetic_search_page_fields(source: FacebookSource) -> None:
    first, sold, canadian = source.parse(SYNTHETIC, SEARCH_URL).listings
    assert first.external_id == "100000000000001"
    assert first.url == "https://www.facebook.com/marketplace/item/100000000000001/"
    assert first.title == "NVIDIA RTX 3090 Founders Edition"
    assert (first.price, first.currency) == (Decimal("750.00"), "USD")
    assert first.location == "Brooklyn, NY"
    assert first.seller == "Test Seller"
    assert first.status == "active"
    assert first.posted_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert first.image_url == "https://scontent.example/100000000000001.jpg"
    assert first.images == ("https://scontent.example/100000000000001.jpg",)

    assert sold.external_id == "100000000000002"
    assert (sold.price, sold.status) == (Decimal("680.00"), "sold")
    assert sold.location == "Brooklyn, New York"  # city_page when reverse_geocode has no city

    assert (canadian.price, canadian.currency) == (Decimal("1050.00"), "CAD")


def test_synthetic_search_listing_urls_follow_the_page_host(source: FacebookSource) -> None:
    listing = source.parse(SYNTHETIC, "http://127.0.0.1:8123/marketplace/nyc/search/").listings[0]
    assert listing.url == "http://127.0.0.1:8123/marketplace/item/100000000000001/"


def test_synthetic_graphql_answer_with_loop_prefix(source: FacebookSource) -> None:
    body = json.dumps({"data": {"marketplace_search": {"feed_units": {"edges": [
        _edge(_listing("100000000000009", "RTX 3090", "700.00", "$700"))]}}}})
    result = source.parse(b"for (;;);" + body.encode(), "https://www.facebook.com/api/graphql/")
    assert [listing.external_id for listing in result.listings] == ["100000000000009"]


def test_synthetic_search_without_results_is_empty(source: FacebookSource) -> None:
    result = source.parse(_search_page(), SEARCH_URL)
    assert (result.listings, result.empty) == ((), True)


def test_search_feed_with_only_unreadable_entries_is_drift(source: FacebookSource) -> None:
    with pytest.raises(MarkupDrift):
        source.parse(_search_page(_edge({"id": "1"}), _edge(None)), SEARCH_URL)


def test_facebook_page_without_feed_is_drift(source: FacebookSource) -> None:
    with pytest.raises(MarkupDrift):
        source.parse(b'<html id="facebook"><body><div>Marketplace</div></body></html>', SEARCH_URL)


# --- foreign pages and sniffing ------------------------------------------------------------------

@pytest.mark.parametrize(("capture", "name"), [
    ("kijiji/search-next-data-2026-08.json", "Kijiji"),
    ("kleinanzeigen/search-2026-04.html", "Kleinanzeigen"),
])
def test_other_marketplaces_are_unsupported(source: FacebookSource, read_fixture: Reader,
                                            capture: str, name: str) -> None:
    with pytest.raises(UnsupportedPage, match=name) as caught:
        source.parse(read_fixture(capture), "https://example.org/")
    assert caught.value.reason == name


def test_craigslist_page_is_unsupported(source: FacebookSource, read_fixture: Reader) -> None:
    with pytest.raises(UnsupportedPage):
        source.parse(read_fixture("craigslist/search-static-2026-05.html"),
                     "https://milwaukee.craigslist.org/search/apa")


@pytest.mark.parametrize("capture", [LOGIN_WALL, ROUTES])
def test_sniff_own_captures(read_fixture: Reader, capture: str) -> None:
    assert FacebookSource.sniff(read_fixture(capture))


def test_sniff_synthetic_search_page() -> None:
    assert FacebookSource.sniff(SYNTHETIC)


@pytest.mark.parametrize("capture", OTHER_CAPTURES)
def test_sniff_rejects_other_captures(read_fixture: Reader, capture: str) -> None:
    assert not FacebookSource.sniff(read_fixture(capture))


# --- robustness ----------------------------------------------------------------------------------

_URLS = st.sampled_from([SEARCH_URL, ITEM_URL, ROUTES_URL, "https://www.facebook.com/login/",
                         "https://example.org/", "", "::"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["id", "marketplace_listing_title", "listing_price", "amount",
                         "formatted_amount", "currency", "location", "reverse_geocode", "city",
                         "state", "is_sold", "creation_time", "primary_listing_photo", "image",
                         "uri", "marketplace_listing_seller", "name"]) | st.text(max_size=6),
        inner, max_size=5),
    max_leaves=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=3000), url=_URLS)
def test_arbitrary_bytes_raise_only_scrape_errors(body: bytes, url: str) -> None:
    FacebookSource.sniff(body, url)
    with contextlib.suppress(ScrapeError):
        FacebookSource().parse(body, url)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(listings=st.lists(_JSON, max_size=5), routes=_JSON, url=_URLS,
       prefix=st.sampled_from(["", "for (;;);"]))
def test_arbitrary_feed_structures_raise_only_scrape_errors(listings: list[Any], routes: Any,
                                                            url: str, prefix: str) -> None:
    feed = {"data": {"marketplace_search": {"feed_units": {"edges": [
        {"node": {"listing": listing}} for listing in listings]}}}}
    for doc in (feed, {"payload": {"payloads": {"/x": {"error": False, "result": {
            "type": "route_definition", "exports": routes, "route_match_infos": routes}}}}}):
        with contextlib.suppress(ScrapeError):
            FacebookSource().parse((prefix + json.dumps(doc)).encode(), url)
