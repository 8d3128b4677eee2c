"""The baseline: the same extraction as the HTML parsers, written with BeautifulSoup + lxml.

It walks the same elements and reuses the sources' text helpers (prices, seller rows, URLs), so
the difference measured is the HTML library and the way the tree is walked.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, NavigableString

from gpuscout.scraper.listing import RawListing
from gpuscout.scraper.sources.craigslist import source as cl
from gpuscout.scraper.sources.ebay import html as eh
from gpuscout.scraper.sources.ebay.source import site_currency


def _classes(tag: Tag) -> list[str]:
    value: Any = tag.get("class") or []
    return list(value) if isinstance(value, list) else str(value).split()


def _attr(tag: Tag | None, name: str) -> str | None:
    if tag is None:
        return None
    value = tag.get(name)
    return " ".join(value) if isinstance(value, list) else value


def _clean(tag: Tag) -> str:
    parts: list[str] = []
    _collect(tag, parts)
    return eh.squash("".join(parts))


def _collect(tag: Tag, parts: list[str]) -> None:
    for child in tag.children:
        if isinstance(child, NavigableString):
            if not isinstance(child, Comment):
                parts.append(str(child))
        elif isinstance(child, Tag) and eh._NOISE_CLASSES.isdisjoint(_classes(child)):
            _collect(child, parts)


def _first_text(tag: Tag, selector: str) -> str:
    found = tag.select_one(selector)
    return _clean(found) if found is not None else ""


def _image(img: Tag | None) -> str | None:
    if img is None:
        return None
    for key in ("data-defer-load", "data-src", "src"):
        value = _attr(img, key)
        if value and value.startswith("http") and eh._PLACEHOLDER_IMAGE not in value:
            return value
    return None


def _scard(li: Tag, page_url: str, currency: str) -> RawListing | None:
    link = li.select_one("a[href*='/itm/']")
    href = _attr(link, "href")
    listing_id = _attr(li, "data-listingid") or (eh.item_id_from_url(href) if href else None)
    title = _first_text(li, ".s-card__title")
    if not title and (img := li.select_one("img")) is not None:
        title = eh.squash(_attr(img, "alt") or "")
    subtitles = li.select(".s-card__subtitle")
    condition = _clean(subtitles[-1]).split(" · ")[0] or None if subtitles else None
    fields = eh._Fields()
    for row in li.select(".s-card__attribute-row"):
        fields.read(row.get_text(" "), currency)
    card = eh._Card(
        external_id=listing_id, url=eh.canonical_url(href, page_url) if href else None,
        title=title, price_text=eh.squash("".join(n.get_text() for n in li.select(".s-card__price"))),
        condition=condition, caption=_first_text(li, ".s-card__caption"),
        image=_image(li.select_one("img.s-card__image") or li.select_one("img")),
    )
    return eh._listing(card, fields, currency)


def _sitem(li: Tag, page_url: str, currency: str) -> RawListing | None:
    link = li.select_one("a.s-item__link") or li.select_one("a[href*='/itm/']")
    href = _attr(link, "href")
    listing_id = _attr(li, "data-listingid") or (eh.item_id_from_url(href) if href else None)
    fields = eh._Fields()
    for row in li.select(eh._SITEM_ROWS):
        if fields.shipping is not None and "s-item__freeXDays" in _classes(row):
            continue
        fields.read(row.get_text(" "), currency)
    caption = _first_text(li, ".s-item__caption--signal, .s-item__title--tagblock .POSITIVE, "
                              ".s-item__ended-date, .s-item__endedDate")
    card = eh._Card(
        external_id=listing_id, url=eh.canonical_url(href, page_url) if href else None,
        title=_first_text(li, ".s-item__title"), price_text=_first_text(li, ".s-item__price"),
        condition=_first_text(li, ".SECONDARY_INFO") or None, caption=caption,
        image=_image(li.select_one("img.s-item__image-img") or li.select_one("img")),
    )
    return eh._listing(card, fields, currency)


def ebay_search(body: bytes, url: str) -> list[RawListing]:
    """Organic cards of an eBay results page (both layouts), as ``parse_results`` reads them."""
    soup = BeautifulSoup(body, "lxml")
    currency = site_currency(url)
    listings: list[RawListing] = []
    seen: set[str] = set()
    for ul in soup.select(eh._RESULT_LISTS):
        for li in ul.find_all("li", recursive=False):
            classes = _classes(li)
            if "s-card" not in classes and "s-item" not in classes:
                continue
            if li.has_attr("hidden") or "ghost" in " ".join(classes):
                continue
            parse = _scard if "s-card" in classes else _sitem
            listing = parse(li, url, currency)
            if listing is not None and listing.external_id not in seen \
                    and not eh._placeholder_title(listing.title):
                seen.add(listing.external_id)
                listings.append(listing)
    soup.select_one(".srp-controls__count-heading")
    soup.select_one("a.pagination__next")
    return listings


def ebay_item(body: bytes, url: str) -> list[RawListing]:
    """An eBay item page (x- layout), as ``EbaySource`` reads it."""
    soup = BeautifulSoup(body, "lxml")
    currency = site_currency(url)
    product: dict[str, Any] = {}
    for script in soup.select("script[type='application/ld+json']"):
        try:
            data = json.loads(script.get_text())
        except ValueError:
            continue
        for entry in data if isinstance(data, list) else [data]:
            if isinstance(entry, dict) and entry.get("@type") == "Product":
                product = entry

    def text(selector: str) -> str:
        return _first_text(soup, selector)

    href = _attr(soup.select_one("link[rel='canonical']"), "href") or url
    external_id = eh.item_id_from_url(href) or text(".ux-layout-section--itemId .ux-textspans--BOLD")
    title = text(".x-item-title__mainTitle .ux-textspans--BOLD") or text(".x-item-title__mainTitle")
    price = eh.parse_money_text(text(".x-price-primary"), currency)
    ship_text = text(".ux-labels-values--shipping .ux-labels-values__values .ux-textspans")
    shipping = eh.parse_money_text(ship_text, price[1] if price else None)
    seller = text(".x-sellercard-atf__info__about-seller a .ux-textspans") or None
    feedback = eh.parse_count(text(".x-sellercard-atf__about-seller").strip("() "))
    positive = None
    for item in soup.select(".x-sellercard-atf__data-item"):
        parsed = eh.parse_seller(_clean(item))
        if parsed is not None:
            positive = parsed[2]
            break
    location = None
    for span in soup.select(".ux-layout-section--shipping .ux-textspans"):
        match = re.match(r"^Located in:?\s*(.+)$", eh.squash(span.get_text()), re.I)
        if match:
            location = match.group(1)
            break
    actions = text(".x-buybox-cta").lower()
    auction = soup.select_one(".x-bid-price") is not None or "place bid" in actions
    lines = []
    for row in soup.select(".ux-layout-section--features .ux-labels-values"):
        if "ux-labels-values--condition" in _classes(row):
            continue
        label, value = _first_text(row, ".ux-labels-values__labels"), _first_text(
            row, ".ux-labels-values__values")
        if label and value:
            lines.append(f"{label}: {value}")
    images = [s for img in soup.select(".ux-image-carousel-item img")
              if (s := _attr(img, "data-zoom-src") or _attr(img, "data-src") or _attr(img, "src"))
              and s.startswith("http")]
    ld_image = product.get("image")
    images += [u for u in (ld_image if isinstance(ld_image, list) else [ld_image])
               if isinstance(u, str)]
    if not (external_id and title and price):
        return []
    return [RawListing(
        source="ebay", external_id=external_id, url=eh.canonical_url(href, url), title=title,
        price=price[0], currency=price[1] or currency, shipping=shipping[0] if shipping else None,
        location=location, seller=seller, seller_feedback=feedback, seller_positive_pct=positive,
        condition=text(".x-item-condition-text .ux-textspans") or None,
        buying_format="auction" if auction else "fixed", description="\n".join(lines) or None,
        image_url=images[0] if images else None, images=tuple(dict.fromkeys(images)),
    )]


def craigslist_search(body: bytes, url: str) -> list[RawListing]:
    """A Craigslist static search page, as ``CraigslistSource`` reads it."""
    soup = BeautifulSoup(body, "lxml")
    currency = "USD"
    region = soup.select_one('meta[name="geo.region"]')
    if (_attr(region, "content") or "").upper().startswith("CA-"):
        currency = "CAD"
    entries: list[dict[str, Any]] = []
    script = soup.select_one("script#ld_searchpage_results")
    if script is not None:
        doc = json.loads(script.get_text())
        entries = [e.get("item") or {} for e in doc.get("itemListElement", [])]
    listings: list[RawListing] = []
    for index, card in enumerate(soup.select("li.cl-static-search-result")):
        href = _attr(card.select_one("a[href]"), "href") or ""
        title_node = card.select_one(".title")
        title = cl._clean(title_node.get_text() if title_node is not None else _attr(card, "title"))
        external_id = cl._external_id(href)
        if not title or not external_id:
            continue
        ld = entries[index] if index < len(entries) else {}
        if cl._clean(ld.get("name") if isinstance(ld.get("name"), str) else None) != title:
            ld = {}
        price_node = card.select_one(".price")
        price, cur = cl._money(price_node.get_text() if price_node is not None else cl._ld_price(ld),
                               currency)
        location_node = card.select_one(".location")
        location = cl._clean(location_node.get_text()) if location_node is not None else None
        images = cl._ld_images(ld)
        listings.append(RawListing(
            source="craigslist", external_id=external_id, url=urljoin(url, href), title=title,
            price=price, currency=cur, location=location or cl._ld_place(ld),
            image_url=images[0] if images else None, images=images))
    soup.select_one('link[rel="next"]')
    return listings


def craigslist_posting(body: bytes, url: str) -> list[RawListing]:
    """A Craigslist posting page, as ``CraigslistSource`` reads it."""
    soup = BeautifulSoup(body, "lxml")
    title_node = soup.select_one("#titletextonly")
    title = cl._clean(title_node.get_text() if title_node is not None else None)
    page_url = _attr(soup.select_one('link[rel="canonical"]'), "href") or url
    post_id = None
    for info in soup.select("p.postinginfo"):
        match = cl._POST_ID.search(info.get_text())
        if match:
            post_id = match.group(1)
            break
    post_id = post_id or cl._external_id(page_url)
    price_node = soup.select_one(".postingtitletext .price")
    price, cur = cl._money(price_node.get_text() if price_node is not None else None, "USD")
    body_node = soup.select_one("#postingbody")
    description = None
    if body_node is not None:
        for node in body_node.select(".print-information, .print-qrcode-container, script"):
            node.decompose()
        lines = [" ".join(line.split()) for line in body_node.get_text("\n").splitlines()]
        description = "\n".join(lines).replace("QR Code Link to This Post", "").strip() or None
    images: list[str] = []
    for script in soup.select("script"):
        match = cl._IMG_LIST.search(script.get_text())
        if match:
            images = [e["url"] for e in json.loads(match.group(1)) if isinstance(e, dict)]
            break
    condition = None
    for node in soup.select(".attrgroup .attr, .attrgroup > span"):
        name, sep, value = " ".join(node.get_text().split()).partition(":")
        if sep and name.strip().lower() == "condition":
            condition = value.strip()
    place = soup.select_one('meta[name="geo.placename"]')
    if not (title and post_id):
        return []
    return [RawListing(
        source="craigslist", external_id=post_id, url=page_url, title=title, price=price,
        currency=cur, location=cl._clean(_attr(place, "content")), condition=condition,
        description=description, image_url=images[0] if images else None, images=tuple(images))]


#: capture kind -> the baseline extraction for it
BASELINES = {
    "ebay-search": ebay_search, "ebay-item": ebay_item,
    "craigslist-search": craigslist_search, "craigslist-posting": craigslist_posting,
}
