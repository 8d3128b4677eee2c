"""The scan lock: two scans never overlap, and a dead scan does not keep the lock.

PostgreSQL: a session advisory lock (works across machines; it ends with the holder's session,
so a killed scan's lock is free once the server sees its connection close). SQLite: a lease row
in ``scan_lock`` naming its holder (host, pid, the process's start time): a holder on this host
whose process is gone is taken over at once; one elsewhere keeps the lock until its lease ends.

Whoever takes the lock closes the runs a dead scan left ``running`` (``close_interrupted``): with
the lock held no other scan runs on this database, so every such run is an orphan.

A cluster's workers (PostgreSQL only) scan one search each, side by side: each holds the scan lock
*shared* and its search's own lock exclusively (``search_lock``), so two workers never scan one
search at once, and a `gpuscout scan` (which takes the scan lock exclusively) waits for none of
them and runs beside none of them. A worker closes only its own search's orphaned runs.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Engine, Table, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from gpuscout.models.errors import ScanLocked
from gpuscout.models.storage.tables.runs import ScanLock, ScrapeRun

log = logging.getLogger("gpuscout.lock")

#: advisory lock class ("gs" in ASCII); the object key hashes the schema and lock name, so
#: installations in different schemas of one database don't exclude each other
PG_LOCK_CLASS = 0x6773
_PG_KEY = "hashtext(current_schema() || ':' || :name)"
LEASE = timedelta(hours=2)
#: what a run left "running" by a dead scan becomes
INTERRUPTED = "interrupted"
INTERRUPTED_ERROR = ("interrupted: the scan stopped before this search was stored (its process "
                     "was killed or crashed); the next scan reads it again")


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), None where unknown; with the
    pid it names one process, not a later one that got the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # NOTE: the command name (field 2) may hold spaces and parentheses; fields follow its last ")"
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0] if fields else None


def holder_id() -> str:
    """``host:pid:start:nonce``, unique per acquisition: two scans in one process exclude each
    other too."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or '-'}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int | None
    start: str | None

    @classmethod
    def parse(cls, holder: str) -> Holder:
        parts = holder.split(":")
        pid = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        start = parts[2] if len(parts) > 3 and parts[2] not in ("", "-") else None
        return cls(parts[0], pid, start)

    def alive(self) -> bool | None:
        """True or False when this host can tell; None for another host's process (or a holder
        written by a version that did not record its pid)."""
        if self.host != socket.gethostname() or self.pid is None:
            return None
        if self.pid == os.getpid():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # another user's process with that pid: alive, unless the checks below say not
        except OSError:
            return None
        if _state(self.pid) in ("Z", "X"):
            return False  # killed, not yet reaped by its parent
        started = _start_time(self.pid)
        return not (self.start and started and started != self.start)


def _pg_try(conn: Connection, name: str, *, shared: bool = False) -> bool:
    fn = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    got = conn.execute(text(f"SELECT {fn}(:c, {_PG_KEY})"),
                       {"c": PG_LOCK_CLASS, "name": name}).scalar()
    conn.commit()
    return bool(got)


def _pg_release(conn: Connection, name: str, *, shared: bool = False) -> None:
    fn = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
    conn.execute(text(f"SELECT {fn}(:c, {_PG_KEY})"), {"c": PG_LOCK_CLASS, "name": name})
    conn.commit()


def try_lock(conn: Connection, name: str) -> bool:
    """Take the session advisory lock ``name`` on ``conn`` if free (PostgreSQL): held until
    ``unlock`` or until the connection closes (its process died)."""
    return _pg_try(conn, name)


def unlock(conn: Connection, name: str) -> None:
    _pg_release(conn, name)


@contextmanager
def search_lock(engine: Engine, searches: list[str]) -> Iterator[None]:
    """The scan lock shared and each of ``searches``' own lock exclusively, for the block; raise
    ScanLocked at once if a `gpuscout scan` holds the scan lock or another worker scans one of
    them. PostgreSQL only (a cluster's database)."""
    if engine.dialect.name != "postgresql":
        raise ScanLocked("scanning one search beside others needs PostgreSQL (the cluster's "
                         "database); SQLite takes the whole scan lock")
    with engine.connect() as conn:
        if not _pg_try(conn, "scan", shared=True):
            raise ScanLocked("a scan of every search is running (gpuscout scan holds the lock)")
        held: list[str] = []
        try:
            for name in searches:
                if not _pg_try(conn, f"search:{name}"):
                    raise ScanLocked(f"search {name} is being scanned by another worker")
                held.append(name)
            yield
        finally:
            for name in held:
                _pg_release(conn, f"search:{name}")
            _pg_release(conn, "scan", shared=True)


@contextmanager
def scan_lock(engine: Engine, *, now: datetime, name: str = "scan",
              lease: timedelta = LEASE) -> Iterator[None]:
    """Hold the scan lock for the duration of the block, or raise ScanLocked at once."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if not _pg_try(conn, name):
                raise ScanLocked("another scan is running (PostgreSQL advisory lock held)")
            try:
                yield
            finally:
                _pg_release(conn, name)
        return
    me = holder_id()
    table = cast(Table, ScanLock.__table__)
    with engine.begin() as conn:
        row = conn.execute(select(table).where(table.c.name == name)).first()
        if row is not None and row.expires_at > now:
            holder = Holder.parse(row.holder)
            if holder.alive() is not False:
                raise ScanLocked(f"another scan is running ({row.holder}, since "
                                 f"{row.acquired_at:%Y-%m-%d %H:%M} UTC)")
            log.warning("the scan holding the lock (pid %s on %s) is no longer running: taking "
                        "its lock over", holder.pid, holder.host)
        if row is None:
            try:
                conn.execute(insert(table).values(name=name, holder=me, acquired_at=now,
                                                  expires_at=now + lease))
            except IntegrityError as exc:
                raise ScanLocked("another scan started at the same moment") from exc
        else:
            # NOTE: compare-and-set on the old holder, so two takers of an expired lease can't both win
            taken = conn.execute(update(table).where(table.c.name == name,
                                                     table.c.holder == row.holder)
                                 .values(holder=me, acquired_at=now, expires_at=now + lease))
            if taken.rowcount != 1:
                raise ScanLocked("another scan took the lock at the same moment")
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.c.name == name, table.c.holder == me))


def close_runs(conn: Connection, *, now: datetime, searches: list[str] | None = None) -> int:
    """``close_interrupted`` within the caller's transaction."""
    runs = cast(Table, ScrapeRun.__table__)
    where = [runs.c.outcome == "running"]
    if searches is not None:
        where.append(runs.c.search.in_(searches))
    closed = conn.execute(update(runs).where(*where)
                          .values(outcome=INTERRUPTED, finished_at=now, error=INTERRUPTED_ERROR))
    return int(closed.rowcount or 0)


def close_interrupted(engine: Engine, *, now: datetime, searches: list[str] | None = None) -> int:
    """Close every run left "running" as "interrupted" (call it holding the scan lock), or only
    those of ``searches`` (holding their search locks); returns how many there were."""
    with engine.begin() as conn:
        count = close_runs(conn, now=now, searches=searches)
    if count:
        log.warning("closed %d run(s) an interrupted scan left running", count)
    return count
