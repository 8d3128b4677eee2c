"""The sanctioned routes end to end over HTTP: Reddit's Data API and eBay's Browse API, each with its
OAuth token endpoint, served by a local marketplace at the paths the real APIs use."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from gpuscout.jobs.testing.localmarket import LocalMarket, Request
from gpuscout.scraper.crawl import PageOutcome, crawl
from gpuscout.scraper.fetch.client import Fetcher, FetchMemory, FetchSettings
from gpuscout.scraper.sources.base import SearchSpec
from gpuscout.scraper.sources.ebay.source import EbaySource
from gpuscout.scraper.sources.reddit.source import RedditSource
from tests.support.pages import read_page

pytestmark = pytest.mark.anyio

REDDIT_APP = {"client_id": "app-id", "client_secret": "app-secret"}
EBAY_KEYS = {"client_id": "Example-App-PRD", "client_secret": "PRD-cert"}
JSON = "application/json"
EMPTY = '{"kind": "Listing", "data": {"after": null, "children": []}}'


@pytest.fixture
def market() -> Iterator[LocalMarket]:
    with LocalMarket() as server:
        # NOTE: an API host's robots.txt is not consulted; one that forbids all proves it
        server.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
        yield server


def token_route(market: LocalMarket, path: str, prefix: str, lifetime: int) -> list[str]:
    """A token endpoint that issues ``<prefix>1``, ``<prefix>2``, …; returns the issued list."""
    issued: list[str] = []

    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        issued.append(f"{prefix}{len(issued) + 1}")
        body = {"access_token": issued[-1], "token_type": "bearer", "expires_in": lifetime}
        return 200, {"Content-Type": JSON}, json.dumps(body).encode()

    market.serve(path, answer)
    return issued


def fetcher(memory: FetchMemory | None = None) -> Fetcher:
    return Fetcher(FetchSettings(min_interval=0, jitter=0, max_retries=0, timeout=5),
                   memory=memory)


async def pages(source: RedditSource | EbaySource, spec: SearchSpec,
                memory: FetchMemory | None = None) -> list[PageOutcome]:
    async with fetcher(memory) as f:
        return [page async for page in crawl(f, source, spec)]


def reddit_spec(base: str, query: str = "3090") -> SearchSpec:
    return SearchSpec(query=query, base_url="https://www.reddit.com", max_pages=2,
                      options={"oauth_base_url": base, "auth_base_url": base},
                      credentials={**REDDIT_APP, "username": "gpu_buyer"})


async def test_reddit_polls_new_on_the_api_with_an_app_token(market: LocalMarket) -> None:
    issued = token_route(market, "/api/v1/access_token", "rtok", 86400)
    market.add("/r/hardwareswap/new", read_page("reddit/hardwareswap-new.json"),
               content_type=JSON, headers={"X-Ratelimit-Used": "1", "X-Ratelimit-Remaining": "995",
                                           "X-Ratelimit-Reset": "50"})
    market.add("/r/hardwareswap/new", EMPTY, content_type=JSON, query={"after": "t3_ex0007"})
    outcomes = await pages(RedditSource(), reddit_spec(market.url))
    assert [o.outcome for o in outcomes] == ["ok", "empty"]
    first = outcomes[0].result
    assert first is not None
    # every post whose title or body says 3090 (the query); the 3080 one is unmatched, the
    # sticky and the removed post skipped
    assert [listing.external_id for listing in first.listings] == [
        "ex0001", "ex0002", "ex0003", "ex0005", "ex0006"]
    assert (first.unmatched, first.skipped) == (1, 2)
    assert issued == ["rtok1"]
    token_request, *api = market.requests
    assert (token_request.method, token_request.path) == ("POST", "/api/v1/access_token")
    assert token_request.headers["authorization"] == \
        "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    assert parse_qs(token_request.body.decode()) == {"grant_type": ["client_credentials"]}
    assert [(r.method, r.path, r.query) for r in api] == [
        ("GET", "/r/hardwareswap/new", {"limit": "100", "raw_json": "1"}),
        ("GET", "/r/hardwareswap/new", {"limit": "100", "raw_json": "1", "after": "t3_ex0007"})]
    for request in api:
        assert request.headers["authorization"] == "bearer rtok1"
        assert request.headers["user-agent"].startswith("python:gpuscout:")
        assert request.headers["user-agent"].endswith(" (by /u/gpu_buyer)")
    assert all(r.path != "/robots.txt" for r in market.requests)


async def test_reddit_token_is_reused_across_scans_and_renewed_after_a_401(
        market: LocalMarket) -> None:
    issued = token_route(market, "/api/v1/access_token", "rtok", 86400)
    market.add("/r/hardwareswap/new", read_page("reddit/hardwareswap-new.json"),
               content_type=JSON)
    market.add("/r/hardwareswap/new", EMPTY, content_type=JSON, query={"after": "t3_ex0007"})
    memory = FetchMemory()
    spec = reddit_spec(market.url)
    for _scan in range(3):
        assert (await pages(RedditSource(), spec, memory))[0].outcome == "ok"
    assert issued == ["rtok1"]
    # Reddit revoked the token: one 401, a new token, the page again
    market.add("/r/hardwareswap/new", '{"message": "Unauthorized", "error": 401}', status=401,
               content_type=JSON, times=1)
    outcomes = await pages(RedditSource(), spec, memory)
    assert outcomes[0].outcome == "ok" and issued == ["rtok1", "rtok2"]
    tokens_used = [r.headers.get("authorization") for r in market.requests
                   if r.path == "/r/hardwareswap/new"]
    assert tokens_used[-3:] == ["bearer rtok1", "bearer rtok2", "bearer rtok2"]


async def test_reddit_without_an_app_is_blocked_before_any_request(market: LocalMarket) -> None:
    spec = SearchSpec(query="3090", base_url="https://www.reddit.com",
                      options={"oauth_base_url": market.url, "auth_base_url": market.url})
    (outcome,) = await pages(RedditSource(), spec)
    assert (outcome.outcome, outcome.reason) == ("blocked", "no-credentials")
    assert outcome.error is not None and "GPUSCOUT_REDDIT_CLIENT_ID" in outcome.error
    assert market.requests == []


async def test_reddit_refused_credentials_say_which_variables_to_check(
        market: LocalMarket) -> None:
    market.add("/api/v1/access_token", '{"message": "Unauthorized", "error": 401}', status=401,
               content_type=JSON)
    (outcome,) = await pages(RedditSource(), reddit_spec(market.url))
    assert (outcome.outcome, outcome.reason) == ("blocked", "oauth-unauthorized")
    assert "check GPUSCOUT_REDDIT_CLIENT_ID and GPUSCOUT_REDDIT_CLIENT_SECRET" in (
        outcome.error or "")


def ebay_spec(base: str) -> SearchSpec:
    return SearchSpec(query="rtx 3090 founders edition", base_url="https://www.ebay.com",
                      max_pages=2, options={"api_base_url": base, "marketplace": "EBAY_US"},
                      credentials=EBAY_KEYS)


async def test_ebay_browse_api_newest_first_with_a_cached_application_token(
        market: LocalMarket) -> None:
    issued = token_route(market, "/identity/v1/oauth2/token", "etok", 7200)
    market.add("/buy/browse/v1/item_summary/search", read_page("ebay-api/search-envelope.json"),
               content_type=JSON)
    market.add("/buy/browse/v1/item_summary/search", '{"href": "x", "total": 2}',
               content_type=JSON, query={"offset": "2"})
    memory = FetchMemory()
    outcomes = await pages(EbaySource(), ebay_spec(market.url), memory)
    await pages(EbaySource(), ebay_spec(market.url), memory)  # a second scan: same token
    assert [o.outcome for o in outcomes] == ["ok", "empty"]
    first = outcomes[0].result
    assert first is not None
    assert [listing.external_id for listing in first.listings] == ["500000000011", "500000000012"]
    assert first.oldest_posted is not None and first.oldest_posted.isoformat() == \
        "2025-11-01T10:00:00+00:00"
    assert issued == ["etok1"]
    token_request = market.requests[0]
    assert (token_request.method, token_request.path) == ("POST", "/identity/v1/oauth2/token")
    assert token_request.headers["authorization"] == \
        "Basic " + base64.b64encode(b"Example-App-PRD:PRD-cert").decode()
    assert parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"], "scope": ["https://api.ebay.com/oauth/api_scope"]}
    search = [r for r in market.requests if r.path.endswith("/item_summary/search")]
    assert search[0].query == {"q": "rtx 3090 founders edition", "limit": "200",
                               "sort": "newlyListed"}
    for request in search:
        assert request.headers["authorization"] == "Bearer etok1"
        assert request.headers["x-ebay-c-marketplace-id"] == "EBAY_US"
    assert all(r.path != "/robots.txt" for r in market.requests)


async def test_ebay_expired_token_is_renewed_once(market: LocalMarket) -> None:
    issued = token_route(market, "/identity/v1/oauth2/token", "etok", 7200)
    market.add("/buy/browse/v1/item_summary/search", read_page("ebay-api/search.json"),
               content_type=JSON)
    market.add("/buy/browse/v1/item_summary/search",
               '{"errors": [{"errorId": 1001, "message": "Invalid access token"}]}', status=401,
               content_type=JSON, times=1)
    outcomes = await pages(EbaySource(), ebay_spec(market.url), FetchMemory())
    assert outcomes[0].outcome == "ok" and issued == ["etok1", "etok2"]


async def test_a_second_401_after_renewal_is_reported(market: LocalMarket) -> None:
    token_route(market, "/identity/v1/oauth2/token", "etok", 7200)
    market.add("/buy/browse/v1/item_summary/search",
               '{"errors": [{"errorId": 1001, "message": "Invalid access token"}]}', status=401,
               content_type=JSON)
    (outcome,) = await pages(EbaySource(), ebay_spec(market.url))
    assert (outcome.outcome, outcome.status) == ("error", 401)
    searches = [r for r in market.requests if r.path.endswith("/item_summary/search")]
    assert len(searches) == 2  # the page, then once more with a new token
