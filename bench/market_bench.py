"""Market: how closely the market reference follows the true price, and how fast `gpuscout market`
answers on a large database.

A simulated year of RTX 3090 Founders Edition listings whose true market price follows the
published monthly eBay sold averages (``../shared/market/toms_ebay_2021_2023.csv``, read at run
time) is replayed day by day through storage and the market glue, as scans would store it: eBay
sales (fixed price and auctions' final prices), asks marked up over the market, Reddit posts
later flaired sold and cross-posted to Craigslist, listings that vanish within days, running
auctions' bids, scams, placeholder prices, mined and faulty cards, systems and empty boxes,
reposts, and asks in pounds. At the end of every week the reference is compared with the true
price, beside the band midpoint and the naive median (every card price of the model seen in 30
days, as the reference was before: asks, sales and vanished listings alike, copies included).
"""

from __future__ import annotations

import csv
import json
import math
import random
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.common import shared_root

MARKET_ENV = "GPUSCOUT_MARKET"
SERIES_FILE = "toms_ebay_2021_2023.csv"
#: the year replayed: from mid-2022 (about $1,100) down to the $700s of 2023
START = date(2022, 6, 1)
DAYS = 364
BAND = (650, 800)
GBP_RATE = Decimal("1.25")

_FE_TITLES = ("NVIDIA GeForce RTX 3090 Founders Edition 24GB GDDR6X",
              "NVIDIA RTX 3090 Founders Edition 24GB Graphics Card",
              "RTX 3090 FE 24GB Founders Edition - tested, works great",
              "Nvidia GeForce RTX 3090 FE 24GB - great condition")


def market_root() -> Path:
    """The published market history: $GPUSCOUT_MARKET, else ../shared/market beside the repo."""
    return shared_root(MARKET_ENV, "market")


def monthly_series(path: Path, column: str = "rtx3090") -> dict[date, float]:
    """month (its first day) -> average sold price, from the published CSV."""
    out: dict[date, float] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get(column):
                year, month = row["month"].split("-")
                out[date(int(year), int(month), 1)] = float(row[column])
    return out


def true_price(series: dict[date, float], day: date) -> float:
    """The monthly averages as values at mid-month, linearly interpolated by day."""
    points = sorted((m + timedelta(days=14), v) for m, v in series.items())
    if day <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in pairwise(points):
        if d0 <= day <= d1:
            return v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days
    return points[-1][1]


@dataclass
class Card:
    """One simulated listing over its life."""

    source: str
    ext: str
    title: str
    price: float
    born: int
    ends: int
    outcome: str  # sold | gone | active
    currency: str = "USD"
    description: str | None = None
    seller: str | None = None
    location: str | None = None
    image_url: str | None = None
    buying_format: str = "fixed"
    bids: int | None = None
    final: float | None = None
    sold_at_born: bool = False
    reprice_day: int | None = None
    feedback: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _ln(rng: random.Random, sigma: float) -> float:
    return math.exp(rng.gauss(0, sigma))


def simulate(series: dict[date, float], *, seed: int = 7, scale: float = 1.0,
             days: int = DAYS) -> list[Card]:
    """The listings of ``days`` days (``scale`` multiplies the daily rates)."""
    rng = random.Random(seed)
    cards: list[Card] = []
    n = 0

    def nid() -> str:
        nonlocal n
        n += 1
        return f"{n:07d}"

    def poisson(lam: float) -> int:
        lam *= scale
        k, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1

    for day in range(days):
        truth = true_price(series, START + timedelta(days=day))
        # eBay sales, as the sold search finds them (an auction's final price among them)
        for _ in range(poisson(5)):
            auction = rng.random() < 0.25
            ext = nid()
            cards.append(Card("ebay", ext, rng.choice(_FE_TITLES), truth * _ln(rng, 0.07), day,
                              day, "sold", seller=f"s{rng.randrange(5000)}", sold_at_born=True,
                              buying_format="auction" if auction else "fixed",
                              bids=rng.randrange(5, 40) if auction else None, feedback=500,
                              image_url=f"https://i.ebayimg.com/images/g/P{ext}/s-l500.webp"))
        # eBay asks: marked up; some vanish within days, some are dropped in price, some relisted
        for _ in range(poisson(6)):
            ext = nid()
            kind = rng.random()
            price = truth * 1.10 * _ln(rng, 0.08)
            c = Card("ebay", ext, rng.choice(_FE_TITLES), price, day, day + rng.randrange(8, 40),
                     "active", seller=f"s{rng.randrange(5000)}", feedback=rng.randrange(20, 900),
                     image_url=f"https://i.ebayimg.com/images/g/A{ext}/s-l500.webp")
            if kind < 0.30:
                c.ends, c.outcome = day + rng.randrange(2, 6), "gone"
            elif kind < 0.45:
                c.reprice_day = day + rng.randrange(6, 12)
            if rng.random() < 0.05:  # on ebay.co.uk, in pounds
                c.currency, c.price = "GBP", price / float(GBP_RATE)
            if rng.random() < 0.08:
                c.description, c.price = "Used for mining for a year, undervolted.", c.price * 0.85
            cards.append(c)
            if kind < 0.30 and rng.random() < 0.3:  # relisted by its seller once it vanished
                cards.append(replace(c, ext=nid(), born=c.ends + 1, ends=c.ends + 20,
                                     outcome="active", price=c.price * 0.97, image_url=None))
        # running auctions: bids far under the market, then the final price
        for _ in range(poisson(2)):
            ext = nid()
            cards.append(Card("ebay", ext, rng.choice(_FE_TITLES), truth * rng.uniform(0.2, 0.8),
                              day, day + rng.randrange(3, 8), "sold", buying_format="auction",
                              bids=rng.randrange(1, 20), final=truth * _ln(rng, 0.06),
                              seller=f"s{rng.randrange(5000)}", feedback=300))
        # r/hardwareswap: asks near the market, many flaired sold, some cross-posted to Craigslist
        for _ in range(poisson(1.5)):
            ext, user = nid(), f"u{rng.randrange(3000)}"
            price = truth * 1.03 * _ln(rng, 0.06)
            sold = rng.random() < 0.4
            album = f"imgur.com/a/Z{ext}"
            c = Card("reddit", ext, "[USA-CA] [H] RTX 3090 Founders Edition [W] PayPal", price, day,
                     day + rng.randrange(1, 5) if sold else day + 10, "sold" if sold else "gone",
                     description=f"Timestamps: {album} ${price:.0f} shipped", seller=user,
                     feedback=rng.randrange(3, 60))
            cards.append(c)
            if rng.random() < 0.2:
                cards.append(Card("craigslist", nid(), "RTX 3090 Founders Edition", price, day,
                                  c.ends, "gone", description=f"pics: https://{album}",
                                  location="San Jose"))
        for _ in range(poisson(1)):
            cards.append(Card("craigslist", nid(), "RTX 3090 FE 24GB - like new",
                              truth * 1.05 * _ln(rng, 0.10), day, day + rng.randrange(3, 20),
                              "gone", location=rng.choice(("San Jose", "Oakland", "Fremont"))))
        # what is no price of the market: scams, placeholders, faults, systems, boxes
        for _ in range(poisson(0.5)):
            flagged = rng.random() < 0.5
            cards.append(Card("ebay" if flagged else "craigslist", nid(), rng.choice(_FE_TITLES),
                              truth * rng.uniform(0.4, 0.6), day, day + 3, "gone",
                              description="Zelle only, new account" if flagged else None,
                              seller=f"new{rng.randrange(99)}" if flagged else None,
                              feedback=0 if flagged else None))
        for _ in range(poisson(0.25)):
            cards.append(Card("ebay", nid(), rng.choice(_FE_TITLES),
                              rng.choice((1.0, 0.99, 9999.0, 12345.0)), day, day + 10, "gone",
                              seller=f"s{rng.randrange(5000)}", feedback=100))
        for _ in range(poisson(0.2)):
            cards.append(Card("ebay", nid(), rng.choice(_FE_TITLES), truth * 0.5, day, day + 7,
                              "gone", description="Artifacts after 10 minutes of gaming.",
                              seller=f"s{rng.randrange(5000)}", feedback=100))
        for _ in range(poisson(0.3)):
            if rng.random() < 0.5:
                title, price = "Gaming PC Ryzen 7 5800X RTX 3090 FE 32GB RAM 1TB SSD", 1900.0
            else:
                title, price = "RTX 3090 Founders Edition EMPTY BOX ONLY", 35.0
            cards.append(Card("ebay", nid(), title, price, day, day + 10, "gone",
                              seller=f"s{rng.randrange(5000)}", feedback=100))
    return cards


def _minor(value: float) -> int:
    return round(value * 100)


def _record(card: Card, day: int, now: datetime, identity: Any) -> Any:
    from gpuscout.models.storage.records import ListingRecord

    sold_now = card.outcome == "sold" and day >= card.ends
    price = card.price
    if card.reprice_day is not None and day >= card.reprice_day:
        price *= 0.95
    if card.final is not None and sold_now:
        price = card.final
    return ListingRecord(
        source=card.source, external_id=card.ext, url=f"https://example.invalid/{card.ext}",
        title=card.title, description=card.description, price=_minor(price), shipping=0,
        currency=card.currency, location=card.location, seller=card.seller,
        seller_feedback=card.feedback, buying_format=card.buying_format, bids=card.bids,
        status="sold" if sold_now else "active", image_url=card.image_url,
        posted_at=now - timedelta(hours=3),
        sold_at=(now - timedelta(hours=12)).replace(hour=0, minute=0) if sold_now else None,
        model=identity.model, variant=identity.variant, kind=identity.kind,
        quantity=identity.quantity)


def _naive(session: Any, since: datetime) -> float | None:
    """The reference as it was: the median of every USD card price of the model seen since."""
    from sqlalchemy import and_, select

    from gpuscout.models.storage.tables.listings import Listing

    rows = session.execute(select(Listing.price, Listing.shipping).where(and_(
        Listing.model == "rtx 3090", Listing.variant == "fe", Listing.kind == "card",
        Listing.currency == "USD", Listing.last_seen >= since, Listing.price.is_not(None),
        Listing.status.in_(("active", "sold", "gone")),
        ~and_(Listing.buying_format == "auction", Listing.status != "sold")))).all()
    prices = [((p or 0) + (s or 0)) / 100 for p, s in rows]
    return statistics.median(prices) if prices else None


def replay(cards: list[Card], series: dict[date, float], workdir: Path, *,
           days: int = DAYS) -> dict[str, Any]:
    """Store the cards day by day as scans would, and compare the references week by week."""
    from sqlalchemy import update

    from gpuscout.jobs.config import parse_config
    from gpuscout.jobs.market import MarketRecorder
    from gpuscout.jobs.scoring import Evaluator, identify_raw_fields
    from gpuscout.models.storage.db import make_engine, session_factory, transaction
    from gpuscout.models.storage.migrate import upgrade
    from gpuscout.models.storage.store import upsert_listings
    from gpuscout.models.storage.tables.listings import Listing

    url = f"sqlite:///{workdir / 'market.db'}"
    cfg = parse_config({
        "database": {"url": url},
        "watch": [{"name": "3090-fe", "model": "rtx 3090", "variant": "fe",
                   "price_low": BAND[0], "price_high": BAND[1]}],
        "search": [{"name": "s", "source": "ebay", "query": "rtx 3090"}],
        "scoring": {"rates_url": "", "rates": {"GBP": float(GBP_RATE)}},
    })
    watch = cfg.watches[0]
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    identities: dict[tuple[str, str | None], Any] = {}
    alive: dict[str, Card] = {}
    born: dict[int, list[Card]] = {}
    for c in cards:
        born.setdefault(c.born, []).append(c)
    ids: dict[str, int] = {}
    weeks: list[dict[str, Any]] = []
    for day in range(days):
        now = datetime.combine(START + timedelta(days=day), datetime.min.time(), tzinfo=UTC) \
            + timedelta(hours=12)
        seen = list(born.get(day, ()))
        for c in seen:
            alive[c.ext] = c
        if day % 7 == 0:
            seen = list(alive.values())  # a new week: every card on offer is seen again
        else:
            seen += [c for c in alive.values() if c.born < day and (
                c.ends == day or c.reprice_day == day)]
        ending = [c for c in alive.values() if c.ends <= day]
        records = []
        for c in {c.ext: c for c in seen}.values():
            key = (c.title, c.description)
            if key not in identities:
                identities[key] = identify_raw_fields(c.title, c.description, None, "active")
            if c.outcome == "gone" and day >= c.ends:
                continue
            records.append(_record(c, day, now, identities[key]))
        with transaction(sessions) as session:
            result = upsert_listings(session, records, now=now, search="s")
            ids.update({ext: i for (_src, ext), i in result.ids.items()})
            evaluator = Evaluator(cfg, session, now=now)
            recorder = MarketRecorder(cfg, session, now=now, usd=evaluator.usd)
            recorder.record(evaluator.rows(list(result.ids.values())), new=result.new)
            gone = [ids[c.ext] for c in ending if c.outcome != "sold" and c.ext in ids]
            if gone:
                session.execute(update(Listing).where(Listing.id.in_(gone)).values(status="gone"))
                recorder.record_gone(evaluator.rows(gone))
        for c in ending:
            alive.pop(c.ext, None)
        if day % 7 == 6:
            truth = true_price(series, now.date())
            with sessions() as session:
                ref = Evaluator(cfg, session, now=now).reference(watch)
                naive = _naive(session, now - timedelta(days=30))
            mid = (BAND[0] + BAND[1]) / 2
            old = mid if naive is None else (mid + naive) / 2
            weeks.append({"week_end": now.date().isoformat(), "truth": round(truth, 2),
                          "reference": float(ref.median), "band": mid, "naive": naive,
                          "old_blend": old, "sold": ref.sold_count, "asks": ref.ask_count,
                          "trimmed": ref.trimmed, "band_share": float(ref.band_share)})
    engine.dispose()
    return {"weeks": weeks, "listings": len(ids)}


def _error(weeks: list[dict[str, Any]], key: str) -> float:
    errors = [float(abs(w[key] - w["truth"]) / w["truth"]) for w in weeks if w[key] is not None]
    return round(statistics.median(errors), 4)


def command_time(db_url: str, runs: int) -> dict[str, Any]:
    """`gpuscout market` in fresh processes on the database at ``db_url`` (best and median), the
    weeks up to the synthetic listings' last day."""
    import os

    from bench.cli_bench import gpuscout_command
    from bench.synthetic import NOW

    env = {k: v for k, v in os.environ.items() if k != "GPUSCOUT_CONFIG"}
    env["GPUSCOUT_DATABASE_URL"] = db_url
    cmd = [*gpuscout_command(), "market", "--until", NOW.date().isoformat(), "--format", "json"]
    times = []
    with tempfile.TemporaryDirectory(prefix="gpuscout-market-") as cwd:
        subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)  # warm-up
        for _ in range(runs):
            t0 = time.perf_counter()
            out = subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    return {"best_s": min(times), "median_s": statistics.median(times), "weeks": len(rows),
            "prices_counted": sum(r["sold"] + r["asks"] + r["gone"] for r in rows)}


def fill_market(url: str) -> int:
    """The market prices of a synthetic database's listings (``bench.synthetic``), set-based: an
    ask per card in the week it was first seen, a sale per sold one."""
    from gpuscout.models.storage.db import make_engine
    from gpuscout.models.storage.market import EPOCH_MONDAY

    engine = make_engine(url)
    epoch = f"'{EPOCH_MONDAY.isoformat()}'"
    week = (f"CAST((julianday({{at}}) - julianday({epoch})) / 7 AS INTEGER)"
            if engine.dialect.name == "sqlite"
            else f"CAST(FLOOR(EXTRACT(EPOCH FROM ({{at}} - TIMESTAMPTZ {epoch})) / 604800) AS INTEGER)")
    with engine.begin() as conn:
        cur: Any = conn.connection.cursor()
        for kind, at, status in (("ask", "first_seen", "status = 'active'"),
                                 ("sold", "COALESCE(sold_at, last_seen)", "status = 'sold'")):
            cur.execute(
                "INSERT INTO market_prices (listing_id, grp, model, variant, kind, week, "
                "observed_at, price, currency, base_price, condition) SELECT id, id, model, "
                f"variant, '{kind}', {week.format(at=at)}, {at}, price + COALESCE(shipping, 0), "
                "currency, price + COALESCE(shipping, 0), 'ok' FROM listings WHERE kind = 'card' "
                f"AND price IS NOT NULL AND model IS NOT NULL AND {status}")
        cur.execute("SELECT count(*) FROM market_prices")
        count = int(cur.fetchone()[0])
        cur.close()
    engine.dispose()
    return count


def run(*, scale: float = 1.0, days: int = DAYS, db_url: str | None = None, runs: int = 5,
        db_listings: int = 0) -> dict[str, Any]:
    """The error figures of the replayed year, and the command's time on ``db_url``."""
    path = market_root() / SERIES_FILE
    series = monthly_series(path)
    cards = simulate(series, scale=scale, days=days)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpuscout-market-") as tmp:
        replayed = replay(cards, series, Path(tmp), days=days)
    weeks = replayed["weeks"]
    settled = weeks[1:]  # once a week of data is in
    out: dict[str, Any] = {
        "series": str(path.name), "year": f"{START.isoformat()} + {days} days",
        "simulated_listings": replayed["listings"], "replay_s": round(time.perf_counter() - t0, 1),
        "median_abs_error": _error(settled, "reference"),
        "band_median_abs_error": _error(settled, "band"),
        "naive_median_abs_error": _error(settled, "naive"),
        "old_blend_median_abs_error": _error(settled, "old_blend"),
        "p90_abs_error": round(sorted(abs(w["reference"] - w["truth"]) / w["truth"]
                                      for w in settled)[int(0.9 * (len(settled) - 1))], 4),
        "first_week_abs_error": round(abs(weeks[0]["reference"] - weeks[0]["truth"])
                                      / weeks[0]["truth"], 4),
        "weeks": weeks,
    }
    if db_url is not None:
        out["market_prices"] = fill_market(db_url)
        timing = command_time(db_url, runs)
        out["command"] = {**timing, "listings": db_listings}
        out["command_s"] = round(timing["median_s"], 3)
    return out
