"""Fixtures for the evaluator tests: the labelled titles and the eBay conditions of their captures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.accuracy import EBAY_CAPTURES
from tests.support.shared import require, shared_folders


@pytest.fixture(scope="session")
def labels_dir() -> Path:
    """The labelled titles' folder; tests that use it skip when it is absent (tests.support.shared)."""
    return require(shared_folders()[1])


@pytest.fixture(scope="session")
def dev_labels(labels_dir: Path) -> list[dict[str, Any]]:
    with (labels_dir / "titles-dev.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def ebay_conditions(read_fixture: Callable[[str], bytes]) -> dict[str, str]:
    """eBay item id -> the condition text the Browse API gave for it in the captures."""
    out: dict[str, str] = {}
    for rel in EBAY_CAPTURES:
        data = json.loads(read_fixture(rel))
        items = data if isinstance(data, list) else data["itemSummaries"]
        out.update({item["itemId"]: item["condition"] for item in items if item.get("condition")})
    return out


@pytest.fixture(scope="session")
def hardwareswap_posts(read_fixture: Callable[[str], bytes]) -> list[dict[str, Any]]:
    """The r/hardwareswap posts of the 2023-02 capture (title, selftext, flair, author flair)."""
    data = json.loads(read_fixture("reddit/hardwareswap-new-2023-02.json"))
    return [child["data"] for child in data["data"]["children"]]


@pytest.fixture(scope="session")
def dev_by_title(dev_labels: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["title"]: row for row in dev_labels}
