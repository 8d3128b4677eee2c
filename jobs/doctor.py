"""`gpuscout doctor`: whether each configured search can work, step by step, and what to do.

For each search: the route it takes and whether what that route needs is set (API keys, app
credentials), whether the hosts resolve (DNS) and accept a connection, the robots.txt verdict on
its search URL (web pages only: an API is not crawled), whether the API hands out a token for the
credentials, and one real query. A failed step says what to do and skips the steps after it.
Every search is checked at once, each network step with a short timeout, so an offline machine
is reported as offline within seconds. Then the alert channels and, on a cluster, what its
machines share (``cluster_checks``).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gpuscout.jobs.config import Config, SearchConfig

if TYPE_CHECKING:
    import httpx

#: checks in order
STEPS = ("route", "access", "dns", "connect", "robots", "token", "query")
Resolver = Callable[[str, int], Awaitable[Any]]


@dataclass(frozen=True)
class Check:
    """One step: ``status`` is ok, warn (works, could be better), fail (cannot work) or skip."""

    step: str
    status: str
    detail: str
    advice: str | None = None


@dataclass(frozen=True)
class SearchReport:
    search: str
    source: str
    route: str
    checks: tuple[Check, ...] = field(default=())

    @property
    def works(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    @property
    def offline(self) -> bool:
        return any(c.step == "dns" and c.status == "fail" for c in self.checks)


async def _system_resolver(host: str, port: int) -> Any:
    return await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _hosts(urls: Sequence[str]) -> list[tuple[str, int]]:
    """(host, port) of each URL, each once, in order."""
    out: list[tuple[str, int]] = []
    for url in urls:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if host and (host, port) not in out:
            out.append((host, port))
    return out


async def _network(hosts: Sequence[tuple[str, int]], *, timeout: float,
                   resolver: Resolver) -> list[Check]:
    """DNS, then a TCP connection, for each host; stops at the first failure."""
    checks: list[Check] = []
    for host, port in hosts:
        try:
            await asyncio.wait_for(resolver(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            why = "no answer in time" if isinstance(exc, TimeoutError) else (
                getattr(exc, "strerror", None) or str(exc))
            return [*checks, Check("dns", "fail", f"cannot resolve {host} ({why})",
                                   "this machine looks offline or its DNS is not answering; if "
                                   "other sites work, check the host in base_url")]
        checks.append(Check("dns", "ok", f"{host} resolves"))
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.close()
        except (OSError, TimeoutError) as exc:
            why = "timed out" if isinstance(exc, TimeoutError) else (
                getattr(exc, "strerror", None) or str(exc))
            return [*checks, Check("connect", "fail", f"cannot connect to {host}:{port} ({why})",
                                   "a firewall or proxy may be in the way (sources.<name>.proxy)")]
        checks.append(Check("connect", "ok", f"{host}:{port} accepts connections"))
    return checks


def _query_advice(outcome: str, reason: str | None, search: str) -> str:
    from gpuscout.jobs.health import ADVICE

    key = reason if reason in ("offline", "robots") else outcome
    return ADVICE.get(key, ADVICE["error"]).format(saved="data/", search=search)


async def check_search(cfg: Config, search: SearchConfig, *, timeout: float = 5.0,
                       resolver: Resolver = _system_resolver,
                       transport: httpx.AsyncBaseTransport | None = None) -> SearchReport:
    """Every step for one search (see the module's docstring)."""
    from gpuscout.jobs.scan import fetch_settings, search_spec
    from gpuscout.scraper.crawl import fetch_page
    from gpuscout.scraper.errors import ScrapeError
    from gpuscout.scraper.fetch.client import Fetcher
    from gpuscout.scraper.sources import get_source

    source = get_source(search.source)
    spec = replace(search_spec(cfg, search), max_pages=1)
    route = source.route(spec)
    report = SearchReport(search.name, search.source, route)
    checks = [Check("route", "ok", route)]

    def done(*more: Check) -> SearchReport:
        finished = [*checks, *more]
        reached = {c.step for c in finished}
        skipped = [Check(step, "skip", "not checked: an earlier step failed")
                   for step in STEPS if step not in reached and step != "robots"
                   and not (step == "token" and not source.uses_api(spec))]
        return replace(report, checks=(*finished, *skipped))

    access = source.access(spec)
    checks.append(Check("access", {True: "ok", None: "warn", False: "fail"}[access.ready],
                        access.detail, access.advice))
    if access.ready is False:
        return done()
    try:
        url = source.search_url(spec)
    except (ScrapeError, ValueError) as exc:
        return done(Check("query", "fail", f"no search URL: {exc}", "check the search's options"))
    # NOTE: one robots.txt and one page: a second's pause between them is polite enough
    settings = replace(fetch_settings(cfg, search.source), timeout=timeout, max_retries=0,
                       min_interval=min(1.0, cfg.sources[search.source].min_interval))
    auth = source.auth_url(spec)
    if settings.proxy is None and transport is None:
        network = await _network(_hosts([u for u in (auth, url) if u]), timeout=timeout,
                                 resolver=resolver)
        checks.extend(network)
        if any(c.status == "fail" for c in network):
            return done()
    async with Fetcher(settings, transport=transport) as fetcher:
        if not source.uses_api(spec):
            checks.append(await _robots(fetcher, url, settings.obey_robots))
            if checks[-1].status == "fail":
                return done()
        headers: dict[str, str] = {}
        if source.uses_api(spec):
            try:
                headers = await asyncio.wait_for(
                    source.prepare(fetcher.client, spec, fetcher.tokens), timeout * 2)
            except (ScrapeError, TimeoutError) as exc:
                reason = getattr(exc, "reason", None)
                return done(Check("token", "fail", str(exc) or "no answer in time",
                                  None if reason == "oauth-unauthorized" else
                                  "check the credentials and the API's status"))
            except Exception as exc:  # httpx errors the source did not convert
                return done(Check("token", "fail", f"{type(exc).__name__}: {exc}",
                                  "check the network and the API's base URL"))
            checks.append(Check("token", "ok", f"the token endpoint issued a token ({auth})"))
        page = await asyncio.wait_for(
            fetch_page(fetcher, source, url, {**source.request_headers(spec), **headers},
                       spec=spec), timeout * 2)
    if page.outcome in ("ok", "empty"):
        found = len(page.result.listings) if page.result is not None else 0
        note = "" if page.outcome == "ok" else " (the site says: no results)"
        return done(Check("query", "ok", f"{found} listings on the first page{note}"))
    return done(Check("query", "fail", f"{page.outcome}: {page.error or 'no detail'}",
                      _query_advice(page.outcome, page.reason, search.name)))


async def _robots(fetcher: Any, url: str, obey: bool) -> Check:
    """The robots.txt verdict on ``url`` as the Fetcher would reach it."""
    from gpuscout.scraper.errors import FetchError, RobotsDisallowed

    if not obey:
        return Check("robots", "warn", "robots.txt is ignored (obey_robots = false)",
                     "turn obey_robots back on unless you have the site's permission")
    parts = urlsplit(url)
    try:
        await fetcher.check_robots(url)
    except RobotsDisallowed as exc:
        return Check("robots", "fail", str(exc),
                     "the site does not let crawlers read this search; use its API if it has "
                     "one (the README's first live scan), or drop the search")
    except FetchError as exc:
        return Check("robots", "fail", f"robots.txt could not be fetched: {exc}",
                     "check the network; run again")
    return Check("robots", "ok", f"robots.txt of {parts.netloc} allows {parts.path}")


async def check_all(cfg: Config, searches: Sequence[SearchConfig], *, timeout: float = 5.0,
                    resolver: Resolver = _system_resolver,
                    transport: httpx.AsyncBaseTransport | None = None) -> list[SearchReport]:
    """Every search at once; a host several searches share is looked up once."""
    lookups: dict[tuple[str, int], asyncio.Future[Any]] = {}

    async def shared(host: str, port: int) -> Any:
        if (host, port) not in lookups:
            lookups[(host, port)] = asyncio.ensure_future(resolver(host, port))
        return await asyncio.shield(lookups[(host, port)])

    async def one(search: SearchConfig) -> SearchReport:
        try:
            return await check_search(cfg, search, timeout=timeout, resolver=shared,
                                      transport=transport)
        except TimeoutError:
            return SearchReport(search.name, search.source, "?", (
                Check("query", "fail", f"no answer within {timeout * 2:g} s",
                      "the site is slow or unreachable; run again, or raise --timeout"),))

    return list(await asyncio.gather(*(one(s) for s in searches)))


def channel_checks(cfg: Config) -> list[Check]:
    """Whether the alert channels are set up (nothing is sent: `gpuscout alerts test` sends)."""
    checks: list[Check] = []
    if cfg.email is not None:
        e = cfg.email
        if e.username and not e.password:
            checks.append(Check("email", "fail", f"email.username is {e.username!r} but "
                                "GPUSCOUT_SMTP_PASSWORD is not set", "export the password"))
        else:
            checks.append(Check("email", "ok", f"{e.smtp_host}:{e.smtp_port} ({e.security}) to "
                                f"{', '.join(e.recipients) or 'nobody'}",
                                "`gpuscout alerts test` sends a test message"))
    for target in cfg.notify:
        from gpuscout.jobs.alerts.push import ApprisePusher
        from gpuscout.jobs.errors import DeliveryError

        try:
            ApprisePusher().check(target)
        except DeliveryError as exc:
            where = f"${target.url_env}" if target.url_env else "url"
            checks.append(Check(target.name, "fail", f"{where}: {exc}",
                                f"export {target.url_env}='<an Apprise URL>'" if target.url_env
                                else "fix the url (https://github.com/caronc/apprise/wiki)"))
            continue
        checks.append(Check(target.name, "ok", "Apprise accepts the URL",
                            f"`gpuscout alerts test --target {target.name}` sends a test"))
    if cfg.alerts and not checks:
        checks.append(Check("alerts", "fail", "alert rules but no channel",
                            "add [email] or a [[notify]] target"))
    return checks


def _ping(url: str, timeout: float) -> str | None:
    """None when the Redis at ``url`` answers a PING within ``timeout``; else why not."""
    try:
        import redis
    except ImportError:
        return "the redis package is missing: pip install 'gpuscout[cluster]'"
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    finally:
        client.close()
    return None


def cluster_checks(cfg: Config, *, timeout: float) -> list[Check]:
    """Whether what a cluster shares can be reached: checked when a broker is configured
    (``$GPUSCOUT_BROKER_URL``: `run --distributed` and `worker`) or pacing is shared."""
    from gpuscout.jobs.cluster.app import broker_url
    from gpuscout.jobs.config import mask_url
    from gpuscout.jobs.errors import ClusterError

    cluster = cfg.cluster
    shared = cfg.fetch.pacing == "shared"
    if not cluster.broker_url and not shared:
        return []
    checks: list[Check] = []
    if cluster.broker_url:
        from gpuscout.models.storage.urls import normalize_url

        if normalize_url(cfg.database_url).startswith("postgresql"):
            checks.append(Check("database", "ok", "PostgreSQL (every machine must use this one)"))
        else:
            checks.append(Check("database", "fail", "a broker is set but the database is not "
                                "PostgreSQL", "set [database] url (or GPUSCOUT_DATABASE_URL) to "
                                "postgresql://… on every machine of the cluster"))
        try:
            url = broker_url(cfg)
        except ClusterError as exc:
            checks.append(Check("broker", "fail", str(exc), "fix the broker URL"))
        else:
            why = _ping(url, timeout)
            checks.append(Check("broker", "ok", f"{mask_url(url)} answers", None) if why is None
                          else Check("broker", "fail", f"{mask_url(url)} cannot be reached: {why}",
                                     f"start that Redis or fix ${cluster.broker_url_env}"))
    if shared:
        pacing_url = cluster.redis_url
        if pacing_url is None:
            checks.append(Check("pacing", "fail", "[fetch] pacing is shared but no Redis is "
                                "set", f"export {cluster.redis_url_env} (or "
                                f"{cluster.broker_url_env})=redis://HOST:6379/0"))
        elif pacing_url == cluster.broker_url:
            checks.append(Check("pacing", "ok", "shared through the broker's Redis"))
        else:
            why = _ping(pacing_url, timeout)
            checks.append(Check("pacing", "ok", f"shared through {mask_url(pacing_url)}")
                          if why is None else
                          Check("pacing", "fail", f"{mask_url(pacing_url)} cannot be reached: "
                                f"{why}", f"start that Redis or fix ${cluster.redis_url_env}"))
    return checks
