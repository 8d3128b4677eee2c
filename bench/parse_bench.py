"""Parse: listings/s of each source's parser on the real captures, beside the BeautifulSoup + lxml
baseline and the bare parse of each page (``LexborHTMLParser(body)``, or ``json.loads`` for JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from bench.common import best_of, fixtures_root


@dataclass(frozen=True)
class Capture:
    source: str
    path: str
    url: str
    #: the BeautifulSoup baseline for HTML pages (bench/bs4_baseline.BASELINES), None for JSON
    baseline: str | None


_BROWSE = "https://api.ebay.com/buy/browse/v1/item_summary/search?q=rtx+3090"
CAPTURES = (
    Capture("ebay", "ebay-html/search-scard-sold-us-2025-11.html",
            "https://www.ebay.com/sch/i.html?_nkw=rtx+3090&_sacat=0&LH_Sold=1&LH_Complete=1",
            "ebay-search"),
    Capture("ebay", "ebay-html/search-scard-uk-2025-08.html",
            "https://www.ebay.co.uk/sch/i.html?_nkw=rtx+3090&_sacat=0", "ebay-search"),
    Capture("ebay", "ebay-html/search-sitem-de-2022-11.html",
            "https://www.ebay.de/sch/i.html?_nkw=rtx+3090&_sacat=0", "ebay-search"),
    Capture("ebay", "ebay-html/item-rtx-5090-fe-2025-06.html",
            "https://www.ebay.com/itm/226771798286", "ebay-item"),
    Capture("ebay-api", "ebay-api/search-rtx-4090-2023-12.json", _BROWSE, None),
    Capture("ebay-api", "ebay-api/search-rtx-5090-2025-10.json", _BROWSE, None),
    Capture("reddit", "reddit/hardwareswap-new-2023-02.json",
            "https://www.reddit.com/r/hardwareswap/new.json?limit=100&raw_json=1", None),
    Capture("craigslist", "craigslist/search-static-2026-05.html",
            "https://sfbay.craigslist.org/search/sss?query=rtx+3090", "craigslist-search"),
    Capture("craigslist", "craigslist/posting-2026-05.html",
            "https://sfbay.craigslist.org/sby/sop/d/x/7912345678.html", "craigslist-posting"),
    Capture("craigslist-sapi", "craigslist/sapi-search-2026-04.json",
            "https://sapi.craigslist.org/web/v8/postings/search/full?batch=1-0-360-0-0", None),
    Capture("facebook", "facebook/bulk-route-definitions-2025-04.json",
            "https://www.facebook.com/ajax/bulk-route-definitions/", None),
)


def _parser(capture: Capture) -> Callable[[bytes, str], Any]:
    from gpuscout.scraper.sources import get_source

    return get_source(capture.source.split("-")[0]).parse


def _floor(body: bytes) -> Callable[[], Any]:
    if body.lstrip()[:1] in (b"{", b"["):
        return lambda: json.loads(body)
    return lambda: LexborHTMLParser(body)


def measure(capture: Capture, body: bytes, *, repeat: int, min_time: float) -> dict[str, Any]:
    """Seconds per page of the parser, the floor and the baseline, and the listings read."""
    parse = _parser(capture)
    listings = parse(body, capture.url).listings
    row: dict[str, Any] = {
        "capture": capture.path, "source": capture.source, "listings": len(listings),
        "parse_s": best_of(lambda: parse(body, capture.url), repeat=repeat, min_time=min_time),
        "floor_s": best_of(_floor(body), repeat=repeat, min_time=min_time),
    }
    if capture.baseline is not None:
        from bench.bs4_baseline import BASELINES

        baseline = BASELINES[capture.baseline]
        theirs = baseline(body, capture.url)
        # the baseline must read the same listings, or the comparison means nothing
        mine = sorted((x.external_id, x.title, x.price) for x in listings)
        if sorted((x.external_id, x.title, x.price) for x in theirs) != mine:
            raise AssertionError(f"the baseline reads {capture.path} differently")
        row["bs4_s"] = best_of(lambda: baseline(body, capture.url), repeat=max(1, repeat // 4),
                               min_time=min_time / 4)
    return row


def run(*, repeat: int = 20, min_time: float = 0.3, root: Path | None = None) -> dict[str, Any]:
    """Per capture and per source: listings/s, and the ratios to the floor and the baseline."""
    root = root or fixtures_root()
    rows = []
    for capture in CAPTURES:
        path = root / capture.path
        if path.is_file():
            rows.append(measure(capture, path.read_bytes(), repeat=repeat, min_time=min_time))
    sources: dict[str, dict[str, Any]] = {}
    for row in rows:
        agg = sources.setdefault(row["source"], {"listings": 0, "parse_s": 0.0, "floor_s": 0.0})
        agg["listings"] += row["listings"]
        agg["parse_s"] += row["parse_s"]
        agg["floor_s"] += row["floor_s"]
        if "bs4_s" in row:
            agg["bs4_s"] = agg.get("bs4_s", 0.0) + row["bs4_s"]
    for agg in sources.values():
        agg["listings_per_s"] = agg["listings"] / agg["parse_s"]
        agg["ratio_vs_floor"] = agg["parse_s"] / agg["floor_s"]
        if "bs4_s" in agg:
            agg["ratio_vs_bs4"] = agg["bs4_s"] / agg["parse_s"]
    html = [a["ratio_vs_bs4"] for a in sources.values() if "ratio_vs_bs4" in a]
    return {
        "captures": rows, "sources": sources,
        # the worst source decides: the slowest against BeautifulSoup, the farthest from its floor
        "ratio_vs_bs4": min(html) if html else None,
        "ratio_vs_floor": max(a["ratio_vs_floor"] for a in sources.values()) if sources else None,
    }
