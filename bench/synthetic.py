"""Realistic synthetic listings and scores, and a fast driver-level fill of a benchmark database."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import astuple, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from gpuscout.models.storage.rawtime import sqlite_time
from gpuscout.models.storage.records import ListingRecord, ScoreRecord

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
WATCH = "3090-fe"

#: (source, share of listings, currency)
_SOURCES = (("ebay", 0.6, "USD"), ("reddit", 0.2, "USD"), ("craigslist", 0.15, "USD"),
            ("facebook", 0.05, "USD"))
_CARDS = (
    ("NVIDIA GeForce RTX 3090 Founders Edition 24GB GDDR6X", "rtx 3090", "fe", 72_000),
    ("RTX 3090 FE 24GB - tested, no mining", "rtx 3090", "fe", 70_000),
    ("EVGA GeForce RTX 3090 FTW3 ULTRA GAMING 24GB", "rtx 3090", "partner", 68_000),
    ("ASUS ROG Strix RTX 3090 OC 24GB", "rtx 3090", "partner", 69_000),
    ("NVIDIA RTX 3090 Ti Founders Edition 24GB", "rtx 3090 ti", "fe", 85_000),
    ("MSI GeForce RTX 4090 SUPRIM X 24G", "rtx 4090", "partner", 170_000),
    ("Gigabyte RTX 3080 Gaming OC 10GB LHR", "rtx 3080", "partner", 40_000),
    ("AMD Radeon RX 7900 XTX 24GB reference", "rx 7900 xtx", "oem", 78_000),
    ("RTX 3090 Founders Edition EMPTY BOX ONLY", "rtx 3090", "fe", 3_000),
    ("Gaming PC i9-12900K RTX 3090 64GB DDR5", "rtx 3090", "partner", 180_000),
)
_KINDS = {8: "box_only", 9: "system"}
_CONDITIONS = ("Pre-Owned", "Used", "Open box", "For parts or not working", "New", None)
_CITIES = ("San Jose, CA", "Brooklyn, NY", "Austin, TX", "Seattle, WA", "Denver, CO",
           "Chicago, IL", "Miami, FL", "Portland, OR", "Boston, MA", "Phoenix, AZ")
_BODY = ("Selling my {title}. Used for gaming only, never mined. Repasted and new thermal pads "
         "last month, temps under 70C. Comes with the original box and anti-sag bracket. "
         "Local pickup ${local} or shipped ${price} via PayPal G&S. Timestamps: imgur.com/a/{ref}")


def _external_id(rng: random.Random, source: str, index: int) -> str:
    if source == "ebay":
        return str(100_000_000_000 + index * 7919 % 899_999_999_999)
    if source == "reddit":
        return "1" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=6)) + str(index)
    if source == "craigslist":
        return str(7_800_000_000 + index)
    return str(10**15 + index * 31)


def _url(source: str, ext: str) -> str:
    return {
        "ebay": f"https://www.ebay.com/itm/{ext}",
        "reddit": f"https://www.reddit.com/r/hardwareswap/comments/{ext}/usaca_h_rtx_3090_fe/",
        "craigslist": f"https://sfbay.craigslist.org/sby/sop/d/san-jose-rtx-3090/{ext}.html",
        "facebook": f"https://www.facebook.com/marketplace/item/{ext}/",
    }[source]


def listing_records(n: int, *, seed: int = 0) -> list[ListingRecord]:
    """``n`` listings spread over the sources like a real scan's (unique keys, deterministic)."""
    rng = random.Random(seed)
    weights = [w for _, w, _ in _SOURCES]
    out: list[ListingRecord] = []
    for i in range(n):
        source, _, currency = rng.choices(_SOURCES, weights)[0]
        card = rng.randrange(len(_CARDS))
        title, model, variant, base = _CARDS[card]
        price = max(1_000, int(rng.gauss(base, base * 0.12)) // 100 * 100 - 1)
        ext = _external_id(rng, source, i)
        shipping = rng.choice((0, 0, 1_500, 2_999, None))
        ebay = source == "ebay"
        description = (_BODY.format(title=title, local=price // 100 - 20, price=price // 100,
                                    ref=ext[-7:]) if source in ("reddit", "craigslist") else None)
        out.append(ListingRecord(
            source=source, external_id=ext, url=_url(source, ext), title=title,
            description=description, price=price, shipping=shipping,
            price_local=price - 2_000 if source == "reddit" and i % 3 == 0 else None,
            currency=currency, location=rng.choice(_CITIES),
            seller=f"seller{rng.randrange(50_000)}" if source != "craigslist" else None,
            seller_feedback=rng.randrange(0, 25_000) if ebay else None,
            seller_positive_pct=round(rng.uniform(95, 100), 1) if ebay else None,
            condition=rng.choice(_CONDITIONS) if ebay else None,
            buying_format=rng.choice(("fixed", "fixed", "auction", "best_offer")) if ebay
            else "fixed",
            bids=rng.randrange(0, 40) if ebay and i % 4 == 0 else None,
            status="sold" if ebay and i % 10 == 0 else "active",
            image_url=f"https://i.ebayimg.com/images/g/{ext[-8:]}/s-l500.webp",
            posted_at=NOW - timedelta(minutes=rng.randrange(60 * 24 * 30)),
            sold_at=(NOW - timedelta(days=i % 30)).replace(hour=0, minute=0) if ebay
            and i % 10 == 0 else None,
            model=model, variant=variant, kind=_KINDS.get(card, "card"),
            quantity=1,
        ))
    return out


def reprice(records: Sequence[ListingRecord], every: int = 10) -> list[ListingRecord]:
    """A later scan of the same listings: every ``every``-th one has dropped its price by 5 %."""
    return [replace(r, price=r.price * 95 // 100) if i % every == 0 and r.price else r
            for i, r in enumerate(records)]


# ---- a stored database: listings with scores, filled at the driver level ---------------------

LISTING_COLUMNS = (*(f.name for f in fields(ListingRecord)), "first_seen", "last_seen")
#: a score's fields, then the listing columns it carries copies of (``tables.listings.Score``)
SCORE_COLUMNS = (*(f.name for f in fields(ScoreRecord)), "status", "source", "first_seen")
_REASONS = ("asks $680 shipped: inside the $650-$800 band", "repasted, new thermal pads",
            "seller has 1,203 ratings (99.8 % positive)", "PayPal G&S offered")


def _stored_rows(n: int, seed: int, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed + 1)
    chunk = 10_000
    for start in range(0, n, chunk):
        for rec in listing_records(min(chunk, n - start), seed=seed + start):
            ext = f"{rec.external_id}-{start}"
            values = list(astuple(replace(rec, external_id=ext[:64])))
            seen = NOW - timedelta(hours=rng.randrange(24 * 60))
            values += [seen - timedelta(days=rng.randrange(30)), seen]
            if sqlite:
                values = [sqlite_time(v) if isinstance(v, datetime) else v for v in values]
            yield tuple(values)


def score_row(listing: Sequence[Any], rng: random.Random, sqlite: bool) -> tuple[Any, ...]:
    """A score as the evaluator stores it for ``listing`` (its id, status, source and first
    sighting, which the score copies): one in three listings fits the watch."""
    listing_id, *copied = listing
    fits = rng.random() < 0.35
    total = rng.randrange(20, 100) if fits else rng.randrange(0, 40)
    comps = {"price": {"name": "price", "points": total // 2, "max": 50, "reasons": [_REASONS[0]]},
             "condition": {"name": "condition", "points": 20, "max": 30, "reasons": [_REASONS[1]]},
             "risk": {"name": "risk", "points": 15, "max": 20, "reasons": [_REASONS[2]]}}
    computed = sqlite_time(NOW) if sqlite else NOW
    return (listing_id, WATCH, 1, total, fits, None if fits else "a partner card, not FE",
            rng.randrange(55_000, 95_000), "USD", total // 2, 20, 15, json.dumps(comps),
            json.dumps([]), json.dumps(list(_REASONS[:3])), json.dumps(None), computed, *copied)


_LISTED = "SELECT id, status, source, first_seen FROM listings ORDER BY id"


def fill_database(url: str, n: int, *, seed: int = 0) -> None:
    """Migrate ``url`` and store ``n`` listings with one score each (driver-level bulk writes)."""
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    sqlite = engine.dialect.name == "sqlite"
    rng = random.Random(seed + 2)
    with engine.begin() as conn:
        cur: Any = conn.connection.cursor()
        cols = ", ".join(LISTING_COLUMNS)
        if sqlite:
            marks = ", ".join("?" * len(LISTING_COLUMNS))
            cur.executemany(f"INSERT INTO listings ({cols}) VALUES ({marks})",
                            _stored_rows(n, seed, True))
            cur.execute(_LISTED)
            listed = cur.fetchall()
            marks = ", ".join("?" * len(SCORE_COLUMNS))
            cur.executemany(f"INSERT INTO scores ({', '.join(SCORE_COLUMNS)}) VALUES ({marks})",
                            (score_row(row, rng, True) for row in listed))
            # NOTE: no ANALYZE: a user's database has no planner statistics either
        else:
            with cur.copy(f"COPY listings ({cols}) FROM STDIN") as copy:
                for row in _stored_rows(n, seed, False):
                    copy.write_row(row)
            cur.execute(_LISTED)
            listed = cur.fetchall()
            with cur.copy(f"COPY scores ({', '.join(SCORE_COLUMNS)}) FROM STDIN") as copy:
                for row in listed:
                    copy.write_row(score_row(row, rng, False))
            cur.execute("ANALYZE listings")
            cur.execute("ANALYZE scores")
        cur.close()
    engine.dispose()
