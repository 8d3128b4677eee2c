"""The one list of marketplaces gpuscout reads: what configuration, the CLI and the scorer know.

Adding a marketplace is a module under ``scraper/sources/`` with its ``Source`` class, one entry
here, and its tests (CONTRIBUTING.md lists the steps; ``tests/scraper/sources/test_registry.py``
fails when a registered source has no parser tests). Nothing else lists marketplaces: the
configuration's source names, default base URLs and credential variables, the ``--source``
choices of the command line and the sources the scorer treats as local pickup come from here.

NOTE: this module imports nothing heavy, so ``gpuscout --help`` and config loading can read it;
the source classes themselves are imported only when a page is fetched or parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One marketplace as the rest of gpuscout sees it."""

    #: the name used in configuration (``source = "ebay"``), storage and the command line
    name: str
    #: the ``Source`` class, as ``"module:Class"``, imported on first use
    target: str
    #: the live site's base URL, used when the configuration names none (``{site}``: a region)
    base_url: str
    #: a results page URL that makes relative links absolute when a saved page is parsed
    sample_url: str
    #: credential name -> environment variable (secrets are never read from the file)
    credentials: Mapping[str, str] = field(default_factory=dict)
    #: a local-pickup marketplace: "shipping only" or "deployed" sellers there are a scam sign
    local: bool = False
    #: seconds between two requests to one of its hosts, when the configuration says nothing
    min_interval: float = 5.0
    #: still experimental (no real capture with listings proves its parser)
    experimental: bool = False
    #: how often a search on it runs when the configuration names no schedule: as often as the
    #: marketplace's sanctioned route allows at a small share of its allowance
    every: str = "30m"


SOURCES: tuple[SourceInfo, ...] = (
    SourceInfo(
        name="ebay", target="gpuscout.scraper.sources.ebay.source:EbaySource",
        base_url="https://www.ebay.com", sample_url="https://www.ebay.com/sch/i.html",
        credentials={"client_id": "GPUSCOUT_EBAY_CLIENT_ID",
                     "client_secret": "GPUSCOUT_EBAY_CLIENT_SECRET"},
        # NOTE: 144 searches a day of the Browse API's 5,000 calls, one token per two hours
        every="10m",
    ),
    SourceInfo(
        name="reddit", target="gpuscout.scraper.sources.reddit.source:RedditSource",
        base_url="https://www.reddit.com",
        sample_url="https://www.reddit.com/r/hardwareswap/new.json",
        credentials={"client_id": "GPUSCOUT_REDDIT_CLIENT_ID",
                     "client_secret": "GPUSCOUT_REDDIT_CLIENT_SECRET",
                     "username": "GPUSCOUT_REDDIT_USERNAME",
                     "password": "GPUSCOUT_REDDIT_PASSWORD"},
        min_interval=3.0,
        # NOTE: one request a minute with a token: about 1 % of the Data API's free 100 a minute
        every="60s",
    ),
    SourceInfo(
        name="craigslist", target="gpuscout.scraper.sources.craigslist.source:CraigslistSource",
        base_url="https://{site}.craigslist.org",
        sample_url="https://sfbay.craigslist.org/search/sss", local=True, every="15m",
    ),
    SourceInfo(
        name="facebook", target="gpuscout.scraper.sources.facebook:FacebookSource",
        base_url="https://www.facebook.com", sample_url="https://www.facebook.com/marketplace/",
        local=True, experimental=True,
    ),
)

BY_NAME: Mapping[str, SourceInfo] = {s.name: s for s in SOURCES}
NAMES: tuple[str, ...] = tuple(BY_NAME)
#: local-pickup marketplaces, for the scorer's "shipping only" check; includes ones gpuscout
#: does not scrape but whose listings may be evaluated (``gpuscout evaluate --source``)
LOCAL_SOURCES: tuple[str, ...] = (*(s.name for s in SOURCES if s.local),
                                  "kijiji", "kleinanzeigen", "offerup", "marktplaats", "gumtree", "ss")


def info(name: str) -> SourceInfo:
    """The registered source called ``name``; KeyError names the known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(NAMES)}") from None
