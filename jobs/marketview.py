"""The market of a watch week by week (sold and asking medians, 25th percentiles, counts, the
reference at each week's end and its change over 30 days), and one listing's prices beside it: the
rows of `gpuscout market` and `history`, and the charts drawn of them.

NOTE: reads through a DB-API connection only (see ``gpuscout.models.storage.market``), so that
`gpuscout market` can answer from a SQLite file without importing SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from gpuscout.jobs.config import Config, WatchConfig

MARKET_COLUMNS = ("week", "sold", "sold_median", "sold_p25", "asks", "ask_median", "ask_p25",
                  "gone", "reference", "trend_30d", "currency")
TREND_DAYS = 30
#: a week's figures count the prices within these fractions of its reference (a $1 placeholder,
#: a $9,999 one or a scam at half the market is no price of that week)
WEEK_FENCE = (Decimal("0.6"), Decimal("1.6"))


@dataclass(frozen=True)
class MarketReport:
    """A watch's market over ``rows`` (one per week, oldest first) and its reference now."""

    watch: WatchConfig
    now: datetime
    rows: tuple[dict[str, Any], ...]
    reference: Any
    usd: Mapping[str, Decimal]

    @property
    def empty(self) -> bool:
        return not any(r["sold"] or r["asks"] or r["gone"] for r in self.rows)


def usd_of(cfg: Config, conn: Any, sqlite: bool) -> dict[str, Decimal]:
    from gpuscout.jobs.rates import usd_values
    from gpuscout.models.storage.market import usd_values as cached

    return usd_values(cfg, cached(conn, sqlite=sqlite))


def _money(cents: float | None, value: Decimal | None) -> Decimal | None:
    if cents is None or not value:
        return None
    return (Decimal(str(cents)) / 100 / value).quantize(Decimal("0.01"))


class References:
    """The watch's reference at any moment, from the stored prices (cached per moment)."""

    def __init__(self, conn: Any, sqlite: bool, watch: WatchConfig,
                 usd: Mapping[str, Decimal]) -> None:
        self.conn, self.sqlite, self.watch, self.usd = conn, sqlite, watch, usd
        self._at: dict[datetime, Any] = {}

    def at(self, when: datetime) -> Any:
        if when not in self._at:
            from gpuscout.jobs.market import REFERENCE_CAP, points_from, reference_at
            from gpuscout.models.judge.market import MarketPoint
            from gpuscout.models.storage.market import recent_prices

            w = self.watch
            stored = recent_prices(self.conn, sqlite=self.sqlite, model=w.model,
                                   variant=w.variant,
                                   since=when - timedelta(days=w.reference_window_days),
                                   until=when, limit=REFERENCE_CAP)
            self._at[when] = reference_at(w, points_from(stored, w.currency, self.usd,
                                                         MarketPoint), when)
        return self._at[when]

    def trend(self, when: datetime, days: int = TREND_DAYS) -> Decimal | None:
        """The reference's change over ``days`` to ``when`` (a fraction), None while either end
        is the band alone."""
        now, then = self.at(when), self.at(when - timedelta(days=days))
        if now.source == "band" or then.source == "band" or not then.median:
            return None
        change: Decimal = (now.median - then.median) / then.median
        return change.quantize(Decimal("0.0001"))


def week_end(week: int, now: datetime) -> datetime:
    from gpuscout.models.storage.market import week_start

    end = datetime.combine(week_start(week + 1), time(), tzinfo=UTC)
    return min(end, now)


def market_report(cfg: Config, watch: WatchConfig, conn: Any, *, sqlite: bool, now: datetime,
                  weeks: int = 12) -> MarketReport:
    """The last ``weeks`` weeks of the watch's market, this one included."""
    from gpuscout.models.storage.market import week_of, week_start, weekly_stats

    usd = usd_of(cfg, conn, sqlite)
    value = usd.get(watch.currency)
    last = week_of(now)
    first = last - weeks + 1
    refs = References(conn, sqlite, watch, usd)
    bounds = {}
    for week in range(first, last + 1):
        cents = refs.at(week_end(week, now)).median * (value or Decimal(1)) * 100
        bounds[week] = (int(cents * WEEK_FENCE[0]), int(cents * WEEK_FENCE[1]))
    stats = {(s.week, s.kind): s for s in weekly_stats(conn, sqlite=sqlite, model=watch.model,
                                                        variant=watch.variant, first_week=first,
                                                        last_week=last, bounds=bounds)}
    rows = []
    for week in range(first, last + 1):
        sold, ask, gone = (stats.get((week, k)) for k in ("sold", "ask", "gone"))
        end = week_end(week, now)
        rows.append({
            "week": week_start(week), "sold": sold.count if sold else 0,
            "sold_median": _money(sold.median, value) if sold else None,
            "sold_p25": _money(sold.p25, value) if sold else None,
            "asks": ask.count if ask else 0,
            "ask_median": _money(ask.median, value) if ask else None,
            "ask_p25": _money(ask.p25, value) if ask else None,
            "gone": gone.count if gone else 0,
            "reference": refs.at(end).median, "trend_30d": refs.trend(end),
            "currency": watch.currency,
        })
    return MarketReport(watch, now, tuple(rows), refs.at(now), usd)


def report_chart(report: MarketReport, *, mark: tuple[float, str] | None = None) -> Any:
    """The report as a chart: sold median and p25, asking median, the reference, the band."""
    from gpuscout.jobs.charts import ChartData, Series

    w = report.watch

    def col(name: str) -> tuple[float | None, ...]:
        return tuple(None if r[name] is None else float(r[name]) for r in report.rows)

    has_data = tuple(bool(r["sold"] or r["asks"] or r["gone"]) for r in report.rows)
    reference = tuple(float(r["reference"]) if has else None
                      for r, has in zip(report.rows, has_data, strict=True))
    return ChartData(
        title=f"Market for {w.name} ({w.model} {w.variant}), {w.currency} per card",
        x=tuple(r["week"] for r in report.rows),
        series=(Series("sold median", col("sold_median")), Series("sold p25", col("sold_p25")),
                Series("asking median", col("ask_median")), Series("reference", reference)),
        currency=w.currency, band=(float(w.price_low), float(w.price_high)), mark=mark,
        notes=(report.reference.explain(),))


def trend_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:+.1%}"


def table_rows(report: MarketReport) -> list[dict[str, Any]]:
    """The report's rows as the table shows them (the trend as a signed percentage)."""
    return [{**r, "trend_30d": trend_text(r["trend_30d"])} for r in report.rows]


def data_rows(report: MarketReport) -> list[dict[str, Any]]:
    """The rows for JSON and CSV: the trend as a fraction, the week as its Monday."""
    return [{**r, "week": r["week"].isoformat(),
             "trend_30d": None if r["trend_30d"] is None else f"{r['trend_30d']:.4f}"}
            for r in report.rows]


# --------------------------------------------------------------------------- one listing


@dataclass(frozen=True)
class ListingHistory:
    """One card's recorded prices (its copies' included) per day, with the market beside."""

    title: str
    days: tuple[date, ...]
    prices: tuple[float | None, ...]
    currency: str
    report: MarketReport | None


def history_chart(history: ListingHistory) -> Any:
    """The listing's price as steps over its days, the reference and sold median of those
    days' weeks beside it (when a watch covers its model), and the band."""
    from gpuscout.jobs.charts import ChartData, Series
    from gpuscout.models.storage.market import week_of

    series = [Series("this listing", history.prices, step=True)]
    band = None
    if history.report is not None:
        by_week = {week_of(r["week"]): r for r in history.report.rows}

        def on(day: date, name: str) -> float | None:
            row = by_week.get(week_of(day))
            return None if row is None or row[name] is None else float(row[name])

        series += [Series("sold median", tuple(on(d, "sold_median") for d in history.days)),
                   Series("reference", tuple(on(d, "reference") for d in history.days))]
        w = history.report.watch
        band = (float(w.price_low), float(w.price_high))
    return ChartData(title=history.title, x=history.days, series=tuple(series),
                     currency=history.currency, band=band)


def daily_prices(observations: Sequence[tuple[datetime, Decimal | None]], until: datetime, *,
                 start: date | None = None) -> tuple[tuple[date, ...], tuple[float | None, ...]]:
    """Prices held day by day from ``start`` (default: the first observation) to ``until``;
    None before the first observation."""
    if not observations:
        return (), ()
    ordered = sorted(observations, key=lambda o: o[0])
    first, last = ordered[0][0].date(), max(until.date(), ordered[-1][0].date())
    first = min(first, start) if start else first
    days, prices = [], []
    current: float | None = None
    i = 0
    day = first
    while day <= last:
        while i < len(ordered) and ordered[i][0].date() <= day:
            amount = ordered[i][1]
            current = None if amount is None else float(amount)
            i += 1
        days.append(day)
        prices.append(current)
        day += timedelta(days=1)
    return tuple(days), tuple(prices)
