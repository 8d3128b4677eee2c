"""eBay: search pages (2025 s-card and legacy s-item), item pages, and the Browse API."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from gpuscout.scraper.errors import (
    Blocked,
    MarkupDrift,
    ScrapeError,
    UnsupportedPage,
)
from gpuscout.scraper.listing import BuyingFormat, RawListing
from gpuscout.scraper.sources.base import Access, ParseResult, SearchSpec, Source
from gpuscout.scraper.sources.ebay import api
from gpuscout.scraper.sources.ebay.html import (
    SOURCE,
    canonical_url,
    clean_text,
    item_id_from_url,
    parse_count,
    parse_money_text,
    parse_results,
    parse_seller,
    squash,
)
from gpuscout.scraper.sources.oauth import bearer_token

if TYPE_CHECKING:
    import httpx

    from gpuscout.scraper.fetch.memory import TokenCache

#: ISO currency of each eBay site when a price names none ("$" pages default to USD)
_SITE_CURRENCY: dict[str, str] = {
    "ebay.co.uk": "GBP", "ebay.de": "EUR", "ebay.fr": "EUR", "ebay.it": "EUR", "ebay.es": "EUR",
    "ebay.nl": "EUR", "ebay.at": "EUR", "ebay.ie": "EUR", "ebay.be": "EUR", "ebay.ca": "CAD",
    "ebay.com.au": "AUD", "ebay.ch": "CHF", "ebay.pl": "PLN",
}
_EBAY_HOST = re.compile(r"(?:^|\.)ebay\.(?:com|co\.uk|de|fr|it|es|nl|at|ie|be|ca|ch|pl|com\.au)$")
# NOTE: challenge pages: "Pardon Our Interruption" (bot check), /splashui/captcha and hCaptcha
# ("Please verify yourself to continue"), /splashui/challenge ("Checking your browser"), and the
# sign-in wall at signin.ebay.*.
_CAPTCHA = re.compile(
    rb"splashui/captcha|hcaptcha\.com|class=\"h-captcha|Please verify yourself|"
    rb"<title>Security Measure", re.I)
_BOT_CHECK = re.compile(rb"Pardon Our Interruption|splashui/challenge|Checking your browser", re.I)
_SIGN_IN = re.compile(rb"Sign in or Register|Anmelden oder registrieren", re.I)
_EBAY_MARK = re.compile(rb"ebaystatic\.com|ebayimg\.com|www\.ebay\.|\| eBay</title>", re.I)
_PAGE_MARKERS = (b"srp-results", b"s-item__", b"s-card__", b"x-item-title__", b"ebay-objects:item")
_LOCATED = re.compile(r"^Located in:?\s*(.+)$", re.I)


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def site_currency(url: str) -> str:
    """The currency an eBay site prices in when a price text names none."""
    host = _host(url)
    for suffix, code in _SITE_CURRENCY.items():
        if host == suffix or host.endswith("." + suffix):
            return code
    return "USD"


class EbaySource(Source):
    """eBay search and item pages, or the Browse API when client credentials are configured."""

    name: ClassVar[str] = "ebay"
    default_currency: ClassVar[str] = "USD"

    def uses_api(self, spec: SearchSpec) -> bool:
        return api.uses_api(spec)

    def route(self, spec: SearchSpec) -> str:
        return "Browse API (OAuth)" if api.uses_api(spec) else "search pages"

    def access(self, spec: SearchSpec) -> Access:
        if api.uses_api(spec):
            return Access(True, "Browse API keys set (GPUSCOUT_EBAY_CLIENT_ID, "
                                "GPUSCOUT_EBAY_CLIENT_SECRET)")
        return Access(None, "no Browse API keys: the search pages are read",
                      "eBay's search pages may answer with a bot check; the Browse API is the "
                      "route eBay supports: create a free keyset at "
                      f"{api.KEYS_URL}, then set GPUSCOUT_EBAY_CLIENT_ID (App ID) and "
                      "GPUSCOUT_EBAY_CLIENT_SECRET (Cert ID)")

    def auth_url(self, spec: SearchSpec) -> str | None:
        return api.api_base(spec) + api.TOKEN_PATH if api.uses_api(spec) else None

    def search_url(self, spec: SearchSpec) -> str:
        """The live search URL on ``spec.base_url``, newest listings first (or the Browse API
        search with credentials)."""
        if api.uses_api(spec):
            return api.search_url(spec)
        params: list[tuple[str, str]] = [
            ("_nkw", spec.query), ("_sacat", spec.options.get("category", "0"))]
        if spec.min_price is not None:
            params.append(("_udlo", str(spec.min_price)))
        if spec.max_price is not None:
            params.append(("_udhi", str(spec.max_price)))
        params.append(("_ipg", "240"))
        if spec.options.get("sold") == "true":
            params += [("LH_Sold", "1"), ("LH_Complete", "1")]
        else:
            params.append(("_sop", "10"))  # NOTE: "Time: newly listed", for incremental polling
        params.append(("rt", "nc"))
        return f"{spec.base_url.rstrip('/')}/sch/i.html?{urlencode(params)}"

    def request_headers(self, spec: SearchSpec) -> dict[str, str]:
        if api.uses_api(spec):
            return {"Accept": "application/json", "Accept-Language": "en-US"}
        return super().request_headers(spec)

    async def prepare(self, client: httpx.AsyncClient, spec: SearchSpec,
                      tokens: TokenCache | None = None, *, renew: bool = False) -> dict[str, str]:
        """With API credentials: an application token (client-credentials grant, the public
        data scope), cached for its two hours, and the marketplace header."""
        if not api.uses_api(spec):
            return {}
        token = await bearer_token(
            client, tokens, url=api.api_base(spec) + api.TOKEN_PATH,
            client_id=spec.credentials["client_id"], secret=spec.credentials["client_secret"],
            form=api.token_form(), read=api.read_token, label="eBay", renew=renew)
        return {
            "Authorization": f"Bearer {token}",
            "X-EBAY-C-MARKETPLACE-ID": spec.options.get("marketplace", "EBAY_US"),
        }

    def parse(self, body: bytes, url: str) -> ParseResult:
        """Read a search page, an item page, or a Browse API body."""
        try:
            return self._parse(body, url)
        except ScrapeError:
            raise
        except Exception as exc:  # NOTE: a parser must only ever raise ScrapeError subclasses
            raise MarkupDrift(f"unreadable eBay page: {type(exc).__name__}", reason="error") \
                from exc

    def _parse(self, body: bytes, url: str) -> ParseResult:
        head = body[:64].lstrip()
        if head[:1] in (b"{", b"["):
            try:
                data = json.loads(body)
            except (ValueError, RecursionError) as exc:
                raise UnsupportedPage("body is not valid JSON", reason="unknown") from exc
            return api.parse_api(data, url)
        _raise_if_redirected(url)
        tree = LexborHTMLParser(body)
        currency = site_currency(url)
        results = parse_results(tree, url, currency)
        if results.cards or results.looks_like_results:
            if results.listings and results.incomplete <= len(results.listings):
                return ParseResult(listings=results.listings, next_url=results.next_url,
                                   skipped=results.skipped, incomplete=results.incomplete)
            if not results.incomplete and results.says_empty():
                return ParseResult(listings=(), empty=True, skipped=results.skipped)
            raise MarkupDrift(
                f"eBay results page: {results.cards} cards, {len(results.listings)} readable, "
                f"{results.incomplete} without title or price", reason="ebay_results")
        if _is_item_page(tree):
            return ParseResult(listings=(_item_page(tree, url, currency),))
        # NOTE: only a page that is neither results nor an item is checked for a challenge:
        # ordinary eBay pages ship the CSS of a sign-in/captcha overlay ("ifh-captcha").
        _raise_if_challenge(body)
        if _EBAY_MARK.search(body) or _EBAY_HOST.search(_host(url)):
            raise UnsupportedPage("an eBay page that is neither search results nor an item",
                                  reason="ebay_other")
        raise UnsupportedPage("not an eBay page", reason="unknown")

    @classmethod
    def sniff(cls, body: bytes, url: str | None = None) -> bool:
        """True for eBay pages (by host or markup) and Browse API bodies."""
        if _EBAY_HOST.search(_host(url)):
            return True
        head = body[:64].lstrip()
        if head[:1] in (b"{", b"["):
            return b'"itemSummaries"' in body or (b'"itemId"' in body and b'"v1|' in body)
        sample = body[:300_000]
        if not _EBAY_MARK.search(sample):
            return False
        return any(marker in sample for marker in _PAGE_MARKERS) \
            or bool(_CAPTCHA.search(sample) or _BOT_CHECK.search(sample))


def _raise_if_redirected(url: str) -> None:
    """Blocked when the final URL is eBay's sign-in page or a /splashui/ challenge."""
    host = _host(url)
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    if host.startswith("signin.") or "/signin/" in path:
        raise Blocked("eBay redirected to its sign-in page", reason="login")
    if "/splashui/captcha" in path:
        raise Blocked("eBay answered with a captcha", reason="captcha")
    if "/splashui/" in path:
        raise Blocked("eBay answered with a bot check", reason="bot_check")


def _raise_if_challenge(body: bytes) -> None:
    """Blocked when the body is a captcha, a bot check or the sign-in form."""
    if _CAPTCHA.search(body):
        raise Blocked("eBay answered with a captcha", reason="captcha")
    if _BOT_CHECK.search(body):
        raise Blocked("eBay answered with a bot check", reason="bot_check")
    title = re.search(rb"<title[^>]*>([^<]{0,200})", body[:100_000], re.I)
    if title and _SIGN_IN.search(title.group(1)):
        raise Blocked("eBay answered with its sign-in page", reason="login")


# ---- item page (x- layout, JSON-LD Product as fallback) -------------------------------------


def _is_item_page(tree: LexborHTMLParser) -> bool:
    return tree.css_first(".x-item-title__mainTitle, meta[property='og:type'][content="
                          "'ebay-objects:item']") is not None


def _product_ld(tree: LexborHTMLParser) -> dict[str, Any]:
    for script in tree.css("script[type='application/ld+json']"):
        try:
            data = json.loads(script.text())
        except (ValueError, RecursionError):
            continue
        for entry in data if isinstance(data, list) else [data]:
            if isinstance(entry, dict) and entry.get("@type") == "Product":
                return entry
    return {}


def _text(tree: LexborHTMLParser, selector: str) -> str:
    node = tree.css_first(selector)
    return clean_text(node) if node is not None else ""


def _item_page(tree: LexborHTMLParser, url: str, currency: str) -> RawListing:
    product = _product_ld(tree)
    canonical = tree.css_first("link[rel='canonical']")
    href = (canonical.attributes.get("href") if canonical is not None else None) or url
    external_id = item_id_from_url(href) or _text(
        tree, ".ux-layout-section--itemId .ux-textspans--BOLD") or None
    title = _text(tree, ".x-item-title__mainTitle .ux-textspans--BOLD") or _text(
        tree, ".x-item-title__mainTitle") or str(product.get("name") or "")
    price, shipping = _item_prices(tree, product, currency)
    if not (external_id and title and price):
        raise MarkupDrift("eBay item page without item number, title or price",
                          reason="ebay_item")
    seller = _item_seller(tree)
    images = _item_images(tree, product)
    return RawListing(
        source=SOURCE, external_id=external_id, url=canonical_url(href, url), title=title,
        price=price[0], currency=price[1] or currency, shipping=shipping,
        location=_item_location(tree), seller=seller[0], seller_feedback=seller[1],
        seller_positive_pct=seller[2],
        condition=_text(tree, ".x-item-condition-text .ux-textspans") or None,
        buying_format=_item_format(tree), description=_item_specifics(tree),
        image_url=images[0] if images else None, images=images,
    )


def _item_prices(tree: LexborHTMLParser, product: dict[str, Any], currency: str
                 ) -> tuple[tuple[Decimal, str | None] | None, Decimal | None]:
    """(price with currency, shipping) in the listing's own currency.

    NOTE: .x-price-primary is the seller's currency ("EUR 3,500.00"); the JSON-LD offer holds
    the buyer site's conversion (USD), so it is only a fallback, together with its own shipping.
    """
    price = parse_money_text(_text(tree, ".x-price-primary"), currency)
    if price is not None:
        text = _text(tree, ".ux-labels-values--shipping .ux-labels-values__values .ux-textspans")
        if text.lower().startswith(("free", "kostenlos", "gratis")):
            return price, Decimal(0)
        shipping = parse_money_text(text, price[1])
        return price, shipping[0] if shipping else None
    offer = _mapping(product.get("offers"))
    price = parse_money_text(f"{offer.get('priceCurrency', '')} {offer.get('price', '')}",
                             currency)
    rate = _mapping(_mapping(offer.get("shippingDetails")).get("shippingRate"))
    shipping = parse_money_text(str(rate.get("value", "")), price[1] if price else None)
    return price, shipping[0] if shipping else None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _item_seller(tree: LexborHTMLParser) -> tuple[str | None, int | None, float | None]:
    name = _text(tree, ".x-sellercard-atf__info__about-seller a .ux-textspans") or None
    feedback = parse_count(_text(tree, ".x-sellercard-atf__about-seller").strip("() "))
    positive = None
    for item in tree.css(".x-sellercard-atf__data-item"):
        parsed = parse_seller(clean_text(item))
        if parsed is not None:
            positive = parsed[2]
            break
    return name, feedback, positive


def _item_location(tree: LexborHTMLParser) -> str | None:
    for span in tree.css(".ux-layout-section--shipping .ux-textspans"):
        match = _LOCATED.match(squash(span.text()))
        if match:
            return match.group(1)
    return None


def _item_format(tree: LexborHTMLParser) -> BuyingFormat:
    actions = _text(tree, ".x-buybox-cta").lower()
    if tree.css_first(".x-bid-price") is not None or "place bid" in actions:
        return "auction"
    return "best_offer" if "make offer" in actions or "best offer" in actions else "fixed"


def _item_images(tree: LexborHTMLParser, product: dict[str, Any]) -> tuple[str, ...]:
    urls: list[str] = []
    for img in tree.css(".ux-image-carousel-item img"):
        attrs = img.attributes
        src = attrs.get("data-zoom-src") or attrs.get("data-src") or attrs.get("src")
        if src and src.startswith("http"):
            urls.append(src)
    ld = product.get("image")
    urls += [u for u in (ld if isinstance(ld, list) else [ld]) if isinstance(u, str)]
    return tuple(dict.fromkeys(urls))


def _item_specifics(tree: LexborHTMLParser) -> str | None:
    """The item specifics as "label: value" lines (the seller's own text is in an iframe)."""
    lines = []
    for row in tree.css(".ux-layout-section--features .ux-labels-values"):
        if "ux-labels-values--condition" in (row.attributes.get("class") or ""):
            continue  # NOTE: the condition row repeats eBay's boilerplate condition definition
        label = _text_of(row, ".ux-labels-values__labels")
        value = _text_of(row, ".ux-labels-values__values")
        if label and value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines) or None


def _text_of(node: LexborNode, selector: str) -> str:
    found = node.css_first(selector)
    return clean_text(found) if found is not None else ""
