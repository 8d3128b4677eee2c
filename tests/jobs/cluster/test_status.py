"""`gpuscout status` on a cluster: the active scheduler, the workers, the queue depth, and exit 1
when no scheduler leads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.cluster.app import enqueue, make_celery
from gpuscout.models.storage.fires import heartbeat, node_stopped
from tests.jobs.cluster.conftest import cluster_config

pytestmark = pytest.mark.postgres

SEARCH = [{"name": "cl-3090", "source": "craigslist", "query": "rtx 3090", "every": "1h"}]


def test_status_shows_the_leader_the_workers_and_the_queue(
        pg_url: str, pg_engine: Any, redis_url: str, tmp_path: Path, run_cli: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    conf, cfg, queue = cluster_config("http://127.0.0.1:9", pg_url, tmp_path, searches=SEARCH)
    env = {"GPUSCOUT_BROKER_URL": redis_url}
    now = datetime.now(UTC)
    for name, role, seen in (("scheduler@a:1", "leader", now), ("scheduler@b:2", "standby", now),
                             ("worker@a:3", "worker", now),
                             ("worker@c:4", "worker", now - timedelta(minutes=5))):
        heartbeat(pg_engine, name=name, role=role, host=name.split("@")[1].split(":")[0],
                  pid=int(name.rsplit(":", 1)[1]), now=seen, started_at=seen,
                  doing="cl-3090" if name == "worker@a:3" else None)
    monkeypatch.setenv("GPUSCOUT_BROKER_URL", redis_url)
    celery = make_celery(cfg)
    for fire in (1, 2):
        enqueue(celery, cfg, fire, "cl-3090")

    result = run_cli("status", "--cluster", "--format", "json", config=str(conf), db_url=pg_url,
                     env=env)
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in map(json.loads, result.output.splitlines())}
    assert rows["scheduler@a:1"]["role"] == "leader" and rows["scheduler@a:1"]["state"] == "alive"
    assert rows["worker@a:3"]["doing"] == "cl-3090"
    assert rows["worker@c:4"]["state"] == "lost"
    table = run_cli("status", "--cluster", config=str(conf), db_url=pg_url, env=env)
    assert (f"active scheduler: scheduler@a:1; workers alive: 1; queue {queue}: 2 waiting"
            in table.output), table.output

    node_stopped(pg_engine, "scheduler@a:1", now=now)
    lost = run_cli("status", "--cluster", config=str(conf), db_url=pg_url, env=env)
    assert lost.exit_code == 1
    assert "no scheduler is active: start `gpuscout run --distributed`" in lost.output
