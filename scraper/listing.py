"""The record every parser returns: one marketplace listing, as the page states it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

BuyingFormat = Literal["fixed", "auction", "best_offer"]
Status = Literal["active", "sold", "wanted"]


@dataclass(frozen=True, slots=True)
class RawListing:
    """One listing as read from a page. Money is Decimal in the listing's own currency.

    ``price`` is what the page asks for the item (for a Reddit multi-item post: the price stated
    for the graphics card, shipped when both are given); ``price_local`` is a separately stated
    local-pickup price. ``shipping`` is ``Decimal(0)`` when free, ``None`` when unknown.
    ``price_each``: the page states the price per item ("$700 each" for two cards). An auction
    carries its ``bids`` and its end: ``ends_at`` when the page gives the time, ``ends_in`` when it
    gives the time left (relative to when the page was fetched).
    """

    source: str
    external_id: str
    url: str
    title: str
    price: Decimal | None = None
    shipping: Decimal | None = None
    currency: str | None = None
    location: str | None = None
    posted_at: datetime | None = None
    seller: str | None = None
    seller_feedback: int | None = None
    seller_positive_pct: float | None = None
    condition: str | None = None
    buying_format: BuyingFormat = "fixed"
    status: Status = "active"
    description: str | None = None
    image_url: str | None = None
    price_local: Decimal | None = None
    price_max: Decimal | None = None
    bids: int | None = None
    sold_at: datetime | None = None
    images: tuple[str, ...] = field(default_factory=tuple)
    ends_at: datetime | None = None
    ends_in: timedelta | None = None
    price_each: bool = False
    #: other ids the marketplace shows for the same post (Craigslist: the numeric post id and the
    #: token of its /view/d/ link), so that storage keeps one listing whichever a page shows
    aliases: tuple[str, ...] = field(default_factory=tuple)
