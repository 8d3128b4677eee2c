"""fetch_page outcomes (with saved bodies) and crawl pagination, with small fake sources."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from gpuscout.scraper.crawl import SMALL_PAGE_BYTES, PageOutcome, bot_check_marker, crawl, fetch_page
from gpuscout.scraper.errors import Blocked, FetchError, MarkupDrift, UnsupportedPage
from gpuscout.scraper.fetch.client import Fetcher, FetchSettings
from gpuscout.scraper.fetch.memory import TokenCache
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources.base import ParseResult, SearchSpec, Source
from gpuscout.scraper.sources.ebay.source import EbaySource
from tests.support.fake_time import FakeTime
from tests.support.pages import read_page

pytestmark = pytest.mark.anyio

BASE = "https://fake.example"
STAMP = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)





def listing(n: int) -> RawListing:
    return RawListing(source="fake", external_id=str(n), url=f"{BASE}/item/{n}",
                      title=f"RTX 3090 Founders Edition #{n}", price=Decimal("700") + n)


Parse = Callable[[bytes, str], ParseResult]


class FakeSource(Source):
    """Parses whatever ``parse_fn`` says; counts its calls."""

    name = "fake"
    default_base_url = BASE

    def __init__(self, parse_fn: Parse, prepare_headers: dict[str, str] | None = None,
                 prepare_error: Exception | None = None) -> None:
        self.parse_fn = parse_fn
        self.calls = 0
        self.prepared: list[httpx.AsyncClient] = []
        self.prepare_headers = prepare_headers or {}
        self.prepare_error = prepare_error

    def search_url(self, spec: SearchSpec) -> str:
        return f"{spec.base_url}/search?q={spec.query}"

    def request_headers(self, spec: SearchSpec) -> dict[str, str]:
        return {"Accept": "text/html", "X-Fake": "1"}

    async def prepare(self, client: httpx.AsyncClient, spec: SearchSpec,
                      tokens: TokenCache | None = None, *, renew: bool = False) -> dict[str, str]:
        self.prepared.append(client)
        if self.prepare_error is not None:
            raise self.prepare_error
        return self.prepare_headers

    def parse(self, body: bytes, url: str) -> ParseResult:
        self.calls += 1
        return self.parse_fn(body, url)

    @classmethod
    def sniff(cls, body: bytes, url: str | None = None) -> bool:
        return url is not None and url.startswith(BASE)


def listings_parser(count: int = 3, **extra: int) -> Parse:
    def parse(body: bytes, url: str) -> ParseResult:
        return ParseResult(tuple(listing(n) for n in range(count)), **extra)  # type: ignore[arg-type]
    return parse


def raising(exc: Exception) -> Parse:
    def parse(body: bytes, url: str) -> ParseResult:
        raise exc
    return parse


class Site:
    """Pages by path and query; robots.txt answers 404; every request recorded."""

    def __init__(self, pages: dict[str, httpx.Response]) -> None:
        self.pages = pages
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        self.requests.append(request)
        key = request.url.raw_path.decode()
        return self.pages.get(key, httpx.Response(404, text="not found"))


def html(text: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, text=text, headers={"Content-Type": "text/html", **headers})


RESULTS_PAGE = "<html><body>" + "<li class=card>RTX 3090</li>" * 2000 + "</body></html>"


def make_fetcher(site: Site, **settings: object) -> Fetcher:
    time = FakeTime()
    return Fetcher(FetchSettings(jitter=0.0, max_retries=1, **settings),  # type: ignore[arg-type]
                   transport=httpx.MockTransport(site), clock=time.clock, sleep=time.sleep,
                   rng=random.Random(1))


async def one(source: FakeSource, response: httpx.Response, tmp_path: Path | None,
              **settings: object) -> PageOutcome:
    site = Site({"/search?q=3090": response})
    async with make_fetcher(site, **settings) as fetcher:
        return await fetch_page(fetcher, source, f"{BASE}/search?q=3090", {"X-Test": "1"},
                                save_dir=tmp_path, now=lambda: STAMP)


def saved_name(outcome: str, body: bytes, suffix: str = "html") -> str:
    return f"20250102T030405Z-{outcome}-{hashlib.sha1(body).hexdigest()[:8]}.{suffix}"


# -- fetch_page ---------------------------------------------------------------------------------


async def test_ok(tmp_path: Path) -> None:
    outcome = await one(FakeSource(listings_parser(3)), html(RESULTS_PAGE), tmp_path)
    assert outcome.outcome == "ok" and outcome.status == 200
    assert outcome.result is not None
    assert [x.external_id for x in outcome.result.listings] == ["0", "1", "2"]
    assert outcome.result.listings[2].price == Decimal("702")
    assert outcome.error is None and outcome.saved_path is None
    assert list(tmp_path.iterdir()) == []


async def test_empty_and_only_skipped(tmp_path: Path) -> None:
    empty = await one(FakeSource(listings_parser(0, empty=1)), html(RESULTS_PAGE), tmp_path)
    assert empty.outcome == "empty" and empty.result is not None and empty.result.empty
    skipped = await one(FakeSource(listings_parser(0, skipped=2)), html(RESULTS_PAGE), tmp_path)
    assert skipped.outcome == "empty"


async def test_not_modified_is_ok_without_a_result(tmp_path: Path) -> None:
    source = FakeSource(listings_parser(3))
    outcome = await one(source, httpx.Response(304), tmp_path)
    assert (outcome.outcome, outcome.result, outcome.not_modified, outcome.status) == (
        "ok", None, True, 304)
    assert source.calls == 0


async def test_403_is_blocked_and_its_body_saved(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    body = b"<html><h1>Access Denied</h1>Reference #18.3c</html>"
    outcome = await one(FakeSource(listings_parser()), httpx.Response(
        403, content=body, headers={"Content-Type": "text/html"}), tmp_path)
    assert (outcome.outcome, outcome.reason, outcome.status) == ("blocked", "forbidden", 403)
    assert outcome.saved_path == tmp_path / "fake" / saved_name("blocked", body)
    assert outcome.saved_path.read_bytes() == body
    assert f"body saved to {outcome.saved_path}" in caplog.text


async def test_saved_pages_are_the_owners_alone(tmp_path: Path) -> None:
    """A blocked or drifted page may echo session cookies: 0600 in a 0700 folder, even where the
    folder (or the very file) was made earlier with looser modes, and whatever the umask."""
    data = tmp_path / "data"
    body = b"<html><h1>Access Denied</h1>Set-Cookie: session=s3cr3t</html>"
    old_umask = os.umask(0o002)
    try:
        first = await one(FakeSource(listings_parser()), httpx.Response(403, content=body),
                          data / "new")
        (data / "old" / "fake").mkdir(parents=True, mode=0o777)
        (data / "old").chmod(0o755)
        (data / "old" / "fake").chmod(0o777)
        stale = data / "old" / "fake" / saved_name("blocked", body)
        stale.write_bytes(b"an earlier save")
        stale.chmod(0o644)
        again = await one(FakeSource(listings_parser()), httpx.Response(403, content=body),
                          data / "old")
        drift = await one(FakeSource(raising(MarkupDrift("x"))), html(RESULTS_PAGE), data / "new")
    finally:
        os.umask(old_umask)
    for outcome in (first, again, drift):
        assert outcome.saved_path is not None and outcome.saved_path.exists()
        assert stat.S_IMODE(outcome.saved_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(outcome.saved_path.parent.stat().st_mode) == 0o700
    assert again.saved_path == stale and stale.read_bytes() == body
    # the data folder is 0700 when gpuscout makes it; one the user made is theirs to set
    assert stat.S_IMODE((data / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "old").stat().st_mode) == 0o755


async def test_redirect_to_login_is_blocked(tmp_path: Path) -> None:
    outcome = await one(FakeSource(listings_parser()), httpx.Response(
        302, headers={"Location": "https://fake.example/login/?next=/search"}), tmp_path)
    assert (outcome.outcome, outcome.reason, outcome.saved_path) == ("blocked", "login", None)
    assert "redirected to a login page" in (outcome.error or "")


async def test_parser_blocked_is_blocked_and_saved(tmp_path: Path) -> None:
    source = FakeSource(raising(Blocked("log in to see Marketplace", reason="login")))
    outcome = await one(source, html(RESULTS_PAGE), tmp_path)
    assert (outcome.outcome, outcome.reason) == ("blocked", "login")
    assert outcome.saved_path is not None and outcome.saved_path.name.startswith(
        "20250102T030405Z-blocked-")


async def test_small_bot_check_page_is_blocked_before_parsing(tmp_path: Path) -> None:
    body = ("<html><head><title>Pardon Our Interruption</title></head><body>As you were "
            "browsing something about your browser made us think you were a bot.</body></html>")
    source = FakeSource(listings_parser(3))
    outcome = await one(source, html(body), tmp_path)
    assert (outcome.outcome, outcome.reason, outcome.status) == ("blocked", "bot-check", 200)
    assert "'pardon our interruption'" in (outcome.error or "")
    assert source.calls == 0
    assert outcome.saved_path == tmp_path / "fake" / saved_name("blocked", body.encode())


@pytest.mark.parametrize(
    ("body", "marker"),
    [
        ('<div class="g-recaptcha" data-sitekey="x"></div>', "g-recaptcha"),
        ('<div id="px-captcha"></div>', "px-captcha"),
        ('<div id="cf-chl-widget-a1b2c"></div>', "cf-chl"),
        ("<script>(function(){window._cf_chl_opt={cvId: '3'};}());</script>", "cf_chl"),
        ("<p>Please verify you are a human</p>", "verify you are a human"),
        ("<H1>Access Denied</H1>You don't have permission", "access denied"),
        ("<p>Enter the CAPTCHA below</p>", "captcha"),
        ("<p>RTX 3090 Founders Edition</p>", None),
    ],
)
def test_bot_check_markers(body: str, marker: str | None) -> None:
    assert bot_check_marker(body.encode(), "text/html") == marker


def test_bot_check_ignores_json() -> None:
    assert bot_check_marker(b'{"title": "captcha"}', "application/json") is None
    assert bot_check_marker(b'[{"title": "captcha"}]', "") is None


def _padded(body: bytes, script: bytes) -> bytes:
    """``body`` with a large inline script in its head (as real pages carry), past SMALL_PAGE_BYTES."""
    filler = b"/* " + b"x" * (SMALL_PAGE_BYTES + 1024) + b" */"
    return body.replace(b"</head>", b"<script>" + script + filler + b"</script></head>", 1)


async def test_large_results_page_mentioning_captcha_is_not_blocked(tmp_path: Path) -> None:
    # eBay lists captcha vendors among its scripts on every results page
    body = _padded(read_page("ebay/search-scard-us.html"),
                   b'window.vendors = ["arkose_captcha", "google_recaptcha"];')
    assert bot_check_marker(body, "text/html") == "captcha"
    assert len(body) > SMALL_PAGE_BYTES
    outcome = await one_on(EbaySource(), body, tmp_path)
    assert outcome.outcome == "ok"
    assert outcome.result is not None and len(outcome.result.listings) == 5


async def test_large_marker_page_without_results_markup_is_blocked_own_page(tmp_path: Path) -> None:
    body = _padded(read_page("facebook/item-login-wall.html"), b'require("ExampleCaptchaModule");')
    assert len(body) > SMALL_PAGE_BYTES
    source = FakeSource(raising(MarkupDrift("no listing cards")))
    outcome = await one(source, httpx.Response(200, content=body,
                                               headers={"Content-Type": "text/html"}), tmp_path)
    assert (outcome.outcome, outcome.reason) == ("blocked", "bot-check")
    assert source.calls == 1
    assert outcome.saved_path == tmp_path / "fake" / saved_name("blocked", body)


async def one_on(source: Source, body: bytes, tmp_path: Path) -> PageOutcome:
    """``body`` fetched from a local search URL and read by a real ``source``."""
    site = Site({"/sch/i.html?_nkw=3090": httpx.Response(
        200, content=body, headers={"Content-Type": "text/html; charset=utf-8"})})
    async with make_fetcher(site) as fetcher:
        return await fetch_page(fetcher, source, f"{BASE}/sch/i.html?_nkw=3090",
                                save_dir=tmp_path, now=lambda: STAMP)


async def test_real_results_page_mentioning_captcha_is_not_blocked(
    tmp_path: Path, read_fixture: Callable[[str], bytes],
) -> None:
    # eBay lists "arkose_captcha" and "google_recaptcha" among its script vendors on every page
    body = read_fixture("ebay-html/search-scard-uk-2025-08.html")
    assert bot_check_marker(body, "text/html") == "captcha"
    assert len(body) > SMALL_PAGE_BYTES
    outcome = await one(FakeSource(listings_parser(3)), httpx.Response(
        200, content=body, headers={"Content-Type": "text/html; charset=utf-8"}), tmp_path)
    assert outcome.outcome == "ok"


async def test_large_marker_page_without_results_markup_is_blocked(
    tmp_path: Path, read_fixture: Callable[[str], bytes],
) -> None:
    body = read_fixture("facebook/item-login-wall-2025-04.html")
    source = FakeSource(raising(MarkupDrift("no listing cards")))
    outcome = await one(source, httpx.Response(200, content=body,
                                               headers={"Content-Type": "text/html"}), tmp_path)
    assert (outcome.outcome, outcome.reason) == ("blocked", "bot-check")
    assert source.calls == 1
    assert outcome.saved_path == tmp_path / "fake" / saved_name("blocked", body)


async def test_small_json_with_the_word_captcha_is_parsed(tmp_path: Path) -> None:
    body = json.dumps({"data": {"children": [{"title": "Selling captcha-solver GPU"}]}})
    source = FakeSource(listings_parser(1))
    outcome = await one(source, httpx.Response(
        200, text=body, headers={"Content-Type": "application/json"}), tmp_path)
    assert outcome.outcome == "ok" and source.calls == 1


async def test_rate_limited(tmp_path: Path) -> None:
    outcome = await one(FakeSource(listings_parser()), httpx.Response(429), tmp_path)
    assert (outcome.outcome, outcome.status) == ("rate_limited", 429)
    assert "429" in (outcome.error or "")


async def test_markup_drift_is_saved(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outcome = await one(FakeSource(raising(MarkupDrift("no li.s-card under ul.srp-results"))),
                        html(RESULTS_PAGE), tmp_path)
    assert outcome.outcome == "drift" and outcome.error == "no li.s-card under ul.srp-results"
    assert outcome.saved_path == tmp_path / "fake" / saved_name("drift", RESULTS_PAGE.encode())
    assert "fake: drift https://fake.example/search?q=3090" in caplog.text


async def test_drift_of_a_json_page_is_saved_as_json(tmp_path: Path) -> None:
    body = b'{"kind": "Listing", "data": {"kids": []}}'
    outcome = await one(FakeSource(raising(MarkupDrift("no data.children"))), httpx.Response(
        200, content=body, headers={"Content-Type": "application/json"}), tmp_path)
    assert outcome.saved_path == tmp_path / "fake" / saved_name("drift", body, "json")


async def test_mostly_incomplete_cards_is_drift(tmp_path: Path) -> None:
    outcome = await one(FakeSource(listings_parser(2, incomplete=3)), html(RESULTS_PAGE),
                        tmp_path)
    assert outcome.outcome == "drift"
    assert outcome.error == "3 of 5 cards lacked a required field"
    assert outcome.result is not None and len(outcome.result.listings) == 2
    assert outcome.saved_path is not None
    half = await one(FakeSource(listings_parser(2, incomplete=2)), html(RESULTS_PAGE), tmp_path)
    assert half.outcome == "ok"


async def test_nothing_parsed_without_a_no_results_notice_is_drift(tmp_path: Path) -> None:
    outcome = await one(FakeSource(listings_parser(0)), html(RESULTS_PAGE), tmp_path)
    assert outcome.outcome == "drift"


@pytest.mark.parametrize(
    ("response", "status", "message"),
    [
        (httpx.Response(404), 404, "answered HTTP 404"),
        (httpx.Response(503), 503, "answered HTTP 503 2 times"),
        (httpx.Response(200, content=b"x" * 5000), 200, "announces 5000 bytes"),
    ],
)
async def test_fetch_errors(tmp_path: Path, response: httpx.Response, status: int,
                            message: str) -> None:
    outcome = await one(FakeSource(listings_parser()), response, tmp_path, max_bytes=4000)
    assert (outcome.outcome, outcome.status) == ("error", status)
    assert message in (outcome.error or "")
    assert list(tmp_path.iterdir()) == []


async def test_unsupported_page_is_an_error(tmp_path: Path) -> None:
    outcome = await one(FakeSource(raising(UnsupportedPage("a Kijiji page", reason="kijiji"))),
                        html(RESULTS_PAGE), tmp_path)
    assert (outcome.outcome, outcome.error) == ("error", "a Kijiji page")


async def test_a_sites_own_rate_limit_page_is_rate_limited(tmp_path: Path) -> None:
    from gpuscout.scraper.errors import RateLimited

    outcome = await one(FakeSource(raising(RateLimited("Too Many Requests page", status=None))),
                        html(RESULTS_PAGE), tmp_path)
    assert (outcome.outcome, outcome.error) == ("rate_limited", "Too Many Requests page")


async def test_parser_crash_is_an_error_with_the_body_saved(tmp_path: Path) -> None:
    outcome = await one(FakeSource(raising(KeyError("price"))), html(RESULTS_PAGE), tmp_path)
    assert outcome.outcome == "error"
    assert outcome.error == "the fake parser crashed: KeyError: 'price'"
    assert outcome.saved_path is not None and "-error-" in outcome.saved_path.name


async def test_robots_disallowed_is_an_error() -> None:
    site = Site({})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nDisallow: /search\n")
        return site(request)

    time = FakeTime()
    async with Fetcher(FetchSettings(), transport=httpx.MockTransport(handler),
                       clock=time.clock, sleep=time.sleep) as fetcher:
        outcome = await fetch_page(fetcher, FakeSource(listings_parser()), f"{BASE}/search?q=1",
                                   save_dir=None)
    assert outcome.outcome == "error" and "disallows /search?q=1" in (outcome.error or "")
    assert site.requests == []


async def test_without_a_save_dir_nothing_is_written(tmp_path: Path) -> None:
    outcome = await one(FakeSource(raising(MarkupDrift("x"))), html(RESULTS_PAGE), None)
    assert outcome.outcome == "drift" and outcome.saved_path is None


# -- crawl ----------------------------------------------------------------------------------------


def paged_parser(pages: int) -> Parse:
    """Page n links page n+1 (through the `p` query parameter) until ``pages``."""

    def parse(body: bytes, url: str) -> ParseResult:
        n = int(httpx.URL(url).params.get("p", "1"))
        following = f"{BASE}/search?q=3090&p={n + 1}" if n < pages else None
        return ParseResult((listing(n),), next_url=following)

    return parse


def paged_site(count: int, overrides: dict[str, httpx.Response] | None = None) -> Site:
    pages = {"/search?q=3090": html(RESULTS_PAGE)}
    pages |= {f"/search?q=3090&p={n}": html(RESULTS_PAGE) for n in range(2, count + 1)}
    return Site(pages | (overrides or {}))


async def run_crawl(site: Site, source: FakeSource, max_pages: int,
                    save_dir: Path | None = None) -> list[PageOutcome]:
    spec = SearchSpec(query="3090", base_url=BASE, max_pages=max_pages)
    async with make_fetcher(site) as fetcher:
        return [o async for o in crawl(fetcher, source, spec, save_dir=save_dir,
                                       now=lambda: STAMP)]


async def test_crawl_follows_next_pages_with_prepared_headers() -> None:
    site = paged_site(5)
    source = FakeSource(paged_parser(5), prepare_headers={"Authorization": "bearer t0ken"})
    outcomes = await run_crawl(site, source, max_pages=3)
    assert [o.outcome for o in outcomes] == ["ok", "ok", "ok"]
    assert [o.url for o in outcomes] == [
        f"{BASE}/search?q=3090", f"{BASE}/search?q=3090&p=2", f"{BASE}/search?q=3090&p=3"]
    assert [o.result.listings[0].external_id for o in outcomes if o.result] == ["1", "2", "3"]
    assert len(source.prepared) == 1
    for request in site.requests:
        assert request.headers["authorization"] == "bearer t0ken"
        assert request.headers["x-fake"] == "1"


async def test_crawl_stops_when_there_is_no_next_page() -> None:
    outcomes = await run_crawl(paged_site(2), FakeSource(paged_parser(2)), max_pages=10)
    assert len(outcomes) == 2


async def test_crawl_stops_on_the_first_outcome_that_is_not_ok(tmp_path: Path) -> None:
    site = paged_site(5, {"/search?q=3090&p=2": httpx.Response(403, text="denied")})
    outcomes = await run_crawl(site, FakeSource(paged_parser(5)), max_pages=5, save_dir=tmp_path)
    assert [o.outcome for o in outcomes] == ["ok", "blocked"]
    assert outcomes[1].saved_path is not None and outcomes[1].saved_path.exists()


async def test_crawl_stops_on_a_next_page_loop() -> None:
    def parse(body: bytes, url: str) -> ParseResult:
        return ParseResult((listing(1),), next_url=f"{BASE}/search?q=3090")

    outcomes = await run_crawl(paged_site(1), FakeSource(parse), max_pages=5)
    assert len(outcomes) == 1


async def test_crawl_prepare_failure_is_one_error_outcome() -> None:
    site = paged_site(3)
    source = FakeSource(paged_parser(3),
                        prepare_error=FetchError("token endpoint answered 401", status=401))
    outcomes = await run_crawl(site, source, max_pages=3)
    assert [(o.outcome, o.status, o.error) for o in outcomes] == [
        ("error", 401, "token endpoint answered 401")]
    assert site.requests == []


async def test_crawl_prepare_http_error_is_one_error_outcome() -> None:
    source = FakeSource(paged_parser(3), prepare_error=httpx.ConnectError("refused"))
    outcomes = await run_crawl(paged_site(3), source, max_pages=3)
    assert len(outcomes) == 1 and outcomes[0].outcome == "error"
    assert "ConnectError: refused" in (outcomes[0].error or "")


async def test_crawl_logs_nothing_above_info_when_all_is_well(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="gpuscout.fetch"):
        await run_crawl(paged_site(2), FakeSource(paged_parser(2)), max_pages=2)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any(r.getMessage().startswith("GET https://fake.example/search") for r in caplog.records)


async def test_crawl_stops_at_the_first_page_seen_before_and_says_so() -> None:
    site = paged_site(5)
    spec = SearchSpec(query="3090", base_url=BASE, max_pages=5)
    known = {"1", "2"}
    looked: list[list[str]] = []

    def seen(result: ParseResult) -> bool:
        ids = [item.external_id for item in result.listings]
        looked.append(ids)
        return all(i in known for i in ids)

    async with make_fetcher(site) as fetcher:
        outcomes = [o async for o in crawl(fetcher, FakeSource(paged_parser(5)), spec,
                                           seen=seen)]
    assert [(o.outcome, o.caught_up) for o in outcomes] == [("ok", True)]
    assert looked == [["1"]]
    assert len(site.requests) == 1
    # a page with something new goes on to the next one
    known.clear()
    async with make_fetcher(paged_site(2)) as fetcher:
        outcomes = [o async for o in crawl(fetcher, FakeSource(paged_parser(2)), spec,
                                           seen=seen)]
    assert [(o.outcome, o.caught_up) for o in outcomes] == [("ok", False), ("ok", False)]


async def test_a_last_page_seen_before_is_not_caught_up() -> None:
    # NOTE: no next page: the pages read cover every result, so the scan is complete
    spec = SearchSpec(query="3090", base_url=BASE, max_pages=5)
    async with make_fetcher(paged_site(1)) as fetcher:
        outcomes = [o async for o in crawl(fetcher, FakeSource(paged_parser(1)), spec,
                                           seen=lambda result: True)]
    assert [(o.outcome, o.caught_up) for o in outcomes] == [("ok", False)]


class PickySource(FakeSource):
    """Keeps only listings whose id is even, as a source filtering by its query would."""

    def select(self, spec: SearchSpec, result: ParseResult) -> ParseResult:
        kept = tuple(item for item in result.listings if int(item.external_id) % 2 == 0)
        return ParseResult(kept, next_url=result.next_url, oldest_posted=result.oldest_posted,
                           unmatched=len(result.listings) - len(kept))


async def test_a_page_whose_posts_all_fail_the_query_is_read_and_paging_goes_on() -> None:
    def parse(body: bytes, url: str) -> ParseResult:
        n = int(httpx.URL(url).params.get("p", "1"))
        following = f"{BASE}/search?q=3090&p={n + 1}" if n < 3 else None
        posted = datetime(2026, 1, 10 - n, tzinfo=UTC)
        return ParseResult((replace(listing(2 * n + 1), posted_at=posted),
                            replace(listing(2 * n + 1 + (n == 2)), posted_at=posted
                                    - timedelta(hours=1))), next_url=following)

    spec = SearchSpec(query="3090", base_url=BASE, max_pages=5)
    async with make_fetcher(paged_site(3)) as fetcher:
        outcomes = [o async for o in crawl(fetcher, PickySource(parse), spec)]
    assert [o.outcome for o in outcomes] == ["ok", "ok", "ok"]
    results = [o.result for o in outcomes if o.result is not None]
    assert [[i.external_id for i in r.listings] for r in results] == [[], ["6"], []]
    assert [r.unmatched for r in results] == [2, 1, 2]
    # how far back each page reaches counts every post on it, kept or not
    assert [r.oldest_posted for r in results] == [
        datetime(2026, 1, 8, 23, tzinfo=UTC), datetime(2026, 1, 7, 23, tzinfo=UTC),
        datetime(2026, 1, 6, 23, tzinfo=UTC)]


# -- next pages on other hosts ----------------------------------------------------------------------


@pytest.mark.parametrize(("target", "why"), [
    ("https://evil.example/search?q=3090&p=2", "on another host (evil.example, not fake.example)"),
    ("https://fake.example.evil.example/search?p=2", "on another host"),
    ("ftp://fake.example/search?p=2", "not http(s)"),
])
async def test_a_next_page_on_another_host_is_not_fetched(target: str, why: str) -> None:
    def parse(body: bytes, url: str) -> ParseResult:
        return ParseResult((listing(1),), next_url=target)

    site = paged_site(2)
    outcomes = await run_crawl(site, FakeSource(parse), max_pages=5)
    assert [(o.outcome, o.url) for o in outcomes] == [
        ("ok", f"{BASE}/search?q=3090"), ("error", target)]
    assert outcomes[1].error is not None and why in outcomes[1].error
    assert outcomes[1].error.startswith("page 1 links its next page")
    assert [r.url.host for r in site.requests] == ["fake.example"]


async def test_a_next_page_on_the_www_host_is_the_same_host() -> None:
    def parse(body: bytes, url: str) -> ParseResult:
        n = int(httpx.URL(url).params.get("p", "1"))
        return ParseResult((listing(n),), next_url="https://www.fake.example/search?q=3090&p=2"
                           if n == 1 else None)

    site = paged_site(2)
    outcomes = await run_crawl(site, FakeSource(parse), max_pages=5)
    assert [o.outcome for o in outcomes] == ["ok", "ok"]


class _Elsewhere(Source):
    """A real source whose pages link their next page on another host."""

    def __init__(self, real: Source) -> None:
        self.real = real
        self.name = real.name  # type: ignore[misc]

    def search_url(self, spec: SearchSpec) -> str:
        return self.real.search_url(spec)

    def parse(self, body: bytes, url: str) -> ParseResult:
        result = self.real.parse(body, url)
        return ParseResult(result.listings, next_url="https://evil.example/page-2")

    @classmethod
    def sniff(cls, body: bytes, url: str | None = None) -> bool:
        return False


OWN_SEARCH_PAGES = {"ebay": "ebay/search-scard-us.html", "reddit": "reddit/hardwareswap-new.json",
                    "craigslist": "craigslist/search-static.html", "facebook": "facebook/search.html"}


@pytest.mark.parametrize("name", sorted(OWN_SEARCH_PAGES))
async def test_every_source_is_held_to_the_search_host(name: str) -> None:
    from gpuscout.scraper.sources import get_source
    from gpuscout.scraper.sources.registry import NAMES

    assert sorted(OWN_SEARCH_PAGES) == sorted(NAMES)
    source = _Elsewhere(get_source(name))
    spec = SearchSpec(query="rtx 3090", base_url=BASE, max_pages=3,
                      options={"site": "sfbay", "subreddit": "hardwareswap"})
    first = source.search_url(spec)
    requested: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        requested.append(str(request.url))
        return httpx.Response(200, content=read_page(OWN_SEARCH_PAGES[name]))

    time = FakeTime()
    async with Fetcher(FetchSettings(jitter=0.0, max_retries=0),
                       transport=httpx.MockTransport(answer), clock=time.clock,
                       sleep=time.sleep) as fetcher:
        outcomes = [o async for o in crawl(fetcher, source, spec)]
    assert [o.outcome for o in outcomes] == ["ok", "error"], outcomes
    assert "on another host (evil.example" in (outcomes[1].error or "")
    assert requested == [first]


CRAIGSLIST_NEXT = b'<link rel="next" href="https://evil.example/search/sss?query=rtx+3090&s=120">'


async def test_craigslist_rel_next_to_another_host_is_refused() -> None:
    from gpuscout.scraper.sources import get_source

    page = read_page("craigslist/search-static.html").replace(b"</head>", CRAIGSLIST_NEXT + b"</head>", 1)
    source = get_source("craigslist")
    url = "https://sfbay.craigslist.org/search/sss?query=rtx+3090"
    assert source.parse(page, url).next_url == "https://evil.example/search/sss?query=rtx+3090&s=120"
    spec = SearchSpec(query="rtx 3090", base_url="https://{site}.craigslist.org", max_pages=3,
                      options={"site": "sfbay"})
    hosts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(200, content=page, headers={"Content-Type": "text/html"})

    time = FakeTime()
    async with Fetcher(FetchSettings(jitter=0.0, max_retries=0),
                       transport=httpx.MockTransport(answer), clock=time.clock,
                       sleep=time.sleep) as fetcher:
        outcomes = [o async for o in crawl(fetcher, source, spec)]
    assert [o.outcome for o in outcomes] == ["ok", "error"]
    assert outcomes[0].result is not None and len(outcomes[0].result.listings) == 5
    assert set(hosts) == {"sfbay.craigslist.org"}


# -- deadlines ---------------------------------------------------------------------------------


async def test_a_prepare_that_never_answers_ends_at_the_request_deadline() -> None:
    class Stalling(FakeSource):
        async def prepare(self, client: httpx.AsyncClient, spec: SearchSpec,
                          tokens: TokenCache | None = None, *,
                          renew: bool = False) -> dict[str, str]:
            await asyncio.Event().wait()  # a token endpoint that never answers
            return {}

    site = paged_site(2)
    outcomes = await run_crawl_with(site, Stalling(paged_parser(2)), request_deadline=0.05)
    assert [o.outcome for o in outcomes] == ["error"]
    assert "preparing the fake search took longer than 0.05 s" in (outcomes[0].error or "")
    assert site.requests == []


async def run_crawl_with(site: Site, source: FakeSource, **settings: object) -> list[PageOutcome]:
    spec = SearchSpec(query="3090", base_url=BASE, max_pages=3)
    async with make_fetcher(site, **settings) as fetcher:
        return [o async for o in crawl(fetcher, source, spec)]
