"""eBay requests and the Browse API: search URLs, API bodies, getItem and the OAuth token."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from gpuscout.scraper.errors import Blocked, HttpStatusError, MarkupDrift, RateLimited, UnsupportedPage
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources.base import ParseResult, SearchSpec
from gpuscout.scraper.sources.ebay.api import parse_token_response
from gpuscout.scraper.sources.ebay.source import EbaySource
from tests.support.pages import by_id

Reader = Callable[[str], bytes]

API_URL = "https://api.ebay.com/buy/browse/v1/item_summary/search?q=rtx&limit=200"
CREDENTIALS = {"client_id": "app-id-123", "client_secret": "cert-secret-456"}


@pytest.fixture(scope="module")
def source() -> EbaySource:
    return EbaySource()


# ---- search bodies -----------------------------------------------------------------------------


def test_bare_array_4090(source: EbaySource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture("ebay-api/search-rtx-4090-2023-12.json"), API_URL)
    # 101 summaries, three of them repeated (134840031868, 395031605280, 256327612221)
    assert (len(result.listings), result.skipped, result.incomplete) == (98, 3, 0)
    assert result.next_url is None
    listings = by_id(result)
    assert listings["235331379921"] == RawListing(
        source="ebay", external_id="235331379921", url="https://www.ebay.com/itm/235331379921",
        title="NVIDIA GeForce RTX 4090 FE Founders Edition NEW & SEALED",
        price=Decimal("2299.90"), shipping=Decimal("0.00"), currency="USD",
        location="180**, US", posted_at=datetime(2023, 12, 5, 21, 49, 57, tzinfo=UTC),
        seller="redacted-3973966360894429.5", seller_feedback=226, seller_positive_pct=100.0,
        condition="New", buying_format="fixed",
        image_url="https://i.ebayimg.com/thumbs/images/g/KXwAAOSwYMtlb5rG/s-l225.jpg",
        images=("https://i.ebayimg.com/thumbs/images/g/KXwAAOSwYMtlb5rG/s-l225.jpg",),
    )


def test_bare_array_4090_formats_conditions_shipping(source: EbaySource,
                                                     read_fixture: Reader) -> None:
    listings = by_id(source.parse(read_fixture("ebay-api/search-rtx-4090-2023-12.json"), API_URL))
    hof = listings["335146777875"]
    assert hof.title == "Galaxy Geforce RTX 4090 HOF OC LAB PLUS 24GB HALL OF FAME Graphics card"
    assert (hof.price, hof.condition, hof.buying_format) == (
        Decimal("1600.00"), "For parts or not working", "best_offer")
    assert (hof.seller_feedback, hof.seller_positive_pct) == (857, 98.1)
    assert len(hof.images) == 5
    founders = listings["335151947401"]
    assert (founders.price, founders.shipping) == (Decimal("2000.00"), Decimal("35.00"))
    calculated = listings["325912985506"]  # shippingCostType CALCULATED, no amount
    assert (calculated.price, calculated.shipping) == (Decimal("199.00"), None)
    assert calculated.location == "840**, US"


def test_bare_array_5090(source: EbaySource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture("ebay-api/search-rtx-5090-2025-10.json"), API_URL)
    assert (len(result.listings), result.skipped) == (101, 0)
    listings = by_id(result)
    first = listings["286649577908"]
    assert first.title == (
        "NVIDIA GeForce RTX 5090 32GB Founders Edition Graphics Card - BRAND NEW SEALED")
    assert (first.price, first.shipping, first.buying_format) == (
        Decimal("2577.77"), Decimal("0.00"), "best_offer")
    assert first.posted_at == datetime(2025, 6, 14, 0, 26, 52, tzinfo=UTC)
    open_box = listings["257157026532"]
    assert (open_box.condition, open_box.price) == ("Open box", Decimal("2698.71"))
    assert (open_box.seller_feedback, open_box.seller_positive_pct) == (65371, 99.2)
    assert listings["116493600114"].location == "CN"


def test_envelope_and_next_url(source: EbaySource, read_fixture: Reader) -> None:
    body = read_fixture("ebay-api/search-envelope-rtx-a5000-2023-11.json")
    result = source.parse(body, API_URL)
    assert len(result.listings) == 3
    assert result.next_url == ("https://api.ebay.com/buy/browse/v1/item_summary/search"
                               "?q=NVIDIA+RTX+A5000&limit=3&offset=3")
    local = source.parse(body, "http://127.0.0.1:8181/buy/browse/v1/item_summary/search?q=a")
    assert local.next_url == ("http://127.0.0.1:8181/buy/browse/v1/item_summary/search"
                              "?q=NVIDIA+RTX+A5000&limit=3&offset=3")
    listings = by_id(result)
    a5000 = listings["296057072805"]
    assert (a5000.title, a5000.price, a5000.condition) == (
        "NVIDIA RTX A5000 24GB GDDR6 Graphics Card", Decimal("1500.00"), "Used")
    assert (a5000.location, a5000.buying_format, a5000.shipping) == (
        "AE", "best_offer", Decimal("0.00"))
    pny = listings["176033835717"]
    assert (pny.price, pny.shipping, pny.location, pny.seller_feedback) == (
        Decimal("1370.00"), Decimal("198.00"), "IL", 245)
    bridge = listings["353853667734"]
    assert (bridge.price, bridge.buying_format, bridge.seller_feedback) == (
        Decimal("211.99"), "fixed", 17433)


def test_getitem(source: EbaySource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture("ebay-api/getitem-296057072805-2023-11.json"),
                          "https://api.ebay.com/buy/browse/v1/item/v1%7C296057072805%7C0")
    assert len(result.listings) == 1
    item = result.listings[0]
    assert item.external_id == "296057072805"
    assert item.url == "https://www.ebay.com/itm/296057072805"
    assert (item.price, item.currency, item.shipping) == (Decimal("1500.00"), "USD", Decimal(0))
    assert item.location == "dubai, AE"
    assert item.posted_at == datetime(2023, 11, 19, 10, 34, 52, tzinfo=UTC)
    assert (item.seller, item.seller_feedback) == ("scrambled-2023-11-21-20_18_27", 6)
    assert item.buying_format == "best_offer"
    assert len(item.images) == 8
    assert item.image_url == "https://i.ebayimg.com/images/g/nIQAAOSwWqNk9uTr/s-l1600.jpg"
    assert item.description is not None
    lines = item.description.splitlines()
    assert lines[1] == "Barely Used for 2 months Ai Project"
    assert "Serious offers please" in lines
    assert lines[-1] == "Condition notes: Barely used few months No scratches or Damages."


def test_auction_summary(source: EbaySource) -> None:
    summary = {"itemId": "v1|123456789012|0", "title": "RTX 3090 Founders Edition",
               "currentBidPrice": {"value": "610.00", "currency": "USD"}, "bidCount": 7,
               "buyingOptions": ["AUCTION"], "itemWebUrl": "https://www.ebay.com/itm/123456789012"}
    result = source.parse(json.dumps({"total": 1, "href": API_URL, "itemSummaries": [summary]})
                          .encode(), API_URL)
    listing = result.listings[0]
    assert (listing.buying_format, listing.bids, listing.price) == ("auction", 7, Decimal("610"))
    assert listing.ends_at is None


def test_auction_end_and_buy_it_now(source: EbaySource) -> None:
    auction = {"itemId": "v1|123456789012|0", "title": "RTX 3090 Founders Edition",
               "currentBidPrice": {"value": "255.00", "currency": "USD"}, "bidCount": 7,
               "buyingOptions": ["AUCTION"], "itemEndDate": "2025-06-03T16:00:00.000Z"}
    # NOTE: an auction that still offers Buy It Now carries the BIN as its price
    with_bin = {"itemId": "v1|123456789013|0", "title": "NVIDIA Tesla V100 32GB",
                "price": {"value": "2600.00", "currency": "USD"},
                "currentBidPrice": {"value": "2383.00", "currency": "USD"}, "bidCount": 0,
                "buyingOptions": ["AUCTION", "FIXED_PRICE"],
                "itemEndDate": "2025-06-05T08:30:00.000Z"}
    body = json.dumps({"total": 2, "href": API_URL, "itemSummaries": [auction, with_bin]})
    first, second = source.parse(body.encode(), API_URL).listings
    assert (first.buying_format, first.bids, first.price, first.ends_at) == (
        "auction", 7, Decimal("255.00"), datetime(2025, 6, 3, 16, tzinfo=UTC))
    assert (second.buying_format, second.bids, second.price, second.ends_at) == (
        "fixed", 0, Decimal("2600.00"), datetime(2025, 6, 5, 8, 30, tzinfo=UTC))


def test_empty_and_error_bodies(source: EbaySource) -> None:
    empty = json.dumps({"href": API_URL, "total": 0, "limit": 200, "offset": 0}).encode()
    assert source.parse(empty, API_URL) == ParseResult(listings=(), empty=True)
    bad_token = json.dumps({"errors": [{"errorId": 1001, "domain": "OAuth",
                                        "message": "Invalid access token"}]}).encode()
    with pytest.raises(Blocked) as caught:
        source.parse(bad_token, API_URL)
    assert caught.value.reason == "login"
    with pytest.raises(UnsupportedPage):
        source.parse(b'{"kind": "Listing", "data": {}}', API_URL)
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps([{"itemId": "v1|1234567|0"}] * 3).encode(), API_URL)


# ---- search URLs and headers (site search, then the API) ----------------------------------


def test_search_url_html() -> None:
    spec = SearchSpec(query="rtx 3090 founders edition", base_url="https://www.ebay.com",
                      min_price=650, max_price=800)
    assert EbaySource().search_url(spec) == (
        "https://www.ebay.com/sch/i.html?_nkw=rtx+3090+founders+edition&_sacat=0&_udlo=650"
        "&_udhi=800&_ipg=240&_sop=10&rt=nc")


def test_search_url_sold_on_configured_base() -> None:
    spec = SearchSpec(query="rtx 3090", base_url="http://127.0.0.1:9000/",
                      options={"sold": "true"})
    assert EbaySource().search_url(spec) == (
        "http://127.0.0.1:9000/sch/i.html?_nkw=rtx+3090&_sacat=0&_ipg=240&LH_Sold=1"
        "&LH_Complete=1&rt=nc")


def test_html_request_headers() -> None:
    headers = EbaySource().request_headers(SearchSpec(query="x", base_url="https://www.ebay.com"))
    assert headers["Accept"].startswith("text/html")


def test_search_url_api() -> None:
    spec = SearchSpec(query="rtx 3090 founders edition", base_url="https://www.ebay.com",
                      min_price=650, max_price=800, credentials=CREDENTIALS)
    assert EbaySource().search_url(spec) == (
        "https://api.ebay.com/buy/browse/v1/item_summary/search?q=rtx+3090+founders+edition"
        "&limit=200&sort=newlyListed&filter=price:[650..800],priceCurrency:USD")


def test_search_url_api_on_configured_base_open_bounds() -> None:
    spec = SearchSpec(query="rtx 3090", base_url="https://www.ebay.com", min_price=650,
                      options={"api_base_url": "http://127.0.0.1:8181/"},
                      credentials=CREDENTIALS)
    assert EbaySource().search_url(spec) == (
        "http://127.0.0.1:8181/buy/browse/v1/item_summary/search?q=rtx+3090&limit=200"
        "&sort=newlyListed&filter=price:[650..],priceCurrency:USD")
    unbounded = SearchSpec(query="rtx 3090", base_url="https://www.ebay.com",
                           credentials=CREDENTIALS, options={"sort": ""})
    assert EbaySource().search_url(unbounded) == (
        "https://api.ebay.com/buy/browse/v1/item_summary/search?q=rtx+3090&limit=200")


def test_api_request_headers() -> None:
    spec = SearchSpec(query="x", base_url="https://www.ebay.com", credentials=CREDENTIALS)
    assert EbaySource().request_headers(spec)["Accept"] == "application/json"


# ---- OAuth client-credentials token ------------------------------------------------------------


def test_prepare_fetches_application_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "v^1.1#i^1#TOKEN", "expires_in": 7200,
                                         "token_type": "Application Access Token"})

    spec = SearchSpec(query="x", base_url="https://www.ebay.com", credentials=CREDENTIALS,
                      options={"api_base_url": "https://api.sandbox.ebay.com",
                               "marketplace": "EBAY_GB"})

    async def run() -> dict[str, str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await EbaySource().prepare(client, spec)

    headers = asyncio.run(run())
    assert headers == {"Authorization": "Bearer v^1.1#i^1#TOKEN",
                       "X-EBAY-C-MARKETPLACE-ID": "EBAY_GB"}
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.sandbox.ebay.com/identity/v1/oauth2/token"
    expected = base64.b64encode(b"app-id-123:cert-secret-456").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["client_credentials"], "scope": ["https://api.ebay.com/oauth/api_scope"]}


def test_prepare_without_credentials_does_nothing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    async def run() -> dict[str, str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await EbaySource().prepare(
                client, SearchSpec(query="x", base_url="https://www.ebay.com"))

    assert asyncio.run(run()) == {}


def test_prepare_refused_credentials_are_blocked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client",
                                         "error_description": "client authentication failed"})

    async def run() -> dict[str, str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await EbaySource().prepare(
                client, SearchSpec(query="x", base_url="https://www.ebay.com",
                                   credentials=CREDENTIALS))

    with pytest.raises(Blocked) as caught:
        asyncio.run(run())
    assert caught.value.reason == "oauth-unauthorized"
    assert "check GPUSCOUT_EBAY_CLIENT_ID and GPUSCOUT_EBAY_CLIENT_SECRET" in str(caught.value)


def test_parse_token_response() -> None:
    token = parse_token_response(
        b'{"access_token": "abc", "expires_in": 7200, "token_type": "Application Access Token"}',
        200)
    assert (token.access_token, token.expires_in, token.token_type) == (
        "abc", 7200, "Application Access Token")
    with pytest.raises(RateLimited):
        parse_token_response(b"", 429)
    with pytest.raises(HttpStatusError) as caught:
        parse_token_response(b"<html>upstream error</html>", 503)
    assert caught.value.status == 503
    with pytest.raises(Blocked):
        parse_token_response(b'{"error": "invalid_scope"}', 400)
