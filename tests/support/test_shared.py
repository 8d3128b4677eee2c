"""The absent-real-data mechanism: tests needing the captures or labels skip with one reason, fail
under GPUSCOUT_REQUIRE_CAPTURES=1, and run when the folders are there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import FIXTURES_ENV, LABELS_ENV
from tests.support import shared

REPO_ROOT = Path(__file__).resolve().parents[2]
#: one test that reads a capture, one that reads the labels
NEEDS_BOTH = ("tests/scraper/sources/test_ebay.py::test_uk_counts_and_currency",
              "tests/models/judge/test_accuracy.py::test_dev_set_is_the_published_one")


@pytest.fixture
def absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    fixtures, labels = tmp_path / "no-fixtures", tmp_path / "no-labels"
    monkeypatch.setenv(FIXTURES_ENV, str(fixtures))
    monkeypatch.setenv(LABELS_ENV, str(labels))
    monkeypatch.delenv(shared.REQUIRE_ENV, raising=False)
    return fixtures, labels


def test_absent_folder_skips_with_one_reason_naming_both(absent: tuple[Path, Path]) -> None:
    fixtures, labels = absent
    with pytest.raises(pytest.skip.Exception) as caught:
        shared.require(shared.shared_folders()[0])
    reason = str(caught.value)
    assert reason == (
        f"real captures not found at {fixtures} (set GPUSCOUT_FIXTURES to their folder); "
        f"labelled titles not found at {labels} (set GPUSCOUT_LABELS to their folder); "
        "GPUSCOUT_REQUIRE_CAPTURES=1 makes this a failure")
    with pytest.raises(pytest.skip.Exception) as again:
        shared.require(shared.shared_folders()[1])
    assert str(again.value) == reason  # the same reason whichever folder a test needs


def test_absent_folder_fails_when_required(absent: tuple[Path, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(shared.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="real captures not found"):
        shared.require(shared.shared_folders()[0])


def test_present_folder_is_returned_and_only_the_absent_one_is_named(
        absent: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    fixtures, labels = absent
    fixtures.mkdir()
    monkeypatch.setenv(shared.REQUIRE_ENV, "1")
    assert shared.require(shared.shared_folders()[0]) == fixtures
    assert shared.missing_reason(shared.shared_folders()) == (
        f"labelled titles not found at {labels} (set GPUSCOUT_LABELS to their folder); "
        "GPUSCOUT_REQUIRE_CAPTURES=1 makes this a failure")
    labels.mkdir()
    assert shared.missing_reason(shared.shared_folders()) is None


def test_default_folders_are_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FIXTURES_ENV, raising=False)
    monkeypatch.delenv(LABELS_ENV, raising=False)
    fixtures, labels = shared.shared_folders()
    assert fixtures.path == REPO_ROOT.parent / "shared" / "fixtures"
    assert labels.path == REPO_ROOT.parent / "shared" / "labels"


def _pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != shared.REQUIRE_ENV}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-rs", *args, *NEEDS_BOTH], cwd=REPO_ROOT, env=full,
                          capture_output=True, text=True, timeout=120)


def test_a_session_without_the_folders_skips_or_fails_as_configured(tmp_path: Path) -> None:
    env = {FIXTURES_ENV: str(tmp_path / "fx"), LABELS_ENV: str(tmp_path / "lb")}
    skipped = _pytest(env)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    lines = [line for line in skipped.stdout.splitlines() if line.startswith("SKIPPED")]
    assert lines == [f"SKIPPED [2] tests/support/shared.py:{shared.require.__code__.co_firstlineno}: "
                     f"{shared.missing_reason(_folders(tmp_path))}"]
    assert "2 skipped" in skipped.stdout
    required = _pytest({**env, shared.REQUIRE_ENV: "1"})
    assert required.returncode == 1
    assert "2 errors" in required.stdout and "real captures not found" in required.stdout


def _folders(tmp_path: Path) -> tuple[shared.SharedFolder, ...]:
    return (shared.SharedFolder("real captures", FIXTURES_ENV, tmp_path / "fx"),
            shared.SharedFolder("labelled titles", LABELS_ENV, tmp_path / "lb"))
