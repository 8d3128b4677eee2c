"""Bad networks and bad pages: one search misbehaves, the scan finishes, the others stay ok, the
run records the right outcome, `gpuscout status` shows it, and no stored listing is harmed (on the
project's own pages)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gpuscout.jobs.scan import run_scan
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import session_factory
from gpuscout.models.storage.tables.listings import Listing
from gpuscout.models.storage.tables.runs import ScrapeRun
from gpuscout.scraper.crawl import fetch_page
from gpuscout.scraper.fetch.client import FetchedPage
from gpuscout.scraper.sources import get_source
from gpuscout.scraper.sources.registry import NAMES
from tests.support.market import OWN_PAGES, market_config, serve_pages, write_toml

Read = Callable[[str], bytes]
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PATHS = {"ebay-3090-fe": "/sch/i.html", "hws-3090": "/r/hardwareswap/search.json",
         "craigslist-3090": "/search/sss", "fb-3090": "/marketplace/nyc/search/"}
SOURCE = {"ebay-3090-fe": "ebay", "hws-3090": "reddit", "craigslist-3090": "craigslist",
          "fb-3090": "facebook"}
FACEBOOK_SEARCH = {"name": "fb-3090", "source": "facebook", "query": "rtx 3090"}
HTML = "text/html; charset=utf-8"
FIFTY_MB = 50 * 1024 * 1024
#: a craigslist hCaptcha interstitial, as the site serves it instead of results
CAPTCHA_PAGE = (b"<!DOCTYPE html><html><head><title>craigslist | verify</title>"
                b'<script src="https://hcaptcha.com/1/api.js" async defer></script></head><body>'
                b"<p>Please verify you are human to continue to craigslist.</p>"
                b'<form method="post"><div class="h-captcha" data-sitekey="10000000-ffff-ffff">'
                b"</div></form></body></html>")


def _renamed_cards(read: Read) -> bytes:
    """The Craigslist search page after a redesign renamed its result-card classes."""
    body = read(OWN_PAGES.craigslist).replace(b"cl-static-search-result", b"cl-result-card-2027")
    assert b"cl-static-search-result" not in body
    return body


def _invalid_utf8(read: Read) -> bytes:
    """The Craigslist search page with invalid UTF-8 between every card and in the head."""
    body = read(OWN_PAGES.craigslist)
    corrupted = body.replace(b"</li>", b"</li>\xff\xfe\xc3(").replace(b"<head>", b"<head>\x80\xbf", 1)
    assert corrupted != body and corrupted.count(b"\xff\xfe") >= OWN_PAGES.counts["craigslist"]
    with pytest.raises(UnicodeDecodeError):
        corrupted.decode("utf-8")
    return corrupted


@dataclass(frozen=True)
class Fault:
    """How one search's path misbehaves and what its run must record."""

    search: str
    outcome: str
    serve: Callable[[LocalMarket, str, Read], Any]
    #: overrides of the [fetch] table (max_retries defaults to 0: no backoff sleeps)
    fetch: dict[str, Any] = field(default_factory=dict)
    #: requests the failing search's path must receive per scan (retries included)
    requests: int = 1
    #: the run's error must contain this
    error: str | None = None
    #: the page is saved under data_dir and the run's saved_path names it
    saved: bool = False
    #: the advice `gpuscout status` gives after three such runs in a row (None: stays healthy)
    advice: str | None = None


def _status(code: int, **headers: str) -> Callable[[LocalMarket, str, Read], Any]:
    return lambda m, path, _read: m.add(path, f"HTTP {code}", status=code, headers=headers,
                                        content_type="text/plain")


def _fault(name: str) -> Callable[[LocalMarket, str, Read], Any]:
    return lambda m, path, _read: m.add(path, b"<html>unused</html>", fault=name, size=FIFTY_MB)


def _sized(name: str, size: int) -> Callable[[LocalMarket, str, Read], Any]:
    return lambda m, path, _read: m.add(path, b"<html>unused</html>", fault=name, size=size)


def _body(make: Callable[[Read], bytes], ctype: str = HTML) -> Callable[[LocalMarket, str, Read], Any]:
    return lambda m, path, read: m.add(path, make(read), content_type=ctype)


FAULTS: dict[str, Fault] = {
    # Retry-After: 0 keeps the retries instant; three requests prove they happened
    "429-retry-after": Fault("craigslist-3090", "rate_limited", _status(429, **{"Retry-After": "0"}),
                             fetch={"max_retries": 2}, requests=3, error="429",
                             advice="raise min_interval"),
    "503": Fault("ebay-3090-fe", "error", _status(503, **{"Retry-After": "0"}),
                 fetch={"max_retries": 2}, requests=3, error="HTTP 503",
                 advice="network or server errors"),
    "connection-reset": Fault("craigslist-3090", "error", _fault("reset"), error="reset by peer",
                              advice="network or server errors"),
    "read-timeout": Fault("hws-3090", "error", _fault("hang"), fetch={"timeout": 0.5},
                          error="timed out", advice="network or server errors"),
    "truncated-body": Fault("craigslist-3090", "error", _fault("truncate"), error="truncated",
                            advice="network or server errors"),
    "corrupt-gzip": Fault("ebay-3090-fe", "error", _fault("bad_gzip"), error="corrupt",
                          advice="network or server errors"),
    "captcha": Fault("craigslist-3090", "blocked", _body(lambda _r: CAPTCHA_PAGE),
                     error="captcha", saved=True, advice="captcha, login wall"),
    # NOTE: eBay's bot check is a same-host redirect to /splashui/challenge: blocked, and there
    # is no page to save (the challenge itself is never fetched)
    "captcha-redirect": Fault(
        "ebay-3090-fe", "blocked",
        lambda m, path, _r: m.add(path, "", status=307, headers={
            "Location": "/splashui/challenge?ap=1&appName=orch&ru=https%3A%2F%2Fwww.ebay.com"}),
        error="redirected to a captcha page", advice="captcha, login wall"),
    "login-wall": Fault("fb-3090", "blocked", _body(lambda r: r(OWN_PAGES.login_wall)), error="login",
                        saved=True, advice="captcha, login wall"),
    "changed-markup": Fault("craigslist-3090", "drift", _body(_renamed_cards), saved=True,
                            error="no search results", advice="the markup changed"),
    # the default fetch.max_bytes (10 MiB) stops both before 50 MB are read
    "50-mb-page": Fault("ebay-3090-fe", "error", _fault("huge"),
                        error="announces 52428800 bytes, over the 10485760-byte cap",
                        advice="network or server errors"),
    "50-mb-page-no-length": Fault("ebay-3090-fe", "error", _fault("huge_unsized"),
                                  error="sent more than the 10485760-byte cap",
                                  advice="network or server errors"),
    # NOTE: a byte a second keeps every read under the 5 s timeout; only the request's own
    # deadline (1.5 s here) ends the request
    "trickled-status-line": Fault("hws-3090", "error", _fault("trickle_status"),
                                  fetch={"request_deadline": 1.5},
                                  error="no complete answer within the 1.5 s request deadline",
                                  advice="network or server errors"),
    "trickled-body": Fault("craigslist-3090", "error", _fault("trickle_body"),
                           fetch={"request_deadline": 1.5},
                           error="no complete answer within the 1.5 s request deadline",
                           advice="network or server errors"),
    # 5 KB sent as "Content-Encoding: gzip, gzip" that inflate to 2 GiB: refused at the cap
    "gzip-gzip-bomb": Fault("ebay-3090-fe", "error", _sized("gzip_bomb", 2 << 30),
                            error="sent more than the 10485760-byte cap",
                            advice="network or server errors"),
    "cross-host-redirect": Fault(
        "craigslist-3090", "error",
        lambda m, path, _r: m.add(path, "", status=302,
                                  headers={"Location": "http://127.0.0.2:1/consent?continue=1"}),
        error="another host", advice="network or server errors"),
    # NOTE: browsers and every parser here decode with replacement characters; a few bad bytes
    # between the cards are a sloppy server, not a failed page, so every listing still counts.
    "invalid-utf8": Fault("craigslist-3090", "ok", _body(_invalid_utf8)),
    # NOTE: an empty 200 says nothing: not "no results" (which would let listings go gone), not
    # changed markup (there is no markup to look at, nothing worth saving); a server glitch.
    "empty-200": Fault("craigslist-3090", "error", _body(lambda _r: b""), error="empty",
                       advice="network or server errors"),
}


@pytest.fixture
def market() -> Iterator[LocalMarket]:
    with LocalMarket() as m:
        yield m


def _snapshot(engine: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Every listing row: key -> (id, price, shipping, currency, status, title, last_seen)."""
    with session_factory(engine)() as s:
        rows = s.execute(select(Listing.source, Listing.external_id, Listing.id, Listing.price,
                                Listing.shipping, Listing.currency, Listing.status, Listing.title,
                                Listing.last_seen)).all()
    return {(r[0], r[1]): (*r[2:8], _utc(r[8])) for r in rows}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _health(run_cli: Any, conf: Path, at: datetime) -> dict[str, dict[str, Any]]:
    result = run_cli("status", "--format", "json", "--as-of", at.isoformat(), config=str(conf))
    rows = {row["search"]: row for row in map(json.loads, result.output.splitlines())}
    failing = any(row["health"] in ("UNHEALTHY", "STALE") for row in rows.values())
    assert result.exit_code == (1 if failing else 0), result.output
    return rows


def _runs(engine: Any, search: str) -> list[ScrapeRun]:
    with session_factory(engine)() as s:
        return list(s.scalars(select(ScrapeRun).where(ScrapeRun.search == search)
                              .order_by(ScrapeRun.id)))


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_is_recorded_and_harms_no_listing(
        name: str, market: LocalMarket, engine: Any, db_url: str, tmp_path: Path,
        run_cli: Any) -> None:
    fault = FAULTS[name]
    path = PATHS[fault.search]
    fetch = {"max_retries": 0, "timeout": 5, **fault.fetch}
    base_cfg, _ = market_config(market.url, db_url, tmp_path, fetch=fetch)
    serve_pages(market, OWN_PAGES)
    first = run_scan(base_cfg, engine, now=T0)
    assert {s.outcome for s in first.searches} == {"ok"}
    before = _snapshot(engine)
    assert len(before) == OWN_PAGES.total

    cfg, data = market_config(market.url, db_url, tmp_path, fetch=fetch)
    if fault.search == "fb-3090":
        cfg, data = market_config(market.url, db_url, tmp_path, fetch=fetch,
                                  search=[*data["search"], FACEBOOK_SEARCH])
    conf = write_toml(data, tmp_path / "gpuscout.toml")
    served = fault.serve(market, path, OWN_PAGES.read).body
    market.requests.clear()

    t1 = T0 + timedelta(hours=1)
    summary = run_scan(cfg, engine, now=t1)
    by_name = {s.search: s for s in summary.searches}
    assert by_name[fault.search].outcome == fault.outcome, by_name[fault.search]
    if fault.outcome == "ok":
        assert by_name[fault.search].listings == sum(k[0] == SOURCE[fault.search] for k in before)
    assert {n: s.outcome for n, s in by_name.items() if n != fault.search} == {
        n: "ok" for n in by_name if n != fault.search}
    assert not summary.all_failed
    assert sum(r.path == path for r in market.requests) == fault.requests
    _check_run(engine, fault, by_name[fault.search].run_id, tmp_path, served, t1)
    health = _health(run_cli, conf, t1)
    assert health[fault.search]["last_outcome"] == fault.outcome
    # one bad run is not a streak (an hour after its last success it may be stale); but a search
    # whose only run failed (the Facebook one is new here) is unhealthy at once
    never_worked = fault.search == "fb-3090" and fault.outcome != "ok"
    assert health[fault.search]["health"] in (("UNHEALTHY",) if never_worked else ("ok", "STALE"))
    assert all(h["last_outcome"] == "ok" for n, h in health.items() if n != fault.search)
    _check_listings(before, _snapshot(engine), fault, t1)

    # the same fault twice more: a streak of three, judged by the rules in gpuscout.jobs.health
    for hours in (2, 3):
        when = T0 + timedelta(hours=hours)
        again = run_scan(cfg, engine, only=fault.search, now=when)
        assert again.searches[0].outcome == fault.outcome
        _check_run(engine, fault, again.searches[0].run_id, tmp_path, served, when)
    row = _health(run_cli, conf, T0 + timedelta(hours=3))[fault.search]
    assert row["last_outcome"] == fault.outcome
    if fault.advice is None:
        assert (row["health"], row["advice"]) == ("ok", None)
    else:
        assert row["health"] == "UNHEALTHY" and fault.advice in row["advice"], row
    after = _snapshot(engine)
    assert {k: v[:6] for k, v in after.items()} == {k: v[:6] for k, v in before.items()}
    assert all(v[4] != "gone" for v in after.values())


def _check_run(engine: Any, fault: Fault, run_id: int | None, tmp_path: Path, served: bytes,
               when: datetime) -> None:
    run = next(r for r in _runs(engine, fault.search) if r.id == run_id)
    assert run.outcome == fault.outcome and run.finished_at is not None
    assert run.gone == 0 and run.new == 0 and run.changed == 0
    if fault.error is None:
        assert run.error is None
    else:
        assert run.error is not None and fault.error in run.error, run.error
    if not fault.saved:
        assert run.saved_path is None
        return
    # the page as served, under <data_dir>/<source>/<scan time>-<outcome>-<sha1[:8]>.html
    assert run.saved_path is not None
    saved = Path(run.saved_path)
    assert saved.parent == tmp_path / "data" / SOURCE[fault.search]
    digest = hashlib.sha1(served, usedforsecurity=False).hexdigest()[:8]
    assert saved.name == f"{when:%Y%m%dT%H%M%SZ}-{fault.outcome}-{digest}.html"
    assert saved.read_bytes() == served


def _check_listings(before: dict[tuple[str, str], tuple[Any, ...]],
                    after: dict[tuple[str, str], tuple[Any, ...]], fault: Fault,
                    t1: datetime) -> None:
    """Nothing lost, repriced, renamed or marked gone; only what was fetched was seen again."""
    assert after.keys() == before.keys()
    failing = SOURCE[fault.search]
    for key, old in before.items():
        new = after[key]
        assert new[:6] == old[:6], key
        assert new[4] != "gone"
        if key[0] == failing and fault.outcome != "ok":
            assert new[6] == old[6] == T0, key  # last_seen untouched by a failed run
        else:
            assert new[6] == t1, key


class _Answer:
    """A fetcher that answers every URL with one fixed 200 page (no network)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def get(self, url: str, headers: Any = None, *, api: bool = False) -> FetchedPage:
        return FetchedPage(url, 200, {"content-type": HTML}, self.body, 0.0)


def test_empty_200_is_an_error_on_every_source_and_real_host(tmp_path: Path) -> None:
    """The empty-200 outcome does not depend on the source or on the host the page came from."""
    urls = {"ebay": "https://www.ebay.com/sch/i.html?_nkw=rtx+3090",
            "reddit": "https://www.reddit.com/r/hardwareswap/search.json?q=3090",
            "craigslist": "https://sfbay.craigslist.org/search/sss?query=rtx+3090",
            "facebook": "https://www.facebook.com/marketplace/nyc/search/?query=rtx+3090"}
    assert set(urls) == set(NAMES)
    for body in (b"", b"  \r\n\t "):
        for name, url in urls.items():
            fetcher: Any = _Answer(body)
            page = asyncio.run(fetch_page(fetcher, get_source(name), url, save_dir=tmp_path))
            assert (page.outcome, page.saved_path) == ("error", None), (name, body, page)
            assert page.error is not None and "empty" in page.error
    assert not list(tmp_path.iterdir())


def test_a_scan_past_its_deadline_stops_and_keeps_what_it_read(
        market: LocalMarket, engine: Any, db_url: str, tmp_path: Path) -> None:
    """eBay's second page trickles a byte a second, within every read timeout and within the
    request deadline: the scan's own deadline (2 s) stops it. Page 1's listings are stored, the
    run is closed as an error, the other searches are whole, and nothing is marked gone."""
    fetch = {"max_retries": 0, "timeout": 5, "request_deadline": 60, "scan_deadline": 2}
    cfg, _ = market_config(market.url, db_url, tmp_path, fetch=fetch)
    serve_pages(market, OWN_PAGES)
    assert {s.outcome for s in run_scan(cfg, engine, now=T0).searches} == {"ok"}
    before = _snapshot(engine)
    market.add("/sch/i.html", b"", fault="trickle_body", query={"_pgn": "2"})
    page_one = get_source("ebay").parse(OWN_PAGES.read(OWN_PAGES.ebay[0]), f"{market.url}/sch/i.html")

    started = time.monotonic()
    summary = run_scan(cfg, engine, now=T0 + timedelta(hours=1))
    took = time.monotonic() - started

    by_name = {s.search: s for s in summary.searches}
    ebay = by_name["ebay-3090-fe"]
    assert (ebay.outcome, ebay.pages, ebay.listings) == ("error", 2, len(page_one.listings))
    assert ebay.error is not None and "the scan's deadline passed" in ebay.error
    assert {by_name[n].outcome for n in ("hws-3090", "craigslist-3090")} == {"ok"}
    assert 2 <= took < 6, took
    run = next(r for r in _runs(engine, "ebay-3090-fe") if r.id == ebay.run_id)
    assert (run.outcome, run.listings, run.gone) == ("error", len(page_one.listings), 0)
    assert run.finished_at is not None
    after = _snapshot(engine)
    assert after.keys() == before.keys() and all(v[4] != "gone" for v in after.values())
    seen_again = {k for k, v in after.items() if k[0] == "ebay" and v[6] != before[k][6]}
    assert seen_again == {("ebay", li.external_id) for li in page_one.listings}
