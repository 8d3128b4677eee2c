"""Copy a gpuscout database into another, empty one: how a single machine's SQLite file moves to
the PostgreSQL database of a cluster (or to a new SQLite file) with its history.

The copy holds the source's scan lock, so no scan writes while it reads, and writes the target
in one transaction: a copy that fails or is killed leaves the target as empty as it was. Every
table of the schema is copied in the order of its foreign keys, except the scan lock and the
cluster's heartbeats, which describe running processes rather than data. Runs the source left
``running`` are closed as interrupted in the target. On PostgreSQL the id sequences are moved
past the copied ids, so new rows get new ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Engine, Table, literal, select, text

from gpuscout.models.errors import DatabaseError
from gpuscout.models.storage.lock import close_runs, scan_lock
from gpuscout.models.storage.migrate import current_revision, ensure_current, head_revision
from gpuscout.models.storage.tables import Base, ClusterNode, ScanLock

#: process state, not data
NOT_COPIED = frozenset({cast(Table, ScanLock.__table__).name, cast(Table, ClusterNode.__table__).name})
BATCH = 5000
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class CopiedTable:
    table: str
    rows: int


def copied_tables() -> list[Table]:
    """The tables a copy writes, parents before the tables that refer to them."""
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_COPIED]


def _holding_data(conn: Connection, tables: list[Table]) -> list[str]:
    return [t.name for t in tables
            if conn.execute(select(literal(1)).select_from(t).limit(1)).first() is not None]


def _copy_table(src: Connection, dst: Connection, table: Table, progress: Progress | None) -> int:
    copied = 0
    result = src.execution_options(yield_per=BATCH).execute(select(table))
    for rows in result.partitions():
        dst.execute(table.insert(), [row._asdict() for row in rows])
        copied += len(rows)
        if progress is not None:
            progress(table.name, copied)
    return copied


def _move_sequences(dst: Connection, tables: list[Table]) -> None:
    """PostgreSQL: each serial id's sequence continues after the largest copied id."""
    for table in tables:
        serial = table.autoincrement_column
        if serial is None:
            continue
        column = serial.name
        dst.execute(text(f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                         f"COALESCE(MAX({column}), 0) + 1, false) FROM {table.name}"),
                    {"table": table.name, "column": column})


def copy_database(source: Engine, target: Engine, *, now: datetime,
                  progress: Progress | None = None) -> list[CopiedTable]:
    """Copy every row of ``source`` into ``target`` (created or migrated to the current schema
    first; it must hold no data). Raises DatabaseError when the source is not at the current
    schema, the target holds data, or both are the same database; ScanLocked when a scan runs
    on the source."""
    if source.url == target.url:
        raise DatabaseError("the source and the target are the same database")
    head = head_revision()
    at = current_revision(source)
    if at != head:
        raise DatabaseError(f"the source database is at revision {at or 'none'}, not {head}: "
                            "run `gpuscout db upgrade` on it first")
    tables = copied_tables()
    ensure_current(target)
    with target.connect() as probe:
        full = _holding_data(probe, tables)
    if full:
        raise DatabaseError(f"the target database already holds data (in {', '.join(full)}): "
                            "copy only into an empty database")
    out = []
    with scan_lock(source, now=now), source.connect() as src, src.begin(), \
            target.begin() as dst:
        for table in tables:
            out.append(CopiedTable(table.name, _copy_table(src, dst, table, progress)))
        close_runs(dst, now=now)
        if target.dialect.name == "postgresql":
            _move_sequences(dst, tables)
    return out
