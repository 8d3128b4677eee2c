"""`gpuscout worker` as real processes on the PostgreSQL and Redis of this machine: a worker killed
mid-scan has its scan delivered again and completed once elsewhere, with every listing stored
once; a duplicate delivery while the search is scanning changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gpuscout.jobs.cluster.app import make_celery
from gpuscout.jobs.cluster.leader import Leader
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.jobs.testing.pages import DemoAd, craigslist_search_page
from gpuscout.models.storage.db import session_factory
from gpuscout.models.storage.fires import get_fire
from gpuscout.models.storage.lock import INTERRUPTED
from gpuscout.models.storage.tables.listings import Listing
from gpuscout.models.storage.tables.runs import ScrapeRun
from tests.jobs.cluster.conftest import cluster_config, queued_tasks
from tests.support.cluster import cluster, wait_until

pytestmark = pytest.mark.postgres

SEARCH = [{"name": "cl-3090", "source": "craigslist", "query": "rtx 3090", "every": "1h"}]
ADS = tuple(DemoAd(post_id=str(7_800_000_000 + i), title=f"EVGA RTX 3090 FTW3 card {i}",
                   price=Decimal(600 + i), location="Exampleville", role="ok")
            for i in range(40))


@pytest.fixture
def market() -> Iterator[LocalMarket]:
    with LocalMarket() as m:
        yield m


def _setup(market: LocalMarket, pg_url: str, redis_url: str, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Any, Leader]:
    conf, cfg, _queue = cluster_config(market.url, pg_url, tmp_path, searches=SEARCH)
    market.add("/search/sss", craigslist_search_page(market.url, "rtx 3090", ADS),
               content_type="text/html; charset=utf-8")
    # NOTE: the first search request hangs: the worker that sent it is mid-scan
    market.add("/search/sss", b"", fault="hang", times=1)
    monkeypatch.setenv("GPUSCOUT_BROKER_URL", redis_url)
    from gpuscout.models.storage.db import make_engine

    engine = make_engine(pg_url)
    leader = Leader(cfg, engine, make_celery(cfg), name="test")
    return conf, engine, leader


def _stored(engine: Any) -> tuple[int, int, list[str]]:
    with session_factory(engine)() as s:
        listings = s.scalar(select(func.count()).select_from(Listing)) or 0
        distinct = s.scalar(select(func.count(func.distinct(Listing.external_id)))) or 0
        runs = list(s.scalars(select(ScrapeRun.outcome).order_by(ScrapeRun.id)))
    return listings, distinct, runs


def test_a_worker_killed_mid_scan_has_its_scan_completed_once_elsewhere(
        market: LocalMarket, pg_url: str, pg_engine: Any, redis_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    conf, engine, leader = _setup(market, pg_url, redis_url, tmp_path, monkeypatch)
    with cluster(conf, db_url=pg_url, redis_url=redis_url, cwd=tmp_path) as c:
        first = c.worker("worker-1")
        fire_id = leader.fire("cl-3090", datetime.now(UTC).replace(microsecond=0))
        assert fire_id is not None
        assert market.wait_for("/search/sss", timeout=30), c.logs()
        fire = get_fire(engine, fire_id)
        assert fire is not None and (fire.state, fire.attempts, fire.worker) == (
            "running", 1, "worker-1")
        second = c.worker("worker-2")
        wait_until(lambda: "ready" in second.output(), 30, "the second worker to be ready")
        first.kill()
        killed = time.monotonic()
        done = wait_until(lambda: (f := get_fire(engine, fire_id)) is not None
                          and f.state == "done" and f, 30, "the scan to complete elsewhere")
        redelivered_in = time.monotonic() - killed
        c.stop_all()
    assert (done.outcome, done.attempts, done.worker) == ("ok", 2, "worker-2"), c.logs()
    # the visibility timeout (3 s) and a sweep (every 0.5 s) bring it back
    assert 2.5 < redelivered_in < 15
    listings, distinct, runs = _stored(engine)
    assert listings == distinct == len(ADS)
    # the dead worker's run was closed as interrupted; one run stored everything
    assert runs == [INTERRUPTED, "ok"]
    assert queued_tasks(redis_url, leader.cfg.cluster.queue) == []
    engine.dispose()


def test_a_duplicate_delivery_while_the_search_scans_changes_nothing(
        market: LocalMarket, pg_url: str, pg_engine: Any, redis_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    conf, engine, leader = _setup(market, pg_url, redis_url, tmp_path, monkeypatch)
    with cluster(conf, db_url=pg_url, redis_url=redis_url, cwd=tmp_path) as c:
        c.worker("worker-1")
        fire_id = leader.fire("cl-3090", datetime.now(UTC).replace(microsecond=0))
        assert fire_id is not None
        assert market.wait_for("/search/sss", timeout=30), c.logs()
        second = c.worker("worker-2")
        wait_until(lambda: "ready" in second.output(), 30, "the second worker to be ready")
        # the same fire sent again (as a broker may): the second worker finds the search busy
        from gpuscout.jobs.cluster.app import enqueue

        enqueue(leader.celery, leader.cfg, fire_id, "cl-3090")
        wait_until(lambda: (f := get_fire(engine, fire_id)) is not None and f.attempts >= 2,
                   30, "the duplicate to be delivered")
        fire = get_fire(engine, fire_id)
        assert fire is not None and (fire.state, fire.worker) == ("running", "worker-1")
        market.release()  # the first worker's request ends; its retry-less scan reads again
        done = wait_until(lambda: (f := get_fire(engine, fire_id)) is not None
                          and f.state == "done" and f, 30, "the scan to end")
        c.stop_all()
    assert done.worker == "worker-1", c.logs()
    listings, _distinct, runs = _stored(engine)
    # one scan, by the first worker; the duplicate was counted and dropped
    assert len(runs) == 1 and done.attempts == 2
    assert "being scanned by another worker" in c.logs()
    if done.outcome == "ok":
        assert listings == len(ADS)
    engine.dispose()
