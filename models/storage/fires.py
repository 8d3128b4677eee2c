"""The fire ledger and node heartbeats of a cluster: each due fire written once, then started,
finished and judged by the worker that ran it; each scheduler and worker's last report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gpuscout.models.storage.tables.cluster import ClusterNode, ScanFire

_FIRES = cast(Table, ScanFire.__table__)
_NODES = cast(Table, ClusterNode.__table__)


@dataclass(frozen=True)
class Fire:
    id: int
    search: str
    scheduled_for: datetime
    state: str
    attempts: int
    worker: str | None
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    enqueued_at: datetime
    scheduler: str
    task_id: str | None
    error: str | None


def _fire(row: object) -> Fire:
    return Fire(**{name: getattr(row, name) for name in Fire.__dataclass_fields__})


def record_fire(engine: Engine, search: str, scheduled_for: datetime, *, now: datetime,
                scheduler: str) -> int | None:
    """Write the fire of ``search`` due at ``scheduled_for``: its id, or None when it was
    already written (by this scheduler, or another one before it took over)."""
    try:
        with engine.begin() as conn:
            result = conn.execute(insert(_FIRES).values(
                search=search, scheduled_for=scheduled_for, enqueued_at=now, scheduler=scheduler,
                state="queued", attempts=0).returning(_FIRES.c.id))
            return int(result.scalar_one())
    except IntegrityError:
        return None


def set_task(engine: Engine, fire_id: int, task_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(_FIRES).where(_FIRES.c.id == fire_id).values(task_id=task_id))


def forget_fire(engine: Engine, fire_id: int) -> None:
    """Remove a fire that could not be enqueued (the broker refused it): a later due time, or
    the next leader, writes it again."""
    with engine.begin() as conn:
        conn.execute(_FIRES.delete().where(_FIRES.c.id == fire_id, _FIRES.c.state == "queued"))


def get_fire(engine: Engine, fire_id: int) -> Fire | None:
    with engine.connect() as conn:
        row = conn.execute(select(_FIRES).where(_FIRES.c.id == fire_id)).first()
    return None if row is None else _fire(row)


def start_fire(engine: Engine, fire_id: int, *, worker: str, now: datetime) -> Fire | None:
    """Count a delivery of the fire and mark it running on ``worker`` (call it holding the
    search's lock); None when the fire is unknown or already done."""
    with engine.begin() as conn:
        row = conn.execute(update(_FIRES).where(_FIRES.c.id == fire_id, _FIRES.c.state != "done")
                           .values(state="running", worker=worker, started_at=now,
                                   attempts=_FIRES.c.attempts + 1)
                           .returning(*_FIRES.c)).first()
    return None if row is None else _fire(row)


def count_delivery(engine: Engine, fire_id: int) -> None:
    """A delivery that found its search busy elsewhere (a duplicate): counted, nothing else."""
    with engine.begin() as conn:
        conn.execute(update(_FIRES).where(_FIRES.c.id == fire_id)
                     .values(attempts=_FIRES.c.attempts + 1))


def finish_fire(engine: Engine, fire_id: int, *, outcome: str, now: datetime,
                run_id: int | None = None, error: str | None = None) -> bool:
    """Close the fire once: False when it was already done."""
    with engine.begin() as conn:
        done = conn.execute(update(_FIRES).where(_FIRES.c.id == fire_id, _FIRES.c.state != "done")
                            .values(state="done", finished_at=now, outcome=outcome[:32],
                                    run_id=run_id, error=error and error[:2000]))
    return bool(done.rowcount)


def recent_fires(engine: Engine, *, limit: int = 50) -> list[Fire]:
    with engine.connect() as conn:
        rows = conn.execute(select(_FIRES).order_by(_FIRES.c.id.desc()).limit(limit)).all()
    return [_fire(r) for r in rows]


def fire_counts(engine: Engine) -> dict[str, int]:
    """Fires per state."""
    with engine.connect() as conn:
        rows = conn.execute(select(_FIRES.c.state, func.count()).group_by(_FIRES.c.state)).all()
    return {str(state): int(n) for state, n in rows}


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Node:
    name: str
    role: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    doing: str | None
    stopped_at: datetime | None

    def alive(self, now: datetime, heartbeat: float) -> bool:
        """Reported within three heartbeats, and not stopped."""
        return self.stopped_at is None and now - self.seen_at <= timedelta(seconds=3 * heartbeat)


def heartbeat(engine: Engine, *, name: str, role: str, host: str, pid: int, now: datetime,
              started_at: datetime, doing: str | None = None) -> None:
    """Insert or refresh the row of node ``name``."""
    with engine.begin() as conn:
        changed = conn.execute(update(_NODES).where(_NODES.c.name == name).values(
            role=role, host=host, pid=pid, seen_at=now, doing=doing, stopped_at=None,
            started_at=started_at))
        if not changed.rowcount:
            try:
                with conn.begin_nested():
                    conn.execute(insert(_NODES).values(
                        name=name, role=role, host=host, pid=pid, started_at=started_at,
                        seen_at=now, doing=doing))
            except IntegrityError:
                pass  # NOTE: written at the same moment by itself from another thread


def node_stopped(engine: Engine, name: str, *, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(update(_NODES).where(_NODES.c.name == name)
                     .values(stopped_at=now, seen_at=now, doing=None))


def nodes(engine: Engine) -> list[Node]:
    with engine.connect() as conn:
        rows = conn.execute(select(_NODES).order_by(_NODES.c.role, _NODES.c.name)).all()
    return [Node(**{k: getattr(r, k) for k in Node.__dataclass_fields__}) for r in rows]
