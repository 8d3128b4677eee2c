"""`gpuscout parse`: saved pages offline (the project's own pages, and the real captures when
present), source detection, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.pages import page_path

FIELDS = {"source", "external_id", "url", "title", "price", "shipping", "price_local", "price_max",
          "price_each", "currency", "location", "posted_at", "seller", "seller_feedback",
          "seller_positive_pct", "condition", "buying_format", "bids", "ends_at", "hours_left",
          "status", "sold_at", "description", "image_url"}


def test_parse_own_reddit_page_as_json(run_cli: Any) -> None:
    result = run_cli("parse", str(page_path("reddit/hardwareswap-new.json")))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["external_id"] for r in rows] == ["ex0001", "ex0002", "ex0003", "ex0004", "ex0005",
                                                "ex0006"]
    fe = rows[0]
    assert fe["title"] == ("[USA-TX] [H] RTX 3090 Founders Edition & example headset [W] PayPal, "
                           "local cash")
    assert (fe["price"], fe["shipping"], fe["currency"]) == ("725.00", "0.00", "USD")
    assert (fe["buying_format"], fe["status"], fe["seller_feedback"]) == ("best_offer", "active", 14)
    assert fe["posted_at"] == "2025-11-01T12:26:40Z"
    assert set(fe) == FIELDS
    assert rows[1]["status"] == "wanted" and rows[1]["price"] is None


def test_parse_detects_own_ebay_and_craigslist_pages(run_cli: Any) -> None:
    table = run_cli("parse", "--format", "table", str(page_path("craigslist/search-static.html")))
    assert table.exit_code == 0
    assert "5 listings from craigslist" in table.output
    item = run_cli("parse", "--url", "https://www.ebay.com/itm/400000000001",
                   str(page_path("ebay/item.html")))
    assert item.exit_code == 0, item.output
    (row,) = [json.loads(line) for line in item.output.splitlines()]
    assert (row["source"], row["external_id"], row["price"], row["currency"]) == (
        "ebay", "400000000001", "600.00", "GBP")


def test_parse_own_login_wall_exits_non_zero_and_says_so(run_cli: Any) -> None:
    result = run_cli("parse", str(page_path("facebook/item-login-wall.html")))
    assert result.exit_code == 1
    assert "blocked page (login)" in result.output


def test_parse_own_unsupported_pages_are_named(run_cli: Any) -> None:
    for rel, name in (("kijiji/search-next-data.json", "Kijiji"),
                      ("kleinanzeigen/search.html", "Kleinanzeigen")):
        result = run_cli("parse", str(page_path(rel)))
        assert result.exit_code == 1
        assert f"looks like a {name} page" in result.output


def test_parse_own_page_with_wrong_source_is_a_clear_error(run_cli: Any) -> None:
    result = run_cli("parse", "--source", "craigslist", str(page_path("reddit/hardwareswap-new.json")))
    assert result.exit_code == 1
    assert "Error:" in result.output


# --- the real captures (skipped when absent) ---------------------------------------------------


def test_parse_reddit_capture_as_json(run_cli: Any, fixtures_dir: Path) -> None:
    result = run_cli("parse", str(fixtures_dir / "reddit/hardwareswap-new-2023-02.json"))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 25
    fe = next(r for r in rows if r["external_id"] == "11a7rf2")
    assert fe["source"] == "reddit"
    assert fe["title"] == ("[USA-NY][H] Rtx 3090 Founders Edition and Meta Quest 2 256gb "
                           "[W] Paypal or Local Cash")
    assert fe["price"] == "730.00" and fe["shipping"] == "0.00" and fe["currency"] == "USD"
    assert fe["buying_format"] == "best_offer" and fe["status"] == "active"
    assert fe["posted_at"].endswith("Z")
    assert set(fe) == FIELDS
    assert (fe["price_local"], fe["price_each"], fe["bids"], fe["ends_at"]) == ("715.00", False, None,
                                                                                None)


def test_parse_ebay_auctions_give_bids_and_time_left(run_cli: Any, fixtures_dir: Path) -> None:
    result = run_cli("parse", "--url", "https://www.ebay.de/sch/i.html?_nkw=apple",
                     str(fixtures_dir / "ebay-html/search-sitem-de-2022-11.html"))
    assert result.exit_code == 0, result.output
    rows = {r["external_id"]: r for r in map(json.loads, result.output.splitlines())}
    busy = rows["175507481308"]
    assert (busy["buying_format"], busy["bids"], busy["price"]) == ("auction", 33, "135.00")
    assert isinstance(busy["hours_left"], float) and busy["hours_left"] > 0
    assert sum(r["hours_left"] is not None for r in rows.values()) == 27


def test_parsed_listings_pipe_into_evaluate(run_cli: Any, fixtures_dir: Path) -> None:
    parsed = run_cli("parse", str(fixtures_dir / "reddit/hardwareswap-new-2023-02.json"))
    fe = next(line for line in parsed.output.splitlines() if '"11a7rf2"' in line)
    result = run_cli("evaluate", input=fe + "\n")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["model"], out["variant"], out["fits"], out["unit_price"]) == (
        "rtx 3090", "fe", True, "730.00")
    assert out["rank"] == out["score"]


def test_parse_detects_craigslist_and_prints_a_table(run_cli: Any, fixtures_dir: Path) -> None:
    result = run_cli("parse", "--format", "table",
                     str(fixtures_dir / "craigslist/search-static-2026-05.html"))
    assert result.exit_code == 0
    assert "37 listings from craigslist" in result.output


def test_parse_login_wall_exits_non_zero_and_says_so(run_cli: Any, fixtures_dir: Path) -> None:
    result = run_cli("parse", str(fixtures_dir / "facebook/item-login-wall-2025-04.html"))
    assert result.exit_code == 1
    assert "blocked page (login)" in result.output


def test_parse_unsupported_marketplace_is_named(run_cli: Any, fixtures_dir: Path) -> None:
    for rel, name in (("kijiji/search-next-data-2026-08.json", "Kijiji"),
                      ("kleinanzeigen/search-2026-04.html", "Kleinanzeigen")):
        result = run_cli("parse", str(fixtures_dir / rel))
        assert result.exit_code == 1
        assert f"looks like a {name} page" in result.output


def test_parse_unrecognised_page(run_cli: Any, tmp_path: Path) -> None:
    page = tmp_path / "x.html"
    page.write_text("<html><body><p>hello</p></body></html>")
    result = run_cli("parse", str(page))
    assert result.exit_code == 1
    assert "unrecognised page" in result.output


def test_parse_with_wrong_source_is_a_clear_error(run_cli: Any, fixtures_dir: Path) -> None:
    result = run_cli("parse", "--source", "craigslist",
                     str(fixtures_dir / "reddit/hardwareswap-new-2023-02.json"))
    assert result.exit_code == 1
    assert "Error:" in result.output
