"""The lock file beside a SQLite database (``<file>.migrate-lock``): an exclusive ``flock`` that
serialises what two processes must not do at once to one file — switching a new database to WAL,
and migrating it."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gpuscout.models.errors import DatabaseError

SUFFIX = ".migrate-lock"
#: the lock files this thread holds: taking one again (a connection opened while migrating) must
#: not wait for itself, as a second flock on a new descriptor would
_held = threading.local()


def lock_path(database: str) -> Path | None:
    """The lock file of the SQLite database file ``database``; None for memory databases."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return path.with_name(path.name + SUFFIX)


@contextmanager
def exclusive(path: Path | None) -> Iterator[None]:
    """Hold ``path``'s exclusive flock for the block, waiting for another holder to finish.
    Without a path, or where there is no flock (Windows), the block runs unguarded."""
    try:
        import fcntl
    except ImportError:
        path = None
    held: set[Path] = _held.__dict__.setdefault("paths", set())
    if path is None or path in held:
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DatabaseError(f"cannot open the lock file {path}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(path)
        yield
    finally:
        held.discard(path)
        os.close(fd)  # NOTE: closing releases the flock; the file stays (removing it would race)
