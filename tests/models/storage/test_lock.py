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
