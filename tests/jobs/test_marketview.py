"""The market week by week, from the demo's database (eBay's sold listings over twelve weeks and
one scan's asks), and the charts drawn of it: terminal, PNG and SVG/HTML."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.charts import ChartData, Series
from gpuscout.jobs.charts.data import COLOURS, nice_step
from gpuscout.jobs.charts.png import render_png
from gpuscout.jobs.charts.svg import render_html, render_svg
from gpuscout.jobs.charts.terminal import render_terminal
from gpuscout.jobs.marketview import daily_prices, market_report, report_chart

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)  # a Friday


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from gpuscout.jobs.demo import run_demo

    result = run_demo(tmp_path_factory.mktemp("demo"), now=NOW)
    yield result


def _report(demo: Any, weeks: int = 12) -> Any:
    import sqlite3

    from gpuscout.jobs.config import load_config

    cfg = load_config(str(demo.config_path))
    with closing(sqlite3.connect(demo.workdir / "gpuscout.db")) as conn:
        return market_report(cfg, cfg.watches[0], conn, sqlite=True, now=NOW, weeks=weeks)


def test_the_demos_market_week_by_week(demo_db: Any) -> None:
    report = _report(demo_db)
    rows = report.rows
    assert [r["week"] for r in rows][:2] == [date(2026, 2, 9), date(2026, 2, 16)]
    assert rows[-1]["week"] == date(2026, 4, 27)
    assert [r["sold"] for r in rows] == [3, 2, 2, 2, 2, 3, 2, 2, 3, 2, 3, 4]
    # the $355 sale of March 7 is left out of its week's figures
    week = rows[3]
    assert (week["week"], week["sold"], week["sold_median"]) == (date(2026, 3, 2), 2,
                                                                Decimal("773.50"))
    # this week: three eBay sales and the Reddit post flaired sold at $690
    last = rows[-1]
    assert (last["sold"], last["sold_median"], last["sold_p25"]) == (4, Decimal("701.50"),
                                                                    Decimal("697.50"))
    assert (last["asks"], last["ask_median"], last["gone"]) == (6, Decimal("710.00"), 0)
    assert last["reference"] == report.reference.median == Decimal("706.97")
    assert last["trend_30d"] == Decimal("-0.0428")
    assert rows[0]["trend_30d"] is None  # 30 days before it, the band alone
    assert not report.empty


def test_the_market_chart_of_the_demo(demo_db: Any, tmp_path: Path) -> None:
    chart = report_chart(_report(demo_db))
    assert [s.name for s in chart.series] == ["sold median", "sold p25", "asking median",
                                              "reference"]
    assert len(chart.x) == 12 and chart.band == (650.0, 800.0)
    assert chart.series[2].values[-1] == 710.0 and chart.series[2].values[0] is None
    png = render_png(chart)
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (800, 400))
    colours = {c for _n, c in image.getcolors(800 * 400) or []}
    for name in ("sold median", "asking median", "reference"):
        assert COLOURS[name] in colours, name
    svg = render_svg(chart)
    assert svg.count('data-series="sold median"') == 1
    sold = svg.split('data-series="sold median" points="')[1].split('"')[0]
    assert len(sold.split()) == 12
    assert 'data-band="650-800"' in svg


def test_charts_of_made_up_series() -> None:
    xs = tuple(date(2026, 1, 5) + timedelta(weeks=i) for i in range(6))
    chart = ChartData("A <market> & more", xs, (
        Series("sold median", (800.0, 790.0, None, 770.0, 760.0, 750.0)),
        Series("this listing", (None, None, 700.0, 700.0, 680.0, 680.0), step=True)),
        "USD", band=(650.0, 800.0), mark=(659.0, "this listing $659"))
    assert chart.y_range() == (600.0, 850.0) and chart.y_ticks()[:3] == [600.0, 650.0, 700.0]
    assert chart.x_labels(most=3) == [(0, "Jan 05"), (2, "Jan 19"), (4, "Feb 02")]
    text = render_terminal(chart, width=80, height=20, colour=False)
    assert "sold median" in text and "this listing" in text and "\x1b[" not in text
    assert "band (your budget): $650 - $800" in text and "marked: this listing $659" in text
    svg = render_svg(chart, width=400, height=200)
    assert 'width="400" height="200"' in svg and "A &lt;market&gt; &amp; more" in svg
    assert 'data-mark="659"' in svg
    page = render_html(chart, ("week", "price"), [{"week": "2026-01-05", "price": "<b>1</b>"}],
                       intro=("why & how",))
    assert page.startswith("<!DOCTYPE html>") and "&lt;b&gt;1&lt;/b&gt;" in page
    assert "<p>why &amp; how</p>" in page
    from PIL import Image

    small = Image.open(io.BytesIO(render_png(chart, width=480, height=240)))
    assert small.size == (480, 240)
    assert COLOURS["this listing"] in {c for _n, c in small.getcolors(480 * 240) or []}
    assert [nice_step(s) for s in (250, 12, 0.9, 4000)] == [50, 2.5, 0.2, 1000]


def test_a_listings_prices_day_by_day() -> None:
    t = datetime(2026, 3, 1, 9, tzinfo=UTC)
    days, prices = daily_prices([(t, Decimal("700")), (t + timedelta(days=2), Decimal("650"))],
                                t + timedelta(days=3), start=date(2026, 2, 27))
    assert days[0] == date(2026, 2, 27) and len(days) == 6
    assert prices == (None, None, 700.0, 700.0, 650.0, 650.0)
