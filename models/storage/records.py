"""Frozen records that cross the storage boundary (what jobs/ hands in, what queries hand out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

#: ISO 4217 currencies without minor units; every other currency is stored in hundredths
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF"})


def to_minor(amount: Decimal | None, currency: str | None) -> int | None:
    """Decimal amount -> integer minor units (cents), rounding half-even."""
    if amount is None:
        return None
    exp = 0 if (currency or "") in ZERO_DECIMAL else 2
    return int((amount * (10**exp)).to_integral_value())


def from_minor(value: int | None, currency: str | None) -> Decimal | None:
    if value is None:
        return None
    exp = 0 if (currency or "") in ZERO_DECIMAL else 2
    amount: Decimal = Decimal(value) / Decimal(10**exp)
    return amount.quantize(Decimal(1) if exp == 0 else Decimal("0.01"))


#: an alert's states: queued → sending → sent, or failed; "uncertain" may have been delivered (the
#: server took it and did not confirm): sent once more, never marked failed; "skipped" is a digest
#: candidate left out of the digest; "previewed" was rendered by `gpuscout demo` and never sent
DELIVERY_STATES = ("queued", "sending", "sent", "failed", "uncertain", "skipped", "previewed")

@dataclass(frozen=True, slots=True)
class ListingRecord:
    """A listing ready to store: money already in integer minor units, identity decided."""

    source: str
    external_id: str
    url: str
    title: str
    description: str | None = None
    price: int | None = None
    shipping: int | None = None
    price_local: int | None = None
    price_max: int | None = None
    currency: str | None = None
    location: str | None = None
    seller: str | None = None
    seller_feedback: int | None = None
    seller_positive_pct: float | None = None
    condition: str | None = None
    buying_format: str = "fixed"
    bids: int | None = None
    status: str = "active"
    image_url: str | None = None
    posted_at: datetime | None = None
    sold_at: datetime | None = None
    model: str | None = None
    variant: str | None = None
    kind: str | None = None
    quantity: int = 1
    ends_at: datetime | None = None
    price_each: bool = False
    #: the identified item lines of a multi-item post, as JSON text
    items: str | None = None


@dataclass(frozen=True, slots=True)
class PriceChange:
    listing_id: int
    old_price: int | None
    new_price: int | None
    old_shipping: int | None
    new_shipping: int | None


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What one batch did: ids of new listings, price changes, listings back from gone."""

    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    new: tuple[int, ...] = ()
    changed: tuple[PriceChange, ...] = ()
    back: tuple[int, ...] = ()
    sold: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    listing_id: int
    watch: str
    version: int
    total: int
    fits: bool
    unfit_reason: str | None
    unit_price: int | None
    currency: str | None
    price_points: int
    condition_points: int
    risk_points: int
    components: Any
    flags: Any
    reasons: Any
    reference: Any
    computed_at: datetime
