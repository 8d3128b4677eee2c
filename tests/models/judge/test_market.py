"""The sold-first market reference: band prior, trimming, one count per card, asks apart, trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from gpuscout.models.judge.market import (
    MarketPoint,
    MarketReference,
    reference_for,
    robust_fence,
    weighted_median,
)
from gpuscout.models.judge.prices import band_reference, watch_reference
from gpuscout.models.judge.score import Watch

NOW = datetime(2023, 6, 1, 12, tzinfo=UTC)
BAND = (D("650"), D("800"))
WATCH = Watch("3090 FE", "rtx 3090", "fe", D("650"), D("800"))


def points(prices: list[int], *, kind: str = "sold", age: float = 0.0, first: int = 1,
           condition: str = "ok") -> list[MarketPoint]:
    return [MarketPoint(kind, D(p), NOW - timedelta(days=age), first + i, condition)  # type: ignore[arg-type]
            for i, p in enumerate(prices)]


def test_no_observation_is_the_band_midpoint() -> None:
    ref = reference_for(BAND, [], now=NOW)
    assert ref == MarketReference(D("725.00"), 0, 30, "band", D("725.00"), "USD")
    assert ref.explain() == ("reference 725.00 USD: the band midpoint (no sale or ask in the last "
                             "30 days)")
    assert band_reference(WATCH) == ref
    assert watch_reference(WATCH, [], now=NOW) == ref


@pytest.mark.parametrize(("sales", "median", "share"), [
    (3, D("762.50"), D("0.5")),      # the band counts as three sales: half and half
    (9, D("781.25"), D("0.25")),
    (30, D("793.18"), D("0.091")),   # data outweighs the band as it accumulates
])
def test_the_band_is_a_prior_that_sales_outweigh(sales: int, median: D, share: D) -> None:
    ref = reference_for(BAND, points([800] * sales), now=NOW)
    assert (ref.source, ref.median, ref.band_share, ref.sold_count) == ("market", median, share,
                                                                      sales)
    assert ref.sold_median == D("800.00")


def test_outliers_are_trimmed_by_a_robust_fence() -> None:
    # a scam at half the market and a $9,999 placeholder among eight real sales
    ref = reference_for(BAND, points([700, 710, 690, 705, 695, 720, 680, 350, 9999, 700]), now=NOW)
    assert (ref.sold_count, ref.trimmed, ref.sold_median) == (8, 2, D("700.00"))
    assert ref.median == D("706.82")  # 700 shrunk towards 725 by 3 / (3 + 8)
    assert ref.explain() == ("reference 706.82 USD over the last 30 days: sold median 700.00 of 8 "
                             "sales; 2 outliers left out; band midpoint 725.00 weighs 27%")
    low, high = robust_fence([0.0, 0.0, 0.0, 0.0])
    assert (round(low, 2), round(high, 2)) == (-0.12, 0.12)  # the smallest spread, 3 times


def test_each_card_counts_once_its_newest_observation() -> None:
    # one card cross-posted three times (group 7), and a card that sold after it was asked
    cross = [MarketPoint("ask", D("900"), NOW - timedelta(days=d), 7) for d in (3, 2, 1)]
    asked_then_sold = [MarketPoint("ask", D("760"), NOW - timedelta(days=5), 8),
                       MarketPoint("gone", D("760"), NOW - timedelta(days=2), 8),
                       MarketPoint("sold", D("740"), NOW - timedelta(days=1), 8)]
    ref = reference_for(BAND, [*cross, *asked_then_sold], now=NOW)
    assert (ref.ask_count, ref.sold_count, ref.gone_count) == (2, 1, 0)
    assert ref.sold_median == D("740.00")
    assert ref.ask_median == D("827.04")  # the median of 760 and 900 on the log scale


def test_asks_are_kept_apart_and_scaled_to_what_sells() -> None:
    asks = reference_for(BAND, points([800] * 12, kind="ask"), now=NOW)
    assert (asks.sold_median, asks.ask_median, asks.ask_ratio) == (None, D("800.00"), D("0.92"))
    # twelve asks weigh three sales' worth: half the band, half 800 x 0.92
    assert asks.median == D("730.50")
    both = reference_for(BAND, [*points([700] * 10), *points([800] * 10, kind="ask", first=100)],
                         now=NOW)
    assert both.ask_ratio == D("0.875")  # measured: 700 / 800
    # 2.5 sales' worth of asks at 700 beside ten sales at 700, the band weighing 3 / 15.5
    assert both.median == D("704.84")


def test_quickly_gone_listings_count_half_a_sale() -> None:
    ref = reference_for(BAND, points([760] * 6, kind="gone"), now=NOW)
    assert (ref.gone_count, ref.sold_count, ref.band_share) == (6, 0, D("0.5"))
    assert ref.median == D("742.50")
    assert "sold median 760.00 of 0 sales and 6 quickly gone" in ref.explain()


def test_a_mined_card_counts_as_what_an_ordinary_one_costs() -> None:
    ref = reference_for(BAND, points([595] * 27, condition="mined"), now=NOW)
    assert ref.sold_median == D("700.00")  # 595 / 0.85
    assert ref.for_condition("mined") == D("597.13")
    assert ref.for_condition("repaired") == D("491.75")  # 0.70 of it
    assert ref.for_condition("ok") == ref.median == D("702.50")


def test_older_observations_weigh_less_and_leave_the_window() -> None:
    recent, old = points([700] * 5, age=1), points([900] * 5, age=25, first=50)
    ref = reference_for(BAND, [*recent, *old], now=NOW)
    # the fence is centred where the recent sales are: the market moved, the old prices are out
    assert (ref.sold_median, ref.sold_count, ref.trimmed) == (D("700.00"), 5, 5)
    assert ref.median == D("709.78")
    spread = [*points([700, 710, 690, 705, 720], age=1), *points([760, 780, 770], age=25,
                                                                 first=50)]
    kept = reference_for(BAND, spread, now=NOW)
    assert (kept.sold_count, kept.trimmed) == (8, 0)  # within the spread: kept, weighing less
    assert kept.median < D("725")
    outside = reference_for(BAND, points([900] * 5, age=31), now=NOW)
    assert outside.source == "band"
    future = reference_for(BAND, points([900] * 5, age=-1), now=NOW)
    assert future.source == "band"


def test_the_lag_of_a_falling_market_is_corrected_by_its_trend() -> None:
    # sales fall 3 a day to 700 now: a plain median lags at 743.50
    falling = [MarketPoint("sold", D(700 + 3 * a), NOW - timedelta(days=a), a + 1)
               for a in range(30)]
    ref = reference_for(BAND, falling, now=NOW)
    assert ref.sold_median == D("743.50")
    assert ref.trend_correction == D("-0.0382")
    assert ref.median == D("701.70")
    flat = reference_for(BAND, points([700] * 30, age=5), now=NOW)
    assert flat.trend_correction == D("0")


def test_weighted_median() -> None:
    assert weighted_median([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1]) == 2.5
    assert weighted_median([1.0, 2.0, 3.0], [1, 1, 5]) == 3.0
    with pytest.raises(ValueError, match="nothing"):
        weighted_median([], [])


def test_reference_serialises_with_its_parts() -> None:
    ref = reference_for(BAND, points([700] * 10), now=NOW)
    data = ref.to_dict()
    assert data["median"] == "705.77" and data["source"] == "market"
    assert (data["sold_median"], data["sold_count"], data["band_share"]) == ("700.00", 10,
                                                                             "0.231")
    assert data["explanation"] == ref.explain()
