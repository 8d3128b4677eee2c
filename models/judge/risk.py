"""Risk signals in a listing's text: payment without buyer protection, payment off the platform,
a seller new to the marketplace, a seller who is away and can only ship, an in-person exchange."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from gpuscout.models.judge.condition import is_negated
from gpuscout.models.judge.inputs import ListingFacts, ScoreRules
from gpuscout.models.judge.patterns import Gated, GateIndex, literal_gate
from gpuscout.models.judge.prices import MarketReference

PAYMENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"(?<![a-z0-9])(?:{p})(?![a-z0-9])")) for name, p in (
        ("Zelle", r"zelle"), ("Cash App", r"cash\s*app|cashapp"),
        ("PayPal friends and family", r"f\s*&\s*f|f\s*n\s*f|friends?\s*(?:and|&|n)\s*family|ff\s*only"),
        ("Venmo", r"venmo"),
        ("gift cards", r"gift\s*cards?"),
        ("wire transfer", r"wire\s*transfer|bank\s*wire|wire\s*(?:payment|only)|bank\s*transfer"),
        ("Western Union", r"western\s*union|moneygram"),
        ("crypto", r"crypto(?:currency)?|bitcoin|btc|usdt|tether|ethereum"),
        # NOTE: on eBay, any payment or contact outside eBay is the classic hijacked-account scam
        ("payment off the marketplace",
         r"contact\s*me\s*(?:before|prior\s*to)\s*(?:buying|purchas\w*|bidding|you\s*buy)|"
         r"e-?mail\s*me\s*(?:at|before|first|directly)|direct\s*payment|pay\s*(?:me\s*)?"
         r"(?:outside|off)\s*(?:of\s*)?(?:ebay|the\s*(?:site|platform|app))|text\s*me\s*(?:at|before)|"
         r"whats\s*app\s*me|message\s*me\s*(?:on|at)\s*(?:whats\s*app|telegram)"),
    ))
_PAYMENT_INDEX = GateIndex([literal_gate(p) for _name, p in PAYMENTS])
# A protected way to pay offered beside the unprotected one.
_PROTECTED = re.compile(r"(?<![a-z0-9])(?:g\s*&\s*s|goods\s*(?:and|&|n)\s*services|paypal\s*(?:g|gs)"
                        r"(?![a-z0-9])|pp\s*g\s*&?\s*s|ebay\s*(?:checkout|buy\s*it\s*now))")
_SHIPPING_ONLY = Gated(re.compile(r"(?<![a-z0-9])(?:shipping\s*only|ship(?:ping)?\s*only|will\s*only\s*ship|"
                            r"only\s*ship(?:ping)?|can\s*only\s*ship|no\s*(?:local\s*)?(?:pick\s*-?\s*up|"
                            r"meet\s*-?\s*ups?)|will\s*ship\s*(?:it\s*)?(?:after|once)\s*(?:payment|paid))"
                            r"(?![a-z0-9])"))
# The seller is somewhere else and the card can only be shipped: the local-marketplace scam.
_AWAY = Gated(re.compile(r"(?<![a-z0-9])(?:deployed|deployment|out\s*of\s*(?:town|state|the\s*country)|"
                   r"overseas|offshore|on\s*a\s*(?:ship|rig)|relocat(?:ed|ing)|moved\s*(?:away|out\s*of\s*"
                   r"state)|not\s*(?:in|around)\s*(?:town|the\s*area)|travel(?:l)?ing\s*for\s*work)"
                   r"(?![a-z0-9])"))
# An exchange in person: the buyer sees the card before paying, so how they pay carries no risk.
_IN_PERSON = Gated(re.compile(r"(?<![a-z0-9])(?:cash(?!\s*app)|pick\s*-?\s*up|picked\s*up|in\s*person|"
                        r"meet(?:\s*up)?|local(?:ly)?\s*(?:only|pick\s*-?\s*up|cash|sale)|"
                        r"test\s*(?:it\s*)?(?:in\s*person|"
                        r"before)|demo)(?![a-z0-9])"))
_NEW_SELLER = Gated(re.compile(r"(?<![a-z0-9])(?:new\s*(?:account|seller|to\s*(?:ebay|reddit|this\s*sub|"
                         r"hardwareswap|selling|facebook|marketplace))|first\s*(?:sale|trade|post|time\s*"
                         r"selling))(?![a-z0-9])"))
# NOTE: "crypto" also appears as the reason a card is sold ("crypto mining"); that is a condition
# matter, not a payment method.
_CRYPTO_MINING = Gated(re.compile(r"crypto\s*(?:mining|mined|farm)"))


@dataclass(frozen=True, slots=True)
class RiskText:
    """What a listing's text says that bears on the risk of paying for it."""

    #: (payment method, phrase) asked for, not denied
    payments: tuple[tuple[str, str], ...] = ()
    protected_alternative: bool = False
    shipping_only: str | None = None
    away: str | None = None
    in_person: bool = False
    says_new_seller: str | None = None


def read_risk(text: str) -> RiskText:
    """Risk signals in normalised ``text`` (title and description). What qualifies a payment
    (a protected alternative, an exchange in person, a seller away or new) is read only when the
    text asks for an unprotected payment."""
    masked = _CRYPTO_MINING.pattern.sub(" ", text) if "crypto" in text else text
    payments = []
    for i in _PAYMENT_INDEX.hits(masked):
        name, pattern = PAYMENTS[i]
        m = pattern.search(masked)
        if m and not is_negated(masked, m.start(), m.end(), window=3):
            payments.append((name, m.group(0)))
    shipping = _SHIPPING_ONLY.search(text)
    only = shipping.group(0) if shipping else None
    if not payments:
        return RiskText((), shipping_only=only)
    away = _AWAY.search(text)
    new = _NEW_SELLER.search(text)
    return RiskText(tuple(payments), _PROTECTED.search(text) is not None, only,
                    away.group(0) if away else None, _IN_PERSON.search(text) is not None,
                    new.group(0) if new else None)


#: contact outside the marketplace is a scam sign only where the marketplace handles the payment
OFF_MARKETPLACE = "payment off the marketplace"
_PAYMENT_HANDLED_BY = frozenset({"ebay"})


def unprotected(risk: RiskText, *, local: bool,
                source: str | None = None) -> tuple[tuple[str, str], ...]:
    """The payments that leave the buyer without protection: on a local marketplace an exchange
    in person (and no "shipping only") carries none, whatever the means of payment; "email me"
    or "text me" is ordinary on a classifieds site and a scam sign only on eBay."""
    if local and risk.in_person and risk.shipping_only is None and risk.away is None:
        return ()
    return tuple(p for p in risk.payments
                 if p[0] != OFF_MARKETPLACE or (source or "") in _PAYMENT_HANDLED_BY)


@dataclass(frozen=True, slots=True)
class Risk:
    penalty: int
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    #: why the payment asked for is a red flag, if it is
    red_flag: str | None


def _new_seller(facts: ListingFacts, risk: RiskText, rules: ScoreRules) -> str | None:
    source, fb = (facts.source or "").lower(), facts.seller_feedback
    if source == "ebay" and fb is not None and fb < rules.new_ebay_feedback:
        return f"an eBay seller with {fb} feedback"
    if source == "reddit" and (fb is None or fb < rules.new_reddit_trades):
        return f"a Reddit seller with {fb or 'no'} confirmed trades"
    if risk.says_new_seller:
        return f"a seller who says {risk.says_new_seller!r}"
    return None


def assess_risk(risk: RiskText, facts: ListingFacts, price: Decimal | None,
                ref: MarketReference, rules: ScoreRules, *, market: Decimal | None = None) -> Risk:
    """The risk penalty, its reasons and flags, and whether the payment asked for is a red flag:
    unprotected payment with a new seller, a price far under the market (``market``: the
    reference for the card's condition, default the reference; 0 never checks), or (on a local
    marketplace) a seller who is away and can only ship."""
    penalty, reasons, flags = 0, [], []
    source = (facts.source or "").lower()
    local = source in rules.local_sources
    payments = unprotected(risk, local=local, source=source)
    if risk.payments and not payments and local:
        reasons.append("asks for " + ", ".join(n for n, _ in risk.payments)
                       + " at an exchange in person: no risk to the buyer")
    payment = 0
    for name, phrase in payments:
        payment += rules.risky_payment
        reasons.append(f"asks for {name} ({phrase!r}): no buyer protection")
    if payment:
        cap = rules.risky_payment_cap
        if risk.protected_alternative:
            cap = rules.risky_payment // 2
            reasons.append("a protected way to pay is offered too")
        penalty += min(payment, cap)
        flags.append("risky_payment")
    if risk.shipping_only is not None and local:
        penalty += rules.shipping_only_local
        flags.append("shipping_only_local")
        reasons.append(f"{risk.shipping_only!r} on a local marketplace")
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
    red = None
    if payments and not risk.protected_alternative:
        name = payments[0][0]
        new = _new_seller(facts, risk, rules)
        sells = ref.median if market is None else market
        cheap = price is not None and sells > 0 and price < sells * rules.scam_price
        if new:
            red = f"asks for {name} and is {new}"
        elif cheap:
            red = (f"asks for {name} at {price}, under {rules.scam_price:.0%} of the market "
                   f"{sells}")
        elif local and (risk.away or risk.shipping_only):
            red = f"asks for {name} and can only ship ({(risk.away or risk.shipping_only)!r})"
    return Risk(penalty, tuple(reasons), tuple(flags), red)
