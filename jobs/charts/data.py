"""What a chart shows: dated points of a few named series, the buyer's band, and a marked price;
the axis range and ticks every drawing shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

#: each series' colour (RGB), the same in every drawing
COLOURS: dict[str, tuple[int, int, int]] = {
    "reference": (40, 40, 40),
    "sold median": (31, 119, 180),
    "sold p25": (140, 190, 230),
    "asking median": (230, 120, 20),
    "this listing": (200, 30, 45),
}
BAND_COLOUR = (222, 241, 222)
MARK_COLOUR = (200, 30, 45)


@dataclass(frozen=True)
class Series:
    """One line: a value (or None: no data) per x of the chart; ``step``: a price that holds
    until it changes, drawn as steps."""

    name: str
    values: tuple[float | None, ...]
    step: bool = False

    @property
    def colour(self) -> tuple[int, int, int]:
        return COLOURS.get(self.name, (120, 120, 120))


@dataclass(frozen=True)
class ChartData:
    """A chart: ``x`` dates, ``series`` over them, the band (low, high) shaded, ``mark`` a
    horizontal line at one price with its label; money in ``currency``."""

    title: str
    x: tuple[date, ...]
    series: tuple[Series, ...]
    currency: str
    band: tuple[float, float] | None = None
    mark: tuple[float, str] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def values(self) -> list[float]:
        out = [v for s in self.series for v in s.values if v is not None]
        if self.band:
            out += list(self.band)
        if self.mark:
            out.append(self.mark[0])
        return out

    def y_range(self) -> tuple[float, float]:
        """A padded range over every value, band and mark, on round steps."""
        values = self.values() or [0.0, 1.0]
        low, high = min(values), max(values)
        if high - low < 1:
            low, high = low - 10, high + 10
        pad = (high - low) * 0.08
        step = nice_step(high - low + 2 * pad)
        return math.floor((low - pad) / step) * step, math.ceil((high + pad) / step) * step

    def y_ticks(self) -> list[float]:
        low, high = self.y_range()
        step = nice_step(high - low)
        ticks, v = [], low
        while v <= high + step / 1000:
            ticks.append(round(v, 6))
            v += step
        return ticks

    def x_labels(self, most: int = 8) -> list[tuple[int, str]]:
        """(index, "Mar 02") of at most ``most`` evenly spread dates."""
        if not self.x:
            return []
        every = max(1, math.ceil(len(self.x) / most))
        return [(i, f"{d:%b} {d.day:02d}") for i, d in enumerate(self.x) if i % every == 0]


def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks."""
    raw = max(span, 1e-9) / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def money_label(value: float, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    text = f"{value:,.0f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def present(series: Sequence[Series]) -> list[Series]:
    """The series that hold at least one value."""
    return [s for s in series if any(v is not None for v in s.values)]
