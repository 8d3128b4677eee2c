"""What a listing tells about the market: which observed prices it adds to the reference of which
model and variant, or why it adds none (a running auction's bid, a placeholder price, a red flag,
a listing that is no single card)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from gpuscout.models.judge.catalog import DEFAULT, Catalog
from gpuscout.models.judge.identify import Identity
from gpuscout.models.judge.inputs import DEFAULT_RULES, ListingFacts, ScoreRules
from gpuscout.models.judge.items import Item
from gpuscout.models.judge.market import Condition, MarketReference, PointKind
from gpuscout.models.judge.prices import money, unit_price
from gpuscout.models.judge.risk import assess_risk
from gpuscout.models.judge.score import card_condition, text_signals

#: prices no seller means: nothing, a token amount, repeated or counted digits ("9999", "12345")
_PLACEHOLDER = re.compile(r"^(?:(\d)\1{3,}|1234|12345|123456|1234567)$")
#: under this (in any currency) a price is a placeholder ("$1", "make an offer")
_TOKEN = Decimal(10)
#: the reference a payment is judged against here: none (a price far under the market is for the
#: reference's outlier trimming to leave out)
_NO_REFERENCE = MarketReference(Decimal(0), 0, 0, "band", Decimal(0))


@dataclass(frozen=True, slots=True)
class MarketUse:
    """One price a listing adds to the market of ``model`` / ``variant``: per card, shipping
    included when stated, in the listing's ``currency``."""

    model: str
    variant: str
    kind: PointKind
    price: Decimal
    currency: str
    condition: Condition


@dataclass(frozen=True, slots=True)
class Observed:
    """The prices a listing adds to the market, or why it adds none."""

    uses: tuple[MarketUse, ...] = ()
    excluded: str | None = None


def placeholder(price: Decimal, model: str, catalog: Catalog = DEFAULT) -> bool:
    """Whether ``price`` is no real asking price: a token amount, a run of one digit or counted
    digits, or far outside the published band of ``model`` (a fifth of its low, five times its
    high)."""
    if price < _TOKEN:
        return True
    whole = price.to_integral_value()
    if whole == price and _PLACEHOLDER.match(str(int(whole))):
        return True
    band = catalog.band(model)
    return band is not None and (price < band.low / 5 or price > band.high * 5)


def observe(facts: ListingFacts, identity: Identity, *, rules: ScoreRules = DEFAULT_RULES,
            catalog: Catalog = DEFAULT) -> Observed:
    """The market prices in a listing: a sale for a sold one (an auction's final price
    included), an ask for an active fixed-price one; one per priced item line of a post selling
    several cards. Nothing from a buying post, what is no card, a running auction, a placeholder,
    or a listing with a red flag (a described fault, a payment scam)."""
    status = (facts.status or "active").lower()
    if status == "wanted":
        return Observed(excluded="a buying post")
    if not identity.items:
        if identity.kind != "card" and not (identity.kind == "bundle" and facts.price_each):
            return Observed(excluded=f"not a single card ({identity.kind})")
        if identity.model in ("none", "multiple"):
            return Observed(excluded="no one model")
    signals = text_signals(facts.title, facts.description)
    if signals.condition.faults:
        return Observed(excluded="a described fault")
    risk = assess_risk(signals.risk, facts, None, _NO_REFERENCE, rules, market=Decimal(0))
    if risk.red_flag:
        return Observed(excluded=f"a payment scam risk ({risk.red_flag})")
    if (facts.buying_format or "").lower() == "auction" and status != "sold":
        return Observed(excluded="a running auction's bid is no price")
    kind: PointKind = "sold" if status == "sold" else "ask"
    condition = card_condition(signals.condition)
    currency = (facts.currency or "USD").upper()
    if identity.items:
        # NOTE: a post selling several items prices each on its own line
        uses = tuple(u for item in identity.items
                     if (u := _item_use(item, kind, currency, condition, catalog)) is not None)
        return Observed(uses) if uses else Observed(excluded="no priced card line")
    up = unit_price(facts.price, facts.shipping, facts.price_local, currency, target=currency)
    if up.amount is None:
        return Observed(excluded="no price")
    if placeholder(up.amount, identity.model, catalog):
        return Observed(excluded=f"a placeholder price ({up.amount})")
    return Observed((MarketUse(identity.model, identity.variant, kind, up.amount, currency,
                               condition),))  # type: ignore[arg-type]


def _item_use(item: Item, kind: PointKind, currency: str, condition: str,
              catalog: Catalog) -> MarketUse | None:
    """The market price on one item line: per card, a sale when the line is struck out."""
    if item.model in (None, "none", "multiple") or item.price is None:
        return None
    price = item.price if item.each or item.quantity <= 1 else item.price / item.quantity
    price = money(price)
    if placeholder(price, item.model, catalog):
        return None
    return MarketUse(item.model, item.variant or "unknown", "sold" if item.sold else kind, price,
                     currency, condition)  # type: ignore[arg-type]


__all__ = ["MarketUse", "Observed", "observe", "placeholder"]
