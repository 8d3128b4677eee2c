"""The judge against a careful buyer: agreement and ranking on the development set of listings.

``python bench/judge_bench.py [PATH]`` reads the listings of ``tests/models/judge/deals-dev.jsonl``
(or PATH), each with a buyer's verdict (A want first, B acceptable, C poor, risky or a scam, X not
the watched card) and the expected reading, evaluates them for the RTX 3090 FE watch, and prints:
fully correct (fit, kind, model, variant, quantity and unit price all as expected), the pairwise
order A > B > C among the listings that fit, the C listings scoring 70 or more, the top 10, and every
disagreement. r/hardwareswap rows are posts (title and body): they go through the Reddit parser as a
scan would, so the price a body states is read the way it is read live.
``python bench/judge_bench.py --speed`` times identification and scoring alone on real captures.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEV_SET = REPO_ROOT / "tests" / "models" / "judge" / "deals-dev.jsonl"
#: the moment the set is judged at (auction end times are given relative to it)
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
#: the configuration's default conversion rates into USD
RATES = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27"), "CAD": Decimal("0.73")}
FIELDS = ("fit", "kind", "model", "variant", "quantity", "unit_price")
ORDER = {"A": 3, "B": 2, "C": 1}


def load(path: Path = DEV_SET) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _reddit_listing(row: Mapping[str, Any]) -> dict[str, Any]:
    """The listing object a scan would store for a Reddit row (parsed from a Listing document)."""
    from gpuscout.jobs.cli.judge import raw_to_dict
    from gpuscout.scraper.sources import get_source

    sub = row.get("subreddit", "hardwareswap")
    trades = row.get("trades")
    post = {"id": row["id"].replace("-", ""), "title": row["title"], "selftext": row["body"],
            "link_flair_text": row.get("flair"), "subreddit": sub, "author": "seller",
            "author_flair_text": None if trades is None else f"Trades: {trades}",
            "created_utc": (NOW - timedelta(days=1)).timestamp(),
            "permalink": f"/r/{sub}/comments/{row['id']}/post/"}
    doc = {"kind": "Listing", "data": {"after": None, "children": [{"kind": "t3", "data": post}]}}
    url = f"https://www.reddit.com/r/{sub}/new.json"
    parsed = get_source("reddit").parse(json.dumps(doc).encode(), url)
    (raw,) = parsed.listings
    out = {k: v for k, v in raw_to_dict(raw).items() if v is not None}
    out["flair"] = row.get("flair")
    return out


def listing_object(row: Mapping[str, Any]) -> dict[str, Any]:
    """The object ``gpuscout evaluate`` would be given for a row."""
    if row["source"] == "reddit":
        return _reddit_listing(row)
    obj = {k: v for k, v in row.items() if k not in ("id", "expect", "note", "ends_in_hours")}
    if row.get("ends_in_hours") is not None:
        obj["ends_at"] = (NOW + timedelta(hours=float(row["ends_in_hours"]))).isoformat()
    return obj


@dataclass(frozen=True)
class Judged:
    """One row: the buyer's expectation and what the judge read and scored."""

    row: Mapping[str, Any]
    got: Mapping[str, Any]
    score: int | None

    @property
    def verdict(self) -> str:
        return str(self.row["expect"]["verdict"])

    def wrong(self) -> list[str]:
        want = self.row["expect"]
        out = []
        for f in FIELDS:
            if f == "unit_price" and not want["fit"]:
                continue
            if _norm(want[f]) != _norm(self.got.get(f)):
                out.append(f"{f} {want[f]!r}->{self.got.get(f)!r}")
        return out


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Decimal(value).quantize(Decimal("0.01"))
        except ArithmeticError:
            return value
    if isinstance(value, float):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return value


def reading(result: Mapping[str, Any]) -> dict[str, Any]:
    """What the judge read, for the watch: the listing's identity, or the item it scored."""
    item = result.get("item") or {}
    return {"fit": result["fits"], "kind": item.get("kind", result["kind"]),
            "model": item.get("model", result["model"]),
            "variant": item.get("variant", result["variant"]),
            "quantity": item.get("quantity", result["quantity"]),
            "unit_price": result["unit_price"]}


def judge_all(rows: Iterable[Mapping[str, Any]]) -> list[Judged]:
    from gpuscout.models.judge.from_json import evaluate
    from gpuscout.models.judge.score import Watch

    watch = Watch("3090-fe", "rtx 3090", "fe", Decimal(650), Decimal(800))
    out = []
    for row in rows:
        obj = listing_object(row)
        result = evaluate(obj, watch, now=NOW, rates=RATES).to_dict()
        rank = result.get("rank", result["score"] if result["fits"] else None)
        out.append(Judged(row, reading(result), rank))
    return out


@dataclass(frozen=True)
class Figures:
    """The measured agreement."""

    total: int
    correct: int
    pairs: float
    pair_count: int
    c_over_70: tuple[Judged, ...]
    top: tuple[Judged, ...]
    mistakes: tuple[Judged, ...]
    disordered: tuple[tuple[Judged, Judged], ...] = field(default=())

    @property
    def fully_correct(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def pairwise(self) -> float:
        return self.pairs / self.pair_count if self.pair_count else 1.0

    @property
    def c_in_top(self) -> int:
        return sum(j.verdict == "C" for j in self.top)


def figures(judged: Sequence[Judged], top_n: int = 10) -> Figures:
    """Fully correct; pairwise order (a tie counts half) over every A/B/C pair of different
    verdicts among the rankable listings (a graded listing that is not rankable counts as below
    every rankable one); C listings at 70 or more; the top ``top_n`` rankable listings."""
    mistakes = tuple(j for j in judged if j.wrong())
    graded = [j for j in judged if j.verdict in ORDER]
    pairs, count = 0.0, 0
    disordered = []
    for i, a in enumerate(graded):
        for b in graded[i + 1:]:
            if ORDER[a.verdict] == ORDER[b.verdict]:
                continue
            hi, lo = (a, b) if ORDER[a.verdict] > ORDER[b.verdict] else (b, a)
            count += 1
            h = -1 if hi.score is None else hi.score
            lw = -1 if lo.score is None else lo.score
            if h > lw:
                pairs += 1
            elif h == lw:
                pairs += 0.5
                disordered.append((hi, lo))
            else:
                disordered.append((hi, lo))
    ranked = sorted((j for j in judged if j.score is not None), key=lambda j: -(j.score or 0))
    c_high = tuple(j for j in judged if j.verdict == "C" and j.score is not None and j.score >= 70)
    return Figures(len(judged), len(judged) - len(mistakes), pairs, count, c_high,
                   tuple(ranked[:top_n]), mistakes, tuple(disordered))


def _line(j: Judged) -> str:
    return (f"{j.row['id']:<11} {j.verdict} {'-' if j.score is None else j.score:>4}  "
            f"{j.row['title'][:70]}")


def render(f: Figures, *, elapsed: float | None = None, detail: bool = True) -> str:
    lines = [f"{f.total} listings", "",
             f"fully correct      {f.fully_correct:6.1%}  ({f.correct}/{f.total})",
             f"pairwise A > B > C {f.pairwise:6.1%}  ({f.pairs:g}/{f.pair_count} pairs)",
             f"C scoring >= 70    {len(f.c_over_70)}",
             f"C in the top 10    {f.c_in_top}"]
    if elapsed is not None:
        lines.append(f"time per listing   {elapsed * 1000 / max(f.total, 1):.2f} ms "
                     "(parse of Reddit rows, identification and scoring)")
    lines += ["", "top 10:"] + [f"  {_line(j)}" for j in f.top]
    if f.c_over_70:
        lines += ["", "C listings at 70 or more:"] + [f"  {_line(j)}" for j in f.c_over_70]
    if detail and f.mistakes:
        lines += ["", f"{len(f.mistakes)} listings read differently:"]
        lines += [f"  {j.row['id']:<11} {j.row['title'][:60]!r}: {', '.join(j.wrong())}"
                  for j in f.mistakes]
    if detail and f.disordered:
        lines += ["", f"{len(f.disordered)} pairs out of order (higher verdict first):"]
        lines += [f"  {a.row['id']} {a.verdict} {a.score} <= {b.row['id']} {b.verdict} {b.score}"
                  for a, b in f.disordered[:40]]
    return "\n".join(lines)


#: real captures whose listings the speed figure judges (as a scan reads them)
SPEED_CAPTURES = (("ebay-api/search-rtx-4090-2023-12.json", "https://api.ebay.com/buy/browse/v1/"
                   "item_summary/search?q=rtx"),
                  ("ebay-api/search-rtx-5090-2025-10.json", "https://api.ebay.com/buy/browse/v1/"
                   "item_summary/search?q=rtx"),
                  ("reddit/hardwareswap-new-2023-02.json",
                   "https://www.reddit.com/r/hardwareswap/new.json"),
                  ("ebay-html/search-sitem-de-2022-11.html", "https://www.ebay.de/sch/i.html"))


def speed(root: Path | None = None, *, repeat: int = 5) -> dict[str, Any]:
    """Identification and scoring time per listing (the judge alone: pages parsed beforehand),
    every text read afresh in each round, the best of ``repeat`` rounds."""
    from bench.common import best_of, fixtures_root
    from gpuscout.models.judge import score as score_module
    from gpuscout.models.judge.identify import identify
    from gpuscout.models.judge.score import ListingFacts, Watch, score_listing
    from gpuscout.scraper.sources import detect_source

    root = root or fixtures_root()
    raws: list[Any] = []
    for rel, url in SPEED_CAPTURES:
        path = root / rel
        if path.is_file():
            body = path.read_bytes()
            raws.extend(detect_source(body, url).parse(body, url).listings)
    watch = Watch("3090-fe", "rtx 3090", "fe", Decimal(650), Decimal(800))
    facts = [ListingFacts(title=r.title, description=r.description, price=r.price,
                          shipping=r.shipping, price_local=r.price_local, currency=r.currency,
                          source=r.source, seller_feedback=r.seller_feedback,
                          seller_positive_pct=r.seller_positive_pct, condition=r.condition,
                          buying_format=r.buying_format) for r in raws]

    def once() -> None:
        score_module.text_signals.cache_clear()
        for raw, fact in zip(raws, facts, strict=True):
            ident = identify(raw.title, raw.description, condition=raw.condition,
                             flair="BUYING" if raw.status == "wanted" else None)
            score_listing(fact, ident, watch, now=NOW, rates=RATES)

    seconds = best_of(once, repeat=repeat)
    return {"listings": len(raws), "us_per_listing": round(seconds * 1e6 / max(len(raws), 1), 1)}


def run(path: Path = DEV_SET, *, repeat: int = 5) -> dict[str, Any]:
    """The figures as a results dict (for ``bench/run.py``)."""
    rows = load(path)
    judged = judge_all(rows)
    f = figures(judged)
    return {"listings": f.total, "fully_correct_pct": round(f.fully_correct * 100, 1),
            "pairwise_pct": round(f.pairwise * 100, 1), "c_at_or_above_70": len(f.c_over_70),
            "c_in_top10": f.c_in_top, "top10": [j.row["id"] for j in f.top],
            "speed": speed(repeat=repeat)}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--speed":
        s = speed()
        print(f"identification and scoring: {s['us_per_listing']} µs per listing "
              f"({s['listings']} captured listings)")
        return 0
    path = Path(args[0]) if args else DEV_SET
    rows = load(path)
    t0 = time.perf_counter()
    judged = judge_all(rows)
    elapsed = time.perf_counter() - t0
    print(render(figures(judged), elapsed=elapsed))
    return 0


if __name__ == "__main__":
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    raise SystemExit(main())
