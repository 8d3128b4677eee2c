"""Currency rates: the source's answer read, fetched during a scan at most once a day, cached,
and the configured table as the fallback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gpuscout.jobs.rates import RatesError, parse_rates, rates_into, usd_values
from gpuscout.jobs.scan import run_scan
from gpuscout.jobs.testing.localmarket import LocalMarket
from gpuscout.models.storage.db import make_engine, session_factory
from gpuscout.models.storage.migrate import upgrade
from gpuscout.models.storage.tables.market import CurrencyRate, MarketPrice
from tests.support.market import market_config

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
V1 = {"amount": 1.0, "base": "USD", "date": "2026-03-04",
      "rates": {"EUR": 0.8, "GBP": 0.625, "CAD": 1.25, "JPY": 150.0}}
UK_PAGE = """<html><head><title>rtx 3090 | eBay</title></head><body><ul class="srp-results">
<li class="s-card" data-listingid="300000000001"><a href="https://www.ebay.co.uk/itm/300000000001">
<div class="s-card__title"><span>NVIDIA GeForce RTX 3090 Founders Edition 24GB</span></div></a>
<div class="s-card__attribute-row"><span class="s-card__price">\u00a3560.00</span></div>
<div class="s-card__attribute-row"><span>Free postage</span></div>
<div class="s-card__attribute-row"><span>seller-uk 99.9% positive (1.2K)</span></div>
</li></ul></body></html>"""


def test_the_sources_answer_in_either_form() -> None:
    v1 = parse_rates(json.dumps(V1).encode(), "https://rates.example")
    assert v1.day == "2026-03-04"
    assert (v1.usd["EUR"], v1.usd["GBP"], v1.usd["USD"]) == (Decimal("1.25"), Decimal("1.6"),
                                                             Decimal(1))
    assert v1.usd["JPY"] == Decimal("0.0066666667")
    rows = [{"date": "2026-03-04", "base": "USD", "quote": "EUR", "rate": 0.8},
            {"date": "2026-03-04", "base": "USD", "quote": "GBP", "rate": 0.625}]
    v2 = parse_rates(json.dumps(rows).encode(), "https://rates.example")
    assert (v2.day, v2.usd["EUR"], v2.usd["GBP"]) == ("2026-03-04", Decimal("1.25"), Decimal("1.6"))
    for bad, why in ((b"<html>", "not JSON"), (b'{"base": "EUR", "rates": {"USD": 1.1}}',
                                                "based on 'EUR'"), (b'{"rates": {}}', "no rates")):
        with pytest.raises(RatesError, match=why):
            parse_rates(bad, "https://rates.example")


def test_cross_rates_from_the_cache_and_the_table_as_fallback(tmp_path: Path) -> None:
    cfg, _ = market_config("http://127.0.0.1:9", "sqlite://", tmp_path)
    cached = {"USD": Decimal(1), "EUR": Decimal("1.25"), "GBP": Decimal("1.6")}
    assert rates_into(cfg, "USD", cached) == {"EUR": Decimal("1.25"), "GBP": Decimal("1.6"),
                                              "CAD": Decimal("0.73")}  # CAD: the table's
    into_eur = rates_into(cfg, "EUR", cached)
    assert (into_eur["GBP"], into_eur["USD"]) == (Decimal("1.28"), Decimal("0.8"))
    assert usd_values(cfg, {})["GBP"] == Decimal("1.27")
    eur_table, _ = market_config("http://127.0.0.1:9", "sqlite://", tmp_path,
                                 scoring={"rates_url": "", "rates": {"USD": 0.8, "GBP": 1.28}})
    assert usd_values(eur_table, {})["GBP"] == Decimal("1.6")  # a table into EUR, read in USD


@pytest.fixture
def uk_market() -> Iterator[LocalMarket]:
    with LocalMarket() as market:
        market.add("/sch/i.html", UK_PAGE, content_type="text/html; charset=utf-8")
        yield market


def _scan(cfg: Any, engine: Any, now: datetime) -> None:
    summary = run_scan(cfg, engine, now=now, send_alerts=False)
    assert [s.outcome for s in summary.searches] == ["ok"]


def test_a_scan_refreshes_the_rates_once_a_day_and_converts_with_them(
        uk_market: LocalMarket, db_url: str, tmp_path: Path) -> None:
    uk_market.add("/latest", json.dumps(V1), content_type="application/json",
                  query={"base": "USD"})
    cfg, _ = market_config(uk_market.url, db_url, tmp_path, scoring={"rates_url": uk_market.url},
                           search=[{"name": "uk", "source": "ebay", "query": "rtx 3090"}])
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        _scan(cfg, engine, T0)
        _scan(cfg, engine, T0 + timedelta(hours=23))
        asked = [r for r in uk_market.requests if r.path == "/latest"]
        assert len(asked) == 1 and asked[0].query == {"base": "USD"}
        with session_factory(engine)() as session:
            rates = {r.code: (r.usd, r.day, r.source) for r in session.scalars(select(CurrencyRate))}
            assert rates["GBP"] == ("1.6000000000", "2026-03-04", uk_market.url)
            price = session.scalar(select(MarketPrice))
            assert price is not None
            assert (price.price, price.currency, price.base_price) == (56000, "GBP", 89600)
        _scan(cfg, engine, T0 + timedelta(hours=25))
        assert len([r for r in uk_market.requests if r.path == "/latest"]) == 2
    finally:
        engine.dispose()


def test_a_failing_source_leaves_the_table_in_charge(
        uk_market: LocalMarket, db_url: str, tmp_path: Path, caplog: Any) -> None:
    uk_market.add("/latest", "busy", status=503)
    cfg, _ = market_config(uk_market.url, db_url, tmp_path, scoring={"rates_url": uk_market.url},
                           search=[{"name": "uk", "source": "ebay", "query": "rtx 3090"}])
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        _scan(cfg, engine, T0)
        assert "currency rates not refreshed" in caplog.text and "HTTP 503" in caplog.text
        with session_factory(engine)() as session:
            assert session.scalar(select(CurrencyRate)) is None
            price = session.scalar(select(MarketPrice))
            assert price is not None and price.base_price == 71120  # 560 GBP at 1.27
    finally:
        engine.dispose()
