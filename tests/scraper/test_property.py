"""Properties: every registered parser turns any bytes into a result or a ScrapeError, never a
crash; the price readers raise nothing but PriceError and read back the amounts they are shown."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpuscout.scraper.errors import PriceError, ScrapeError
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.money import Money, parse_amount, parse_price, parse_price_range, positive_amount
from gpuscout.scraper.sources import detect_source, get_source
from gpuscout.scraper.sources.base import ParseResult, Source
from gpuscout.scraper.sources.registry import NAMES
from tests.support.pages import all_pages, read_page

SOURCES = sorted(NAMES)
#: the URL a page came from changes what parsers accept (host checks), so vary it too
URLS = (
    "https://www.ebay.com/sch/i.html?_nkw=rtx+3090",
    "https://www.ebay.co.uk/itm/296057072805",
    "https://www.reddit.com/r/hardwareswap/search.json?q=3090&restrict_sr=1",
    "https://sfbay.craigslist.org/search/sss?query=rtx+3090",
    "https://sfbay.craigslist.org/sfc/sop/d/rtx-3090/7712345678.html",
    "https://sapi.craigslist.org/web/v8/postings/search/full?query=3090",
    "https://www.facebook.com/marketplace/nyc/search/?query=rtx+3090",
    "https://www.facebook.com/login/?next=%2Fmarketplace%2F",
    "http://127.0.0.1:8080/sch/i.html?_nkw=x",
    "https://example.com/",
    "",
    "not a url",
)
#: fragments of every source's markup and of the pages that replace it, to recombine
FRAGMENTS: tuple[bytes, ...] = (
    b"<html>", b"</html>", b"<head>", b"<body>", b"<ul class=\"srp-results\">",
    b"<li class=\"s-card\" data-listingid=\"123456789012\">", b"<li class=\"s-item\">",
    b"<div class=\"s-card__title\">RTX 3090</div>", b"<span class=\"s-card__price\">$700.00</span>",
    b"<a class=\"s-item__link\" href=\"https://www.ebay.com/itm/123456789012\">",
    b"<span class=\"s-item__price\">US $1,234.56 to US $2,000</span>", b"</li>", b"</ul>",
    b"<li class=\"cl-static-search-result\" title=\"3090\">",
    b"<a href=\"https://sfbay.craigslist.org/sfc/sop/d/x/7712345678.html\">",
    b"<div class=\"title\">RTX 3090 FE</div><div class=\"price\">$750</div>",
    b"<meta content=\"craigslist\">", b"<section id=\"postingbody\">", b"<span id=\"titletextonly\">",
    b"no results", b"captcha", b"g-recaptcha", b"whoa there, pardner!", b"Access Denied",
    b"id=\"facebook\"", b"for (;;);", b"\"marketplace_search\"", b"You must log in to continue",
    b"{\"kind\": \"Listing\", \"data\": {\"after\": null, \"children\": [",
    b"{\"kind\": \"t3\", \"data\": {\"id\": \"abc\", \"title\": \"[USA-CA] [H] 3090 [W] $\"}}",
    b"]}}", b"{", b"}", b"[", b"]", b"\"", b",", b":", b"null", b"\xff\xfe", b"\x00",
    b"<script type=\"application/ld+json\">", b"</script>", b"&amp;", b"&#x200B;", b"\xe2\x82\xac",
)
PARSE_SETTINGS = settings(max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


def _captures(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".html", ".json"))


def _check_parse(source: Source, body: bytes, url: str) -> None:
    """parse() gives a ParseResult of RawListings or raises a ScrapeError; sniff() a bool."""
    assert isinstance(source.sniff(body, url), bool)
    try:
        result = source.parse(body, url)
    except ScrapeError:
        return
    assert isinstance(result, ParseResult)
    assert all(isinstance(listing, RawListing) for listing in result.listings)
    assert result.incomplete >= 0 and result.skipped >= 0


def _check_all(body: bytes, url: str) -> None:
    for name in SOURCES:
        _check_parse(get_source(name), body, url)
    with contextlib.suppress(ScrapeError):
        detect_source(body, url or None)


def test_every_source_is_covered() -> None:
    assert set(SOURCES) >= {"ebay", "reddit", "craigslist", "facebook"}


@PARSE_SETTINGS
@given(body=st.binary(max_size=4096), url=st.sampled_from(URLS))
def test_random_bytes_raise_only_scrape_errors(body: bytes, url: str) -> None:
    _check_all(body, url)


@PARSE_SETTINGS
@given(parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=12)), max_size=40),
       url=st.sampled_from(URLS))
def test_recombined_markup_raises_only_scrape_errors(parts: list[bytes], url: str) -> None:
    _check_all(b"".join(parts), url)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["kind", "data", "children", "id", "title", "selftext", "after",
                         "permalink", "created_utc", "items", "itemSummaries", "price", "value",
                         "currency", "marketplace_search", "feed_units", "edges", "node",
                         "listing", "listing_price", "formatted_amount", "error", "reason",
                         "minPostingId", "data", "x"]), inner, max_size=6),
    max_leaves=30)


@PARSE_SETTINGS
@given(doc=_JSON, kind=st.sampled_from(["raw", "reddit", "reddit-post", "facebook", "loop"]),
       url=st.sampled_from(URLS))
def test_json_shaped_bodies_raise_only_scrape_errors(doc: Any, kind: str, url: str) -> None:
    """Arbitrary JSON in the shapes the JSON readers look for (Reddit listings, Facebook feeds)."""
    if kind == "reddit":
        doc = {"kind": "Listing", "data": {"after": doc, "children": [doc]}}
    elif kind == "reddit-post":
        doc = {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": doc}]}}
    elif kind == "facebook":
        doc = {"data": {"marketplace_search": {"feed_units": {"edges": [{"node": doc}]}}}}
    body = json.dumps(doc).encode()
    _check_all(b"for (;;);" + body if kind == "loop" else body, url)


def _damage(data: st.DataObject, page: bytes) -> bytes:
    """``page`` cut short, with bytes flipped, spans dropped and junk spliced in."""
    body = bytearray(page)
    for _ in range(data.draw(st.integers(0, 6), label="edits")):
        at = data.draw(st.integers(0, max(len(body) - 1, 0)), label="at")
        edit = data.draw(st.sampled_from(["flip", "drop", "splice", "cut"]), label="edit")
        if edit == "flip" and body:
            body[at] ^= data.draw(st.integers(1, 255), label="mask")
        elif edit == "drop":
            del body[at:at + data.draw(st.integers(1, 4096), label="span")]
        elif edit == "splice":
            body[at:at] = data.draw(st.sampled_from(FRAGMENTS) | st.binary(max_size=16), label="junk")
        else:
            del body[at:]
    return bytes(body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_own_pages_raise_only_scrape_errors(data: st.DataObject) -> None:
    """One of the project's own pages, damaged."""
    name = data.draw(st.sampled_from(all_pages()), label="page")
    _check_all(_damage(data, read_page(name)), data.draw(st.sampled_from(URLS), label="url"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_real_captures_raise_only_scrape_errors(
        data: st.DataObject, fixtures_dir: Path) -> None:
    """A real capture, damaged."""
    path = data.draw(st.sampled_from(_captures(fixtures_dir)), label="capture")
    _check_all(_damage(data, path.read_bytes()), data.draw(st.sampled_from(URLS), label="url"))


# ------------------------------------------------------------------------------------ prices

PRICE_ALPHABET = st.sampled_from([*"0123456789.,'  \u00a0\u202f$€£¥₹-–+eE", "US $", "C $", "EUR",
                                  "GBP", "to", " to ", " bis ", "zł", "NaN", "Infinity", "inf",
                                  "1e9", "٣", "①", "\u0000"])
PRICE_TEXT = st.one_of(st.text(max_size=60), st.text(max_size=300),
                       st.lists(PRICE_ALPHABET, max_size=25).map("".join))


@settings(max_examples=500, deadline=None)
@given(text=PRICE_TEXT, default=st.sampled_from([None, "USD", "EUR"]))
def test_price_readers_raise_only_price_error(text: str, default: str | None) -> None:
    for read in (lambda: parse_price(text, default), lambda: parse_price_range(text, default),
                 lambda: parse_amount(text)):
        try:
            value = read()
        except PriceError:
            continue
        for money in _moneys(value):
            assert money.is_finite() and Decimal(0) <= money <= Decimal(100_000_000)
            assert money == money.quantize(Decimal("0.01"))


def _moneys(value: Any) -> list[Decimal]:
    if isinstance(value, Decimal):
        return [value]
    if isinstance(value, Money):
        return [value.amount]
    low, high = value
    return [low.amount] + ([high.amount] if high is not None else [])


AMOUNTS = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)


def _us(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _eu(amount: Decimal, group: str = ".") -> str:
    return f"{amount:,.2f}".replace(",", "\x00").replace(".", ",").replace("\x00", group)


FORMATS: dict[str, tuple[Callable[[Decimal], str], str]] = {
    "$": (lambda a: f"${_us(a)}", "USD"),
    "US $": (lambda a: f"US ${_us(a)}", "USD"),
    "C $": (lambda a: f"C ${_us(a)}", "CAD"),
    "£": (lambda a: f"£{_us(a)}", "GBP"),
    "EUR": (lambda a: f"EUR {_eu(a)}", "EUR"),
    "€ suffix": (lambda a: f"{_eu(a)} €", "EUR"),
    "€ nbsp group": (lambda a: f"{_eu(a, chr(0xa0))}\u00a0€", "EUR"),
    "CHF apostrophe": (lambda a: f"CHF {_us(a).replace(',', chr(39))}", "CHF"),
}


@settings(max_examples=300, deadline=None)
@given(amount=AMOUNTS, style=st.sampled_from(sorted(FORMATS)))
def test_formatted_amounts_read_back(amount: Decimal, style: str) -> None:
    render, currency = FORMATS[style]
    text = render(amount)
    assert parse_price(text) == Money(amount, currency), text
    assert parse_amount(text) == amount


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(0, 99_999_999))
def test_whole_dollar_amounts_read_back(amount: int) -> None:
    """Listings often print no cents: "$1,234" is a thousand and more, not one dollar."""
    assert parse_price(f"${amount:,}") == Money(Decimal(amount), "USD")
    assert parse_price(f"{amount} USD") == Money(Decimal(amount), "USD")


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.decimals(), st.integers(), st.floats(), st.text(max_size=12)))
def test_positive_amount_is_a_finite_amount_above_zero_or_none(value: Any) -> None:
    got = positive_amount(value)
    assert got is None or (got.is_finite() and got > 0 and got == Decimal(str(value)))


@pytest.mark.parametrize(("value", "expected"), [
    ("725.00", Decimal("725.00")), (1.08, Decimal("1.08")), (3, Decimal(3)), ("0", None),
    ("-5", None), ("NaN", None), ("Infinity", None), ("1,200", None), ("", None), (None, None),
])
def test_positive_amount_examples(value: Any, expected: Decimal | None) -> None:
    assert positive_amount(value) == expected


@settings(max_examples=200, deadline=None)
@given(low=AMOUNTS, high=AMOUNTS, joiner=st.sampled_from([" to ", " - ", " – "]))
def test_price_ranges_read_back(low: Decimal, high: Decimal, joiner: str) -> None:
    assume(low <= high)
    got = parse_price_range(f"${_us(low)}{joiner}${_us(high)}")
    assert got == (Money(low, "USD"), Money(high, "USD"))


@pytest.mark.parametrize(("text", "amount", "currency"), [
    ("$1,234.56", "1234.56", "USD"), ("US $1,234.56", "1234.56", "USD"),
    ("EUR 1.234,56", "1234.56", "EUR"), ("1 234,56 €", "1234.56", "EUR"), ("£12.99", "12.99", "GBP"),
    ("$0.50", "0.50", "USD"), ("$99,999,999.99", "99999999.99", "USD"),
])
def test_examples_read_back(text: str, amount: str, currency: str) -> None:
    assert parse_price(text) == Money(Decimal(amount), currency)


@pytest.mark.parametrize("text", [
    "$1e9", "1E9", "$7e2", "US $1.5e3", "1e+9", "$1 e9",
    "-5", "-$5", "$-5", "- $5", "USD -5", "\u22125", "US $-1.50", "EUR -1.234,56", "-5 €",
])
def test_negative_and_exponent_prices_are_refused_not_misread(text: str) -> None:
    """"$1e9" is not $1.00 and "-5" is not $5.00: such texts are no price at all."""
    for read in (lambda: parse_price(text), lambda: parse_price_range(text),
                 lambda: parse_amount(text)):
        with pytest.raises(PriceError, match=r"exponent|negative"):
            read()


@settings(max_examples=200, deadline=None)
@given(amount=AMOUNTS, style=st.sampled_from(sorted(FORMATS)),
       minus=st.sampled_from(["-", "\u2212", "- "]), exponent=st.integers(0, 99))
def test_any_amount_with_a_minus_or_an_exponent_is_refused(
        amount: Decimal, style: str, minus: str, exponent: int) -> None:
    render, _ = FORMATS[style]
    text = render(amount)
    with pytest.raises(PriceError, match="negative"):
        parse_price(minus + text)
    digits = text.rstrip(" \u00a0€")
    assume(digits[-1:].isdigit())
    with pytest.raises(PriceError, match="exponent"):
        parse_price(f"{digits}e{exponent}")


@pytest.mark.parametrize(("text", "amount"), [
    ("$700 each", "700.00"), ("Was - $5", "5.00"), ("$5-$7", "5.00"), ("3090 $700", "3090.00"),
])
def test_dashes_and_letters_that_are_not_signs_or_exponents(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)
