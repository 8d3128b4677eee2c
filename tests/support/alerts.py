"""Alert test helpers: a config pointed at a loopback SMTP server, a stored, scored listing, the
deliveries the outbox holds, and a mailer whose run dies once the message went out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from gpuscout.jobs.alerts.mail import SmtpMailer
from gpuscout.jobs.config import Config, parse_config
from gpuscout.models.storage.db import transaction
from gpuscout.models.storage.records import ListingRecord, ScoreRecord
from gpuscout.models.storage.store import save_scores, upsert_listings
from gpuscout.models.storage.tables.alerts import AlertDelivery

# 12:00 in New York (UTC-5 in November)
T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
SENDER = "gpuscout@example.com"
TO = "me@example.com"



#: a score's market reference as the evaluator stores it: the band midpoint, no listings yet
BAND_REFERENCE = {"median": "725.00", "count": 0, "window_days": 30, "source": "band",
                  "band_midpoint": "725.00", "observed_median": None, "currency": "USD"}


def make_cfg(port: int | None, *, targets: list[dict[str, Any]] | None = None,
             **rule: Any) -> Config:
    """Alerts for watch 3090-fe by email to a loopback server on ``port`` (None: no [email]),
    and to the push ``targets`` ([[notify]] tables)."""
    alert = {"name": "deals", "watch": "3090-fe", "min_score": 70, **rule}
    data: dict[str, Any] = {
        "database": {"url": "sqlite:///unused.db"},
        "watch": [{"name": "3090-fe", "model": "rtx 3090", "variant": "fe", "price_low": 650,
                   "price_high": 800}],
        "alert": [alert],
    }
    if port is not None:
        data["email"] = {"smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
                         "sender": SENDER, "recipients": [TO], "timezone": "America/New_York",
                         "timeout": 5}
    if targets:
        data["notify"] = targets
    return parse_config(data)


def add_listing(sessions: Any, ext: str, *, price: int = 69900, total: int = 86, fits: bool = True,
                title: str = "NVIDIA GeForce RTX 3090 Founders Edition 24GB", status: str = "active",
                now: datetime = T0, flags: Sequence[str] = (), buying_format: str = "fixed",
                ends_at: datetime | None = None, reference: dict[str, Any] | None = None) -> int:
    """Store (or re-store) a listing and its score for watch 3090-fe; returns its id."""
    with transaction(sessions) as s:
        res = upsert_listings(s, [ListingRecord(
            source="ebay", external_id=ext, url=f"https://www.ebay.com/itm/{ext}", title=title,
            price=price, shipping=0, currency="USD", location="Austin, TX", seller="gpu_seller",
            condition="Used", status=status, image_url=f"https://i.ebayimg.com/images/{ext}.jpg",
            model="rtx 3090", variant="fe", kind="card", buying_format=buying_format,
            ends_at=ends_at)], now=now)
        lid = res.ids[("ebay", ext)]
        save_scores(s, [ScoreRecord(
            listing_id=lid, watch="3090-fe", version=1, total=total, fits=fits,
            unfit_reason=None if fits else "variant partner, watch wants fe", unit_price=price,
            currency="USD", price_points=50, condition_points=20, risk_points=16,
            components={"price": {"name": "price", "points": 50, "max": 60,
                                  "reasons": ["12 % under the fair middle"]},
                        "condition": {"name": "condition", "points": 20, "max": 20,
                                      "reasons": ["used", "tested"]}},
            flags=list(flags), reasons=["price 12 % under the fair middle of $650–$800",
                               "seller 99.8 % positive"],
            reference=reference or {"low": "650", "high": "800"}, computed_at=now)])
    return lid


def deliveries(sessions: Any) -> list[AlertDelivery]:
    """Every delivery in the outbox, oldest first."""
    with sessions() as s:
        return list(s.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


class CrashAfterSend:
    """Delivers, then dies before the outbox learns of it (a run killed mid-send: the window in
    which an alert may go out twice)."""

    def __init__(self, inner: SmtpMailer) -> None:
        self.inner = inner

    def send(self, msg: EmailMessage) -> str:
        self.inner.send(msg)
        raise RuntimeError("killed after the message went out")
