"""Polite HTTP fetching: one client factory and a Fetcher that paces, retries, caps, obeys robots.

The Fetcher is the only way pages are downloaded. Per host it sends one request at a time and waits
at least ``min_interval`` seconds (plus jitter, never less) between requests; it retries connection
errors, timeouts, 429 and 5xx with exponential backoff and honours ``Retry-After``; it streams
bodies under a size cap; it follows redirects on the same host only; it sends conditional
requests from remembered validators; it checks robots.txt before the first page of an origin; and
it obeys the quota an API announces in ``X-Ratelimit-Remaining`` / ``X-Ratelimit-Reset`` (Reddit's).
What it learns (robots.txt rules, quotas, API tokens) lives in a ``FetchMemory`` that the Fetchers
of one process may share.

A host name that does not resolve fails at once (``HostUnresolved``: offline, or a wrong host), with
no retries; a robots.txt that cannot be fetched for a network reason reports that reason, never a
robots.txt verdict.

Two deadlines bound the time, whatever a server does: ``request_deadline`` for one request as a
whole (connecting, a status line or headers sent a byte at a time, a body that trickles: the
per-read ``timeout`` never fires on a server that sends one byte a second), and ``stop_at`` for
the scan the Fetcher belongs to: once it passes, a request in flight is stopped, no new one is
sent, and no wait (interval, backoff, Retry-After) runs past it; each raises DeadlineExceeded.

The clock, the sleep and the random source are injected so that tests run instantly and can check
every wait the Fetcher asks for.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import httpx

from gpuscout.scraper.errors import (
    Blocked,
    DeadlineExceeded,
    FetchError,
    HttpStatusError,
    RateLimited,
    RobotsDisallowed,
)
from gpuscout.scraper.fetch.cookies import load_cookies
from gpuscout.scraper.fetch.memory import FetchMemory, TokenCache
from gpuscout.scraper.fetch.pacing import LocalPacer, Pacer
from gpuscout.scraper.fetch.robots import MAX_ROBOTS_BYTES, RobotsRules, parse_robots, product_token
from gpuscout.scraper.fetch.stream import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    MemoryValidators,
    Reply,
    Transient,
    Validators,
    ValidatorStore,
    host_key,
    judge_redirect,
    parse_retry_after,
    parse_url,
    read_body,
)

__all__ = [
    "BlockedResponse", "FetchMemory", "FetchSettings", "FetchedPage", "Fetcher", "MemoryValidators",
    "ValidatorStore", "Validators", "make_client",
]

log = logging.getLogger("gpuscout.fetch")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_USER_AGENT = "gpuscout/0.1 (+https://github.com/gpuscout/gpuscout; used-GPU price watcher)"


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How politely and how persistently to fetch. Times are in seconds."""

    user_agent: str = DEFAULT_USER_AGENT
    #: the least time between two requests to one host (a robots.txt Crawl-delay may raise it)
    min_interval: float = 5.0
    #: the interval and the backoff are stretched by a random fraction up to this much
    jitter: float = 0.3
    #: seconds one read, connect or write may wait for the server
    timeout: float = 20.0
    #: seconds one request may take as a whole, from connecting to the body's last byte
    request_deadline: float = 60.0
    #: when the scan must stop, as a reading of the Fetcher's clock (None: no scan deadline)
    stop_at: float | None = None
    #: retries after the first attempt (so at most max_retries + 1 requests per URL)
    max_retries: int = 3
    backoff_base: float = 2.0
    backoff_max: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    obey_robots: bool = True
    proxy: str | None = None
    cookies_file: str | Path | None = None
    #: follow a redirect to another host (off: such a redirect raises FetchError or Blocked)
    follow_cross_host_redirects: bool = False

    def __post_init__(self) -> None:
        if self.min_interval < 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("min_interval, backoff_base and backoff_max cannot be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter is a fraction between 0 and 1, not {self.jitter}")
        if self.timeout <= 0 or self.max_bytes <= 0 or self.max_retries < 0:
            raise ValueError("timeout and max_bytes must be positive, max_retries not negative")
        if not self.request_deadline > 0:
            raise ValueError(f"request_deadline must be positive, not {self.request_deadline}")


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One fetched page. ``url`` is the final URL (after same-host redirects); ``headers`` have
    lower-case names; ``elapsed`` is the time the last request took; ``attempts`` counts every
    request made for it (retries and redirect hops, not robots.txt)."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float
    not_modified: bool = False
    attempts: int = 1

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class BlockedResponse(Blocked):
    """A Blocked raised from an HTTP answer (403); keeps the body so it can be saved and studied."""

    def __init__(
        self, message: str, *, reason: str, url: str, status: int, body: bytes, content_type: str,
    ) -> None:
        super().__init__(message, reason=reason)
        self.url = url
        self.status = status
        self.body = body
        self.content_type = content_type


def make_client(
    settings: FetchSettings, *, transport: httpx.AsyncBaseTransport | None = None,
    cookies: httpx.Cookies | None = None,
) -> httpx.AsyncClient:
    """The one place an HTTP client is built: HTTP/1.1, gzip, our User-Agent, the configured proxy
    and cookies. Redirects are left to the Fetcher. ``transport`` replaces the network in tests
    (the proxy is then not used)."""
    if cookies is None and settings.cookies_file is not None:
        cookies = load_cookies(settings.cookies_file)
    return httpx.AsyncClient(
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        cookies=cookies,
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=False,
        http1=True,
        http2=False,
        transport=transport,
        proxy=settings.proxy if transport is None else None,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Fetcher:
    """Fetches pages politely. Use as ``async with Fetcher(settings) as fetcher:``.

    ``clock`` (monotonic seconds) and ``sleep`` pace the requests; ``rng`` draws the jitter;
    ``wall_clock`` reads HTTP-date Retry-After values; ``validators`` remembers ETag and
    Last-Modified per URL (pass a persistent store to keep them between runs); ``memory`` keeps
    robots.txt rules, API tokens and quotas (pass one shared object to keep them between scans);
    ``pacer`` decides when the next request to a host may start (default: ``LocalPacer``, this
    process alone; a ``SharedPacer`` keeps one host's interval across machines).
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        validators: ValidatorStore | None = None,
        wall_clock: Callable[[], datetime] = _utc_now,
        memory: FetchMemory | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        self.memory = memory if memory is not None else FetchMemory()
        self._owns_client = client is None
        self.client = client or make_client(self.settings, transport=transport)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.validators: ValidatorStore = (
            validators if validators is not None else MemoryValidators())
        self._wall_clock = wall_clock
        self._token = product_token(self.settings.user_agent)
        self._locks: dict[str, asyncio.Lock] = {}
        #: when the next request to a host may start: this process's rule, or shared (a cluster)
        self.pacer: Pacer = pacer if pacer is not None else LocalPacer(clock)
        self._crawl_delay: dict[str, float] = {}
        self._robots: dict[str, RobotsRules] = {}
        self._robots_ignored: set[str] = set()

    @property
    def tokens(self) -> TokenCache:
        """API tokens kept in ``memory``, on this Fetcher's clock."""
        return TokenCache(self.memory, self._clock)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client if this Fetcher made it."""
        if self._owns_client:
            await self.client.aclose()

    # -- public -----------------------------------------------------------------------------

    async def get(
        self, url: str, headers: Mapping[str, str] | None = None, *,
        obey_robots: bool | None = None, conditional: bool = True, api: bool = False,
    ) -> FetchedPage:
        """Fetch ``url``. Raises RobotsDisallowed, Blocked, RateLimited, HttpStatusError,
        ResponseTooLarge, HostUnresolved or FetchError; a 304 comes back as
        ``FetchedPage(not_modified=True)``. ``api``: an API endpoint called with its own
        credentials, to which robots.txt (rules for crawlers of web pages) does not apply."""
        start = parse_url(url)
        obey = self.settings.obey_robots if obey_robots is None else obey_robots
        request_headers = dict(headers or {})
        if conditional:
            self._add_validators(url, request_headers)
        async with self._lock(host_key(start)):
            current, attempts = start, 0
            for _hop in range(MAX_REDIRECTS + 1):
                if not api:
                    await self._check_robots(current, obey)
                reply, tries = await self._exchange(
                    current, request_headers, self.settings.max_bytes)
                attempts += tries
                location = reply.headers.get("location")
                if reply.status in REDIRECT_STATUSES and location:
                    target = current.join(location)
                    judge_redirect(current, target, reply.status,
                                   cross_host=self.settings.follow_cross_host_redirects)
                    log.debug("following %d redirect %s -> %s", reply.status, current, target)
                    current = target
                    continue
                return self._finish(url, reply, attempts)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects starting at {url}", url=url)

    async def check_robots(self, url: str) -> None:
        """Whether robots.txt lets us fetch ``url``: RobotsDisallowed if not, the FetchError of
        the network if robots.txt could not be fetched at all (`gpuscout doctor` asks this)."""
        await self._check_robots(parse_url(url), True)

    # -- politeness -------------------------------------------------------------------------

    def _lock(self, host: str) -> asyncio.Lock:
        lock = self._locks.get(host)
        if lock is None:
            lock = self._locks[host] = asyncio.Lock()
        return lock

    def _base_interval(self, host: str) -> float:
        return max(self.settings.min_interval, self._crawl_delay.get(host, 0.0))

    def _interval(self, host: str) -> float:
        return self._base_interval(host) * (1 + self._rng.uniform(0, self.settings.jitter))

    def _backoff(self, retry: int) -> float:
        raw: float = self.settings.backoff_base * 2.0 ** (retry - 1)
        stretched = raw * (1 + self._rng.uniform(0, self.settings.jitter))
        return min(self.settings.backoff_max, stretched)

    async def _pace(self, host: str, at_least: float, url: httpx.URL) -> None:
        wait = at_least
        wait = max(wait, self.pacer.ready(host, lambda: self._interval(host)))
        held = self.memory.not_before(host)
        if held is not None:
            quota_wait = held - self._clock()
            if quota_wait > self.settings.backoff_max:
                # NOTE: a quota that resets minutes from now is not waited for inside a scan (it
                # would hold up every other search): the next scheduled scan tries again
                raise RateLimited(f"{host}: the API's request quota is used up; it resets in "
                                  f"{quota_wait:.0f} s", retry_after=quota_wait)
            wait = max(wait, quota_wait)
        left = self.time_left()
        if left is not None and (left <= 0 or wait >= left):
            # NOTE: a wait that would end past the deadline is not started at all
            raise DeadlineExceeded(
                f"the scan's deadline passed: {url} not requested"
                + (f" (it would have waited {wait:.0f} s)" if wait > 0 and left > 0 else ""),
                url=str(url))
        if wait > 0:
            await self._sleep(wait)
        # NOTE: a turn no other process holds (a no-op for the LocalPacer)
        await self.pacer.claim(host, self._base_interval(host), self.time_left)

    def time_left(self) -> float | None:
        """Seconds until the scan's deadline (None: there is none; ≤ 0: it has passed)."""
        stop_at = self.settings.stop_at
        return None if stop_at is None else stop_at - self._clock()

    def budget(self) -> tuple[float, bool]:
        """Seconds the next request may take, and whether the scan's deadline is what limits it."""
        left = self.time_left()
        if left is not None and left < self.settings.request_deadline:
            return max(left, 0.0), True
        return self.settings.request_deadline, False

    def _note_quota(self, host: str, headers: Mapping[str, str]) -> None:
        """Spread the requests an API says are left over the time until its quota resets:
        ``X-Ratelimit-Remaining`` requests in ``X-Ratelimit-Reset`` seconds (none left: wait
        for the reset)."""
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            left, seconds = float(remaining), float(reset)
        except ValueError:
            return
        if not (0 <= seconds <= 24 * 3600) or left < 0 or left != left:
            return
        gap = seconds if left < 1 else seconds / left
        self.memory.hold(host, self._clock() + gap)
        if left < 1:
            log.warning("%s: the API's request quota is used up; next request in %.0f s",
                        host, seconds)

    # -- one URL, with retries ----------------------------------------------------------------

    async def _exchange(
        self, url: httpx.URL, headers: Mapping[str, str], limit: int, *, truncate: bool = False,
    ) -> tuple[Reply, int]:
        """Send GET until it gives a non-retryable answer or retries run out. Returns the last
        reply (possibly still 429/5xx) and the number of attempts; raises FetchError when the
        network never answered."""
        host = host_key(url)
        total = self.settings.max_retries + 1
        wait, attempt, truncated_before = 0.0, 0, False
        while True:
            attempt += 1
            await self._pace(host, wait, url)
            log.debug("GET %s (attempt %d of %d)", url, attempt, total)
            started = self._clock()
            budget, scan_bound = self.budget()
            try:
                try:
                    async with asyncio.timeout(budget):
                        reply = await read_body(self.client, url, headers, limit,
                                                truncate=truncate)
                except TimeoutError as exc:
                    if scan_bound:
                        raise DeadlineExceeded(
                            f"the scan's deadline passed while {url} was being read "
                            "(request stopped)", url=str(url)) from exc
                    raise Transient(f"no complete answer within the {budget:g} s request "
                                    "deadline", exc) from exc
            except Transient as exc:
                if attempt >= total or (exc.truncated and truncated_before):
                    log.warning("giving up on %s after %d attempts: %s", url, attempt, exc)
                    raise FetchError(f"{exc} (gave up after {attempt} attempts)",
                                     url=str(url)) from exc.cause
                truncated_before = truncated_before or exc.truncated
                wait = self._backoff(attempt)
                log.info("retrying %s in %.1fs after %s (attempt %d of %d)",
                         url, wait, exc, attempt + 1, total)
                continue
            finally:
                await self.pacer.done(host)
            self._note_quota(host, reply.headers)
            elapsed = self._clock() - started
            reply = Reply(reply.url, reply.status, reply.headers, reply.body, elapsed)
            log.debug("%s -> %d (%d bytes)", url, reply.status, len(reply.body))
            if reply.status != 429 and not 500 <= reply.status <= 599:
                return reply, attempt
            if attempt >= total:
                log.warning("giving up on %s after %d attempts: HTTP %d",
                            url, attempt, reply.status)
                return reply, attempt
            retry_after = parse_retry_after(reply.headers.get("retry-after"), self._wall_clock())
            if retry_after is not None:
                wait = min(retry_after, self.settings.backoff_max)
            else:
                wait = self._backoff(attempt)
            log.info("retrying %s in %.1fs after HTTP %d (attempt %d of %d)",
                     url, wait, reply.status, attempt + 1, total)

    def _finish(self, requested: str, reply: Reply, attempts: int) -> FetchedPage:
        status = reply.status
        page = FetchedPage(reply.url, status, reply.headers, reply.body, reply.elapsed,
                           status == 304, attempts)
        if status == 304 or 200 <= status <= 299:
            etag, modified = reply.headers.get("etag"), reply.headers.get("last-modified")
            if status != 304 and (etag or modified):
                self.validators.set(requested, Validators(etag, modified))
            return page
        if status == 429:
            retry_after = parse_retry_after(reply.headers.get("retry-after"), self._wall_clock())
            raise RateLimited(f"{reply.url} answered 429 Too Many Requests {attempts} times",
                              url=reply.url, retry_after=retry_after)
        if status == 403:
            raise BlockedResponse(f"{reply.url} answered 403 Forbidden", reason="forbidden",
                                  url=reply.url, status=status, body=reply.body,
                                  content_type=page.content_type)
        if status >= 500:
            raise HttpStatusError(f"{reply.url} answered HTTP {status} {attempts} times",
                                  url=reply.url, status=status)
        raise HttpStatusError(f"{reply.url} answered HTTP {status}", url=reply.url, status=status)

    def _add_validators(self, url: str, headers: dict[str, str]) -> None:
        known = self.validators.get(url)
        present = {name.lower() for name in headers}
        if known is None:
            return
        if known.etag and "if-none-match" not in present:
            headers["If-None-Match"] = known.etag
        if known.last_modified and "if-modified-since" not in present:
            headers["If-Modified-Since"] = known.last_modified

    # -- robots.txt -----------------------------------------------------------------------------

    async def _check_robots(self, url: httpx.URL, obey: bool) -> None:
        host = host_key(url)
        if not obey:
            if host not in self._robots_ignored:
                self._robots_ignored.add(host)
                log.warning("robots.txt of %s is being ignored by configuration (obey_robots off)",
                            url.host)
            return
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        rules = self._robots.get(origin)
        if rules is None:
            rules = self.memory.robots(origin, self._token, now=self._clock())
            if rules is None:
                # NOTE: a network failure (no DNS, refused, timeouts) propagates as itself: the
                # page could not be fetched either, and the cause is the network, not robots.txt
                rules = await self._load_robots(url, origin)
                self.memory.remember_robots(origin, self._token, rules, now=self._clock())
            self._robots[origin] = rules
            if rules.crawl_delay:
                delay = min(rules.crawl_delay, self.settings.backoff_max)
                self._crawl_delay[host] = max(self._crawl_delay.get(host, 0.0), delay)
                log.info("robots.txt of %s asks for Crawl-delay %gs", origin, rules.crawl_delay)
        if not rules.is_allowed(str(url)):
            path = url.raw_path.decode("ascii")
            if rules.origin == "unreachable":
                message = (f"robots.txt of {origin} is unreachable (the server answered with an "
                           f"error): every path, {path} too, counts as disallowed until it can "
                           "be read (RFC 9309); the next scan tries again")
            else:
                message = f"robots.txt of {origin} disallows {path} for {self._token}"
            raise RobotsDisallowed(message, url=str(url))

    async def _load_robots(self, url: httpx.URL, origin: str) -> RobotsRules:
        """RFC 9309 section 2.3.1: follow up to five redirects (any host); 2xx: parse; 4xx:
        unavailable, allow all; 429 or 5xx: unreachable, disallow all. No answer at all (DNS,
        refused, timeouts) raises the FetchError that says why."""
        current = url.copy_with(path="/robots.txt", query=None, fragment=None)
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                reply, _ = await self._exchange(current, {"Accept": "text/plain, */*;q=0.5"},
                                                MAX_ROBOTS_BYTES, truncate=True)
            except FetchError as exc:  # a DeadlineExceeded too: re-raised as it is
                # NOTE: the caller reports the error once, as the page's own
                log.debug("robots.txt of %s could not be fetched: %s", origin, exc)
                raise
            location = reply.headers.get("location")
            if reply.status in REDIRECT_STATUSES and location:
                current = current.join(location)
                continue
            if 200 <= reply.status <= 299:
                log.debug("robots.txt of %s: %d bytes", origin, len(reply.body))
                return parse_robots(reply.body, self.settings.user_agent)
            # NOTE: 429 counts as unreachable (disallow), as the large crawlers treat it
            if reply.status == 429 or reply.status >= 500:
                log.warning("robots.txt of %s answered HTTP %d: treating every path as disallowed",
                            origin, reply.status)
                return RobotsRules.disallow_all()
            log.debug("robots.txt of %s answered HTTP %d: no rules", origin, reply.status)
            return RobotsRules.allow_all()
        log.info("robots.txt of %s redirects more than %d times: no rules", origin, MAX_REDIRECTS)
        return RobotsRules.allow_all()
