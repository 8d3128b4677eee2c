"""The scan lock: two scans never overlap. PostgreSQL: a session advisory lock (works across
machines); SQLite: a lease row in ``scan_lock`` that a crashed holder cannot keep forever."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from gpuscout.models.errors import ScanLocked
from gpuscout.models.storage.tables.runs import ScanLock

#: advisory lock class ("gs" in ASCII); the object key hashes the schema and lock name, so
#: installations in different schemas of one database don't exclude each other
PG_LOCK_CLASS = 0x6773
_PG_KEY = "hashtext(current_schema() || ':' || :name)"
LEASE = timedelta(hours=2)


def holder_id() -> str:
    """Unique per acquisition: two scans in one process exclude each other too."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def scan_lock(engine: Engine, *, now: datetime, name: str = "scan") -> Iterator[None]:
    """Hold the scan lock for the duration of the block, or raise ScanLocked at once."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.execute(text(f"SELECT pg_try_advisory_lock(:c, {_PG_KEY})"),
                               {"c": PG_LOCK_CLASS, "name": name}).scalar()
            conn.commit()
            if not got:
                raise ScanLocked("another scan is running (PostgreSQL advisory lock held)")
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock(:c, {_PG_KEY})"),
                             {"c": PG_LOCK_CLASS, "name": name})
                conn.commit()
        return
    me = holder_id()
    table = cast(Table, ScanLock.__table__)
    with engine.begin() as conn:
        row = conn.execute(select(table).where(table.c.name == name)).first()
        if row is not None and row.expires_at > now:
            raise ScanLocked(f"another scan is running ({row.holder}, since "
                             f"{row.acquired_at:%Y-%m-%d %H:%M} UTC)")
        if row is None:
            try:
                conn.execute(insert(table).values(name=name, holder=me, acquired_at=now,
                                                  expires_at=now + LEASE))
            except IntegrityError as exc:
                raise ScanLocked("another scan started at the same moment") from exc
        else:
            # NOTE: compare-and-set on the old holder, so two takers of an expired lease can't both win
            taken = conn.execute(update(table).where(table.c.name == name,
                                                     table.c.holder == row.holder)
                                 .values(holder=me, acquired_at=now, expires_at=now + LEASE))
            if taken.rowcount != 1:
                raise ScanLocked("another scan took the lock at the same moment")
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.c.name == name, table.c.holder == me))
