"""Auctions: the current bid is not the price; an auction is ranked at its expected final price."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from gpuscout.models.judge.inputs import ListingFacts, ScoreRules, Watch
from gpuscout.models.judge.prices import MarketReference, money


def _when(at: datetime, now: datetime) -> str:
    hours = (at - now).total_seconds() / 3600
    left = f"in {hours:.0f} h" if hours < 48 else f"in {hours / 24:.1f} days"
    return f"{at:%Y-%m-%d %H:%M} UTC ({left})" if hours > 0 else f"{at:%Y-%m-%d %H:%M} UTC (ended)"


def expected_final(current: Decimal, facts: ListingFacts, watch: Watch, ref: MarketReference,
                   now: datetime, rules: ScoreRules, *, market: Decimal | None = None
                   ) -> tuple[Decimal, int, list[str], list[str]]:
    """(expected final price, points given up, price reasons, flags) of an auction: the current
    bid is not the price; the final price is expected where such cards sell (``market``: the
    sold-first reference for the card's condition, default the reference) unless bidding is
    already above it."""
    sells = ref.median if market is None else market
    expected = max(current, sells)
    bids = "" if facts.bids is None else f" ({facts.bids} bid{'s' if facts.bids != 1 else ''})"
    ends = f", ends {_when(facts.ends_at, now)}" if facts.ends_at is not None else ""
    basis = "the current bid" if current >= sells else (
        "the sold reference" if ref.source == "market" else "the reference (band)")
    reasons = [f"auction: current bid {current} {watch.currency}{bids}{ends}",
               f"ranked at the expected final price {money(expected)} ({basis}), "
               f"-{rules.auction_uncertainty} for its uncertainty"]
    flags = ["auction"]
    if expected > watch.price_high:
        flags.append("auction_above_band")
    return expected, rules.auction_uncertainty, reasons, flags
