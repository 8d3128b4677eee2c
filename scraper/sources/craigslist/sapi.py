"""Craigslist's ``sapi`` JSON search: building its URL and decoding its positional item arrays."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from gpuscout.scraper.errors import MarkupDrift, PriceError
from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.money import detect_currency, parse_amount
from gpuscout.scraper.sources.base import ParseResult, SearchSpec

SOURCE = "craigslist"
DEFAULT_SAPI_BASE = "https://sapi.craigslist.org"
IMAGE_HOST = "https://images.craigslist.org"
WWW_HOST = "https://www.craigslist.org"

#: Craigslist area ids ("site" hostname -> id). The sapi ``batch`` parameter starts with the
#: area id; these are the ids the site itself reports (decode.locations of a search response,
#: ``areaId`` of its pages). Any other site needs ``options["area_id"]``.
AREA_IDS: Mapping[str, int] = {
    "sfbay": 1, "newyork": 3, "chicago": 11, "phoenix": 18, "dallas": 21, "stlouis": 29,
    "memphis": 46, "milwaukee": 47, "tucson": 57, "tulsa": 70, "littlerock": 100,
    "grandrapids": 129, "jackson": 134, "springfield": 221, "southbend": 228, "flagstaff": 244,
    "kalamazoo": 261, "fayar": 293, "easttexas": 308, "texarkana": 359, "westky": 377,
    "prescott": 419, "joplin": 423, "jonesboro": 425, "jacksontn": 558, "shoals": 560,
    "semo": 566, "cenla": 644, "texoma": 649, "loz": 695,
}

# NOTE: item[4] is "<location index>:<description index>~<lat>~<lng>"; either index may be 0 (none).
_GEO = re.compile(r"(\d{1,6}):(\d{1,6})~", re.ASCII)
_TAG_IMAGES, _TAG_SLUG, _TAG_PRICE, _TAG_TOKEN = 4, 6, 10, 13
# NOTE: positions 0-4 are fixed scalars and 5 is a short image-layout code (or 0); the tagged
# sub-arrays and the one plain-string title follow, in no fixed order.
_FIRST_FREE = 6
_MAX_ID = 10**13
_CENT = Decimal("0.01")
_SLUG = re.compile(r"[\w-]+")
#: a /view/d/ token: base64url (letters, digits, "_" and "-")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HOST = re.compile(r"[a-z0-9]+")
_PATH_PART = re.compile(r"[a-z]+")


def sapi_search_url(spec: SearchSpec, site: str, category: str) -> str:
    """The sapi ``postings/search/full`` URL the Craigslist web app itself calls for a search."""
    base = spec.options.get("sapi_base_url", DEFAULT_SAPI_BASE).rstrip("/")
    area = spec.options.get("area_id") or AREA_IDS.get(site)
    if area is None:
        raise ValueError(f"no known Craigslist area id for site {site!r}; "
                         "set options.area_id for the sapi search")
    params: dict[str, str] = {
        # NOTE: batch is "<area id>-<offset>-<count>-0-0"; the site asks for 360 at a time
        "batch": f"{area}-0-360-0-0",
        "cc": spec.options.get("cc", "US"),
        "lang": "en",
        "searchPath": category,
        "query": spec.query,
    }
    if spec.min_price is not None:
        params["min_price"] = str(spec.min_price)
    if spec.max_price is not None:
        params["max_price"] = str(spec.max_price)
    return f"{base}/web/v8/postings/search/full?{urlencode(params)}"


def site_money(text: str, site_currency: str) -> tuple[Decimal, str]:
    """Amount and currency of a Craigslist price text: a bare "$" means the site's own currency."""
    amount = parse_amount(text)
    return amount, _named_currency(text, site_currency)


def _named_currency(text: str, site_currency: str) -> str:
    named = detect_currency(text)
    # NOTE: Canadian areas print "$" too; only an explicit code or other symbol overrides the site.
    if named is None or (named == "USD" and "US" not in text.upper()):
        return site_currency
    return named


def is_sapi(doc: object) -> bool:
    """True for a sapi search response (parsed JSON)."""
    if not isinstance(doc, dict):
        return False
    if "apiVersion" in doc and "data" in doc:
        return True
    data = doc.get("data")
    return isinstance(data, dict) and "decode" in data and "items" in data


def parse_sapi(doc: dict[str, Any]) -> ParseResult:
    """Decode a sapi search response into listings."""
    data = doc.get("data")
    errors = doc.get("errors")
    if not isinstance(data, dict) or not data:
        raise MarkupDrift(f"sapi response without data (errors: {str(errors)[:200]})",
                          reason="sapi-no-data")
    items = data.get("items")
    if not isinstance(items, list):
        raise MarkupDrift("sapi response has no items array", reason="sapi-no-items")
    if not items:
        return ParseResult(listings=(), empty=True)
    decode = data.get("decode")
    if not isinstance(decode, dict):
        raise MarkupDrift("sapi response has items but no decode block", reason="sapi-no-decode")
    ctx = _Context.from_data(data, decode)
    listings: list[RawListing] = []
    incomplete = 0
    for item in items:
        listing = ctx.decode_item(item)
        if listing is None:
            incomplete += 1
        else:
            listings.append(listing)
    if not listings:
        raise MarkupDrift(f"none of {len(items)} sapi items could be decoded", reason="sapi-items")
    return ParseResult(listings=tuple(listings), incomplete=incomplete)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Context:
    """The response-wide values every item is decoded against."""

    def __init__(self, min_id: int, min_date: int, locations: list[Any], descriptions: list[Any],
                 currencies: dict[int, str], default_currency: str, category: str | None) -> None:
        self.min_id = min_id
        self.min_date = min_date
        self.locations = locations
        self.descriptions = descriptions
        self.currencies = currencies
        self.default_currency = default_currency
        self.category = category

    @classmethod
    def from_data(cls, data: dict[str, Any], decode: dict[str, Any]) -> _Context:
        min_id = _int(decode.get("minPostingId"))
        min_date = _int(decode.get("minPostedDate"))
        if min_id is None or min_date is None:
            raise MarkupDrift("sapi decode block lacks minPostingId/minPostedDate",
                              reason="sapi-decode")
        locations = decode.get("locations")
        descriptions = decode.get("locationDescriptions")
        currencies: dict[int, str] = {}
        areas = data.get("areas")
        if isinstance(areas, dict):
            for key, area in areas.items():
                code = area.get("currency") if isinstance(area, dict) else None
                if isinstance(code, str) and re.fullmatch(r"[A-Z]{3}", code) \
                        and re.fullmatch(r"\d{1,9}", str(key), re.ASCII):
                    currencies[int(key)] = code
        default = next(iter(currencies.values()), "USD")
        abbr = data.get("categoryAbbr")
        return cls(min_id, min_date, locations if isinstance(locations, list) else [],
                   descriptions if isinstance(descriptions, list) else [], currencies, default,
                   abbr if isinstance(abbr, str) and re.fullmatch(r"[a-z]{3}", abbr) else None)

    def decode_item(self, item: object) -> RawListing | None:
        """One listing from one positional item array, or None when it lacks a required part."""
        if not isinstance(item, list) or len(item) < 5:
            return None
        offset, age, price_raw = _int(item[0]), _int(item[1]), _int(item[3])
        if offset is None or age is None or not 0 <= offset < _MAX_ID:
            return None
        post_id = self.min_id + offset
        try:
            posted: datetime | None = datetime.fromtimestamp(self.min_date + age, tz=UTC)
        except (OverflowError, OSError, ValueError):
            posted = None
        slug = token = price_text = None
        images: list[str] = []
        strings: list[str] = []
        for index, part in enumerate(item[_FIRST_FREE - 1:], start=_FIRST_FREE - 1):
            # NOTE: the slot right after the geo string is an image-layout code, not the title
            if isinstance(part, str) and index >= _FIRST_FREE:
                strings.append(part)
            elif isinstance(part, list) and part and isinstance(tag := part[0], int) \
                    and not isinstance(tag, bool):
                if tag == _TAG_IMAGES:
                    images += [_image_url(ref) for ref in part[1:] if isinstance(ref, str)]
                elif len(part) > 1 and isinstance(value := part[1], str):
                    if tag == _TAG_SLUG:
                        slug = value
                    elif tag == _TAG_PRICE:
                        price_text = value
                    elif tag == _TAG_TOKEN:
                        token = value
        title = strings[-1].strip() if strings else ""
        if not title:
            return None
        area_id, host, subarea, description = self._where(item[4])
        currency = self.currencies.get(area_id, self.default_currency) if area_id is not None \
            else self.default_currency
        price = _price(price_raw, price_text, currency)
        return RawListing(
            source=SOURCE,
            external_id=str(post_id),
            aliases=(token,) if token and _TOKEN.fullmatch(token) else (),
            url=self._url(post_id, slug, token, host, subarea),
            title=title,
            price=price[0] if price else None,
            currency=price[1] if price else currency,
            location=description,
            posted_at=posted,
            image_url=images[0] if images else None,
            images=tuple(dict.fromkeys(images)),
        )

    def _where(self, geo: object) -> tuple[int | None, str | None, str | None, str | None]:
        """(area id, area hostname, subarea abbr, place description) from the geo string."""
        match = _GEO.match(geo) if isinstance(geo, str) else None
        if match is None:
            return None, None, None, None
        loc_index, desc_index = int(match.group(1)), int(match.group(2))
        area_id = host = subarea = description = None
        if 0 < loc_index < len(self.locations):
            loc = self.locations[loc_index]
            if isinstance(loc, list) and len(loc) >= 2:
                area_id = _int(loc[0])
                host = loc[1] if isinstance(loc[1], str) else None
                subarea = loc[2] if len(loc) > 2 and isinstance(loc[2], str) else None
        if 0 < desc_index < len(self.descriptions):
            desc = self.descriptions[desc_index]
            if isinstance(desc, str) and desc.strip():
                description = " ".join(desc.split())
        return area_id, host, subarea, description

    def _url(self, post_id: int, slug: str | None, token: str | None, host: str | None,
             subarea: str | None) -> str:
        safe_slug = slug if slug and _SLUG.fullmatch(slug) else "d"
        # NOTE: Craigslist now links postings as www.craigslist.org/view/d/<slug>/<token>, the token
        # being tag 13; without one, the regional legacy form needs the category abbreviation.
        if token and _TOKEN.fullmatch(token):
            return f"{WWW_HOST}/view/d/{safe_slug}/{token}"
        if host and _HOST.fullmatch(host):
            path = "".join(f"{p}/" for p in (subarea, self.category)
                           if p and _PATH_PART.fullmatch(p))
            return f"https://{host}.craigslist.org/{path}d/{safe_slug}/{post_id}.html"
        return f"{WWW_HOST}/d/{safe_slug}/{post_id}.html"


def _image_url(ref: str) -> str:
    """ "3:00c0c_4jKfGDZEMvE_0fY0bU" -> the 600x450 rendition on the image host."""
    return f"{IMAGE_HOST}/{ref[ref.find(':') + 1:]}_600x450.jpg"


def _price(raw: int | None, text: str | None, currency: str) -> tuple[Decimal, str] | None:
    """The asking price: item[3] in whole units (-1: none); its "$X" display names the currency."""
    if raw is None or raw < 0 or raw > 100_000_000:
        return None
    if text:
        named = _named_currency(text, currency)
        # NOTE: as site_money(text, currency)[1]: a named currency counts only in a readable price
        if named != currency:
            with contextlib.suppress(PriceError):
                parse_amount(text)
                currency = named
    return Decimal(raw).quantize(_CENT), currency
