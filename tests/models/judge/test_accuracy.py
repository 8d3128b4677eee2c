"""Identification accuracy on the labelled development titles must stay at its targets."""

from __future__ import annotations

from typing import Any

import pytest

from gpuscout.models.judge.identify import Identity, identify

TARGETS = {"model": 0.97, "variant": 0.95, "kind": 0.95}
FE_PRECISION = 0.98
NON_CARD_KINDS = 0.85


@pytest.fixture(scope="module")
def predictions(dev_labels: list[dict[str, Any]],
                ebay_conditions: dict[str, str]) -> list[tuple[dict[str, Any], Identity]]:
    return [(row, identify(row["title"], row.get("description"), flair=row.get("flair"),
                           condition=ebay_conditions.get(row["item_id"])))
            for row in dev_labels]


def test_dev_set_is_the_published_one(dev_labels: list[dict[str, Any]]) -> None:
    assert len(dev_labels) == 542
    assert sum(r["variant"] == "fe" for r in dev_labels) == 101


@pytest.mark.parametrize("field", sorted(TARGETS))
def test_field_accuracy(field: str, predictions: list[tuple[dict[str, Any], Identity]]) -> None:
    wrong = [(r["title"], r[field], getattr(got, field)) for r, got in predictions
             if getattr(got, field) != r[field]]
    accuracy = 1 - len(wrong) / len(predictions)
    assert accuracy >= TARGETS[field], f"{field} accuracy {accuracy:.1%}; mistakes: {wrong}"


def test_non_card_kinds(predictions: list[tuple[dict[str, Any], Identity]]) -> None:
    """Systems, bundles, parts, accessories and wanted ads are told from cards."""
    non_card = [(r["title"], r["kind"], got.kind) for r, got in predictions if r["kind"] != "card"]
    wrong = [t for t in non_card if t[1] != t[2]]
    assert len(non_card) >= 50
    accuracy = 1 - len(wrong) / len(non_card)
    assert accuracy >= NON_CARD_KINDS, f"non-card kind accuracy {accuracy:.1%}: {wrong}"


def test_founders_edition_precision_and_recall(
        predictions: list[tuple[dict[str, Any], Identity]]) -> None:
    said_fe = [(r["title"], r["variant"]) for r, got in predictions if got.variant == "fe"]
    false = [t for t in said_fe if t[1] != "fe"]
    precision = 1 - len(false) / len(said_fe)
    assert precision >= FE_PRECISION, f"FE precision {precision:.1%}: {false}"
    missed = [r["title"] for r, got in predictions if r["variant"] == "fe" and got.variant != "fe"]
    assert len(missed) <= 5, missed


def test_quantity_is_one_except_for_bundles(
        predictions: list[tuple[dict[str, Any], Identity]]) -> None:
    for row, got in predictions:
        assert got.quantity >= 1
        if got.kind != "bundle":
            assert got.quantity == 1, row["title"]
