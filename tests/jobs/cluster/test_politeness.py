"""Three `gpuscout worker` processes against a local marketplace of many hosts, with [fetch]
pacing = "shared": every host's interval holds across the workers, while they scan side by side."""

from __future__ import annotations

import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.cluster.app import make_celery
from gpuscout.jobs.cluster.leader import Leader
from gpuscout.jobs.testing.manyhosts import ManyHosts, host_address
from gpuscout.models.storage.fires import recent_fires
from tests.jobs.cluster.conftest import cluster_config
from tests.support.cluster import cluster, wait_until
from tests.support.market import write_toml

pytestmark = pytest.mark.postgres

HOSTS = 8
BUSY = 4  # hosts with two searches each, scanned at once by different workers
INTERVAL = 1.0


def test_three_workers_keep_each_hosts_interval(pg_url: str, pg_engine: Any, redis_url: str,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with ManyHosts(HOSTS, pages=3) as market:
        searches = [{"name": f"cl-{i}", "source": "craigslist", "query": "rtx 3090",
                     "every": "1h", "options": {"site": host_address(i % HOSTS)}}
                    for i in range(HOSTS + BUSY)]
        sources = {"craigslist": {"base_url": market.base_url, "min_interval": INTERVAL,
                                  "jitter": 0, "max_pages": 3}}
        conf, cfg, _queue = cluster_config(
            market.base_url, pg_url, tmp_path, searches=searches,
            fetch={"pacing": "shared", "scan_deadline": 20}, cluster={"visibility_timeout": 30})
        data = tomllib.loads(conf.read_text())
        data["sources"]["craigslist"].update(sources["craigslist"])
        write_toml(data, conf)
        monkeypatch.setenv("GPUSCOUT_BROKER_URL", redis_url)
        leader = Leader(cfg, pg_engine, make_celery(cfg), name="test")
        with cluster(conf, db_url=pg_url, redis_url=redis_url, cwd=tmp_path) as c:
            workers = [c.worker(f"worker-{n}") for n in (1, 2, 3)]
            for w in workers:
                wait_until(lambda w=w: "ready" in w.output(), 30, f"{w.log.name} to be ready")
            due = datetime.now(UTC).replace(microsecond=0)
            started = time.monotonic()
            for s in searches:
                assert leader.fire(str(s["name"]), due) is not None
            done = wait_until(lambda: (fs := recent_fires(pg_engine, limit=100)) and
                              all(f.state == "done" for f in fs) and fs, 60,
                              "every search to be scanned")
            elapsed = time.monotonic() - started
            c.stop_all()
        gaps = market.gaps()
    assert {f.outcome for f in done} == {"ok"}, c.logs()
    assert len({f.worker for f in done}) == 3
    # robots.txt (once per worker and host) and three pages per search reached every host
    pages = [h for h in market.hits if h.path == "/search/sss"]
    assert len(pages) == 3 * len(searches)
    assert len(gaps) == HOSTS
    smallest = min(g for host_gaps in gaps.values() for g in host_gaps)
    assert smallest >= INTERVAL, sorted(gaps.items())[:3]
    # ...while the workers shared the work: one worker alone waits at least two intervals per
    # search (between its three pages)
    assert elapsed < len(searches) * 2 * INTERVAL * 0.75
