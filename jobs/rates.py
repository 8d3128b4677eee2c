"""Currency rates: daily reference rates from the configured source, cached in the database, with
the configured table as the fallback; what a price in one currency is worth in another.

The source is asked ``<rates_url>/latest?base=USD`` (the Frankfurter API: one JSON object whose
``rates`` give units per US dollar; the array of ``{base, quote, rate}`` rows of its newer form
is read too) at most once per ``rates_max_age_hours``, during a scan. Cached values are kept as
the value of one unit in US dollars; a listing's price is converted into a watch's currency
through them. A currency the cache lacks falls back on ``[scoring] rates``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from gpuscout.jobs.config import Config
from gpuscout.jobs.errors import JobError
from gpuscout.scraper.money import positive_amount

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.orm import Session

log = logging.getLogger("gpuscout.rates")

#: the currency cached values are in
BASE = "USD"


class RatesError(JobError):
    """The rates source could not be read."""


@dataclass(frozen=True)
class FetchedRates:
    """Values of one unit in US dollars, for the ``day`` the source published them."""

    day: str
    usd: Mapping[str, Decimal]
    source: str


def parse_rates(body: bytes, source: str) -> FetchedRates:
    """The source's answer as values in US dollars; RatesError when it holds none."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise RatesError(f"{source}: not JSON ({exc})") from exc
    per_usd: dict[str, Decimal] = {}
    day = ""
    if isinstance(data, dict) and isinstance(data.get("rates"), dict):
        if str(data.get("base", BASE)).upper() != BASE:
            raise RatesError(f"{source}: rates based on {data.get('base')!r}, not USD")
        day = str(data.get("date") or "")
        for code, value in data["rates"].items():
            if (rate := positive_amount(value)) is not None:
                per_usd[str(code).upper()] = rate
    elif isinstance(data, list):
        for row in data:
            if not isinstance(row, dict) or str(row.get("base", "")).upper() != BASE:
                continue
            if (rate := positive_amount(row.get("rate"))) is not None and row.get("quote"):
                per_usd[str(row["quote"]).upper()] = rate
                day = max(day, str(row.get("date") or ""))
    if not per_usd:
        raise RatesError(f"{source}: no rates in the answer")
    usd = {code: (Decimal(1) / rate).quantize(Decimal("1e-10")) for code, rate in per_usd.items()}
    usd[BASE] = Decimal(1)
    return FetchedRates(day[:10], usd, source)


async def fetch_usd_rates(url: str, *, transport: httpx.AsyncBaseTransport | None = None,
                          timeout: float = 20.0, user_agent: str = "gpuscout") -> FetchedRates:
    """Ask the source at ``url`` for today's rates (in US dollars)."""
    import httpx

    target = f"{url.rstrip('/')}/latest?base={BASE}"
    try:
        async with httpx.AsyncClient(transport=transport, timeout=timeout,
                                     headers={"User-Agent": user_agent,
                                              "Accept": "application/json"}) as client:
            response = await client.get(target)
    except httpx.HTTPError as exc:
        raise RatesError(f"{target}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise RatesError(f"{target}: HTTP {response.status_code}")
    return parse_rates(response.content, url)


def due(cfg: Config, fetched_at: datetime | None, now: datetime) -> bool:
    """Whether the rates should be asked for again."""
    if not cfg.scoring.rates_url:
        return False
    return fetched_at is None or now - fetched_at >= timedelta(hours=cfg.scoring.rates_max_age_hours)


def last_fetched(session: Session) -> datetime | None:
    from gpuscout.models.storage.market import cached_rates, raw_connection

    conn, sqlite = raw_connection(session)
    cached = cached_rates(conn, sqlite=sqlite)
    return min((at for _v, _d, at, _s in cached.values()), default=None)


async def refresh_if_due(cfg: Config, fetched_at: datetime | None, now: datetime, *,
                         transport: httpx.AsyncBaseTransport | None = None) -> FetchedRates | None:
    """Today's rates when the cache is due for them; None when not due or the source failed
    (the cached rates, then the table, keep serving)."""
    if not due(cfg, fetched_at, now):
        return None
    try:
        return await fetch_usd_rates(cfg.scoring.rates_url, transport=transport,
                                     timeout=cfg.fetch.timeout, user_agent=cfg.fetch.user_agent)
    except RatesError as exc:
        log.warning("currency rates not refreshed: %s (using %s)", exc,
                    "the cached ones" if fetched_at else "[scoring] rates")
        return None


def store(session: Session, fetched: FetchedRates, now: datetime) -> None:
    from gpuscout.models.storage.market import save_rates

    save_rates(session, fetched.usd, day=fetched.day, now=now, source=fetched.source)


def usd_values(cfg: Config, cached: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The value in US dollars of each known currency: the cache over the table (whose rates
    are into the watch currency: into US dollars unless it prices USD itself)."""
    table = dict(cfg.scoring.rates)
    if BASE in table:
        per = table.pop(BASE)
        table = {code: value / per for code, value in table.items()}
    return {**table, **cached, BASE: Decimal(1)}


def rates_into(cfg: Config, currency: str, cached: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """code -> units of ``currency`` per unit of code: cross rates from the cache where it
    knows both, else the configured table."""
    out = dict(cfg.scoring.rates)
    target = cached.get(currency) if currency != BASE else Decimal(1)
    if target:
        for code, value in cached.items():
            if code != currency:
                out[code] = (value / target).quantize(Decimal("1e-8"))
        if currency != BASE:
            out[BASE] = (Decimal(1) / target).quantize(Decimal("1e-8"))
    return out


def cached_usd(session: Session) -> dict[str, Decimal]:
    from gpuscout.models.storage.market import raw_connection
    from gpuscout.models.storage.market import usd_values as stored

    conn, sqlite = raw_connection(session)
    return stored(conn, sqlite=sqlite)
