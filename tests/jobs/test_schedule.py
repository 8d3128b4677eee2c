"""The scheduler, driven deterministically: jobs are inspected and run on demand, never waited for."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import inspect, select

from gpuscout.jobs.schedule import JITTER, MISFIRE_GRACE, build_scheduler, run_forever
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine, session_factory
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.tables.runs import ScrapeRun
from tests.support.market import OWN_PAGES, market_config, serve_pages, write_toml


@pytest.fixture
def scheduled(db_url: str, tmp_path: Path) -> Iterator[Any]:
    with LocalMarket() as market:
        serve_pages(market, OWN_PAGES)
        cfg, data = market_config(market.url, db_url, tmp_path)
        path = write_toml(data, tmp_path / "gpuscout.toml")
        engine = make_engine(db_url)
        upgrade(engine)
        yield cfg, str(path), engine
        engine.dispose()


def test_one_job_per_search_with_its_cron_schedule(scheduled: Any) -> None:
    cfg, path, engine = scheduled
    sched = build_scheduler(cfg, config_path=path, engine=engine, executor="debug",
                            start_paused=True)
    try:
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == {"search:ebay-3090-fe", "search:hws-3090", "search:craigslist-3090"}
        job = jobs["search:hws-3090"]
        assert list(job.args) == [path, "hws-3090"]
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE
        assert job.trigger.jitter == JITTER
        start = datetime(2026, 11, 26, 10, 7, tzinfo=UTC)
        # the default schedule "*/30 * * * *": the next fire is at :30, within the jitter
        fire = job.trigger.get_next_fire_time(None, start)
        assert datetime(2026, 11, 26, 10, 30, tzinfo=UTC) <= fire <= datetime(
            2026, 11, 26, 10, 30, tzinfo=UTC) + timedelta(seconds=JITTER)
        # the job store lives in the same database
        assert "apscheduler_jobs" in inspect(engine).get_table_names()
    finally:
        sched.shutdown(wait=False)


def test_removed_searches_leave_the_job_store(scheduled: Any) -> None:
    from dataclasses import replace

    cfg, path, engine = scheduled
    build_scheduler(cfg, config_path=path, engine=engine, executor="debug",
                    start_paused=True).shutdown(wait=False)
    fewer = replace(cfg, searches=cfg.searches[:1])
    sched = build_scheduler(fewer, config_path=path, engine=engine, executor="debug",
                            start_paused=True)
    try:
        assert [j.id for j in sched.get_jobs()] == ["search:ebay-3090-fe"]
    finally:
        sched.shutdown(wait=False)


def test_a_due_job_runs_the_scan_and_records_it(scheduled: Any) -> None:
    cfg, path, engine = scheduled
    sched = build_scheduler(cfg, config_path=path, engine=engine, executor="debug",
                            start_paused=True)
    try:
        job = sched.get_job("search:hws-3090")
        job.modify(next_run_time=datetime.now(UTC) - timedelta(seconds=1))
        # NOTE: mark the scheduler running without waking its thread (which stays parked on its
        # event), then process due jobs here; the debug executor runs them synchronously.
        sched.state = STATE_RUNNING
        sched._process_jobs()
        with session_factory(engine)() as s:
            runs = s.scalars(select(ScrapeRun)).all()
        assert [(r.search, r.outcome, r.listings) for r in runs] == [
            ("hws-3090", "ok", OWN_PAGES.counts["reddit"])]
        # the next run is scheduled again, in the future
        assert sched.get_job("search:hws-3090").next_run_time > datetime.now(UTC)
    finally:
        sched.shutdown(wait=False)


def test_sigterm_stops_the_scheduler_cleanly(scheduled: Any) -> None:
    cfg, path, engine = scheduled
    ready, stop = threading.Event(), threading.Event()
    previous = signal.getsignal(signal.SIGTERM)
    sent: list[bool] = []

    def send() -> None:
        if ready.wait(30):
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        else:  # never hang the suite: stop the scheduler and let the assertion below fail
            stop.set()

    sender = threading.Thread(target=send)
    sender.start()
    run_forever(cfg, config_path=path, engine=engine, ready=ready, stop=stop)
    sender.join()
    assert sent == [True]
    assert stop.is_set()  # set by the SIGTERM handler
    assert signal.getsignal(signal.SIGTERM) == previous
