"""`gpuscout demo`: the fictional pages parse to exactly their catalogue with the real parsers, and
the command scans them, ranks the deals and previews the alert email, offline."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.testing.pages import (
    CRAIGSLIST_ADS,
    EBAY_CARDS,
    EBAY_SOLD,
    REDDIT_POSTS,
    UNFIT_ROLES,
    DemoAd,
    DemoCard,
    DemoPost,
    craigslist_search_page,
    ebay_search_page,
    reddit_listing,
)
from gpuscout.scraper.sources import detect_source, get_source

BASE = "http://127.0.0.1:8765"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TOP = EBAY_CARDS[0]
ALL_DEMO: tuple[DemoCard | DemoPost | DemoAd, ...] = (*EBAY_CARDS, *REDDIT_POSTS, *CRAIGSLIST_ADS)
UNFIT_TITLES = {x.title for x in ALL_DEMO if x.role in UNFIT_ROLES}


# --------------------------------------------------------------------------- the pages


def test_ebay_page_parses_to_the_catalogue() -> None:
    url = f"{BASE}/sch/i.html?_nkw=rtx+3090+founders+edition&_sacat=0&_ipg=240&rt=nc"
    body = ebay_search_page(BASE, "rtx 3090 founders edition")
    assert detect_source(body, url).name == "ebay"
    result = get_source("ebay").parse(body, url)
    assert (result.empty, result.next_url, result.skipped, result.incomplete) == (False, None, 0, 0)
    got = [(x.external_id, x.title, x.price, x.shipping, x.currency) for x in result.listings]
    assert got == [(c.item_id, c.title, c.price, c.shipping, "USD") for c in EBAY_CARDS]
    first, ti = result.listings[0], result.listings[2]
    assert first.url == f"{BASE}/itm/990000000101"
    assert first.title.endswith("new thermal pads, never mined")
    assert (first.seller, first.seller_feedback, first.seller_positive_pct) == (
        "demo-seller-1", 212, 100.0)
    assert (first.location, first.condition, first.buying_format) == (
        "Exampleville, United States", "Pre-Owned", "fixed")
    assert first.image_url == f"{BASE}/demo-images/ebay-990000000101.svg"
    assert (ti.price, ti.buying_format, ti.seller_feedback, ti.seller_positive_pct) == (
        Decimal("899.00"), "best_offer", 1350, 99.8)
    parts = result.listings[5]
    assert (parts.condition, parts.price, parts.shipping) == (
        "For parts or not working", Decimal("310.00"), Decimal(0))
    assert result.listings[1].shipping == Decimal("25.00")


def test_reddit_listing_parses_to_the_catalogue() -> None:
    url = f"{BASE}/r/hardwareswap/search.json?q=3090&restrict_sr=1&sort=new&t=month&limit=100&raw_json=1"
    body = reddit_listing(BASE, NOW)
    assert detect_source(body, url).name == "reddit"
    result = get_source("reddit").parse(body, url)
    assert (result.empty, result.next_url, result.skipped, result.incomplete) == (False, None, 0, 0)
    got = [(x.external_id, x.title, x.price) for x in result.listings]
    assert got == [(p.post_id, p.title, p.price) for p in REDDIT_POSTS]
    statuses = {x.external_id: x.status for x in result.listings}
    assert statuses == {"demo01": "active", "demo02": "active", "demo03": "wanted",
                        "demo04": "active", "demo05": "active", "demo06": "sold"}
    repasted, multi = result.listings[0], result.listings[1]
    assert (repasted.price, repasted.shipping, repasted.price_local) == (
        Decimal(720), Decimal(0), Decimal(700))
    assert (repasted.seller, repasted.seller_feedback, repasted.location) == (
        "demo-seller-7", 23, "USA-EX")
    assert repasted.posted_at == NOW - timedelta(hours=2)
    assert repasted.url.startswith(f"{BASE}/r/hardwareswap/comments/demo01/")
    # the multi-item post: the card's price, not the headset's
    assert (multi.price, multi.shipping, multi.price_local) == (Decimal(700), Decimal(0), None)
    assert "headset $80" in (multi.description or "")
    system = result.listings[4]
    assert (system.price, system.price_local) == (Decimal(1450), Decimal(1350))


def test_craigslist_page_parses_to_the_catalogue() -> None:
    url = f"{BASE}/search/sss?query=rtx+3090"
    body = craigslist_search_page(BASE, "rtx 3090")
    assert detect_source(body, url).name == "craigslist"
    result = get_source("craigslist").parse(body, url)
    assert (result.empty, result.next_url, result.incomplete) == (False, None, 0)
    got = [(x.external_id, x.title, x.price, x.location) for x in result.listings]
    assert got == [(a.post_id, a.title, a.price, a.location) for a in CRAIGSLIST_ADS]
    first = result.listings[0]
    assert first.url == (f"{BASE}/sop/d/demo-rtx-3090-founders-edition-like-new-local-pickup/"
                         "7990000001.html")
    assert (first.currency, first.images) == (
        "USD", (f"{BASE}/demo-images/craigslist-7990000001.svg",))


def test_every_listing_is_marked_fictional() -> None:
    for title in (x.title for x in ALL_DEMO):
        assert "[DEMO]" in title
    sellers = [c.seller for c in EBAY_CARDS] + [p.author for p in REDDIT_POSTS]
    assert all(s.startswith(("demo-seller-", "demo-buyer-")) for s in sellers)


# --------------------------------------------------------------------------- the command


@pytest.fixture
def demo(run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """run_cli with the demo command available (see test_demo_is_registered)."""
    from gpuscout.jobs.cli.demo import demo_cmd
    from gpuscout.jobs.cli.main import cli

    if "demo" not in cli.commands:
        monkeypatch.setitem(cli.commands, "demo", demo_cmd)
    return run_cli


def test_demo_is_registered() -> None:
    from gpuscout.jobs.cli.main import cli

    assert "demo" in cli.commands, "register gpuscout.jobs.cli.demo in gpuscout.jobs.cli.main._register"


def test_demo_scans_ranks_and_previews_the_email(demo: Callable[..., Any]) -> None:
    result = demo("demo", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["listings"] == {"craigslist": 4, "ebay": 6 + len(EBAY_SOLD), "reddit": 6}
    assert [(s["search"], s["outcome"], s["listings"], s["new"]) for s in doc["searches"]] == [
        ("ebay-3090-fe", "ok", 6, 6), ("ebay-3090-fe-sold", "ok", 32, 32),
        ("hws-3090", "ok", 6, 6), ("craigslist-3090", "ok", 4, 4)]
    # eBay's sold listings make the market the deals are scored against
    ref = doc["reference"]
    assert (ref["source"], ref["sold_count"], ref["trimmed"]) == ("market", 13, 2)
    # (the sales are dated days before now: the recency weights move it by cents with the hour)
    assert Decimal("700") < Decimal(ref["median"]) < Decimal("712")
    deals = doc["deals"]
    top = deals[0]
    assert (top["title"], top["unit_price"], top["source"]) == (TOP.title, "659.00", "ebay")
    assert any("new thermal pads" in n for n in top["notes"])
    scores = [d["score"] for d in deals]
    assert scores == sorted(scores, reverse=True)
    titles = [d["title"] for d in deals]
    assert not UNFIT_TITLES & set(titles)
    assert {d["source"] for d in deals} == {"ebay", "reddit", "craigslist"}
    # the good FE deals are ranked; the overpriced FE ones are over the budget, never ranked
    good = [REDDIT_POSTS[0].title, REDDIT_POSTS[1].title, CRAIGSLIST_ADS[0].title]
    assert set(good) <= set(titles)
    assert {d["title"] for d in doc["not_deals"]} == UNFIT_TITLES
    why = {d["title"]: d["why"] for d in doc["not_deals"]}
    assert why[REDDIT_POSTS[5].title] == "listing is sold"
    assert why[EBAY_CARDS[1].title] == "over the budget: 1174.99 USD is above the band's 800"
    # the email an instant rule would have sent for the top deal
    assert doc["alerts"] >= 1
    email = doc["email"]
    assert TOP.title in email["headers"]["Subject"] and "$659" in email["headers"]["Subject"]
    assert email["headers"]["To"] == "you@example.com"
    assert TOP.title in email["text"] and "$659" in email["text"]
    assert f"{doc['market_url']}/itm/{TOP.item_id}" in email["text"]
    assert doc["kept"] is None


def test_demo_table_tells_the_story(demo: Callable[..., Any]) -> None:
    result = demo("demo")
    assert result.exit_code == 0, result.output
    out = result.output
    for text in ("served fictional [DEMO] listings", "Stored: 4 from craigslist, 38 from ebay, "
                 "6 from reddit.", "The market: reference 70", "USD over the last 30 days: sold",
                 "Best deals for 3090-fe", "Kept, but never ranked as deals",
                 "No [email] is configured, so nothing was sent", "Subject: [gpuscout]",
                 "gpuscout demo --keep DIR"):
        assert text in out, text
    subject = next(line for line in out.splitlines() if "Subject:" in line)
    assert "$659" in subject and "[DEMO] NVIDIA GeForce RTX 3090 Founders Edition" in subject


def test_demo_keep_leaves_a_working_configuration(demo: Callable[..., Any],
                                                  tmp_path: Path) -> None:
    kept = tmp_path / "demo-db"
    result = demo("demo", "--keep", str(kept))
    assert result.exit_code == 0, result.output
    config = kept.resolve() / "gpuscout.toml"
    assert (kept / "gpuscout.db").is_file() and config.is_file()
    assert f"gpuscout --config {config} deals" in result.output
    deals = demo("deals", "--format", "json", config=str(config))
    assert deals.exit_code == 0, deals.output
    rows = [json.loads(line) for line in deals.output.splitlines()]
    assert rows[0]["title"] == TOP.title
    assert not UNFIT_TITLES & {r["title"] for r in rows}
    listed = demo("alerts", "list", "--format", "json", config=str(config))
    alerts = [json.loads(line) for line in listed.output.splitlines()]
    assert alerts and {a["state"] for a in alerts} == {"previewed"}
    assert all(a["last_error"] == "gpuscout demo: rendered as a preview, never sent" for a in alerts)
    again = demo("demo", "--keep", str(kept))
    assert again.exit_code == 2
    assert "already exists" in again.output


def test_without_a_qualifying_deal_the_top_deal_email_is_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gpuscout.jobs.demo as demo_module
    from gpuscout.jobs.config import AlertRule, WatchConfig

    def strict(watch: WatchConfig) -> AlertRule:
        return AlertRule(name=f"{watch.name}-instant", watch=watch.name, min_score=100,
                         events=("new",))

    monkeypatch.setattr(demo_module, "demo_rule", strict)
    result = demo_module.run_demo(tmp_path / "run", now=NOW)
    assert result.alerts_qualified is False
    assert len(result.emails) == 1
    text = demo_module.format_message(result.emails[0])
    assert TOP.title in text and "$659" in text
    assert "Message-ID: <gpuscout." in text
    assert result.deals[0]["title"] == TOP.title
    assert dict(result.counts) == {"craigslist": 4, "ebay": 6 + len(EBAY_SOLD), "reddit": 6}
