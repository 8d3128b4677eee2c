"""Prices for scoring: unit price per card, currency conversion, and a watch's market reference."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from gpuscout.models.judge.catalog import DEFAULT, Catalog, MarketBand
from gpuscout.models.judge.inputs import MarketRules
from gpuscout.models.judge.items import Item
from gpuscout.models.judge.market import (
    CENT,
    DEFAULT_MARKET_RULES,
    MarketPoint,
    MarketReference,
    band_midpoint,
    money,
    money_str,
    reference_for,
)

__all__ = ["CENT", "MarketPoint", "MarketReference", "PriceBand", "PriceBasis", "UnitPrice",
           "band_midpoint", "band_reference", "default_band", "money", "money_str", "price_basis",
           "unit_price", "watch_reference", "watched_item"]


class PriceBand(Protocol):
    """What the reference needs of a watch: its band and currency."""

    @property
    def price_low(self) -> Decimal: ...
    @property
    def price_high(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...


def band_reference(watch: PriceBand, window_days: int = 30) -> MarketReference:
    """The reference when nothing was observed: the watch's band midpoint."""
    mid = band_midpoint(watch.price_low, watch.price_high)
    return MarketReference(mid, 0, window_days, "band", mid, watch.currency)


def watch_reference(watch: PriceBand, points: Iterable[MarketPoint], *, now: datetime,
                    window_days: int = 30, rules: MarketRules = DEFAULT_MARKET_RULES
                    ) -> MarketReference:
    """The market reference for ``watch`` at ``now`` from ``points`` (unit prices in the watch
    currency; see ``gpuscout.models.judge.market``), its band midpoint as the prior."""
    return reference_for((watch.price_low, watch.price_high), points, now=now,
                         window_days=window_days, currency=watch.currency, rules=rules)


def default_band(model: str, catalog: Catalog = DEFAULT) -> MarketBand | None:
    """The published default band for a model (see the catalogue's [market] tables), if any."""
    return catalog.band(model)


@dataclass(frozen=True, slots=True)
class UnitPrice:
    """The price of one card in the watch currency, or why there is none."""

    amount: Decimal | None
    currency: str
    reasons: tuple[str, ...] = ()
    unscored: str | None = None


def unit_price(price: Decimal | None, shipping: Decimal | None, price_local: Decimal | None,
               currency: str | None, *, target: str, prefer: str = "shipped", quantity: int = 1,
               rates: Mapping[str, Decimal] | None = None) -> UnitPrice:
    """Price (+ shipping when known), or the local price when preferred; per card for bundles of
    identical cards; converted into ``target`` with ``rates`` (code -> units of target)."""
    reasons: list[str] = []
    if prefer == "local" and price_local is not None:
        amount, basis = price_local, "local pickup price"
    elif price is not None:
        if shipping is None:
            amount, basis = price, "price (shipping unknown)"
        elif shipping == 0:
            amount, basis = price, "price with free shipping"
        else:
            amount, basis = price + shipping, f"price + {money(shipping)} shipping"
    elif price_local is not None:
        amount, basis = price_local, "local pickup price (no shipped price)"
    else:
        return UnitPrice(None, target, ("no price stated",), "no price")
    reasons.append(basis)
    if quantity > 1:
        amount = amount / quantity
        reasons.append(f"per card, {quantity} in the lot")
    code = (currency or target).upper()
    if currency is None:
        reasons.append(f"currency not stated; taken as {target}")
    if code != target.upper():
        rate = (rates or {}).get(code)
        if rate is None or rate <= 0:
            why = f"{code} price and no {code}->{target} rate known"
            return UnitPrice(None, target, (*reasons, why), why)
        reasons.append(f"converted from {money(amount)} {code} at {rate}")
        amount = amount * rate
    return UnitPrice(money(amount), target.upper(), tuple(reasons))


@dataclass(frozen=True, slots=True)
class PriceBasis:
    """What a card costs as the listing states it: price, shipping and a local price, and how
    many cards that price buys (1 for a per-card price), with the reasons."""

    price: Decimal | None
    shipping: Decimal | None
    local: Decimal | None
    quantity: int = 1
    reasons: tuple[str, ...] = ()


def watched_item(items: Sequence[Item], model: str, variant: str) -> Item | None:
    """The item line that offers ``model`` (and ``variant`` unless "any"), cheapest first; an
    item struck out as sold only when no other line offers it."""
    offered = [i for i in items if i.model == model and i.price is not None
               and (variant == "any" or i.variant == variant)]
    if not offered:
        return None
    offered.sort(key=lambda i: (i.sold, i.price))
    return offered[0]


def price_basis(price: Decimal | None, shipping: Decimal | None, local: Decimal | None, *,
                quantity: int, each: bool, item: Item | None,
                per_unit: Iterable[Decimal] = ()) -> PriceBasis:
    """The listing's own price for ``quantity`` cards (one when ``each`` or the price is among
    the ``per_unit`` amounts its text states), or the price on the ``item`` line that offers the
    watched card."""
    if item is not None and item.price is not None:
        qty = 1 if item.each else item.quantity
        why = [f"price from the line {item.text!r} of a post selling several items"]
        if item.each and item.quantity > 1:
            why.append("the line's price is per card")
        return PriceBasis(item.price, Decimal(0) if item.shipped else None, item.local, qty,
                          tuple(why))
    if quantity > 1 and (each or (price is not None and price in set(per_unit))):
        return PriceBasis(price, shipping, local, 1,
                          (f"the price is per card ({quantity} offered, 'each')",))
    return PriceBasis(price, shipping, local, quantity)
