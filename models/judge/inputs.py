"""What scoring is given: a listing's facts, the watch it is scored for, and the rules' weights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ListingFacts:
    """What scoring reads of a listing (money in the listing's currency). ``price_each``: the
    page marks the price as per item; ``bids`` and ``ends_at`` describe an auction."""

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
    status: str | None = None
    bids: int | None = None
    ends_at: datetime | None = None
    price_each: bool = False


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
class MarketRules:
    """How the market reference is estimated from what sold and what is asked (see
    ``gpuscout.models.judge.market``), and how a card's condition moves it."""

    #: the band midpoint counts as this many sales (the prior that data outweighs)
    band_weight: float = 3.0
    #: a listing that vanished within days of appearing counts as this much of a sale
    gone_weight: float = 0.5
    #: an ask counts as this much of a sale, once scaled by ``ask_ratio``
    ask_weight: float = 0.25
    #: what sells for a unit asked: the sold/asked ratio when too few of both are known
    ask_ratio: Decimal = Decimal("0.92")
    #: the measured sold/asked ratio is trusted from this many sales and asks each, within bounds
    ratio_min_count: int = 8
    ratio_bounds: tuple[Decimal, Decimal] = (Decimal("0.75"), Decimal("1.05"))
    #: an observation this many days old counts half as much as one made now
    half_life_days: float = 10.0
    #: prices further than this many robust spreads (log scale) from the median are outliers
    trim_spreads: float = 3.0
    #: the smallest spread (log scale) the outlier fence assumes, however alike the prices are
    min_spread: float = 0.04
    #: the trend (median of the newer half vs the older half) is read from this many sales on,
    #: and corrects the lag of the weighted median by at most ``max_trend_correction``
    trend_min_count: int = 12
    max_trend_correction: float = 0.08
    #: a mined card is compared with this fraction of the reference, a repaired one with this
    mined_discount: Decimal = Decimal("0.85")
    repaired_discount: Decimal = Decimal("0.70")


@dataclass(frozen=True, slots=True)
class ScoreRules:
    """Weights and thresholds of the score."""

    price_max: int = 50
    #: the price points: all of them at or under ``market_best`` of the reference (for the
    #: card's condition), ``points_at_reference`` at the reference, none from ``market_worst`` on
    market_best: Decimal = Decimal("0.80")
    points_at_reference: int = 35
    market_worst: Decimal = Decimal("1.25")
    market: MarketRules = MarketRules()
    #: under this fraction of the reference a price is too good to be true
    too_good: Decimal = Decimal("0.65")
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
    #: a red flag caps the total here, well under any sensible alert threshold
    red_flag_cap: int = 45
    #: unprotected payment with a price under this fraction of the reference is a red flag
    scam_price: Decimal = Decimal("0.80")
    #: sellers with fewer eBay feedbacks or Reddit trades than these are new
    new_ebay_feedback: int = 5
    new_reddit_trades: int = 2
    #: points an auction gives up for the uncertainty of its final price
    auction_uncertainty: int = 5
    #: points a lot gives up when its cards are sold only together (a buyer of one takes all)
    lot_together: int = 5
    local_sources: tuple[str, ...] = ("craigslist", "facebook", "kijiji", "kleinanzeigen", "ss",
                                      "offerup", "marktplaats", "gumtree")


DEFAULT_RULES = ScoreRules()
