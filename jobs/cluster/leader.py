"""`gpuscout run --distributed`: one active scheduler, any number of standbys.

Every instance waits for the PostgreSQL advisory lock "scheduler" on a connection of its own; the
one holding it runs APScheduler 3 (in memory: the schedule is rebuilt from the configuration) and
the others check every ``heartbeat`` seconds. The server frees the lock the moment its holder's
connection closes, so when the active instance dies a standby takes over within one heartbeat.

Each search fires at times every scheduler computes alike: an ``every`` search at a fixed offset
(from its name) within its interval, a cron search on its schedule; no jitter. A fire is written
to the ledger, unique on (search, due time), before its task is sent, so a fire is enqueued once
whichever scheduler sees it; a new leader follows the schedule and fires each search's latest due
time that nobody fired (missed while no scheduler was active: several missed ones coalesce into
this one, as `gpuscout run` coalesces missed runs).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.config import Config, SearchConfig

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

log = logging.getLogger("gpuscout.leader")

LEADER_LOCK = "scheduler"
#: the origin of every ``every`` schedule
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: a new leader fires a due time nobody fired only if it is at most this old (else the next)
MAX_CATCH_UP = timedelta(minutes=15)


def offset_seconds(search: SearchConfig) -> float:
    """Where in its interval an ``every`` search fires: a fixed share from its name, so that
    searches on one interval do not all fire together, and every scheduler agrees."""
    every = search.every or 60.0
    return (zlib.crc32(search.name.encode()) % 1000) / 1000 * every


def trigger_for(search: SearchConfig) -> Any:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if search.every is not None:
        start = EPOCH + timedelta(seconds=offset_seconds(search))
        return IntervalTrigger(seconds=search.every, start_date=start, timezone=UTC)
    return CronTrigger.from_crontab(search.schedule or "* * * * *", timezone=UTC)


def due_at(search: SearchConfig, now: datetime) -> datetime:
    """The latest time ≤ ``now`` at which ``search`` was due."""
    if search.every is not None:
        start = EPOCH + timedelta(seconds=offset_seconds(search))
        step = timedelta(seconds=search.every)
        return start + step * ((now - start) // step)
    from gpuscout.jobs.config.interval import cron_gap

    trigger = trigger_for(search)
    gap = timedelta(seconds=cron_gap(search.schedule or "* * * * *"))
    t = trigger.get_next_fire_time(None, now - gap - timedelta(seconds=1))
    last = t
    while t is not None and t <= now:
        last, t = t, trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
    return last if last is not None and last <= now else now


def _interval(search: SearchConfig) -> timedelta:
    from gpuscout.jobs.schedule import interval_seconds

    return timedelta(seconds=interval_seconds(search))


class Leader:
    """The work of the active scheduler: write each due fire once, then enqueue it."""

    def __init__(self, cfg: Config, engine: Engine, celery: Any, *, name: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.cfg = cfg
        self.engine = engine
        self.celery = celery
        self.name = name
        self.clock = clock

    def fire(self, search: str, due: datetime) -> int | None:
        """Write and enqueue the fire of ``search`` due at ``due``; its id, or None when it was
        already written."""
        from gpuscout.jobs.cluster.app import enqueue
        from gpuscout.models.storage.fires import forget_fire, record_fire, set_task

        fire_id = record_fire(self.engine, search, due, now=self.clock(), scheduler=self.name)
        if fire_id is None:
            log.info("fire of %s due %s was already enqueued", search, due)
            return None
        try:
            task_id = enqueue(self.celery, self.cfg, fire_id, search)
        except Exception:
            log.exception("the broker refused the fire of %s due %s", search, due)
            forget_fire(self.engine, fire_id)
            return None
        set_task(self.engine, fire_id, task_id)
        log.info("fired %s due %s (fire %d, task %s)", search, due.isoformat(), fire_id, task_id)
        return fire_id

    def fire_due(self, search_name: str) -> int | None:
        """The job of one search: its due time is the latest one ≤ now (APScheduler runs it at,
        or a little after, that time)."""
        search = self.cfg.search(search_name)
        return self.fire(search_name, due_at(search, self.clock()))

    def catch_up(self) -> list[int]:
        """On taking over: fire each search's latest due time if nobody did and it is recent."""
        now = self.clock()
        fired = []
        for search in self.cfg.searches:
            due = due_at(search, now)
            if now - due <= min(_interval(search), MAX_CATCH_UP):
                fire_id = self.fire(search.name, due)
                if fire_id is not None:
                    fired.append(fire_id)
        return fired

    def scheduler(self) -> Any:
        """A started BackgroundScheduler firing every search (and the digests) on time."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        from gpuscout.jobs.schedule import MISFIRE_GRACE, scheduled_digest

        sched = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)}, timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": MISFIRE_GRACE})
        for search in self.cfg.searches:
            sched.add_job(self.fire_due, trigger_for(search), args=[search.name],
                          id=f"search:{search.name}", name=f"fire {search.name}")
        if self.cfg.alerts:
            from gpuscout.jobs.alerts.rules import alert_timezone

            for rule in self.cfg.alerts:
                if rule.mode != "digest":
                    continue
                hour, minute = (int(x) for x in rule.digest_time.split(":"))
                sched.add_job(scheduled_digest,
                              CronTrigger(hour=hour, minute=minute, timezone=alert_timezone(self.cfg)),
                              args=[self.cfg.path, rule.name], id=f"digest:{rule.name}",
                              name=f"digest {rule.name}")
        sched.start()
        return sched


def _lock_alive(conn: Connection) -> bool:
    from sqlalchemy import text

    try:
        conn.execute(text("SELECT 1")).scalar()
        conn.commit()
        return True
    except Exception:
        return False


def run_distributed(cfg: Config, engine: Engine, *, stop: threading.Event,
                    ready: threading.Event | None = None, celery: Any = None,
                    name: str | None = None, on_role: Callable[[str], None] | None = None) -> None:
    """Stand by until this instance holds the scheduler lock, then schedule until ``stop`` is
    set or the lock's connection is lost (then stand by again)."""
    import os

    from gpuscout.jobs.cluster.app import make_celery, node_name, require_postgres
    from gpuscout.models.storage.fires import heartbeat, node_stopped
    from gpuscout.models.storage.lock import try_lock, unlock

    require_postgres(engine)
    celery = celery if celery is not None else make_celery(cfg)
    name = name or node_name("scheduler")
    beat = cfg.cluster.heartbeat
    started = datetime.now(UTC)
    role = "standby"

    def report(doing: str | None = None) -> None:
        try:
            heartbeat(engine, name=name, role=role, host=socket.gethostname(), pid=os.getpid(),
                      now=datetime.now(UTC), started_at=started, doing=doing)
        except Exception:
            log.warning("could not write this scheduler's heartbeat", exc_info=True)

    report()
    if ready is not None:
        ready.set()
    try:
        while not stop.is_set():
            try:
                conn = engine.connect()
            except Exception:
                log.warning("the database is unreachable; trying again in %g s", beat)
                stop.wait(beat)
                continue
            try:
                while not stop.is_set():
                    if try_lock(conn, LEADER_LOCK):
                        break
                    role = "standby"
                    report()
                    stop.wait(beat)
                if stop.is_set():
                    break
                role = "leader"
                log.warning("%s is the active scheduler", name)
                if on_role is not None:
                    on_role(role)
                leader = Leader(cfg, engine, celery, name=name)
                report("taking over")
                # NOTE: the schedule first, then the catch-up: a due time passing in between is
                # fired by one of them (the ledger keeps it to one), never by neither
                sched = leader.scheduler()
                leader.catch_up()
                try:
                    while not stop.wait(beat):
                        if not _lock_alive(conn):
                            log.error("lost the database connection holding the scheduler "
                                      "lock: standing by")
                            break
                        jobs = sorted((j.next_run_time, j.name) for j in sched.get_jobs()
                                      if j.next_run_time is not None)
                        report(f"next: {jobs[0][1]} at {jobs[0][0]:%H:%M:%S}" if jobs else None)
                finally:
                    sched.shutdown(wait=True)
                    role = "standby"
                if stop.is_set():
                    with contextlib.suppress(Exception):
                        unlock(conn, LEADER_LOCK)
            finally:
                with contextlib.suppress(Exception):
                    conn.close()
    finally:
        try:
            node_stopped(engine, name, now=datetime.now(UTC))
        except Exception:
            log.warning("could not record this scheduler's stop", exc_info=True)
