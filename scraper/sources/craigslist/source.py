"""Craigslist: static search pages, posting pages and the sapi JSON search."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from gpuscout.scraper.errors import Blocked, MarkupDrift, PriceError, UnsupportedPage
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources._fast import Joiner, first_nodes
from gpuscout.scraper.sources.base import ParseResult, SearchSpec, Source
from gpuscout.scraper.sources.craigslist.sapi import is_sapi, parse_sapi, sapi_search_url, site_money
from gpuscout.scraper.sources.unsupported import identify_unsupported

# NOTE: search results link postings in three shapes: the regional legacy form
# /<area>/<cat>/d/<slug>/<id>.html (or a bare /<id>.html), and since 2026 the host-less
# www.craigslist.org/view/d/<slug>/<token>, whose token is not the numeric post id: base64url,
# so "_" and "-" occur in it. A posting page and the sapi search show both; storage keeps one
# listing per post through RawListing.aliases.
_LEGACY_ID = re.compile(r"/(\d{6,20})\.html?(?:[?#].*)?\Z", re.ASCII)
_VIEW_ID = re.compile(r"/view/d/[^/?#]+/([A-Za-z0-9_-]{1,64})(?:\.html?)?/?(?:[?#].*)?\Z",
                      re.ASCII)
_POST_ID = re.compile(r"post id:\s*(\d{1,20})", re.IGNORECASE | re.ASCII)
# NOTE: "(\[.*?\]);" (DOTALL) with the lazy scan taken a "]" at a time: the same match, found
# by skipping through each run of non-"]" characters in one step.
_IMG_LIST = re.compile(r"var\s+imgList\s*=\s*(\[(?:[^\]]*\])+?);")
_CL_HOST = re.compile(r"(?:^|\.)craigslist\.(?:org|ca)$")
_IP_BLOCK = re.compile(r"automatically blocked|blocks-\w+@craigslist\.org|request has been blocked",
                       re.IGNORECASE)
_CAPTCHA = re.compile(
    r"hcaptcha\.com|h-captcha|g-recaptcha|verify you are human|challenge-platform", re.IGNORECASE)
_NO_RESULTS = re.compile(r"\bno results\b|\bnothing found\b|\bzero local results\b", re.IGNORECASE)
_REMOVED = re.compile(r"this posting has (?:been deleted|expired|been flagged for removal)",
                      re.IGNORECASE)
_BLOCK_EMAIL = re.compile(rb"blocks-\w+@craigslist\.org")
_CONTENT = (b"cl-static-search-result", b'id="postingbody"', b'"minPostingId"')
_MARKERS = (b"cl-static-search-result", b'content="craigslist"', b"craigslist.org/static/",
            b'"minPostingId"', b"ld_searchpage_results", b"ld_posting_data")


class CraigslistSource(Source):
    """Craigslist: one regional site ("sfbay", "newyork", ...) per search."""

    name: ClassVar[str] = "craigslist"
    default_currency: ClassVar[str] = "USD"

    def search_url(self, spec: SearchSpec) -> str:
        """``/search/<category>?query=…&sort=date`` on the regional site, or the sapi JSON search
        (``options["api"] == "sapi"``). Category "sss" is all for-sale; "syp" is computer parts."""
        site = spec.options.get("site", "sfbay")
        category = spec.options.get("category", "sss")
        if spec.options.get("api") == "sapi":
            return sapi_search_url(spec, site, category)
        params = {"query": spec.query}
        if spec.min_price is not None:
            params["min_price"] = str(spec.min_price)
        if spec.max_price is not None:
            params["max_price"] = str(spec.max_price)
        # NOTE: newest first, so that a poll can stop at the first page it has seen before
        params["sort"] = spec.options.get("sort", "date")
        return f"{self._site_base(spec, site)}/search/{category}?{urlencode(params)}"

    def request_headers(self, spec: SearchSpec) -> dict[str, str]:
        """A document request for HTML; the web app's own XHR headers for sapi."""
        if spec.options.get("api") != "sapi":
            return super().request_headers(spec)
        origin = self._site_base(spec, spec.options.get("site", "sfbay"))
        return {"Accept": "application/json, text/plain, */*", "Accept-Language": "en-US,en;q=0.9",
                "Origin": origin, "Referer": origin + "/"}

    def _site_base(self, spec: SearchSpec, site: str) -> str:
        base = (spec.base_url or self.default_base_url).rstrip("/")
        return base.replace("{site}", site)

    @classmethod
    def sniff(cls, body: bytes, url: str | None = None) -> bool:
        if any(marker in body for marker in _MARKERS) or _BLOCK_EMAIL.search(body[:5000]):
            return True
        return _is_cl_url(url) and identify_unsupported(body, None) is None

    def parse(self, body: bytes, url: str) -> ParseResult:
        text = body.decode("utf-8", errors="replace")
        own = any(marker in body for marker in _MARKERS)
        # NOTE: the block page is a few lines of plain text; real pages never carry their content
        # (looked for first: a byte search is far cheaper than the case-blind regex)
        if (not any(m in body for m in _CONTENT) and _IP_BLOCK.search(text[:20000])
                and (own or _is_cl_url(url) or "craigslist" in text)):
            raise Blocked("Craigslist has blocked this IP address", reason="ip-blocked")
        if not own:
            other = identify_unsupported(body, url)
            if other:
                raise UnsupportedPage(f"this is a {other} page, not Craigslist", reason=other)
            if not _is_cl_url(url):
                raise UnsupportedPage("not a Craigslist page", reason="unknown")
        stripped = text.lstrip()
        if stripped.startswith("{"):
            return self._parse_json(stripped)
        try:
            tree = LexborHTMLParser(text)
        except Exception as exc:  # selectolax raises plain exceptions on unparseable input
            raise MarkupDrift("Craigslist page could not be parsed as HTML") from exc
        currency = _site_currency(tree, url)
        if tree.css_first("#postingbody, #titletextonly") is not None:
            return ParseResult(listings=(_parse_posting(tree, url, currency),))
        cards = tree.css("li.cl-static-search-result")
        if cards:
            return _parse_search(tree, cards, url, currency)
        # NOTE: checked only once nothing parsed, so a widget on a real page cannot mask results
        if _CAPTCHA.search(text):
            raise Blocked("Craigslist answered with a captcha", reason="captcha")
        if _REMOVED.search(text) or _says_no_results(tree):
            return ParseResult(listings=(), empty=True)
        raise MarkupDrift("Craigslist page holds no search results or posting that could be read",
                          reason="no-cards")

    @staticmethod
    def _parse_json(text: str) -> ParseResult:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise MarkupDrift("Craigslist JSON could not be decoded") from exc
        if not is_sapi(doc):
            raise MarkupDrift("Craigslist JSON is not a sapi search response", reason="json")
        assert isinstance(doc, dict)
        return parse_sapi(doc)


def _is_cl_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return bool(_CL_HOST.search(host))


def _site_currency(tree: LexborHTMLParser, url: str) -> str:
    """CAD for Canadian areas (a .ca host, a "CA-" geo region, a Canadian JSON-LD address)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    if host.endswith(".ca"):
        return "CAD"
    region = tree.css_first('meta[name="geo.region"]')
    if region is not None and (region.attributes.get("content") or "").upper().startswith("CA-"):
        return "CAD"
    for script in tree.css('script[type="application/ld+json"]'):
        if re.search(r'"addressCountry"\s*:\s*"CA"', script.text()):
            return "CAD"
    return "USD"


def _external_id(href: str) -> str | None:
    legacy = _LEGACY_ID.search(href)
    if legacy:
        return legacy.group(1)
    view = _VIEW_ID.search(href)
    return view.group(1) if view else None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    joined = " ".join(text.split())
    return joined or None


def _money(text: str | None, currency: str) -> tuple[Decimal | None, str]:
    if not text or not text.strip():
        return None, currency
    try:
        return site_money(text, currency)
    except PriceError:
        return None, currency


def _json_ld(tree: LexborHTMLParser, node_id: str) -> Any:
    script = tree.css_first(f"script#{node_id}")
    if script is None:
        return None
    try:
        return json.loads(script.text())
    except (ValueError, RecursionError):
        return None


def _ld_entries(tree: LexborHTMLParser) -> list[dict[str, Any]] | None:
    """The JSON-LD ItemList entries, index-aligned with the static cards (None if absent)."""
    doc = _json_ld(tree, "ld_searchpage_results")
    if not isinstance(doc, dict) or not isinstance(doc.get("itemListElement"), list):
        return None
    entries: list[dict[str, Any]] = []
    for element in doc["itemListElement"]:
        item = element.get("item") if isinstance(element, dict) else None
        entries.append(item if isinstance(item, dict) else {})
    return entries


def _ld_place(item: dict[str, Any]) -> str | None:
    """"Town, ST" from an entry: housing states ``address``; for-sale entries state the place
    of their offer (``offers.availableAtOrFrom.address``)."""
    address = item.get("address")
    if not isinstance(address, dict):
        offers = item.get("offers")
        place = offers.get("availableAtOrFrom") if isinstance(offers, dict) else None
        address = place.get("address") if isinstance(place, dict) else None
    if not isinstance(address, dict):
        return None
    parts = [address.get(k) for k in ("addressLocality", "addressRegion")]
    return ", ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None


def _ld_images(item: dict[str, Any]) -> tuple[str, ...]:
    image = item.get("image")
    images = image if isinstance(image, list) else [image]
    return tuple(i for i in images if isinstance(i, str) and i.startswith("http"))


def _ld_price(item: dict[str, Any]) -> str | None:
    offers = item.get("offers")
    if isinstance(offers, dict) and isinstance(offers.get("price"), (str, int, float)):
        return str(offers["price"])
    return None


def _parse_search(tree: LexborHTMLParser, cards: list[LexborNode], url: str,
                  currency: str) -> ParseResult:
    entries = _ld_entries(tree) or []
    joiner = Joiner(url)
    listings: list[RawListing] = []
    incomplete = 0
    for index, card in enumerate(cards):
        nodes = _card_nodes(card)
        link = nodes.get("a[href]")
        href = (link.attributes.get("href") or "") if link is not None else ""
        title_node = nodes.get("title")
        title = _clean(title_node.text() if title_node is not None
                       else card.attributes.get("title"))
        external_id = _external_id(href)
        if not title or not external_id:
            incomplete += 1
            continue
        # NOTE: the JSON-LD list is in card order; use an entry only when its name agrees.
        ld = entries[index] if index < len(entries) else {}
        if _clean(ld.get("name") if isinstance(ld.get("name"), str) else None) != title:
            ld = {}
        price_node = nodes.get("price")
        price_text = price_node.text() if price_node is not None else _ld_price(ld)
        price, cur = _money(price_text, currency)
        location_node = nodes.get("location")
        location = _clean(location_node.text()) if location_node is not None else None
        images = _ld_images(ld)
        listings.append(RawListing(
            source=CraigslistSource.name, external_id=external_id, url=joiner.join(href),
            title=title, price=price, currency=cur, location=location or _ld_place(ld),
            image_url=images[0] if images else None, images=images,
        ))
    if not listings:
        raise MarkupDrift(f"{len(cards)} Craigslist result cards but none could be read",
                          reason="cards")
    return ParseResult(listings=tuple(listings), next_url=_next_url(tree, url),
                       incomplete=incomplete)


_CARD_CLASSES = ("title", "price", "location")


def _card_nodes(card: LexborNode) -> dict[str, LexborNode]:
    """The card's first ``a[href]``, ``.title``, ``.price`` and ``.location`` (those present,
    keyed "a[href]", "title", "price", "location")."""
    found = first_nodes(card, _CARD_CLASSES)
    if found is None:
        found = {key: node for key in ("a[href]", *_CARD_CLASSES)
                 if (node := card.css_first(key if key == "a[href]" else "." + key)) is not None}
    return found


_NEXT_LINKS = ('link[rel="next"]', "a.next[href]", "a.button.next[href]", 'a[rel="next"]')


def _next_url(tree: LexborHTMLParser, url: str) -> str | None:
    # NOTE: one walk of the page settles the common case, a page without any such link
    if tree.css_first(", ".join(_NEXT_LINKS)) is None:
        return None
    for selector in _NEXT_LINKS:
        node = tree.css_first(selector)
        href = node.attributes.get("href") if node is not None else None
        if href and not href.startswith(("#", "javascript:")):
            return urljoin(url, href)
    return None


def _says_no_results(tree: LexborHTMLParser) -> bool:
    entries = _ld_entries(tree)
    if entries is not None and not entries:
        return True
    for node in tree.css("script, style, noscript"):
        node.decompose()
    body = tree.body
    return body is not None and bool(_NO_RESULTS.search(body.text(separator=" ")))


def _parse_posting(tree: LexborHTMLParser, url: str, currency: str) -> RawListing:
    ld = _json_ld(tree, "ld_posting_data")
    ld = ld if isinstance(ld, dict) else {}
    title_node = tree.css_first("#titletextonly")
    title = _clean(title_node.text() if title_node is not None else ld.get("name")
                   if isinstance(ld.get("name"), str) else None)
    canonical = tree.css_first('link[rel="canonical"]')
    page_url = (canonical.attributes.get("href") if canonical is not None else None) or url
    post_id = _posting_id(tree, page_url)
    if not title or not post_id:
        raise MarkupDrift("Craigslist posting page without a title or post id", reason="posting")
    linked = {_external_id(u) for u in (page_url, url)} - {None, post_id}
    price_node = tree.css_first(".postingtitletext .price")
    price, cur = _money(price_node.text() if price_node is not None else None, currency)
    images = _posting_images(tree)
    return RawListing(
        source=CraigslistSource.name, external_id=post_id, url=page_url, title=title,
        price=price, currency=cur, location=_posting_location(tree, ld),
        posted_at=_posted_at(tree), condition=_attribute(tree, "condition"),
        description=_posting_body(tree), image_url=images[0] if images else None, images=images,
        aliases=tuple(sorted(i for i in linked if i)),
    )


def _posting_id(tree: LexborHTMLParser, page_url: str) -> str | None:
    for info in tree.css("p.postinginfo"):
        match = _POST_ID.search(info.text())
        if match:
            return match.group(1)
    return _external_id(page_url)


def _posted_at(tree: LexborHTMLParser) -> datetime | None:
    nodes = [n for n in tree.css("p.postinginfo") if "posted" in n.text().lower()]
    nodes += tree.css("#display-date")
    for node in nodes:
        time_node = node.css_first("time[datetime]")
        raw = time_node.attributes.get("datetime") if time_node is not None else None
        if raw:
            try:
                return datetime.strptime(raw.strip(), "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
            except (ValueError, OverflowError):
                continue
    return None


def _posting_body(tree: LexborHTMLParser) -> str | None:
    body = tree.css_first("#postingbody")
    if body is None:
        return None
    # NOTE: the body opens with a print-only "QR Code Link to This Post" block
    for node in body.css(".print-information, .print-qrcode-container, script"):
        node.decompose()
    lines = [" ".join(line.split()) for line in body.text(separator="\n").splitlines()]
    text = "\n".join(lines).strip()
    text = re.sub(r"\n{3,}", "\n\n", text).replace("QR Code Link to This Post", "").strip()
    return text or None


def _posting_images(tree: LexborHTMLParser) -> tuple[str, ...]:
    urls: list[str] = []
    for script in tree.css("script"):
        match = _IMG_LIST.search(script.text())
        if not match:
            continue
        try:
            entries = json.loads(match.group(1))
        except (ValueError, RecursionError):
            break
        if isinstance(entries, list):
            urls = [e["url"] for e in entries
                    if isinstance(e, dict) and isinstance(e.get("url"), str)]
        break
    if not urls:
        urls = [n.attributes.get("href") or "" for n in tree.css("#thumbs a.thumb[href]")]
    if not urls:
        og = tree.css_first('meta[property="og:image"]')
        urls = [(og.attributes.get("content") or "") if og is not None else ""]
    return tuple(dict.fromkeys(u for u in urls if u.startswith("http")))


def _posting_location(tree: LexborHTMLParser, ld: dict[str, Any]) -> str | None:
    for selector in ("h2.street-address", "div.mapaddress"):
        node = tree.css_first(selector)
        if node is not None and _clean(node.text()):
            return _clean(node.text())
    hood = tree.css_first(".postingtitletext #titletextonly + span")
    if hood is not None and _clean(hood.text()):
        return _clean(hood.text().strip().strip("()"))
    place = tree.css_first('meta[name="geo.placename"]')
    if place is not None and _clean(place.attributes.get("content")):
        return _clean(place.attributes.get("content"))
    return _ld_place(ld)


def _attribute(tree: LexborHTMLParser, label: str) -> str | None:
    """A posting attribute ("condition: like new") from the attribute groups, old or new markup."""
    for node in tree.css(".attrgroup .attr, .attrgroup > span"):
        text = " ".join(node.text().split())
        name, sep, value = text.partition(":")
        if sep and name.strip().lower() == label and value.strip():
            return value.strip()
    return None
