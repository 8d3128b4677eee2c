"""Starting several processes at one moment (a barrier) to race on the same database."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier


def migrate(url: str, barrier: Barrier, errors: Queue[str]) -> None:
    """In a child: wait for the others, then bring the database at ``url`` to the newest schema
    the way every command does on start; a failure is reported on ``errors``."""
    try:
        from gpuscout.models.storage.db import make_engine
        from gpuscout.models.storage.migrate import ensure_current

        engine = make_engine(url)
        barrier.wait(timeout=60)
        try:
            ensure_current(engine)
        finally:
            engine.dispose()
    except BaseException:
        errors.put(traceback.format_exc())
        raise


def open_new(paths: list[str], barrier: Barrier, errors: Queue[str]) -> None:
    """In a child: for each path, wait for the others, then open that brand-new SQLite file as
    every engine connection does (its pragmas, WAL first); failures are reported on ``errors``."""
    import sqlite3

    from gpuscout.models.storage.db import sqlite_pragmas
    from gpuscout.models.storage.urls import BUSY_TIMEOUT_MS

    for path in paths:
        barrier.wait(timeout=60)
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                sqlite_pragmas(conn, None)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
        except Exception:
            errors.put(traceback.format_exc())


def race(url: str, processes: int = 4) -> tuple[list[int | None], list[str]]:
    """Run ``migrate`` in ``processes`` fresh interpreters at once; their exit codes and the
    tracebacks of those that failed."""
    return _run(migrate, (url,), processes)


def race_open(paths: list[str], processes: int = 4) -> tuple[list[int | None], list[str]]:
    """``open_new`` in ``processes`` fresh interpreters, one round per path."""
    return _run(open_new, (paths,), processes)


def _run(target: Callable[..., None], args: tuple[object, ...],
         processes: int) -> tuple[list[int | None], list[str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    errors: Queue[str] = ctx.Queue()
    children = [ctx.Process(target=target, args=(*args, barrier, errors))
                for _ in range(processes)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    found: list[str] = []
    while not errors.empty():
        found.append(errors.get(timeout=5))
    return [child.exitcode for child in children], found
