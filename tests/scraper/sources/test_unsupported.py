"""Recognising unsupported marketplaces, and detect_source naming them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuscout.scraper.errors import UnsupportedPage
from gpuscout.scraper.sources import detect_source
from gpuscout.scraper.sources.craigslist.source import CraigslistSource
from gpuscout.scraper.sources.facebook import FacebookSource
from gpuscout.scraper.sources.unsupported import identify_unsupported

Reader = Callable[[str], bytes]

KIJIJI = "kijiji/search-next-data-2026-08.json"
KLEINANZEIGEN = "kleinanzeigen/search-2026-04.html"
SUPPORTED_CAPTURES = [
    "craigslist/search-static-2026-05.html", "craigslist/posting-2026-05.html",
    "craigslist/sapi-search-2026-04.json", "facebook/item-login-wall-2025-04.html",
    "facebook/bulk-route-definitions-2025-04.json", "reddit/hardwareswap-new-2023-02.json",
    "ebay-html/search-scard-uk-2025-08.html", "ebay-html/search-sitem-de-2022-11.html",
    "ebay-html/search-scard-sold-us-2025-11.html", "ebay-html/item-rtx-5090-fe-2025-06.html",
    "ebay-api/search-rtx-4090-2023-12.json", "ebay-api/getitem-296057072805-2023-11.json",
]


@pytest.mark.parametrize(("capture", "name"), [(KIJIJI, "Kijiji"),
                                               (KLEINANZEIGEN, "Kleinanzeigen")])
def test_captures_are_named(read_fixture: Reader, capture: str, name: str) -> None:
    assert identify_unsupported(read_fixture(capture), None) == name


@pytest.mark.parametrize(("url", "name"), [
    ("https://www.kijiji.ca/b-apartments-condos/city-of-toronto/c37l1700273", "Kijiji"),
    ("https://www.kleinanzeigen.de/s-wohnung-mieten/berlin/c203l3331", "Kleinanzeigen"),
    ("https://offerup.com/search?q=rtx+3090", "OfferUp"),
    ("https://www.marktplaats.nl/q/rtx+3090/", "Marktplaats"),
    ("https://www.craigslist.org/search/sss", None),
    ("https://notkijiji.ca.example.org/", None),
    ("not a url [", None),
])
def test_named_by_url(url: str, name: str | None) -> None:
    assert identify_unsupported(b"", url) == name


def test_named_by_canonical_link() -> None:
    body = b'<html><head><link rel="canonical" href="https://www.mercari.com/us/item/m1/"></head>'
    assert identify_unsupported(body, None) == "Mercari"


@pytest.mark.parametrize("capture", SUPPORTED_CAPTURES)
def test_supported_captures_are_not_named(read_fixture: Reader, capture: str) -> None:
    assert identify_unsupported(read_fixture(capture), None) is None


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=2000), url=st.none() | st.text(max_size=60))
def test_never_raises(body: bytes, url: str | None) -> None:
    assert identify_unsupported(body, url) in (None, "Kijiji", "Kleinanzeigen", "OfferUp",
                                               "Mercari", "Gumtree", "Marktplaats", "leboncoin",
                                               "Vinted", "Wallapop", "Swappa")


OWN = ("craigslist", "facebook")


@pytest.mark.parametrize(("capture", "name"), [(KIJIJI, "Kijiji"),
                                               (KLEINANZEIGEN, "Kleinanzeigen")])
def test_detect_source_names_unsupported_marketplace(read_fixture: Reader, capture: str,
                                                     name: str) -> None:
    with pytest.raises(UnsupportedPage, match=name) as caught:
        detect_source(read_fixture(capture), names=OWN)
    assert caught.value.reason == name


def test_detect_source_unknown_page() -> None:
    with pytest.raises(UnsupportedPage) as caught:
        detect_source(b"<html><body>hello</body></html>", names=OWN)
    assert caught.value.reason == "unknown"


@pytest.mark.parametrize(("capture", "cls"), [
    ("craigslist/search-static-2026-05.html", CraigslistSource),
    ("craigslist/posting-2026-05.html", CraigslistSource),
    ("craigslist/sapi-search-2026-04.json", CraigslistSource),
    ("facebook/item-login-wall-2025-04.html", FacebookSource),
    ("facebook/bulk-route-definitions-2025-04.json", FacebookSource),
])
def test_detect_source_finds_own_sources(read_fixture: Reader, capture: str, cls: type) -> None:
    assert isinstance(detect_source(read_fixture(capture), names=OWN), cls)


@pytest.mark.parametrize(("capture", "name"), [(KIJIJI, "Kijiji"),
                                               (KLEINANZEIGEN, "Kleinanzeigen")])
def test_detect_source_full_registry(read_fixture: Reader, capture: str, name: str) -> None:
    with pytest.raises(UnsupportedPage, match=name):
        detect_source(read_fixture(capture))
