"""Scores: price band edges, reference, condition, risk flags, fit, serialisation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from gpuscout.models.judge.from_json import EvaluationInputError, evaluate, facts_from_mapping
from gpuscout.models.judge.identify import Identity, identify
from gpuscout.models.judge.market import MarketPoint, reference_for
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
    ("580", 50),   # 80% of the market (the band midpoint while nothing was observed): all points
    ("600", 48),
    ("650", 43),
    ("725", 35),   # at the market
    ("800", 21),   # 10% above it, the top of the budget
    ("472", 50),   # just over 0.65 of the market: still a price
])
def test_price_points_rate_the_price_against_the_market(price: str, points: int) -> None:
    s = score(price)
    assert s.component("price").points == points
    assert "too_good_to_be_true" not in s.flags and s.fits


def test_over_the_budget_is_never_ranked() -> None:
    s = score("920")
    assert (s.fits, s.unfit_reason) == (False, "over the budget: 920.00 USD is above the band's 800")
    assert s.component("price").points == 0  # 27% above the market
    assert s.component("price").reasons[1] == ("920.00 USD per card, 27% above the market 725.00 "
                                               "USD; over the budget: 15% above the band 650-800")


def test_too_good_to_be_true_is_a_risk_not_a_better_price() -> None:
    s = score("350")
    assert s.component("price").points == 35  # scored as if at the market
    assert s.component("risk").points == 13
    assert "too_good_to_be_true" in s.flags
    assert any("too good to be true" in r for r in s.component("risk").reasons)


def sales(price: str, n: int) -> list[MarketPoint]:
    return [MarketPoint("sold", D(price), NOW - timedelta(days=1), i) for i in range(n)]


def test_the_market_is_the_yardstick_and_the_band_the_budget() -> None:
    cheap = reference_for((WATCH.price_low, WATCH.price_high), sales("640", 12), now=NOW)
    assert cheap.median == D("657.96")
    facts = ListingFacts(title=TITLE, price=D("725"), currency="USD")
    s = score_listing(facts, FE, WATCH, now=NOW, reference=cheap)
    assert s.component("price").points == 21  # 10% above a cheaper market: fewer points
    assert s.reference == cheap and s.fits
    assert s.component("price").reasons[-1].startswith("reference 657.96 USD over the last 30 "
                                                        "days: sold median 640.00 of 12 sales")
    # a $1,000 market: a $790 card is a bargain and within the budget, an $850 one is not
    dear = reference_for((WATCH.price_low, WATCH.price_high), sales("1000", 40), now=NOW)
    assert dear.median == D("979.54")
    bargain = score_listing(replace(facts, price=D("790")), FE, WATCH, now=NOW, reference=dear)
    assert (bargain.component("price").points, bargain.fits) == (50, True)
    over = score_listing(replace(facts, price=D("850")), FE, WATCH, now=NOW, reference=dear)
    assert over.component("price").points == 45 and not over.fits
    assert over.unfit_reason == "over the budget: 850.00 USD is above the band's 800"


def test_a_mined_or_repaired_card_is_compared_with_a_discount() -> None:
    mined = score("616.25", description="Used for mining for a year, undervolted")
    assert mined.component("price").points == 35  # at the market for a mined card
    assert mined.component("price").reasons[1] == ("a mined card: compared with 85% of the "
                                                   "reference, 616.25 USD")
    ordinary = score("616.25")
    assert ordinary.component("price").points == 46
    denied = score("616.25", description="Never mined, gaming only")
    assert denied.component("price").points == 46
    repaired = score("507.50", description="Memory chip replaced by a shop last year")
    assert repaired.component("price").points == 35  # 0.70 of the reference
    assert "described_fault" in repaired.flags  # and a red flag all the same


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
    assert "price not scored: EUR price and no EUR->USD rate known" in unscored.reasons
    # never ranked as a deal: the price cannot be compared with the band
    assert unscored.fits is False
    assert unscored.unfit_reason == "no comparable price (EUR price and no EUR->USD rate known)"


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
    assert out["components"]["price"]["points"] == 34  # 1% above the market
    assert out["components"]["condition"]["points"] == 17
    assert out["components"]["risk"]["points"] == 25
    assert out["score"] == 76 and out["flags"] == [] and out["fits"] is True
    assert facts_from_mapping({"title": "x", "price": 715.5}).price == D("715.5")
    with pytest.raises(EvaluationInputError):
        facts_from_mapping({"title": "x", "price": "seven hundred"})
    with pytest.raises(EvaluationInputError):
        facts_from_mapping({"price": 700})


# ---- red-flag gates ------------------------------------------------------------------------


@pytest.mark.parametrize(("description", "rule"), [
    ("Fans not spinning sometimes", "fan not spinning"),
    ("Crashes under heavy load", "crashes"),
    ("Artifacts after 20 minutes", "artifacts"),
    ("Black screen now and then", "crashes"),
    ("One memory chip was replaced, reballed core", "repaired"),
    ("Sold as is.", "as is"),
])
def test_a_described_fault_caps_the_score(description: str, rule: str) -> None:
    s = score("560", description=description)
    assert s.total == 45 and s.fits is True
    assert "described_fault" in s.flags and s.red_flags == ("described_fault",)
    assert s.reasons[1].startswith(f"red flag: described fault {rule}")
    assert s.reasons[1].endswith("; capped at 45, never alerted")
    uncapped = s.component("price").points + s.component("condition").points \
        + s.component("risk").points
    assert uncapped > 45


def test_a_denied_fault_keeps_its_meaning() -> None:
    s = score("700", description="No artifacts, never crashed, never repaired, fans spin fine")
    assert "described_fault" not in s.flags
    assert s.component("condition").reasons == ("+1 no artifacts ('artifacts')",
                                                "+1 no crashes ('crashed')")
    assert s.total == 80


@pytest.mark.parametrize(("kw", "red"), [
    # Zelle with a new eBay seller, a Reddit seller without trades, one who says they are new
    ({"description": "Zelle only", "source": "ebay", "seller_feedback": 0}, True),
    ({"description": "Zelle or Cash App", "source": "reddit", "seller_feedback": None}, True),
    ({"description": "New account, PayPal F&F only", "source": "reddit", "seller_feedback": 9},
     True),
    # far under the reference
    ({"description": "Zelle only", "source": "reddit", "seller_feedback": 40, "price": "560"},
     True),
    # away and shipping only on a local marketplace
    ({"description": "I'm deployed, can only ship. Zelle.", "source": "craigslist"}, True),
    ({"description": "Out of town, shipping only, Cash App", "source": "facebook"}, True),
    # contact outside eBay
    ({"description": "Contact me before buying for a discount", "source": "ebay",
      "seller_feedback": 1}, True),
    # not red: an established seller at a fair price, a protected way offered too, cash in person
    ({"description": "Zelle only", "source": "reddit", "seller_feedback": 40}, False),
    ({"description": "PayPal G&S or Zelle", "source": "reddit", "seller_feedback": 0}, False),
    ({"description": "Cash or Zelle at pickup", "source": "craigslist"}, False),
    ({"description": "Getting deployed soon. Local pickup only, cash.", "source": "facebook"},
     False),
])
def test_payment_scam_gate(kw: dict[str, Any], red: bool) -> None:
    s = score(kw.pop("price", "700"), **kw)
    assert ("scam_risk" in s.flags) is red
    assert s.total == 45 if red else s.total > 45


def test_payment_red_flag_caps_even_a_perfect_listing() -> None:
    s = score("600", description="Never mined, original box, receipt. Zelle only.",
              source="ebay", seller_feedback=0)
    assert s.total == 45 and "scam_risk" in s.flags
    assert s.reasons[1] == ("red flag: payment scam risk: asks for Zelle and is an eBay seller "
                            "with 0 feedback; capped at 45, never alerted")


def test_zelle_at_an_exchange_in_person_is_no_risk() -> None:
    s = score("700", description="Cash or Zelle at pickup", source="craigslist")
    assert s.component("risk").points == 25 and "risky_payment" not in s.flags
    assert s.component("risk").reasons == (
        "asks for Zelle at an exchange in person: no risk to the buyer",)
    protected = score("700", description="PayPal G&S or Zelle", source="reddit", seller_feedback=9)
    assert protected.component("risk").points == 20


def test_too_good_line_is_065_of_the_reference() -> None:
    assert "too_good_to_be_true" not in score("472").flags  # 0.651 of 725
    assert "too_good_to_be_true" in score("471").flags


# ---- status, auctions, per-card prices, items -------------------------------------------------


@pytest.mark.parametrize(("status", "reason"), [("sold", "listing is sold"),
                                                ("gone", "listing is gone"),
                                                ("wanted", "a buying post")])
def test_sold_or_wanted_is_never_a_deal(status: str, reason: str) -> None:
    s = score("700", status=status)
    assert (s.fits, s.unfit_reason) == (False, reason)


def test_an_auction_is_ranked_at_its_expected_final_price() -> None:
    ends = NOW + timedelta(hours=52)
    facts = ListingFacts(title=TITLE, price=D("255"), shipping=D("20"), currency="USD",
                         source="ebay", seller_feedback=540, buying_format="auction", bids=7,
                         ends_at=ends)
    s = score_listing(facts, FE, WATCH, now=NOW)
    assert s.unit_price == D("725.00") and s.fits
    assert s.component("price").points == 35 - 5  # at the market, less its uncertainty
    assert s.flags == ("auction",)
    assert s.reasons[1] == ("auction: current bid 275.00 USD (7 bids), ends 2023-02-22 04:00 UTC "
                            "(in 2.2 days)")
    assert "ranked at the expected final price 725.00 (the reference (band)), -5 for its " \
           "uncertainty" in s.component("price").reasons
    high = score_listing(replace(facts, price=D("790"), shipping=D(0)), FE, WATCH, now=NOW)
    assert high.unit_price == D("790.00") and high.fits
    assert high.flags == ("auction",)
    dear = reference_for((WATCH.price_low, WATCH.price_high), sales("1000", 40), now=NOW)
    above = score_listing(facts, FE, WATCH, now=NOW, reference=dear)
    assert above.unit_price == D("979.54") and above.fits  # expected where such cards sell
    assert above.flags == ("auction", "auction_above_band")
    assert "ranked at the expected final price 979.54 (the sold reference), -5 for its " \
           "uncertainty" in above.component("price").reasons
    over = score_listing(replace(facts, price=D("860"), shipping=D(0)), FE, WATCH, now=NOW)
    assert (over.fits, over.unfit_reason) == (False, "over the budget: 860.00 USD is above the "
                                                     "band's 800")
    ended = score_listing(facts, FE, WATCH, now=ends + timedelta(minutes=1))
    assert (ended.fits, ended.unfit_reason) == (False, "the auction has ended")
    fixed = score_listing(replace(facts, buying_format="fixed"), FE, WATCH, now=NOW)
    assert "too_good_to_be_true" in fixed.flags


def test_a_per_card_price_is_not_divided_again() -> None:
    ident = identify("[USA-GA] [H] 2x RTX 3090 Founders Edition [W] PayPal")
    assert (ident.kind, ident.quantity) == ("bundle", 2)
    each = ListingFacts(title="2x RTX 3090 Founders Edition", price=D("700"), shipping=D(0),
                        currency="USD", price_each=True)
    s = score_listing(each, ident, WATCH, now=NOW)
    assert s.unit_price == D("700.00")
    assert s.component("price").reasons[0] == "the price is per card (2 offered, 'each')"
    said = replace(each, price_each=False, description="$700 shipped each, $650 each local")
    assert score_listing(said, ident, WATCH, now=NOW).unit_price == D("700.00")
    together = replace(each, price=D("1400"), price_each=False,
                       description="$1400 shipped for both")
    lot = score_listing(together, ident, WATCH, now=NOW)
    assert lot.unit_price == D("700.00")
    assert "-5: 2 cards sold only together" in lot.component("price").reasons


def test_a_multi_gpu_post_is_scored_for_the_watched_line() -> None:
    title = "[USA-WA] [H] RTX 3090 FE, RTX 3080 FTW3 [W] PayPal"
    body = "RTX 3080 FTW3 - $480 shipped\nRTX 3090 FE - $690 shipped"
    ident = identify(title, body)
    facts = ListingFacts(title=title, description=body, price=D("480"), shipping=D(0),
                         currency="USD", source="reddit", seller_feedback=30)
    s = score_listing(facts, ident, WATCH, now=NOW)
    assert (s.fits, s.unit_price) == (True, D("690.00"))
    assert s.item is not None and (s.item.model, s.item.variant) == ("rtx 3090", "fe")
    assert s.reasons[0].startswith("rtx 3090 / fe / card:")
    assert s.component("price").reasons[0] == (
        "price from the line 'rtx 3090 fe shipped' of a post selling several items")
    partner = Watch("3080", "rtx 3080", "partner", D("400"), D("550"))
    assert score_listing(facts, ident, partner, now=NOW).unit_price == D("480.00")
    other = Watch("4090", "rtx 4090", "fe", D("1450"), D("1700"))
    assert score_listing(facts, ident, other, now=NOW).unfit_reason == "several models offered"
    sold_body = "~~RTX 3090 FE - $690 shipped~~ SOLD\nRTX 3080 FTW3 - $480 shipped"
    sold = score_listing(replace(facts, description=sold_body), identify(title, sold_body),
                         WATCH, now=NOW)
    assert (sold.fits, sold.unfit_reason) == (False, "the watched item is marked sold")


def test_evaluate_reads_status_auctions_and_local_prices() -> None:
    obj = {"title": "NVIDIA RTX 3090 Founders Edition 24GB", "price": "610", "shipping": "15",
           "source": "ebay", "seller_feedback": 120, "buying_format": "auction", "bids": 23,
           "ends_at": "2023-02-20T03:00:00Z", "currency": "USD"}
    facts = facts_from_mapping(obj)
    assert (facts.buying_format, facts.bids, facts.ends_at) == (
        "auction", 23, datetime(2023, 2, 20, 3, tzinfo=UTC))
    out = evaluate(obj, WATCH, now=NOW - timedelta(hours=1)).to_dict()
    assert (out["unit_price"], out["fits"], out["rank"]) == ("725.00", True, out["score"])
    sold = evaluate({**obj, "status": "sold"}, WATCH, now=NOW).to_dict()
    assert (sold["fits"], sold["rank"], sold["unfit_reason"]) == (False, None, "listing is sold")
    assert sold["score"] > 0
    wanted = evaluate({"title": "RTX 3090 FE", "status": "wanted"}, WATCH, now=NOW).to_dict()
    assert (wanted["kind"], wanted["rank"]) == ("wanted", None)
    local = facts_from_mapping({"title": "x", "price_local": "650", "price_each": True})
    assert (local.price_local, local.price_each) == (D("650"), True)
    for bad in ({"title": "x", "status": "lost"}, {"title": "x", "ends_at": "tomorrow"},
                {"title": "x", "bids": "7"}, {"title": "x", "price_each": "yes"}):
        with pytest.raises(EvaluationInputError):
            facts_from_mapping(bad)


def test_contact_outside_the_marketplace_is_a_sign_only_on_ebay() -> None:
    text = "Text me at 555-0100 before coming over. Zelle accepted."
    ebay = score("700", description="Contact me before buying, I give a discount", source="ebay",
                 seller_feedback=300)
    assert "risky_payment" in ebay.flags
    assert "asks for payment off the marketplace" in ebay.component("risk").reasons[0]
    local = score("700", description="Text me at 555-0100, cash only", source="craigslist")
    assert "risky_payment" not in local.flags and local.component("risk").points == 25
    assert "risky_payment" in score("700", description=text, source="craigslist").flags
