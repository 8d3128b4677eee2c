"""Writes and reads of the market: observed prices per card and week, the keys and links that make
cross-posts one card, cached currency rates.

NOTE: the reads a user waits on (``gpuscout market``) take a DB-API connection, like ``deals``:
the command answers from a SQLite file with the standard library alone; every other caller hands
in its session's own connection (``raw_connection``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gpuscout.models.storage.batches import chunks
from gpuscout.models.storage.rawtime import from_stored, pg_time, sqlite_time

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Monday 1970-01-05: week 0 of ``market_prices.week``
EPOCH_MONDAY = date(1970, 1, 5)
#: the variants identification gives; "any" reads all of them
VARIANTS = ("fe", "partner", "oem", "unknown")
_PRICE_COLUMNS = ("listing_id", "grp", "model", "variant", "kind", "week", "observed_at", "price",
                  "currency", "base_price", "condition")


def week_of(at: datetime | date) -> int:
    """The week (from Monday 1970-01-05, UTC) ``at`` falls in."""
    day = at.date() if isinstance(at, datetime) else at
    return (day - EPOCH_MONDAY).days // 7


def week_start(week: int) -> date:
    return EPOCH_MONDAY + timedelta(weeks=week)


def variants_of(variant: str | None) -> tuple[str, ...]:
    return VARIANTS if variant in (None, "", "any") else (str(variant),)


@dataclass(frozen=True, slots=True)
class PriceRecord:
    """One observed price to store (money in minor units; ``base_price`` in US cents)."""

    listing_id: int
    grp: int
    model: str
    variant: str
    kind: str
    observed_at: datetime
    price: int
    currency: str
    base_price: int | None
    condition: str

    @property
    def week(self) -> int:
        return week_of(self.observed_at)


class _Db:
    """A DB-API connection's placeholder and time conversion (sqlite3 or psycopg)."""

    def __init__(self, conn: Any, sqlite: bool) -> None:
        self.conn, self.sqlite = conn, sqlite
        self.mark = "?" if sqlite else "%s"

    def time(self, value: datetime) -> Any:
        return sqlite_time(value) if self.sqlite else pg_time(value)

    def marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall())
        finally:
            cur.close()

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
        finally:
            cur.close()

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cur = self.conn.cursor()
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()


def _session_db(session: Session) -> _Db:
    session.flush()  # NOTE: pending ORM changes must land before statements that bypass it
    conn = session.connection()
    return _Db(conn.connection, conn.dialect.name == "sqlite")


def raw_connection(session: Session) -> tuple[Any, bool]:
    """The session's own DB-API connection, and whether it is SQLite."""
    db = _session_db(session)
    return db.conn, db.sqlite


# --------------------------------------------------------------------------- writes

def save_prices(session: Session, records: Sequence[PriceRecord]) -> None:
    """Insert each observed price, or replace the card's one of that kind and week when this one
    is as new or newer (a card's latest asking price of a week stands for the week)."""
    if not records:
        return
    db = _session_db(session)
    cols = ", ".join(_PRICE_COLUMNS)
    sets = ", ".join(f"{c} = excluded.{c}" for c in ("listing_id", "observed_at", "price",
                                                      "currency", "base_price", "condition"))
    rows = [(r.listing_id, r.grp, r.model, r.variant, r.kind, r.week, db.time(r.observed_at),
             r.price, r.currency, r.base_price, r.condition) for r in records]
    db.many(f"INSERT INTO market_prices ({cols}) VALUES ({db.marks(len(_PRICE_COLUMNS))}) "
            "ON CONFLICT (grp, model, variant, kind, week) DO UPDATE SET "
            f"{sets} WHERE excluded.observed_at >= market_prices.observed_at", rows)


def delete_prices(session: Session, listing_ids: Sequence[int], *,
                  kinds: Sequence[str] = ("sold", "ask")) -> None:
    """Forget the observed prices of ``listing_ids`` of ``kinds`` (before they are recorded
    again: a rescore)."""
    db = _session_db(session)
    for chunk in chunks(listing_ids):
        part = list(chunk)
        db.execute(f"DELETE FROM market_prices WHERE listing_id IN ({db.marks(len(part))}) "
                   f"AND kind IN ({db.marks(len(kinds))})", [*part, *kinds])


def groups_of(session: Session, listing_ids: Iterable[int]) -> dict[int, int]:
    """Each listing's card: the first listing of its copies (itself when it has none)."""
    db = _session_db(session)
    ids = sorted(set(listing_ids))
    out = {i: i for i in ids}
    for part in chunks(ids):
        for listing_id, same_as in db.rows(
                f"SELECT listing_id, same_as FROM same_cards WHERE listing_id IN "
                f"({db.marks(len(part))})", part):
            out[int(listing_id)] = int(same_as)
    return out


def copies_of(session: Session, listing_id: int) -> list[tuple[int, str | None]]:
    """Every listing of the card ``listing_id`` offers, the first one first, with why each
    other one was taken for a copy."""
    db = _session_db(session)
    first = groups_of(session, [listing_id])[listing_id]
    rows = db.rows(f"SELECT listing_id, reason FROM same_cards WHERE same_as = {db.mark} "
                   "ORDER BY listing_id", [first])
    return [(first, None), *((int(i), str(r)) for i, r in rows)]


def listings_by_keys(session: Session, keys: Iterable[str]) -> dict[str, list[int]]:
    """The listings stored under each of ``keys``."""
    db = _session_db(session)
    wanted = sorted(set(keys))
    out: dict[str, list[int]] = {}
    for part in chunks(wanted):
        for key, listing_id in db.rows(f"SELECT key, listing_id FROM listing_keys WHERE key IN "
                                       f"({db.marks(len(part))})", part):
            out.setdefault(str(key), []).append(int(listing_id))
    return out


def save_keys(session: Session, rows: Sequence[tuple[str, int]]) -> None:
    db = _session_db(session)
    db.many(f"INSERT INTO listing_keys (key, listing_id) VALUES ({db.mark}, {db.mark}) "
            "ON CONFLICT (key, listing_id) DO NOTHING", rows)


def save_same(session: Session, rows: Sequence[tuple[int, int, str]], *, now: datetime) -> None:
    """Record each (listing, first listing of the same card, why) once."""
    db = _session_db(session)
    stamp = db.time(now)
    db.many(f"INSERT INTO same_cards (listing_id, same_as, reason, found_at) VALUES "
            f"({db.marks(4)}) ON CONFLICT (listing_id) DO NOTHING",
            [(a, b, why[:200], stamp) for a, b, why in rows])


def forget_keys(session: Session, listing_ids: Sequence[int]) -> None:
    """Drop the keys and copy links of ``listing_ids`` (a rescore finds them again)."""
    db = _session_db(session)
    for chunk in chunks(listing_ids):
        part = list(chunk)
        marks = db.marks(len(part))
        db.execute(f"DELETE FROM listing_keys WHERE listing_id IN ({marks})", part)
        db.execute(f"DELETE FROM same_cards WHERE listing_id IN ({marks})", part)


_CARD_COLUMNS = ("id", "source", "model", "variant", "title", "price", "shipping", "currency",
                 "quantity", "first_seen", "status", "seller", "location", "image_url",
                 "description")


def card_rows(session: Session, listing_ids: Iterable[int]) -> list[dict[str, Any]]:
    """What matching reads of each listing (see ``gpuscout.models.judge.duplicates``)."""
    db = _session_db(session)
    ids = sorted(set(listing_ids))
    out = []
    for part in chunks(ids):
        for row in db.rows(f"SELECT {', '.join(_CARD_COLUMNS)} FROM listings WHERE id IN "
                           f"({db.marks(len(part))})", part):
            item = dict(zip(_CARD_COLUMNS, row, strict=True))
            item["first_seen"] = from_stored(item["first_seen"])
            out.append(item)
    return out


@dataclass(frozen=True, slots=True)
class Observation:
    """A recorded price of a listing (minor units)."""

    observed_at: datetime
    price: int | None
    shipping: int | None
    currency: str | None


def price_histories(session: Session, listing_ids: Iterable[int]) -> dict[int, list[Observation]]:
    """Each listing's recorded prices, oldest first."""
    db = _session_db(session)
    ids = sorted(set(listing_ids))
    out: dict[int, list[Observation]] = {}
    for part in chunks(ids):
        for lid, at, price, shipping, currency in db.rows(
                f"SELECT listing_id, observed_at, price, shipping, currency FROM price_observations "
                f"WHERE listing_id IN ({db.marks(len(part))}) ORDER BY listing_id, observed_at, id",
                part):
            out.setdefault(int(lid), []).append(Observation(_aware(at), price, shipping, currency))
    return out


# --------------------------------------------------------------------------- currency rates

def cached_rates(conn: Any, *, sqlite: bool) -> dict[str, tuple[Decimal, str, datetime, str]]:
    """code -> (value in US dollars, the rates' day, when fetched, from where)."""
    db = _Db(conn, sqlite)
    return {str(code): (Decimal(usd), str(day), _aware(at), str(source))
            for code, usd, day, at, source in db.rows(
                "SELECT code, usd, day, fetched_at, source FROM currency_rates", [])}


def save_rates(session: Session, usd: Mapping[str, Decimal], *, day: str, now: datetime,
               source: str) -> None:
    """Replace the cached rates with ``usd`` (code -> value in US dollars)."""
    db = _session_db(session)
    db.execute("DELETE FROM currency_rates", [])
    stamp = db.time(now)
    db.many(f"INSERT INTO currency_rates (code, usd, day, fetched_at, source) VALUES "
            f"({db.marks(5)})", [(code, str(value), day, stamp, source[:200])
                                 for code, value in sorted(usd.items())])


def _aware(value: Any) -> datetime:
    at = from_stored(value)
    assert at is not None
    return at


# --------------------------------------------------------------------------- reads

@dataclass(frozen=True, slots=True)
class StoredPrice:
    """An observed price as the reference reads it (``base_price`` in US cents)."""

    kind: str
    base_price: int
    observed_at: datetime
    grp: int
    condition: str


def recent_prices(conn: Any, *, sqlite: bool, model: str, variant: str | None, since: datetime,
                  until: datetime, limit: int = 500) -> list[StoredPrice]:
    """The newest ``limit`` observed prices of each kind of ``model`` (and ``variant``; "any":
    all) in (``since``, ``until``], newest first, with a known value in US dollars.

    NOTE: each (variant, kind) walks ``ix_market_prices_recent`` backwards from ``until``; the
    cap keeps the reference's cost bounded however busy the market (the newest observations
    outweigh the older ones anyway)."""
    db = _Db(conn, sqlite)
    out: list[StoredPrice] = []
    m = db.mark
    for kind in ("sold", "gone", "ask"):
        found: list[StoredPrice] = []
        for v in variants_of(variant):
            for row in db.rows(
                    f"SELECT kind, base_price, observed_at, grp, condition FROM market_prices "
                    f"WHERE model = {m} AND variant = {m} AND kind = {m} AND observed_at > {m} "
                    f"AND observed_at <= {m} AND base_price IS NOT NULL "
                    f"ORDER BY observed_at DESC LIMIT {int(limit)}",
                    [model, v, kind, db.time(since), db.time(until)]):
                at = row[2]
                # NOTE: SQLite's stored naive UTC text, read the fast way (a few hundred rows
                # per reference, a few dozen references per `gpuscout market`)
                found.append(StoredPrice(row[0], row[1], datetime.fromisoformat(at).replace(
                    tzinfo=UTC) if isinstance(at, str) else _aware(at), row[3], row[4]))
        found.sort(key=lambda p: p.observed_at, reverse=True)
        out.extend(found[:limit])
    return out


@dataclass(frozen=True, slots=True)
class WeekStats:
    """One kind of observed price in one week: how many, their median and 25th percentile (US
    cents, interpolated like ``statistics.quantiles(method="inclusive")``)."""

    week: int
    kind: str
    count: int
    median: float | None
    p25: float | None


def weekly_stats(conn: Any, *, sqlite: bool, model: str, variant: str | None, first_week: int,
                 last_week: int, kinds: Sequence[str] = ("sold", "gone", "ask"),
                 bounds: Mapping[int, tuple[int, int]] | None = None) -> list[WeekStats]:
    """Per week and kind in [``first_week``, ``last_week``]: count, median and p25 of the
    observed prices with a value in US dollars; within ``bounds`` (week -> (low, high) in US
    cents) when given, so that placeholders and scams stay out of a week's figures.

    NOTE: counts come from ``ix_market_prices_weekly`` alone; each quantile is the row at its
    rank in that index's price order (LIMIT 2 OFFSET rank), so a busy week costs a walk to its
    middle, not a sort."""
    db = _Db(conn, sqlite)
    m = db.mark
    variants = variants_of(variant)
    where = (f"model = {m} AND variant IN ({db.marks(len(variants))}) AND kind = {m} "
             f"AND base_price IS NOT NULL")
    out: list[WeekStats] = []
    for kind in kinds:
        counts: list[tuple[int, int, str, list[int]]]
        if bounds is None:
            counts = [(int(w), int(n), "", []) for w, n in db.rows(
                f"SELECT week, count(*) FROM market_prices WHERE {where} AND week >= {m} "
                f"AND week <= {m} GROUP BY week ORDER BY week",
                [model, *variants, kind, first_week, last_week])]
        else:
            counts = []
            for week in range(first_week, last_week + 1):
                low, high = bounds.get(week, (0, 2**62))
                fence = f" AND base_price >= {m} AND base_price <= {m}"
                n = db.rows(f"SELECT count(*) FROM market_prices WHERE {where} AND week = {m}"
                            + fence, [model, *variants, kind, week, low, high])[0][0]
                if n:
                    counts.append((week, int(n), fence, [low, high]))
        for week, n, fence, extra in counts:
            params = [model, *variants, kind, week, *extra]
            out.append(WeekStats(week, kind, n, _quantile(db, where, fence, params, n, 0.5),
                                 _quantile(db, where, fence, params, n, 0.25)))
    return out


def _quantile(db: _Db, where: str, fence: str, params: Sequence[Any], n: int, q: float
              ) -> float:
    """The ``q`` quantile of the ``n`` prices matching ``where`` and ``fence`` in one week,
    interpolated between the two rows around rank (n - 1) q."""
    h = (n - 1) * q
    low = int(h)
    pair = [float(p[0]) for p in db.rows(
        f"SELECT base_price FROM market_prices WHERE {where} AND week = {db.mark}{fence} "
        f"ORDER BY base_price LIMIT 2 OFFSET {low}", params)]
    if len(pair) == 1 or h == low:
        return pair[0]
    return pair[0] + (h - low) * (pair[1] - pair[0])


def usd_values(conn: Any, *, sqlite: bool) -> dict[str, Decimal]:
    """The cached value in US dollars of each currency."""
    return {code: value for code, (value, _day, _at, _src) in cached_rates(conn,
                                                                           sqlite=sqlite).items()}
