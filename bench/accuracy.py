"""Identification accuracy on the labelled titles: per-field accuracy, FE precision/recall, errors."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # NOTE: run as a script, bench/ is on the path, not the repo
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import LABELS_ENV, fixtures_root, labels_root  # noqa: E402
from gpuscout.models.judge.identify import Identity, identify  # noqa: E402

FIELDS = ("model", "variant", "kind")
# eBay Browse API captures whose items are labelled: their `condition` is a marketplace fact the
# identifier is given, exactly as a live scan would give it.
EBAY_CAPTURES = ("ebay-api/search-rtx-4090-2023-12.json", "ebay-api/search-rtx-5090-2025-10.json",
                 "ebay-api/search-envelope-rtx-a5000-2023-11.json")


def load_labels(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def ebay_conditions(fixtures: Path) -> dict[str, str]:
    """item id -> eBay condition text, from the captures that exist."""
    out: dict[str, str] = {}
    for rel in EBAY_CAPTURES:
        path = fixtures / rel
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data if isinstance(data, list) else data.get("itemSummaries", [])
        for item in items:
            if isinstance(item, dict) and item.get("condition"):
                out[str(item.get("itemId"))] = str(item["condition"])
    return out


@dataclass(frozen=True)
class Report:
    total: int
    correct: Mapping[str, int]
    fe_tp: int
    fe_fp: int
    fe_fn: int
    confusion: Mapping[str, Counter[tuple[str, str]]]
    mistakes: tuple[tuple[dict[str, Any], Identity], ...]
    #: listings labelled as something other than a card, and those whose kind was read right
    non_card: int = 0
    non_card_correct: int = 0

    def accuracy(self, field: str) -> float:
        return self.correct[field] / self.total if self.total else 0.0

    @property
    def non_card_accuracy(self) -> float:
        return self.non_card_correct / self.non_card if self.non_card else 1.0

    @property
    def fe_precision(self) -> float:
        return self.fe_tp / (self.fe_tp + self.fe_fp) if self.fe_tp + self.fe_fp else 1.0

    @property
    def fe_recall(self) -> float:
        return self.fe_tp / (self.fe_tp + self.fe_fn) if self.fe_tp + self.fe_fn else 1.0


def measure(rows: Iterable[Mapping[str, Any]], conditions: Mapping[str, str]) -> Report:
    correct = dict.fromkeys(FIELDS, 0)
    confusion: dict[str, Counter[tuple[str, str]]] = {f: Counter() for f in FIELDS}
    mistakes = []
    tp = fp = fn = total = non_card = non_card_correct = 0
    for row in rows:
        total += 1
        got = identify(row["title"], row.get("description"), flair=row.get("flair"),
                       condition=conditions.get(str(row.get("item_id"))))
        wrong = False
        for f in FIELDS:
            if getattr(got, f) == row[f]:
                correct[f] += 1
            else:
                wrong = True
                confusion[f][(row[f], getattr(got, f))] += 1
        tp += got.variant == "fe" and row["variant"] == "fe"
        fp += got.variant == "fe" and row["variant"] != "fe"
        fn += got.variant != "fe" and row["variant"] == "fe"
        if row["kind"] != "card":
            non_card += 1
            non_card_correct += got.kind == row["kind"]
        if wrong:
            mistakes.append((dict(row), got))
    return Report(total, correct, tp, fp, fn, confusion, tuple(mistakes), non_card,
                  non_card_correct)


def render(report: Report) -> str:
    lines = [f"{report.total} labelled listings", "", "field     accuracy"]
    lines += [f"{f:<9} {report.accuracy(f):7.1%}  ({report.correct[f]}/{report.total})"
              for f in FIELDS]
    lines.append(f"non-card kinds {report.non_card_accuracy:7.1%}  "
                 f"({report.non_card_correct}/{report.non_card})")
    lines += ["", f"Founders Edition precision {report.fe_precision:.1%} "
              f"({report.fe_tp}/{report.fe_tp + report.fe_fp}), recall {report.fe_recall:.1%} "
              f"({report.fe_tp}/{report.fe_tp + report.fe_fn})", ""]
    for f in FIELDS:
        if report.confusion[f]:
            lines.append(f"{f} errors (expected -> got):")
            lines += [f"  {n:3d}  {a} -> {b}" for (a, b), n in report.confusion[f].most_common()]
    lines += ["", f"{len(report.mistakes)} listings with a mistake:"]
    for row, got in report.mistakes:
        diffs = ", ".join(f"{f} {row[f]!r}->{getattr(got, f)!r}" for f in FIELDS
                          if row[f] != getattr(got, f))
        lines.append(f"  {row['title'][:90]!r}: {diffs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else labels_root() / "titles-dev.jsonl"
    if not path.is_file():
        print(f"labels not found at {path}; set {LABELS_ENV} to their folder", file=sys.stderr)
        return 2
    print(render(measure(load_labels(path), ebay_conditions(fixtures_root()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
