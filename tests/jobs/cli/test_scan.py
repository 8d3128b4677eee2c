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


def test_no_alerts_defers_a_price_drop_it_does_not_drop_it(run_cli: Any, db_url: str,
                                                           tmp_path: Path) -> None:
    """A price drop seen by `scan --no-alerts` is queued, not lost: no email then, one email with
    the next `gpuscout alerts send`."""
    from tests.support.smtp import smtp_server

    post = json.loads(OWN_PAGES.read(OWN_PAGES.reddit))
    for child in post["data"]["children"]:
        if child["data"]["id"] == OWN_PAGES.fe_post:
            child["data"]["selftext"] = child["data"]["selftext"].replace(
                OWN_PAGES.fe_price_text, "$650")
    cheaper = json.dumps(post).encode()
    with LocalMarket() as market, smtp_server() as smtp:
        serve_pages(market, OWN_PAGES)
        email = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "security": "none",
                 "sender": "gpuscout@example.com", "recipients": ["me@example.com"]}
        alert = [{"name": "deals", "watch": "3090-fe", "min_score": 60,
                  "events": ["new", "price_drop"]}]
        _cfg, data = market_config(market.url, db_url, tmp_path, email=email, alert=alert)
        conf = str(write_toml(data, tmp_path / "gpuscout.toml"))
        assert run_cli("scan", "--quiet", config=conf).exit_code == 0
        before = len(smtp.received)
        assert before >= 1  # the FE post is a deal: its "new" alert went out

        serve_pages(market, OWN_PAGES, reddit=cheaper)
        quiet = run_cli("scan", "--no-alerts", config=conf)
        assert quiet.exit_code == 0, quiet.output
        assert "alerts: none sent (--no-alerts); 1 new queued" in quiet.stdout
        assert len(smtp.received) == before
        listed = run_cli("alerts", "list", "--state", "queued", "--format", "json", config=conf)
        (queued,) = [json.loads(line) for line in listed.stdout.splitlines()]
        assert (queued["event"], queued["price"]) == ("price_drop", "650.00")

        sent = run_cli("alerts", "send", config=conf)
        assert sent.exit_code == 0 and sent.stdout.startswith("1 sent"), sent.output
        assert len(smtp.received) == before + 1
        assert "Price drop" in str(smtp.messages()[-1]["Subject"])
