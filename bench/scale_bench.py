"""Scaling out: searches per minute with 1, 2 and 4 `gpuscout worker` processes against a local
marketplace of 400 hosts (each its own loopback address, 127.1.x.y, one port) whose per-host
interval is 2 s, kept across the workers through Redis; the smallest gap any host saw between two
requests over that interval; and the time from a worker killed mid-scan to its scan's completion
by another worker.

Each search reads robots.txt and three pages of one host: three intervals of waiting per search,
so a worker's rate is set by politeness, not CPU (the CPU the workers used is reported beside).
Each phase uses hosts of its own, so no phase starts with another's windows or cached robots.txt.
"""

from __future__ import annotations

import os
import tempfile
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HOSTS = 400
INTERVAL = 2.0
REDIS_ENV = "GPUSCOUT_TEST_REDIS_URL"


@dataclass(frozen=True)
class ScaleSizes:
    #: searches per worker in each phase (a phase with W workers runs W times as many)
    per_worker: int
    workers: tuple[int, ...] = (1, 2, 4)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _config(tmp: Path, db_url: str, market: Any, searches: list[dict[str, Any]], *,
            pages: int, scan_deadline: float, visibility: float, restore: float) -> tuple[Path, Any]:
    from tests.support.cluster import unique_queue
    from tests.support.market import market_config, write_toml

    _cfg, data = market_config(
        market.base_url, db_url, tmp, search=searches,
        fetch={"max_retries": 0, "timeout": 5, "scan_deadline": scan_deadline,
               "pacing": "shared"},
        cluster={"queue": unique_queue("bench"), "visibility_timeout": visibility,
                 "restore_interval": restore, "heartbeat": 1})
    data["sources"]["craigslist"] = {"base_url": market.base_url, "min_interval": INTERVAL,
                                     "jitter": 0, "max_pages": pages}
    path = write_toml(data, tmp / "gpuscout.toml")
    from gpuscout.jobs.config import parse_config

    return path, parse_config(tomllib.loads(path.read_text()))


def _searches(first_host: int, count: int) -> list[dict[str, Any]]:
    from gpuscout.jobs.testing.manyhosts import host_address

    return [{"name": f"cl-{first_host + i}", "source": "craigslist", "query": "rtx 3090",
             "every": "1h", "options": {"site": host_address((first_host + i) % HOSTS)}}
            for i in range(count)]


def _broker(redis_url: str) -> Any:
    """The broker's variable set while the Celery app is made (this process's environment is
    left as it was: the benchmark also runs inside the test suite)."""
    from unittest import mock

    return mock.patch.dict(os.environ, {"GPUSCOUT_BROKER_URL": redis_url})


def _phase(tmp: Path, db_url: str, redis_url: str, market: Any, workers: int,
           searches: list[dict[str, Any]]) -> dict[str, Any]:
    """Start ``workers`` workers, send every search at once, time until all are done."""
    from sqlalchemy import select

    from gpuscout.jobs.cluster.app import make_celery
    from gpuscout.jobs.cluster.leader import Leader
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.tables.cluster import ScanFire
    from tests.support.cluster import cluster, wait_until

    conf, cfg = _config(tmp, db_url, market, searches, pages=3, scan_deadline=60,
                        visibility=120, restore=1)
    engine = make_engine(db_url)
    with _broker(redis_url):
        leader = Leader(cfg, engine, make_celery(cfg), name="bench")
    names = [str(s["name"]) for s in searches]
    try:
        with cluster(conf, db_url=db_url, redis_url=redis_url, cwd=tmp) as c:
            procs = [c.worker(f"w{workers}-{n}") for n in range(workers)]
            for p in procs:
                wait_until(lambda p=p: "ready" in p.output(), 60, f"{p.log.name} ready")
            cpu0 = sum(_cpu_seconds(p.pid) for p in procs)
            due = datetime.now(UTC).replace(microsecond=0)
            t0 = time.monotonic()
            for name in names:
                leader.fire(name, due)

            def finished() -> list[Any]:
                with engine.connect() as conn:
                    rows = conn.execute(select(ScanFire.outcome).where(
                        ScanFire.search.in_(names), ScanFire.state == "done")).all()
                return list(rows) if len(rows) == len(names) else []

            rows = wait_until(finished, 600, "every search of the phase", step=0.1)
            elapsed = time.monotonic() - t0
            cpu = sum(_cpu_seconds(p.pid) for p in procs) - cpu0
    finally:
        engine.dispose()
    ok = sum(1 for r in rows if r.outcome == "ok")
    return {"workers": workers, "searches": len(names), "ok": ok, "elapsed_s": round(elapsed, 2),
            "per_minute": round(len(names) / elapsed * 60, 2),
            "worker_cpu_s": round(cpu, 2), "cpu_share": round(cpu / (elapsed * workers), 3)}


def _redelivery(tmp: Path, db_url: str, redis_url: str, market: Any,
                first_host: int) -> dict[str, Any]:
    """Two workers; the one scanning the search is killed (SIGKILL) once its scan has begun."""
    from gpuscout.jobs.cluster.app import make_celery
    from gpuscout.jobs.cluster.leader import Leader
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.fires import get_fire
    from tests.support.cluster import cluster, wait_until

    searches = _searches(first_host, 1)
    visibility, restore = 4.0, 0.5
    # NOTE: robots.txt and one page (one interval): a scan well inside its 3.5 s deadline, which
    # the 4 s visibility timeout must exceed
    conf, cfg = _config(tmp, db_url, market, searches, pages=1, scan_deadline=3.5,
                        visibility=visibility, restore=restore)
    engine = make_engine(db_url)
    try:
        with _broker(redis_url):
            leader = Leader(cfg, engine, make_celery(cfg), name="bench")
        with cluster(conf, db_url=db_url, redis_url=redis_url, cwd=tmp) as c:
            procs = {f"r-{n}": c.worker(f"r-{n}") for n in (1, 2)}
            for p in procs.values():
                wait_until(lambda p=p: "ready" in p.output(), 60, f"{p.log.name} ready")
            fire_id = leader.fire(str(searches[0]["name"]), datetime.now(UTC).replace(microsecond=0))
            assert fire_id is not None
            running = wait_until(lambda: (f := get_fire(engine, fire_id)) is not None
                                 and f.state == "running" and f, 60, "the scan to begin")
            procs[str(running.worker)].kill()
            t0 = time.monotonic()
            done = wait_until(lambda: (f := get_fire(engine, fire_id)) is not None
                              and f.state == "done" and f, 120, "the scan to complete elsewhere",
                              step=0.05)
            elapsed = time.monotonic() - t0
    finally:
        engine.dispose()
    return {"seconds": round(elapsed, 2), "outcome": done.outcome, "attempts": done.attempts,
            "visibility_timeout_s": visibility, "restore_interval_s": restore,
            "killed": running.worker, "completed_by": done.worker}


def run(sizes: ScaleSizes, pg_url: str | None, redis_url: str | None = None) -> dict[str, Any]:
    from bench.common import pg_database
    from gpuscout.jobs.testing.manyhosts import ManyHosts

    redis_url = redis_url or os.environ.get(REDIS_ENV)
    if not pg_url or not redis_url:
        raise RuntimeError(f"scale needs PostgreSQL (--pg or GPUSCOUT_TEST_DATABASE_URL) and Redis "
                           f"(${REDIS_ENV}, a database it may empty)")
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    phases = []
    with ManyHosts(HOSTS, pages=3) as market, pg_database(pg_url) as db_url, \
            tempfile.TemporaryDirectory(prefix="gpuscout-scale-") as tmp:
        from gpuscout.models.storage.db import make_engine
        from gpuscout.models.storage.migrate import upgrade

        engine = make_engine(db_url)
        upgrade(engine)
        engine.dispose()
        host = 0
        for workers in sizes.workers:
            count = sizes.per_worker * workers
            phase_dir = Path(tmp) / f"phase-{workers}"
            phase_dir.mkdir()
            phases.append(_phase(phase_dir, db_url, redis_url, market, workers,
                                 _searches(host, count)))
            host += count
        red_dir = Path(tmp) / "redelivery"
        red_dir.mkdir()
        redelivery = _redelivery(red_dir, db_url, redis_url, market, host)
        gaps = market.gaps()
        requests = len(market.hits)
    client.flushdb()
    client.close()
    rate = {p["workers"]: p["per_minute"] for p in phases}
    smallest = min((g for hg in gaps.values() for g in hg), default=float("nan"))
    out: dict[str, Any] = {
        "hosts": HOSTS, "interval_s": INTERVAL, "split": "one loopback address per host",
        "phases": phases, "requests": requests, "hosts_reached": len(gaps),
        "min_gap_s": round(smallest, 4), "min_gap_ratio": round(smallest / INTERVAL, 4),
        "redelivery": redelivery, "redelivery_s": redelivery["seconds"],
    }
    for workers in sizes.workers[1:]:
        out[f"speedup_{workers}"] = round(rate[workers] / rate[sizes.workers[0]], 3)
    return out
