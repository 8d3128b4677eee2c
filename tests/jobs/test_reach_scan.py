"""Scans over the local marketplace for what reaching the marketplaces adds: Craigslist's two id
forms, Reddit's Data API with its token, incremental polling and what it may mark gone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gpuscout.jobs.scan import run_scan
from gpuscout.jobs.testing.feeds import (
    Feed,
    FeedPost,
    craigslist_search,
    example_posts,
    reddit_api,
    token_endpoint,
)
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine, session_factory
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.tables.listings import Listing
from gpuscout.models.storage.tables.runs import ScrapeRun
from gpuscout.scraper.fetch.memory import FetchMemory
from tests.support.market import market_config
from tests.support.pages import read_page

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HTML = "text/html; charset=utf-8"


@pytest.fixture
def market() -> Iterator[LocalMarket]:
    with LocalMarket() as m:
        yield m


@pytest.fixture
def engine(db_url: str) -> Iterator[Any]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def craigslist_only(market: LocalMarket, db_url: str, tmp_path: Path) -> Any:
    cfg, _ = market_config(market.url, db_url, tmp_path, search=[
        {"name": "cl", "source": "craigslist", "query": "rtx 3090"}])
    return cfg


def test_craigslist_tokens_are_stored_and_lost_cards_reported(
        market: LocalMarket, engine: Any, db_url: str, tmp_path: Path) -> None:
    market.add("/search/sss", read_page("craigslist/search-tokens.html"), content_type=HTML)
    summary = run_scan(craigslist_only(market, db_url, tmp_path), engine, now=T0)
    (s,) = summary.searches
    assert (s.outcome, s.listings, s.new, s.unread) == ("ok", 3, 3, 2)
    assert s.error == "2 of 5 cards could not be read"
    with session_factory(engine)() as session:
        ids = sorted(session.scalars(select(Listing.external_id)))
        run = session.scalars(select(ScrapeRun)).one()
    assert ids == ["-ExAmPlE_tok-2-", "7900000001", "Ex_aMpLe-T0k3n_A1"]
    assert (run.outcome, run.error) == ("ok", "2 of 5 cards could not be read")


def test_craigslist_post_seen_by_token_then_by_number_is_one_listing(
        market: LocalMarket, engine: Any, db_url: str, tmp_path: Path) -> None:
    cfg = craigslist_only(market, db_url, tmp_path)
    market.add("/search/sss", read_page("craigslist/search-tokens.html"), content_type=HTML)
    run_scan(cfg, engine, now=T0)
    # the sapi search shows both ids of each post: the token ones are known, the number joins
    sapi = read_page("craigslist/sapi-search.json").replace(b"ExAmPlEsApI0011tok",
                                                            b"Ex_aMpLe-T0k3n_A1")
    market.clear()
    market.add("/web/v8/postings/search/full", sapi, content_type="application/json")
    sapi_cfg, _ = market_config(market.url, db_url, tmp_path, search=[
        {"name": "cl", "source": "craigslist", "query": "rtx 3090",
         "options": {"api": "sapi", "sapi_base_url": market.url}}])
    summary = run_scan(sapi_cfg, engine, now=T0 + timedelta(minutes=15))
    (s,) = summary.searches
    assert s.outcome == "ok", s.error
    with session_factory(engine)() as session:
        stored = {row.external_id: row.price for row in session.scalars(select(Listing))}
    # the sapi item 7900000011 is the token card's post: stored once, under the token, updated
    assert "7900000011" not in stored
    assert stored["Ex_aMpLe-T0k3n_A1"] == 74_500
    # and the legacy card's 7900000001 is still one listing
    assert sum(1 for ext in stored if ext in ("7900000001",)) == 1


# --- incremental polling -------------------------------------------------------------------


class Clock:
    """The marketplace's and the scan's time, moved by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def fe_posts(count: int, newest: datetime) -> list[FeedPost]:
    """``count`` posts a minute apart, the newest at ``newest``."""
    return example_posts(count, newest)


@pytest.fixture
def reddit_app(monkeypatch: pytest.MonkeyPatch, market: LocalMarket) -> list[str]:
    monkeypatch.setenv("GPUSCOUT_REDDIT_CLIENT_ID", "app-id")
    monkeypatch.setenv("GPUSCOUT_REDDIT_CLIENT_SECRET", "app-secret")
    return token_endpoint(market, "/api/v1/access_token", lifetime=86400)


def reddit_config(market: LocalMarket, db_url: str, tmp_path: Path) -> Any:
    cfg, _ = market_config(
        market.url, db_url, tmp_path,
        search=[{"name": "hws", "source": "reddit", "query": "3090"}],
        scan={"gone_after": 3, "data_dir": str(tmp_path / "data"), "incremental": True})
    reddit = replace(cfg.sources["reddit"], max_pages=3,
                     options={"oauth_base_url": market.url, "auth_base_url": market.url})
    return replace(cfg, sources={**cfg.sources, "reddit": reddit})


def statuses(engine: Any) -> dict[str, str]:
    with session_factory(engine)() as session:
        return {row.external_id: row.status for row in session.scalars(select(Listing))}


def test_reddit_polls_new_with_its_token_and_stops_at_what_it_has_read(
        market: LocalMarket, engine: Any, db_url: str, tmp_path: Path,
        reddit_app: list[str]) -> None:
    clock = Clock(T0)
    feed = Feed(now=clock, posts=fe_posts(150, T0 - timedelta(minutes=1)))
    reddit_api(market, feed)
    cfg, memory = reddit_config(market, db_url, tmp_path), FetchMemory()

    first = run_scan(cfg, engine, now=clock(), memory=memory).searches[0]
    assert (first.outcome, first.pages, first.listings, first.new) == ("ok", 2, 150, 150)
    assert (first.first, first.complete, first.caught_up) == (True, True, False)

    feed.add(FeedPost(key="new1", posted=T0 + timedelta(seconds=30), price=690,
                      title="[USA-TX] [H] RTX 3090 FE [W] PayPal", body="$690 shipped"))
    clock.at = T0 + timedelta(minutes=1)
    feed.served.clear()
    second = run_scan(cfg, engine, now=clock(), memory=memory).searches[0]
    # one request: the first page reaches back before the last scan began (less the margin)
    assert [r.query.get("after") for r in feed.served] == [None]
    assert (second.pages, second.new, second.first) == (1, 1, False)
    assert (second.complete, second.caught_up) == (False, True)
    assert second.covers_since == T0 - timedelta(minutes=99)   # the 100th newest post
    assert reddit_app == ["tok1"]  # one token for both scans


def test_a_partial_newest_first_scan_marks_gone_only_what_it_would_have_read(
        market: LocalMarket, engine: Any, db_url: str, tmp_path: Path,
        reddit_app: list[str]) -> None:
    clock = Clock(T0)
    feed = Feed(now=clock, posts=fe_posts(150, T0 - timedelta(minutes=1)))
    reddit_api(market, feed)
    cfg = reddit_config(market, db_url, tmp_path)
    run_scan(cfg, engine, now=clock())
    feed.remove("p010")   # recent: on the first page, which every poll reads
    feed.remove("p140")   # old: on the second page, which a caught-up poll does not read
    for minutes in (1, 2, 3):
        clock.at = T0 + timedelta(minutes=minutes)
        summary = run_scan(cfg, engine, now=clock()).searches[0]
        assert (summary.caught_up, summary.complete) == (True, False)
    after = statuses(engine)
    assert after["p010"] == "gone"
    assert after["p140"] == "active"
    assert sum(status == "gone" for status in after.values()) == 1


def craigslist_config(market: LocalMarket, db_url: str, tmp_path: Path, every: int) -> Any:
    cfg, _ = market_config(
        market.url, db_url, tmp_path,
        search=[{"name": "cl", "source": "craigslist", "query": "rtx 3090"}],
        scan={"gone_after": 3, "data_dir": str(tmp_path / "data"), "incremental": True,
              "full_scan_every": every})
    return replace(cfg, sources={**cfg.sources,
                                 "craigslist": replace(cfg.sources["craigslist"], max_pages=3)})


def test_pages_without_times_stop_when_all_known_and_every_nth_scan_reads_all(
        market: LocalMarket, engine: Any, db_url: str, tmp_path: Path) -> None:
    clock = Clock(T0)
    feed = Feed(now=clock, posts=example_posts(200, T0 - timedelta(minutes=1),
                                               first_id=7900000000))
    craigslist_search(market, feed, per_page=120)
    cfg = craigslist_config(market, db_url, tmp_path, every=3)
    pages = []
    for scan in range(6):
        clock.at = T0 + timedelta(minutes=15 * scan)
        summary = run_scan(cfg, engine, now=clock()).searches[0]
        pages.append((summary.pages, summary.caught_up))
    # the first scan reads both pages; then one page (all known) except every third scan
    assert pages == [(2, False), (1, True), (1, True), (2, False), (1, True), (1, True)]


def test_incremental_polling_can_be_turned_off(
        market: LocalMarket, engine: Any, db_url: str, tmp_path: Path) -> None:
    clock = Clock(T0)
    feed = Feed(now=clock, posts=example_posts(200, T0 - timedelta(minutes=1),
                                               first_id=7900000000))
    craigslist_search(market, feed, per_page=120)
    cfg = craigslist_config(market, db_url, tmp_path, every=6)
    cfg = replace(cfg, scan=replace(cfg.scan, incremental=False))
    for scan in range(2):
        summary = run_scan(cfg, engine, now=T0 + timedelta(minutes=15 * scan)).searches[0]
        assert (summary.pages, summary.caught_up, summary.complete) == (2, False, True)


# --- from a post to the buyer ------------------------------------------------------------------


def test_first_scan_sends_one_digest_then_each_new_post_is_pushed_at_once(
        market: LocalMarket, engine: Any, db_url: str, tmp_path: Path,
        reddit_app: list[str]) -> None:
    from tests.support.push import push_server
    from tests.support.smtp import smtp_server

    clock = Clock(T0)
    feed = Feed(now=clock, posts=fe_posts(3, T0 - timedelta(minutes=5)))
    reddit_api(market, feed)
    with push_server() as push, smtp_server() as smtp:
        base = reddit_config(market, db_url, tmp_path)
        alerting, _ = market_config(
            market.url, db_url, tmp_path,
            email={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "security": "none",
                   "sender": "gpuscout@example.com", "recipients": ["me@example.com"]},
            notify=[{"name": "phone", "url": push.ntfy_url("deals")}],
            alert=[{"watch": "3090-fe", "min_score": 50}])
        cfg = replace(base, email=alerting.email, notify=alerting.notify,
                      alerts=alerting.alerts)
        first = run_scan(cfg, engine, now=clock())
        assert first.searches[0].first and first.alerts is not None
        assert (first.alerts.sent, first.alerts.recorded) == (2, 2)  # one digest per channel
        assert [p.title for p in push.received] == [
            "gpuscout first scan for 3090-fe: 3 deals already listed"]
        assert str(smtp.received[0].message["Subject"]).startswith("[gpuscout] First scan")

        feed.add(FeedPost(key="fresh", posted=T0 + timedelta(seconds=20), price=680,
                          title="[USA-NV] [H] RTX 3090 Founders Edition [W] PayPal",
                          body="$680 shipped, never mined, original box"))
        clock.at = T0 + timedelta(minutes=1)
        second = run_scan(cfg, engine, now=clock())
        assert second.alerts is not None and second.alerts.sent == 2
        note = push.received[-1]
        assert note.title == "RTX 3090 FE $680 — score " + note.title.rsplit(" ", 1)[-1]
        lines = note.message.splitlines()
        assert lines[0] == "[USA-NV] [H] RTX 3090 Founders Edition [W] PayPal"
        # the reference: the band's midpoint, moved by the three asks of the first scan
        assert lines[1] == ("$680 per card, 4 % below the market ($708.80: 3 asks seen over "
                            "30 days)")
        assert lines[2].startswith("Why: ")
        # (on oauth.reddit.com the link is www.reddit.com's; here, the local marketplace's)
        assert lines[-1] == f"{market.url}/r/hardwareswap/comments/fresh/example/"
        assert len(smtp.received) == 2
