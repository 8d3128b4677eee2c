"""`gpuscout doctor` against local marketplaces and APIs, and with no network at all."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gpuscout.jobs.config import parse_config
from gpuscout.jobs.doctor import check_all
from gpuscout.jobs.testing.feeds import (
    Feed,
    craigslist_search,
    ebay_browse,
    example_posts,
    reddit_api,
    token_endpoint,
)
from gpuscout.jobs.testing.localmarket import LocalMarket
from tests.support.market import write_toml
from tests.support.smtp import closed_port

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
APP_ENV = {"GPUSCOUT_REDDIT_CLIENT_ID": "app-id", "GPUSCOUT_REDDIT_CLIENT_SECRET": "app-secret",
           "GPUSCOUT_EBAY_CLIENT_ID": "Example-App-PRD", "GPUSCOUT_EBAY_CLIENT_SECRET": "PRD-cert"}


@pytest.fixture
def market() -> Iterator[LocalMarket]:
    with LocalMarket() as m:
        feed = Feed(now=lambda: T0, posts=example_posts(5, T0, first_id=7900000000))
        reddit_api(m, feed)
        ebay_browse(m, feed)
        craigslist_search(m, feed)
        token_endpoint(m, "/api/v1/access_token", lifetime=86400)
        token_endpoint(m, "/identity/v1/oauth2/token", lifetime=7200)
        yield m


def config_data(base: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "database": {"url": f"sqlite:///{tmp_path / 'doctor.db'}"},
        "search": [
            {"name": "ebay-3090-fe", "source": "ebay", "query": "rtx 3090 founders edition"},
            {"name": "hws-3090", "source": "reddit", "query": "3090"},
            {"name": "craigslist-3090", "source": "craigslist", "query": "rtx 3090"},
        ],
        "sources": {
            "ebay": {"base_url": base, "options": {"api_base_url": base}},
            "reddit": {"base_url": base,
                       "options": {"oauth_base_url": base, "auth_base_url": base}},
            "craigslist": {"base_url": base},
        },
    }


def rows_of(output: str) -> dict[tuple[str, str], dict[str, Any]]:
    rows = [json.loads(line) for line in output.splitlines()]
    return {(r["search"], r["step"]): r for r in rows}


def test_every_search_works_through_its_sanctioned_route(
        market: LocalMarket, run_cli: Any, tmp_path: Path) -> None:
    market.add("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    conf = str(write_toml(config_data(market.url, tmp_path), tmp_path / "gpuscout.toml"))
    result = run_cli("doctor", "--format", "json", config=conf, env=APP_ENV)
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert rows[("hws-3090", "route")]["detail"] == "Data API (OAuth)"
    assert rows[("hws-3090", "token")]["result"] == "ok"
    assert rows[("hws-3090", "query")]["detail"] == "5 listings on the first page"
    assert rows[("ebay-3090-fe", "route")]["detail"] == "Browse API (OAuth)"
    assert rows[("ebay-3090-fe", "query")]["detail"] == "5 listings on the first page"
    assert rows[("craigslist-3090", "robots")]["result"] == "ok"
    assert rows[("craigslist-3090", "query")]["detail"] == "5 listings on the first page"
    # APIs are not crawled: no robots.txt step for them
    assert ("hws-3090", "robots") not in rows and ("ebay-3090-fe", "robots") not in rows
    assert {r["result"] for r in rows.values()} == {"ok"}


def test_each_failure_says_what_to_do_and_the_exit_code_is_1(
        market: LocalMarket, run_cli: Any, tmp_path: Path) -> None:
    market.add("/robots.txt", "User-agent: *\nDisallow: /search\n", content_type="text/plain")
    market.add("/identity/v1/oauth2/token", '{"error": "invalid_client"}', status=401,
               content_type="application/json")
    conf = str(write_toml(config_data(market.url, tmp_path), tmp_path / "gpuscout.toml"))
    env = {k: v for k, v in APP_ENV.items() if "REDDIT" not in k}
    result = run_cli("doctor", "--format", "json", config=conf, env=env)
    assert result.exit_code == 1
    rows = rows_of(result.stdout)
    reddit = rows[("hws-3090", "access")]
    assert (reddit["result"], reddit["detail"]) == ("FAIL", "no app credentials")
    assert "create a \"script\" app at https://www.reddit.com/prefs/apps" in reddit["advice"]
    assert rows[("hws-3090", "query")]["result"] == "-"
    token = rows[("ebay-3090-fe", "token")]
    assert token["result"] == "FAIL" and "check GPUSCOUT_EBAY_CLIENT_ID" in token["detail"]
    robots = rows[("craigslist-3090", "robots")]
    assert robots["result"] == "FAIL"
    assert robots["detail"].startswith("robots.txt of ") and "disallows /search/sss" in robots["detail"]
    for row in rows.values():
        assert "obey_robots off" not in (row["advice"] or "") + row["detail"]


def test_without_keys_ebay_works_on_its_pages_with_a_warning(
        market: LocalMarket, run_cli: Any, tmp_path: Path) -> None:
    data = config_data(market.url, tmp_path)
    data["search"] = data["search"][:1]
    conf = str(write_toml(data, tmp_path / "gpuscout.toml"))
    result = run_cli("doctor", "--format", "json", config=conf)
    rows = rows_of(result.stdout)
    access = rows[("ebay-3090-fe", "access")]
    assert access["result"] == "WARN" and "https://developer.ebay.com/my/keys" in access["advice"]
    assert rows[("ebay-3090-fe", "route")]["detail"] == "search pages"
    # the local marketplace has no eBay search page: the query fails and says so
    assert rows[("ebay-3090-fe", "query")]["result"] == "FAIL"
    assert result.exit_code == 1


def test_a_closed_port_fails_at_connect(run_cli: Any, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = config_data(f"http://127.0.0.1:{port}", tmp_path)
    data["search"] = data["search"][2:]
    conf = str(write_toml(data, tmp_path / "gpuscout.toml"))
    result = run_cli("doctor", "--format", "json", config=conf)
    assert result.exit_code == 1
    connect = rows_of(result.stdout)[("craigslist-3090", "connect")]
    assert connect["result"] == "FAIL" and f"cannot connect to 127.0.0.1:{port}" in connect["detail"]


def test_offline_is_reported_as_offline_quickly_and_never_as_robots(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in APP_ENV.items():
        monkeypatch.setenv(name, value)
    cfg = parse_config({"database": {"url": f"sqlite:///{tmp_path / 'x.db'}"}})
    asked: list[str] = []

    async def no_dns(host: str, port: int) -> Any:
        asked.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    began = time.monotonic()
    reports = asyncio.run(check_all(cfg, cfg.searches, timeout=2, resolver=no_dns))
    assert time.monotonic() - began < 5
    assert sorted(asked) == ["api.ebay.com", "sfbay.craigslist.org", "www.reddit.com"]
    for report in reports:
        assert report.offline and not report.works
        dns = next(c for c in report.checks if c.step == "dns")
        assert dns.detail.startswith("cannot resolve ")
        assert dns.advice is not None and "offline" in dns.advice
        assert all("robots" not in c.detail for c in report.checks)
        assert [c.status for c in report.checks if c.step in ("query", "token")] in (
            ["skip"], ["skip", "skip"])


def test_a_resolver_that_hangs_is_cut_off_by_the_timeout(tmp_path: Path) -> None:
    cfg = parse_config({"database": {"url": f"sqlite:///{tmp_path / 'x.db'}"},
                        "search": [{"name": "cl", "source": "craigslist", "query": "3090"}]})

    async def stuck(host: str, port: int) -> Any:
        await asyncio.Event().wait()

    began = time.monotonic()
    (report,) = asyncio.run(check_all(cfg, cfg.searches, timeout=0.5, resolver=stuck))
    assert time.monotonic() - began < 3
    dns = next(c for c in report.checks if c.step == "dns")
    assert (dns.status, dns.detail) == ("fail", "cannot resolve sfbay.craigslist.org (no answer "
                                                "in time)")


# -- what a cluster shares -----------------------------------------------------------------------


def _cluster_config(tmp_path: Path, db_url: str, *, pacing: str = "local") -> Any:
    return parse_config({"database": {"url": db_url}, "fetch": {"pacing": pacing},
                         "search": [{"name": "cl", "source": "craigslist", "query": "3090"}]})


def test_a_single_machine_has_no_cluster_checks(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    from gpuscout.jobs.doctor import cluster_checks

    for var in ("GPUSCOUT_BROKER_URL", "GPUSCOUT_REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    cfg = _cluster_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    assert cluster_checks(cfg, timeout=1) == []


def test_a_broker_out_of_reach_and_sqlite_fail_with_what_to_do(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from gpuscout.jobs.doctor import cluster_checks

    port = closed_port()
    monkeypatch.setenv("GPUSCOUT_BROKER_URL", f"redis://:s3cret@127.0.0.1:{port}/0")
    monkeypatch.delenv("GPUSCOUT_REDIS_URL", raising=False)
    cfg = _cluster_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", pacing="shared")
    began = time.monotonic()
    checks = {c.step: c for c in cluster_checks(cfg, timeout=1)}
    assert time.monotonic() - began < 3
    assert list(checks) == ["database", "broker", "pacing"]
    assert checks["database"].status == "fail"
    assert "postgresql://" in (checks["database"].advice or "")
    broker = checks["broker"]
    assert broker.status == "fail"
    assert broker.detail.startswith(f"redis://:****@127.0.0.1:{port}/0 cannot be reached: ")
    assert broker.advice == "start that Redis or fix $GPUSCOUT_BROKER_URL"
    assert (checks["pacing"].status, checks["pacing"].detail) == (
        "ok", "shared through the broker's Redis")
    assert all("s3cret" not in c.detail for c in checks.values())


def test_shared_pacing_without_a_redis_fails(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    from gpuscout.jobs.doctor import cluster_checks

    for var in ("GPUSCOUT_BROKER_URL", "GPUSCOUT_REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    cfg = _cluster_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", pacing="shared")
    (pacing,) = cluster_checks(cfg, timeout=1)
    assert (pacing.step, pacing.status) == ("pacing", "fail")
    assert pacing.advice == "export GPUSCOUT_REDIS_URL (or GPUSCOUT_BROKER_URL)=redis://HOST:6379/0"


def test_a_reachable_cluster_passes_and_a_lost_pacing_redis_exits_1(
        market: LocalMarket, run_cli: Any, redis_url: str, tmp_path: Path) -> None:
    market.add("/robots.txt", "User-agent: *\n", content_type="text/plain")
    data = config_data(market.url, tmp_path)
    data["search"] = data["search"][2:]
    data["database"] = {"url": "postgresql://gpuscout@db.invalid/gpuscout"}
    data["fetch"] = {"pacing": "shared"}
    conf = str(write_toml(data, tmp_path / "gpuscout.toml"))
    env = {"GPUSCOUT_BROKER_URL": redis_url, "GPUSCOUT_REDIS_URL": redis_url}
    result = run_cli("doctor", "--format", "json", config=conf, env=env)
    rows = rows_of(result.stdout)
    assert result.exit_code == 0, result.output
    assert rows[("(cluster)", "database")]["result"] == "ok"
    assert rows[("(cluster)", "broker")]["detail"] == f"{redis_url} answers"
    assert rows[("(cluster)", "pacing")]["result"] == "ok"

    env["GPUSCOUT_REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    result = run_cli("doctor", config=conf, env=env)
    assert result.exit_code == 1
    assert "cluster: CANNOT work" in result.stderr
