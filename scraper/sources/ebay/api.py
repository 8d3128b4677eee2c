"""eBay Browse API: search URL, client-credentials token, item summaries and getItem bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from selectolax.lexbor import LexborHTMLParser

from gpuscout.scraper.errors import (
    Blocked,
    FetchError,
    HttpStatusError,
    MarkupDrift,
    RateLimited,
    UnsupportedPage,
)
from gpuscout.scraper.listing import BuyingFormat, RawListing
from gpuscout.scraper.sources.base import ParseResult, SearchSpec
from gpuscout.scraper.sources.ebay.html import SOURCE, canonical_url, rebase, squash

DEFAULT_API_BASE = "https://api.ebay.com"
SEARCH_PATH = "/buy/browse/v1/item_summary/search"
TOKEN_PATH = "/identity/v1/oauth2/token"
# NOTE: the public-data scope is spelled with the production host on the sandbox as well.
TOKEN_SCOPE = "https://api.ebay.com/oauth/api_scope"
#: Browse API's largest page
PAGE_LIMIT = 200
#: where a developer account's keys are shown
KEYS_URL = "https://developer.ebay.com/my/keys"
_MAX_AMOUNT = Decimal("100000000")
_CENT = Decimal("0.01")
# NOTE: errorIds eBay documents for a missing, expired or under-scoped token
_AUTH_ERRORS = frozenset({1001, 1002, 1003, 1004, 1100})


def api_base(spec: SearchSpec) -> str:
    """The API host from ``options["api_base_url"]`` (tests and the sandbox point it elsewhere)."""
    return spec.options.get("api_base_url", DEFAULT_API_BASE).rstrip("/")


def uses_api(spec: SearchSpec) -> bool:
    """True when the spec carries Browse API client credentials."""
    return bool(spec.credentials.get("client_id") and spec.credentials.get("client_secret"))


def search_url(spec: SearchSpec) -> str:
    """``/buy/browse/v1/item_summary/search?q=…&limit=200&sort=newlyListed[&filter=price:[lo..hi],
    priceCurrency:USD]`` (``options["sort"]`` another order, or "" for eBay's best match).

    The Browse API returns active listings only, so ``options["sold"]`` has no API equivalent.
    """
    params: list[tuple[str, str]] = [("q", spec.query), ("limit", str(PAGE_LIMIT))]
    if spec.options.get("sort", "newlyListed"):
        # NOTE: newest first, so that a poll can stop at the first page it has seen before
        params.append(("sort", spec.options.get("sort", "newlyListed")))
    if spec.options.get("category"):
        params.append(("category_ids", spec.options["category"]))
    if spec.min_price is not None or spec.max_price is not None:
        low = "" if spec.min_price is None else str(spec.min_price)
        high = "" if spec.max_price is None else str(spec.max_price)
        currency = spec.options.get("currency", "USD")
        params.append(("filter", f"price:[{low}..{high}],priceCurrency:{currency}"))
    return f"{api_base(spec)}{SEARCH_PATH}?{urlencode(params, safe='[]:,.')}"


@dataclass(frozen=True, slots=True)
class OAuthToken:
    """An application access token from the client-credentials grant."""

    access_token: str
    token_type: str
    expires_in: int | None


def token_form() -> dict[str, str]:
    """The form body of the client-credentials token request."""
    return {"grant_type": "client_credentials", "scope": TOKEN_SCOPE}


def parse_token_response(body: bytes, status: int, url: str = "") -> OAuthToken:
    """Read the token endpoint's answer; raises Blocked (credentials refused) or a FetchError."""
    if status == 429:
        raise RateLimited("eBay token endpoint rate-limited the request", url=url)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise HttpStatusError(f"unreadable eBay token response (HTTP {status})",
                              url=url, status=status) from exc
    if not isinstance(data, dict):
        raise HttpStatusError("eBay token response is not an object", url=url, status=status)
    if status in (400, 401, 403) or "error" in data:
        detail = data.get("error_description") or data.get("error") or f"HTTP {status}"
        raise Blocked(f"eBay refused the API credentials ({detail}): check "
                      "GPUSCOUT_EBAY_CLIENT_ID and GPUSCOUT_EBAY_CLIENT_SECRET against the "
                      f"Production keyset's App ID and Cert ID at {KEYS_URL}",
                      reason="oauth-unauthorized")
    if not 200 <= status < 300:
        raise HttpStatusError(f"eBay token endpoint answered HTTP {status}", url=url, status=status)
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise FetchError("eBay token response has no access_token", url=url, status=status)
    expires = data.get("expires_in")
    return OAuthToken(access_token=token, token_type=str(data.get("token_type") or "Bearer"),
                      expires_in=expires if isinstance(expires, int) else None)


def read_token(response: Any) -> tuple[str, float | None]:
    """``parse_token_response`` for an httpx response: (token, lifetime in seconds)."""
    url = str(response.request.url) if response.request is not None else ""
    token = parse_token_response(response.content, response.status_code, url)
    return token.access_token, None if token.expires_in is None else float(token.expires_in)


def looks_like_api(data: object) -> bool:
    """True for a Browse API search envelope, a bare itemSummaries array, or a getItem body."""
    if isinstance(data, dict):
        return "itemSummaries" in data or ("href" in data and "total" in data) or _is_item(data)
    if isinstance(data, list):
        return bool(data) and all(_is_item(entry) for entry in data[:5])
    return False


def _is_item(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("itemId"), str) \
        and str(data["itemId"]).startswith("v1|")


def parse_api(data: object, url: str) -> ParseResult:
    """A decoded Browse API body (envelope, bare array, getItem or an error) as a ParseResult."""
    if isinstance(data, dict) and data.get("errors") and not data.get("itemSummaries"):
        _raise_api_error(data["errors"])
    if isinstance(data, list):
        if not data and "item_summary" in url:
            return ParseResult(listings=(), empty=True)
        if not looks_like_api(data):
            raise UnsupportedPage("JSON body is not an eBay Browse API response", reason="unknown")
        return _summaries(data, next_url=None)
    if not isinstance(data, dict) or not looks_like_api(data):
        raise UnsupportedPage("JSON body is not an eBay Browse API response", reason="unknown")
    if _is_item(data) and "itemSummaries" not in data:
        listing = item_listing(data, detail=True)
        if listing is None:
            raise MarkupDrift("eBay getItem body lacks its title or price", reason="api")
        return ParseResult(listings=(listing,))
    nxt = data.get("next")
    next_url = rebase(nxt, url) if isinstance(nxt, str) and nxt else None
    items = data.get("itemSummaries")
    if not items:
        # NOTE: eBay omits itemSummaries altogether when a search has no (more) results.
        return ParseResult(listings=(), empty=True, next_url=None)
    if not isinstance(items, list):
        raise MarkupDrift("eBay itemSummaries is not a list", reason="api")
    return _summaries(items, next_url)


def _raise_api_error(errors: object) -> None:
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, dict):
        first = {}
    message = str(first.get("message") or "unknown error")
    if first.get("errorId") in _AUTH_ERRORS:
        raise Blocked(f"eBay API refused the token: {message}", reason="login")
    raise UnsupportedPage(f"eBay API error: {message}", reason="api_error")


def _summaries(items: Sequence[object], next_url: str | None) -> ParseResult:
    listings: list[RawListing] = []
    seen: set[str] = set()
    skipped = incomplete = 0
    for entry in items:
        listing = item_listing(entry, detail=False) if isinstance(entry, dict) else None
        if listing is None:
            incomplete += 1
        elif listing.external_id in seen:
            # NOTE: a bare array stitched from several pages repeats items at the seams.
            skipped += 1
        else:
            seen.add(listing.external_id)
            listings.append(listing)
    if not listings or incomplete > len(listings):
        raise MarkupDrift(f"{incomplete} of {len(items)} eBay API items lack a title or price",
                          reason="api")
    return ParseResult(listings=tuple(listings), next_url=next_url, skipped=skipped,
                       incomplete=incomplete)


def item_listing(item: Mapping[str, Any], *, detail: bool) -> RawListing | None:
    """One itemSummary (or a getItem body when ``detail``); None without id, title or price."""
    external_id = _item_number(item)
    title = item.get("title")
    price = _money(item.get("price")) or _money(item.get("currentBidPrice"))
    if not external_id or not isinstance(title, str) or not title.strip() or price is None:
        return None
    web_url = item.get("itemWebUrl")
    url = canonical_url(web_url, "") if isinstance(web_url, str) and web_url \
        else f"https://www.ebay.com/itm/{external_id}"
    seller = _dict(item.get("seller"))
    image = _image(item.get("image"))
    images = _dedupe([image, *[_image(extra) for extra in _list(item.get("additionalImages"))]])
    bids = item.get("bidCount")
    return RawListing(
        source=SOURCE, external_id=external_id, url=url, title=squash(title),
        price=price[0], currency=price[1], shipping=_shipping(item.get("shippingOptions")),
        location=_location(item.get("itemLocation")),
        posted_at=_timestamp(item.get("itemCreationDate") or item.get("itemOriginDate")),
        seller=seller.get("username") if isinstance(seller.get("username"), str) else None,
        seller_feedback=_int(seller.get("feedbackScore")),
        seller_positive_pct=_float(seller.get("feedbackPercentage")),
        condition=item.get("condition") if isinstance(item.get("condition"), str) else None,
        buying_format=_buying_format(item.get("buyingOptions")),
        bids=bids if isinstance(bids, int) and not isinstance(bids, bool) else None,
        ends_at=_timestamp(item.get("itemEndDate")),
        description=_description(item, detail=detail), image_url=image, images=images,
    )


def _item_number(item: Mapping[str, Any]) -> str | None:
    legacy = item.get("legacyItemId")
    if isinstance(legacy, str) and legacy.isdigit():
        return legacy
    item_id = item.get("itemId")
    if isinstance(item_id, str):
        # NOTE: Browse API ids are "v1|<item number>|<variation id or 0>"
        parts = item_id.split("|")
        if len(parts) >= 2 and parts[1].isdigit():
            return parts[1]
    return None


def _money(value: object) -> tuple[Decimal, str | None] | None:
    if not isinstance(value, dict):
        return None
    amount = _decimal(value.get("value"))
    if amount is None:
        return None
    currency = value.get("currency")
    return amount, currency if isinstance(currency, str) and len(currency) == 3 else None


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > _MAX_AMOUNT:
        return None
    return amount.quantize(_CENT)


def _shipping(options: object) -> Decimal | None:
    """The cheapest stated shipping cost; None when only calculated (buyer-specific) rates exist."""
    costs = [cost for option in _list(options) if isinstance(option, dict)
             if (cost := _money(option.get("shippingCost"))) is not None]
    return min(cost[0] for cost in costs) if costs else None


def _location(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    parts = [value.get(key) for key in ("city", "stateOrProvince", "postalCode", "country")]
    text = ", ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    return text or None


def _buying_format(options: object) -> BuyingFormat:
    names = {option for option in _list(options) if isinstance(option, str)}
    # NOTE: an auction that still offers Buy It Now ("AUCTION" and "FIXED_PRICE") can be bought
    # now at ``price``: it is priced as a fixed-price listing (its bids and end are kept)
    if "AUCTION" in names and "FIXED_PRICE" not in names:
        return "auction"
    return "best_offer" if "BEST_OFFER" in names else "fixed"


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _description(item: Mapping[str, Any], *, detail: bool) -> str | None:
    parts: list[str] = []
    html = item.get("description") if detail else None
    if isinstance(html, str) and html.strip():
        parts.append(html_text(html))
    elif isinstance(item.get("shortDescription"), str):
        parts.append(squash(item["shortDescription"]))
    note = item.get("conditionDescription")
    if isinstance(note, str) and note.strip():
        parts.append(f"Condition notes: {squash(note)}")
    text = "\n\n".join(part for part in parts if part)
    return text or None


#: elements that start a new line of text (inline ones such as <b> or <span> do not)
_BLOCKS = ("br, p, div, li, tr, td, th, h1, h2, h3, h4, h5, h6, ul, ol, table, section, article, "
           "blockquote, pre, hr, dt, dd")


def html_text(html: str) -> str:
    """Text lines of an HTML description fragment: one line per block of text, inline markup
    ("never <b>mined</b>") kept on its line."""
    tree = LexborHTMLParser(html, is_fragment=True)
    for node in tree.css(_BLOCKS):
        node.insert_before("\n")
        node.insert_after("\n")
    lines = (squash(line) for line in tree.text(separator="").splitlines())
    return "\n".join(line for line in lines if line)


def _image(value: object) -> str | None:
    url = value.get("imageUrl") if isinstance(value, dict) else None
    return url if isinstance(url, str) and url.startswith("http") else None


def _dedupe(urls: Sequence[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([url for url in urls if url]))


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0 <= number <= 100 else None
