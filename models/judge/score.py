"""Scoring a listing for a watch: price, condition and risk components, red-flag gates, auctions,
flags, and fit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from gpuscout.models.judge.auction import expected_final
from gpuscout.models.judge.catalog import normalize
from gpuscout.models.judge.condition import ConditionResult, assess_condition
from gpuscout.models.judge.identify import Identity
from gpuscout.models.judge.inputs import DEFAULT_RULES, ListingFacts, ScoreRules, Watch
from gpuscout.models.judge.items import Item, per_unit_amounts
from gpuscout.models.judge.prices import (
    MarketReference,
    band_reference,
    money,
    money_str,
    price_basis,
    unit_price,
    watched_item,
)
from gpuscout.models.judge.risk import Risk, RiskText, assess_risk, read_risk

# Bump whenever a rule or weight below changes: stored scores carry the version that made them.
# 2: red-flag gates, auctions at their expected final price, per-card and per-item prices,
#    condition answers, hedges, heavy use and German/French/Spanish wording.
# 3: price points against the sold-first market reference for the card's condition (a mined or
#    repaired card compared with a discount); the band is the budget: above it, never ranked.
SCORE_VERSION = 4

#: flags that keep a listing out of every alert, whatever its score
RED_FLAGS = ("scam_risk", "described_fault")

__all__ = ["DEFAULT_RULES", "RED_FLAGS", "SCORE_VERSION", "Component", "ListingFacts", "Score",
           "ScoreRules", "Watch", "fit", "score_listing"]


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
    """A listing's score for one watch (0-100) with components, flags and fit. ``unit_price`` is
    what one card is expected to cost: the asking price, or an auction's expected final price;
    ``item`` the line of a multi-item post that was scored."""

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
    item: Item | None = None

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    @property
    def red_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if f in RED_FLAGS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total, "version": self.version, "fits": self.fits,
            "unfit_reason": self.unfit_reason, "unit_price": money_str(self.unit_price),
            "currency": self.currency,
            "components": {c.name: c.to_dict() for c in self.components},
            "flags": list(self.flags), "reasons": list(self.reasons),
            "reference": self.reference.to_dict() if self.reference else None,
            "identity": self.identity.to_dict() if self.identity else None,
            "item": self.item.to_dict() if self.item else None,
        }


_MARKET_CONDITION: tuple[tuple[re.Pattern[str], int, str], ...] = (
    (re.compile(r"for\s*parts|not\s*working"), -15, "sold for parts or not working"),
    (re.compile(r"refurbished"), 1, "refurbished"),
    (re.compile(r"open\s*box"), 2, "open box"),
    (re.compile(r"^\s*(?:brand\s*)?new"), 4, "new"),
)
_UNFIT_KINDS = {"box_only": "box only, no card", "parts": "sold for parts",
                "accessory": "an accessory, not a card", "wanted": "a buying post",
                "system": "a complete system", "other": "not a graphics card"}
_UNFIT_STATUS = {"sold": "listing is sold", "gone": "listing is gone",
                 "wanted": "a buying post"}


def fit(identity: Identity, watch: Watch, item: Item | None = None) -> str | None:
    """Why the listing cannot be what the watch wants, or None when it fits. ``item``: the line
    of a multi-item post that offers the watched card (it stands for the listing's model)."""
    if identity.kind not in ("card", "bundle"):
        return _UNFIT_KINDS.get(identity.kind, f"kind {identity.kind}")
    if item is not None:
        if item.sold:
            return "the watched item is marked sold"
        return None
    if identity.kind == "bundle" and identity.quantity <= 1:
        return "sold together with other parts"
    if identity.model == "multiple":
        return "several models offered"
    if identity.model != watch.model:
        return f"model {identity.model}, the watch wants {watch.model}"
    if watch.variant != "any" and identity.variant != watch.variant:
        return f"variant {identity.variant}, the watch wants {watch.variant}"
    return None


#: condition rules (see ``condition_rules``) that make a card a mined or a repaired one
MINED_RULES = frozenset({"mined", "lightly mined", "mining farm"})
REPAIRED_RULES = frozenset({"repaired"})


def card_condition(condition: ConditionResult) -> str:
    """"repaired", "mined" or "ok": what the text says the card went through (denied or hedged
    mining does not count)."""
    names = {s.rule for s in condition.signals if s.weight < 0}
    if names & REPAIRED_RULES:
        return "repaired"
    if names & MINED_RULES:
        return "mined"
    return "ok"


def price_points(p: Decimal, ref: Decimal, rules: ScoreRules) -> int:
    """Points for paying ``p`` where the market (for the card's condition) is at ``ref``: all of
    them at or under ``market_best`` of it, ``points_at_reference`` at it, none from
    ``market_worst`` of it on, in straight lines between."""
    ratio = p / ref if ref > 0 else Decimal(1)
    top, mid = Decimal(rules.price_max), Decimal(rules.points_at_reference)
    if ratio <= rules.market_best:
        points = top
    elif ratio <= 1:
        points = mid + (top - mid) * (1 - ratio) / (1 - rules.market_best)
    elif ratio < rules.market_worst:
        points = mid * (rules.market_worst - ratio) / (rules.market_worst - 1)
    else:
        points = Decimal(0)
    return int(points.to_integral_value())


def against_market(p: Decimal, ref: Decimal, currency: str) -> str:
    pct = (p - ref) / ref if ref else Decimal(0)
    side = "below" if pct < 0 else "above" if pct > 0 else "at"
    return f"{abs(pct):.0%} {side} the market {ref} {currency}" if side != "at" \
        else f"at the market {ref} {currency}"


def budget(p: Decimal, watch: Watch) -> str:
    """Where ``p`` sits in the watch's band, the buyer's budget."""
    low, high = watch.price_low, watch.price_high
    if p <= low:
        return f"within the budget (at or under the band {low}-{high})"
    if p <= high:
        return f"within the budget (inside the band {low}-{high})"
    return f"over the budget: {(p - high) / high:.0%} above the band {low}-{high}"


@dataclass(frozen=True, slots=True)
class TextSignals:
    """What a listing's title and description say, read once per distinct text."""

    condition: ConditionResult
    #: one reason per condition signal
    condition_reasons: tuple[str, ...]
    risk: RiskText
    #: amounts the text states per item ("$700 each")
    per_unit: frozenset[Decimal]


#: distinct (title, description) pairs whose signals are kept: a listing seen again (another
#: search, page or scan in this process) or one seller's identical listings are read once.
#: NOTE: bounded, as descriptions (Reddit posts) run to kilobytes
_TEXT_CACHE = 2048


@lru_cache(maxsize=_TEXT_CACHE)
def text_signals(title: str, description: str | None) -> TextSignals:
    """What a title and description say about condition, risk and per-item prices (cached)."""
    condition = assess_condition(f"{title}. {description or ''}")
    text = normalize(f"{title} {description or ''}")
    reasons = tuple(f"{s.weight:+d} {s.rule} ({s.phrase!r})" for s in condition.signals)
    per_unit = per_unit_amounts(f"{title}\n{description or ''}")
    return TextSignals(condition, reasons, read_risk(text), frozenset(per_unit))


@lru_cache(maxsize=256)
def _market_condition(condition: str | None) -> tuple[int, str] | None:
    """(weight, label) of a marketplace's own condition field; a few distinct values recur."""
    cond = normalize(condition)
    for pattern, weight, label in _MARKET_CONDITION if cond else ():
        if pattern.search(cond):
            return weight, label
    return None


def _condition(facts: ListingFacts, signals: TextSignals, rules: ScoreRules) -> Component:
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
    """Score ``facts`` (identified as ``identity``) for ``watch``. Pure: ``now`` is given, and the
    market ``reference`` (default: the watch's band) is an input."""
    ref = reference or band_reference(watch)
    flags: list[str] = []
    reasons: list[str] = []
    signals = text_signals(facts.title, facts.description)
    item = watched_item(identity.items, watch.model, watch.variant) \
        if identity.kind in ("card", "bundle") else None
    basis = price_basis(facts.price, facts.shipping, facts.price_local,
                        quantity=identity.quantity if identity.kind == "bundle" else 1,
                        each=facts.price_each, item=item, per_unit=signals.per_unit)
    up = unit_price(basis.price, basis.shipping, basis.local, facts.currency,
                    target=watch.currency, prefer=watch.prefer, quantity=basis.quantity,
                    rates=rates)
    price_reasons = [*basis.reasons, *up.reasons]
    risk_penalty, risk_reasons = 0, []
    scored_price = up.amount
    auction = (facts.buying_format or "").lower() == "auction"
    condition_class = card_condition(signals.condition)
    market = ref.for_condition(condition_class, rules.market)
    if condition_class != "ok" and up.amount is not None:
        price_reasons.append(f"a {condition_class} card: compared with "
                             f"{market / ref.median if ref.median else 1:.0%} of the reference, "
                             f"{market} {up.currency}")
    if up.amount is None:
        price_pts = 0
        flags.append("price_unscored")
        reasons.append(f"price not scored: {up.unscored}")
    elif auction:
        scored_price, given_up, why, auction_flags = expected_final(up.amount, facts, watch, ref,
                                                                     now, rules, market=market)
        price_pts = max(0, price_points(scored_price, market, rules) - given_up)
        price_reasons += [*why, f"{money(scored_price)} {up.currency} per card, "
                          f"{against_market(money(scored_price), market, up.currency)}; "
                          f"{budget(scored_price, watch)}"]
        flags += auction_flags
        reasons.append(why[0])
    elif market > 0 and up.amount < market * rules.too_good:
        p = up.amount
        price_pts = price_points(market, market, rules)
        flags.append("too_good_to_be_true")
        risk_penalty += rules.too_good_risk
        risk_reasons.append(f"{p} {up.currency} is under {rules.too_good:.0%} of the market "
                            f"{market}: too good to be true")
        price_reasons.append(f"{p} {up.currency}; scored as if at the market")
    else:
        p = up.amount
        price_pts = price_points(p, market, rules)
        price_reasons.append(f"{p} {up.currency} per card, {against_market(p, market, up.currency)}"
                             f"; {budget(p, watch)}")
    if up.amount is not None and basis.quantity > 1:
        price_pts = max(0, price_pts - rules.lot_together)
        price_reasons.append(f"-{rules.lot_together}: {basis.quantity} cards sold only together")
    price_reasons.append(ref.explain())
    price = Component("price", price_pts, rules.price_max, tuple(price_reasons))
    condition = _condition(facts, signals, rules)
    if signals.condition.bad:
        flags.append("condition_concerns")
    risk_found = assess_risk(signals.risk, facts, None if auction else up.amount, ref, rules,
                             market=market)
    risk_penalty += risk_found.penalty
    risk_reasons += risk_found.reasons
    flags += risk_found.flags
    risk_pts = max(0, rules.risk_max - risk_penalty)
    risk = Component("risk", risk_pts, rules.risk_max,
                     tuple(risk_reasons) or ("no risk signals found",))
    if facts.posted_at is not None:
        age = (now - facts.posted_at).days
        if age > rules.stale_days:
            flags.append("stale")
            reasons.append(f"posted {age} days ago")
    unfit = _UNFIT_STATUS.get((facts.status or "").lower()) or fit(identity, watch, item)
    if unfit is None and up.amount is None:
        # NOTE: a deal needs a comparable price; other currencies are never silently mixed in
        unfit = f"no comparable price ({up.unscored})"
    if unfit is None and auction and facts.ends_at is not None and facts.ends_at <= now:
        unfit = "the auction has ended"
    if unfit is None and up.amount is not None and up.amount > watch.price_high:
        # NOTE: the band is the buyer's budget: what costs more is never ranked nor alerted
        # (an auction's current bid; its expected final price only keeps it from alerts)
        unfit = f"over the budget: {up.amount} {up.currency} is above the band's {watch.price_high}"
    if unfit:
        flags.append("unfit")
        reasons.append(f"does not fit the watch: {unfit}")
    total = price.points + condition.points + risk.points
    gates = _gates(signals, risk_found)
    if gates:
        total = min(total, rules.red_flag_cap)
        for flag, said in gates:
            flags.append(flag)
            reasons.insert(0, f"red flag: {said}; capped at {rules.red_flag_cap}, never alerted")
    model, variant = (item.model, item.variant) if item else (identity.model, identity.variant)
    reasons.insert(0, f"{model} / {variant} / {identity.kind}: "
                      f"{total}/100 (price {price.points}, condition {condition.points}, "
                      f"risk {risk.points})")
    return Score(total=total, components=(price, condition, risk), flags=tuple(flags),
                 reasons=tuple(reasons), fits=unfit is None, unfit_reason=unfit,
                 unit_price=None if scored_price is None else money(scored_price),
                 currency=up.currency, reference=ref, identity=identity, item=item)


def _gates(signals: TextSignals, risk: Risk) -> list[tuple[str, str]]:
    """The red flags: a described fault, and unprotected payment with a new seller, a price far
    under the market or a seller who is away (see ``_risk``)."""
    out = []
    faults = signals.condition.faults
    if faults:
        out.append(("described_fault", "described fault "
                    + ", ".join(f"{s.rule} ({s.phrase!r})" for s in faults)))
    if risk.red_flag:
        out.append(("scam_risk", f"payment scam risk: {risk.red_flag}"))
    return out
