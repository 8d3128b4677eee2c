"""`gpuscout evaluate`, `explain` and `rescore`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from gpuscout.models.judge.score import SCORE_VERSION
from gpuscout.models.storage.db import make_engine, session_factory, transaction
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.records import ListingRecord
from gpuscout.models.storage.store import upsert_listings
from gpuscout.models.storage.tables.listings import Listing, Score


def test_evaluate_reads_json_lines_and_reports_bad_ones(run_cli: Any) -> None:
    lines = "\n".join([
        json.dumps({"title": "RTX 3090 Founders Edition, never mined, new thermal pads",
                    "price": 700, "shipping": 20}),
        "{not json",
        json.dumps({"title": "Empty box for RTX 3090 Founders Edition", "price": 40}),
        json.dumps({"price": 10}),
    ])
    result = run_cli("evaluate", input=lines + "\n")
    assert result.exit_code == 1
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == 2
    first, box = out
    assert (first["model"], first["variant"], first["kind"], first["quantity"]) == (
        "rtx 3090", "fe", "card", 1)
    assert first["unit_price"] == "720.00" and first["fits"] is True
    assert set(first["components"]) == {"price", "condition", "risk"}
    assert any("never mined" in r for r in first["components"]["condition"]["reasons"])
    assert first["score"] == sum(c["points"] for c in first["components"].values())
    assert box["kind"] == "box_only" and box["fits"] is False
    assert "line 2:" in result.stderr and "line 4: a listing needs a non-empty string title" in result.stderr


def test_evaluate_one_from_options(run_cli: Any) -> None:
    result = run_cli("evaluate", "--title", "NVIDIA RTX 3090 Ti Founders Edition", "--price", "750")
    data = json.loads(result.output)
    assert data["model"] == "rtx 3090 ti" and data["fits"] is False
    assert data["unfit_reason"] == "model rtx 3090 ti, the watch wants rtx 3090"


def _store(db_url: str) -> int:
    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rec = ListingRecord(source="reddit", external_id="abc", url="https://example.test/abc",
                        title="[USA-NY][H] RTX 3090 Founders Edition [W] PayPal",
                        description="Repasted, new thermal pads. Lightly mined for a month. "
                                    "$700 shipped", price=70000, shipping=0, currency="USD",
                        seller_feedback=12, model="rtx 3090", variant="partner", kind="card")
    with transaction(session_factory(engine)) as s:
        ids = upsert_listings(s, [rec], now=now, search="hws")
    engine.dispose()
    return ids.ids[("reddit", "abc")]


def test_explain_in_words(run_cli: Any, db_url: str) -> None:
    lid = _store(db_url)
    result = run_cli("explain", str(lid), db_url=db_url)
    assert result.exit_code == 0, result.output
    # stored with the wrong variant: explain says what is stored and what the rules read now
    assert "What it is: rtx 3090, variant partner, a single card" in result.output
    assert ("(the current rules read it as rtx 3090, variant fe, a single card; `gpuscout rescore` "
            "stores that)") in result.output
    assert "For watch 3090-fe (rtx 3090 fe, 650-800 USD): " in result.output
    assert "/100 (not stored yet)" in result.output
    assert "lightly mined" in result.output.lower()
    assert "Price " in result.output and "Condition " in result.output and "Risk " in result.output


def test_rescore_brings_stored_scores_to_the_current_version(run_cli: Any, db_url: str) -> None:
    from gpuscout.models.judge.items import items_from_json
    from gpuscout.models.storage.records import ScoreRecord
    from gpuscout.models.storage.store import save_scores

    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    post = ListingRecord(source="reddit", external_id="multi", url="https://example.test/m",
                         title="[USA-WA] [H] RTX 3090 FE, RTX 3080 FTW3 [W] PayPal",
                         description="RTX 3080 FTW3 - $480 shipped\nRTX 3090 FE - $690 shipped",
                         price=48000, shipping=0, currency="USD", seller_feedback=30,
                         model="multiple", variant="fe", kind="card")
    fault = ListingRecord(source="ebay", external_id="fault", url="https://example.test/f",
                          title="RTX 3090 Founders Edition - fans not spinning", price=52000,
                          shipping=0, currency="USD", seller_feedback=230, model="rtx 3090",
                          variant="fe", kind="card")
    with transaction(session_factory(engine)) as s:
        ids = upsert_listings(s, [post, fault], now=now, search="s").ids
        old = [ScoreRecord(listing_id=i, watch="3090-fe", version=1, total=90, fits=True,
                           unfit_reason=None, unit_price=48000, currency="USD", price_points=50,
                           condition_points=15, risk_points=25, components={}, flags=[],
                           reasons=[], reference=None, computed_at=now) for i in ids.values()]
        save_scores(s, old)
    result = run_cli("rescore", db_url=db_url)
    assert result.exit_code == 0, result.output
    with session_factory(engine)() as s:
        scores = {x.listing_id: x for x in s.scalars(select(Score))}
        assert {x.version for x in scores.values()} == {SCORE_VERSION}
        multi = scores[ids[("reddit", "multi")]]
        assert (multi.fits, multi.unit_price) == (True, 69000)
        listing = s.get(Listing, ids[("reddit", "multi")])
        assert listing is not None
        assert [i.model for i in items_from_json(listing.items)] == ["rtx 3080", "rtx 3090"]
        gated = scores[ids[("ebay", "fault")]]
        assert gated.total == 45 and "described_fault" in gated.flags
    engine.dispose()


def test_rescore_reidentifies_and_scores(run_cli: Any, db_url: str) -> None:
    lid = _store(db_url)  # stored with a wrong variant and no score
    result = run_cli("rescore", db_url=db_url)
    assert result.exit_code == 0, result.output
    assert f"rescored 1 listings with rules version {SCORE_VERSION}" in result.output
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        listing = s.get(Listing, lid)
        assert listing is not None and listing.variant == "fe"
        score = s.scalar(select(Score).where(Score.listing_id == lid))
        assert score is not None and score.fits and score.version == SCORE_VERSION
        assert score.unit_price == 70000
    engine.dispose()


def test_show_and_explain_agree_on_the_stored_score(run_cli: Any, db_url: str) -> None:
    """explain reports the stored score (what `show` and `deals` use) and says when today's rules
    or market would score the listing differently."""
    lid = _store(db_url)
    assert run_cli("rescore", db_url=db_url).exit_code == 0
    engine = make_engine(db_url)
    with transaction(session_factory(engine)) as s:
        score = s.scalar(select(Score).where(Score.listing_id == lid))
        assert score is not None
        stored_total = score.total - 7  # as if scored against an older market reference
        score.total = stored_total
    engine.dispose()
    shown = json.loads(run_cli("show", str(lid), "--format", "json", db_url=db_url).output)
    assert shown["scores"][0]["total"] == stored_total
    explained = run_cli("explain", str(lid), db_url=db_url).output
    assert f"For watch 3090-fe (rtx 3090 fe, 650-800 USD): {stored_total}/100 (rules v" in explained
    assert (f"Scored now it would be {stored_total + 7}/100 with rules v") in explained
    assert "`gpuscout rescore` stores that." in explained


def _store_multi(db_url: str) -> int:
    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    from gpuscout.jobs.scoring import to_record
    from gpuscout.scraper.listing import RawListing

    raw = RawListing(source="reddit", external_id="multi", url="https://example.test/m",
                     title="[USA-WA] [H] RTX 3090 FE, RTX 3080 FTW3 [W] PayPal",
                     description="~~RTX 3080 FTW3 - $480 shipped~~ SOLD\nRTX 3090 FE - $690 shipped",
                     price=None, currency="USD", seller_feedback=30)
    with transaction(session_factory(engine)) as s:
        ids = upsert_listings(s, [to_record(raw, now=now)], now=now, search="s")
    engine.dispose()
    return ids.ids[("reddit", "multi")]


def test_show_and_explain_list_the_items_read(run_cli: Any, db_url: str) -> None:
    lid = _store_multi(db_url)
    explained = run_cli("explain", str(lid), db_url=db_url)
    assert explained.exit_code == 0, explained.output
    assert "Items read from the post, with their prices:" in explained.output
    assert "  - rtx 3080 partner ('rtx 3080 ftw3 shipped sold'): 480 shipped (sold)" \
        in explained.output
    assert "  - rtx 3090 fe ('rtx 3090 fe shipped'): 690 shipped" in explained.output
    assert "scored as the item rtx 3090 fe ('rtx 3090 fe shipped'): 690 shipped" \
        in explained.output
    shown = run_cli("show", str(lid), db_url=db_url)
    assert shown.exit_code == 0, shown.output
    assert "items read from the post, with their prices:" in shown.output
    assert "  - rtx 3090 fe ('rtx 3090 fe shipped'): 690 shipped" in shown.output
    as_json = json.loads(run_cli("show", str(lid), "--format", "json", db_url=db_url).output)
    assert [(i["model"], i["price"], i["sold"]) for i in as_json["items"]] == [
        ("rtx 3080", "480", True), ("rtx 3090", "690", False)]


def test_evaluate_table_ranks_fitting_listings_first(run_cli: Any) -> None:
    lines = "\n".join(json.dumps(x) for x in [
        {"title": "RTX 3090 FE", "price": 700, "status": "sold"},
        {"title": "RTX 3090 Founders Edition, never mined", "price": 700, "source": "craigslist"},
        {"title": "RTX 3090 FE - fans not spinning", "price": 520},
    ])
    result = run_cli("evaluate", "--format", "table", input=lines + "\n", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "3 listings judged for watch 3090-fe" in out
    never, fault, sold = (out.index("never mined"), out.index("fans not"), out.index("listing is"))
    assert never < fault < sold
    assert "(78)" in out and "described_fault" in out


def test_explain_and_show_an_auction(run_cli: Any, db_url: str) -> None:
    from datetime import timedelta

    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    ends = now + timedelta(hours=30)
    rec = ListingRecord(source="ebay", external_id="auc", url="https://www.ebay.com/itm/1",
                        title="NVIDIA GeForce RTX 3090 Founders Edition 24GB - NO RESERVE",
                        price=25500, shipping=2000, currency="USD", seller_feedback=540,
                        buying_format="auction", bids=7, ends_at=ends, model="rtx 3090",
                        variant="fe", kind="card")
    with transaction(session_factory(engine)) as s:
        lid = upsert_listings(s, [rec], now=now, search="s").ids[("ebay", "auc")]
    engine.dispose()
    explained = run_cli("explain", str(lid), db_url=db_url)
    assert explained.exit_code == 0, explained.output
    assert f"an auction: 7 bids, ends {ends:%Y-%m-%d %H:%M} UTC" in explained.output
    assert f"auction: current bid 275.00 USD (7 bids), ends {ends:%Y-%m-%d %H:%M} UTC (in " \
        in explained.output
    assert "ranked at the expected final price 725.00" in explained.output
    shown = run_cli("show", str(lid), "--format", "json", db_url=db_url)
    data = json.loads(shown.output)
    assert (data["buying_format"], data["bids"]) == ("auction", 7)
    assert data["ends_at"] == ends.isoformat().replace("+00:00", "Z")
