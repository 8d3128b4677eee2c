"""Facebook Marketplace (experimental): search pages' embedded JSON, route definitions, login walls.

No real capture of a search page with listings exists yet, so the search reader follows the
documented ``marketplace_search.feed_units.edges[].node.listing`` structure and is experimental.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from selectolax.lexbor import LexborHTMLParser

from gpuscout.scraper.errors import Blocked, MarkupDrift, PriceError, UnsupportedPage
from gpuscout.scraper.listing import RawListing, Status
from gpuscout.scraper.money import detect_currency, parse_amount
from gpuscout.scraper.sources.base import Access, ParseResult, SearchSpec, Source
from gpuscout.scraper.sources.unsupported import identify_unsupported

# NOTE: Facebook prefixes its JSON endpoints with an infinite loop against JSON hijacking.
_LOOP_PREFIX = "for (;;);"
_FB_HOST = re.compile(r"(?:^|\.)(?:facebook\.com|fb\.com)$")
_MARKERS = (b'id="facebook"', b"static.xx.fbcdn.net", b'"marketplace_search"',
            b"CometMarketplace", b'"route_definition"')
_LOGIN = re.compile(r'id="login_form"|You must log in to continue|XWebLoginController|'
                    r'content="https://www\.facebook\.com/login/', re.IGNORECASE)
_CHECKPOINT = re.compile(r"/checkpoint/|checkpointSubmitButton|Temporarily Blocked", re.IGNORECASE)
_TITLE_SUFFIX = re.compile(r"\s*\|\s*Facebook Marketplace\s*$")
_ID = re.compile(r"\d{1,25}", re.ASCII)
_MAX_NODES = 2_000_000


class FacebookSource(Source):
    """Facebook Marketplace search for one location slug ("nyc", "sanfrancisco", a numeric id)."""

    name: ClassVar[str] = "facebook"
    default_currency: ClassVar[str] = "USD"

    def search_url(self, spec: SearchSpec) -> str:
        """``/marketplace/<location>/search/?query=…&minPrice=…&maxPrice=…&exact=false``."""
        base = (spec.base_url or self.default_base_url).rstrip("/")
        location = spec.options.get("location", "nyc")
        params = {"query": spec.query}
        if spec.min_price is not None:
            params["minPrice"] = str(spec.min_price)
        if spec.max_price is not None:
            params["maxPrice"] = str(spec.max_price)
        params["exact"] = "false"
        return f"{base}/marketplace/{location}/search/?{urlencode(params)}"

    def access(self, spec: SearchSpec) -> Access:
        return Access(None, "experimental: Facebook shows its pages to logged-in browsers only",
                      "set cookies_file under [sources.facebook] to a cookies export of a "
                      "logged-in browser (Netscape cookies.txt or JSON)")

    def request_headers(self, spec: SearchSpec) -> dict[str, str]:
        """What a browser sends for a top-level document navigation."""
        return {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                      "image/webp,*/*;q=0.8",
            "Accept-Language": "en-US,en;q=0.9",
            "Sec-Fetch-Dest": "document",
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Site": "none",
            "Sec-Fetch-User": "?1",
            "Upgrade-Insecure-Requests": "1",
        }

    @classmethod
    def sniff(cls, body: bytes, url: str | None = None) -> bool:
        if body.lstrip().startswith(_LOOP_PREFIX.encode()) or any(m in body for m in _MARKERS):
            return True
        return _is_fb_url(url) and identify_unsupported(body, None) is None

    def parse(self, body: bytes, url: str) -> ParseResult:
        text = body.decode("utf-8", errors="replace").lstrip()
        if text.startswith(_LOOP_PREFIX):
            text = text[len(_LOOP_PREFIX):].lstrip()
        if not any(m in body for m in _MARKERS) and not body.lstrip().startswith(b"for (;;);"):
            other = identify_unsupported(body, url)
            if other:
                raise UnsupportedPage(f"this is a {other} page, not Facebook", reason=other)
            if not _is_fb_url(url):
                raise UnsupportedPage("not a Facebook page", reason="unknown")
        origin = _origin(url)
        docs = list(_json_documents(text))
        routes = [d for d in docs if _route_payloads(d) is not None]
        if routes:
            return _parse_routes(routes, origin)
        searches = [s for d in docs for s in _find_key(d, "marketplace_search")]
        result = _parse_search(searches, origin) if searches else None
        if result is not None and result.listings:
            return result
        if _path(url).startswith("/login") or _LOGIN.search(text):
            raise Blocked("Facebook answered with its login wall", reason="login")
        if _path(url).startswith("/checkpoint") or _CHECKPOINT.search(text):
            raise Blocked("Facebook answered with a checkpoint or temporary block",
                          reason="checkpoint")
        if result is not None and result.empty:
            return result
        if result is not None:
            raise MarkupDrift("Facebook search feed has entries but no readable listing",
                              reason="feed")
        raise MarkupDrift("Facebook page holds no marketplace_search data", reason="no-feed")


def _is_fb_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        return bool(_FB_HOST.search(urlsplit(url).hostname or ""))
    except ValueError:
        return False


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return FacebookSource.default_base_url
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return FacebookSource.default_base_url


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _json_documents(text: str) -> Iterator[Any]:
    """Every JSON document in the body: the body itself, its lines, or its JSON script blobs."""
    if text.startswith(("{", "[")):
        whole = _loads(text)
        if whole is not None:
            yield whole
            return
        for line in text.splitlines():  # NOTE: streamed GraphQL answers are one object per line
            doc = _loads(line) if line.startswith("{") else None
            if doc is not None:
                yield doc
        return
    if "marketplace_search" not in text:
        return
    try:
        tree = LexborHTMLParser(text)
    except Exception:  # selectolax raises plain exceptions on unparseable input
        return
    for script in tree.css('script[type="application/json"]'):
        content = script.text()
        if "marketplace_search" in content:
            doc = _loads(content)
            if doc is not None:
                yield doc


def _find_key(doc: Any, key: str) -> Iterator[Any]:
    """Values of ``key`` anywhere in a JSON tree (iterative: Facebook nests very deep)."""
    stack = [doc]
    seen = 0
    while stack and seen < _MAX_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            if key in node:
                yield node[key]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _parse_search(searches: list[Any], origin: str) -> ParseResult | None:
    listings: dict[str, RawListing] = {}
    found = seen = skipped = incomplete = 0
    for search in searches:
        edges = _get(search, "feed_units", "edges")
        if not isinstance(edges, list):
            continue
        found += 1
        seen += len(edges)
        for edge in edges:
            listing = _get(edge, "node", "listing")
            if not isinstance(listing, dict):
                skipped += 1  # NOTE: ads and feed modules are edges without a listing
                continue
            raw = _search_listing(listing, origin)
            if raw is None:
                incomplete += 1
            else:
                listings.setdefault(raw.external_id, raw)
    if not found:
        return None
    # NOTE: only a feed with no edges at all is a "no results" answer
    return ParseResult(listings=tuple(listings.values()), empty=seen == 0,
                       skipped=skipped, incomplete=incomplete)


def _search_listing(listing: dict[str, Any], origin: str) -> RawListing | None:
    listing_id = listing.get("id")
    listing_id = str(listing_id) if isinstance(listing_id, (str, int)) else ""
    title = _str(listing.get("marketplace_listing_title")) or _str(listing.get("custom_title"))
    if not _ID.fullmatch(listing_id) or not title:
        return None
    price, currency = _listing_price(listing.get("listing_price"))
    status: Status = "sold" if listing.get("is_sold") is True else "active"
    photo = _str(_get(listing, "primary_listing_photo", "image", "uri"))
    created = listing.get("creation_time")
    posted = None
    if isinstance(created, int) and not isinstance(created, bool):
        try:
            posted = datetime.fromtimestamp(created, tz=UTC)
        except (OverflowError, OSError, ValueError):
            posted = None
    return RawListing(
        source=FacebookSource.name, external_id=listing_id,
        url=f"{origin}/marketplace/item/{listing_id}/", title=title, price=price,
        currency=currency, location=_place(listing.get("location")), posted_at=posted,
        seller=_str(_get(listing, "marketplace_listing_seller", "name")), status=status,
        image_url=photo, images=(photo,) if photo else (),
    )


def _listing_price(price: Any) -> tuple[Decimal | None, str]:
    """(amount, currency) from listing_price: ``amount`` "750.00", ``formatted_amount`` "$750"."""
    if not isinstance(price, dict):
        return None, FacebookSource.default_currency
    formatted = _str(price.get("formatted_amount")) or ""
    code = price.get("currency")
    currency = code if isinstance(code, str) and re.fullmatch(r"[A-Z]{3}", code) else (
        detect_currency(formatted) or FacebookSource.default_currency)
    for raw in (price.get("amount"), formatted):
        if isinstance(raw, (str, int, float)) and not isinstance(raw, bool) and str(raw).strip():
            try:
                return parse_amount(str(raw)), currency
            except PriceError:
                continue
    return None, currency


def _place(location: Any) -> str | None:
    geo = _get(location, "reverse_geocode")
    parts = [_str(_get(geo, "city")), _str(_get(geo, "state"))]
    joined = ", ".join(p for p in parts if p)
    return joined or _str(_get(geo, "city_page", "display_name"))


def _route_payloads(doc: Any) -> dict[str, Any] | None:
    payloads = _get(doc, "payload", "payloads")
    if not isinstance(payloads, dict):
        return None
    if not any(_get(v, "result", "type") == "route_definition" for v in payloads.values()):
        return None
    return payloads


def _parse_routes(docs: list[Any], origin: str) -> ParseResult:
    """Listings from ``bulk-route-definitions``: ids, titles and places, never prices.

    The route title reads "<title> - <category> - <City, State> | Facebook Marketplace".
    """
    listings: dict[str, RawListing] = {}
    skipped = incomplete = 0
    for doc in docs:
        payloads = _route_payloads(doc) or {}
        for route in payloads.values():
            result = _get(route, "result")
            exports = _get(result, "exports")
            if _get(route, "error") is not False or _get(result, "type") != "route_definition":
                incomplete += 1
                continue
            if _get(exports, "tracePolicy") != "comet.marketplace.item":
                skipped += 1  # another route (a search, a profile): no listing in it
                continue
            infos = _get(result, "route_match_infos")
            listing_id = _get(infos[0], "instanceParams", "listing_id") \
                if isinstance(infos, list) and infos else None
            meta_title = _str(_get(exports, "meta", "title")) or ""
            title, place = _split_route_title(meta_title)
            if not isinstance(listing_id, str) or not _ID.fullmatch(listing_id) or not title:
                incomplete += 1
                continue
            listings.setdefault(listing_id, RawListing(
                source=FacebookSource.name, external_id=listing_id,
                url=f"{origin}/marketplace/item/{listing_id}/", title=title, location=place,
                currency=None))
    if not listings:
        raise MarkupDrift("Facebook route definitions hold no marketplace listing",
                          reason="routes")
    return ParseResult(listings=tuple(listings.values()), skipped=skipped, incomplete=incomplete)


def _split_route_title(meta_title: str) -> tuple[str | None, str | None]:
    bare = _TITLE_SUFFIX.sub("", meta_title)
    if bare == meta_title:
        return _str(meta_title), None
    parts = bare.rsplit(" - ", 2)
    if len(parts) == 3:
        return _str(parts[0]), _str(parts[2])
    return _str(bare), None
