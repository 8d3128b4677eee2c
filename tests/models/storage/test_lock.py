"""The scan lock: held means a second scan is refused; an expired SQLite lease can be taken over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gpuscout.models.errors import ScanLocked
from gpuscout.models.storage.lock import LEASE, scan_lock

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_second_scan_is_refused_while_the_first_holds_the_lock(engine: Any) -> None:
    with scan_lock(engine, now=NOW):  # noqa: SIM117 - the outer lock is the point
        with pytest.raises(ScanLocked, match="another scan is running"), scan_lock(engine, now=NOW):
            pass
    with scan_lock(engine, now=NOW):  # released: free again
        pass


def test_a_crashed_holders_lease_expires(engine: Any) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL advisory locks end with their session")
    held = scan_lock(engine, now=NOW)
    held.__enter__()  # a scan that never released (its process died)
    with pytest.raises(ScanLocked), scan_lock(engine, now=NOW + LEASE - timedelta(minutes=1)):
        pass
    with scan_lock(engine, now=NOW + LEASE + timedelta(minutes=1)):
        pass


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _hold(engine: Any, holder: str, now: datetime) -> None:
    from sqlalchemy import insert

    from gpuscout.models.storage.tables.runs import ScanLock

    with engine.begin() as conn:
        conn.execute(insert(ScanLock).values(name="scan", holder=holder, acquired_at=now,
                                             expires_at=now + LEASE))


def _sqlite_only(engine: Any) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL advisory locks end with their session")


@pytest.mark.parametrize("start", ["", ":-", ":1"])
def test_a_dead_holder_on_this_host_is_taken_over_at_once(engine: Any, start: str) -> None:
    """Within the lease: the pid is gone (a killed scan), whatever start time it recorded."""
    import socket

    _sqlite_only(engine)
    _hold(engine, f"{socket.gethostname()}:{_dead_pid()}{start}:0badc0de", NOW)
    with scan_lock(engine, now=NOW + timedelta(minutes=1)):
        pass


def test_a_reused_pid_is_not_the_holder(engine: Any) -> None:
    """The pid lives, but started at another time than the holder did: another process."""
    import os
    import socket

    from gpuscout.models.storage.lock import _start_time

    _sqlite_only(engine)
    if _start_time(os.getppid()) is None:
        pytest.skip("no process start times on this system")
    _hold(engine, f"{socket.gethostname()}:{os.getppid()}:1:0badc0de", NOW)
    with scan_lock(engine, now=NOW + timedelta(minutes=1)):
        pass


def test_a_live_holder_or_one_on_another_host_keeps_the_lock(engine: Any) -> None:
    import os
    import socket

    from gpuscout.models.storage.lock import Holder, _start_time, holder_id

    _sqlite_only(engine)
    parent = f"{socket.gethostname()}:{os.getppid()}:{_start_time(os.getppid()) or '-'}:0badc0de"
    assert Holder.parse(parent).alive() is True
    assert Holder.parse(holder_id()).alive() is True
    _hold(engine, parent, NOW)
    with pytest.raises(ScanLocked, match="another scan is running"), \
            scan_lock(engine, now=NOW + timedelta(minutes=1)):
        pass
    elsewhere = f"not-{socket.gethostname()}:{_dead_pid()}:-:0badc0de"
    assert Holder.parse(elsewhere).alive() is None
    with engine.begin() as conn:
        from sqlalchemy import update

        from gpuscout.models.storage.tables.runs import ScanLock

        conn.execute(update(ScanLock).values(holder=elsewhere))
    with pytest.raises(ScanLocked), scan_lock(engine, now=NOW + timedelta(minutes=1)):
        pass  # another host's pid cannot be checked from here: its lease decides
    with scan_lock(engine, now=NOW + LEASE + timedelta(minutes=1)):
        pass


def test_runs_left_running_are_closed_as_interrupted(engine: Any) -> None:
    from sqlalchemy import select

    from gpuscout.models.storage.db import session_factory, transaction
    from gpuscout.models.storage.lock import INTERRUPTED, close_interrupted
    from gpuscout.models.storage.tables.runs import ScrapeRun

    sessions = session_factory(engine)
    with transaction(sessions) as s:
        s.add_all([ScrapeRun(search="a", source="ebay", started_at=NOW, outcome="running"),
                   ScrapeRun(search="b", source="ebay", started_at=NOW, outcome="ok",
                             finished_at=NOW)])
    later = NOW + timedelta(hours=3)
    assert close_interrupted(engine, now=later) == 1
    assert close_interrupted(engine, now=later) == 0
    with sessions() as s:
        runs = {r.search: r for r in s.scalars(select(ScrapeRun))}
    assert runs["a"].outcome == INTERRUPTED and runs["a"].finished_at is not None
    assert runs["b"].outcome == "ok"
