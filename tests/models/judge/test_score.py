"""Scores: price band edges, reference, condition, risk flags, fit, serialisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from gpuscout.models.judge.from_json import EvaluationInputError, evaluate, facts_from_mapping
from gpuscout.models.judge.identify import Identity, identify
from gpuscout.models.judge.prices import reference_for
from gpuscout.models.judge.score import SCORE_VERSION, ListingFacts, Score, Watch, fit, score_listing

NOW = datetime(2023, 2, 20, tzinfo=UTC)
WATCH = Watch("3090 FE", "rtx 3090", "fe", D("650"), D("800"))
FE = Identity("rtx 3090", "fe", "card")
TITLE = "NVIDIA GeForce RTX 3090 Founders Edition 24GB GDDR6X Graphics Card"


def score(price: str | None, **kw: Any) -> Score:
    facts = ListingFacts(title=str(kw.pop("title", TITLE)),
                         price=None if price is None else D(price), currency="USD", **kw)
    return score_listing(facts, FE, WATCH, now=NOW)


@pytest.mark.parametrize(("price", "points"), [
    ("600", 50),   # below the band and well under the reference
    ("650", 48),   # band low edge
    ("725", 40),   # band midpoint = reference
    ("800", 32),   # band high edge
    ("920", 15),   # 15% above the band
    ("1040", 0),   # 30% above the band: nothing
    ("472", 50),   # just over 0.65 of the reference: still a price
])
def test_price_points_by_band(price: str, points: int) -> None:
    s = score(price)
    assert s.component("price").points == points
    assert "too_good_to_be_true" not in s.flags


def test_too_good_to_be_true_is_a_risk_not_a_better_price() -> None:
    s = score("350")
    assert s.component("price").points == 40  # scored as if at the reference
    assert s.component("risk").points == 13
    assert "too_good_to_be_true" in s.flags
    assert any("too good to be true" in r for r in s.component("risk").reasons)


def test_reference_blend_moves_the_price_score() -> None:
    cheap_market = reference_for(WATCH, [D("640")] * 12)
    assert cheap_market.median == D("682.50")
    facts = ListingFacts(title=TITLE, price=D("725"), currency="USD")
    s = score_listing(facts, FE, WATCH, now=NOW, reference=cheap_market)
    assert s.component("price").points == 38
    assert s.reference == cheap_market
    assert s.component("price").reasons[-1].startswith("reference 682.50 USD: band midpoint")


def test_condition_component() -> None:
    base = score("725")
    assert base.component("condition").points == 15
    good = score("725", description="Never mined, new thermal pads, original box and receipt")
    assert good.component("condition").points == 25
    bad = score("725", description="Mined on it for a year, artifacts sometimes")
    assert bad.component("condition").points == 0
    assert "condition_concerns" in bad.flags
    used = score("725", condition="Open box")
    assert used.component("condition").points == 17


@pytest.mark.parametrize(("text", "source", "points", "flag"), [
    ("Zelle only", None, 15, "risky_payment"),
    ("Cash App or Zelle", None, 10, "risky_payment"),
    ("PayPal F&F only", None, 15, "risky_payment"),
    ("paypal friends and family", None, 15, "risky_payment"),
    ("payment by gift cards", None, 15, "risky_payment"),
    ("Western Union", None, 15, "risky_payment"),
    ("bitcoin accepted", None, 15, "risky_payment"),
    ("wire transfer", None, 15, "risky_payment"),
    ("PayPal G&S only, no F&F, no Zelle", None, 25, None),
    ("used for crypto mining", None, 25, None),
    ("Shipping only", "craigslist", 19, "shipping_only_local"),
    ("Shipping only", "facebook", 19, "shipping_only_local"),
    ("Shipping only", "ebay", 25, None),
])
def test_risk_phrases(text: str, source: str | None, points: int, flag: str | None) -> None:
    s = score("725", description=text, source=source)
    assert s.component("risk").points == points
    if flag:
        assert flag in s.flags
    else:
        assert not {"risky_payment", "shipping_only_local"} & set(s.flags)


@pytest.mark.parametrize(("source", "feedback", "pct", "low"), [
    ("ebay", 9, 100.0, True), ("ebay", 10, 100.0, False), ("ebay", 500, 97.5, True),
    ("ebay", 500, 98.0, False), ("reddit", 2, None, True), ("reddit", 3, None, False),
    ("reddit", None, None, True), ("craigslist", None, None, False),
])
def test_seller_feedback(source: str, feedback: int | None, pct: float | None, low: bool) -> None:
    s = score("725", source=source, seller_feedback=feedback, seller_positive_pct=pct)
    assert ("low_feedback" in s.flags) is low
    assert s.component("risk").points == (19 if low else 25)


@pytest.mark.parametrize(("title", "reason"), [
    ("NVIDIA GeForce RTX 3090 Ti Founders Edition 24GB",
     "model rtx 3090 ti, the watch wants rtx 3090"),
    ("EVGA GeForce RTX 3090 FTW3 ULTRA HYBRID 24GB GDDR6X Graphic Card 843368067106",
     "variant partner, the watch wants fe"),
    ("RTX 3090 Founders Edition box only", "box only, no card"),
    ("NVIDIA RTX 3090 Founders Edition for parts, no display", "sold for parts"),
    ("EK Quantum Vector waterblock for RTX 3090 Founders Edition", "an accessory, not a card"),
    ("WTB RTX 3090 Founders Edition", "a buying post"),
    ("Gaming PC Ryzen 7 5800X RTX 3090 FE 32GB RAM 1TB SSD", "a complete system"),
    ("RTX 3090 FE / RTX 3080 FE", "several models offered"),
    ("RTX 3090 Founders Edition + i9 motherboard bundle", "sold together with other parts"),
])
def test_unfit_listings_keep_a_score(title: str, reason: str) -> None:
    ident = identify(title)
    facts = ListingFacts(title=title, price=D("700"), currency="USD")
    s = score_listing(facts, ident, WATCH, now=NOW)
    assert (s.fits, s.unfit_reason) == (False, reason)
    assert "unfit" in s.flags
    assert s.total > 0 and s.components


def test_fit_rules() -> None:
    assert fit(FE, WATCH) is None
    any_variant = Watch("3090", "rtx 3090", "any", D("650"), D("800"))
    assert fit(Identity("rtx 3090", "partner", "card"), any_variant) is None
    assert fit(Identity("rtx 3090", "fe", "bundle", 2), WATCH) is None


def test_bundle_scored_per_card_and_currency() -> None:
    ident = identify("2x RTX 3090 Founders Edition")
    facts = ListingFacts(title="2x RTX 3090 Founders Edition", price=D("1300"), shipping=D("30"),
                         currency="EUR")
    s = score_listing(facts, ident, WATCH, now=NOW, rates={"EUR": D("1.08")})
    assert (s.fits, s.unit_price, s.currency) == (True, D("718.20"), "USD")
    unscored = score_listing(facts, ident, WATCH, now=NOW)
    assert unscored.unit_price is None
    assert unscored.component("price").points == 0
    assert "price_unscored" in unscored.flags
    assert "price not scored: EUR price and no EUR->USD rate configured" in unscored.reasons
    # never ranked as a deal: the price cannot be compared with the band
    assert unscored.fits is False
    assert unscored.unfit_reason == "no comparable price (EUR price and no EUR->USD rate configured)"


def test_stale_and_version_and_dict() -> None:
    s = score("715", posted_at=NOW - timedelta(days=45))
    assert "stale" in s.flags and "posted 45 days ago" in s.reasons
    assert s.version == SCORE_VERSION
    d = s.to_dict()
    assert d["unit_price"] == "715.00" and d["version"] == SCORE_VERSION
    assert d["components"]["price"]["points"] == s.component("price").points
    assert d["total"] == sum(c["points"] for c in d["components"].values())
    assert d["reference"]["median"] == "725.00" and d["reference"]["source"] == "band"


def test_evaluate_json_object() -> None:
    obj = {"title": "[USA-NY][H] Rtx 3090 Founders Edition and Meta Quest 2 256gb [W] Paypal or "
                    "Local Cash", "description": "Comes with original retail box.",
           "price": "730", "currency": "USD", "source": "reddit", "seller_feedback": 3}
    out = evaluate(obj, WATCH, now=NOW).to_dict()
    assert (out["model"], out["variant"], out["kind"], out["quantity"]) == ("rtx 3090", "fe",
                                                                            "card", 1)
    assert out["unit_price"] == "730.00"
    assert out["components"]["price"]["points"] == 39
    assert out["components"]["condition"]["points"] == 17
    assert out["components"]["risk"]["points"] == 25
    assert out["score"] == 81 and out["flags"] == [] and out["fits"] is True
    assert facts_from_mapping({"title": "x", "price": 715.5}).price == D("715.5")
    with pytest.raises(EvaluationInputError):
        facts_from_mapping({"title": "x", "price": "seven hundred"})
    with pytest.raises(EvaluationInputError):
        facts_from_mapping({"price": 700})
