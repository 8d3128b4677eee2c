"""The real captures and labelled titles kept outside the repository: the tests that need them skip,
with one reason, when they are absent, and fail instead under GPUSCOUT_REQUIRE_CAPTURES=1 (CI)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.common import FIXTURES_ENV, LABELS_ENV, fixtures_root, labels_root

REQUIRE_ENV = "GPUSCOUT_REQUIRE_CAPTURES"


@dataclass(frozen=True)
class SharedFolder:
    """One folder of real data: what it holds, the variable that points at it, where it is looked for."""

    what: str
    variable: str
    path: Path


def shared_folders() -> tuple[SharedFolder, SharedFolder]:
    """The captures and the labels, where they are looked for now."""
    return (SharedFolder("real captures", FIXTURES_ENV, fixtures_root()),
            SharedFolder("labelled titles", LABELS_ENV, labels_root()))


def missing_reason(folders: tuple[SharedFolder, ...]) -> str | None:
    """One sentence naming every absent folder and how to point at it; None when all are there.

    NOTE: it names all absent folders, not only the one a test needs, so that a fresh clone (both
    absent) shows a single skip reason in pytest's summary.
    """
    missing = [folder for folder in folders if not folder.path.is_dir()]
    if not missing:
        return None
    parts = [f"{folder.what} not found at {folder.path} (set {folder.variable} to their folder)"
             for folder in missing]
    return "; ".join(parts) + f"; {REQUIRE_ENV}=1 makes this a failure"


def require(folder: SharedFolder) -> Path:
    """``folder.path`` when it exists; else skip the test (fail it under GPUSCOUT_REQUIRE_CAPTURES=1)."""
    if folder.path.is_dir():
        return folder.path
    reason = missing_reason(shared_folders()) or missing_reason((folder,)) or ""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def fold_skip(report: pytest.TestReport) -> None:
    """Report a skip for absent real data at ``require`` rather than at each test, so that pytest's
    summary folds the hundreds of them into one line with the one reason."""
    longrepr = report.longrepr
    if not (report.skipped and isinstance(longrepr, tuple) and len(longrepr) == 3):
        return
    reason = str(longrepr[2])
    if reason.endswith(f"{REQUIRE_ENV}=1 makes this a failure"):
        report.longrepr = (__file__, require.__code__.co_firstlineno, reason)
