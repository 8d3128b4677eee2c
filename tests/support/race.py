"""Starting several processes at one moment (a barrier) to race on the same database."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier


def migrate(url: str, barrier: Barrier) -> None:
    """In a child: wait for the others, then bring the database at ``url`` to the newest schema
    the way every command does on start."""
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import ensure_current

    engine = make_engine(url)
    barrier.wait(timeout=60)
    try:
        ensure_current(engine)
    finally:
        engine.dispose()


def race(url: str, processes: int = 4) -> list[int | None]:
    """Run ``migrate`` in ``processes`` fresh interpreters at once; their exit codes."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    children = [ctx.Process(target=migrate, args=(url, barrier)) for _ in range(processes)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    return [child.exitcode for child in children]
