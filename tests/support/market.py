"""Serving marketplace pages at the paths each source requests (the project's own pages, or the
real captures), what a scan of them must store, and a config pointed at them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpuscout.jobs.config import Config, parse_config
from gpuscout.jobs.testing.localmarket import LocalMarket
from tests.support.pages import read_page

EBAY_PAGE1 = "ebay-html/search-scard-sold-us-2025-11.html"
EBAY_PAGE2 = "ebay-html/search-scard-uk-2025-08.html"
REDDIT = "reddit/hardwareswap-new-2023-02.json"
CRAIGSLIST = "craigslist/search-static-2026-05.html"
LOGIN_WALL = "facebook/item-login-wall-2025-04.html"
EMPTY_REDDIT = json.dumps({"kind": "Listing", "data": {"after": None, "children": []}})


@dataclass(frozen=True)
class PageSet:
    """The pages served as each source's search results, and what a scan of them must store.

    ``fe_post`` is the r/hardwareswap RTX 3090 Founders Edition post every set holds: the one deal
    the default watch must find; its body states ``fe_price_text`` for the card.
    """

    name: str
    read: Callable[[str], bytes] = field(repr=False)
    ebay: tuple[str, str]
    reddit: str
    reddit_after: str
    craigslist: str
    login_wall: str
    counts: Mapping[str, int]
    fe_post: str
    fe_price: Decimal
    fe_price_text: str

    @property
    def total(self) -> int:
        return sum(self.counts.values())


#: the project's own pages (tests/scraper/sources/pages): a fresh clone scans these
OWN_PAGES = PageSet(
    name="own", read=read_page,
    ebay=("ebay/search-scard-us.html", "ebay/search-scard-sold-uk.html"),
    reddit="reddit/hardwareswap-new.json", reddit_after="t3_ex0007",
    craigslist="craigslist/search-static.html", login_wall="facebook/item-login-wall.html",
    counts={"ebay": 8, "reddit": 6, "craigslist": 5},
    fe_post="ex0001", fe_price=Decimal("725.00"), fe_price_text="$725",
)


def capture_pages(read: Callable[[str], bytes]) -> PageSet:
    """The real captures (../shared/fixtures), read with ``read``."""
    return PageSet(
        name="captures", read=read, ebay=(EBAY_PAGE1, EBAY_PAGE2), reddit=REDDIT,
        reddit_after="t3_11a0v9f", craigslist=CRAIGSLIST, login_wall=LOGIN_WALL,
        counts={"ebay": 120, "reddit": 25, "craigslist": 37},
        fe_post="11a7rf2", fe_price=Decimal("730.00"), fe_price_text="$730",
    )


def serve_pages(market: LocalMarket, pages: PageSet, *, reddit: bytes | None = None) -> None:
    """eBay: two search pages (the second via _pgn=2); Reddit: its page (or ``reddit``) then an
    empty page for its ``after`` token; Craigslist: the static search page."""
    market.clear()
    html = "text/html; charset=utf-8"
    market.add("/sch/i.html", pages.read(pages.ebay[0]), content_type=html)
    market.add("/sch/i.html", pages.read(pages.ebay[1]), content_type=html, query={"_pgn": "2"})
    market.add("/r/hardwareswap/search.json",
               reddit if reddit is not None else pages.read(pages.reddit),
               content_type="application/json")
    market.add("/r/hardwareswap/search.json", EMPTY_REDDIT, content_type="application/json",
               query={"after": pages.reddit_after})
    market.add("/search/sss", pages.read(pages.craigslist), content_type=html)


def market_config(base_url: str, db_url: str, tmp: Path, **extra: Any) -> tuple[Config, dict[str, Any]]:
    """The default watch and searches, every source pointed at ``base_url``, no politeness delay,
    no retries (so a failure is immediate); Reddit on its public JSON search pages."""
    data: dict[str, Any] = {
        "database": {"url": db_url},
        "watch": [{"name": "3090-fe", "model": "rtx 3090", "variant": "fe", "price_low": 650,
                   "price_high": 800, "currency": "USD"}],
        "search": [
            {"name": "ebay-3090-fe", "source": "ebay", "query": "rtx 3090 founders edition"},
            {"name": "hws-3090", "source": "reddit", "query": "3090"},
            {"name": "craigslist-3090", "source": "craigslist", "query": "rtx 3090"},
        ],
        "sources": {name: {"base_url": base_url, "min_interval": 0, "jitter": 0, "max_pages": 2}
                    for name in ("ebay", "reddit", "craigslist", "facebook")},
        "fetch": {"max_retries": 0, "timeout": 5},
        # NOTE: every page of every search on each scan, as these tests count them; incremental
        # polling has its own tests (tests/jobs/test_reach_scan.py)
        "scan": {"gone_after": 3, "data_dir": str(tmp / "data"), "incremental": False},
        # NOTE: no rates source: a test that wants one gives its own scoring table
        "scoring": {"rates_url": ""},
    }
    # NOTE: Reddit through its public JSON search pages on the local marketplace (the API route,
    # the default, needs a token endpoint: tests.support.market.serve_api does that)
    data["sources"]["reddit"]["options"] = {"route": "json", "listing": "search"}
    data.update(extra)
    return parse_config(data), data


def write_toml(data: dict[str, Any], path: Path) -> Path:
    """A TOML file for the CLI from the same data (only the shapes used here)."""
    lines: list[str] = []

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        return repr(v)

    for key, value in data.items():
        if isinstance(value, list):
            for item in value:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {val(v)}" for k, v in item.items()]
        elif key == "sources":
            for name, table in value.items():
                lines.append(f"[sources.{name}]")
                lines += [f"{k} = {val(v)}" for k, v in table.items()]
        else:
            lines.append(f"[{key}]")
            lines += [f"{k} = {val(v)}" for k, v in value.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
