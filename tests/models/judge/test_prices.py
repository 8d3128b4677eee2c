"""Unit prices, currency conversion and the published default bands."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from gpuscout.models.judge.prices import default_band, unit_price


def test_price_plus_shipping() -> None:
    up = unit_price(D("715"), D("15"), None, "USD", target="USD")
    assert (up.amount, up.currency, up.unscored) == (D("730.00"), "USD", None)
    assert up.reasons == ("price + 15.00 shipping",)
    assert unit_price(D("715"), D("0"), None, "USD", target="USD").reasons == (
        "price with free shipping",)
    unknown = unit_price(D("715"), None, None, "USD", target="USD")
    assert (unknown.amount, unknown.reasons) == (D("715.00"), ("price (shipping unknown)",))


def test_local_price_when_preferred() -> None:
    # the r/hardwareswap 3090 FE: $730 shipped, $715 local
    assert unit_price(D("730"), None, D("715"), "USD", target="USD", prefer="local").amount == D(
        "715.00")
    assert unit_price(D("730"), None, D("715"), "USD", target="USD").amount == D("730.00")
    only_local = unit_price(None, None, D("715"), "USD", target="USD")
    assert only_local.amount == D("715.00")


def test_bundle_is_priced_per_card() -> None:
    # "LOT OF 2 Nvidia GeForce RTX 5090 ... Founders Edition" at 5950.00
    up = unit_price(D("5950"), D("0"), None, "USD", target="USD", quantity=2)
    assert up.amount == D("2975.00")
    assert "per card, 2 in the lot" in up.reasons


def test_currency_conversion_and_unscored() -> None:
    # ss.com "MSI Rtx 3090" at 900 EUR
    up = unit_price(D("900"), None, None, "EUR", target="USD", rates={"EUR": D("1.08")})
    assert (up.amount, up.currency) == (D("972.00"), "USD")
    assert up.reasons[-1] == "converted from 900.00 EUR at 1.08"
    missing = unit_price(D("900"), None, None, "EUR", target="USD", rates={"GBP": D("1.27")})
    assert missing.amount is None
    assert missing.unscored == "EUR price and no EUR->USD rate known"
    assert unit_price(D("900"), None, None, None, target="USD").reasons[-1] == (
        "currency not stated; taken as USD")
    assert unit_price(None, None, None, "USD", target="USD").unscored == "no price"


@pytest.mark.parametrize(("model", "low", "high"), [
    ("rtx 3090", "650", "800"), ("rtx 3090 ti", "800", "950"), ("rtx 3080 ti", "550", "650"),
    ("rtx 4090", "1450", "1700"),
])
def test_default_bands_from_published_history(model: str, low: str, high: str) -> None:
    band = default_band(model)
    assert band is not None
    assert (band.low, band.high, band.currency) == (D(low), D(high), "USD")
    assert "Tom's Hardware" in band.source
    assert default_band("rtx 2060") is None
