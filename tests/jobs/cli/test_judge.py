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
    assert "What it is: rtx 3090, variant fe, a single card" in result.output
    assert "For watch 3090-fe (rtx 3090 fe, 650-800 USD)" in result.output
    assert "lightly mined" in result.output.lower()
    assert "Price " in result.output and "Condition " in result.output and "Risk " in result.output


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
