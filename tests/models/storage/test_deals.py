"""`deals` on the scores table: the copies of listing columns stay in step, and every filter mix
gives exactly what a plain sort of the stored rows gives, whichever index serves it."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gpuscout.models.storage import deals as deals_module
from gpuscout.models.storage.deals import DealFilter, top_ids_sql
from gpuscout.models.storage.queries import deals
from gpuscout.models.storage.records import ListingRecord, ScoreRecord
from gpuscout.models.storage.store import mark_missing, save_scores, upsert_listings
from gpuscout.models.storage.tables.listings import Score

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
SOURCES = ("ebay", "reddit", "craigslist", "facebook")


def _record(i: int, source: str, *, status: str = "active", price: int = 70_000) -> ListingRecord:
    return ListingRecord(source=source, external_id=f"x{i}", url=f"https://example.test/{i}",
                         title=f"RTX 3090 FE #{i}", price=price, currency="USD", status=status)


def _score(listing_id: int, total: int, unit_price: int, *, fits: bool = True,
           watch: str = "3090-fe") -> ScoreRecord:
    return ScoreRecord(listing_id=listing_id, watch=watch, version=1, total=total, fits=fits,
                       unfit_reason=None if fits else "not FE", unit_price=unit_price,
                       currency="USD", price_points=total // 2, condition_points=20,
                       risk_points=10, components={}, flags=[], reasons=["r"], reference=None,
                       computed_at=NOW)


def _copies(session: Any, listing_id: int) -> tuple[str, str, datetime]:
    score = session.scalars(select(Score).where(Score.listing_id == listing_id)).one()
    session.refresh(score)
    return score.status, score.source, score.first_seen


def test_scores_copy_status_source_and_first_sighting(sessions: Any) -> None:
    with sessions() as s, s.begin():
        ids = upsert_listings(s, [_record(1, "reddit"), _record(2, "ebay")], now=NOW,
                              search="q").ids
        save_scores(s, [_score(ids[("reddit", "x1")], 80, 70_000),
                        _score(ids[("ebay", "x2")], 70, 69_000)])
    one, two = ids[("reddit", "x1")], ids[("ebay", "x2")]
    with sessions() as s:
        assert _copies(s, one) == ("active", "reddit", NOW)
        assert _copies(s, two) == ("active", "ebay", NOW)

    later = NOW + timedelta(hours=1)
    with sessions() as s, s.begin():  # x2 is sold; x1 is missed twice and goes
        upsert_listings(s, [_record(2, "ebay", status="sold")], now=later, search="q")
        assert mark_missing(s, "q", now=later, gone_after=1) == [one]
    with sessions() as s:
        assert _copies(s, one)[0] == "gone"
        assert _copies(s, two)[0] == "sold"
        assert [r.listing_id for r in deals(s, watch="3090-fe")] == []

    back = later + timedelta(hours=1)
    with sessions() as s, s.begin():  # seen again: active again, first sighting unchanged
        upsert_listings(s, [_record(1, "reddit")], now=back, search="q")
    with sessions() as s:
        assert _copies(s, one) == ("active", "reddit", NOW)
        assert [r.listing_id for r in deals(s, watch="3090-fe")] == [one]

    with sessions() as s, s.begin():  # a rescore keeps the copies
        save_scores(s, [_score(one, 90, 65_000)])
    with sessions() as s:
        assert _copies(s, one) == ("active", "reddit", NOW)
        assert deals(s, watch="3090-fe")[0].total == 90


def test_score_of_an_unknown_listing_is_skipped(sessions: Any) -> None:
    with sessions() as s, s.begin():
        save_scores(s, [_score(12345, 80, 70_000)])
    with sessions() as s:
        assert s.scalars(select(Score)).all() == []


def _fill(sessions: Any, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` listings first seen over 30 days, scored at random; returns what a plain sort needs."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        first = NOW - timedelta(hours=rng.randrange(24 * 30))
        source = rng.choice(SOURCES)
        status = rng.choice(("active", "active", "active", "sold"))
        with sessions() as s, s.begin():
            lid = upsert_listings(s, [_record(i, source, status=status)], now=first).ids[
                (source, f"x{i}")]
        # NOTE: few distinct totals and prices, so ties are common and the tie-breakers matter
        fits = rng.random() < 0.7
        rows.append({"id": lid, "source": source, "status": status, "first_seen": first,
                     "fits": fits, "total": rng.randrange(60, 70),
                     "unit_price": rng.choice((60_000, 65_000, 70_000))})
    with sessions() as s, s.begin():
        save_scores(s, [_score(r["id"], r["total"], r["unit_price"], fits=r["fits"]) for r in rows]
                    + [_score(r["id"], 99, 1_000, watch="other") for r in rows])
    return rows


def _expected(rows: list[dict[str, Any]], *, max_price: int | None = None,
              min_score: int | None = None, source: str | None = None,
              since: datetime | None = None, limit: int = 20) -> list[int]:
    kept = [r for r in rows if r["fits"] and r["status"] == "active"
            and (max_price is None or r["unit_price"] <= max_price)
            and (min_score is None or r["total"] >= min_score)
            and (source is None or r["source"] == source)
            and (since is None or r["first_seen"] >= since)]
    kept.sort(key=lambda r: (-r["total"], r["unit_price"], r["id"]))
    return [r["id"] for r in kept[:limit]]


FILTERS: tuple[dict[str, Any], ...] = (
    {}, {"max_price": 65_000}, {"min_score": 66}, {"source": "facebook"},
    {"since": NOW - timedelta(days=2)}, {"since": NOW - timedelta(days=20), "max_price": 60_000},
    {"source": "reddit", "since": NOW - timedelta(days=5)}, {"limit": 5, "min_score": 64},
    {"since": NOW + timedelta(days=1)},
)


@pytest.mark.parametrize("recent_enough", [0, 10_000], ids=["walk", "window"])
def test_deals_equal_a_plain_sort_for_every_filter(sessions: Any, monkeypatch: Any,
                                                   recent_enough: int) -> None:
    """Both ways of answering a ``since`` filter (walking the score order, or sorting the
    window read from its own index) give the same rows in the same order."""
    rows = _fill(sessions, 160, seed=7)
    monkeypatch.setattr(deals_module, "RECENT_ENOUGH", recent_enough)
    with sessions() as s:
        for f in FILTERS:
            got = deals(s, watch="3090-fe", **f)
            assert [r.listing_id for r in got] == _expected(rows, **f), f
            # the second step read each row's own score for this watch, not the other watch's
            assert all(r.total < 99 and r.reasons == ("r",) for r in got)
    assert any(_expected(rows, **f) for f in FILTERS if "since" in f)


def test_first_step_reads_the_scores_index_alone_on_sqlite(sessions: Any) -> None:
    """The plan of every filter mix searches a deals index and never the listings table."""
    with sessions() as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite plan")
        _fill(sessions, 20, seed=1)
        cur = s.connection().connection.cursor()
        for f, narrow in itertools.product(FILTERS, (False, True)):
            sql, params = top_ids_sql(DealFilter("3090-fe", **f), sqlite=True, narrow_since=narrow)
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " / ".join(str(r[-1]) for r in cur.fetchall())
            assert "USING" in plan and "ix_scores_deals" in plan and "listings" not in plan, (f, plan)
            if narrow and "since" in f:
                assert "ix_scores_deals_recent" in plan, (f, plan)


def test_save_scores_stores_each_scores_own_json_and_time(sessions: Any) -> None:
    with sessions() as s, s.begin():
        ids = upsert_listings(s, [_record(i, "ebay") for i in (1, 2, 3)], now=NOW,
                              search="q").ids
        ref_a, ref_b = {"median": "700", "source": "band"}, {"median": "650", "source": "market"}
        later = NOW + timedelta(minutes=5)
        save_scores(s, [
            replace(_score(ids[("ebay", "x1")], 80, 70_000), reference=ref_a,
                    components={"price": {"points": 40}}, flags=["stale"]),
            replace(_score(ids[("ebay", "x2")], 60, 71_000, fits=False), reference=ref_b),
            replace(_score(ids[("ebay", "x3")], 50, 72_000, watch="3090-any"), reference=ref_a,
                    computed_at=later),
        ])
    with sessions() as s:
        got = {(sc.listing_id, sc.watch): sc for sc in s.scalars(select(Score))}
        one, two, three = (got[(ids[("ebay", f"x{i}")], w)] for i, w in
                           ((1, "3090-fe"), (2, "3090-fe"), (3, "3090-any")))
        assert (one.reference, two.reference, three.reference) == (ref_a, ref_b, ref_a)
        assert (one.components, one.flags, two.components, two.flags) == (
            {"price": {"points": 40}}, ["stale"], {}, [])
        assert (one.fits, two.fits, two.unfit_reason) == (True, False, "not FE")
        assert (one.computed_at, three.computed_at) == (NOW, later)
