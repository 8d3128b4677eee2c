"""One scan: for each configured search fetch its pages, identify, store, score, then alert."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.config import Config, SearchConfig

if TYPE_CHECKING:
    import httpx
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from gpuscout.scraper.listing import RawListing

log = logging.getLogger("gpuscout.scan")

#: outcomes after which a search's missing listings may count toward "gone"
COMPLETE_OUTCOMES = ("ok", "empty")
#: when pages of one search end differently, the worst decides the run's outcome
_SEVERITY = {"ok": 0, "empty": 1, "drift": 2, "error": 3, "rate_limited": 4, "blocked": 5}


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

    @property
    def failed(self) -> bool:
        return self.outcome not in COMPLETE_OUTCOMES

    @property
    def may_mark_gone(self) -> bool:
        return self.complete and not self.failed


@dataclass(frozen=True)
class ScanSummary:
    searches: tuple[SearchSummary, ...]
    alerts: Any = None
    events: tuple[Any, ...] = field(default=(), repr=False)

    @property
    def all_failed(self) -> bool:
        return bool(self.searches) and all(s.failed for s in self.searches)


Progress = Callable[[str, str], None]


def _fetch_settings(cfg: Config, source: str, stop_at: float | None = None) -> Any:
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


async def crawl_search(cfg: Config, search: SearchConfig, fetcher: Any, *, save_dir: Path,
                       now: Callable[[], datetime]) -> tuple[list[RawListing], SearchSummary]:
    """Fetch and parse every page of one search; the listings and how the crawl ended."""
    from gpuscout.scraper.crawl import crawl
    from gpuscout.scraper.sources import get_source

    source = get_source(search.source)
    spec = search_spec(cfg, search)
    listings: list[RawListing] = []
    outcome, pages, error, saved = "ok", 0, None, None
    outcomes: list[str] = []
    async for page in crawl(fetcher, source, spec, save_dir=save_dir, now=now):
        pages += 1
        outcomes.append(page.outcome)
        if page.result is not None:
            listings.extend(page.result.listings)
        if page.outcome not in COMPLETE_OUTCOMES:
            error = page.error
            saved = str(page.saved_path) if page.saved_path else None
    complete = True
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
    return listings, SearchSummary(search=search.name, source=search.source, outcome=outcome,
                                   pages=pages, listings=len(listings), error=error,
                                   saved_path=saved, complete=complete)


def _clock(now: datetime | None) -> Callable[[], datetime]:
    return (lambda: now) if now is not None else (lambda: datetime.now(UTC))


async def _crawl_all(cfg: Config, searches: Sequence[SearchConfig], *, save_dir: Path,
                     transport: httpx.AsyncBaseTransport | None, now: Callable[[], datetime],
                     fetcher_factory: Callable[[Any], Any] | None, progress: Progress | None,
                     ) -> list[tuple[SearchConfig, list[RawListing], SearchSummary]]:
    from gpuscout.scraper.fetch.client import Fetcher

    fetchers: dict[str, Any] = {}
    # NOTE: one deadline for every search of the scan, on the Fetchers' (monotonic) clock
    stop_at = time.monotonic() + cfg.fetch.scan_deadline

    def fetcher_for(source: str) -> Any:
        if source not in fetchers:
            settings = _fetch_settings(cfg, source, stop_at)
            fetchers[source] = (fetcher_factory(settings) if fetcher_factory
                                else Fetcher(settings, transport=transport))
        return fetchers[source]

    async def one(search: SearchConfig) -> tuple[SearchConfig, list[RawListing], SearchSummary]:
        if progress:
            progress(search.name, "fetching")
        try:
            listings, summary = await crawl_search(cfg, search, fetcher_for(search.source),
                                                   save_dir=save_dir, now=now)
        except Exception as exc:  # a failing source is recorded and the next one runs
            log.exception("search %s failed", search.name)
            listings, summary = [], SearchSummary(search.name, search.source, "error",
                                                  error=f"{type(exc).__name__}: {exc}")
        if progress:
            progress(search.name, f"{summary.outcome}: {summary.listings} listings")
        return search, listings, summary

    try:
        # NOTE: searches run concurrently; each source's Fetcher serialises requests per host
        return list(await asyncio.gather(*(one(s) for s in searches)))
    finally:
        for f in fetchers.values():
            await f.aclose()


def run_scan(cfg: Config, engine: Engine, *, only: str | Sequence[str] | None = None,
             transport: httpx.AsyncBaseTransport | None = None, now: datetime | None = None,
             fetcher_factory: Callable[[Any], Any] | None = None,
             progress: Progress | None = None, send_alerts: bool = True) -> ScanSummary:
    """Scan every configured search (or those named ``only``) once under the scan lock. Without
    ``send_alerts`` the alerts the scan calls for are queued in the outbox but not sent."""
    from gpuscout.models.storage.db import session_factory
    from gpuscout.models.storage.lock import close_interrupted, scan_lock

    names = [only] if isinstance(only, str) else list(only or ())
    searches = [cfg.search(n) for n in names] if names else list(cfg.searches)
    clock = _clock(now)
    started = clock()
    save_dir = Path(cfg.scan.data_dir).expanduser()
    sessions = session_factory(engine)
    with scan_lock(engine, now=started):
        # NOTE: holding the lock, any run still "running" is a killed scan's: close it first
        close_interrupted(engine, now=started)
        run_ids = _open_runs(sessions, searches, started)
        crawled = asyncio.run(_crawl_all(cfg, searches, save_dir=save_dir, transport=transport,
                                         now=clock, fetcher_factory=fetcher_factory,
                                         progress=progress))
        from gpuscout.jobs.scoring import IdentityCache, catalog_of

        identities = IdentityCache(catalog_of(cfg))
        summaries = []
        events: list[Any] = []
        for search, listings, summary in crawled:
            summary = replace(summary, run_id=run_ids[search.name])
            summary, evs = _store_search(cfg, sessions, search, listings, summary, clock(),
                                         identities)
            summaries.append(summary)
            events.extend(evs)
        alerts = None
        if cfg.alerts and cfg.email is not None:
            from gpuscout.jobs.alerts.dispatch import process_events

            # NOTE: without send_alerts the alerts are recorded all the same, to go out later
            alerts = process_events(cfg, sessions, events, now=clock(), send=send_alerts)
    return ScanSummary(searches=tuple(summaries), alerts=alerts, events=tuple(events))


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
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.store import mark_missing, upsert_listings
    from gpuscout.models.storage.tables.runs import ScrapeRun

    events: list[Any] = []
    try:
        with transaction(sessions) as session:
            ident = identify or identify_raw
            records = [to_record(raw, ident(raw)) for raw in listings]
            result = upsert_listings(session, records, now=now, search=search.name)
            gone: list[int] = []
            if summary.may_mark_gone:
                gone = mark_missing(session, search.name, now=now, gone_after=cfg.scan.gone_after)
            evaluator = Evaluator(cfg, session, now=now)
            touched = list(result.ids.values())
            events = evaluator.score_and_collect(touched, result)
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
