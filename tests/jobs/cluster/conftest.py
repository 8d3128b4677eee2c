"""Cluster test helpers: a configuration for a cluster on its own queue, and the ledger read back."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gpuscout.models.storage.db import make_engine
from gpuscout.models.storage.fires import Fire, recent_fires
from gpuscout.models.storage.migrate import upgrade
from tests.support.cluster import cluster_table, unique_queue
from tests.support.market import market_config, write_toml


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Any]:
    engine = make_engine(pg_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def cluster_config(base_url: str, db_url: str, tmp: Path, *, searches: list[dict[str, Any]],
                   **extra: Any) -> tuple[Path, Any, str]:
    """A configuration file for a test cluster on a queue of its own: (path, Config, queue)."""
    queue = unique_queue()
    cluster = cluster_table(queue, **extra.pop("cluster", {}))
    fetch = {"max_retries": 0, "timeout": 5, "scan_deadline": 2.5, **extra.pop("fetch", {})}
    cfg, data = market_config(base_url, db_url, tmp, search=searches, cluster=cluster,
                              fetch=fetch, **extra)
    return write_toml(data, tmp / "gpuscout.toml"), cfg, queue


def fires(engine: Any) -> list[Fire]:
    return sorted(recent_fires(engine, limit=10_000), key=lambda f: f.id)


def queued_tasks(redis_url: str, queue: str) -> list[tuple[int, str]]:
    """(fire id, search) of every task waiting in ``queue``, oldest first."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.lrange(queue, 0, -1)
    finally:
        client.close()
    out = []
    for item in reversed(raw):  # NOTE: kombu pushes on the left and pops on the right
        message = json.loads(item)
        args = json.loads(base64.b64decode(message["body"]))[0]
        out.append((int(args[0]), str(args[1])))
    return out
