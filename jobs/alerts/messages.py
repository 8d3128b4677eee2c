"""What an outbox row says: the email or the push message of an alert, a market move or a
first scan's digest, built from the listing, its stored score and its price history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from gpuscout.jobs.alerts.mail import alert_context, alert_subject, model_label, money, render_message
from gpuscout.jobs.alerts.push import PushMessage, alert_push
from gpuscout.jobs.alerts.rules import email_config, message_id_for
from gpuscout.jobs.config import Config
from gpuscout.jobs.config.schema import EMAIL_CHANNEL
from gpuscout.jobs.errors import DeliveryError

if TYPE_CHECKING:
    from email.message import EmailMessage

    from sqlalchemy.orm import Session

    from gpuscout.models.storage.tables.alerts import AlertDelivery
    from gpuscout.models.storage.tables.listings import Listing, PriceObservation, Score


def build(cfg: Config, session: Session, row: AlertDelivery, *,
           now: datetime) -> EmailMessage | PushMessage:
    """The email or push message an outbox row stands for."""
    from gpuscout.jobs.alerts.market import MARKET_MOVE, market_move_message, market_move_push

    if row.channel != EMAIL_CHANNEL and row.channel not in {t.name for t in cfg.notify}:
        raise DeliveryError(f"the [[notify]] target {row.channel!r} is no longer configured",
                            permanent=True)
    if row.event == MARKET_MOVE:
        if row.channel == EMAIL_CHANNEL:
            return market_move_message(cfg, session, row, now=now)
        return market_move_push(cfg, session, row)
    if row.event == "digest":
        from gpuscout.jobs.alerts.digests import first_scan_message

        return first_scan_message(cfg, session, row, now=now)
    if row.channel == EMAIL_CHANNEL:
        return alert_message(cfg, session, row, now=now)
    return push_message(session, row)


def listing_of(session: Session, row: AlertDelivery) -> tuple[Listing, Score]:
    from gpuscout.models.storage.outbox import listings_with_scores

    found = listings_with_scores(session, [row.listing_id] if row.listing_id else [], [row.watch])
    listing, scores = found.get(row.listing_id or 0, (None, {}))
    score = scores.get(row.watch)
    if listing is None or score is None:
        raise DeliveryError("the listing (or its score) is no longer stored", permanent=True)
    return listing, score


def old_price(row: AlertDelivery, listing: Listing, score: Score,
               history: Sequence[PriceObservation]) -> int | None:
    """Before a price drop: the price per card it dropped from, when that can be told."""
    if (row.event == "price_drop" and len(history) >= 2 and listing.quantity == 1
            and listing.currency == score.currency):
        return (history[-2].price or 0) + (history[-2].shipping or 0)
    return None


def push_message(session: Session, row: AlertDelivery) -> PushMessage:
    """The push notification for one outbox row."""
    from gpuscout.models.storage.outbox import price_history

    listing, score = listing_of(session, row)
    old = old_price(row, listing, score, price_history(session, listing.id))
    return alert_push(listing, score, event=row.event, key=row.dedupe_key, money=money,
                      model_label=model_label, old_price=old)


def alert_message(cfg: Config, session: Session, row: AlertDelivery, *,
                  now: datetime) -> EmailMessage:
    """The email for one outbox row, from the listing, its current score and price history, with
    the market of the last 90 days."""
    from gpuscout.jobs.alerts.market import market_picture, picture_context
    from gpuscout.models.storage.outbox import price_history
    from gpuscout.models.storage.records import from_minor

    email = email_config(cfg)
    listing, score = listing_of(session, row)
    history = price_history(session, listing.id)
    old = old_price(row, listing, score, history)
    context = alert_context(listing, score, history, event=row.event, rule=row.rule,
                            watch=row.watch)
    message_id = message_id_for(row.dedupe_key, email.sender)
    picture = market_picture(cfg, session, row.watch, now=now, message_id=message_id,
                             unit_price=from_minor(score.unit_price, score.currency))
    return render_message(email, template="alert",
                          subject=alert_subject(listing, score, row.event, old_price=old),
                          context={**context, **picture_context(picture)},
                          message_id=message_id, now=now,
                          images=picture.images if picture else ())
