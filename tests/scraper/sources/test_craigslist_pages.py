"""Craigslist on the project's own pages: the static search page with its JSON-LD list, a posting,
the sapi JSON search, a "no results" page, and block pages. Runs without the real captures."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from gpuscout.scraper.errors import Blocked, MarkupDrift
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources import detect_source
from gpuscout.scraper.sources.base import ParseResult
from gpuscout.scraper.sources.craigslist.source import CraigslistSource
from tests.support.pages import read_page

SEARCH = "craigslist/search-static.html"
POSTING = "craigslist/posting.html"
SAPI = "craigslist/sapi-search.json"
SEARCH_URL = "https://sfbay.craigslist.org/search/sss?query=rtx+3090"
POSTING_URL = ("https://sfbay.craigslist.org/sby/sop/d/san-jose-example-rtx-3090-founders/"
               "7900000001.html")
SAPI_URL = ("https://sapi.craigslist.org/web/v8/postings/search/full?batch=1-0-360-0-0&cc=US"
            "&lang=en&searchPath=sop&query=rtx+3090")
D = Decimal


@pytest.fixture(scope="module")
def source() -> CraigslistSource:
    return CraigslistSource()


# --- static search page

def test_static_search_listings(source: CraigslistSource) -> None:
    result = source.parse(read_page(SEARCH), SEARCH_URL)
    assert (len(result.listings), result.incomplete, result.skipped) == (5, 0, 0)
    assert (result.empty, result.next_url) == (False, None)
    first, second, third, fourth, fifth = result.listings
    assert first == RawListing(
        source="craigslist", external_id="7900000001", url=POSTING_URL,
        title="[EXAMPLE] RTX 3090 Founders Edition - like new", price=D("750.00"),
        currency="USD", location="san jose",
        image_url="https://images.craigslist.org/00e0e_exampleAAA_0CI0t2_600x450.jpg",
        images=("https://images.craigslist.org/00e0e_exampleAAA_0CI0t2_600x450.jpg",),
    )
    # the 2026 host-less link: its token is the id; JSON-LD images in order
    assert (second.external_id, second.url) == (
        "ExAmPlE7900002tok",
        "https://www.craigslist.org/view/d/oakland-example-nvidia-rtx-3090-fe/ExAmPlE7900002tok")
    assert (second.price, second.location, len(second.images)) == (D("1050.00"), "oakland", 2)
    # a relative link, resolved against the page; the title's entity decoded
    assert (third.external_id, third.title) == ("7900000003", "[EXAMPLE] ASUS TUF RTX 3090 OC & 850W PSU")
    assert third.url == ("https://sfbay.craigslist.org/pen/sys/d/palo-alto-example-asus-tuf-rtx-3090/"
                         "7900000003.html")
    assert third.price == D("680.00")
    # no price on the card: the aligned JSON-LD entry gives it
    assert (fourth.external_id, fourth.price, fourth.location) == ("7900000004", D("25.00"), "fremont")
    assert (fifth.price, fifth.currency) == (D("0.00"), "USD")


def test_static_search_place_from_the_offer_when_the_card_has_none(source: CraigslistSource) -> None:
    third = source.parse(read_page(SEARCH), SEARCH_URL).listings[2]
    assert third.location == "Palo Alto, CA"


def test_json_ld_is_used_only_when_names_line_up(source: CraigslistSource) -> None:
    html = read_page(SEARCH).replace(
        b'"name":"[EXAMPLE] RTX 3090 Founders Edition box and packaging only"',
        b'"name":"Something else entirely"')
    fourth = source.parse(html, SEARCH_URL).listings[3]
    assert (fourth.external_id, fourth.price) == ("7900000004", None)


def test_canadian_site_prices_in_cad(source: CraigslistSource) -> None:
    result = source.parse(read_page(SEARCH), "https://toronto.craigslist.ca/search/sss?query=3090")
    assert {x.currency for x in result.listings} == {"CAD"}


def test_card_without_post_id_is_incomplete(source: CraigslistSource) -> None:
    html = read_page(SEARCH).replace(
        b"/sby/sop/d/san-jose-example-rtx-3090-founders/7900000001.html", b"/sby/sop/", 1)
    result = source.parse(html, SEARCH_URL)
    assert (len(result.listings), result.incomplete) == (4, 1)


def test_next_page_link(source: CraigslistSource) -> None:
    html = read_page(SEARCH).replace(
        b"</head>", b'<link rel="next" href="/search/sss?query=rtx%203090&amp;s=120"></head>', 1)
    assert source.parse(html, SEARCH_URL).next_url == (
        "https://sfbay.craigslist.org/search/sss?query=rtx%203090&s=120")


def test_no_results_page_is_empty(source: CraigslistSource) -> None:
    result = source.parse(read_page("craigslist/search-no-results.html"), SEARCH_URL)
    assert result == ParseResult(listings=(), empty=True)
    # the notice alone is enough, without the empty JSON-LD list
    html = re.sub(rb'<script type="application/ld\+json".*?</script>', b"",
                  read_page("craigslist/search-no-results.html"), flags=re.DOTALL)
    assert source.parse(html, SEARCH_URL).empty is True


def test_changed_markup_is_drift(source: CraigslistSource) -> None:
    html = read_page(SEARCH).replace(b'"cl-static-search-result"', b'"cl-result-card"')
    with pytest.raises(MarkupDrift):
        source.parse(html, SEARCH_URL)
    untitled = re.sub(rb' title="[^"]*"|<div class="title">.*?</div>', b"", read_page(SEARCH))
    with pytest.raises(MarkupDrift):
        source.parse(untitled, SEARCH_URL)


def test_block_words_on_a_results_page_do_not_mask_results(source: CraigslistSource) -> None:
    html = read_page(SEARCH).replace(b"</body>", b'<div class="h-captcha"></div>'
                                     b"<p>automatically blocked</p></body>")
    assert len(source.parse(html, SEARCH_URL).listings) == 5


# --- posting page

def test_posting_page(source: CraigslistSource) -> None:
    result = source.parse(read_page(POSTING), POSTING_URL)
    assert result == ParseResult(listings=(RawListing(
        source="craigslist", external_id="7900000001", url=POSTING_URL,
        title="[EXAMPLE] RTX 3090 Founders Edition - like new", price=D("750.00"),
        currency="USD", location="san jose downtown",
        posted_at=datetime(2026, 3, 3, 2, 30, tzinfo=UTC), condition="like new",
        description=("Selling my example RTX 3090 Founders Edition.\n\nUsed for one year of light "
                     "gaming, never mined.\n\nCash only, pick up in downtown San Jose."),
        # imgList holds three entries, one repeated
        image_url="https://images.craigslist.org/00e0e_exampleAAA_0CI0t2_600x450.jpg",
        images=("https://images.craigslist.org/00e0e_exampleAAA_0CI0t2_600x450.jpg",
                "https://images.craigslist.org/00h0h_exampleDDD_0CI0t2_600x450.jpg"),
    ),))


def test_posting_images_from_thumbnails_and_canadian_currency(source: CraigslistSource) -> None:
    html = re.sub(rb"var imgList = .*?;\n", b"", read_page(POSTING), flags=re.DOTALL)
    html = html.replace(b'content="US-CA"', b'content="CA-ON"')
    posting = source.parse(html, POSTING_URL).listings[0]
    assert posting.images == ("https://images.craigslist.org/00e0e_exampleAAA_0CI0t2_600x450.jpg",
                              "https://images.craigslist.org/00h0h_exampleDDD_0CI0t2_600x450.jpg")
    assert (posting.currency, posting.price) == ("CAD", D("750.00"))


def test_posting_without_post_id_is_drift(source: CraigslistSource) -> None:
    html = read_page(POSTING).replace(b"post id: 7900000001", b"")
    html = html.replace(b"7900000001.html", b"x.html")
    with pytest.raises(MarkupDrift):
        source.parse(html, "https://sfbay.craigslist.org/sby/sop/d/x/")


def test_removed_posting_is_empty(source: CraigslistSource) -> None:
    html = re.sub(rb"<h1 class=\"postingtitle\">.*</section>\s*</section>",
                  b"<h2>This posting has been deleted by its author.</h2>", read_page(POSTING),
                  flags=re.DOTALL)
    assert source.parse(html, POSTING_URL) == ParseResult(listings=(), empty=True)


# --- sapi JSON

def _sapi() -> Any:
    return json.loads(read_page(SAPI))


def test_sapi_listings(source: CraigslistSource) -> None:
    result = source.parse(read_page(SAPI), SAPI_URL)
    assert [x.external_id for x in result.listings] == [
        "7900000011", "7900000012", "7900000013", "7900000000"]  # minPostingId + item[0]
    assert (result.incomplete, result.empty, result.next_url) == (0, False, None)
    token, no_price, legacy, base = result.listings
    assert token == RawListing(
        source="craigslist", external_id="7900000011",
        url="https://www.craigslist.org/view/d/san-jose-example-rtx-3090-founders/ExAmPlEsApI0011tok",
        title="[EXAMPLE] RTX 3090 Founders Edition, barely used", price=D("745.00"),
        currency="USD", location="San Jose",
        posted_at=datetime(2026, 3, 1, 22, 20, tzinfo=UTC),  # minPostedDate + item[1]
        image_url="https://images.craigslist.org/00e0e_exampleAAA_0CI0t2_600x450.jpg",
        images=("https://images.craigslist.org/00e0e_exampleAAA_0CI0t2_600x450.jpg",
                "https://images.craigslist.org/00h0h_exampleDDD_0CI0t2_600x450.jpg"),
        aliases=("ExAmPlEsApI0011tok",),  # the token of its /view/d/ link: the same post
    )
    # price -1: none; no token: the regional legacy link from the area, subarea and category
    assert (no_price.price, no_price.location) == (None, "Oakland, CA")
    assert no_price.url == ("https://sfbay.craigslist.org/eby/sop/d/oakland-example-rtx-3090-trade/"
                            "7900000012.html")
    assert (legacy.price, legacy.location, legacy.images) == (
        D("1100.00"), "Palo Alto",
        ("https://images.craigslist.org/00i0i_exampleEEE_0CI0t2_600x450.jpg",))
    # offset 0 is the minimum posting id itself; description index 0: no place; no slug
    assert (base.location, base.posted_at) == (None, datetime.fromtimestamp(1772400000, tz=UTC))
    assert base.url == "https://www.craigslist.org/view/d/d/ExAmPlEsApI0000tok"


def test_sapi_area_currency(source: CraigslistSource) -> None:
    doc = _sapi()
    doc["data"]["areas"]["1"]["currency"] = "CAD"
    listings = source.parse(json.dumps(doc).encode(), SAPI_URL).listings
    assert {(x.currency) for x in listings} == {"CAD"}
    assert listings[0].price == D("745.00")


def test_sapi_no_items_is_empty(source: CraigslistSource) -> None:
    doc = _sapi()
    doc["data"]["items"], doc["data"]["totalResultCount"] = [], 0
    assert source.parse(json.dumps(doc).encode(), SAPI_URL) == ParseResult(listings=(), empty=True)


def test_sapi_unreadable_items_and_changed_decode_are_drift(source: CraigslistSource) -> None:
    doc = _sapi()
    doc["data"]["items"] = [["x"], {"a": 1}, [1, 2, 3, 4, "1:1~0~0"]]
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps(doc).encode(), SAPI_URL)
    doc = _sapi()
    del doc["data"]["decode"]["minPostingId"]
    with pytest.raises(MarkupDrift):
        source.parse(json.dumps(doc).encode(), SAPI_URL)


def test_sapi_some_unreadable_items_are_incomplete(source: CraigslistSource) -> None:
    doc = _sapi()
    doc["data"]["items"][1] = [12, 7200, 143]
    result = source.parse(json.dumps(doc).encode(), SAPI_URL)
    assert (len(result.listings), result.incomplete) == (3, 1)


# --- block pages and detection

def test_ip_block_and_captcha_pages_are_blocked(source: CraigslistSource) -> None:
    block = (b"This IP has been automatically blocked.\n"
             b"If you have questions, please email: blocks-b0000000000000000@craigslist.org\n")
    with pytest.raises(Blocked) as caught:
        source.parse(block, SEARCH_URL)
    assert caught.value.reason == "ip-blocked"
    captcha = (b'<html><head><title>craigslist | verify</title></head><body><form>'
               b'<div class="h-captcha" data-sitekey="example"></div></form></body></html>')
    with pytest.raises(Blocked) as caught:
        source.parse(captcha, SEARCH_URL)
    assert caught.value.reason == "captcha"


@pytest.mark.parametrize("name", [SEARCH, POSTING, SAPI, "craigslist/search-no-results.html"])
def test_own_pages_are_detected_as_craigslist(name: str) -> None:
    assert CraigslistSource.sniff(read_page(name))
    assert isinstance(detect_source(read_page(name)), CraigslistSource)


# --- ids: base64url tokens, lost cards, one post under two ids

TOKENS = "craigslist/search-tokens.html"


def test_base64url_tokens_are_ids_and_lost_cards_are_counted(source: CraigslistSource) -> None:
    result = source.parse(read_page(TOKENS), SEARCH_URL)
    assert [(item.external_id, item.price) for item in result.listings] == [
        ("Ex_aMpLe-T0k3n_A1", D("700.00")), ("-ExAmPlE_tok-2-", D("760.00")),
        ("7900000001", D("750.00"))]
    assert result.listings[1].url == ("https://www.craigslist.org/view/d/"
                                      "daly-city-example-nvidia-3090-fe/-ExAmPlE_tok-2-")
    # a link without its token and a card without a title: counted, never silently dropped
    assert (result.incomplete, result.skipped) == (2, 0)


def test_a_posting_reached_by_its_token_knows_both_ids(source: CraigslistSource) -> None:
    url = ("https://www.craigslist.org/view/d/san-jose-example-rtx-3090-founders/"
           "Ex_aMpLe-T0k3n_A1")
    (posting,) = source.parse(read_page(POSTING), url).listings
    assert (posting.external_id, posting.aliases) == ("7900000001", ("Ex_aMpLe-T0k3n_A1",))
    # reached by its numeric link, it has no other id to tell
    (same,) = source.parse(read_page(POSTING), POSTING_URL).listings
    assert (same.external_id, same.aliases) == ("7900000001", ())


def test_sapi_items_carry_their_token_as_an_alias(source: CraigslistSource) -> None:
    result = source.parse(read_page(SAPI), SAPI_URL)
    tokens = {item.external_id: item.aliases for item in result.listings}
    with_token = {ext: names for ext, names in tokens.items() if names}
    assert with_token, "the own sapi page has items with a tag-13 token"
    for ext, (token,) in with_token.items():
        assert ext.isdigit() and token != ext
        assert next(i for i in result.listings if i.external_id == ext).url.endswith("/" + token)
