"""The benchmark command runs end to end at tiny sizes and writes every figure (no timing asserted)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

KEYS = ("parse.ratio_vs_bs4", "parse.ratio_vs_floor", "ingest.listings_per_s",
        "ingest.fraction_of_floor", "query.p95_ms", "cli.help_s", "cli.deals_s",
        "e2e.cpu_per_page_vs_parse", "time_to_alert.reddit.p95_s", "time_to_alert.ebay.p95_s",
        "time_to_alert.reddit.requests_per_hour")


def test_bench_tiny_run_writes_every_key(tmp_path: Path, fixtures_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bs4")
    from bench import run

    monkeypatch.setenv("GPUSCOUT_FIXTURES", str(fixtures_dir))
    monkeypatch.delenv(run.PG_ENV, raising=False)
    out = tmp_path / "results.json"
    assert run.main(["--tiny", "--json", str(out)]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    for key in KEYS:
        value = run.lookup(results, key)
        assert isinstance(value, (int, float)) and value > 0, key
    assert results["verdicts"].keys() == {t.key for t in run.TARGETS}
    # the baseline read the same listings as the parsers on every HTML capture
    html = [c for c in results["parse"]["captures"] if "bs4_s" in c]
    assert {c["source"] for c in html} == {"ebay", "craigslist"}
    assert results["e2e"]["pages"] == 3 and results["e2e"]["listings"] == 180
    # `gpuscout run` against the local marketplace: every new post reached both channels
    tta = results["time_to_alert"]
    assert tta["exit_code"] == 0
    for source, posts in (("reddit", 3), ("ebay", 1)):
        assert (tta[source]["posts"], tta[source]["alerted"]) == (posts, posts), tta[source]
        assert tta[source]["p95_s"] > 0
    table = capsys.readouterr().out
    assert "parse: speed vs BeautifulSoup+lxml" in table and "e2e:" in table
    from bench.market_bench import market_root

    if market_root().is_dir():
        for key in ("market.median_abs_error", "market.band_median_abs_error",
                    "market.naive_median_abs_error", "market.command_s"):
            value = run.lookup(results, key)
            assert isinstance(value, (int, float)) and value >= 0, key
        assert results["market"]["command"]["listings"] == 2_000


def test_page_maker_shifts_item_numbers_and_links_the_next_page(fixtures_dir: Path) -> None:
    from bench.e2e_bench import make_pages
    from gpuscout.scraper.sources import get_source

    pages = make_pages(4, fixtures_dir)
    assert [p for p, _body in pages][:2] == [{"_nkw": "rtx 3090 founders edition 1"},
                                             {"_nkw": "rtx 3090 founders edition 1", "_pgn": "2"}]
    source = get_source("ebay")
    url = "http://127.0.0.1:1/sch/i.html?_nkw=x&_pgn=1"
    first, fourth = source.parse(pages[0][1], url), source.parse(pages[3][1], url)
    assert len(first.listings) == len(fourth.listings) == 60
    assert not {x.external_id for x in first.listings} & {x.external_id for x in fourth.listings}
    assert first.next_url is not None and first.next_url.endswith("_pgn=2")


def test_synthetic_listings_are_unique_and_deterministic() -> None:
    from bench.synthetic import listing_records

    records = listing_records(2_000, seed=1)
    assert len({(r.source, r.external_id) for r in records}) == 2_000
    assert records == listing_records(2_000, seed=1)
    assert {r.source for r in records} == {"ebay", "reddit", "craigslist", "facebook"}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_peak_rss_of_a_child_is_its_own_not_its_large_parents() -> None:
    import subprocess

    from bench.common import peak_rss_mb

    ballast = bytearray(300 * 1024 * 1024)  # NOTE: resident: bytearray zero-fills its memory
    code = "import sys; sys.path.insert(0, sys.argv[1]); from bench.common import peak_rss_mb; " \
           "print(peak_rss_mb())"
    out = subprocess.run([sys.executable, "-c", code, str(REPO_ROOT)], capture_output=True,
                         text=True, check=True)
    assert peak_rss_mb() > 300
    assert float(out.stdout) < 100
    del ballast


def test_market_replay_of_a_made_up_series(tmp_path: Path) -> None:
    from datetime import date

    from bench.market_bench import monthly_series, replay, simulate, true_price

    path = tmp_path / "series.csv"
    path.write_text("month,rtx3090\n2022-05,1000\n2022-06,1000\n2022-07,900\n", encoding="utf-8")
    series = monthly_series(path)
    assert series == {date(2022, 5, 1): 1000.0, date(2022, 6, 1): 1000.0, date(2022, 7, 1): 900.0}
    assert true_price(series, date(2022, 6, 15)) == 1000.0
    assert true_price(series, date(2022, 6, 30)) == pytest.approx(1000 - 100 * 15 / 30)
    cards = simulate(series, scale=0.5, days=21)
    assert cards == simulate(series, scale=0.5, days=21)  # deterministic
    assert {c.source for c in cards} == {"ebay", "reddit", "craigslist"}
    out = replay(cards, series, tmp_path, days=21)
    weeks = out["weeks"]
    assert len(weeks) == 3 and out["listings"] == len({c.ext for c in cards if c.born < 21})
    for week in weeks[1:]:
        assert abs(week["reference"] - week["truth"]) / week["truth"] < 0.05
        assert week["band"] == 725.0


@pytest.mark.postgres
def test_scale_bench_tiny_run_measures_every_figure(redis_url: str) -> None:
    """Real workers at the smallest size: every figure is there (no speed asserted), each host's
    interval held, and the killed worker's scan was completed by the other."""
    import os

    from bench.scale_bench import INTERVAL, ScaleSizes, run

    base = os.environ.get("GPUSCOUT_TEST_DATABASE_URL")
    if not base:
        pytest.skip("GPUSCOUT_TEST_DATABASE_URL not set")
    out = run(ScaleSizes(per_worker=1, workers=(1, 2)), base, redis_url)
    assert [p["searches"] for p in out["phases"]] == [1, 2]
    assert all(p["ok"] == p["searches"] for p in out["phases"])
    assert out["speedup_2"] > 0 and out["min_gap_ratio"] >= 1
    assert out["min_gap_s"] >= INTERVAL
    red = out["redelivery"]
    assert (red["outcome"], red["attempts"]) == ("ok", 2) and red["killed"] != red["completed_by"]
    assert 0 < out["redelivery_s"] < 60
