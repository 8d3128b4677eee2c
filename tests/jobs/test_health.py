"""Search health from recent runs, and `gpuscout status`'s exit code for scripts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gpuscout.jobs.health import health
from gpuscout.jobs.scan import run_scan
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine
from gpuscout.models.storage.migrate import upgrade
from tests.support.market import OWN_PAGES, market_config, serve_pages, write_toml

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Run:
    outcome: str
    minutes_ago: float
    listings: int = 5
    error: str | None = None
    reason: str | None = None
    saved_path: str | None = None

    @property
    def started_at(self) -> datetime:
        return NOW - timedelta(minutes=self.minutes_ago)

    @property
    def finished_at(self) -> datetime:
        return self.started_at + timedelta(seconds=5)


def test_an_error_with_no_success_is_unhealthy_at_once() -> None:
    h = health("hws", "reddit", [Run("error", 1, 0, "robots.txt disallows", "robots")],
               now=NOW, interval=60)
    assert (h.unhealthy, h.state, h.failing) == (True, "UNHEALTHY", True)
    assert h.advice is not None and "use the marketplace's API" in h.advice
    ok_before = health("hws", "reddit", [Run("error", 1, 0), Run("ok", 2)], now=NOW,
                       interval=60)
    assert (ok_before.unhealthy, ok_before.stale, ok_before.state) == (False, False, "ok")


def test_missing_credentials_advice_is_the_line_that_says_what_to_set() -> None:
    line = ("Reddit's API needs an app: create a \"script\" app at "
            "https://www.reddit.com/prefs/apps, then set GPUSCOUT_REDDIT_CLIENT_ID ...")
    h = health("hws", "reddit", [Run("blocked", 1, 0, line, "no-credentials")], now=NOW,
               interval=60)
    assert h.unhealthy and h.advice == line


def test_offline_runs_get_network_advice_not_robots_advice() -> None:
    runs = [Run("error", m, 0, "cannot resolve www.ebay.com", "offline") for m in (1, 11, 21)]
    h = health("ebay", "ebay", [*runs, Run("ok", 31)], now=NOW, interval=600)
    assert h.unhealthy and h.advice is not None
    assert "offline" in h.advice and "robots" not in h.advice


def test_a_search_without_a_success_for_three_intervals_is_stale() -> None:
    fresh = health("hws", "reddit", [Run("rate_limited", 1, 0), Run("ok", 4)], now=NOW,
                   interval=60)
    assert (fresh.stale, fresh.state) == (False, "ok")
    stale = health("hws", "reddit", [Run("ok", 31)], now=NOW, interval=600)
    assert (stale.stale, stale.unhealthy, stale.state, stale.failing) == (
        True, False, "STALE", True)
    assert stale.advice is not None and "every 10m" in stale.advice
    not_yet = health("hws", "reddit", [Run("ok", 29)], now=NOW, interval=600)
    assert not not_yet.stale
    # a minute's poll is not stale three minutes later: the floor is five
    assert not health("hws", "reddit", [Run("ok", 4)], now=NOW, interval=60).stale
    assert health("hws", "reddit", [Run("ok", 6)], now=NOW, interval=60).stale


def test_ok_runs_that_read_nothing_new_are_healthy_but_three_no_results_are_not() -> None:
    quiet = [Run("ok", m, 0) for m in (1, 2, 3)]
    assert not health("hws", "reddit", quiet, now=NOW, interval=60).unhealthy
    empty = [Run("empty", m, 0) for m in (1, 2, 3)]
    h = health("cl", "craigslist", empty, now=NOW, interval=60)
    assert h.unhealthy and h.advice is not None and "three runs found nothing" in h.advice


def test_no_runs_is_neither_unhealthy_nor_stale() -> None:
    h = health("new", "ebay", [], now=NOW, interval=600)
    assert (h.state, h.failing) == ("no runs", False)


def test_status_exits_1_when_a_search_is_unhealthy_or_stale(
        run_cli: Any, db_url: str, tmp_path: Path) -> None:
    with LocalMarket() as market:
        serve_pages(market, OWN_PAGES)
        cfg, data = market_config(market.url, db_url, tmp_path)
        conf = str(write_toml(data, tmp_path / "gpuscout.toml"))
        engine = make_engine(db_url)
        upgrade(engine)
        at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
        run_scan(cfg, engine, now=at)
        engine.dispose()
    fine = run_cli("status", "--as-of", (at + timedelta(minutes=2)).isoformat(), config=conf)
    assert fine.exit_code == 0, fine.output
    later = run_cli("status", "--format", "json", "--as-of",
                    (at + timedelta(minutes=31)).isoformat(), config=conf)
    assert later.exit_code == 1
    rows = {r["search"]: r for r in map(json.loads, later.output.splitlines())}
    # eBay runs every 10 minutes: stale after 30; Craigslist every 15: not yet (45)
    assert rows["ebay-3090-fe"]["health"] == "STALE" and rows["ebay-3090-fe"]["stale"] is True
    assert rows["craigslist-3090"]["health"] == "ok"
    bad = run_cli("status", "--as-of", "yesterday", config=conf)
    assert bad.exit_code == 2 and "--as-of" in bad.output
