"""`gpuscout market` and `history --chart` on the database `gpuscout demo --keep DIR` leaves."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.charts.data import COLOURS


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gpuscout.jobs.demo import run_demo

    result = run_demo(tmp_path_factory.mktemp("kept"))
    return result.config_path


def test_market_table_json_and_csv(run_cli: Any, kept: Path) -> None:
    table = run_cli("market", config=str(kept), env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "Market for rtx 3090 fe (watch 3090-fe), per card in USD; reference" in table.output
    assert "sold median" in table.output and "trend 30d" in table.output
    lines = run_cli("market", "3090-fe", "--weeks", "4", "--format", "json", config=str(kept))
    rows = [json.loads(line) for line in lines.output.splitlines()]
    assert len(rows) == 4 and rows[-1]["asks"] == 6 and rows[-1]["currency"] == "USD"
    assert set(rows[-1]) == {"week", "sold", "sold_median", "sold_p25", "asks", "ask_median",
                             "ask_p25", "gone", "reference", "trend_30d", "currency"}
    assert sum(r["sold"] for r in rows) >= 10
    out = run_cli("market", "--format", "csv", config=str(kept)).output
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert len(parsed) == 12 and parsed[0]["week"] < parsed[-1]["week"]
    before = run_cli("market", "--until", "2020-01-01", "--format", "json", "--weeks", "2",
                     config=str(kept))
    weeks = [json.loads(line) for line in before.output.splitlines()]
    assert [w["week"] for w in weeks] == ["2019-12-23", "2019-12-30"]
    assert all(w["sold"] == w["asks"] == 0 for w in weeks)


def test_market_charts_in_the_terminal_and_in_files(run_cli: Any, kept: Path,
                                                     tmp_path: Path) -> None:
    png, html = tmp_path / "market.png", tmp_path / "market.html"
    result = run_cli("market", "--chart", "--png", str(png), "--html", str(html),
                     config=str(kept), env={"COLUMNS": "100", "LINES": "30"})
    assert result.exit_code == 0, result.output
    assert "sold median" in result.output and "band (your budget): $650 - $800" in result.output
    assert "┏" not in result.output  # the chart instead of the table
    from PIL import Image

    image = Image.open(png)
    assert (image.format, image.size) == ("PNG", (800, 400))
    colours = {c for _n, c in image.getcolors(800 * 400) or []}
    assert COLOURS["sold median"] in colours and COLOURS["reference"] in colours
    page = html.read_text(encoding="utf-8")
    assert page.count("<polyline data-series=") == 4 and "<table>" in page
    assert f"wrote {png}" in result.output


def test_market_of_an_empty_database_says_what_to_do(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("market", db_url=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.exit_code == 0
    assert "No market prices are stored for rtx 3090 fe (watch 3090-fe) yet" in result.output
    assert run_cli("market", "nope", db_url=f"sqlite:///{tmp_path / 'e.db'}").exit_code == 2


def test_history_chart_of_a_listing(run_cli: Any, kept: Path, tmp_path: Path) -> None:
    deals = run_cli("deals", "--format", "json", "--limit", "1", config=str(kept))
    top = json.loads(deals.output.splitlines()[0])["id"]
    png = tmp_path / "history.png"
    result = run_cli("history", str(top), "--chart", "--png", str(png), config=str(kept),
                     env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "this listing" in result.output and "sold median" in result.output
    from PIL import Image

    image = Image.open(png)
    assert image.size == (800, 400)
    assert COLOURS["this listing"] in {c for _n, c in image.getcolors(800 * 400) or []}
    rows = run_cli("history", str(top), "--format", "json", config=str(kept))
    got = [json.loads(line) for line in rows.output.splitlines()]
    assert [(r["listing"], r["price"], r["copy"]) for r in got] == [(top, "659.00", "")]


def test_explain_shows_the_market_and_the_budget(run_cli: Any, kept: Path) -> None:
    deals = run_cli("deals", "--format", "json", "--limit", "1", config=str(kept))
    top = json.loads(deals.output.splitlines()[0])["id"]
    out = run_cli("explain", str(top), config=str(kept)).output
    assert "  Market (the yardstick for price points): reference 7" in out
    assert "USD over the last 30 days: sold median" in out
    assert "  This card: 659.00 USD per card, " in out and "below the market" in out
    assert ("  Budget (what may be ranked and alerted): within the budget (inside the band "
            "650-800)") in out
