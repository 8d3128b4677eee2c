"""ORM: scrape runs (one per search per scan), the scan lock, and HTTP validators for conditional GETs."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gpuscout.models.storage.tables.base import Base, Str32, Str64, UTCTime

#: "interrupted": the scan's process ended (killed, crashed) before the run was stored; the next
#: scan closes such runs
RUN_OUTCOMES = ("running", "ok", "empty", "blocked", "rate_limited", "drift", "error",
                "interrupted")


class ScrapeRun(Base):
    """One search's part of one scan: what was fetched, what it yielded, and how it ended."""

    __tablename__ = "scrape_runs"
    __table_args__ = (Index("ix_scrape_runs_search_started", "search", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    search: Mapped[Str64]
    source: Mapped[Str32]
    started_at: Mapped[UTCTime]
    finished_at: Mapped[UTCTime | None]
    outcome: Mapped[Str32] = mapped_column(default="running")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    listings: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    gone: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    saved_path: Mapped[str | None] = mapped_column(String(500))
    #: why it was blocked or failed, in a word: "no-credentials", "robots", "offline", "login", …
    reason: Mapped[str | None] = mapped_column(String(32))


class ScanLock(Base):
    """A lease that keeps two scans from overlapping on SQLite (PostgreSQL uses an advisory lock)."""

    __tablename__ = "scan_lock"

    name: Mapped[Str32] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[UTCTime]
    expires_at: Mapped[UTCTime]


class HttpValidator(Base):
    """ETag / Last-Modified per URL, so unchanged pages cost a 304."""

    __tablename__ = "http_validators"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[UTCTime]
