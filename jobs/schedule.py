"""APScheduler wiring for `gpuscout run`: one cron job per search, the digest jobs, clean shutdown."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from gpuscout.jobs.config import Config

log = logging.getLogger("gpuscout.schedule")

JOBSTORE_TABLE = "apscheduler_jobs"
MISFIRE_GRACE = 15 * 60
#: seconds of random delay so searches on the same schedule don't fire together
JITTER = 120


def scheduled_search(config_path: str | None, search: str) -> str:
    """The job body (importable by reference, as a persistent job store needs)."""
    from gpuscout.jobs.app import App
    from gpuscout.jobs.scan import run_scan
    from gpuscout.models.errors import ScanLocked

    app = App(config_path=config_path)
    try:
        summary = run_scan(app.config, app.engine(), only=search)
    except ScanLocked as exc:
        log.warning("search %s skipped: %s", search, exc)
        return "skipped"
    finally:
        app.close()
    s = summary.searches[0]
    log.info("search %s: %s, %d pages, %d listings, %d new, %d changed, %d gone",
             s.search, s.outcome, s.pages, s.listings, s.new, s.changed, s.gone)
    return s.outcome


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
                    start_paused: bool = False) -> Any:
    """A BackgroundScheduler holding one job per search (and per digest rule). Jobs run one at a
    time (a single worker), coalesce missed runs into one, and never run twice at once."""
    from apscheduler.executors.debug import DebugExecutor
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    stores = {"default": (SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
                          if jobstore == "sqlalchemy" else MemoryJobStore())}
    executors = {"default": DebugExecutor() if executor == "debug" else ThreadPoolExecutor(1)}
    sched = BackgroundScheduler(
        jobstores=stores, executors=executors, timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
    )
    sched.start(paused=True)
    for search in cfg.searches:
        trigger = CronTrigger.from_crontab(search.schedule, timezone=UTC)
        # NOTE: from_crontab takes no jitter, and add_job ignores trigger arguments when given a
        # trigger instance: set it on the trigger itself
        trigger.jitter = JITTER
        sched.add_job(
            scheduled_search, trigger, args=[config_path, search.name],
            id=f"search:{search.name}", name=f"scan {search.name}", replace_existing=True,
        )
    if cfg.email is not None:
        for rule in cfg.alerts:
            if rule.mode != "digest":
                continue
            hour, minute = (int(x) for x in rule.digest_time.split(":"))
            sched.add_job(
                scheduled_digest,
                CronTrigger(hour=hour, minute=minute, timezone=cfg.email.timezone),
                args=[config_path, rule.name], id=f"digest:{rule.name}",
                name=f"digest {rule.name}", replace_existing=True,
            )
    # NOTE: jobs for searches removed from the configuration must not linger in the job store
    wanted = {f"search:{s.name}" for s in cfg.searches} | {
        f"digest:{r.name}" for r in cfg.alerts if r.mode == "digest"}
    for job in sched.get_jobs():
        if job.id not in wanted:
            sched.remove_job(job.id)
    if not start_paused:
        sched.resume()
    return sched


def run_forever(cfg: Config, *, config_path: str | None, engine: Any,
                stop: threading.Event | None = None, ready: threading.Event | None = None) -> None:
    """Run the scheduler until SIGINT/SIGTERM (or ``stop`` is set); the running job finishes.
    ``ready`` is set once the signal handlers are installed and the jobs are scheduled."""
    stop = stop or threading.Event()

    def _handle(signum: int, _frame: Any) -> None:
        log.warning("received %s: stopping after the current job", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, _handle) for s in (signal.SIGINT, signal.SIGTERM)}
    sched = build_scheduler(cfg, config_path=config_path, engine=engine)
    try:
        for job in sched.get_jobs():
            log.info("scheduled %s: next at %s", job.name, job.next_run_time)
        if ready is not None:
            ready.set()
        stop.wait()
    finally:
        sched.shutdown(wait=True)
        for s, h in previous.items():
            signal.signal(s, h)
