"""Scans over the local marketplace for what reaching the marketplaces adds: Craigslist's two id
forms, Reddit's Data API with its token, incremental polling and what it may mark gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gpuscout.jobs.scan import run_scan
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine, session_factory
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.tables.listings import Listing
from gpuscout.models.storage.tables.runs import ScrapeRun
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
