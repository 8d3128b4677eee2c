"""`gpuscout scan`, `cron` and `status` from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine
from gpuscout.models.storage.lock import scan_lock
from gpuscout.models.storage.migrate import upgrade
from tests.support.market import OWN_PAGES, market_config, serve_pages, write_toml


def test_scan_prints_a_summary_and_a_second_scan_waits_for_nothing(
        run_cli: Any, db_url: str, tmp_path: Path) -> None:
    counts = OWN_PAGES.counts
    with LocalMarket() as market:
        serve_pages(market, OWN_PAGES)
        _cfg, data = market_config(market.url, db_url, tmp_path)
        conf = str(write_toml(data, tmp_path / "gpuscout.toml"))
        result = run_cli("scan", "--format", "json", config=conf)
        assert result.exit_code == 0, result.output
        rows = {r["search"]: r for r in map(json.loads, result.stdout.splitlines())}
        assert rows["hws-3090"] == {"search": "hws-3090", "source": "reddit", "outcome": "ok",
                                    "pages": 2, "listings": counts["reddit"],
                                    "new": counts["reddit"], "changed": 0,
                                    "gone": 0, "unread": 0, "error": None}
        assert rows["craigslist-3090"]["new"] == counts["craigslist"]

        # another scan holds the lock: this one says so and exits 3 without scanning
        engine = make_engine(db_url)
        upgrade(engine)
        with scan_lock(engine, now=datetime.now(UTC)):
            locked = run_cli("scan", "--quiet", config=conf)
        engine.dispose()
        assert locked.exit_code == 3
        assert "another scan is running" in locked.stderr

        table = run_cli("scan", "--search", "hws-3090", config=conf)
        assert table.exit_code == 0
        assert "Scan summary" in table.stdout and f"hws-3090: ok: {counts['reddit']} listings" in table.stderr


def test_scan_exits_1_only_when_every_search_failed(run_cli: Any, db_url: str,
                                                    tmp_path: Path) -> None:
    with LocalMarket() as market:  # answers 404 everywhere
        _cfg, data = market_config(market.url, db_url, tmp_path)
        conf = str(write_toml(data, tmp_path / "gpuscout.toml"))
        result = run_cli("scan", "--quiet", config=conf)
        assert result.exit_code == 1
        status = run_cli("status", "--format", "json", config=conf)
        outcomes = {r["search"]: r["last_outcome"] for r in map(json.loads, status.stdout.splitlines())}
        assert outcomes == {"ebay-3090-fe": "error", "hws-3090": "error", "craigslist-3090": "error"}


def test_unknown_search_is_a_config_error(run_cli: Any) -> None:
    result = run_cli("scan", "--search", "nope")
    assert result.exit_code == 2
    assert "no search named 'nope'" in result.output


def test_cron_prints_one_line_per_schedule_and_the_digests(run_cli: Any, tmp_path: Path) -> None:
    run_cli("config", "init")
    path = tmp_path / "gpuscout.toml"
    path.write_text(path.read_text() + """
[email]
recipients = ["me@example.com"]
timezone = "Europe/Berlin"

[[alert]]
name = "morning"
watch = "3090-fe"
mode = "digest"
digest_time = "07:45"
""")
    result = run_cli("cron", config="gpuscout.toml")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    head = f"cd {tmp_path} && gpuscout --config {path}"
    log = f">> {tmp_path / 'gpuscout.log'} 2>&1"
    # the starter's intervals: eBay every 10 minutes, Reddit every minute, Craigslist every 15
    assert lines == [
        f"*/10 * * * * {head} scan --quiet --search ebay-3090-fe {log}",
        f"15 */6 * * * {head} scan --quiet --search ebay-3090-fe-sold {log}",
        f"* * * * * {head} scan --quiet --search hws-3090 {log}",
        f"*/15 * * * * {head} scan --quiet --search craigslist-3090 {log}",
        "# digest times are in Europe/Berlin: cron reads them in the system's time zone",
        f"45 7 * * * {head} alerts digest --rule morning {log}",
    ]
    one = run_cli("cron", "--schedule", "*/5 * * * *", config="gpuscout.toml").output.splitlines()
    assert one[0] == f"*/5 * * * * {head} scan --quiet {log}"
    # an interval cron cannot count is rounded, and says so
    path.write_text(path.read_text().replace('every = "10m"', 'every = "7m"'))
    rounded = run_cli("cron", config="gpuscout.toml").output.splitlines()
    assert rounded[0] == ("# ebay-3090-fe: every 7m is rounded to '*/10 * * * *' (cron counts "
                          "whole minutes; `gpuscout run` keeps the interval)")
    assert rounded[1] == f"*/10 * * * * {head} scan --quiet --search ebay-3090-fe {log}"


def test_scan_takes_several_searches(run_cli: Any) -> None:
    result = run_cli("scan", "--search", "hws-3090", "--search", "nope")
    assert result.exit_code == 2
    assert "no search named 'nope'" in result.output
