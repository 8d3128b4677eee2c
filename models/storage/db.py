"""Engine and session factory: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from gpuscout.models.errors import DatabaseError
from gpuscout.models.storage.filelock import exclusive, lock_path
from gpuscout.models.storage.urls import BUSY_TIMEOUT_MS, hide_password, normalize_url

__all__ = ["BUSY_TIMEOUT_MS", "make_engine", "normalize_url", "session_factory", "transaction"]


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """What every new SQLite connection gets: a busy timeout, WAL, foreign keys, NORMAL sync."""
    # NOTE: WAL lets `deals` read while a scan writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        # NOTE: two connections switching a new database to WAL at once: one fails at once with
        # "database is locked" (no busy wait); the switch is serialised by the lock file
        file = next((row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"),
                    "")
        with exclusive(lock_path(file)):
            cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An Engine for ``url``; SQLite files get their folder created and their pragmas set."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(f"invalid database URL {hide_password(url)!r}: {exc}") from exc
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise DatabaseError(
            f"no driver for {parsed.get_backend_name()}: install gpuscout[postgres] ({exc})"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together or not at all."""
    with factory() as session, session.begin():
        yield session
