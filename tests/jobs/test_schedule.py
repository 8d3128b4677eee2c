"""The scheduler, driven deterministically: jobs are inspected and run on demand, never waited for;
`run` is stopped by real signals, at rest and in the middle of a scan."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect, select

from gpuscout.jobs.config import parse_config
from gpuscout.jobs.schedule import (
    JITTER_FRACTION,
    MAX_JITTER,
    MISFIRE_GRACE,
    START_JOB,
    Stopper,
    build_scheduler,
    interval_seconds,
    jitter_for,
    run_forever,
)
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine, session_factory
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.tables.runs import ScrapeRun
from tests.support.market import OWN_PAGES, market_config, serve_pages, write_toml

START = datetime(2026, 11, 26, 10, 7, tzinfo=UTC)


@pytest.fixture
def market() -> Iterator[LocalMarket]:
    with LocalMarket() as m:
        serve_pages(m, OWN_PAGES)
        yield m


@pytest.fixture
def scheduled(market: LocalMarket, db_url: str, tmp_path: Path) -> Iterator[Any]:
    cfg, data = market_config(market.url, db_url, tmp_path)
    path = write_toml(data, tmp_path / "gpuscout.toml")
    engine = make_engine(db_url)
    upgrade(engine)
    yield cfg, str(path), engine
    engine.dispose()


def test_searches_run_on_their_sources_default_intervals_with_proportional_jitter(
        scheduled: Any) -> None:
    cfg, path, engine = scheduled
    sched = build_scheduler(cfg, config_path=path, engine=engine, executor="debug",
                            start_paused=True, now=START)
    try:
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == {"search:ebay-3090-fe", "search:hws-3090", "search:craigslist-3090"}
        every = {job_id: job.trigger.interval.total_seconds() for job_id, job in jobs.items()}
        # the registry's defaults: Reddit every minute (with its API token), eBay 10, Craigslist 15
        assert every == {"search:hws-3090": 60, "search:ebay-3090-fe": 600,
                         "search:craigslist-3090": 900}
        job = jobs["search:hws-3090"]
        assert isinstance(job.trigger, IntervalTrigger)
        assert list(job.args) == [path, "hws-3090"]
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE
        assert job.trigger.jitter == 6.0 == 60 * JITTER_FRACTION
        assert jobs["search:ebay-3090-fe"].trigger.jitter == 60.0
        # the first run is one interval after the start (the start scan covers now), within jitter
        fire = job.trigger.get_next_fire_time(None, START)
        assert START + timedelta(seconds=60) <= fire <= START + timedelta(seconds=66)
        # the job store lives in the same database
        assert "apscheduler_jobs" in inspect(engine).get_table_names()
    finally:
        sched.shutdown(wait=False)


def test_cron_schedules_keep_cron_with_jitter_from_their_gap(scheduled: Any) -> None:
    cfg, path, engine = scheduled
    cron = replace(cfg, searches=(replace(cfg.searches[0], schedule="*/30 * * * *", every=None),
                                  replace(cfg.searches[1], schedule="0 8 * * mon-fri", every=None)))
    assert interval_seconds(cron.searches[0]) == 1800
    assert interval_seconds(cron.searches[1]) == 3 * 86400  # Friday 08:00 to Monday 08:00
    sched = build_scheduler(cron, config_path=path, engine=engine, executor="debug",
                            start_paused=True, now=START)
    try:
        job = sched.get_job("search:ebay-3090-fe")
        assert isinstance(job.trigger, CronTrigger) and job.trigger.jitter == 180.0
        fire = job.trigger.get_next_fire_time(None, START)
        at = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
        assert at <= fire <= at + timedelta(seconds=180)
        assert sched.get_job("search:hws-3090").trigger.jitter == MAX_JITTER
    finally:
        sched.shutdown(wait=False)
    assert jitter_for(10) == 1.0 and jitter_for(10 * 86400) == MAX_JITTER


def test_every_and_schedule_are_read_and_checked() -> None:
    search = {"name": "s", "source": "reddit", "query": "3090"}
    assert parse_config({"search": [{**search, "every": "90s"}]}).searches[0].every == 90
    assert parse_config({"search": [{**search, "every": "1h30m"}]}).searches[0].every == 5400
    assert parse_config({"search": [{**search, "every": 45}]}).searches[0].every == 45
    cron = parse_config({"search": [{**search, "schedule": "*/5 * * * *"}]}).searches[0]
    assert (cron.schedule, cron.every) == ("*/5 * * * *", None)
    from gpuscout.jobs.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^search\[0\]: give schedule \(cron\) or every"):
        parse_config({"search": [{**search, "every": "60s", "schedule": "* * * * *"}]})
    with pytest.raises(ConfigError, match=r"^search\[0\]\.every = 'soon': must be a duration"):
        parse_config({"search": [{**search, "every": "soon"}]})
    with pytest.raises(ConfigError, match=r"must be at least 1 second"):
        parse_config({"search": [{**search, "every": "0s"}]})


def test_removed_searches_leave_the_job_store(scheduled: Any) -> None:
    cfg, path, engine = scheduled
    # NOTE: its start scan is not due yet (APScheduler processes due jobs once more as it stops)
    build_scheduler(cfg, config_path=path, engine=engine, executor="debug", start_paused=True,
                    scan_at_start=True, now=datetime.now(UTC) + timedelta(hours=1)
                    ).shutdown(wait=False)
    fewer = replace(cfg, searches=cfg.searches[:1])
    sched = build_scheduler(fewer, config_path=path, engine=engine, executor="debug",
                            start_paused=True)
    try:
        assert [j.id for j in sched.get_jobs()] == ["search:ebay-3090-fe"]
    finally:
        sched.shutdown(wait=False)


def _run_due(sched: Any) -> None:
    # NOTE: mark the scheduler running without waking its thread (which stays parked on its
    # event), then process due jobs here; the debug executor runs them synchronously.
    sched.state = STATE_RUNNING
    sched._process_jobs()


def test_run_scans_every_search_once_at_start(scheduled: Any) -> None:
    cfg, path, engine = scheduled
    sched = build_scheduler(cfg, config_path=path, engine=engine, executor="debug",
                            start_paused=True, scan_at_start=True)
    try:
        start = sched.get_job(START_JOB)
        assert start.next_run_time <= datetime.now(UTC)
        _run_due(sched)
        with session_factory(engine)() as s:
            runs = s.scalars(select(ScrapeRun)).all()
        assert sorted((r.search, r.outcome) for r in runs) == [
            ("craigslist-3090", "ok"), ("ebay-3090-fe", "ok"), ("hws-3090", "ok")]
        assert len({r.started_at for r in runs}) == 1  # one scan of every search
        assert sched.get_job(START_JOB) is None  # it runs once
        assert all(j.next_run_time > datetime.now(UTC) for j in sched.get_jobs())
    finally:
        sched.shutdown(wait=False)


def test_a_due_job_runs_the_scan_and_records_it(scheduled: Any) -> None:
    cfg, path, engine = scheduled
    sched = build_scheduler(cfg, config_path=path, engine=engine, executor="debug",
                            start_paused=True)
    try:
        job = sched.get_job("search:hws-3090")
        job.modify(next_run_time=datetime.now(UTC) - timedelta(seconds=1))
        _run_due(sched)
        with session_factory(engine)() as s:
            runs = s.scalars(select(ScrapeRun)).all()
        assert [(r.search, r.outcome, r.listings) for r in runs] == [
            ("hws-3090", "ok", OWN_PAGES.counts["reddit"])]
        # the next run is scheduled again, in the future
        assert sched.get_job("search:hws-3090").next_run_time > datetime.now(UTC)
    finally:
        sched.shutdown(wait=False)


def _signal_when(ready: threading.Event, stop: threading.Event, signum: int, *,
                 before: threading.Event | None = None) -> threading.Thread:
    """A thread that sends ``signum`` to this process once ``ready`` (and ``before``) are set."""
    def send() -> None:
        if ready.wait(30) and (before is None or before.wait(30)):
            os.kill(os.getpid(), signum)
        else:  # never hang the suite: stop the scheduler and let the assertions fail
            stop.set()

    sender = threading.Thread(target=send)
    sender.start()
    return sender


def test_sigterm_at_rest_stops_the_scheduler_promptly(scheduled: Any) -> None:
    cfg, path, engine = scheduled
    ready, stop = threading.Event(), threading.Event()
    previous = signal.getsignal(signal.SIGTERM)
    sender = _signal_when(ready, stop, signal.SIGTERM)
    began = time.monotonic()
    run_forever(cfg, config_path=path, engine=engine, ready=ready, stop=stop,
                scan_at_start=False)
    sender.join()
    assert time.monotonic() - began < 10
    assert stop.is_set()  # set by the SIGTERM handler
    assert signal.getsignal(signal.SIGTERM) == previous


def test_sigint_in_the_middle_of_a_scan_cancels_it_and_records_the_stop(
        scheduled: Any, market: LocalMarket) -> None:
    cfg, path, engine = scheduled
    fetching = threading.Event()

    def hang(request: Any) -> tuple[int, dict[str, str], bytes]:
        fetching.set()
        market._release.wait(20)  # the scan waits on the network until the test ends
        return 503, {}, b""

    market.serve("/r/hardwareswap/search.json", hang)
    ready, stop = threading.Event(), threading.Event()
    sender = _signal_when(ready, stop, signal.SIGINT, before=fetching)
    began = time.monotonic()
    try:
        run_forever(cfg, config_path=path, engine=engine, ready=ready, stop=stop)
    finally:
        market.release()
    sender.join()
    assert time.monotonic() - began < 15
    with session_factory(engine)() as s:
        runs = s.scalars(select(ScrapeRun)).all()
    assert runs and {r.outcome for r in runs} == {"error"}
    assert all("stopped before its pages were read" in (r.error or "") for r in runs)


def test_a_second_signal_forces_the_exit() -> None:
    stop, forced = threading.Event(), list[int]()
    handler = Stopper(stop, forced.append)
    handler(signal.SIGINT, None)
    assert stop.is_set() and forced == []
    handler(signal.SIGINT, None)
    assert forced == [130]
    term = Stopper(threading.Event(), forced.append)
    term(signal.SIGTERM, None)
    term(signal.SIGTERM, None)
    assert forced == [130, 143]
