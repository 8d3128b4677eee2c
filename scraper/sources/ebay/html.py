"""eBay search result pages: the 2025 ``li.s-card`` layout and the legacy ``li.s-item`` layout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from gpuscout.scraper.errors import PriceError
from gpuscout.scraper.listing import BuyingFormat, RawListing, Status
from gpuscout.scraper.money import parse_price, parse_price_range

SOURCE = "ebay"

# NOTE: eBay hides screen-reader text ("Opens in a new window or tab") in span.clipped and marks
# fresh listings with a "New Listing" / "Neues Angebot" highlight inside the title element.
_NOISE_CLASSES = frozenset(
    {"clipped", "LIGHT_HIGHLIGHT", "s-card__new-listing", "s-item__new-listing"})
_ITM_PATH = re.compile(r"/itm/(?:[^/?#]+/)?(\d{6,19})(?:[/?#]|$)")
_ABSOLUTE_ITM = re.compile(r"^(https?://[^/?#]+)/itm/(?:[^/?#]+/)?(\d{6,19})(?:[/#]|\?([^#]*)|$)")
# NOTE: "var=" at the start of the query or after "&", written literal-first (the "&" checked
# behind it) so the search skips through kilobyte queries in C.
_VARIATION = re.compile(r"var=(?<![^&]var=)(\d+)(?:&|$)")
_PLACEHOLDER_TITLES = frozenset({"shop on ebay"})

_BIDS = re.compile(r"^(\d[\d.,]*)\s+(?:bids?|Gebote?|enchères?|offerte?|pujas?)\b", re.I)
_BEST_OFFER = re.compile(
    r"best offer|preisvorschlag|offre directe|miglior offerta|mejor oferta", re.I)
_AUCTION = re.compile(r"^(?:auction|auktion|enchères)$", re.I)
# The time an auction has left: "6d 23h left", "Noch 6T 23Std", "Time left: 2h 5m",
# "Il reste 3j 4h", "23Std 39 Min"; days, hours and minutes, any of them.
_TIME_LEFT = re.compile(
    r"^(?P<lead>noch|time\s*left:?|il\s*reste|quedan|tiempo\s*restante:?|mancano)?\s*"
    r"(?:(?P<d>\d{1,3})\s*(?:d|t|j|g|tage?|days?|jours?|días?|giorni)\.?(?![a-z]))?\s*"
    r"(?:(?P<h>\d{1,2})\s*(?:h|std|stunden?|hrs?|hours?|heures?|horas?|ore)\.?(?![a-z]))?\s*"
    r"(?:(?P<m>\d{1,2})\s*(?:m|min|minuten?|mins?|minutes?|minutos?|minuti)\.?(?![a-z]))?\s*"
    r"(?P<tail>left|übrig|restant(?:e|s)?)?", re.I)
_FREE_SHIPPING = re.compile(
    r"^(?:free|kostenlos(?:er)?|gratis)\b.*(?:delivery|shipping|postage|versand|lieferung)", re.I)
_SHIPPING_COST = re.compile(
    r"^\+\s*(.+?)\s+(?:delivery|shipping|postage|versand|livraison|spedizione|envío)", re.I)
_LOCATION = re.compile(r"^(?:Located in:?|from|aus|Standort:)\s+(.+)$", re.I)
# "seller99 99.9% positive (2.3K)" (2025 cards) and "seller99 (2,345) 99.9%" (legacy rows)
_SELLER_NEW = re.compile(
    r"^(?:(?P<name>.*?)\s+)?(?P<pct>\d{1,3}(?:[.,]\d+)?)\s?%\s*positi\w*\s*"
    r"(?:\((?P<count>\d[\d.,]*\s?[KkMm]?)\))?", re.I)
_SELLER_OLD = re.compile(
    r"^(?P<name>\S.*?)\s*\((?P<count>\d[\d.,]*\s?[KkMm]?)\)\s*(?P<pct>\d{1,3}(?:[.,]\d+)?)\s?%")
_SOLD = re.compile(r"^(?:Sold|Verkauft|Vendu|Venduto|Vendido)\b\s*(.*)$", re.I)
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "mär": 3, "mrz": 3, "apr": 4, "may": 5, "mai": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12, "dez": 12,
}
_DATE_MDY = re.compile(r"([A-Za-zäÄ]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})")
_DATE_DMY = re.compile(r"(\d{1,2})\.?\s+([A-Za-zäÄ]{3,9})\.?\s+(\d{4})")
# NOTE: the lazy-loading placeholder eBay puts in src before swapping in the real photo
_PLACEHOLDER_IMAGE = "ir.ebaystatic.com"


def squash(text: str) -> str:
    """Collapse runs of whitespace (incl. NBSP) to single spaces and strip."""
    return " ".join(text.split())


def clean_text(node: LexborNode) -> str:
    """A node's text without eBay's screen-reader and highlight spans."""
    parts: list[str] = []
    _collect(node, parts)
    return squash("".join(parts))


def _collect(node: LexborNode, parts: list[str]) -> None:
    for child in node.iter(include_text=True):
        if child.is_text_node:
            parts.append(child.text_content or "")
            continue
        classes = (child.attributes.get("class") or "").split()
        if _NOISE_CLASSES.isdisjoint(classes):
            _collect(child, parts)


def item_id_from_url(href: str) -> str | None:
    """The item number in an /itm/ link ("/itm/123456789012?..." or "/itm/slug/123456789012")."""
    match = _ITM_PATH.search(href)
    return match.group(1) if match else None


def canonical_url(href: str, base: str) -> str:
    """Absolute URL without tracking parameters: /itm/<id> keeps only ``var`` (the variation)."""
    fast = _ABSOLUTE_ITM.match(href)
    if fast:
        origin, item_id, query = fast.group(1), fast.group(2), fast.group(3) or ""
    else:
        parts = urlsplit(urljoin(base, href) if base else href)
        origin, query = f"{parts.scheme}://{parts.netloc}", parts.query
        item_id = item_id_from_url(parts.path)
        if item_id is None:
            return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    # NOTE: tracking queries run to kilobytes (itmprp, amdata); a regex beats parse_qsl here.
    variation = _VARIATION.search(query)
    if variation and variation.group(1) != "0":
        return f"{origin}/itm/{item_id}?var={variation.group(1)}"
    return f"{origin}/itm/{item_id}"


def rebase(href: str, page_url: str) -> str:
    """``href`` resolved against ``page_url``, with the scheme and host of ``page_url``."""
    absolute = urljoin(page_url, href) if page_url else href
    page = urlsplit(page_url)
    if not (page.scheme and page.netloc):
        return absolute
    target = urlsplit(absolute)
    return urlunsplit((page.scheme, page.netloc, target.path, target.query, ""))


def parse_count(text: str) -> int | None:
    """"2.3K" -> 2300, "1,234" -> 1234, "1.234" -> 1234, "388" -> 388."""
    raw = text.strip().replace(" ", "")
    if not raw:
        return None
    scale = {"k": 1000, "m": 1_000_000}.get(raw[-1].lower(), 1)
    if scale != 1:
        digits = raw[:-1].replace(",", ".")
        if digits.count(".") > 1:
            return None
    else:
        digits = raw.replace(",", "").replace(".", "")
    try:
        value = Decimal(digits) * scale
    except ArithmeticError:
        return None
    return int(value) if value.is_finite() else None


def parse_seller(text: str) -> tuple[str | None, int | None, float | None] | None:
    """(name, feedback count, positive %) from a seller row, or None when it is no seller row."""
    text = squash(text)
    match = _SELLER_NEW.match(text) or _SELLER_OLD.match(text)
    if not match:
        return None
    name = (match.group("name") or "").strip() or None
    count = match.group("count")
    pct = float(match.group("pct").replace(",", "."))
    return name, parse_count(count) if count else None, pct


def parse_date(text: str) -> datetime | None:
    """A sold date ("Nov 3, 2025", "3 Nov 2025", "3. Nov. 2025") as midnight UTC, or None."""
    match = _DATE_MDY.search(text)
    if match:
        month_name, day, year = match.group(1), match.group(2), match.group(3)
    else:
        match = _DATE_DMY.search(text)
        if not match:
            return None
        day, month_name, year = match.group(1), match.group(2), match.group(3)
    month = _MONTHS.get(month_name[:3].lower())
    if month is None:
        return None
    try:
        return datetime(int(year), month, int(day), tzinfo=UTC)
    except ValueError:
        return None


def image_src(img: LexborNode | None) -> str | None:
    """The real photo URL of an <img>, looking past lazy-loading placeholders."""
    if img is None:
        return None
    attrs = img.attributes
    for key in ("data-defer-load", "data-src", "src"):
        value = attrs.get(key)
        if value and value.startswith("http") and _PLACEHOLDER_IMAGE not in value:
            return value
    return None


@dataclass(slots=True)
class _Fields:
    """What the free-text rows of a card said (mutable while a card is read)."""

    shipping: Decimal | None = None
    location: str | None = None
    seller: str | None = None
    feedback: int | None = None
    positive: float | None = None
    bids: int | None = None
    best_offer: bool = False
    auction: bool = False
    ends_in: timedelta | None = None

    def read(self, text: str, currency: str | None) -> None:
        """Classify one free-text row ("+$4.99 delivery", "Located in …", "12 bids", seller …)."""
        text = squash(text)
        if not text:
            return
        first = text[0]
        if first == "+":
            if match := _SHIPPING_COST.match(text):
                try:
                    self.shipping = parse_price(match.group(1), currency).amount
                except PriceError:
                    self.shipping = None
        elif "%" in text:
            if (seller := parse_seller(text)) is not None:
                self.seller, self.feedback, self.positive = seller
        elif first.isdigit():
            if match := _BIDS.match(text):
                self.bids = parse_count(match.group(1))
            elif (left := time_left(text)) is not None:
                self.ends_in = left
        elif first in "NnTtIiQqMm" and (left := time_left(text)) is not None:
            self.ends_in = left
        elif _FREE_SHIPPING.match(text):
            self.shipping = Decimal(0)
        elif match := _LOCATION.match(text):
            self.location = match.group(1).strip()
        elif _offers(text):
            self.best_offer = True
        elif _AUCTION.match(text):
            self.auction = True

    def buying_format(self) -> BuyingFormat:
        if self.bids is not None or self.auction or self.ends_in is not None:
            return "auction"
        return "best_offer" if self.best_offer else "fixed"


def time_left(text: str) -> timedelta | None:
    """The time an auction row says is left ("6d 23h left", "Noch 6T 23Std"), or None."""
    match = _TIME_LEFT.match(squash(text))
    if match is None or not (match.group("d") or match.group("h") or match.group("m")):
        return None
    if not (match.group("lead") or match.group("tail")):
        return None
    return timedelta(days=int(match.group("d") or 0), hours=int(match.group("h") or 0),
                     minutes=int(match.group("m") or 0))


def _offers(text: str) -> bool:
    """True when a row names a best-offer option. NOTE: each phrase holds "of" or "vor" in some
    case, a test far cheaper than the case-blind search it spares most rows."""
    lower = text.lower()
    return ("of" in lower or "vor" in lower) and _BEST_OFFER.search(text) is not None


@dataclass(frozen=True, slots=True)
class _Card:
    """The parts of one card every layout yields, before they become a RawListing."""

    external_id: str | None
    url: str | None
    title: str
    price_text: str
    condition: str | None
    caption: str
    image: str | None


def _listing(card: _Card, fields: _Fields, currency: str) -> RawListing | None:
    """A RawListing, or None when the card lacks its id, link, title or a readable price."""
    if not (card.external_id and card.url and card.title and card.price_text):
        return None
    try:
        low, high = parse_price_range(card.price_text, currency)
    except PriceError:
        return None
    status: Status = "active"
    sold_at = None
    sold = _SOLD.match(card.caption)
    if sold:
        status, sold_at = "sold", parse_date(sold.group(1))
    return RawListing(
        source=SOURCE, external_id=card.external_id, url=card.url, title=card.title,
        price=low.amount, price_max=high.amount if high else None, shipping=fields.shipping,
        currency=low.currency or currency, location=fields.location, seller=fields.seller,
        seller_feedback=fields.feedback, seller_positive_pct=fields.positive,
        condition=card.condition, buying_format=fields.buying_format(), bids=fields.bids,
        status=status, sold_at=sold_at, image_url=card.image, ends_in=fields.ends_in,
        images=(card.image,) if card.image else (),
    )


def _first_text(node: LexborNode, selector: str) -> str:
    found = node.css_first(selector)
    return clean_text(found) if found is not None else ""


def parse_scard(li: LexborNode, page_url: str, currency: str) -> RawListing | None:
    """One 2025-layout ``li.s-card``."""
    link = li.css_first("a[href*='/itm/']")
    href = link.attributes.get("href") if link is not None else None
    listing_id = li.attributes.get("data-listingid") or (item_id_from_url(href) if href else None)
    title = _first_text(li, ".s-card__title")
    if not title and (img := li.css_first("img")) is not None:
        title = squash(img.attributes.get("alt") or "")
    subtitles = li.css(".s-card__subtitle")
    # NOTE: a seller's tagline can sit in an extra subtitle row above the condition; the condition
    # row is the last one ("Pre-Owned", or "Pre-Owned · Graded" in some categories).
    condition = clean_text(subtitles[-1]).split(" · ")[0] or None if subtitles else None
    fields = _Fields()
    # NOTE: the price row reads as no known phrase, so every row can go through the classifier.
    for row in li.css(".s-card__attribute-row"):
        fields.read(row.text(separator=" "), currency)
    card = _Card(
        external_id=listing_id, url=canonical_url(href, page_url) if href else None, title=title,
        # NOTE: a range is three spans: "$1.49", " to ", "$1.69"; a struck-out list price is no
        # .s-card__price and stays out.
        price_text=squash("".join(n.text() for n in li.css(".s-card__price"))),
        condition=condition, caption=_first_text(li, ".s-card__caption"),
        image=image_src(li.css_first("img.s-card__image") or li.css_first("img")),
    )
    return _listing(card, fields, currency)


_SITEM_ROWS = (".s-item__shipping, .s-item__freeXDays, .s-item__location, .s-item__itemLocation, "
               ".s-item__bids, .s-item__purchase-options, .s-item__purchaseOptionsWithIcon, "
               ".s-item__formatBestOfferEnabled, .s-item__formatAuction, .s-item__seller-info-text, "
               ".s-item__time-left")


def parse_sitem(li: LexborNode, page_url: str, currency: str) -> RawListing | None:
    """One legacy ``li.s-item``."""
    link = li.css_first("a.s-item__link") or li.css_first("a[href*='/itm/']")
    href = link.attributes.get("href") if link is not None else None
    listing_id = li.attributes.get("data-listingid") or (item_id_from_url(href) if href else None)
    fields = _Fields()
    for row in li.css(_SITEM_ROWS):
        classes = row.attributes.get("class") or ""
        if fields.shipping is not None and "s-item__freeXDays" in classes:
            continue
        fields.read(row.text(separator=" "), currency)
    caption = _first_text(li, ".s-item__caption--signal, .s-item__title--tagblock .POSITIVE, "
                              ".s-item__ended-date, .s-item__endedDate")
    card = _Card(
        external_id=listing_id, url=canonical_url(href, page_url) if href else None,
        title=_first_text(li, ".s-item__title"), price_text=_first_text(li, ".s-item__price"),
        condition=_first_text(li, ".SECONDARY_INFO") or None, caption=caption,
        image=image_src(li.css_first("img.s-item__image-img") or li.css_first("img")),
    )
    return _listing(card, fields, currency)


def _hidden(li: LexborNode) -> bool:
    """A ghost (loading) or hidden card."""
    attrs = li.attributes
    return "hidden" in attrs or "ghost" in (attrs.get("class") or "")


def _placeholder_title(title: str) -> bool:
    """eBay's hidden "Shop on eBay" template card, which carries a made-up listing id."""
    return title.lower() in _PLACEHOLDER_TITLES


@dataclass(frozen=True, slots=True)
class Results:
    """What a results page held, before the outcome (empty / drift) is decided.

    NOTE: whether the page says it is empty is looked up only when asked: the lookup walks the
    whole document, and a page of listings never needs it.
    """

    listings: tuple[RawListing, ...]
    cards: int
    skipped: int
    incomplete: int
    looks_like_results: bool
    next_url: str | None
    tree: LexborHTMLParser

    def says_empty(self) -> bool:
        count_text = _count_text(self.tree)
        return (self.tree.css_first(".srp-save-null-search") is not None
                or count_text.startswith("0 ") or "No exact matches found" in count_text)


_RESULT_LISTS = "ul.srp-results, ul.srp-grid"


def _count_text(tree: LexborHTMLParser) -> str:
    heading = tree.css_first(".srp-controls__count-heading")
    return squash(heading.text()) if heading is not None else ""


def parse_results(tree: LexborHTMLParser, page_url: str, currency: str) -> Results:
    """Every organic card of a search page; placeholders, advert carousels and repeats skipped."""
    # NOTE: one walk finds the cards and their lists: every node it returns is an li or a ul,
    # repeated once per selector it matches, as each of the two queries alone returns it.
    found = tree.css(f"li.s-card, li.s-item, {_RESULT_LISTS}")
    all_cards = sum(1 for node in found if node.tag == "li")
    listings: list[RawListing] = []
    seen: set[str] = set()
    direct = skipped = incomplete = 0
    for ul in (node for node in found if node.tag == "ul"):
        # NOTE: organic results are the direct children of ul.srp-results; cards nested inside
        # li.srp-river-answer are advert carousels ("Refurbished", "Sponsored items").
        for li in ul.iter():
            classes = li.attributes.get("class") or ""
            layout = "s-card" if "s-card" in classes.split() else (
                "s-item" if "s-item" in classes.split() else None)
            if li.tag != "li" or layout is None:
                continue
            direct += 1
            if _hidden(li):
                skipped += 1
                continue
            parse = parse_scard if layout == "s-card" else parse_sitem
            listing = parse(li, page_url, currency)
            if listing is None:
                if _placeholder_title(_first_text(li, ".s-card__title, .s-item__title")):
                    skipped += 1
                else:
                    incomplete += 1
            elif listing.external_id in seen or _placeholder_title(listing.title):
                skipped += 1
            else:
                seen.add(listing.external_id)
                listings.append(listing)
    looks = bool(all_cards or tree.css_first(".srp-controls__count-heading") is not None
                 or tree.css_first(f"{_RESULT_LISTS}, .srp-river-results, #srp-river-results"))
    return Results(
        listings=tuple(listings), cards=direct, skipped=skipped + all_cards - direct,
        incomplete=incomplete, looks_like_results=looks, next_url=_next_url(tree, page_url),
        tree=tree,
    )


def _next_url(tree: LexborHTMLParser, page_url: str) -> str | None:
    link = tree.css_first("a.pagination__next")
    if link is None:
        return None
    href = link.attributes.get("href")
    if not href or link.attributes.get("aria-disabled") == "true" or href.startswith("#"):
        return None
    target = rebase(href, page_url)
    return None if target == page_url else target


def parse_money_text(text: str, currency: str | None) -> tuple[Decimal, str | None] | None:
    """(amount, currency) of a price text, None when it holds no readable amount."""
    try:
        money = parse_price(text, currency)
    except PriceError:
        return None
    return money.amount, money.currency

