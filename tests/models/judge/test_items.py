"""Item lines of multi-item posts in every common layout, and prices stated per item."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from gpuscout.models.judge.items import Item, items_from_json, items_to_json, per_unit_amounts, read_lines


def lines(body: str) -> list[tuple[str, str | None, str | None, bool | None, bool, bool]]:
    return [(i.text, None if i.price is None else str(i.price),
             None if i.local is None else str(i.local), i.shipped, i.each, i.sold)
            for i in read_lines(body)]


@pytest.mark.parametrize(("body", "expected"), [
    # "Item: X" with a post-wide "prices are shipped"
    ("RTX 3090 FE: 700\ni9-10900K: 220\n32GB (2x16) DDR4 3600: 70\n\nPrices are shipped.",
     [("rtx 3090 fe", "700", None, True, False, False),
      ("i9-10900k", "220", None, True, False, False),
      ("32gb (2x16) ddr4 3600", "70", None, True, False, False)]),
    # "Item - $X shipped" as a Markdown list
    ("- RTX 3090 Founders Edition - $690 shipped\n- EVGA RTX 3080 FTW3 Ultra - $480 shipped",
     [("rtx 3090 founders edition shipped", "690", None, True, False, False),
      ("evga rtx 3080 ftw3 ultra shipped", "480", None, True, False, False)]),
    # "$X - Item"
    ("$720 - RTX 3090 Founders Edition (used ~1 year)\n$480 - Radeon RX 6900 XT reference",
     [("rtx 3090 founders edition (used ~1 year)", "720", None, None, False, False),
      ("radeon rx 6900 xt reference", "480", None, None, False, False)]),
    # a Markdown table, header and rule rows skipped
    ("| Item | Price |\n|---|---|\n| RTX 3090 FE | $710 |\n| 5800X3D | $230 |",
     [("rtx 3090 fe", "710", None, None, False, False), ("5800x3d", "230", None, None, False, False)]),
    # struck out and marked sold
    ("~~RTX 3070 FE - $300 shipped~~ SOLD\nRTX 3090 FE - $725 shipped",
     [("rtx 3070 fe shipped sold", "300", None, True, False, True),
      ("rtx 3090 fe shipped", "725", None, True, False, False)]),
    # the item on one line, its prices on the next; shipped and local on one line
    ("RTX 3090 FE\n$700 shipped / $650 local",
     [("rtx 3090 fe shipped / local", "700", "650", True, False, False)]),
    # two items priced on one line
    ("3090 FE $700, 3080 $500 shipped",
     [("3090 fe", "700", None, None, False, False), ("3080 shipped", "500", None, True, False, False)]),
    # one item offered two ways: a place after "local" is no item
    ("$950 local in Toronto or $990 shipped.",
     [("local in toronto or shipped.", "990", "950", True, False, False)]),
    # per item
    ("2x 3090 FE - $700 each shipped", [("2x 3090 fe each shipped", "700", None, True, True, False)]),
    # no asking price: what was paid, a temperature, a count of trades
    ("Paid $1500 at launch", []),
    ("3090 FE temps: 65\nTrades: 40", []),
])
def test_layouts(body: str, expected: list[tuple[str, str | None, str | None, bool | None, bool,
                                                   bool]]) -> None:
    assert lines(body) == expected


def test_paid_price_beside_the_asking_one() -> None:
    assert lines("Paid $1500 at launch, asking $700") == [
        ("paid $1500 at launch asking", "700", None, None, False, False)]


@pytest.mark.parametrize(("text", "amounts"), [
    ("$700 shipped each, $650 each local", {D("700"), D("650")}),
    ("Have two, $700 each.", {D("700")}),
    ("650 ea", {D("650")}),
    ("$700/ea", {D("700")}),
    ("each for $690", {D("690")}),
    ("$700 per card", {D("700")}),
    ("$1400 for the pair", set()),
    ("each one was repasted, $700", set()),
])
def test_per_unit_amounts(text: str, amounts: set[D]) -> None:
    assert per_unit_amounts(text) == amounts


def test_items_round_trip_and_describe() -> None:
    item = Item("rtx 3090 fe", "rtx 3090", "fe", D("700"), D("650"), True, False, False, 1)
    assert items_from_json(items_to_json([item])) == (item,)
    assert items_to_json([]) is None and items_from_json("not json") == ()
    assert item.describe() == "rtx 3090 fe ('rtx 3090 fe'): 700 shipped, 650 local"
    sold = Item("3070", "rtx 3070", "unknown", D("300"), sold=True, quantity=2, each=True)
    assert sold.describe() == "2x rtx 3070 ('3070'): 300 each (sold)"
