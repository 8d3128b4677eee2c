"""The free-text price reading both the Reddit parser and the judge use: Markdown lines, sold marks,
what qualifies an amount, and a line split into the items it prices."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from gpuscout.scraper.text_prices import (
    EACH,
    FILLER,
    SOLD,
    Amount,
    kind,
    lead,
    split_runs,
    tail,
    unmark,
)


@pytest.mark.parametrize(("line", "expected"), [
    ("- RTX 3090 FE - $700", "RTX 3090 FE - $700"),
    ("  2) EVGA 3080 FTW3 ", "EVGA 3080 FTW3"),
    ("## Prices", "Prices"),
    ("| RTX 3090 FE | $710 |", "RTX 3090 FE | $710"),
    ("| a | | b |", "a |  | b"),
])
def test_unmark(line: str, expected: str) -> None:
    assert unmark(line) == expected


@pytest.mark.parametrize(("line", "sold"), [
    ("RTX 3070 FE - $300 SOLD", True), ("3080 (sold)", True), ("3080 [Sold]", True),
    ("3080 - sold", True), ("3080 sold to u/someone", True), ("3080 sold pending", True),
    ("never sold before, $700", False), ("Sold by the original owner", False),
])
def test_sold_marks(line: str, sold: bool) -> None:
    assert bool(SOLD.search(line)) is sold


@pytest.mark.parametrize(("text", "each"), [
    ("$700 each", True), ("650 ea", True), ("$95ea + shipping", True), ("$700/ea", True),
    ("700 a piece", True), ("$700 per card", True), ("per one", True), ("EACH", True),
    ("$1400 for the pair", False), ("reached 700", False), ("tea", False),
])
def test_each(text: str, each: bool) -> None:
    assert bool(EACH.search(text)) is each


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("", " shipped", "shipped"),
    ("", " with shipping", "shipped"),
    ("", " + shipping", "plus"),
    ("", " + $25 shipping", "plus"),
    ("", " not including shipping", "plus"),
    ("", " local", "local"),
    ("pickup ", "", "local"),
    ("shipped ", "", "shipped"),
    ("+ shipping, shipped ", "", "shipped"),
    ("shipped + shipping ", "", ""),
    ("asking ", " obo", ""),
])
def test_kind(before: str, after: str, expected: str) -> None:
    """What the words before and after an amount (up to a separator) make of it."""
    assert kind(lead(before), tail(after)) == expected


def test_lead_and_tail_stop_at_separators() -> None:
    assert lead("RTX 3080, local ") == " local "
    assert lead("sold one. shipped ") == "shipped "
    assert tail(" shipped / $650 local") == " shipped "
    assert tail(" shipped or best offer") == " shipped"
    assert len(tail(" " + "x" * 100)) == 40


def _amounts(line: str) -> list[Amount]:
    return [Amount(m.start(1), m.end(1), Decimal(m.group(1))) for m in re.finditer(r"\$(\d+)", line)]


def _names_item(text: str) -> bool:
    return any(w not in FILLER for w in re.findall(r"[a-z0-9]+", text.lower()))


@pytest.mark.parametrize(("line", "parts"), [
    ("3090 FE $700, 3080 $500 shipped", ["3090 FE $700", ", 3080 $500 shipped"]),
    ("RTX 3090 FE $700 shipped / $650 local", ["RTX 3090 FE $700 shipped / $650 local"]),
    ("$950 local in Toronto or $990 shipped", ["$950 local in Toronto or $990 shipped"]),
    ("$700 shipped or $650 local to 95014", ["$700 shipped or $650 local to 95014"]),
])
def test_split_runs(line: str, parts: list[str]) -> None:
    runs = split_runs(line, _amounts(line), _names_item)
    assert [line[start:end] for start, end, _run in runs] == parts
    assert [a for _start, _end, run in runs for a in run] == _amounts(line)
