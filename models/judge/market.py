"""The market reference: what a card sells for, estimated sold-first from observed prices, with the
watch's band as the prior that data outweighs as it accumulates.

Observations (``MarketPoint``) are sales, listings that vanished within days of appearing (a weaker
sign of a sale) and asks, each a unit price in the watch's currency. Each card counts once (the
newest observation of each kind per ``group``: cross-posts and reposts share a group); a mined
card's price is raised to what an ordinary one would cost. Outliers are trimmed by a robust fence
on the log scale (median ± ``trim_spreads`` × 1.4826 × MAD). Sales give the estimate; asks, kept
apart, add to it only after scaling by what sells for a unit asked, and count for less. Newer
observations weigh more (a half-life), and the lag a weighted median has in a moving market is
corrected by the trend of the sales. Finally the estimate is shrunk towards the band midpoint by
the band's weight against the data's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from gpuscout.models.judge.inputs import MarketRules

CENT = Decimal("0.01")
PointKind = Literal["sold", "gone", "ask"]
KINDS: tuple[PointKind, ...] = ("sold", "gone", "ask")
#: a card's condition as the market sees it
Condition = Literal["ok", "mined", "repaired"]
DEFAULT_MARKET_RULES = MarketRules()


def money(value: Decimal) -> Decimal:
    """Round to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal | None) -> str | None:
    return None if value is None else str(money(value))


def band_midpoint(low: Decimal, high: Decimal) -> Decimal:
    return money((low + high) / 2)


def condition_factor(condition: str, rules: MarketRules = DEFAULT_MARKET_RULES) -> Decimal:
    """What a card in ``condition`` costs as a fraction of an ordinary one."""
    return {"mined": rules.mined_discount, "repaired": rules.repaired_discount}.get(
        condition, Decimal(1))


@dataclass(frozen=True, slots=True)
class MarketPoint:
    """One observed price of one card, per card in the watch currency, as stated (a mined card's
    price is not adjusted yet). ``group`` is the card: cross-posts and reposts share it."""

    kind: PointKind
    price: Decimal
    at: datetime
    group: int = 0
    condition: Condition = "ok"


@dataclass(frozen=True, slots=True)
class MarketReference:
    """The price a listing is compared with. ``median`` is the reference itself: the band
    midpoint when nothing was observed (``source`` "band"), else the sold-first estimate shrunk
    towards the band by ``band_share`` (``source`` "market"). The sold and asking medians and
    counts are those of the ``window_days`` before ``at``, after outliers were trimmed."""

    median: Decimal
    count: int
    window_days: int
    source: Literal["band", "market"]
    band_midpoint: Decimal
    currency: str = "USD"
    sold_median: Decimal | None = None
    sold_count: int = 0
    gone_count: int = 0
    ask_median: Decimal | None = None
    ask_count: int = 0
    #: what sells for a unit asked, as used (measured, or the rules' default)
    ask_ratio: Decimal | None = None
    #: observations left out as outliers
    trimmed: int = 0
    #: the band midpoint's share of the reference (1 with no data)
    band_share: Decimal = Decimal(1)
    #: the correction for the trend of the sales (a fraction, + when prices rise)
    trend_correction: Decimal = Decimal(0)

    def for_condition(self, condition: str, rules: MarketRules = DEFAULT_MARKET_RULES) -> Decimal:
        """The reference for a card in ``condition`` (a mined or repaired one costs less)."""
        return money(self.median * condition_factor(condition, rules))

    def explain(self) -> str:
        cur = self.currency
        if self.source == "band":
            return (f"reference {self.median:.2f} {cur}: the band midpoint (no sale or ask in the "
                    f"last {self.window_days} days)")
        parts = []
        if self.sold_median is not None:
            gone = f" and {self.gone_count} quickly gone" if self.gone_count else ""
            parts.append(f"sold median {self.sold_median:.2f} of {self.sold_count} sales{gone}")
        if self.ask_median is not None:
            ratio = f" (x{self.ask_ratio:.2f} sells)" if self.ask_ratio is not None else ""
            parts.append(f"asking median {self.ask_median:.2f} of {self.ask_count} asks{ratio}")
        if self.trend_correction:
            parts.append(f"trend {self.trend_correction:+.1%}")
        if self.trimmed:
            parts.append(f"{self.trimmed} outliers left out")
        parts.append(f"band midpoint {self.band_midpoint:.2f} weighs {self.band_share:.0%}")
        return (f"reference {self.median:.2f} {cur} over the last {self.window_days} days: "
                + "; ".join(parts))

    def to_dict(self) -> dict[str, Any]:
        return {"median": money_str(self.median), "count": self.count,
                "window_days": self.window_days, "source": self.source,
                "band_midpoint": money_str(self.band_midpoint), "currency": self.currency,
                "sold_median": money_str(self.sold_median), "sold_count": self.sold_count,
                "gone_count": self.gone_count, "ask_median": money_str(self.ask_median),
                "ask_count": self.ask_count,
                "ask_ratio": None if self.ask_ratio is None else f"{self.ask_ratio:.3f}",
                "trimmed": self.trimmed, "band_share": f"{self.band_share:.3f}",
                "trend_correction": f"{self.trend_correction:.4f}",
                "explanation": self.explain()}


# --------------------------------------------------------------------------- robust statistics

def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The value that splits the total weight in half (the mean of the two middle values when
    the split falls exactly between them, as an ordinary median does)."""
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(w for _v, w in pairs)
    if not pairs or total <= 0:
        raise ValueError("weighted_median of nothing")
    half, run = total / 2, 0.0
    for i, (value, weight) in enumerate(pairs):
        run += weight
        if math.isclose(run, half, rel_tol=1e-12) and i + 1 < len(pairs):
            return (value + pairs[i + 1][0]) / 2
        if run > half:
            return value
    return pairs[-1][0]


def robust_fence(logs: Sequence[float], rules: MarketRules = DEFAULT_MARKET_RULES,
                 weights: Sequence[float] | None = None) -> tuple[float, float]:
    """(low, high) on the log scale: the (weighted) median ± ``trim_spreads`` robust spreads,
    the spread being 1.4826 × the (weighted) median absolute deviation but at least
    ``min_spread``. Weighted by recency, the fence follows a market that moved: the prices of
    before the move are the outliers, not those of after."""
    w = list(weights) if weights is not None else [1.0] * len(logs)
    center = weighted_median(logs, w)
    mad = weighted_median([abs(x - center) for x in logs], w)
    spread = max(1.4826 * mad, rules.min_spread)
    return center - rules.trim_spreads * spread, center + rules.trim_spreads * spread


def _median(ordered: Sequence[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass(slots=True)
class _Kept:
    """Observations of one family that passed the fence: log prices (a mined card's raised to an
    ordinary one's), weights, ages (days) and kinds; how many did not."""

    logs: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    ages: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    trimmed: int = 0

    @property
    def weight(self) -> float:
        return sum(self.weights)

    def median(self) -> float:
        return weighted_median(self.logs, self.weights)

    def plain_median(self) -> float:
        return _median(sorted(self.logs))


def _keep(points: Sequence[MarketPoint], now: datetime, rules: MarketRules) -> _Kept:
    kept = _Kept()
    if not points:
        return kept
    logs = [math.log(float(p.price) / float(condition_factor(p.condition, rules))) for p in points]
    ages = [max(0.0, (now - p.at).total_seconds() / 86400) for p in points]
    weights = [(rules.gone_weight if p.kind == "gone" else 1.0) * 0.5 ** (a / rules.half_life_days)
               for p, a in zip(points, ages, strict=True)]
    low, high = robust_fence(logs, rules, weights) if len(logs) >= 3 else (-math.inf, math.inf)
    for point, x, age, weight in zip(points, logs, ages, weights, strict=True):
        if not low <= x <= high:
            kept.trimmed += 1
            continue
        kept.logs.append(x)
        kept.ages.append(age)
        kept.kinds.append(point.kind)
        kept.weights.append(weight)
    return kept


def _newest_per_group(points: Iterable[MarketPoint], since: datetime, now: datetime
                      ) -> dict[str, list[MarketPoint]]:
    """Per kind family ("sold": sales and quick disappearances, "ask"), the newest observation
    of each card in the window; a card that sold counts as sold, not as quickly gone."""
    newest: dict[tuple[str, int], MarketPoint] = {}
    for p in points:
        if p.price <= 0 or not since < p.at <= now:
            continue
        key = ("ask" if p.kind == "ask" else "sold", p.group)
        held = newest.get(key)
        if held is None or _rank(p) > _rank(held):
            newest[key] = p
    out: dict[str, list[MarketPoint]] = {"sold": [], "ask": []}
    for (family, _group), p in newest.items():
        out[family].append(p)
    return out


def _rank(p: MarketPoint) -> tuple[int, datetime]:
    return (1 if p.kind == "sold" else 0, p.at)


def _trend(kept: _Kept, rules: MarketRules) -> float:
    """The log change per day of age (+ when prices were higher in the past), from the median
    of the older half of the sales against the newer half; 0 with too few or too close."""
    if len(kept.logs) < rules.trend_min_count:
        return 0.0
    by_age = sorted(zip(kept.ages, kept.logs, strict=True))
    half = len(by_age) // 2
    newer, older = by_age[:half], by_age[len(by_age) - half:]
    gap = _median([a for a, _x in older]) - _median([a for a, _x in newer])
    if gap < 3:
        return 0.0
    return (_median(sorted(x for _a, x in older)) - _median(sorted(x for _a, x in newer))) / gap


def reference_for(band: tuple[Decimal, Decimal], points: Iterable[MarketPoint], *,
                  now: datetime, window_days: int = 30, currency: str = "USD",
                  rules: MarketRules = DEFAULT_MARKET_RULES) -> MarketReference:
    """The reference at ``now`` from ``points`` of the ``window_days`` before it; ``band`` (low,
    high) is the watch's, whose midpoint is the prior."""
    mid = band_midpoint(*band)
    families = _newest_per_group(points, now - timedelta(days=window_days), now)
    sold = _keep(families["sold"], now, rules)
    asks = _keep(families["ask"], now, rules)
    if not sold.logs and not asks.logs:
        return MarketReference(mid, 0, window_days, "band", mid, currency,
                               trimmed=sold.trimmed + asks.trimmed)
    sold_count = sold.kinds.count("sold")
    gone_count = sold.kinds.count("gone")
    sold_at = sold.median() if sold.logs else None
    ask_at = asks.median() if asks.logs else None
    ratio = rules.ask_ratio
    if (sold_at is not None and ask_at is not None and len(sold.logs) >= rules.ratio_min_count
            and len(asks.logs) >= rules.ratio_min_count):
        measured = Decimal(str(round(math.exp(sold.plain_median() - asks.plain_median()), 4)))
        ratio = min(max(measured, rules.ratio_bounds[0]), rules.ratio_bounds[1])
    correction = 0.0
    if sold_at is not None:
        slope = _trend(sold, rules)
        mean_age = sum(a * w for a, w in zip(sold.ages, sold.weights, strict=True)) / sold.weight
        limit = rules.max_trend_correction
        correction = max(-limit, min(limit, -slope * mean_age))
    parts: list[tuple[float, float]] = []
    if sold_at is not None:
        parts.append((sold_at + correction, sold.weight))
    if ask_at is not None:
        parts.append((ask_at + math.log(float(ratio)), asks.weight * rules.ask_weight))
    data_weight = sum(w for _x, w in parts)
    estimate = math.exp(sum(x * w for x, w in parts) / data_weight)
    share = rules.band_weight / (rules.band_weight + data_weight)
    value = Decimal(str(share)) * mid + Decimal(str(1 - share)) * Decimal(str(estimate))
    return MarketReference(
        median=money(value), count=len(sold.logs) + len(asks.logs), window_days=window_days,
        source="market", band_midpoint=mid, currency=currency,
        sold_median=None if not sold.logs else money(Decimal(str(math.exp(sold.plain_median())))),
        sold_count=sold_count, gone_count=gone_count,
        ask_median=None if not asks.logs else money(Decimal(str(math.exp(asks.plain_median())))),
        ask_count=len(asks.logs), ask_ratio=ratio if asks.logs else None,
        trimmed=sold.trimmed + asks.trimmed, band_share=Decimal(str(round(share, 3))),
        # NOTE: + 0.0 turns a negative zero into zero
        trend_correction=Decimal(str(round(math.expm1(correction), 4) + 0.0)))
