"""Marketplace sources: an instance by name, or the source whose pages look like a body.

The list of marketplaces is ``registry.SOURCES``; each source's class is imported on first use so
that `gpuscout --help` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from gpuscout.scraper.errors import UnsupportedPage
from gpuscout.scraper.sources.registry import NAMES, info

if TYPE_CHECKING:
    from gpuscout.scraper.sources.base import Source


def source_class(name: str) -> type[Source]:
    """The class of the source called ``name``; KeyError names the known ones."""
    module_name, _, cls_name = info(name).target.partition(":")
    cls: type[Source] = getattr(import_module(module_name), cls_name)
    return cls


def get_source(name: str) -> Source:
    """An instance of the source called ``name``; KeyError names the known ones."""
    return source_class(name)()


def detect_source(body: bytes, url: str | None = None, *,
                  names: tuple[str, ...] = NAMES) -> Source:
    """The source (of ``names``) whose pages look like ``body``; UnsupportedPage names what it
    looks like instead."""
    for name in names:
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
