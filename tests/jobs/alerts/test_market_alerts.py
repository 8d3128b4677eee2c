"""The market in alerts: the chart inside the HTML part (inline, by Content-ID) with its numbers in
the text part, a cross-post alerted once, and market-move alerts sent once per move."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from gpuscout.jobs.alerts.dispatch import process_events
from gpuscout.jobs.scoring import ListingEvent
from gpuscout.models.storage.db import transaction
from gpuscout.models.storage.market import PriceRecord, save_prices, save_same
from gpuscout.models.storage.tables.alerts import AlertDelivery
from tests.support.alerts import T0, add_listing, make_cfg
from tests.support.smtp import SmtpServer


def sales(sessions: Any, listing_id: int, prices: list[tuple[int, int]]) -> None:
    """(days before T0, dollars) sales of the 3090 FE, stored as the market's prices."""
    with transaction(sessions) as s:
        save_prices(s, [PriceRecord(listing_id, 10_000 + i, "rtx 3090", "fe", "sold",
                                    T0 - timedelta(days=days), dollars * 100, "USD",
                                    dollars * 100, "ok") for i, (days, dollars) in enumerate(prices)])


def parts(msg: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    images = [p for p in msg.walk() if p.get_content_maintype() == "image"]
    return plain.get_content(), html.get_content(), images


def test_the_alert_shows_the_market_of_90_days_with_the_price_marked(
        sessions: Any, server: SmtpServer) -> None:
    lid = add_listing(sessions, "111")
    sales(sessions, lid, [(d, 760 - d) for d in range(1, 60, 3)])
    process_events(make_cfg(server.port), sessions, [ListingEvent(lid, "new")], now=T0)
    msg = server.received[0].message
    assert msg.get_content_type() == "multipart/alternative"
    related = msg.get_payload()[1]  # type: ignore[index]
    assert isinstance(related, EmailMessage)
    assert related.get_content_type() == "multipart/related"
    plain, html, images = parts(msg)
    assert len(images) == 1
    image = images[0]
    assert image.get_content_type() == "image/png" and image["Content-Disposition"].startswith(
        "inline")
    cid = str(image["Content-ID"]).strip("<>")
    assert f'<img src="cid:{cid}"' in html and cid.startswith("market.gpuscout.")
    png = image.get_content()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(png)).size == (560, 280)
    # the numbers in the text part
    assert "The market, last 90 days: reference $" in plain
    assert "sold median 745.50 of 10 sales" in plain
    assert "This listing: $699 per card, " in plain and "below the reference" in plain
    assert "sold $7" in plain and "reference $7" in plain  # a line per week


def test_a_cross_post_alerts_once(sessions: Any, server: SmtpServer) -> None:
    first = add_listing(sessions, "111")
    cross = add_listing(sessions, "222")
    with transaction(sessions) as s:
        save_same(s, [(cross, first, "the same photo (ebay:abc)")], now=T0)
    cfg = make_cfg(server.port)
    process_events(cfg, sessions, [ListingEvent(first, "new"), ListingEvent(cross, "new")],
                   now=T0)
    assert len(server.received) == 1
    with sessions() as s:
        keys = [r.dedupe_key for r in s.scalars(select(AlertDelivery))]
    assert keys == [f"{first}:deals:new:69900"]
    # the same card listed again at a lower price is news
    cheaper = add_listing(sessions, "333", price=65000)
    with transaction(sessions) as s:
        save_same(s, [(cheaper, first, "the same seller")], now=T0)
    process_events(cfg, sessions, [ListingEvent(cheaper, "new")], now=T0 + timedelta(hours=1))
    assert len(server.received) == 2


def test_a_market_move_alerts_once_per_move(sessions: Any, server: SmtpServer) -> None:
    lid = add_listing(sessions, "111")
    # the market held at $800 until two weeks ago, and sells at $700 now
    sales(sessions, lid, [(d, 800) for d in range(15, 45)] + [(d, 700) for d in range(0, 14)])
    cfg = make_cfg(server.port, events=["market_move"], move_percent=5, move_days=14)
    process_events(cfg, sessions, [], now=T0)
    assert len(server.received) == 1
    msg = server.received[0].message
    subject = " ".join(str(msg["Subject"]).split())
    assert subject.startswith("[gpuscout] Market move: RTX 3090 FE reference $7")
    assert "in 14 days" in subject and "-" in subject.split(",")[1]
    plain, html, images = parts(msg)
    assert "It was $7" in plain or "(it was $7" in plain
    assert len(images) == 1 and "cid:market." in html
    with sessions() as s:
        (row,) = s.scalars(select(AlertDelivery))
        assert (row.event, row.listing_id, row.state) == ("market_move", None, "sent")
        assert row.dedupe_key == f"market:deals:down:{T0.date().isoformat()}"
    # told: the next scans of the day and of the next days do not tell it again
    process_events(cfg, sessions, [], now=T0 + timedelta(hours=3))
    process_events(cfg, sessions, [], now=T0 + timedelta(days=1))
    assert len(server.received) == 1
    # no move, no alert
    quiet = make_cfg(server.port, name="quiet", events=["market_move"], move_percent=30)
    process_events(quiet, sessions, [], now=T0)
    assert len(server.received) == 1
