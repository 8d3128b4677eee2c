"""One scan: for each configured search fetch its pages, identify, store, score, then alert."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.config import Config, SearchConfig

if TYPE_CHECKING:
    import httpx
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from gpuscout.models.storage.polling import SearchHistory
    from gpuscout.scraper.listing import RawListing
    from gpuscout.scraper.sources.base import ParseResult

log = logging.getLogger("gpuscout.scan")

#: outcomes after which a search's missing listings may count toward "gone"
COMPLETE_OUTCOMES = ("ok", "empty")
#: when pages of one search end differently, the worst decides the run's outcome
_SEVERITY = {"ok": 0, "empty": 1, "drift": 2, "error": 3, "rate_limited": 4, "blocked": 5}
#: a newest-first poll stops at a page reaching back before its last successful scan began,
#: less this much (posts appear a little after their stated time; clocks differ)
POLL_MARGIN = timedelta(minutes=15)


class ScanCancelled(Exception):
    """The scan was asked to stop (``gpuscout run`` got SIGTERM or Ctrl-C) while fetching."""


@dataclass(frozen=True)
class SearchSummary:
    search: str
    source: str
    outcome: str
    pages: int = 0
    listings: int = 0
    new: int = 0
    changed: int = 0
    gone: int = 0
    error: str | None = None
    saved_path: str | None = None
    run_id: int | None = None
    #: the pages read cover the search's whole result set, so a listing it no longer shows may
    #: count toward "gone"; False when the crawl ended early (an empty page after results)
    complete: bool = True
    #: cards on the pages read that could not be read (no id, title or price): lost listings
    unread: int = 0
    #: paging stopped early at a page holding nothing new (incremental polling)
    caught_up: bool = False
    #: when a caught-up scan read newest first: the oldest posting time it read back to, so
    #: that listings posted since then that it did not see may still count as missing
    covers_since: datetime | None = None
    #: why the search was blocked or failed, in a word ("no-credentials", "robots", "offline")
    reason: str | None = None
    #: the search's first successful scan (a new database, or a new search): its qualifying
    #: listings go out as one digest instead of one alert each
    first: bool = False

    @property
    def failed(self) -> bool:
        return self.outcome not in COMPLETE_OUTCOMES

    @property
    def may_mark_gone(self) -> bool:
        return self.complete and not self.failed

    @property
    def may_mark_newer_gone(self) -> bool:
        """Stopped early on a newest-first marketplace: listings posted since ``covers_since``
        were all on the pages read."""
        return not self.failed and self.caught_up and self.covers_since is not None


@dataclass(frozen=True)
class ScanSummary:
    searches: tuple[SearchSummary, ...]
    alerts: Any = None
    events: tuple[Any, ...] = field(default=(), repr=False)

    @property
    def all_failed(self) -> bool:
        return bool(self.searches) and all(s.failed for s in self.searches)


Progress = Callable[[str, str], None]


def fetch_settings(cfg: Config, source: str, stop_at: float | None = None) -> Any:
    """The Fetcher settings of ``source``; ``stop_at`` is the scan's deadline (monotonic clock)."""
    from gpuscout.scraper.fetch.client import FetchSettings

    src = cfg.sources[source]
    return FetchSettings(
        user_agent=src.user_agent or cfg.fetch.user_agent, min_interval=src.min_interval,
        jitter=src.jitter, timeout=cfg.fetch.timeout, max_retries=cfg.fetch.max_retries,
        request_deadline=cfg.fetch.request_deadline, stop_at=stop_at,
        max_bytes=cfg.fetch.max_bytes, obey_robots=src.obey_robots, proxy=src.proxy,
        cookies_file=Path(src.cookies_file).expanduser() if src.cookies_file else None,
    )


def search_spec(cfg: Config, search: SearchConfig) -> Any:
    from gpuscout.scraper.sources.base import SearchSpec

    src = cfg.sources[search.source]
    options = {**src.options, **search.options}
    # NOTE: a "{site}" placeholder in the base URL is the source's to fill (craigslist regions)
    return SearchSpec(query=search.query, base_url=src.base_url,
                      max_pages=search.max_pages or src.max_pages, min_price=search.min_price,
                      max_price=search.max_price, options=options,
                      credentials=cfg.credentials(search.source))


def page_seen(cfg: Config, history: SearchHistory | None) -> Callable[[ParseResult], bool] | None:
    """For incremental polling: whether a page holds nothing the search has not seen (None: read
    every page). A page stating posting times is caught up once it reaches back before the last
    successful scan began (less a margin); one without times once all its listings are known,
    except on every ``full_scan_every``-th scan, which reads every page."""
    if not cfg.scan.incremental or history is None or not history.successes:
        return None
    since = history.last_success - POLL_MARGIN if history.last_success else None
    full = history.successes % cfg.scan.full_scan_every == 0

    def seen(result: ParseResult) -> bool:
        if result.oldest_posted is not None and since is not None:
            return result.oldest_posted < since
        if full:
            return False
        ids = [listing.external_id for listing in result.listings]
        return bool(ids) and all(i in history.known for i in ids)

    return seen


async def crawl_search(cfg: Config, search: SearchConfig, fetcher: Any, *, save_dir: Path,
                       now: Callable[[], datetime], history: SearchHistory | None = None,
                       ) -> tuple[list[RawListing], SearchSummary]:
    """Fetch and parse every page of one search (or, polling incrementally with its ``history``,
    up to the first page holding nothing new); the listings and how the crawl ended."""
    from gpuscout.scraper.crawl import crawl
    from gpuscout.scraper.sources import get_source

    source = get_source(search.source)
    spec = search_spec(cfg, search)
    listings: list[RawListing] = []
    outcome, pages, error, saved, unread, reason = "ok", 0, None, None, 0, None
    outcomes: list[str] = []
    caught_up = False
    oldest: list[datetime | None] = []
    async for page in crawl(fetcher, source, spec, save_dir=save_dir, now=now,
                            seen=page_seen(cfg, history)):
        pages += 1
        outcomes.append(page.outcome)
        caught_up = caught_up or page.caught_up
        if page.result is not None:
            listings.extend(page.result.listings)
            unread += page.result.incomplete
            oldest.append(page.result.oldest_posted)
        if page.outcome not in COMPLETE_OUTCOMES:
            error, reason = page.error, page.reason
            saved = str(page.saved_path) if page.saved_path else None
    complete = not caught_up
    if outcomes:
        # NOTE: "empty" only when nothing at all came back. An empty page after results is ok,
        # but the results ended where a next page was promised: the scan saw only part of them
        outcome = max(outcomes, key=lambda o: _SEVERITY.get(o, 3))
        if outcome == "empty" and listings:
            outcome = "ok"
            if not source.ends_on_empty_page:
                complete = False
                error = f"page {outcomes.index('empty') + 1} said 'no results' after results"
    else:
        outcome, error = "error", "no page was fetched"
    if unread and error is None:
        # NOTE: an ok scan that lost cards says so (kept with the run, shown by `scan`)
        error = f"{unread} of {len(listings) + unread} cards could not be read"
    covers = None
    if caught_up and oldest and all(t is not None for t in oldest):
        covers = min(t for t in oldest if t is not None)
    first = history is not None and not history.successes
    return listings, SearchSummary(search=search.name, source=search.source, outcome=outcome,
                                   pages=pages, listings=len(listings), error=error,
                                   saved_path=saved, complete=complete, unread=unread,
                                   caught_up=caught_up, covers_since=covers, reason=reason,
                                   first=first)


def _clock(now: datetime | None) -> Callable[[], datetime]:
    return (lambda: now) if now is not None else (lambda: datetime.now(UTC))


def _rates_due(cfg: Config, sessions: sessionmaker[Session], now: datetime) -> Callable[
        [httpx.AsyncBaseTransport | None], Any] | None:
    """When the cached currency rates are due for a refresh: the coroutine function that
    fetches and stores them (run beside the crawl); else None."""
    from gpuscout.jobs import rates

    with sessions() as session:
        fetched_at = rates.last_fetched(session)
    if not rates.due(cfg, fetched_at, now):
        return None

    async def refresh(transport: httpx.AsyncBaseTransport | None) -> None:
        from gpuscout.models.storage.db import transaction

        fetched = await rates.refresh_if_due(cfg, fetched_at, now, transport=transport)
        if fetched is None:
            return
        try:
            with transaction(sessions) as session:
                rates.store(session, fetched, now)
        except Exception:  # the cached rates, or the table, keep serving
            log.exception("storing the currency rates failed")

    return refresh


async def _crawl_all(cfg: Config, searches: Sequence[SearchConfig], *, save_dir: Path,
                     transport: httpx.AsyncBaseTransport | None, now: Callable[[], datetime],
                     fetcher_factory: Callable[[Any], Any] | None, progress: Progress | None,
                     rates: Callable[[httpx.AsyncBaseTransport | None], Any] | None = None,
                     histories: dict[str, SearchHistory] | None = None, memory: Any = None,
                     cancel: threading.Event | None = None,
                     pacer: Callable[[], Any] | None = None, proxy: str | None = None,
                     ) -> list[tuple[SearchConfig, list[RawListing], SearchSummary]]:
    from gpuscout.scraper.fetch.client import Fetcher

    fetchers: dict[str, Any] = {}
    # NOTE: one pacer for the scan's Fetchers (a shared one's Redis connection lives in this loop)
    shared = pacer() if pacer is not None else None
    # NOTE: one deadline for every search of the scan, on the Fetchers' (monotonic) clock
    stop_at = time.monotonic() + cfg.fetch.scan_deadline

    def fetcher_for(source: str) -> Any:
        if source not in fetchers:
            settings = fetch_settings(cfg, source, stop_at)
            if proxy is not None:
                settings = replace(settings, proxy=proxy)
            fetchers[source] = (fetcher_factory(settings) if fetcher_factory
                                else Fetcher(settings, transport=transport, memory=memory,
                                             pacer=shared))
        return fetchers[source]

    async def one(search: SearchConfig) -> tuple[SearchConfig, list[RawListing], SearchSummary]:
        if progress:
            progress(search.name, "fetching")
        try:
            listings, summary = await crawl_search(
                cfg, search, fetcher_for(search.source), save_dir=save_dir, now=now,
                history=(histories or {}).get(search.name))
        except Exception as exc:  # a failing source is recorded and the next one runs
            log.exception("search %s failed", search.name)
            listings, summary = [], SearchSummary(search.name, search.source, "error",
                                                  error=f"{type(exc).__name__}: {exc}")
        if progress:
            progress(search.name, f"{summary.outcome}: {summary.listings} listings")
        return search, listings, summary

    try:
        # NOTE: searches run concurrently; each source's Fetcher serialises requests per host.
        # Currency rates, when due, are fetched beside them (a failure only logs)
        async def everything() -> list[tuple[SearchConfig, list[RawListing], SearchSummary]]:
            crawling = asyncio.gather(*(one(s) for s in searches))
            if rates is None:
                return list(await crawling)
            crawled, _ = await asyncio.gather(crawling, rates(transport))
            return list(crawled)

        work = asyncio.ensure_future(everything())
        if cancel is None:
            return await work
        watcher = asyncio.ensure_future(_wait_for(cancel))
        both: set[asyncio.Future[Any]] = {work, watcher}
        await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            raise ScanCancelled("the scan was asked to stop before its pages were read")
        watcher.cancel()
        return work.result()
    finally:
        for f in fetchers.values():
            await f.aclose()
        if shared is not None:
            await shared.aclose()


async def _wait_for(event: threading.Event, poll: float = 0.1) -> None:
    """Returns once ``event`` (set from another thread or a signal handler) is set."""
    while not event.is_set():
        await asyncio.sleep(poll)


def run_scan(cfg: Config, engine: Engine, *, only: str | Sequence[str] | None = None,
             transport: httpx.AsyncBaseTransport | None = None, now: datetime | None = None,
             fetcher_factory: Callable[[Any], Any] | None = None,
             progress: Progress | None = None, send_alerts: bool = True, memory: Any = None,
             cancel: threading.Event | None = None, per_search: bool = False,
             pacer: Callable[[], Any] | None = None, proxy: str | None = None,
             on_locked: Callable[[], None] | None = None) -> ScanSummary:
    """Scan every configured search (or those named ``only``) once under the scan lock. Without
    ``send_alerts`` the alerts the scan calls for are queued in the outbox but not sent.

    ``memory`` (a FetchMemory) keeps robots.txt rules, API tokens and quotas between the scans
    of one process; ``cancel`` stops the scan while it fetches (its runs are recorded as
    stopped, nothing is stored) and skips sending alerts (they stay queued): ScanCancelled.

    ``per_search`` (a cluster's worker, PostgreSQL): hold the scan lock shared and the searches'
    own locks instead of the whole scan lock, so that workers scan other searches beside it.
    ``pacer`` makes the Pacer of the scan's requests (default: each Fetcher paces its hosts in
    this process; a SharedPacer keeps them across machines); ``proxy`` sends every request of
    this scan through that proxy; ``on_locked`` is called once the lock is held, before
    anything is written (an exception from it ends the scan there)."""
    from gpuscout.models.storage.db import session_factory
    from gpuscout.models.storage.lock import close_interrupted, scan_lock, search_lock

    names = [only] if isinstance(only, str) else list(only or ())
    searches = [cfg.search(n) for n in names] if names else list(cfg.searches)
    clock = _clock(now)
    started = clock()
    save_dir = Path(cfg.scan.data_dir).expanduser()
    sessions = session_factory(engine)
    held = (search_lock(engine, [s.name for s in searches]) if per_search
            else scan_lock(engine, now=started))
    with held:
        if on_locked is not None:
            on_locked()
        # NOTE: holding the lock, any run still "running" is a killed scan's: close it first
        close_interrupted(engine, now=started,
                          searches=[s.name for s in searches] if per_search else None)
        histories = _histories(sessions, searches)
        run_ids = _open_runs(sessions, searches, started)
        try:
            crawled = asyncio.run(_crawl_all(
                cfg, searches, save_dir=save_dir, transport=transport, now=clock,
                fetcher_factory=fetcher_factory, progress=progress, histories=histories,
                memory=memory, cancel=cancel, rates=_rates_due(cfg, sessions, started),
                pacer=pacer, proxy=proxy))
        except ScanCancelled:
            _close_stopped(sessions, searches, run_ids, clock())
            raise
        from gpuscout.jobs.scoring import IdentityCache, catalog_of

        identities = IdentityCache(catalog_of(cfg))
        summaries = []
        events: list[Any] = []
        # NOTE: sold listings are stored first, so that the same scan's offers are scored
        # against the market they tell of
        crawled.sort(key=lambda found: found[0].options.get("sold") != "true")
        backlog: list[Any] = []
        for search, listings, summary in crawled:
            summary = replace(summary, run_id=run_ids[search.name])
            summary, evs = _store_search(cfg, sessions, search, listings, summary, clock(),
                                         identities)
            summaries.append(summary)
            # NOTE: a search's first successful scan finds everything already listed: that goes
            # out as one digest, not an alert per listing
            (backlog if summary.first and not summary.failed else events).extend(evs)
        alerts = None
        if cancel is not None and cancel.is_set():
            send_alerts = False  # NOTE: recorded in the outbox: the next run sends them
        if cfg.alerts and (cfg.email is not None or cfg.notify):
            from gpuscout.jobs.alerts.dispatch import process_events

            # NOTE: without send_alerts the alerts are recorded all the same, to go out later
            alerts = process_events(cfg, sessions, events, now=clock(), backlog=backlog,
                                    send=send_alerts)
    order = {s.name: i for i, s in enumerate(searches)}
    summaries.sort(key=lambda summary: order[summary.search])
    return ScanSummary(searches=tuple(summaries), alerts=alerts,
                       events=(*events, *backlog))


def _histories(sessions: sessionmaker[Session], searches: Sequence[SearchConfig]
               ) -> dict[str, SearchHistory]:
    from gpuscout.models.storage.polling import search_history

    with sessions() as session:
        return {s.name: search_history(session, s.name) for s in searches}


def _close_stopped(sessions: sessionmaker[Session], searches: Sequence[SearchConfig],
                   run_ids: dict[str, int], now: datetime) -> None:
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.tables.runs import ScrapeRun

    with transaction(sessions) as session:
        for s in searches:
            summary = SearchSummary(s.name, s.source, "error", run_id=run_ids[s.name],
                                    error="stopped before its pages were read (gpuscout was "
                                          "asked to stop)")
            _close_run(session.get(ScrapeRun, summary.run_id), summary, now)


def _open_runs(sessions: sessionmaker[Session], searches: Sequence[SearchConfig],
               started: datetime) -> dict[str, int]:
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.tables.runs import ScrapeRun

    ids = {}
    with transaction(sessions) as session:
        for s in searches:
            run = ScrapeRun(search=s.name, source=s.source, started_at=started, outcome="running")
            session.add(run)
            session.flush()
            ids[s.name] = run.id
    return ids


def _store_search(cfg: Config, sessions: sessionmaker[Session], search: SearchConfig,
                  listings: list[RawListing], summary: SearchSummary, now: datetime,
                  identify: Callable[[RawListing], Any] | None = None,
                  ) -> tuple[SearchSummary, list[Any]]:
    """Store, score and close the run in one transaction: all of it lands or none of it.
    ``identify`` (default: ``identify_raw``) gives each parsed listing its identity."""
    from gpuscout.jobs.scoring import Evaluator, identify_raw, to_record
    from gpuscout.models.storage.aliases import remember, resolve
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.store import mark_missing, upsert_listings
    from gpuscout.models.storage.tables.runs import ScrapeRun

    events: list[Any] = []
    try:
        with transaction(sessions) as session:
            ident = identify or identify_raw
            records = [to_record(raw, ident(raw), now=now) for raw in listings]
            # NOTE: a post a page shows under another of its ids is stored as the listing it is
            known_as = {(raw.source, raw.external_id[:64]): raw.aliases
                        for raw in listings if raw.aliases}
            records, other_ids = resolve(session, records, known_as)
            result = upsert_listings(session, records, now=now, search=search.name)
            remember(session, result.ids, other_ids)
            gone: list[int] = []
            if summary.may_mark_gone:
                gone = mark_missing(session, search.name, now=now, gone_after=cfg.scan.gone_after)
            elif summary.may_mark_newer_gone:
                gone = mark_missing(session, search.name, now=now, gone_after=cfg.scan.gone_after,
                                    posted_since=summary.covers_since)
            evaluator = Evaluator(cfg, session, now=now)
            touched = list(result.ids.values())
            events = evaluator.score_and_collect(touched, result)
            evaluator.record_gone(gone)
            summary = replace(summary, new=len(result.new), changed=len(result.changed),
                              gone=len(gone))
            _close_run(session.get(ScrapeRun, summary.run_id), summary, now)
    except Exception as exc:
        log.exception("storing search %s failed", search.name)
        summary = replace(summary, outcome="error", error=f"storing failed: {exc}")
        with transaction(sessions) as session:
            _close_run(session.get(ScrapeRun, summary.run_id), summary, now)
        events = []
    return summary, events


def _close_run(run: Any, summary: SearchSummary, now: datetime) -> None:
    if run is None:
        return
    run.finished_at = now
    run.outcome = summary.outcome
    run.pages = summary.pages
    run.listings = summary.listings
    run.new = summary.new
    run.changed = summary.changed
    run.gone = summary.gone
    run.error = (summary.error or None) and summary.error[:2000]
    run.saved_path = summary.saved_path
    run.reason = (summary.reason or None) and summary.reason[:32]
