"""The Fetcher on mock and real transports: pacing, retries, caps, redirects, validators, robots."""

from __future__ import annotations

import asyncio
import gzip
import logging
import random
import socket
import struct
import threading
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from gpuscout.scraper.errors import (
    Blocked,
    DeadlineExceeded,
    FetchError,
    HostUnresolved,
    HttpStatusError,
    RateLimited,
    ResponseTooLarge,
    RobotsDisallowed,
)
from gpuscout.scraper.fetch.client import (
    DEFAULT_USER_AGENT,
    BlockedResponse,
    Fetcher,
    FetchMemory,
    FetchSettings,
    MemoryValidators,
    Validators,
    make_client,
)
from gpuscout.scraper.fetch.stream import parse_retry_after
from tests.support.fake_time import FakeTime

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)





class Site:
    """A mock server: robots.txt per host (404 when not set) and a page handler; logs requests."""

    def __init__(
        self, pages: Handler, robots: dict[str, httpx.Response | Exception] | None = None,
    ) -> None:
        self.pages = pages
        self.robots = robots or {}
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/robots.txt":
            answer = self.robots.get(request.url.host, httpx.Response(404))
            if isinstance(answer, Exception):
                raise answer
            return answer
        reply = self.pages(request)
        return await reply if isinstance(reply, Awaitable) else reply

    @property
    def paths(self) -> list[str]:
        return [f"{r.url.host}{r.url.raw_path.decode()}" for r in self.requests]


def make_fetcher(
    site: Site, time: FakeTime | None = None, *, rng: random.Random | None = None,
    wall_clock: Callable[[], datetime] = lambda: NOW, memory: FetchMemory | None = None,
    **settings: Any,
) -> Fetcher:
    options: dict[str, Any] = {"jitter": 0.0, **settings}
    clock = time or FakeTime()
    return Fetcher(FetchSettings(**options), transport=httpx.MockTransport(site),
                   clock=clock.clock, sleep=clock.sleep, rng=rng or random.Random(0),
                   wall_clock=wall_clock, memory=memory)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text=f"page {request.url.path}")


def sequence(*responses: httpx.Response | Exception) -> Handler:
    """A handler answering with each response (or raising each exception) in turn."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler


# -- the client ---------------------------------------------------------------------------------


async def test_client_sends_user_agent_gzip_and_http11() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=gzip.compress(b"<html>hello</html>"),
                              headers={"Content-Encoding": "gzip"})

    async with make_client(FetchSettings(), transport=httpx.MockTransport(handler)) as client:
        response = await client.get("https://www.ebay.com/sch/i.html")
    assert response.content == b"<html>hello</html>"
    assert response.http_version == "HTTP/1.1"
    assert seen[0].headers["user-agent"] == DEFAULT_USER_AGENT
    assert "gzip" in seen[0].headers["accept-encoding"]
    assert not client.follow_redirects


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="jitter"):
        FetchSettings(jitter=2)
    with pytest.raises(ValueError, match="negative"):
        FetchSettings(min_interval=-1)
    with pytest.raises(ValueError, match="request_deadline"):
        FetchSettings(request_deadline=float("nan"))


# -- politeness ---------------------------------------------------------------------------------


async def test_minimum_interval_between_requests_to_one_host() -> None:
    site, time = Site(ok), FakeTime()
    async with make_fetcher(site, time) as fetcher:
        pages = [await fetcher.get(f"https://www.ebay.com/sch/i.html?_pgn={n}") for n in (1, 2, 3)]
    # robots.txt goes first with no wait, then every page waits the full interval
    assert site.paths == ["www.ebay.com/robots.txt"] + [
        f"www.ebay.com/sch/i.html?_pgn={n}" for n in (1, 2, 3)]
    assert time.sleeps == [5.0, 5.0, 5.0]
    assert pages[2].body == b"page /sch/i.html" and pages[2].status == 200
    assert pages[0].attempts == 1 and not pages[0].not_modified


async def test_time_already_passed_counts_toward_the_interval() -> None:
    site, time = Site(ok), FakeTime()
    async with make_fetcher(site, time, obey_robots=False) as fetcher:
        await fetcher.get("https://example.org/a")
        time.now += 3.5  # the caller spent 3.5 s parsing
        await fetcher.get("https://example.org/b")
        time.now += 60
        await fetcher.get("https://example.org/c")
    assert time.sleeps == [1.5]


async def test_jitter_stretches_the_interval_with_the_seeded_rng() -> None:
    site, time = Site(ok), FakeTime()
    async with make_fetcher(site, time, rng=random.Random(42), jitter=0.3,
                            obey_robots=False) as fetcher:
        for n in range(4):
            await fetcher.get(f"https://example.org/{n}")
    expected_rng = random.Random(42)
    assert time.sleeps == [round(5.0 * (1 + expected_rng.uniform(0, 0.3)), 6) for _ in range(3)]
    assert all(5.0 <= s <= 6.5 for s in time.sleeps)


async def test_hosts_do_not_wait_for_each_other_and_www_is_the_same_host() -> None:
    site, time = Site(ok), FakeTime()
    async with make_fetcher(site, time, obey_robots=False) as fetcher:
        await fetcher.get("https://www.ebay.com/a")
        await fetcher.get("https://old.reddit.com/b")
        await fetcher.get("https://ebay.com/c")
    assert time.sleeps == [5.0]


async def test_one_request_at_a_time_per_host() -> None:
    in_flight: dict[str, int] = defaultdict(int)
    peak: dict[str, int] = defaultdict(int)
    overall: list[int] = [0, 0]

    async def slow(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        in_flight[host] += 1
        overall[0] += 1
        peak[host] = max(peak[host], in_flight[host])
        overall[1] = max(overall[1], overall[0])
        for _ in range(5):
            await asyncio.sleep(0)
        in_flight[host] -= 1
        overall[0] -= 1
        return httpx.Response(200, text="ok")

    site = Site(slow)
    async with make_fetcher(site, min_interval=0.0) as fetcher:
        urls = [f"https://a.example/{n}" for n in range(3)] + [
            f"https://b.example/{n}" for n in range(3)]
        pages = await asyncio.gather(*(fetcher.get(u) for u in urls))
    assert [p.status for p in pages] == [200] * 6
    assert peak == {"a.example": 1, "b.example": 1}
    assert overall[1] == 2  # the two hosts did run side by side
    assert sum(r.url.path == "/robots.txt" for r in site.requests) == 2


# -- retries ------------------------------------------------------------------------------------


async def test_429_retry_after_seconds(caplog: pytest.LogCaptureFixture) -> None:
    site, time = Site(sequence(httpx.Response(429, headers={"Retry-After": "7"}),
                               httpx.Response(200, text="ok"))), FakeTime()
    with caplog.at_level(logging.INFO, logger="gpuscout.fetch"):
        async with make_fetcher(site, time, obey_robots=False, min_interval=1.0) as fetcher:
            page = await fetcher.get("https://example.org/s")
    assert page.attempts == 2 and page.body == b"ok"
    assert time.sleeps == [7.0]
    assert "retrying https://example.org/s in 7.0s after HTTP 429 (attempt 2 of 4)" in caplog.text


async def test_retry_after_is_capped_and_read_as_http_date() -> None:
    site, time = Site(sequence(
        httpx.Response(503, headers={"Retry-After": "3600"}),
        httpx.Response(429, headers={"Retry-After": "Wed, 01 Jan 2025 12:00:30 GMT"}),
        httpx.Response(200, text="ok"))), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, min_interval=0.0) as fetcher:
        page = await fetcher.get("https://example.org/s")
    assert time.sleeps == [60.0, 30.0]
    assert page.attempts == 3


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:00 GMT", NOW) == 60.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", NOW) == 0.0  # in the past
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


async def test_5xx_retried_with_exponential_backoff_then_success() -> None:
    site, time = Site(sequence(httpx.Response(503), httpx.Response(502),
                               httpx.Response(200, text="fine"))), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, min_interval=0.0) as fetcher:
        page = await fetcher.get("https://example.org/s")
    assert (page.status, page.body, page.attempts) == (200, b"fine", 3)
    assert time.sleeps == [2.0, 4.0]


async def test_backoff_never_waits_less_than_the_interval() -> None:
    site, time = Site(sequence(httpx.Response(500), httpx.Response(200))), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, min_interval=5.0) as fetcher:
        await fetcher.get("https://example.org/s")
    assert time.sleeps == [5.0]  # backoff 2 s, but the host interval is 5 s


async def test_backoff_jitter_and_cap() -> None:
    site, time = Site(sequence(httpx.Response(500))), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, min_interval=0.0, jitter=0.5,
                            backoff_base=10.0, backoff_max=25.0, max_retries=3,
                            rng=random.Random(3)) as fetcher:
        with pytest.raises(HttpStatusError):
            await fetcher.get("https://example.org/s")
    rng = random.Random(3)
    # with min_interval 0 the interval draw happens too (it multiplies zero); mirror the draws
    expected = []
    for retry in (1, 2, 3):
        backoff = min(25.0, 10.0 * 2 ** (retry - 1) * (1 + rng.uniform(0, 0.5)))
        rng.uniform(0, 0.5)  # the pacing draw
        expected.append(round(backoff, 6))
    assert time.sleeps == expected
    assert time.sleeps[2] == 25.0


async def test_giving_up_on_5xx(caplog: pytest.LogCaptureFixture) -> None:
    site, time = Site(sequence(httpx.Response(503))), FakeTime()
    caplog.set_level(logging.INFO, logger="gpuscout.fetch")
    async with make_fetcher(site, time, obey_robots=False, min_interval=0.0) as fetcher:
        with pytest.raises(HttpStatusError) as info:
            await fetcher.get("https://example.org/s")
    assert info.value.status == 503
    assert "answered HTTP 503 4 times" in str(info.value)
    assert time.sleeps == [2.0, 4.0, 8.0]
    assert len(site.requests) == 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "giving up on https://example.org/s after 4 attempts: HTTP 503" in warnings
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert retries == [
        f"retrying https://example.org/s in {wait:.1f}s after HTTP 503 (attempt {n} of 4)"
        for wait, n in ((2, 2), (4, 3), (8, 4))]


async def test_giving_up_on_429_raises_rate_limited() -> None:
    site = Site(sequence(httpx.Response(429, headers={"Retry-After": "9"})))
    async with make_fetcher(site, obey_robots=False, max_retries=1) as fetcher:
        with pytest.raises(RateLimited) as info:
            await fetcher.get("https://example.org/s")
    assert info.value.status == 429 and info.value.retry_after == 9.0
    assert len(site.requests) == 2


async def test_connection_errors_retried_then_named() -> None:
    failure = httpx.ConnectError("[Errno 111] Connection refused")
    site, time = Site(sequence(failure)), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, min_interval=0.0,
                            max_retries=2) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.get("https://example.org/s")
    assert type(info.value) is FetchError
    assert "ConnectError: [Errno 111] Connection refused" in str(info.value)
    assert "gave up after 3 attempts" in str(info.value)
    assert info.value.__cause__ is failure
    assert time.sleeps == [2.0, 4.0]


async def test_timeout_is_retried() -> None:
    site = Site(sequence(httpx.ReadTimeout("slow"), httpx.Response(200, text="ok")))
    async with make_fetcher(site, obey_robots=False) as fetcher:
        page = await fetcher.get("https://example.org/s")
    assert page.attempts == 2


async def test_403_is_blocked_without_retry() -> None:
    site = Site(sequence(httpx.Response(403, html="<h1>Access Denied</h1>")))
    async with make_fetcher(site, obey_robots=False) as fetcher:
        with pytest.raises(BlockedResponse) as info:
            await fetcher.get("https://example.org/s")
    assert info.value.reason == "forbidden" and info.value.status == 403
    assert info.value.body == b"<h1>Access Denied</h1>"
    assert info.value.content_type == "text/html"
    assert isinstance(info.value, Blocked)
    assert len(site.requests) == 1


async def test_other_4xx_is_an_http_status_error_without_retry() -> None:
    site = Site(sequence(httpx.Response(404)))
    async with make_fetcher(site, obey_robots=False) as fetcher:
        with pytest.raises(HttpStatusError) as info:
            await fetcher.get("https://example.org/gone")
    assert info.value.status == 404 and len(site.requests) == 1


async def test_bad_url_is_a_fetch_error() -> None:
    async with make_fetcher(Site(ok)) as fetcher:
        with pytest.raises(FetchError, match="absolute http"):
            await fetcher.get("ftp://example.org/x")
        with pytest.raises(FetchError, match="absolute http"):
            await fetcher.get("/relative/path")


# -- bodies -------------------------------------------------------------------------------------


async def test_declared_content_length_over_the_cap() -> None:
    site = Site(sequence(httpx.Response(200, content=b"x" * 2000)))
    async with make_fetcher(site, obey_robots=False, max_bytes=1000) as fetcher:
        with pytest.raises(ResponseTooLarge, match="announces 2000 bytes"):
            await fetcher.get("https://example.org/big")
    assert len(site.requests) == 1  # not retried


async def _chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"y" * size


async def test_streamed_body_over_the_cap() -> None:
    site = Site(lambda request: httpx.Response(200, content=_chunks(10, 300)))
    async with make_fetcher(site, obey_robots=False, max_bytes=1000) as fetcher:
        with pytest.raises(ResponseTooLarge, match="more than the 1000-byte cap"):
            await fetcher.get("https://example.org/big")


async def test_gzip_body_is_decoded_and_the_cap_applies_to_decoded_bytes() -> None:
    packed = gzip.compress(b"z" * 5000)
    assert len(packed) < 1000
    site = Site(lambda request: httpx.Response(
        200, content=packed, headers={"Content-Encoding": "gzip"}))
    async with make_fetcher(site, obey_robots=False, max_bytes=10_000) as fetcher:
        page = await fetcher.get("https://example.org/z")
        assert page.body == b"z" * 5000
    async with make_fetcher(site, obey_robots=False, max_bytes=1000) as fetcher:
        with pytest.raises(ResponseTooLarge):
            await fetcher.get("https://example.org/z")


class _Raw(httpx.AsyncByteStream):
    """A body as a server streams it: httpx decodes nothing ahead of the Fetcher."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


async def test_corrupt_gzip_is_a_clear_fetch_error() -> None:
    site = Site(lambda request: httpx.Response(
        200, stream=_Raw(b"this is not gzip"), headers={"Content-Encoding": "gzip"}))
    async with make_fetcher(site, obey_robots=False) as fetcher:
        with pytest.raises(FetchError, match="corrupt compressed body") as info:
            await fetcher.get("https://example.org/z")
    assert isinstance(info.value.__cause__, zlib.error)
    assert len(site.requests) == 1


class _Truncated(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"<html><body>half a pa"
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


async def test_truncated_body_is_retried_once() -> None:
    site = Site(sequence(httpx.Response(200, stream=_Truncated()),
                         httpx.Response(200, text="whole")))
    async with make_fetcher(site, obey_robots=False) as fetcher:
        page = await fetcher.get("https://example.org/t")
    assert page.body == b"whole" and page.attempts == 2

    site = Site(lambda request: httpx.Response(200, stream=_Truncated()))
    async with make_fetcher(site, obey_robots=False, max_retries=3) as fetcher:
        with pytest.raises(FetchError, match="truncated body"):
            await fetcher.get("https://example.org/t")
    assert len(site.requests) == 2  # one retry only, though three were allowed


# -- deadlines -----------------------------------------------------------------------------------


async def _never(request: httpx.Request) -> httpx.Response:
    """A server that accepted the connection and never finishes answering."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def test_a_request_that_never_finishes_ends_at_the_request_deadline() -> None:
    site = Site(_never)
    fetcher = Fetcher(FetchSettings(obey_robots=False, max_retries=1, backoff_base=0.0, jitter=0.0,
                                    min_interval=0.0,
                                    request_deadline=0.05), transport=httpx.MockTransport(site))
    async with fetcher:
        with pytest.raises(FetchError, match="no complete answer within the 0.05 s request "
                                             r"deadline \(gave up after 2 attempts\)"):
            await fetcher.get("https://example.org/slow")
    assert len(site.requests) == 2  # a slow answer is worth one retry, as a timeout is


async def test_the_scan_deadline_stops_a_request_in_flight() -> None:
    import time as real_time

    site = Site(_never)
    stop_at = real_time.monotonic() + 0.05
    fetcher = Fetcher(FetchSettings(obey_robots=False, max_retries=3, request_deadline=60,
                                    stop_at=stop_at), transport=httpx.MockTransport(site))
    async with fetcher:
        with pytest.raises(DeadlineExceeded, match=r"deadline passed while https://example\.org/s"):
            await fetcher.get("https://example.org/s")
        with pytest.raises(DeadlineExceeded, match=r"https://example\.org/t not requested"):
            await fetcher.get("https://example.org/t")
    assert [r.url.path for r in site.requests] == ["/s"]  # not retried, nothing more sent


async def test_no_wait_runs_past_the_scan_deadline() -> None:
    site, time = Site(sequence(httpx.Response(429, headers={"Retry-After": "30"}),
                               httpx.Response(200, text="ok"))), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, min_interval=5.0,
                            stop_at=20.0) as fetcher:
        with pytest.raises(DeadlineExceeded, match="it would have waited 30 s"):
            await fetcher.get("https://example.org/s")
    assert time.sleeps == [] and len(site.requests) == 1
    site, time = Site(ok), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, min_interval=5.0,
                            stop_at=8.0) as fetcher:
        await fetcher.get("https://example.org/1")
        await fetcher.get("https://example.org/2")  # waits 5 s: ends before the deadline
        with pytest.raises(DeadlineExceeded):  # another 5 s would end past it
            await fetcher.get("https://example.org/3")
    assert time.sleeps == [5.0] and len(site.requests) == 2


async def test_robots_txt_is_not_judged_unreachable_when_the_deadline_stops_it() -> None:
    site, time = Site(ok), FakeTime()
    time.now = 10.0
    async with make_fetcher(site, time, stop_at=5.0) as fetcher:
        with pytest.raises(DeadlineExceeded):
            await fetcher.get("https://example.org/s")
        assert fetcher._robots == {}  # nothing cached as "unreachable: disallow all"


# -- redirects ----------------------------------------------------------------------------------


def redirect(location: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location})


async def test_same_host_redirect_is_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return redirect("/new?x=1", 301)
        return httpx.Response(200, text="new")

    site = Site(handler)
    async with make_fetcher(site, obey_robots=False) as fetcher:
        page = await fetcher.get("https://www.example.org/old")
    assert page.url == "https://www.example.org/new?x=1"
    assert page.attempts == 2


async def test_cross_host_redirect_is_not_followed() -> None:
    site = Site(sequence(redirect("https://consent.example.net/?continue=x")))
    async with make_fetcher(site, obey_robots=False) as fetcher:
        with pytest.raises(FetchError, match="redirected to another host") as info:
            await fetcher.get("https://www.example.org/s")
    assert "https://consent.example.net/?continue=x" in str(info.value)
    assert len(site.requests) == 1


async def test_cross_host_redirect_followed_when_allowed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "www.example.org":
            return redirect("https://mirror.example.net/s")
        return httpx.Response(200, text="mirror")

    async with make_fetcher(Site(handler), obey_robots=False,
                            follow_cross_host_redirects=True) as fetcher:
        page = await fetcher.get("https://www.example.org/s")
    assert page.url == "https://mirror.example.net/s" and page.body == b"mirror"


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("https://www.facebook.com/login/?next=%2Fmarketplace%2F", "login"),
        ("https://signin.ebay.com/ws/eBayISAPI.dll?SignIn", "login"),
        ("/splashui/challenge?ap=1&appName=orch", "captcha"),
        ("https://www.example.org/captcha?r=1", "captcha"),
    ],
)
async def test_redirect_to_login_or_captcha_is_blocked(location: str, reason: str) -> None:
    site = Site(sequence(redirect(location)))
    async with make_fetcher(site, obey_robots=False) as fetcher:
        with pytest.raises(Blocked) as info:
            await fetcher.get("https://www.example.org/sch/i.html")
    assert info.value.reason == reason


async def test_redirect_loop_stops() -> None:
    site = Site(lambda request: redirect(f"/r{len(site.requests)}"))
    async with make_fetcher(site, obey_robots=False) as fetcher:
        with pytest.raises(FetchError, match="more than 5 redirects"):
            await fetcher.get("https://example.org/r")
    assert len(site.requests) == 6


# -- conditional requests -------------------------------------------------------------------------


async def test_etag_round_trip_and_304() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(200, text="fresh", headers={
            "ETag": '"v1"', "Last-Modified": "Tue, 31 Dec 2024 10:00:00 GMT"})

    site, store = Site(handler), MemoryValidators()
    async with make_fetcher(site, obey_robots=False) as fetcher:
        fetcher.validators = store
        first = await fetcher.get("https://example.org/s?q=3090")
        second = await fetcher.get("https://example.org/s?q=3090")
        unconditional = await fetcher.get("https://example.org/s?q=3090", conditional=False)
    assert (first.status, first.body, first.not_modified) == (200, b"fresh", False)
    assert (second.status, second.body, second.not_modified) == (304, b"", True)
    assert unconditional.status == 200
    assert store.get("https://example.org/s?q=3090") == Validators(
        '"v1"', "Tue, 31 Dec 2024 10:00:00 GMT")
    sent = site.requests[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Tue, 31 Dec 2024 10:00:00 GMT"
    assert "if-none-match" not in site.requests[0].headers
    assert "if-none-match" not in site.requests[2].headers


async def test_a_pluggable_validator_store() -> None:
    class Store:
        def __init__(self) -> None:
            self.saved: dict[str, Validators] = {
                "https://example.org/a": Validators(None, "Mon, 30 Dec 2024 10:00:00 GMT")}

        def get(self, url: str) -> Validators | None:
            return self.saved.get(url)

        def set(self, url: str, validators: Validators) -> None:
            self.saved[url] = validators

    store = Store()
    site = Site(lambda request: httpx.Response(304))
    fetcher = Fetcher(FetchSettings(obey_robots=False), transport=httpx.MockTransport(site),
                      sleep=FakeTime().sleep, clock=FakeTime().clock, validators=store)
    async with fetcher:
        page = await fetcher.get("https://example.org/a")
    assert page.not_modified
    assert site.requests[0].headers["if-modified-since"] == "Mon, 30 Dec 2024 10:00:00 GMT"


# -- robots.txt ---------------------------------------------------------------------------------


def robots(text: str) -> httpx.Response:
    return httpx.Response(200, text=text, headers={"Content-Type": "text/plain"})


async def test_robots_disallow_and_allow_fetched_once_per_host() -> None:
    site = Site(ok, {"example.org": robots(
        "User-agent: *\nDisallow: /search\n\nUser-agent: gpuscout\nDisallow: /private\n")})
    async with make_fetcher(site) as fetcher:
        page = await fetcher.get("https://example.org/search?q=1")  # our group allows /search
        with pytest.raises(RobotsDisallowed) as info:
            await fetcher.get("https://example.org/private/x")
        await fetcher.get("https://example.org/other")
    assert page.status == 200
    assert "robots.txt of https://example.org disallows /private/x for gpuscout" in str(
        info.value)
    assert site.paths == ["example.org/robots.txt", "example.org/search?q=1", "example.org/other"]
    assert site.requests[0].headers["user-agent"] == DEFAULT_USER_AGENT


@pytest.mark.parametrize(
    ("answer", "allowed"),
    [
        (httpx.Response(404), True),   # RFC 9309 2.3.1.3: 4xx, unavailable: allow all
        (httpx.Response(403), True),
        (httpx.Response(410), True),
        (httpx.Response(503), False),  # RFC 9309 2.3.1.4: 5xx, unreachable: disallow all
        (httpx.Response(429), False),
    ],
)
async def test_robots_status_codes(answer: httpx.Response, allowed: bool) -> None:
    site = Site(ok, {"example.org": answer})
    async with make_fetcher(site, max_retries=1) as fetcher:
        if allowed:
            assert (await fetcher.get("https://example.org/x")).status == 200
        else:
            with pytest.raises(RobotsDisallowed, match="unreachable"):
                await fetcher.get("https://example.org/x")


async def test_a_robots_txt_the_network_cannot_reach_reports_the_network() -> None:
    # NOTE: no answer at all is the network's failure: the page could not be fetched either, so
    # the error says so instead of calling every path disallowed (and it is not cached)
    site = Site(ok, {"example.org": httpx.ConnectError("[Errno 101] Network is unreachable")})
    async with make_fetcher(site, max_retries=1) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.get("https://example.org/x")
        with pytest.raises(FetchError):
            await fetcher.get("https://example.org/y")
    assert not isinstance(info.value, RobotsDisallowed)
    assert "Network is unreachable" in str(info.value)
    assert "robots" not in str(info.value) and "obey_robots" not in str(info.value)
    assert site.paths == ["example.org/robots.txt"] * 4  # one try and one retry, per page


def dns_error(host: str) -> httpx.ConnectError:
    """What httpx raises when the resolver fails: the gaierror two causes down."""
    inner = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    try:
        try:
            raise inner
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc)) from exc
    except httpx.ConnectError as outer:
        return outer


async def test_an_unresolvable_host_fails_at_once_without_retries_or_a_robots_verdict() -> None:
    site, time = Site(ok, {"www.ebay.com": dns_error("www.ebay.com")}), FakeTime()
    async with make_fetcher(site, time, max_retries=3) as fetcher:
        with pytest.raises(HostUnresolved) as info:
            await fetcher.get("https://www.ebay.com/sch/i.html?_nkw=rtx")
    assert info.value.host == "www.ebay.com"
    message = str(info.value)
    assert message.startswith("cannot resolve www.ebay.com (Name or service not known): this "
                              "machine looks offline")
    assert "robots" not in message and "obey_robots" not in message
    assert site.paths == ["www.ebay.com/robots.txt"]  # one attempt: no retries
    assert time.sleeps == []  # and no backoff waited


async def test_an_unresolvable_host_without_robots_fails_at_once_too() -> None:
    site, time = Site(sequence(dns_error("example.org"))), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, max_retries=3) as fetcher:
        with pytest.raises(HostUnresolved):
            await fetcher.get("https://example.org/x")
    assert len(site.requests) == 1 and time.sleeps == []


async def test_a_disallowing_robots_txt_never_advises_turning_robots_off() -> None:
    site = Site(ok, {"example.org": robots("User-agent: *\nDisallow: /\n")})
    async with make_fetcher(site) as fetcher:
        with pytest.raises(RobotsDisallowed) as info:
            await fetcher.get("https://example.org/r/hardwareswap/new.json")
    assert str(info.value) == ("robots.txt of https://example.org disallows "
                               "/r/hardwareswap/new.json for gpuscout")


async def test_robots_rules_are_shared_through_memory_for_a_day() -> None:
    site, time = Site(ok, {"example.org": robots("User-agent: *\nDisallow: /no\n")}), FakeTime()
    memory = FetchMemory()
    for _scan in range(3):
        async with Fetcher(FetchSettings(jitter=0), transport=httpx.MockTransport(site),
                           clock=time.clock, sleep=time.sleep, memory=memory) as fetcher:
            await fetcher.get("https://example.org/yes")
            with pytest.raises(RobotsDisallowed):
                await fetcher.get("https://example.org/no")
        time.now += 3600
    assert site.paths.count("example.org/robots.txt") == 1
    time.now += 24 * 3600  # RFC 9309 2.4: at most 24 hours from the cache
    async with Fetcher(FetchSettings(jitter=0), transport=httpx.MockTransport(site),
                       clock=time.clock, sleep=time.sleep, memory=memory) as fetcher:
        await fetcher.get("https://example.org/yes")
    assert site.paths.count("example.org/robots.txt") == 2


async def test_an_unreachable_robots_txt_is_asked_again_by_the_next_scan() -> None:
    site, time = Site(ok, {"example.org": httpx.Response(503)}), FakeTime()
    memory = FetchMemory()
    settings = FetchSettings(jitter=0, max_retries=0)
    async with Fetcher(settings, transport=httpx.MockTransport(site), clock=time.clock,
                       sleep=time.sleep, memory=memory) as fetcher:
        with pytest.raises(RobotsDisallowed, match="is unreachable"):
            await fetcher.get("https://example.org/yes")
    site.robots["example.org"] = robots("User-agent: *\nDisallow: /no\n")
    time.now += 60
    async with Fetcher(settings, transport=httpx.MockTransport(site), clock=time.clock,
                       sleep=time.sleep, memory=memory) as fetcher:
        assert (await fetcher.get("https://example.org/yes")).status == 200
    assert site.paths.count("example.org/robots.txt") == 2


# -- an API's announced quota -------------------------------------------------------------------


def quota(remaining: str, reset: str) -> httpx.Response:
    return httpx.Response(200, text="{}", headers={"X-Ratelimit-Used": "4",
                                                   "X-Ratelimit-Remaining": remaining,
                                                   "X-Ratelimit-Reset": reset})


async def test_remaining_requests_are_spread_until_the_quota_resets() -> None:
    site, time = Site(sequence(quota("10", "50"), quota("2", "40"), quota("5", "5"))), FakeTime()
    async with make_fetcher(site, time, obey_robots=False, min_interval=0.0) as fetcher:
        await fetcher.get("https://oauth.example/a")   # 10 left in 50 s: one per 5 s
        await fetcher.get("https://oauth.example/b")   # 2 left in 40 s: one per 20 s
        await fetcher.get("https://oauth.example/c")
    assert time.sleeps == [5.0, 20.0]


async def test_a_used_up_quota_waits_for_its_reset_or_ends_the_scan_when_far() -> None:
    site, time = Site(sequence(quota("0", "30"), quota("0", "600"), quota("9", "60"))), FakeTime()
    memory = FetchMemory()
    async with make_fetcher(site, time, obey_robots=False, min_interval=0.0,
                            memory=memory) as fetcher:
        await fetcher.get("https://oauth.example/a")
        await fetcher.get("https://oauth.example/b")   # waits the 30 s reset
        with pytest.raises(RateLimited, match="quota is used up; it resets in 600 s"):
            await fetcher.get("https://oauth.example/c")
    assert time.sleeps == [30.0]
    assert len(site.requests) == 2  # the third was never sent
    # the next scan (a new Fetcher sharing the memory) still knows the quota
    later = Fetcher(FetchSettings(obey_robots=False, min_interval=0, jitter=0),
                    transport=httpx.MockTransport(site), clock=time.clock, sleep=time.sleep,
                    memory=memory)
    time.now += 590
    async with later:
        await later.get("https://oauth.example/c")
    assert time.sleeps == [30.0, 10.0]


async def test_robots_redirect_to_another_host_is_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="page")

    site = Site(handler, {
        "example.org": redirect("https://cdn.example.net/robots.txt", 301),
        "cdn.example.net": robots("User-agent: *\nDisallow: /no\n"),
    })
    async with make_fetcher(site) as fetcher:
        assert (await fetcher.get("https://example.org/yes")).status == 200
        with pytest.raises(RobotsDisallowed):
            await fetcher.get("https://example.org/no")


async def test_robots_crawl_delay_raises_the_interval() -> None:
    site, time = Site(ok, {"example.org": robots("User-agent: *\nCrawl-delay: 12\n")}), FakeTime()
    async with make_fetcher(site, time) as fetcher:
        await fetcher.get("https://example.org/a")
        await fetcher.get("https://example.org/b")
    assert time.sleeps == [12.0, 12.0]


async def test_robots_override_warns_once_per_host(caplog: pytest.LogCaptureFixture) -> None:
    site = Site(ok, {"example.org": robots("User-agent: *\nDisallow: /\n")})
    with caplog.at_level(logging.WARNING, logger="gpuscout.fetch"):
        async with make_fetcher(site, obey_robots=False) as fetcher:
            await fetcher.get("https://example.org/a")
            await fetcher.get("https://example.org/b")
            await fetcher.get("https://other.example/c")
    assert all(r.url.path != "/robots.txt" for r in site.requests)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert messages == [
        "robots.txt of example.org is being ignored by configuration (obey_robots off)",
        "robots.txt of other.example is being ignored by configuration (obey_robots off)",
    ]


async def test_robots_override_per_call(caplog: pytest.LogCaptureFixture) -> None:
    site = Site(ok, {"example.org": robots("User-agent: *\nDisallow: /\n")})
    async with make_fetcher(site) as fetcher:
        with pytest.raises(RobotsDisallowed):
            await fetcher.get("https://example.org/a")
        page = await fetcher.get("https://example.org/a", obey_robots=False)
    assert page.status == 200
    assert "is being ignored by configuration" in caplog.text


async def test_robots_checked_on_a_same_host_redirect_target() -> None:
    site = Site(lambda request: redirect("/private/x"),
                {"example.org": robots("User-agent: *\nDisallow: /private\n")})
    async with make_fetcher(site) as fetcher:
        with pytest.raises(RobotsDisallowed):
            await fetcher.get("https://example.org/public")


async def test_fetcher_closes_only_its_own_client() -> None:
    client = make_client(FetchSettings(), transport=httpx.MockTransport(ok))
    async with Fetcher(client=client):
        pass
    assert not client.is_closed
    await client.aclose()
    fetcher = Fetcher(transport=httpx.MockTransport(ok))
    await fetcher.aclose()
    assert fetcher.client.is_closed


# -- a real socket: a local http.server on 127.0.0.1 ----------------------------------------------


class _LocalHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _LocalServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        if self.path.endswith("/robots.txt"):
            self._send(404, b"")
        elif self.path.startswith("http://"):  # an absolute-form request: we are the proxy
            self._send(200, f"proxied {self.path}".encode())
        elif self.path == "/gzip":
            self._send(200, gzip.compress(b"<html>" + b"3090 " * 1000 + b"</html>"),
                       Content_Encoding="gzip", Content_Type="text/html")
        elif self.path == "/big":  # no Content-Length: the cap must trip while streaming
            self.close_connection = True
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass  # the client hung up at the cap, as it should
        elif self.path == "/reset":  # close with RST before answering
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self._send(404, b"")


class _LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    hits: list[str]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # resets and hang-ups are the point of these tests


@pytest.fixture
def local_server() -> Iterator[tuple[str, _LocalServer]]:
    server = _LocalServer(("127.0.0.1", 0), _LocalHandler)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def real_fetcher(time: FakeTime, **settings: Any) -> Fetcher:
    return Fetcher(FetchSettings(**{"jitter": 0.0, "timeout": 5.0, **settings}),
                   transport=httpx.AsyncHTTPTransport(), clock=time.clock, sleep=time.sleep)


async def test_real_socket_gzip_and_size_cap(local_server: tuple[str, _LocalServer]) -> None:
    base, server = local_server
    time = FakeTime()
    async with real_fetcher(time, max_bytes=1024 * 1024) as fetcher:
        page = await fetcher.get(f"{base}/gzip")
        with pytest.raises(ResponseTooLarge, match="more than the 1048576-byte cap"):
            await fetcher.get(f"{base}/big")
    assert page.body.startswith(b"<html>3090 3090") and len(page.body) == 5013
    assert page.content_type == "text/html"
    assert server.hits == ["/robots.txt", "/gzip", "/big"]
    assert time.sleeps == [5.0, 5.0]


async def test_real_socket_connection_reset(local_server: tuple[str, _LocalServer]) -> None:
    base, server = local_server
    time = FakeTime()
    async with real_fetcher(time, max_retries=2, obey_robots=False,
                            min_interval=0.0) as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.get(f"{base}/reset")
    assert type(info.value) is FetchError
    assert "gave up after 3 attempts" in str(info.value)
    assert "connection" in str(info.value).lower()
    assert server.hits == ["/reset"] * 3
    assert time.sleeps == [2.0, 4.0]


async def test_real_proxy_is_used(local_server: tuple[str, _LocalServer]) -> None:
    base, server = local_server
    time = FakeTime()
    fetcher = Fetcher(FetchSettings(proxy=base, jitter=0.0, timeout=5.0),
                      clock=time.clock, sleep=time.sleep)
    async with fetcher:
        page = await fetcher.get("http://gpus.example/sch/i.html?_nkw=3090")
    assert page.body == b"proxied http://gpus.example/sch/i.html?_nkw=3090"
    assert server.hits == ["http://gpus.example/robots.txt",
                           "http://gpus.example/sch/i.html?_nkw=3090"]
