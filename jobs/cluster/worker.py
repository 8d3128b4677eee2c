"""`gpuscout worker`: a Celery worker that scans one search per task, and what that task does.

A task carries one fire (its ledger id and search). The worker takes the search's own lock (and
the scan lock shared), counts the delivery and marks the fire running, scans the search with the
shared politeness limit, then closes the fire with the search's outcome. A delivery whose search
is being scanned by another worker (a duplicate, or a redelivery while the first is still
running) changes nothing but the delivery count; one whose fire is already done is dropped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gpuscout.jobs.config import Config

log = logging.getLogger("gpuscout.worker")


class FireDone(Exception):
    """The fire was already scanned to its end (a late duplicate delivery)."""


class WorkerState:
    """What the tasks of one worker process share: robots rules and tokens between scans, the
    search being scanned (for the heartbeat)."""

    def __init__(self, cfg: Config, engine: Engine, *, name: str, proxy: str | None) -> None:
        from gpuscout.scraper.fetch.memory import FetchMemory

        self.cfg = cfg
        self.engine = engine
        self.name = name
        self.proxy = proxy
        self.memory = FetchMemory()
        self.doing: str | None = None
        self.started = datetime.now(UTC)

    def pacer_factory(self) -> Any:
        """Each scan's Pacer: shared through Redis when [fetch] pacing = "shared"."""
        if self.cfg.fetch.pacing != "shared":
            return None
        url = self.cfg.cluster.redis_url
        if not url:
            from gpuscout.jobs.errors import ClusterError

            raise ClusterError(f'[fetch] pacing = "shared" needs Redis: export '
                               f"{self.cfg.cluster.redis_url_env} (or "
                               f"{self.cfg.cluster.broker_url_env})")
        from gpuscout.scraper.fetch.pacing import SharedPacer

        return lambda: SharedPacer(url)


def scan_fire(state: WorkerState, fire_id: int, search: str) -> str:
    """Run the fire ``fire_id`` of ``search``; what became of it: a scan outcome ("ok", "error",
    …), "busy" (scanning elsewhere), "done" (already scanned) or "unknown"."""
    from gpuscout.jobs.scan import ScanCancelled, run_scan
    from gpuscout.models.errors import ScanLocked
    from gpuscout.models.storage.fires import count_delivery, finish_fire, get_fire, start_fire

    engine = state.engine
    fire = get_fire(engine, fire_id)
    if fire is None or fire.search != search:
        log.warning("fire %s of %s is not in the ledger: dropped", fire_id, search)
        return "unknown"
    if fire.state == "done":
        return "done"

    def started() -> None:
        if start_fire(engine, fire_id, worker=state.name, now=datetime.now(UTC)) is None:
            raise FireDone(f"fire {fire_id} is done")

    state.doing = search
    try:
        summary = run_scan(state.cfg, engine, only=search, memory=state.memory, per_search=True,
                           pacer=state.pacer_factory(), proxy=state.proxy, on_locked=started)
    except ScanLocked as exc:
        count_delivery(engine, fire_id)
        log.info("fire %d of %s not run: %s", fire_id, search, exc)
        return "busy"
    except FireDone:
        return "done"
    except ScanCancelled:
        finish_fire(engine, fire_id, outcome="stopped", now=datetime.now(UTC),
                    error="the worker was asked to stop before the pages were read")
        return "stopped"
    except Exception as exc:
        log.exception("fire %d of %s failed", fire_id, search)
        finish_fire(engine, fire_id, outcome="error", now=datetime.now(UTC),
                    error=f"{type(exc).__name__}: {exc}")
        return "error"
    finally:
        state.doing = None
    result = summary.searches[0]
    finish_fire(engine, fire_id, outcome=result.outcome, now=datetime.now(UTC),
                run_id=result.run_id, error=result.error)
    log.info("fire %d of %s: %s, %d listings, %d new", fire_id, search, result.outcome,
             result.listings, result.new)
    return result.outcome


def _heartbeats(state: WorkerState, stop: threading.Event) -> None:
    from gpuscout.models.storage.fires import heartbeat

    while True:
        try:
            heartbeat(state.engine, name=state.name, role="worker", host=socket.gethostname(),
                      pid=os.getpid(), now=datetime.now(UTC), started_at=state.started,
                      doing=state.doing)
        except Exception:
            log.warning("could not write this worker's heartbeat", exc_info=True)
        if stop.wait(state.cfg.cluster.heartbeat):
            return


def run_worker(cfg: Config, engine: Engine, *, name: str | None = None,
               proxy: str | None = None, loglevel: str = "WARNING") -> None:
    """Consume the cluster's queue, one scan at a time, until a signal stops it (the first
    SIGTERM or Ctrl-C lets the running scan finish; a second one stops at once, and its task
    goes to another worker)."""
    from gpuscout.jobs.cluster.app import SCAN_TASK, make_celery, node_name, require_postgres
    from gpuscout.models.storage.fires import node_stopped

    require_postgres(engine)
    app = make_celery(cfg)
    state = WorkerState(cfg, engine, name=name or node_name("worker"), proxy=proxy)
    if state.pacer_factory() is not None:
        _check_redis(cfg)

    @app.task(name=SCAN_TASK)
    def scan_search(fire_id: int, search: str) -> str:
        return scan_fire(state, fire_id, search)

    stop = threading.Event()
    beats = threading.Thread(target=_heartbeats, args=(state, stop), daemon=True,
                             name="heartbeat")
    beats.start()
    try:
        worker: Any = app.Worker(
            hostname=state.name, pool="solo", concurrency=1, queues=[cfg.cluster.queue],
            loglevel=loglevel, without_mingle=True, without_gossip=True,
            without_heartbeat=True, quiet=True)
        worker.start()
        code = getattr(worker, "exitcode", 0) or 0
    finally:
        stop.set()
        beats.join(timeout=5)
        try:
            node_stopped(engine, state.name, now=datetime.now(UTC))
        except Exception:
            log.warning("could not record this worker's stop", exc_info=True)
    if code:
        raise SystemExit(code)


def _check_redis(cfg: Config) -> None:
    import redis

    from gpuscout.jobs.errors import ClusterError

    url = cfg.cluster.redis_url or ""
    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ClusterError(f"the shared politeness limit's Redis cannot be reached: {exc}") from exc
    finally:
        client.close()
