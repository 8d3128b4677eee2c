"""End to end: marketplace pages served over local HTTP (the project's own pages, then the real
captures when present), `gpuscout scan` into SQLite (and PostgreSQL when configured), then the
listing life cycle and the read commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gpuscout.jobs.scan import run_scan
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine, session_factory
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.tables.listings import Listing, PriceObservation, Score
from gpuscout.models.storage.tables.runs import ScrapeRun
from tests.support.market import PageSet, market_config, serve_pages, write_toml

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def market() -> Iterator[LocalMarket]:
    with LocalMarket() as m:
        yield m


@pytest.fixture
def setup(market: LocalMarket, db_url: str, tmp_path: Path, page_set: PageSet) -> Any:
    serve_pages(market, page_set)
    cfg, data = market_config(market.url, db_url, tmp_path)
    engine = make_engine(db_url)
    upgrade(engine)
    yield cfg, data, engine
    engine.dispose()


def _counts(engine: Any) -> dict[str, int]:
    with session_factory(engine)() as s:
        rows = s.execute(select(Listing.source, func.count()).group_by(Listing.source)).all()
    return {src: n for src, n in rows}


def _reddit_without(pages: PageSet, post_id: str) -> bytes:
    """The Reddit page without one post, as the last page of the results (``after`` null)."""
    data = json.loads(pages.read(pages.reddit))
    data["data"]["children"] = [c for c in data["data"]["children"] if c["data"]["id"] != post_id]
    data["data"]["after"] = None
    return json.dumps(data).encode()


def _reddit_with_price(pages: PageSet, post_id: str, old: str, new: str) -> bytes:
    data = json.loads(pages.read(pages.reddit))
    for child in data["data"]["children"]:
        if child["data"]["id"] == post_id:
            assert old in child["data"]["selftext"]
            child["data"]["selftext"] = child["data"]["selftext"].replace(old, new)
    return json.dumps(data).encode()


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def test_scan_stores_every_source_and_rescans_without_duplicates(setup: Any,
                                                                 page_set: PageSet) -> None:
    cfg, _data, engine = setup
    expected = dict(page_set.counts)
    summary = run_scan(cfg, engine, now=T0)
    by_name = {s.search: s for s in summary.searches}
    assert {n: s.outcome for n, s in by_name.items()} == {
        "ebay-3090-fe": "ok", "hws-3090": "ok", "craigslist-3090": "ok"}
    assert by_name["ebay-3090-fe"].pages == 2
    assert by_name["ebay-3090-fe"].listings == expected["ebay"]
    assert by_name["hws-3090"].pages == 2 and by_name["hws-3090"].new == expected["reddit"]
    assert by_name["craigslist-3090"].new == expected["craigslist"]
    assert _counts(engine) == expected
    assert not summary.all_failed

    again = run_scan(cfg, engine, now=T0 + timedelta(minutes=30))
    assert [s.new for s in again.searches] == [0, 0, 0]
    assert [s.changed for s in again.searches] == [0, 0, 0]
    assert _counts(engine) == expected
    with session_factory(engine)() as s:
        runs = s.scalars(select(ScrapeRun).order_by(ScrapeRun.id)).all()
        assert len(runs) == 6 and all(r.outcome == "ok" and r.finished_at for r in runs)
        fe = s.scalar(select(Listing).where(Listing.external_id == page_set.fe_post))
        assert fe is not None
        assert (fe.model, fe.variant, fe.price, fe.shipping, fe.currency) == (
            "rtx 3090", "fe", _cents(page_set.fe_price), 0, "USD")
        assert fe.first_seen == T0 and fe.last_seen == T0 + timedelta(minutes=30)
        score = s.scalar(select(Score).where(Score.listing_id == fe.id))
        assert score is not None and score.watch == "3090-fe"
        # every stored listing has a score for the watch
        assert s.scalar(select(func.count(Score.id))) == page_set.total


def test_price_change_adds_one_observation(setup: Any, market: LocalMarket,
                                           page_set: PageSet) -> None:
    cfg, _data, engine = setup
    run_scan(cfg, engine, now=T0)
    old = _cents(page_set.fe_price)
    serve_pages(market, page_set, reddit=_reddit_with_price(
        page_set, page_set.fe_post, page_set.fe_price_text, "$699"))
    summary = run_scan(cfg, engine, now=T0 + timedelta(hours=1))
    assert {s.search: s.changed for s in summary.searches}["hws-3090"] == 1
    with session_factory(engine)() as s:
        fe = s.scalar(select(Listing).where(Listing.external_id == page_set.fe_post))
        assert fe is not None and fe.price == 69900
        obs = s.scalars(select(PriceObservation).where(PriceObservation.listing_id == fe.id)
                        .order_by(PriceObservation.id)).all()
        assert [(o.price, o.observed_at) for o in obs] == [
            (old, T0), (69900, T0 + timedelta(hours=1))]
    drops = [e for e in summary.events if e.event == "price_drop"]
    assert [(e.old_price, e.new_price) for e in drops] == [(old, 69900)]


def test_missing_listing_goes_gone_after_n_successful_scans_not_after_a_failed_one(
        setup: Any, market: LocalMarket, page_set: PageSet) -> None:
    cfg, _data, engine = setup
    run_scan(cfg, engine, now=T0)
    fe_post = page_set.fe_post
    without = _reddit_without(page_set, fe_post)

    def status() -> str:
        with session_factory(engine)() as s:
            return s.scalar(select(Listing.status).where(Listing.external_id == fe_post)) or ""

    serve_pages(market, page_set, reddit=without)
    run_scan(cfg, engine, only="hws-3090", now=T0 + timedelta(hours=1))
    run_scan(cfg, engine, only="hws-3090", now=T0 + timedelta(hours=2))
    assert status() == "active"
    # a failed scan (503) and a blocked one never count toward gone
    market.clear()
    market.add("/r/hardwareswap/search.json", "busy", status=503)
    failed = run_scan(cfg, engine, only="hws-3090", now=T0 + timedelta(hours=3))
    assert failed.searches[0].outcome == "error" and failed.all_failed
    market.clear()
    market.add("/r/hardwareswap/search.json", "<html><title>Blocked</title>whoa there, pardner!</html>")
    blocked = run_scan(cfg, engine, only="hws-3090", now=T0 + timedelta(hours=4))
    assert blocked.searches[0].outcome == "blocked"
    assert status() == "active"
    serve_pages(market, page_set, reddit=without)
    third = run_scan(cfg, engine, only="hws-3090", now=T0 + timedelta(hours=5))
    assert third.searches[0].gone == 1
    assert status() == "gone"
    # the other posts are untouched, and nothing else went anywhere
    assert _counts(engine) == page_set.counts
    # seen again: back to active, with a back_in_stock event
    serve_pages(market, page_set)
    back = run_scan(cfg, engine, only="hws-3090", now=T0 + timedelta(hours=6))
    assert status() == "active"
    assert [e.event for e in back.events if e.event == "back_in_stock"] == ["back_in_stock"]


EBAY_NO_RESULTS = (b'<html><head><title>rtx 3090 | eBay</title></head><body>'
                   b'<h1 class="srp-controls__count-heading"><span class="BOLD">0</span> results '
                   b'for <span class="BOLD">rtx 3090</span></h1><div class="srp-save-null-search">'
                   b'No exact matches found</div><ul class="srp-results srp-list"></ul></body></html>')


def test_an_empty_page_after_results_is_a_partial_scan_that_marks_nothing_gone(
        setup: Any, market: LocalMarket, page_set: PageSet) -> None:
    """Page 1 links a page 2, which says "no results": the scan saw only part of the results, so
    listings it did not see are not counted toward gone, however often it happens."""
    cfg, _data, engine = setup
    run_scan(cfg, engine, only="ebay-3090-fe", now=T0)
    market.add("/sch/i.html", EBAY_NO_RESULTS, content_type="text/html", query={"_pgn": "2"})
    for hour in range(1, 5):
        summary = run_scan(cfg, engine, only="ebay-3090-fe", now=T0 + timedelta(hours=hour))
        search = summary.searches[0]
        assert (search.outcome, search.complete, search.gone, search.pages) == ("ok", False, 0, 2)
        assert search.error == "page 2 said 'no results' after results"
    with session_factory(engine)() as s:
        statuses = set(s.scalars(select(Listing.status).where(Listing.source == "ebay")))
    assert "gone" not in statuses


def test_read_commands_return_what_was_stored(setup: Any, run_cli: Any, db_url: str,
                                             tmp_path: Path, page_set: PageSet) -> None:
    cfg, data, engine = setup
    run_scan(cfg, engine, now=datetime.now(UTC))
    conf = str(write_toml(data, tmp_path / "gpuscout.toml"))
    deals = run_cli("deals", "--format", "json", "--limit", "100", config=conf)
    assert deals.exit_code == 0, deals.output
    rows = [json.loads(line) for line in deals.output.splitlines()]
    assert rows, "the 3090 FE post should be a deal"
    assert all(r["model"] == "rtx 3090" and r["variant"] == "fe" for r in rows)
    fe = next(r for r in rows if r["external_id"] == page_set.fe_post)
    assert fe["unit_price"] == str(page_set.fe_price) and fe["source"] == "reddit"
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)

    show = run_cli("show", str(fe["id"]), "--format", "json", config=conf)
    shown = json.loads(show.output)
    assert shown["external_id"] == page_set.fe_post and shown["price"] == str(page_set.fe_price)
    assert shown["scores"][0]["watch"] == "3090-fe"

    hist = run_cli("history", f"reddit:{fe['external_id']}", "--format", "json", config=conf)
    seen = [json.loads(x) for x in hist.output.splitlines()]
    assert [r["price"] for r in seen if r["listing"] == fe["id"]] == [str(page_set.fe_price)]
    # a copy of the same card (the same seller's eBay listing in the own pages) carries over:
    # every listing but the card's first says why it is a copy
    if len({r["listing"] for r in seen}) > 1:
        assert len({r["listing"] for r in seen if not r["copy"]}) == 1

    stats = run_cli("stats", "--format", "json", config=conf)
    by_model = {(r["model"], r["variant"]): r for r in map(json.loads, stats.output.splitlines())}
    assert by_model[("rtx 3090", "fe")]["active"] >= 1

    export = run_cli("export", "--format", "json", config=conf)
    assert len(export.output.splitlines()) == page_set.total

    status = run_cli("status", "--format", "json", config=conf)
    health = {r["search"]: r for r in map(json.loads, status.output.splitlines())}
    assert health["hws-3090"]["last_outcome"] == "ok" and health["hws-3090"]["health"] == "ok"
