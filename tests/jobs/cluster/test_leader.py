"""One active scheduler among several (`gpuscout run --distributed`), as real processes on the
PostgreSQL and Redis of this machine: every due fire is enqueued once, and when the active one is
killed a standby fires the next due time within seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.cluster.leader import due_at, offset_seconds
from gpuscout.jobs.config import parse_config
from gpuscout.models.storage.fires import nodes
from tests.jobs.cluster.conftest import cluster_config, fires, queued_tasks
from tests.support.cluster import cluster, wait_until

pytestmark = pytest.mark.postgres

SEARCHES = [{"name": "cl-a", "source": "craigslist", "query": "rtx 3090", "every": "2s"},
            {"name": "cl-b", "source": "craigslist", "query": "rtx 3080", "every": "3s"}]
EVERY = {"cl-a": 2.0, "cl-b": 3.0}
# NOTE: nobody listens there: these schedulers send tasks, no worker runs them
NOWHERE = "http://127.0.0.1:9"


def _due_times_are_consecutive(all_fires: list[Any]) -> None:
    for name, every in EVERY.items():
        due = sorted(f.scheduled_for for f in all_fires if f.search == name)
        assert len(due) >= 2, name
        gaps = {(b - a).total_seconds() for a, b in pairwise(due)}
        assert gaps == {every}, (name, gaps)


def test_two_schedulers_enqueue_each_fire_once(pg_url: str, pg_engine: Any, redis_url: str,
                                                tmp_path: Path) -> None:
    conf, _cfg, queue = cluster_config(NOWHERE, pg_url, tmp_path, searches=SEARCHES)
    with cluster(conf, db_url=pg_url, redis_url=redis_url, cwd=tmp_path) as c:
        c.scheduler("sched-1")
        c.scheduler("sched-2")
        wait_until(lambda: len([f for f in fires(pg_engine) if f.search == "cl-b"]) >= 3, 30,
                   "three fires of the three-second search")
        roles = wait_until(lambda: sorted(n.role for n in nodes(pg_engine)
                                          if n.stopped_at is None) == ["leader", "standby"]
                           and nodes(pg_engine), 10, "one leader and one standby")
        assert len(roles) == 2
        c.stop_all()
    written = fires(pg_engine)
    # one scheduler wrote every fire; each went to the broker exactly once
    assert len({f.scheduler for f in written}) == 1
    tasks = queued_tasks(redis_url, queue)
    assert sorted(tasks) == sorted((f.id, f.search) for f in written)
    assert len(set(tasks)) == len(tasks)
    assert all(f.task_id and f.state == "queued" for f in written)
    _due_times_are_consecutive(written)
    # the first fires were the due times at the start (a scan at start), then one per interval
    assert {f.search for f in written} == {"cl-a", "cl-b"}


def test_a_standby_fires_the_next_due_time_when_the_active_scheduler_dies(
        pg_url: str, pg_engine: Any, redis_url: str, tmp_path: Path) -> None:
    conf, _cfg, queue = cluster_config(NOWHERE, pg_url, tmp_path, searches=SEARCHES)
    with cluster(conf, db_url=pg_url, redis_url=redis_url, cwd=tmp_path) as c:
        first = c.scheduler("sched-1")
        wait_until(lambda: fires(pg_engine), 30, "the first scheduler's first fire")
        second = c.scheduler("sched-2")
        wait_until(lambda: any(n.role == "standby" and n.pid == second.pid
                               for n in nodes(pg_engine)), 30, "the second to stand by")
        wait_until(lambda: len(fires(pg_engine)) >= 3, 30, "a few fires")
        first.kill()
        killed = datetime.now(UTC)
        taken = wait_until(lambda: [f for f in fires(pg_engine)
                                    if f.scheduler.endswith(f":{second.pid}")], 30,
                           "a fire by the standby")
        wait_until(lambda: len([f for f in fires(pg_engine) if f.scheduled_for > killed
                                and f.search == "cl-b"]) >= 2, 30, "two more fires of cl-b")
        c.stop_all()
    written = fires(pg_engine)
    # the standby's first fire: the first due time after the kill (or one the dead leader
    # missed just before it), written within a second and a half of the later of the two
    new = taken[0]
    assert new.scheduled_for >= killed - timedelta(seconds=2)
    assert new.enqueued_at - max(new.scheduled_for, killed) < timedelta(seconds=1.5), new
    # no due time lost, none doubled, across the change of scheduler
    _due_times_are_consecutive(written)
    assert len({f.scheduler for f in written}) == 2
    assert sorted(queued_tasks(redis_url, queue)) == sorted((f.id, f.search) for f in written)
    assert any(n.role == "leader" and n.pid == second.pid for n in nodes(pg_engine)) or \
        all(n.stopped_at is not None for n in nodes(pg_engine))


def test_due_times_are_the_same_on_every_scheduler_and_spread_by_name() -> None:
    cfg = parse_config({"search": SEARCHES})
    a, b = cfg.search("cl-a"), cfg.search("cl-b")
    now = datetime(2026, 12, 5, 10, 0, 0, 400_000, tzinfo=UTC)
    due = due_at(b, now)
    assert due <= now < due + timedelta(seconds=3)
    assert due_at(b, due) == due and due_at(b, due - timedelta(microseconds=1)) == due - \
        timedelta(seconds=3)
    assert 0 <= offset_seconds(a) < 2 and 0 <= offset_seconds(b) < 3
    assert offset_seconds(a) / 2 != offset_seconds(b) / 3
    cron = parse_config({"search": [{"name": "sold", "source": "ebay", "query": "x",
                                     "schedule": "15 */6 * * *"}]}).search("sold")
    assert due_at(cron, datetime(2026, 12, 5, 13, 0, tzinfo=UTC)) == datetime(
        2026, 12, 5, 12, 15, tzinfo=UTC)
    assert due_at(cron, datetime(2026, 12, 5, 12, 15, tzinfo=UTC)) == datetime(
        2026, 12, 5, 12, 15, tzinfo=UTC)
