"""End to end: eBay searches crawled over N pages of a LocalMarket in all (no politeness delay),
stored, identified and scored into SQLite; pages/s, CPU per page and peak RSS of the scanning
process, beside the parse time of the same pages.

The pages are the real eBay search captures served at ``/sch/i.html`` for each search's ``_nkw``
with ``_pgn=N``: each copy's item numbers are shifted (so every page holds new listings, as a
real result list does) and its "next" link points at ``_pgn=N+1``. A search may crawl at most
50 pages (the configuration's limit), so N pages are split over several searches. The scan runs
in a child process so that its CPU time and memory are not mixed with the server's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fixtures_root, peak_rss_mb

PAGES = ("ebay-html/search-scard-sold-us-2025-11.html", "ebay-html/search-scard-uk-2025-08.html",
         "ebay-html/search-sitem-de-2022-11.html")
QUERY = "rtx 3090 founders edition"
#: pages per search (the most a search may be configured to crawl)
PER_SEARCH = 50
_NEXT = re.compile(rb"<a\b[^>]*pagination__next[^>]*>")
_DIGITS = re.compile(rb"\d{9,19}")


class PageMaker:
    """Copies of one capture with shifted item numbers and a next link to the following page."""

    def __init__(self, body: bytes, item_ids: set[str]) -> None:
        ids = {i.encode() for i in item_ids}
        self.parts: list[bytes] = []
        self.ids: list[bytes] = []
        last = 0
        for m in _DIGITS.finditer(body):
            if m.group(0) in ids:
                self.parts.append(body[last:m.start()])
                self.ids.append(m.group(0))
                last = m.end()
        self.parts.append(body[last:])

    def page(self, n: int, next_href: str) -> bytes:
        out = [self.parts[0]]
        for item_id, part in zip(self.ids, self.parts[1:], strict=True):
            out.append(str((n + 1) * 10 ** len(item_id) + int(item_id)).encode())
            out.append(part)
        body = b"".join(out)
        link = f'<a class="pagination__next icon-link" href="{next_href}">'.encode()
        body, found = _NEXT.subn(lambda _m: link, body, count=1)
        if not found:  # NOTE: a last page has no next link; give it one
            body = body.replace(b"</body>", link + b"Next</a></body>", 1)
        return body


def query_of(search: int) -> str:
    return f"{QUERY} {search + 1}"


def page_href(search: int, page: int) -> str:
    """The link to result page ``page`` (1-based) of search number ``search``, as eBay writes it."""
    return f"/sch/i.html?_nkw={query_of(search).replace(' ', '+')}&_sacat=0&_pgn={page}"


def make_pages(n: int, root: Path) -> list[tuple[dict[str, str], bytes]]:
    """``n`` result pages with the query parameters that select each: every search's page k
    links page k+1, its last page links itself (where a crawl stops)."""
    from gpuscout.scraper.sources import get_source

    source = get_source("ebay")
    makers = []
    for rel in PAGES:
        body = (root / rel).read_bytes()
        ids = {x.external_id for x in source.parse(body, "https://www.ebay.com/sch/i.html").listings}
        makers.append(PageMaker(body, ids))
    pages = []
    for i in range(n):
        search, k = divmod(i, PER_SEARCH)
        last = min(n - search * PER_SEARCH, PER_SEARCH)
        query = query_of(search)
        href = page_href(search, k + 2 if k + 1 < last else k + 1)
        params = {"_nkw": query} if k == 0 else {"_nkw": query, "_pgn": str(k + 1)}
        pages.append((params, makers[i % len(makers)].page(i, href)))
    return pages


def config(market_url: str, db_url: str, data_dir: str, pages: int) -> Any:
    from gpuscout.jobs.config import parse_config

    return parse_config({
        "database": {"url": db_url},
        "watch": [{"name": "3090-fe", "model": "rtx 3090", "variant": "fe", "price_low": 650,
                   "price_high": 800, "currency": "USD"}],
        "search": [{"name": f"ebay-3090-fe-{i + 1}", "source": "ebay", "query": query_of(i),
                    "max_pages": PER_SEARCH} for i in range(-(-pages // PER_SEARCH))],
        "sources": {"ebay": {"base_url": market_url, "min_interval": 0, "jitter": 0,
                             "max_pages": PER_SEARCH, "obey_robots": False}},
        "fetch": {"max_retries": 0, "timeout": 30},
        "scan": {"data_dir": data_dir},
        # NOTE: no currency rates source: the benchmark stays on this machine
        "scoring": {"rates_url": ""},
    })


def scan(market_url: str, db_url: str, data_dir: str, pages: int) -> dict[str, Any]:
    """In the child: one scan; wall time, CPU time and peak RSS of this process."""
    from gpuscout.jobs.scan import run_scan
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    cfg = config(market_url, db_url, data_dir, pages)
    startup0 = time.process_time()
    _start_up()
    startup = time.process_time() - startup0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    summary = run_scan(cfg, engine, send_alerts=False)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    engine.dispose()
    peak = peak_rss_mb()  # NOTE: the scan's, before the pages are fetched and parsed again
    found = summary.searches
    return {"pages": sum(s.pages for s in found), "listings": sum(s.listings for s in found),
            "new": sum(s.new for s in found), "outcomes": sorted({s.outcome for s in found}),
            "searches": len(found), "wall_s": wall, "cpu_s": cpu, "startup_cpu_s": startup,
            "peak_rss_mb": peak, "fetch_and_parse_cpu_s": _fetch_and_parse_cpu(market_url, pages)}


def _fetch_and_parse_cpu(market_url: str, pages: int) -> tuple[float, float]:
    """CPU seconds per page of fetching alone and of parsing alone, measured in the scanning
    process after its scan: each of the scan's pages is fetched again through the same kind of
    Fetcher (timed), then parsed once by the eBay parser (timed apart), nothing stored. Measured
    here, not in the parent, because a parse's cost depends on the state of the process's heap."""
    import asyncio

    from gpuscout.scraper.fetch.client import Fetcher, FetchSettings
    from gpuscout.scraper.sources import get_source

    source = get_source("ebay")
    urls = [market_url + page_href(i // PER_SEARCH, i % PER_SEARCH + 1) for i in range(pages)]

    async def measure() -> tuple[float, float]:
        settings = FetchSettings(min_interval=0, jitter=0, obey_robots=False, max_retries=0)
        fetch = parse = 0.0
        async with Fetcher(settings) as fetcher:
            for url in urls:
                cpu0 = time.process_time()
                page = await fetcher.get(url, conditional=False)
                cpu1 = time.process_time()
                listings = source.parse(page.body, page.url).listings
                parse += time.process_time() - cpu1
                fetch += cpu1 - cpu0
                assert page.status == 200 and len(listings) > 20, url
        return fetch / len(urls), parse / len(urls)

    return asyncio.run(measure())


def _start_up() -> None:
    """What a scanning process does once, whatever the number of pages: import the modules a scan
    loads on first use and read the model catalogue. Timed apart from the per-page figure."""
    import httpx  # noqa: F401

    import gpuscout.jobs.market
    import gpuscout.jobs.rates
    import gpuscout.models.judge.condition
    import gpuscout.models.judge.duplicates
    import gpuscout.models.judge.identify  # NOTE: reads the model catalogue as it is imported
    import gpuscout.models.judge.observe
    import gpuscout.models.judge.score
    import gpuscout.models.storage.market
    import gpuscout.scraper.crawl
    import gpuscout.scraper.sources.ebay.source  # noqa: F401


def run(pages: int, root: Path | None = None) -> dict[str, Any]:
    """Serve ``pages`` pages, scan them in a child process, and time fetching and parsing the
    same pages there."""
    from gpuscout.jobs.testing.localmarket import LocalMarket

    bodies = make_pages(pages, root or fixtures_root())
    with tempfile.TemporaryDirectory(prefix="gpuscout-e2e-") as tmp, LocalMarket() as market:
        for params, body in bodies:
            market.add("/sch/i.html", body, content_type="text/html; charset=utf-8",
                       query=params)
        db_url = f"sqlite:///{Path(tmp) / 'e2e.db'}"
        out = subprocess.run([sys.executable, __file__, market.url, db_url, tmp, str(pages)],
                             capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"the scan failed:\n{out.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    fetch_s, parse_s = result.pop("fetch_and_parse_cpu_s")
    result["pages_per_s"] = result["pages"] / result["wall_s"]
    result["cpu_ms_per_page"] = result["cpu_s"] / max(result["pages"], 1) * 1000
    result["parse_ms_per_page"] = parse_s * 1000
    result["fetch_ms_per_page"] = fetch_s * 1000
    result["cpu_per_page_vs_parse"] = result["cpu_ms_per_page"] / result["parse_ms_per_page"]
    return result


if __name__ == "__main__":
    print(json.dumps(scan(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))))
