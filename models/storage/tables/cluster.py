"""ORM: the fire ledger (one row per scheduled fire of a search) and the cluster's node heartbeats."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gpuscout.models.storage.tables.base import Base, Str32, Str64, Str200, UTCTime


class ScanFire(Base):
    """One due fire of one search: written once by the active scheduler (unique on the search and
    the time it was due), then started, finished and judged by the worker that ran it."""

    __tablename__ = "scan_fires"
    __table_args__ = (
        UniqueConstraint("search", "scheduled_for"),
        Index("ix_scan_fires_state_enqueued", "state", "enqueued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    search: Mapped[Str64]
    #: the due time the schedule gave (no jitter): the same on every scheduler
    scheduled_for: Mapped[UTCTime]
    enqueued_at: Mapped[UTCTime]
    #: the scheduler that wrote it (host:pid)
    scheduler: Mapped[Str200]
    task_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[Str32] = mapped_column(default="queued")
    #: deliveries of the task that reached a worker (a redelivery after a lost worker counts)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[UTCTime | None]
    finished_at: Mapped[UTCTime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    run_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class ClusterNode(Base):
    """A scheduler or worker process of the cluster, as it last reported itself."""

    __tablename__ = "cluster_nodes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: "leader" or "standby" (schedulers), "worker"
    role: Mapped[Str32]
    host: Mapped[Str200]
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[UTCTime]
    seen_at: Mapped[UTCTime]
    #: what it is doing: a worker's current search, a leader's next fire
    doing: Mapped[str | None] = mapped_column(String(200))
    stopped_at: Mapped[UTCTime | None]
