"""What `gpuscout status` tells of a cluster: the schedulers (which one leads), the workers (what
each scans), the tasks waiting in the queue, and whether the cluster can work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gpuscout.jobs.config import Config

COLUMNS = ("name", "role", "host", "pid", "state", "seen", "doing")


@dataclass(frozen=True)
class ClusterView:
    rows: tuple[dict[str, Any], ...]
    queue: str
    #: tasks waiting (None: the broker is not configured here or not reachable)
    depth: int | None
    leader: str | None
    workers: int
    fires: dict[str, int]

    @property
    def problem(self) -> str | None:
        """Why the cluster cannot work (no live scheduler leads, or no worker lives)."""
        if not self.rows:
            return None
        if self.leader is None:
            return "no scheduler is active: start `gpuscout run --distributed`"
        if self.workers == 0:
            return "no worker is running: start `gpuscout worker`"
        return None


def cluster_view(cfg: Config, engine: Engine, *, now: datetime) -> ClusterView:
    """The cluster as its nodes last reported (an empty view on a database without one)."""
    from gpuscout.jobs.cluster.app import queue_depth
    from gpuscout.models.storage.fires import fire_counts, nodes

    beat = cfg.cluster.heartbeat
    found = nodes(engine)
    rows = []
    leader = None
    workers = 0
    for n in found:
        alive = n.alive(now, beat)
        state = "stopped" if n.stopped_at is not None else "alive" if alive else "lost"
        if alive and n.role == "leader":
            leader = n.name
        if alive and n.role == "worker":
            workers += 1
        rows.append({"name": n.name, "role": n.role, "host": n.host, "pid": n.pid,
                     "state": state, "seen": n.seen_at, "doing": n.doing or ""})
    # NOTE: stopped nodes are history: shown only while nothing else is
    live = [r for r in rows if r["state"] != "stopped"] or rows
    return ClusterView(rows=tuple(live), queue=cfg.cluster.queue,
                       depth=queue_depth(cfg) if found else None, leader=leader,
                       workers=workers, fires=fire_counts(engine) if found else {})
