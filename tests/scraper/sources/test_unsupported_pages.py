"""Every own page is read by its own source only, and pages of marketplaces gpuscout does not read
are named. Runs without the real captures."""

from __future__ import annotations

import pytest

from gpuscout.scraper.errors import UnsupportedPage
from gpuscout.scraper.sources import detect_source, get_source
from gpuscout.scraper.sources.registry import NAMES
from gpuscout.scraper.sources.unsupported import identify_unsupported
from tests.support.pages import all_pages, read_page

UNSUPPORTED = {"kijiji/search-next-data.json": "Kijiji", "kleinanzeigen/search.html": "Kleinanzeigen"}
#: folder of own pages -> the source that reads them ("ebay-api" holds pages of "ebay")
OWNER = {folder: folder.split("-")[0] for folder in {name.split("/")[0] for name in all_pages()}
         if folder.split("-")[0] in NAMES}


def test_own_pages_are_of_registered_sources_or_named_others() -> None:
    folders = {name.split("/")[0] for name in all_pages()}
    assert folders == set(OWNER) | {name.split("/")[0] for name in UNSUPPORTED}


@pytest.mark.parametrize("name", [p for p in all_pages() if p not in UNSUPPORTED])
def test_only_the_owner_sniffs_an_own_page(name: str) -> None:
    body = read_page(name)
    sniffed = {source for source in NAMES if get_source(source).sniff(body)}
    assert sniffed == {OWNER[name.split("/")[0]]}
    assert identify_unsupported(body, None) is None


@pytest.mark.parametrize(("name", "marketplace"), sorted(UNSUPPORTED.items()))
def test_unsupported_marketplaces_are_named(name: str, marketplace: str) -> None:
    body = read_page(name)
    assert identify_unsupported(body, None) == marketplace
    assert not any(get_source(source).sniff(body) for source in NAMES)
    with pytest.raises(UnsupportedPage, match=marketplace) as caught:
        detect_source(body)
    assert caught.value.reason == marketplace
    for source in ("reddit", "craigslist", "facebook"):  # eBay's parser does not name them
        with pytest.raises(UnsupportedPage) as refused:
            get_source(source).parse(body, "https://example.org/search")
        assert refused.value.reason == marketplace, source
