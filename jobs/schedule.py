"""APScheduler wiring for `gpuscout run`: one job per search on its interval or cron schedule, a scan
of everything at start, the digest jobs, and a stop that is prompt at any moment.

Signals: the first SIGINT or SIGTERM stops the scheduler and cancels a scan that is fetching (its
runs are recorded as stopped; alerts already decided stay queued in the outbox); a second one
exits at once. The main thread waits in short steps, so a signal delivered to any thread is
handled within a fraction of a second.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gpuscout.jobs.config import Config, SearchConfig

log = logging.getLogger("gpuscout.schedule")

JOBSTORE_TABLE = "apscheduler_jobs"
MISFIRE_GRACE = 15 * 60
#: a search fires up to this share of its interval late, at random, so searches on the same
#: schedule don't fire together...
JITTER_FRACTION = 0.1
#: ...but never more than this many seconds late
MAX_JITTER = 15 * 60
#: how often the main thread looks whether it was asked to stop
STOP_POLL = 0.2
START_JOB = "start"


@dataclass
class _Process:
    """What the scheduled jobs of one `gpuscout run` share: fetch memory (robots.txt, API tokens,
    quotas) and the stop event that cancels a running scan."""

    stop: threading.Event = field(default_factory=threading.Event)
    memory: Any = None


_PROCESS = _Process()


def interval_seconds(search: SearchConfig) -> float:
    """How long between two scans of ``search``: its ``every``, or its cron schedule's longest
    gap."""
    if search.every is not None:
        return search.every
    from gpuscout.jobs.config.interval import cron_gap

    return cron_gap(search.schedule or "* * * * *")


def jitter_for(interval: float) -> float:
    return min(MAX_JITTER, interval * JITTER_FRACTION)


def trigger_for(search: SearchConfig, *, start: datetime) -> Any:
    """An interval trigger from ``start`` (the first run is one interval later: `run` scans
    everything at start), or the cron trigger; both with proportional jitter."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jitter = jitter_for(interval_seconds(search))
    if search.every is not None:
        return IntervalTrigger(seconds=search.every, timezone=UTC, jitter=jitter,
                               start_date=start + timedelta(seconds=search.every))
    trigger = CronTrigger.from_crontab(search.schedule or "* * * * *", timezone=UTC)
    # NOTE: from_crontab takes no jitter, and add_job ignores trigger arguments when given a
    # trigger instance: set it on the trigger itself
    trigger.jitter = jitter
    return trigger


def _scan(config_path: str | None, only: str | None) -> str:
    from gpuscout.jobs.app import App
    from gpuscout.jobs.scan import ScanCancelled, run_scan
    from gpuscout.models.errors import ScanLocked

    app = App(config_path=config_path)
    try:
        summary = run_scan(app.config, app.engine(), only=only, memory=_PROCESS.memory,
                           cancel=_PROCESS.stop)
    except ScanLocked as exc:
        log.warning("scan of %s skipped: %s", only or "every search", exc)
        return "skipped"
    except ScanCancelled:
        log.warning("scan of %s stopped before it finished", only or "every search")
        return "stopped"
    finally:
        app.close()
    for s in summary.searches:
        log.info("search %s: %s, %d pages, %d listings, %d new, %d changed, %d gone",
                 s.search, s.outcome, s.pages, s.listings, s.new, s.changed, s.gone)
    return ",".join(s.outcome for s in summary.searches)


def scheduled_search(config_path: str | None, search: str) -> str:
    """The job body of one search (importable by reference, as a persistent job store needs)."""
    return _scan(config_path, search)


def scheduled_start(config_path: str | None) -> str:
    """The scan of every search that `gpuscout run` makes as it starts."""
    return _scan(config_path, None)


def scheduled_digest(config_path: str | None, rule: str) -> int:
    from gpuscout.jobs.alerts.dispatch import send_digest
    from gpuscout.jobs.app import App

    app = App(config_path=config_path)
    try:
        return send_digest(app.config, app.sessions(), rule=rule, now=datetime.now(UTC)).sent
    finally:
        app.close()


def build_scheduler(cfg: Config, *, config_path: str | None, engine: Any = None,
                    executor: str = "threadpool", jobstore: str = "sqlalchemy",
                    start_paused: bool = False, scan_at_start: bool = False,
                    now: datetime | None = None) -> Any:
    """A BackgroundScheduler holding one job per search (and per digest rule), and with
    ``scan_at_start`` a one-off scan of every search now. Jobs run one at a time (a single
    worker), coalesce missed runs into one, and never run twice at once."""
    from apscheduler.executors.debug import DebugExecutor
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger

    stores = {"default": (SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
                          if jobstore == "sqlalchemy" else MemoryJobStore())}
    executors = {"default": DebugExecutor() if executor == "debug" else ThreadPoolExecutor(1)}
    sched = BackgroundScheduler(
        jobstores=stores, executors=executors, timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
    )
    sched.start(paused=True)
    start = now or datetime.now(UTC)
    wanted: set[str] = set()
    if scan_at_start:
        sched.add_job(scheduled_start, DateTrigger(run_date=start, timezone=UTC),
                      args=[config_path], id=START_JOB, name="scan every search (start)",
                      replace_existing=True)
        wanted.add(START_JOB)
    for search in cfg.searches:
        job_id = f"search:{search.name}"
        sched.add_job(
            scheduled_search, trigger_for(search, start=start), args=[config_path, search.name],
            id=job_id, name=f"scan {search.name}", replace_existing=True,
        )
        wanted.add(job_id)
    if cfg.alerts:
        from gpuscout.jobs.alerts.rules import alert_timezone

        for rule in cfg.alerts:
            if rule.mode != "digest":
                continue
            hour, minute = (int(x) for x in rule.digest_time.split(":"))
            sched.add_job(
                scheduled_digest,
                CronTrigger(hour=hour, minute=minute, timezone=alert_timezone(cfg)),
                args=[config_path, rule.name], id=f"digest:{rule.name}",
                name=f"digest {rule.name}", replace_existing=True,
            )
            wanted.add(f"digest:{rule.name}")
    # NOTE: jobs for searches removed from the configuration must not linger in the job store
    for job in sched.get_jobs():
        if job.id not in wanted:
            sched.remove_job(job.id)
    if not start_paused:
        sched.resume()
    return sched


class Stopper:
    """The signal handler of `gpuscout run`: the first signal sets ``stop``; the next one calls
    ``force_exit(128 + signal number)`` (130 for Ctrl-C)."""

    def __init__(self, stop: threading.Event, force_exit: Callable[[int], Any]) -> None:
        self.stop = stop
        self.force_exit = force_exit
        self.received: list[int] = []

    def __call__(self, signum: int, _frame: Any) -> None:
        self.received.append(signum)
        name = signal.Signals(signum).name
        if len(self.received) > 1:
            log.error("received %s again: exiting now", name)
            self.force_exit(128 + signum)
            return
        log.warning("received %s: stopping (a scan that is fetching is cancelled); "
                    "press Ctrl-C again to exit at once", name)
        self.stop.set()


def run_forever(cfg: Config, *, config_path: str | None, engine: Any,
                stop: threading.Event | None = None, ready: threading.Event | None = None,
                force_exit: Callable[[int], Any] = os._exit, scan_at_start: bool = True) -> None:
    """Scan every search now, then each on its schedule, until SIGINT/SIGTERM (or ``stop`` is
    set). The first signal stops promptly, cancelling a scan that is fetching; a second one
    calls ``force_exit`` (130 for SIGINT, 143 for SIGTERM). ``ready`` is set once the signal
    handlers are installed and the jobs are scheduled."""
    from gpuscout.scraper.fetch.memory import FetchMemory

    stop = stop or threading.Event()
    handler = Stopper(stop, force_exit)
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    _PROCESS.stop, _PROCESS.memory = stop, FetchMemory()
    sched = None
    try:
        sched = build_scheduler(cfg, config_path=config_path, engine=engine,
                                scan_at_start=scan_at_start)
        for job in sched.get_jobs():
            log.info("scheduled %s: next at %s", job.name, job.next_run_time)
        if ready is not None:
            ready.set()
        # NOTE: a wait without a timeout can miss a signal another thread received: Python runs
        # handlers in the main thread only when it next runs bytecode
        while not stop.wait(STOP_POLL):
            pass
    finally:
        stop.set()
        if sched is not None:
            sched.shutdown(wait=True)
        _PROCESS.memory = None
        _PROCESS.stop = threading.Event()
        for s, h in previous.items():
            signal.signal(s, h)

