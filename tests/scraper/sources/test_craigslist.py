"""Craigslist source: search URLs, static search pages, posting pages, sapi JSON, failure pages."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuscout.scraper.errors import Blocked, MarkupDrift, ScrapeError, UnsupportedPage
from gpuscout.scraper.sources.base import SearchSpec
from gpuscout.scraper.sources.craigslist.source import CraigslistSource

Reader = Callable[[str], bytes]

SEARCH = "craigslist/search-static-2026-05.html"
POSTING = "craigslist/posting-2026-05.html"
SAPI = "craigslist/sapi-search-2026-04.json"
SEARCH_URL = "https://milwaukee.craigslist.org/search/apa?query=wauwatosa"
POSTING_URL = ("https://milwaukee.craigslist.org/apa/d/milwaukee-wauwatosa-bdrm-bath-near-mcw/"
               "7936415355.html")
SAPI_URL = "https://sapi.craigslist.org/web/v8/postings/search/full?batch=100-0-360-0-0"
OTHER_CAPTURES = [
    "facebook/item-login-wall-2025-04.html", "facebook/bulk-route-definitions-2025-04.json",
    "kijiji/search-next-data-2026-08.json", "kleinanzeigen/search-2026-04.html",
    "reddit/hardwareswap-new-2023-02.json", "ebay-html/search-scard-uk-2025-08.html",
    "ebay-html/search-sitem-de-2022-11.html", "ebay-html/item-rtx-5090-fe-2025-06.html",
    "ebay-api/search-envelope-rtx-a5000-2023-11.json",
]


@pytest.fixture
def source() -> CraigslistSource:
    return CraigslistSource()


def _spec(**options: str) -> SearchSpec:
    return SearchSpec(query="rtx 3090", base_url="https://{site}.craigslist.org",
                      min_price=650, max_price=800, options=options)


# --- search URLs

def test_search_url_html_substitutes_site_and_category(source: CraigslistSource) -> None:
    url = source.search_url(_spec(site="milwaukee", category="syp"))
    assert url == ("https://milwaukee.craigslist.org/search/syp"
                   "?query=rtx+3090&min_price=650&max_price=800&sort=date")


def test_search_url_defaults_to_sfbay_all_for_sale(source: CraigslistSource) -> None:
    spec = SearchSpec(query="rtx 3090 founders", base_url="https://{site}.craigslist.org")
    assert source.search_url(spec) == \
        "https://sfbay.craigslist.org/search/sss?query=rtx+3090+founders&sort=date"


def test_search_url_uses_a_plain_base_url_as_is(source: CraigslistSource) -> None:
    spec = SearchSpec(query="3090", base_url="http://127.0.0.1:8765/", max_price=800,
                      options={"site": "chicago"})
    assert source.search_url(spec) == \
        "http://127.0.0.1:8765/search/sss?query=3090&max_price=800&sort=date"


def test_search_url_sapi(source: CraigslistSource) -> None:
    assert source.search_url(_spec(api="sapi")) == (
        "https://sapi.craigslist.org/web/v8/postings/search/full?batch=1-0-360-0-0&cc=US&lang=en"
        "&searchPath=sss&query=rtx+3090&min_price=650&max_price=800")


def test_search_url_sapi_on_configured_base_and_area(source: CraigslistSource) -> None:
    url = source.search_url(_spec(api="sapi", site="nowhere", area_id="999", category="syp",
                                  sapi_base_url="http://127.0.0.1:9000"))
    assert url.startswith("http://127.0.0.1:9000/web/v8/postings/search/full?batch=999-0-360-0-0&")
    assert "searchPath=syp" in url
    with pytest.raises(ValueError, match="area_id"):
        source.search_url(_spec(api="sapi", site="nowhere"))


def test_request_headers(source: CraigslistSource) -> None:
    assert source.request_headers(_spec())["Accept"].startswith("text/html")
    sapi = source.request_headers(_spec(api="sapi", site="milwaukee"))
    assert sapi["Accept"].startswith("application/json")
    assert sapi["Origin"] == "https://milwaukee.craigslist.org"
    assert sapi["Referer"] == "https://milwaukee.craigslist.org/"


# --- static search page

def test_static_search_counts(source: CraigslistSource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(SEARCH), SEARCH_URL)
    assert len(result.listings) == 37
    assert len({listing.external_id for listing in result.listings}) == 37
    assert (result.empty, result.next_url, result.incomplete, result.skipped) == (False, None, 0, 0)
    assert {listing.currency for listing in result.listings} == {"USD"}
    assert all(listing.price is not None for listing in result.listings)


def test_static_search_listings_field_by_field(source: CraigslistSource,
                                               read_fixture: Reader) -> None:
    listings = source.parse(read_fixture(SEARCH), SEARCH_URL).listings
    first = listings[0]
    assert first.source == "craigslist"
    assert first.external_id == "7936415355"
    assert first.url == POSTING_URL
    assert first.title == "Wauwatosa 2 Bdrm, 1 Bath Near MCW"
    assert first.price == Decimal("1325.00")
    assert first.currency == "USD"
    assert first.location == "Wauwatosa"
    assert first.posted_at is None
    assert first.images == ()

    charming = listings[5]
    assert charming.external_id == "7936403338"
    assert charming.title == "Charming 3BR Home in Prime Wauwatosa Location – Move-In Ready"
    assert charming.price == Decimal("900.00")
    assert charming.location == "Wauwatosa, WI"

    # no location div on the card: the aligned JSON-LD entry supplies the place
    cottage = listings[13]
    assert cottage.external_id == "7935023963"
    assert cottage.title == "Small Private Home / cottage type - one block away from Wauwatosa"
    assert cottage.price == Decimal("725.00")
    assert cottage.location == "Milwaukee, WI"

    biker = listings[28]
    assert biker.external_id == "7931079146"
    assert biker.title == "BIKER & RUNNER'S DREAM! STEPS FROM HANK AARON TRAIL & AMF FIELD!"
    assert biker.price == Decimal("800.00")
    assert biker.location == "MILWAUKEE"

    last = listings[-1]
    assert last.external_id == "7928419584"
    assert last.title == "Charming 1 bed/1 bath, cat friendly, Avail. 06/17!"
    assert last.price == Decimal("949.00")


def test_static_search_json_ld_used_only_when_names_line_up(source: CraigslistSource,
                                                            read_fixture: Reader) -> None:
    html = read_fixture(SEARCH).replace(
        b'"name":"Small Private Home / cottage type - one block away from Wauwatosa"',
        b'"name":"Something else entirely"')
    assert source.parse(html, SEARCH_URL).listings[13].location is None


@pytest.mark.parametrize(("href", "external_id", "url"), [
    ("https://www.craigslist.org/view/d/milwaukee-wauwatosa-bdrm-bath/fa3EYSbAAz67kAs9ZHwdbz",
     "fa3EYSbAAz67kAs9ZHwdbz",
     "https://www.craigslist.org/view/d/milwaukee-wauwatosa-bdrm-bath/fa3EYSbAAz67kAs9ZHwdbz"),
    ("https://www.craigslist.org/view/d/milwaukee-wauwatosa-bdrm-bath/7936415355.html",
     "7936415355",
     "https://www.craigslist.org/view/d/milwaukee-wauwatosa-bdrm-bath/7936415355.html"),
    ("/mil/apa/d/milwaukee-wauwatosa-bdrm-bath/7936415355.html", "7936415355",
     "https://milwaukee.craigslist.org/mil/apa/d/milwaukee-wauwatosa-bdrm-bath/7936415355.html"),
    ("https://milwaukee.craigslist.org/apa/7936415355.html", "7936415355",
     "https://milwaukee.craigslist.org/apa/7936415355.html"),
])
def test_static_search_link_forms(source: CraigslistSource, read_fixture: Reader, href: str,
                                  external_id: str, url: str) -> None:
    html = read_fixture(SEARCH).replace(POSTING_URL.encode(), href.encode(), 1)
    first = source.parse(html, SEARCH_URL).listings[0]
    assert (first.external_id, first.url) == (external_id, url)
    assert first.title == "Wauwatosa 2 Bdrm, 1 Bath Near MCW"


def test_static_search_card_without_post_id_is_incomplete(source: CraigslistSource,
                                                          read_fixture: Reader) -> None:
    html = read_fixture(SEARCH).replace(POSTING_URL.encode(), b"https://x.craigslist.org/", 1)
    result = source.parse(html, SEARCH_URL)
    assert (len(result.listings), result.incomplete) == (36, 1)


def test_static_search_next_link(source: CraigslistSource, read_fixture: Reader) -> None:
    html = read_fixture(SEARCH).replace(
        b"</head>", b'<link rel="next" href="/search/apa?query=wauwatosa&amp;s=120"></head>', 1)
    assert source.parse(html, SEARCH_URL).next_url == (
        "https://milwaukee.craigslist.org/search/apa?query=wauwatosa&s=120")


def _without_cards(html: bytes) -> bytes:
    return re.sub(rb'<li class="cl-static-search-result".*?</li>', b"", html, flags=re.DOTALL)


def test_static_search_no_results_text_is_empty(source: CraigslistSource,
                                                read_fixture: Reader) -> None:
    html = _without_cards(read_fixture(SEARCH))
    html = re.sub(rb'<script type="application/ld\+json" id="ld_searchpage_results" >.*?</script>',
                  b"", html, flags=re.DOTALL)
    html = html.replace(b"</ol>", b"</ol><p>Nothing found for that search.</p>", 1)
    result = source.parse(html, SEARCH_URL)
    assert (result.listings, result.empty) == ((), True)


def test_static_search_empty_item_list_is_empty(source: CraigslistSource,
                                                read_fixture: Reader) -> None:
    html = _without_cards(read_fixture(SEARCH))
    html = re.sub(rb'(id="ld_searchpage_results" >\s*)\{.*?\}(\s*</script>)',
                  rb'\1{"@type":"ItemList","itemListElement":[]}\2', html, flags=re.DOTALL)
    assert source.parse(html, SEARCH_URL).empty is True


def test_static_search_changed_markup_is_drift(source: CraigslistSource,
                                               read_fixture: Reader) -> None:
    html = read_fixture(SEARCH).replace(b"cl-static-search-result\"", b"cl-result-card\"")
    with pytest.raises(MarkupDrift):
        source.parse(html, SEARCH_URL)


def test_static_search_cards_without_titles_is_drift(source: CraigslistSource,
                                                     read_fixture: Reader) -> None:
    html = re.sub(rb' title="[^"]*"|<div class="title">.*?</div>', b"", read_fixture(SEARCH))
    with pytest.raises(MarkupDrift):
        source.parse(html, SEARCH_URL)


# --- posting page

def test_posting_page_fields(source: CraigslistSource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(POSTING), POSTING_URL)
    assert len(result.listings) == 1
    posting = result.listings[0]
    assert posting.external_id == "7936415355"
    assert posting.url == POSTING_URL
    assert posting.title == "Wauwatosa 2 Bdrm, 1 Bath Near MCW"
    assert posting.price == Decimal("1325.00")
    assert posting.currency == "USD"
    assert posting.posted_at == datetime(2026, 5, 24, 13, 45, 51, tzinfo=UTC)
    assert posting.location == "1506 N. 116th Street, Wauwatosa, WI 53226"
    assert posting.condition is None
    assert posting.description is not None
    assert posting.description.startswith(
        "Beautifully updated, clean, quiet 2 bedroom, 1 bath apartment in the City of Wauwatosa.")
    assert posting.description.endswith("Available 6/1/26.")
    assert "QR Code" not in posting.description
    # imgList holds 11 entries, one repeated
    assert len(posting.images) == 10
    assert posting.image_url == posting.images[0] == (
        "https://images.craigslist.org/00a0a_ktGWIym8Pre_0ww0oo_600x450.jpg")
    assert posting.images[-1] == "https://images.craigslist.org/00k0k_aPNwokXpJUI_0ww0oo_600x450.jpg"


def test_posting_page_condition_and_canadian_currency(source: CraigslistSource,
                                                      read_fixture: Reader) -> None:
    html = read_fixture(POSTING).replace(b'content="US-WI"', b'content="CA-ON"').replace(
        b'<div class="attrgroup">',
        b'<div class="attrgroup"><div class="attr condition"><span class="labl">condition:</span>'
        b'<span class="valu"><a href="#">like new</a></span></div>', 1)
    posting = source.parse(html, POSTING_URL).listings[0]
    assert (posting.currency, posting.price, posting.condition) == ("CAD", Decimal("1325.00"),
                                                                    "like new")


def test_posting_page_without_post_id_is_drift(source: CraigslistSource,
                                               read_fixture: Reader) -> None:
    html = read_fixture(POSTING).replace(b"post id: 7936415355", b"")
    html = html.replace(b"7936415355.html", b"x.html")
    with pytest.raises(MarkupDrift):
        source.parse(html, "https://milwaukee.craigslist.org/apa/d/x/")


def test_removed_posting_is_empty(source: CraigslistSource) -> None:
    html = (b'<html><head><meta property="og:site_name" content="craigslist"></head><body>'
            b"<h2>This posting has been deleted by its author.</h2></body></html>")
    assert source.parse(html, POSTING_URL).empty is True


# --- sapi JSON

def _sapi(read_fixture: Reader) -> Any:
    return json.loads(read_fixture(SAPI))


def test_sapi_counts(source: CraigslistSource, read_fixture: Reader) -> None:
    result = source.parse(read_fixture(SAPI), SAPI_URL)
    assert len(result.listings) == 49
    assert len({listing.external_id for listing in result.listings}) == 49
    assert (result.empty, result.next_url, result.incomplete) == (False, None, 0)
    assert sum(listing.price is None for listing in result.listings) == 15


def test_sapi_listings_field_by_field(source: CraigslistSource, read_fixture: Reader) -> None:
    listings = source.parse(read_fixture(SAPI), SAPI_URL).listings
    first = listings[0]
    assert first.external_id == "7921751209"  # 7920324748 + 1426461
    assert first.posted_at == datetime(2026, 4, 21, 14, 47, 31, tzinfo=UTC)
    assert first.title == "10 acres of land near Hot Springs Village, elec, well, septic, private"
    assert first.price == Decimal("85000.00")
    assert first.currency == "USD"
    assert first.location == "Hot Springs"
    assert first.url == ("https://www.craigslist.org/view/d/hot-springs-village-10-acres-of-land/"
                         "eSiy3CR4KXdsm6WVyTjydb")
    assert len(first.images) == 7
    assert first.image_url == "https://images.craigslist.org/00c0c_4jKfGDZEMvE_0fY0bU_600x450.jpg"

    third = listings[2]
    assert third.external_id == "7927677809"
    assert third.title == "Land/Home in Clark Co For Sale Owner Financed! 209 E Maple St"
    assert third.price == Decimal("129900.00")
    assert third.location == "Gurdon"
    assert len(third.images) == 13

    no_photos = listings[3]
    assert no_photos.external_id == "7921967695"
    assert no_photos.title == ".85 ACRES OF LAND FOR SALE"
    assert no_photos.price == Decimal("15000.00")
    assert no_photos.location == "Nashville, Arkansas"
    assert (no_photos.images, no_photos.image_url) == ((), None)

    no_price = listings[15]
    assert no_price.external_id == "7925539812"
    assert no_price.title == "Farm land swap with my house"
    assert no_price.price is None
    assert no_price.location == "Jackson"
    assert no_price.posted_at == datetime(2026, 4, 4, 6, 42, 29, tzinfo=UTC)

    # offset 0 is the minimum posting id itself; description index 0 means no place
    base = listings[47]
    assert base.external_id == "7920324748"
    assert base.posted_at == datetime.fromtimestamp(1773160961, tz=UTC)
    assert base.title == "30 Acres land with 2 mobile homes"
    assert base.location is None


def test_sapi_url_without_token_uses_regional_legacy_form(source: CraigslistSource,
                                                          read_fixture: Reader) -> None:
    doc = _sapi(read_fixture)
    item = doc["data"]["items"][9]  # location 7 is [21, "dallas", "dal"]
    item[:] = [part for part in item if not (isinstance(part, list) and part[0] == 13)]
    listing = source.parse(json.dumps(doc).encode(), SAPI_URL).listings[9]
    assert listing.external_id == "7926464232"
    assert listing.url == ("https://dallas.craigslist.org/dal/reo/d/"
                           "clarksville-land-for-sale-in-clarksville/7926464232.html")
    assert listing.location == "Hopewell"  # description index 9, whatever the slug says


def test_sapi_area_currency(source: CraigslistSource, read_fixture: Reader) -> None:
    doc = _sapi(read_fixture)
    doc["data"]["areas"]["100"]["currency"] = "CAD"
    listings = source.parse(json.dumps(doc).encode(), SAPI_URL).listings
    assert (listings[0].currency, listings[0].price) == ("CAD", Decimal("85000.00"))
    # an item from another area (texarkana, 359) keeps the first area's currency as default
    assert listings[4].currency == "CAD"


def test_sapi_no_items_is_empty(source: CraigslistSource, read_fixture: Reader) -> None:
    doc = _sapi(read_fixture)
    doc["data"]["items"] = []
    doc["data"]["totalResultCount"] = 0
    result = source.parse(json.dumps(doc).encode(), SAPI_URL)
    assert (result.listings, result.empty) == ((), True)


def test_sapi_error_answer_is_drift(source: CraigslistSource) -> None:
    body = b'{"apiVersion":8,"data":{},"errors":[{"message":"bad details_length"}]}'
    with pytest.raises(MarkupDrift, match="bad details_length"):
        source.parse(body, SAPI_URL)


def test_sapi_unreadable_items_are_drift(source: CraigslistSource, read_fixture: Reader) -> None:
    doc = _sapi(read_fixture)
    doc["data"]["items"] = [["x"], {"a": 1}, [1, 2, 3, 4, "1:1~0~0"]]
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps(doc).encode(), SAPI_URL)


def test_sapi_changed_decode_block_is_drift(source: CraigslistSource,
                                            read_fixture: Reader) -> None:
    doc = _sapi(read_fixture)
    del doc["data"]["decode"]["minPostingId"]
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps(doc).encode(), SAPI_URL)


# --- blocked and foreign pages

def test_ip_block_page_is_blocked(source: CraigslistSource) -> None:
    body = (b"This IP has been automatically blocked.\n"
            b"If you have questions, please email: blocks-b1565046728099160@craigslist.org\n")
    assert CraigslistSource.sniff(body)
    with pytest.raises(Blocked) as caught:
        source.parse(body, SEARCH_URL)
    assert caught.value.reason == "ip-blocked"


def test_captcha_page_is_blocked(source: CraigslistSource) -> None:
    body = (b'<html><body><form><div class="h-captcha" data-sitekey="x"></div>'
            b'<script src="https://js.hcaptcha.com/1/api.js"></script></form></body></html>')
    with pytest.raises(Blocked) as caught:
        source.parse(body, SEARCH_URL)
    assert caught.value.reason == "captcha"


def test_block_words_on_a_real_page_do_not_mask_results(source: CraigslistSource,
                                                        read_fixture: Reader) -> None:
    html = read_fixture(SEARCH).replace(b">Studio for rent<", b">Studio, automatically blocked<")
    html = html.replace(b"</body>", b'<div class="h-captcha"></div></body>')
    assert len(source.parse(html, SEARCH_URL).listings) == 37


@pytest.mark.parametrize(("capture", "name"), [
    ("kijiji/search-next-data-2026-08.json", "Kijiji"),
    ("kleinanzeigen/search-2026-04.html", "Kleinanzeigen"),
])
def test_other_marketplaces_are_unsupported(source: CraigslistSource, read_fixture: Reader,
                                            capture: str, name: str) -> None:
    with pytest.raises(UnsupportedPage, match=name) as caught:
        source.parse(read_fixture(capture), "https://example.org/search")
    assert caught.value.reason == name


def test_facebook_page_is_unsupported(source: CraigslistSource, read_fixture: Reader) -> None:
    with pytest.raises(UnsupportedPage):
        source.parse(read_fixture("facebook/item-login-wall-2025-04.html"),
                     "https://www.facebook.com/marketplace/item/972971497925330/")


@pytest.mark.parametrize("capture", [SEARCH, POSTING, SAPI])
def test_sniff_own_captures(read_fixture: Reader, capture: str) -> None:
    assert CraigslistSource.sniff(read_fixture(capture))


@pytest.mark.parametrize("capture", OTHER_CAPTURES)
def test_sniff_rejects_other_captures(read_fixture: Reader, capture: str) -> None:
    assert not CraigslistSource.sniff(read_fixture(capture))


# --- robustness

_FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_URLS = st.sampled_from([SEARCH_URL, POSTING_URL, SAPI_URL, "https://example.org/", "", "::"])
_FRAGMENTS = st.sampled_from([
    '<li class="cl-static-search-result" title="t">', '<a href="/x/d/y/12345678.html">',
    '<div class="title">', '<div class="price">$1,2', '<div class="location">', "</li>", "</a>",
    '<section id="postingbody">', '<span id="titletextonly">', "post id: 99999999",
    '<time class="date" datetime="0001-01-01T00:00:00+2359">', '<p class="postinginfo">posted:',
    '<script type="application/ld+json" id="ld_searchpage_results">', '{"itemListElement":[',
    "var imgList = [{\"url\": 5}];", "<script>", "</script>", '{"minPostingId":', "no results",
    '<meta property="og:site_name" content="craigslist">', "\x00", "\ud7ff", "&#0;",
])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=5),
    max_leaves=25)


@_FUZZ
@given(body=st.binary(max_size=3000), url=_URLS)
def test_arbitrary_bytes_raise_only_scrape_errors(body: bytes, url: str) -> None:
    with contextlib.suppress(ScrapeError):
        CraigslistSource().parse(body, url)


@_FUZZ
@given(parts=st.lists(_FRAGMENTS | st.text(max_size=20), max_size=30), url=_URLS)
def test_markup_soup_raises_only_scrape_errors(parts: list[str], url: str) -> None:
    CraigslistSource.sniff("".join(parts).encode("utf-8", "surrogatepass"), url)
    with contextlib.suppress(ScrapeError):
        CraigslistSource().parse("".join(parts).encode("utf-8", "surrogatepass"), url)


@_FUZZ
@given(items=st.lists(st.lists(_JSON, max_size=12) | _JSON, max_size=6), decode=_JSON,
       min_id=st.integers(), min_date=st.integers(), areas=_JSON)
def test_arbitrary_sapi_structures_raise_only_scrape_errors(
        items: list[Any], decode: Any, min_id: int, min_date: int, areas: Any) -> None:
    if isinstance(decode, dict):
        decode.update(minPostingId=min_id, minPostedDate=min_date)
    doc = {"apiVersion": 8, "data": {"items": items, "decode": decode, "areas": areas,
                                     "categoryAbbr": "sss"}}
    with contextlib.suppress(ScrapeError):
        CraigslistSource().parse(json.dumps(doc).encode(), SAPI_URL)
