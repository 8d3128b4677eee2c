"""The judge against a careful buyer on the development listings: the targets hold."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.judge_bench import Figures, figures, judge_all, load  # noqa: E402


@pytest.fixture(scope="module")
def measured() -> Figures:
    return figures(judge_all(load()))


def test_the_set_covers_every_marketplace_and_verdict() -> None:
    rows = load()
    assert len(rows) >= 120
    assert Counter(r["source"] for r in rows) == {"ebay": 50, "reddit": 40, "craigslist": 28,
                                                  "facebook": 26}
    verdicts = Counter(r["expect"]["verdict"] for r in rows)
    assert min(verdicts[v] for v in "ABCX") >= 25
    assert len({r["id"] for r in rows}) == len(rows)


def test_fully_correct_reading(measured: Figures) -> None:
    wrong = {j.row["id"]: j.wrong() for j in measured.mistakes}
    assert measured.fully_correct >= 0.95, wrong


def test_pairwise_order_of_verdicts(measured: Figures) -> None:
    assert measured.pairwise >= 0.95, [(a.row["id"], a.score, b.row["id"], b.score)
                                       for a, b in measured.disordered]


def test_no_poor_or_risky_listing_reaches_an_alert_or_the_top(measured: Figures) -> None:
    assert [j.row["id"] for j in measured.c_over_70] == []
    assert measured.c_in_top == 0
    assert len(measured.top) == 10
    assert {j.verdict for j in measured.top} <= {"A", "B"}


def test_a_listing_over_the_budget_is_never_expected_to_fit() -> None:
    """The watch's band (650-800 USD) is the budget: what costs more per card may not be ranked,
    so no row expects it to fit."""
    from decimal import Decimal

    over = [r["id"] for r in load() if r["expect"]["fit"] and r["expect"]["unit_price"] is not None
            and Decimal(r["expect"]["unit_price"]) > 800]
    assert over == []
