"""The parsers' faster code paths answer exactly what the plainer code they stand for answers.

Each rewritten regex is checked against its plain form, each shortcut against the call it
spares, on generated text built from the words and characters the patterns care about
(including the few non-ASCII letters that match ASCII ones case-blind: "ſ", "K", "İ", "ı").
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin

from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from gpuscout.scraper import money, text_prices
from gpuscout.scraper.errors import PriceError
from gpuscout.scraper.sources._fast import Joiner, first_nodes
from gpuscout.scraper.sources.craigslist import sapi
from gpuscout.scraper.sources.craigslist import source as craigslist
from gpuscout.scraper.sources.ebay import html as ebay_html
from gpuscout.scraper.sources.reddit import prices
from gpuscout.scraper.sources.reddit import source as reddit
from tests.support.pages import read_page

SETTINGS = settings(max_examples=400, deadline=None)

_CHARS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n\xa0$£€.,-/#@:;+&'’"
          "_~|()[]?=ſKİı–")
_WORDS = (
    "obo", "OBO", "o.b.o", "or best offer", "open to offers", "open to any offers", "fobo",
    "$", "US $", "US$", "usd", "CA$", "C $", "AU$", "NZ$", "EUR", "gbp", "£", "€", "550",
    "1,325", "1.234,56", "9.99", "$50-75", "500$", "20 dollars", "5 bucks", "asking",
    "asking price is", "price:", "priced at", "looking for", "sell it for", "let them go them for",
    "selling them for", "go for", "shipped", "shipped:", "local:", "obo:", "shipping", "firm",
    "each", "ea", "+ ship", "picked up", "pick-up", "sold", "SOLD", "(sold)", "- sold", "new",
    "msrp", "rtx 3090", "RTX-3080", "gtx1080", "GT 710", "rx 6800", "radeon", "GeForce",
    "quadro", "titan xp", "Titan RTX", "arc a770", "founders", "graphics card", "Video  Cards",
    "vega56", "3080 ti", "3060super", "6900 xt", "7900xtx", "ryzen 7900 xt", "r9 7900xt",
    "laptop", "notebooks", "prebuilt", "pre-built", "full build", "whole pc", "cpu", "i7-12700H",
    "ram", "ddr5", "ssd", "nvme", "storage", "mobo", "windows", "os", "paypal", "pay pal",
    "g&s", "f & f", "goods and services", "friends & family", "venmo", "zelle", "cash app",
    "crypto", "btc", "and", "only", "pp", "paid", "http://x.com/a", "HTTPS://Y.z/b?c", "www.a.b",
    "WwW.x", "xhttp://q", "httpx://", "var=12", "&var=3&", "xvar=4", "var=0", "ſhipped", "K",
    "İ", "ı", "EVGA", "FE", "zotac", "[H]", "[W]", "[ h ]", "~~gone~~", "](", "\\$", "**",
)
TEXT = st.one_of(
    st.text(alphabet=_CHARS, max_size=40),
    st.lists(st.one_of(st.sampled_from(_WORDS), st.text(alphabet=_CHARS, max_size=3)),
             max_size=12).map(" ".join),
    st.lists(st.sampled_from(_WORDS), max_size=8).map("".join),
)


def _spans(matches: Any) -> list[tuple[tuple[int, int], dict[str, str | None]]]:
    return [(m.span(), m.groupdict()) for m in matches]


# --- regexes written for speed, against their plain forms ---------------------------------

_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_SYM = r"US\s?\$|USD|C\s?\$|CA\$|CAD|AU\s?\$|A\$|AUD|NZ\$|EUR|GBP|\$|£|€"
PLAIN_MENTION = re.compile(
    rf"(?<![A-Za-z0-9])(?P<sym1>{_SYM})\s?(?P<num1>{_NUM})"
    rf"(?:\s?[-–]\s?\$?(?P<hi1>\d+(?:\.\d{{1,2}})?)(?![\w.,]))?"
    rf"|(?<![\w.,/#@-])(?P<num2>{_NUM})\s?(?P<sym2>(?:\$|£|€)(?!\s?\d)|(?:USD|CAD|AUD|EUR|GBP"
    rf"|dollars?|bucks)\b)"
    rf"|(?P<cue>\b(?:asking(?:\s+price)?(?:\s+(?:is|for))?|price[d]?(?:\s+(?:is|at))?\s*:?"
    rf"|looking\s+for|(?:sell|selling|let\s+(?:it|them)\s+go|go)\s+(?:it\s+|them\s+)?for"
    rf"|shipped\s*:|local\s*:|obo\s*:)\s*)(?P<num3>\d{{2,5}}(?:\.\d{{1,2}})?)(?![\w.,%])"
    rf"|(?<![\w.,/#@$£€-])(?P<num4>\d{{2,5}}(?:\.\d{{1,2}})?)(?=\s*(?:shipped|shipping|local"
    rf"|obo|o\.b\.o|firm|each\b|ea\b|\+\s*ship|plus\s+ship|or\s+best|picked\s+up|pick\s*-?up))",
    re.IGNORECASE)
PLAIN_GPU = re.compile(
    r"\b(?:rtx|gtx|gt)\s?-?\s?a?\d{3,4}(?!\d)|\brx\s?-?\s?\d{3,4}(?!\d)"
    r"|\b(?:radeon|geforce|quadro|titan\s+(?:x|xp|v|rtx))\b|\barc\s?-?\s?[ab]\d{3}\b"
    r"|\bfounders?\b|\b(?:graphics|video)\s+cards?\b|\bvega\s?(?:56|64)\b", re.IGNORECASE)
PLAIN_OBO = re.compile(r"\bobo\b|\bo\.b\.o\b|\bor\s+best\s+offer|\bopen\s+to\s+(?:\w+\s+)?offers\b",
                       re.IGNORECASE)
PLAIN_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
PLAIN_SYSTEM = re.compile(
    r"\b(?:laptops?|notebooks?|macbook|prebuilt|pre-built|(?:full|whole|complete)\s+"
    r"(?:build|system|pc|rig))\b", re.IGNORECASE)
PLAIN_SPECS = (
    re.compile(r"\b(?:cpu|processor|ryzen|xeon|i[3579]-?\d{4,5}\w*)\b", re.IGNORECASE),
    re.compile(r"\b(?:ram|ddr[345])\b", re.IGNORECASE),
    re.compile(r"\b(?:ssd|nvme|hdd|storage)\b", re.IGNORECASE),
    re.compile(r"\b(?:motherboard|mobo)\b", re.IGNORECASE),
    re.compile(r"\b(?:windows|os)\b", re.IGNORECASE),
)
PLAIN_MONEY_WORDS = re.compile(
    r"pay\s*pal|paypal|g\s*&\s*s|goods\s+(?:and|&)\s+services|f\s*&\s*f|friends\s+(?:and|&)\s+"
    r"family|local|cash|venmo|zelle|cash\s*app|money|usd|cad|gbp|eur|aud|crypto|bitcoin|btc"
    r"|\$|£|€|\d+|\bor\b|\band\b|\bonly\b|\bpp\b|\bpaid\b", re.IGNORECASE)
PLAIN_VARIATION = re.compile(r"(?:^|&)var=(\d+)(?:&|$)")
PLAIN_IMG_LIST = re.compile(r"var\s+imgList\s*=\s*(\[.*?\]);", re.DOTALL)


def _check_reddit_regexes(text: str) -> None:
    assert _spans(prices._MENTION.finditer(text)) == _spans(PLAIN_MENTION.finditer(text))
    assert [m.span() for m in prices._GPU.finditer(text)] == \
        [m.span() for m in PLAIN_GPU.finditer(text)]
    pairs = [(prices._OBO, PLAIN_OBO), (prices._SYSTEM, PLAIN_SYSTEM),
             *zip(prices._SPECS, PLAIN_SPECS, strict=True)]
    for fast, plain in pairs:
        found, expected = fast.search(text), plain.search(text)
        assert (found and found.span()) == (expected and expected.span()), plain.pattern
    assert prices._URL.sub(" ", text) == PLAIN_URL.sub(" ", text)
    assert reddit._MONEY_WORDS.sub(" ", text) == PLAIN_MONEY_WORDS.sub(" ", text)


PHRASES = [
    "sell it for 550", "selling them for 90", "let them go them for 75", "go for 60", "shipped: 300",
    "ſhipped: 40", "asking 450", "Asking price is 1200", "priced at: 80", "looking for 200",
    "local: 120", "obo: 99", "$700", "$50-75 shipped", "700$", "700 $5", "US $ 5", "CA$20",
    "AU $ 30", "NZ$9", "EUR 1.234,56", "£12", "€ 15", "20 dollars", "5 bucks", "450 shipped",
    "450 obo", "450 firm", "30 each", "12 ea", "99 + ship", "99 picked up", "x$5", "_$5",
    "07605 $575", "$2k", "$100's", "$300 new", "msrp $500", "Asus G14 (5900hs, RTX 3060, 16gb Ram)",
    "3080 FTW3 $600, 3070 $400 local or $420 shipped", "EVGA 3080 FE", "7900 XTX", "r9 7900xt",
]


def _lines(capture: bytes) -> list[str]:
    posts = [child["data"] for child in json.loads(capture)["data"]["children"]]
    return [line for post in posts for text in (post["title"], reddit.decode(post["selftext"]))
            for line in prices.plain_lines(text)]


def test_regexes_on_phrases_and_an_own_page() -> None:
    for text in [*PHRASES, *_lines(read_page("reddit/hardwareswap-new.json"))]:
        _check_reddit_regexes(text)
        _check_text_tests(text, ("3090",))


def test_regexes_on_phrases_and_a_real_capture(read_fixture: Callable[[str], bytes]) -> None:
    for text in [*PHRASES, *_lines(read_fixture("reddit/hardwareswap-new-2023-02.json"))]:
        _check_reddit_regexes(text)
        _check_text_tests(text, ("3090",))


@SETTINGS
@given(text=TEXT)
def test_reddit_regexes(text: str) -> None:
    _check_reddit_regexes(text)


@SETTINGS
@given(text=TEXT)
def test_ebay_row_text(text: str) -> None:
    assert ebay_html.squash(text) == re.sub(r"\s+", " ", text).strip()
    best_offer = re.compile(
        r"best offer|preisvorschlag|offre directe|miglior offerta|mejor oferta", re.I)
    for phrase in ("", "Best Offer", "or BEST OFFER accepted", "Preisvorschlag", "OFFRE DIRECTE"):
        row = text + phrase
        assert ebay_html._offers(row) == bool(best_offer.search(row))


@SETTINGS
@given(query=st.lists(st.sampled_from(["var=12", "var=0", "var=", "xvar=3", "&", "a=1", "var=9x",
                                       "\n", "v", "ar=", "="]), max_size=8).map("".join))
def test_variation_query(query: str) -> None:
    found, expected = ebay_html._VARIATION.search(query), PLAIN_VARIATION.search(query)
    assert (found and found.group(1)) == (expected and expected.group(1))


@SETTINGS
@given(script=st.lists(st.sampled_from(["var imgList = ", "var  imgList=", "[", "]", ";", "];",
                                        "x", "\n", '{"a":[1]}', " ", "var"]), max_size=14)
       .map("".join))
def test_image_list_script(script: str) -> None:
    found, expected = craigslist._IMG_LIST.search(script), PLAIN_IMG_LIST.search(script)
    assert (found and (found.span(), found.group(1))) == \
        (expected and (expected.span(), expected.group(1)))


# --- shortcuts in the Reddit price reader, against the plain code -------------------------

def _plain_have_part(title: str) -> str:
    head = re.split(r"\[\s*w\s*\]", title, maxsplit=1, flags=re.IGNORECASE)[0]
    return re.split(r"\[\s*h\s*\]", head, maxsplit=1, flags=re.IGNORECASE)[-1]


def _plain_is_strong(text: str) -> bool:
    return any(len(w) > 1 and w not in prices._FILLER for w in prices._WORD.findall(text.lower()))


def _plain_is_system(text: str) -> bool:
    return bool(PLAIN_SYSTEM.search(text)) or sum(bool(p.search(text)) for p in PLAIN_SPECS) >= 2


def _plain_mentions_gpu(text: str, models: tuple[str, ...]) -> bool:
    if PLAIN_GPU.search(text) or prices._NV_SUFFIXED.search(text):
        return True
    for match in prices._AMD_XT.finditer(text):
        if not prices._CPU_BEFORE.search(text[max(0, match.start() - 12):match.start()]):
            return True
    return any(match.group(0) in models or prices._CARD_CUE.search(text)
               for match in prices._NV_BARE.finditer(text))


def _plain_decode(text: str) -> str:
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


@SETTINGS
@given(text=TEXT, models=st.sampled_from([(), ("3090",), ("3080", "6900")]))
def test_text_tests(text: str, models: tuple[str, ...]) -> None:
    _check_text_tests(text, models)


def _check_text_tests(text: str, models: tuple[str, ...]) -> None:
    assert prices.have_part(text) == _plain_have_part(text)
    assert prices.is_strong(text) == _plain_is_strong(text)
    assert prices.is_system(text) == _plain_is_system(text)
    assert prices.mentions_gpu(text, models) == _plain_mentions_gpu(text, models)
    assert reddit.decode(text) == _plain_decode(text)
    assert ("sold" in text.casefold()) or not prices._SOLD_LINE.search(text)
    assert bool(prices._DIGIT.search(text)) or not PLAIN_MENTION.search(text)


@SETTINGS
@given(text=TEXT)
def test_plain_lines(text: str) -> None:
    expected_text = PLAIN_URL.sub(" ", prices._STRUCK.sub(" ", prices._LINK.sub(
        r"\1", text.replace("\u200b", "").replace("&#x200B;", ""))))
    expected_text = prices._ESCAPE.sub(r"\1", expected_text.replace("**", "").replace("__", "")
                                       .replace("\xa0", " "))
    expected: list[str] = []
    for raw in expected_text.splitlines():
        if prices._TABLE_RULE.match(raw):
            expected.append("")
            continue
        line = text_prices.LINE_MARK.sub("", raw).strip()
        if "|" in line:
            line = " | ".join(cell.strip() for cell in line.strip("|").split("|"))
        expected.append(line)
    assert prices.plain_lines(text) == expected


# --- money ---------------------------------------------------------------------------------

PRICE_TEXT = st.one_of(
    TEXT,
    st.lists(st.sampled_from([*(token for token, _ in money._SYMBOLS), "1", "2", "0", ",", ".",
                              " ", "'", "\xa0", "\u202f", "us", "zl", "Z", "ł", "-", "\u2212",
                              "e", "E", "+"]), max_size=10)
    .map("".join))


def _plain_detect_currency(text: str) -> str | None:
    stripped = text.strip()
    return next((code for token, code in money._SYMBOLS if token in stripped), None)


def _plain_parse_amount(text: str) -> Decimal:
    match = money._NUMBER.search(text)
    if not match:
        raise PriceError("no number")
    if re.match(r"[eE][+-]?\d", text[match.end():]):
        raise PriceError("exponent")
    tokens = "|".join(re.escape(token) for token, _ in money._SYMBOLS)
    if re.fullmatch(rf"\s*(?:(?:{tokens})\s*)?[-\u2212]\s*(?:(?:{tokens})\s*)?",
                    text[:match.start()]):
        raise PriceError("negative")
    raw = re.sub(r"[' \u00a0\u202f]", "", match.group(0)).rstrip(".,")
    if "," in raw and "." in raw:
        raw = raw.replace(".", "").replace(",", ".") if raw.rfind(",") > raw.rfind(".") \
            else raw.replace(",", "")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        raw = head.replace(",", "") + ("." + tail if len(tail) != 3 else tail)
    elif raw.count(".") > 1 or (raw.count(".") == 1 and len(raw.rpartition(".")[2]) == 3
                                 and raw.rpartition(".")[0] not in ("0", "")):
        raw = raw.replace(".", "")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise PriceError("unreadable") from exc
    if not value.is_finite() or value < 0 or value > Decimal("100000000"):
        raise PriceError("out of range")
    return value.quantize(Decimal("0.01"))


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except PriceError:
        return PriceError


@settings(max_examples=800, deadline=None)
@given(text=PRICE_TEXT)
def test_money_reading(text: str) -> None:
    assert money.detect_currency(text) == _plain_detect_currency(text)
    assert _outcome(lambda: money.parse_amount(text)) == _outcome(lambda: _plain_parse_amount(text))


@settings(max_examples=800, deadline=None)
@given(text=PRICE_TEXT, site=st.sampled_from(["USD", "CAD", "EUR"]))
def test_sapi_price_currency(text: str, site: str) -> None:
    def plain() -> str:
        try:
            return sapi.site_money(text, site)[1]
        except PriceError:
            return site

    priced = sapi._price(100, text, site)
    assert priced is not None and priced[1] == (plain() if text else site)


# --- links and nodes -----------------------------------------------------------------------

HREF = st.lists(st.sampled_from([
    "https://", "http://", "HTTPS://", "ftp://", "//", "/", "a", "b.org", "x.craigslist.org", ":8080",
    "@", "?", "#", "q=1", ";", "p", "[", "]", "::1", "\t", "\n", " ", "é", "..", ".", "%20", "~",
]), max_size=10).map("".join)
BASES = ["https://sfbay.craigslist.org/search/sss?query=rtx+3090", "http://a.example/x/y",
         "https://b.example", "", "https://[::1/oops", "ftp://files.example/dir/"]


@settings(max_examples=1500, deadline=None)
@given(base=st.sampled_from(BASES), href=HREF)
def test_joiner_is_urljoin(base: str, href: str) -> None:
    try:
        expected: Any = urljoin(base, href)
    except ValueError:
        expected = ValueError
    try:
        joined: Any = Joiner(base).join(href)
    except ValueError:
        joined = ValueError
    assert joined == expected


_CLASSES = ["title", "price", "location", "Title", "PRICE", "x", "title\xa0x", "x\x0bprice",
            "price location", " location ", "title\tprice", "tïtle", ""]
_ELEMENT = st.tuples(
    st.sampled_from(["div", "a", "span", "li"]),
    st.one_of(st.none(), st.sampled_from(_CLASSES)),
    st.sampled_from(["", ' href="/x"', " href", ' HREF="/y"']),
)


def _markup(elements: list[tuple[str, str | None, str]], svg: bool) -> str:
    parts = []
    for tag, cls, href in elements:
        attr = "" if cls is None else f' class="{cls}"'
        parts.append(f"<{tag}{attr}{href}>t</{tag}>")
    if svg:
        parts.append('<svg><a xlink:href="/z">s</a></svg>')
    return f'<ul><li class="card">{"".join(parts)}</li></ul>'


@settings(max_examples=600, deadline=None)
@given(elements=st.lists(_ELEMENT, max_size=8), svg=st.booleans(), doctype=st.booleans())
def test_first_nodes_is_css_first(elements: list[tuple[str, str | None, str]], svg: bool,
                                  doctype: bool) -> None:
    """Standards and quirks mode (no doctype: class names match case-blind)."""
    page = ("<!DOCTYPE html>" if doctype else "") + _markup(elements, svg)
    card = LexborHTMLParser(page).css_first("li.card")
    assert card is not None
    found = first_nodes(card, ("title", "price", "location"))
    if found is None:
        return  # the caller falls back to css_first
    for key, selector in [("a[href]", "a[href]"), ("title", ".title"), ("price", ".price"),
                          ("location", ".location")]:
        expected = card.css_first(selector)
        node = found.get(key)
        assert (node.mem_id if node else None) == (expected.mem_id if expected else None), key


def test_first_nodes_defers_on_case_variants_and_odd_spaces() -> None:
    for markup in ('<div class="Title">t</div>', '<div class="x\xa0title">t</div>',
                   '<svg><a xlink:href="/z">s</a></svg>'):
        card = LexborHTMLParser(f'<!DOCTYPE html><ul><li class="c">{markup}</li></ul>').css_first("li")
        assert card is not None and first_nodes(card, ("title",)) is None

