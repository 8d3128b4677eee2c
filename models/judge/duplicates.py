"""Cross-posts and reposts: the same card offered on several marketplaces, or listed again, is
recognised by its photo, its seller with a similar title and price, or the very same title, price
and place, so that it counts once in the market, keeps one price history and alerts once.

``match_keys`` gives the keys under which a listing can meet its earlier copies (storage looks
them up); ``same_card`` decides whether two listings that met are one card.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from gpuscout.models.judge.catalog import normalize

#: the offer of a Reddit trading post: what it "has" ([H]), before what it wants ([W])
_HAVE = re.compile(r"\[\s*h\s*\](.*?)(?:\[\s*w\s*\]|$)")
_TAG = re.compile(r"\[[^\]]{0,20}\]|\([^)]{0,20}\)")
_WORD = re.compile(r"[a-z0-9]+")
#: words that say nothing about which card it is
_NOISE_WORDS = """
a an and the for with in of to on or new used like mint excellent great good condition
sale selling sell fs wts wtt obo firm shipped shipping free local pickup only price drop
reduced relisted relist again lowered nvidia geforce graphics card gpu video gb gddr6x gddr6
24gb 12gb 16gb 10gb 8gb
"""
_NOISE = frozenset(_NOISE_WORDS.split())
_IMGUR = re.compile(r"imgur\.com/(?:a/|gallery/)?([A-Za-z0-9]{5,})")
_EBAY_PICTURE = re.compile(r"/images/g/([A-Za-z0-9~_-]{6,})/")
_CRAIGSLIST_PICTURE = re.compile(r"images\.craigslist\.org/(?:d/)?([A-Za-z0-9_]+?)(?:_\d+x\d+)?\.")
#: copies of one card further apart than this are not matched
WINDOW = timedelta(days=60)
#: a seller's relisted card may come back this much cheaper (or dearer) and be the same
SELLER_PRICE_SPREAD = Decimal("0.20")
#: without a seller, the same title and place must come at the same price, within this
PLAIN_PRICE_SPREAD = Decimal("0.01")
SIMILAR_TITLE = 0.5
#: a title without a place to compare must say this much to tell one card from another
DISTINCT_WORDS = 5


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What matching reads of a listing. ``price`` is per card in one currency for all (None
    when it could not be converted); ``seen`` when it was first seen."""

    listing_id: int
    source: str
    model: str
    variant: str
    title: str
    price: Decimal | None
    seen: datetime
    status: str = "active"
    seller: str | None = None
    location: str | None = None
    image_url: str | None = None
    description: str | None = None


def offer_words(title: str) -> frozenset[str]:
    """The words that name the card offered: a trading post's [H] part, tags, marketplace
    boilerplate and memory sizes left out."""
    text = normalize(title)
    have = _HAVE.search(text)
    if have:
        text = have.group(1)
    text = _TAG.sub(" ", text)
    return frozenset(w for w in _WORD.findall(text) if w not in _NOISE)


def seller_key(seller: str | None) -> str | None:
    """A seller's handle as it reads on any marketplace ("u/Name" and "name" alike)."""
    if not seller:
        return None
    text = normalize(seller).removeprefix("u/").removeprefix("/u/").strip()
    return text or None


def image_keys(image_url: str | None, description: str | None = None) -> frozenset[str]:
    """Ids of the photos a listing shows: eBay's picture id, a Craigslist image id, the imgur
    albums or images linked from the text ("timestamps"); the full URL of any other photo."""
    keys: set[str] = set()
    if image_url:
        if m := _EBAY_PICTURE.search(image_url):
            keys.add(f"ebay:{m.group(1)}")
        elif m := _CRAIGSLIST_PICTURE.search(image_url):
            keys.add(f"craigslist:{m.group(1)}")
        elif m := _IMGUR.search(image_url):
            keys.add(f"imgur:{m.group(1)}")
        else:
            parts = urlsplit(image_url)
            if parts.netloc and parts.path not in ("", "/"):
                keys.add(f"url:{parts.netloc.lower()}{parts.path}")
    for m in _IMGUR.finditer(description or ""):
        keys.add(f"imgur:{m.group(1)}")
    return frozenset(keys)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def match_keys(card: CardFacts) -> tuple[str, ...]:
    """The keys under which ``card`` meets its copies: each photo, the seller with the model,
    and the offer's words with the model (a copy shares at least one)."""
    model = f"{card.model}|{card.variant}"
    keys = [f"img:{_digest(k)}" for k in sorted(image_keys(card.image_url, card.description))]
    seller = seller_key(card.seller)
    if seller:
        keys.append(f"seller:{_digest(seller)}|{model}")
    words = offer_words(card.title)
    if words:
        keys.append(f"title:{_digest(' '.join(sorted(words)))}|{model}")
    return tuple(keys)


def _close(a: Decimal | None, b: Decimal | None, spread: Decimal) -> bool:
    if a is None or b is None:
        return False
    return abs(a - b) <= spread * max(a, b)


def _similar(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def same_card(new: CardFacts, old: CardFacts) -> str | None:
    """Why ``new`` is the card ``old`` already offered (a cross-post or a repost), or None. Never
    across models or variants, nor more than ``WINDOW`` apart; a card that sold and is offered
    again is a new sale."""
    if new.listing_id == old.listing_id or (new.model, new.variant) != (old.model, old.variant):
        return None
    if new.model in ("none", "multiple") or abs(new.seen - old.seen) > WINDOW:
        return None
    if old.status == "sold" and new.status != "sold":
        return None
    photos = image_keys(new.image_url, new.description) & image_keys(old.image_url,
                                                                      old.description)
    if photos:
        return f"the same photo ({sorted(photos)[0]})"
    seller, old_seller = seller_key(new.seller), seller_key(old.seller)
    if seller is not None and old_seller is not None:
        if seller != old_seller:
            return None
        similar = _similar(offer_words(new.title), offer_words(old.title))
        if similar >= SIMILAR_TITLE and (_close(new.price, old.price, SELLER_PRICE_SPREAD)
                                         or new.price is None or old.price is None):
            return f"the same seller {seller!r} with a similar title at a similar price"
        return None
    words = offer_words(new.title)
    if not words or words != offer_words(old.title):
        return None
    place_new, place_old = normalize(new.location), normalize(old.location)
    if place_new and place_old:
        if place_new != place_old:
            return None
    elif len(words) < DISTINCT_WORDS:
        return None
    if _close(new.price, old.price, PLAIN_PRICE_SPREAD):
        return "the same title and price" + (" in the same place" if place_new and place_old
                                             else "")
    return None
