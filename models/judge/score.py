"""Scoring a listing for a watch: price, condition and risk components, flags, and fit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from gpuscout.models.judge.catalog import normalize
from gpuscout.models.judge.condition import ConditionResult, assess_condition, is_negated
from gpuscout.models.judge.identify import Identity
from gpuscout.models.judge.patterns import GateIndex, literal_gate
from gpuscout.models.judge.prices import MarketReference, money, money_str, reference_for, unit_price

# Bump whenever a rule or weight below changes: stored scores carry the version that made them.
SCORE_VERSION = 1


@dataclass(frozen=True, slots=True)
class ListingFacts:
    """What scoring reads of a listing (money in the listing's currency)."""

    title: str
    description: str | None = None
    price: Decimal | None = None
    shipping: Decimal | None = None
    price_local: Decimal | None = None
    currency: str | None = None
    source: str | None = None
    seller_feedback: int | None = None
    seller_positive_pct: float | None = None
    condition: str | None = None
    buying_format: str | None = None
    location: str | None = None
    posted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Watch:
    """What the user wants: a model and variant at a price band (per card, in ``currency``)."""

    name: str
    model: str
    variant: str  # fe | partner | oem | any
    price_low: Decimal
    price_high: Decimal
    currency: str = "USD"
    prefer: str = "shipped"  # shipped | local


@dataclass(frozen=True, slots=True)
class ScoreRules:
    """Weights and thresholds of the score."""

    price_max: int = 50
    band_points: int = 40  # of price_max; the rest rewards a price under the reference
    band_top_points: int = 30  # band points at the top of the band
    over_band_span: Decimal = Decimal("0.30")  # zero band points this far (fraction) above it
    reference_good: Decimal = Decimal("0.85")
    reference_bad: Decimal = Decimal("1.15")
    too_good: Decimal = Decimal("0.50")
    condition_max: int = 25
    condition_base: int = 15
    risk_max: int = 25
    risky_payment: int = 10
    risky_payment_cap: int = 15
    shipping_only_local: int = 6
    low_feedback: int = 6
    too_good_risk: int = 12
    ebay_min_feedback: int = 10
    ebay_min_positive: float = 98.0
    reddit_min_trades: int = 3
    stale_days: int = 30
    local_sources: tuple[str, ...] = ("craigslist", "facebook", "kijiji", "kleinanzeigen", "ss",
                                      "offerup", "marktplaats", "gumtree")


DEFAULT_RULES = ScoreRules()


@dataclass(frozen=True, slots=True)
class Component:
    """One part of the score: points out of ``max`` and the reasons for them."""

    name: str
    points: int
    max: int
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "max": self.max,
                "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class Score:
    """A listing's score for one watch (0-100) with components, flags and fit."""

    total: int
    components: tuple[Component, ...]
    flags: tuple[str, ...]
    reasons: tuple[str, ...]
    fits: bool
    unfit_reason: str | None
    unit_price: Decimal | None
    currency: str
    reference: MarketReference | None = None
    version: int = SCORE_VERSION
    identity: Identity | None = field(default=None, compare=False)

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total, "version": self.version, "fits": self.fits,
            "unfit_reason": self.unfit_reason, "unit_price": money_str(self.unit_price),
            "currency": self.currency,
            "components": {c.name: c.to_dict() for c in self.components},
            "flags": list(self.flags), "reasons": list(self.reasons),
            "reference": self.reference.to_dict() if self.reference else None,
            "identity": self.identity.to_dict() if self.identity else None,
        }


_PAYMENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"(?<![a-z0-9])(?:{p})(?![a-z0-9])")) for name, p in (
        ("Zelle", r"zelle"), ("Cash App", r"cash\s*app|cashapp"),
        ("PayPal friends and family", r"f\s*&\s*f|f\s*n\s*f|friends?\s*(?:and|&|n)\s*family|ff\s*only"),
        ("gift cards", r"gift\s*cards?"),
        ("wire transfer", r"wire\s*transfer|bank\s*wire|wire\s*(?:payment|only)"),
        ("Western Union", r"western\s*union|moneygram"),
        ("crypto", r"crypto(?:currency)?|bitcoin|btc|usdt|tether|ethereum"),
    ))
_PAYMENT_INDEX = GateIndex([literal_gate(p) for _name, p in _PAYMENTS])
_SHIPPING_ONLY = re.compile(r"(?<![a-z0-9])(?:shipping\s*only|ship(?:ping)?\s*only|will\s*only\s*ship|"
                            r"only\s*ship(?:ping)?|no\s*(?:local\s*)?(?:pick\s*-?\s*up|meet\s*-?\s*ups?))"
                            r"(?![a-z0-9])")
# NOTE: "crypto" also appears as the reason a card is sold ("crypto mining"); that is a condition
# matter, not a payment method.
_CRYPTO_MINING = re.compile(r"crypto\s*(?:mining|mined|farm)")
_MARKET_CONDITION: tuple[tuple[re.Pattern[str], int, str], ...] = (
    (re.compile(r"for\s*parts|not\s*working"), -15, "sold for parts or not working"),
    (re.compile(r"refurbished"), 1, "refurbished"),
    (re.compile(r"open\s*box"), 2, "open box"),
    (re.compile(r"^\s*(?:brand\s*)?new"), 4, "new"),
)


def fit(identity: Identity, watch: Watch) -> str | None:
    """Why the listing cannot be what the watch wants, or None when it fits."""
    if identity.kind not in ("card", "bundle"):
        return {"box_only": "box only, no card", "parts": "sold for parts",
                "accessory": "an accessory, not a card", "wanted": "a buying post",
                "system": "a complete system", "other": "not a graphics card"}.get(
                    identity.kind, f"kind {identity.kind}")
    if identity.kind == "bundle" and identity.quantity <= 1:
        return "sold together with other parts"
    if identity.model == "multiple":
        return "several models offered"
    if identity.model != watch.model:
        return f"model {identity.model}, the watch wants {watch.model}"
    if watch.variant != "any" and identity.variant != watch.variant:
        return f"variant {identity.variant}, the watch wants {watch.variant}"
    return None


def _price_points(p: Decimal, watch: Watch, ref: Decimal, rules: ScoreRules) -> tuple[int, str]:
    low, high = watch.price_low, watch.price_high
    top, full = Decimal(rules.band_top_points), Decimal(rules.band_points)
    if p <= low:
        band, where = full, f"at or below the band {low}-{high}"
    elif p <= high:
        band = full - (full - top) * (p - low) / (high - low)
        where = f"inside the band {low}-{high}"
    else:
        over = (p - high) / high
        band = max(Decimal(0), top * (1 - over / rules.over_band_span))
        where = f"{over:.0%} above the band {low}-{high}"
    span = rules.reference_bad - rules.reference_good
    ratio = p / ref if ref > 0 else Decimal(1)
    share = min(Decimal(1), max(Decimal(0), (rules.reference_bad - ratio) / span))
    extra = share * (rules.price_max - rules.band_points)
    return int((band + extra).to_integral_value()), where


@dataclass(frozen=True, slots=True)
class _TextSignals:
    """What a listing's title and description say, read once per distinct text."""

    condition: ConditionResult
    #: one reason per condition signal
    condition_reasons: tuple[str, ...]
    #: (payment method, phrase) asked for, not denied
    payments: tuple[tuple[str, str], ...]
    shipping_only: str | None


#: distinct (title, description) pairs whose signals are kept: a listing seen again (another
#: search, page or scan in this process) or one seller's identical listings are read once.
#: NOTE: bounded, as descriptions (Reddit posts) run to kilobytes
_TEXT_CACHE = 2048


@lru_cache(maxsize=_TEXT_CACHE)
def _text_signals(title: str, description: str | None) -> _TextSignals:
    condition = assess_condition(f"{title}. {description or ''}")
    text = normalize(f"{title} {description or ''}")
    masked = _CRYPTO_MINING.sub(" ", text)
    payments = []
    for i in _PAYMENT_INDEX.hits(masked):
        name, pattern = _PAYMENTS[i]
        m = pattern.search(masked)
        if m and not is_negated(masked, m.start(), m.end(), window=3):
            payments.append((name, m.group(0)))
    shipping = _SHIPPING_ONLY.search(text)
    reasons = tuple(f"{s.weight:+d} {s.rule} ({s.phrase!r})" for s in condition.signals)
    return _TextSignals(condition, reasons, tuple(payments),
                        shipping.group(0) if shipping else None)


def _risk(signals: _TextSignals, facts: ListingFacts,
          rules: ScoreRules) -> tuple[int, list[str], list[str]]:
    penalty, reasons, flags = 0, [], []
    payment = 0
    for name, phrase in signals.payments:
        payment += rules.risky_payment
        reasons.append(f"asks for {name} ({phrase!r}): no buyer protection")
    if payment:
        penalty += min(payment, rules.risky_payment_cap)
        flags.append("risky_payment")
    source = (facts.source or "").lower()
    if signals.shipping_only is not None and source in rules.local_sources:
        penalty += rules.shipping_only_local
        flags.append("shipping_only_local")
        reasons.append(f"{signals.shipping_only!r} on a local marketplace")
    fb, pct = facts.seller_feedback, facts.seller_positive_pct
    if source == "ebay" and ((fb is not None and fb < rules.ebay_min_feedback)
                             or (pct is not None and pct < rules.ebay_min_positive)):
        penalty += rules.low_feedback
        flags.append("low_feedback")
        reasons.append(f"eBay seller with {fb if fb is not None else '?'} feedback"
                       + (f", {pct:g}% positive" if pct is not None else ""))
    elif source == "reddit" and (fb is None or fb < rules.reddit_min_trades):
        penalty += rules.low_feedback
        flags.append("low_feedback")
        reasons.append(f"Reddit seller with {fb if fb is not None else 'no'} confirmed trades")
    return penalty, reasons, flags


@lru_cache(maxsize=256)
def _market_condition(condition: str | None) -> tuple[int, str] | None:
    """(weight, label) of a marketplace's own condition field; a few distinct values recur."""
    cond = normalize(condition)
    for pattern, weight, label in _MARKET_CONDITION if cond else ():
        if pattern.search(cond):
            return weight, label
    return None


def _condition(facts: ListingFacts, signals: _TextSignals, rules: ScoreRules) -> Component:
    net, reasons = signals.condition.net, list(signals.condition_reasons)
    market = _market_condition(facts.condition)
    if market is not None:
        weight, label = market
        net += weight
        reasons.append(f"{weight:+d} marketplace condition: {label}")
    points = max(0, min(rules.condition_max, rules.condition_base + net))
    if not reasons:
        reasons.append("nothing said about condition")
    return Component("condition", points, rules.condition_max, tuple(reasons))


def score_listing(facts: ListingFacts, identity: Identity, watch: Watch, *, now: datetime,
                  reference: MarketReference | None = None,
                  rates: Mapping[str, Decimal] | None = None,
                  rules: ScoreRules = DEFAULT_RULES) -> Score:
    """Score ``facts`` (identified as ``identity``) for ``watch``. Pure: ``now`` is given."""
    ref = reference or reference_for(watch, ())
    flags: list[str] = []
    reasons: list[str] = []
    qty = identity.quantity if identity.kind == "bundle" else 1
    up = unit_price(facts.price, facts.shipping, facts.price_local, facts.currency,
                    target=watch.currency, prefer=watch.prefer, quantity=qty, rates=rates)
    price_reasons = list(up.reasons)
    risk_penalty = 0
    risk_reasons: list[str] = []
    if up.amount is None:
        price_pts = 0
        flags.append("price_unscored")
        reasons.append(f"price not scored: {up.unscored}")
    else:
        p = up.amount
        if ref.median > 0 and p < ref.median * rules.too_good:
            price_pts, where = _price_points(ref.median, watch, ref.median, rules)
            flags.append("too_good_to_be_true")
            risk_penalty += rules.too_good_risk
            msg = (f"{p} {up.currency} is under {rules.too_good:.0%} of the reference "
                   f"{ref.median}: too good to be true")
            risk_reasons.append(msg)
            price_reasons.append(f"{p} {up.currency}; scored as if at the reference")
        else:
            price_pts, where = _price_points(p, watch, ref.median, rules)
            pct = (p - ref.median) / ref.median if ref.median else Decimal(0)
            price_reasons.append(f"{p} {up.currency} per card, {where}; "
                                 f"{abs(pct):.0%} {'below' if pct < 0 else 'above'} the reference")
        price_reasons.append(ref.explain())
    price = Component("price", price_pts, rules.price_max, tuple(price_reasons))
    signals = _text_signals(facts.title, facts.description)
    condition = _condition(facts, signals, rules)
    if signals.condition.bad:
        flags.append("condition_concerns")
    pen, rr, rf = _risk(signals, facts, rules)
    risk_penalty += pen
    risk_reasons += rr
    flags += rf
    risk_pts = max(0, rules.risk_max - risk_penalty)
    risk = Component("risk", risk_pts, rules.risk_max,
                     tuple(risk_reasons) or ("no risk signals found",))
    if facts.posted_at is not None:
        age = (now - facts.posted_at).days
        if age > rules.stale_days:
            flags.append("stale")
            reasons.append(f"posted {age} days ago")
    unfit = fit(identity, watch)
    if unfit is None and up.amount is None:
        # NOTE: a deal needs a comparable price; other currencies are never silently mixed in
        unfit = f"no comparable price ({up.unscored})"
    if unfit:
        flags.append("unfit")
        reasons.append(f"does not fit the watch: {unfit}")
    total = price.points + condition.points + risk.points
    reasons.insert(0, f"{identity.model} / {identity.variant} / {identity.kind}: "
                      f"{total}/100 (price {price.points}, condition {condition.points}, "
                      f"risk {risk.points})")
    return Score(total=total, components=(price, condition, risk), flags=tuple(flags),
                 reasons=tuple(reasons), fits=unfit is None, unfit_reason=unfit,
                 unit_price=None if up.amount is None else money(up.amount),
                 currency=up.currency, reference=ref, identity=identity)
