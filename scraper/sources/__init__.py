"""Registry of marketplace sources: name -> Source class. A new marketplace is one module + one line."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from gpuscout.scraper.errors import UnsupportedPage

if TYPE_CHECKING:
    from gpuscout.scraper.sources.base import Source

#: source name -> "module:Class"; modules import lazily so `gpuscout --help` stays fast
REGISTRY: dict[str, str] = {
    "ebay": "gpuscout.scraper.sources.ebay.source:EbaySource",
    "reddit": "gpuscout.scraper.sources.reddit.source:RedditSource",
    "craigslist": "gpuscout.scraper.sources.craigslist.source:CraigslistSource",
    "facebook": "gpuscout.scraper.sources.facebook:FacebookSource",
}


def get_source(name: str) -> Source:
    """An instance of the source called ``name``; KeyError names the known ones."""
    try:
        target = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    module_name, _, cls_name = target.partition(":")
    cls = getattr(import_module(module_name), cls_name)
    instance: Source = cls()
    return instance


def detect_source(body: bytes, url: str | None = None) -> Source:
    """The source whose pages look like ``body``; UnsupportedPage names what it looks like instead."""
    for name in REGISTRY:
        source = get_source(name)
        if source.sniff(body, url):
            return source
    from gpuscout.scraper.sources.unsupported import identify_unsupported

    other = identify_unsupported(body, url)
    if other:
        raise UnsupportedPage(f"this looks like a {other} page, which gpuscout does not support",
                              reason=other)
    raise UnsupportedPage("unrecognised page: no supported marketplace's markup was found",
                          reason="unknown")
