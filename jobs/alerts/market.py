"""The market in alerts: a small chart of the last 90 days (the listing's unit price marked)
inside an alert's HTML, its numbers in the text part, and the market-move rule: an alert when a
watch's reference moved by ``move_percent`` or more within ``move_days`` days, once per move."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.config import AlertRule, Config, WatchConfig

if TYPE_CHECKING:
    from email.message import EmailMessage

    from sqlalchemy.orm import Session

    from gpuscout.jobs.alerts.push import PushMessage
    from gpuscout.models.storage.tables.alerts import AlertDelivery

log = logging.getLogger("gpuscout.alerts")

MARKET_MOVE = "market_move"
#: the weeks an alert's chart shows (about 90 days)
CHART_WEEKS = 13


@dataclass(frozen=True)
class MarketPicture:
    """What an email shows of the market: lines of numbers (for both parts) and the chart."""

    headline: str
    lines: tuple[str, ...]
    chart_cid: str | None
    images: tuple[Any, ...]


def _report(cfg: Config, session: Session, watch: WatchConfig, now: datetime) -> Any:
    from gpuscout.jobs.marketview import market_report
    from gpuscout.models.storage.market import raw_connection

    conn, sqlite = raw_connection(session)
    return market_report(cfg, watch, conn, sqlite=sqlite, now=now, weeks=CHART_WEEKS)


def _money(value: Decimal | None, currency: str) -> str:
    from gpuscout.jobs.alerts.mail import money
    from gpuscout.models.storage.records import to_minor

    return "-" if value is None else money(to_minor(value, currency), currency)


def week_lines(report: Any) -> list[str]:
    """One line per week with data: sold median and count, asking median and count, reference."""
    cur = report.watch.currency
    out = []
    for r in report.rows:
        if not (r["sold"] or r["asks"] or r["gone"]):
            continue
        out.append(f"{r['week']:%b %d}: sold {_money(r['sold_median'], cur)} ({r['sold']}), "
                   f"asked {_money(r['ask_median'], cur)} ({r['asks']}), reference "
                   f"{_money(r['reference'], cur)}")
    return out


def market_picture(cfg: Config, session: Session, watch_name: str, *, now: datetime,
                   message_id: str, unit_price: Decimal | None = None) -> MarketPicture | None:
    """The market of ``watch_name`` over the last 90 days for an email, with ``unit_price``
    marked; None when nothing was observed (or the chart cannot be drawn: the alert goes out
    without it)."""
    from gpuscout.jobs.alerts.mail import InlineImage, inline_cid
    from gpuscout.jobs.marketview import report_chart

    try:
        watch = cfg.watch(watch_name)
        report = _report(cfg, session, watch, now)
        if report.empty:
            return None
        ref = report.reference
        cur = watch.currency
        headline = f"The market, last 90 days: reference {_money(ref.median, cur)}"
        lines = [ref.explain()]
        mark = None
        if unit_price is not None:
            pct = (unit_price - ref.median) / ref.median if ref.median else Decimal(0)
            side = "below" if pct < 0 else "above"
            lines.append(f"This listing: {_money(unit_price, cur)} per card, {abs(pct):.0%} {side} "
                         "the reference")
            mark = (float(unit_price), f"this listing {_money(unit_price, cur)}")
        lines += week_lines(report)
        from gpuscout.jobs.charts.png import render_png

        png = render_png(report_chart(report, mark=mark), width=560, height=280)
        cid = inline_cid(message_id, "market")
        return MarketPicture(headline, tuple(lines), cid, (InlineImage(cid, png),))
    except Exception:  # a chart is a bonus: the alert goes out without it
        log.exception("the market picture for watch %s could not be made", watch_name)
        return None


def picture_context(picture: MarketPicture | None) -> dict[str, Any]:
    from gpuscout.jobs.text import clean_text

    if picture is None:
        return {"market": None}
    return {"market": {"headline": clean_text(picture.headline, 200),
                       "lines": [clean_text(line, 400) for line in picture.lines],
                       "chart_cid": picture.chart_cid}}


# --------------------------------------------------------------------------- market moves


def move_key(rule: str, direction: str, now: datetime) -> str:
    return f"market:{rule}:{direction}:{now.date().isoformat()}"


def record_market_moves(cfg: Config, session: Session, *, now: datetime) -> list[str]:
    """Queue an alert (one per channel of the rule) for each market-move rule whose watch's
    reference moved by its ``move_percent`` or more within its ``move_days``; a move already told
    (the same direction within the period, from a reference that has not moved on by as much
    again) is not."""
    from sqlalchemy import select

    from gpuscout.jobs.alerts.rules import alert_timezone, due_at
    from gpuscout.jobs.marketview import References, usd_of
    from gpuscout.models.storage.market import raw_connection
    from gpuscout.models.storage.outbox import enqueue
    from gpuscout.models.storage.records import from_minor, to_minor
    from gpuscout.models.storage.tables.alerts import AlertDelivery

    rules = [r for r in cfg.alerts if MARKET_MOVE in r.events and cfg.channels(r)]
    if not rules:
        return []
    conn, sqlite = raw_connection(session)
    usd = usd_of(cfg, conn, sqlite)
    rows = []
    for rule in rules:
        watch = cfg.watch(rule.watch)
        refs = References(conn, sqlite, watch, usd)
        now_ref, then_ref = refs.at(now), refs.at(now - timedelta(days=rule.move_days))
        if now_ref.source == "band" or then_ref.source == "band" or not then_ref.median:
            continue
        change = (now_ref.median - then_ref.median) / then_ref.median
        if abs(change) * 100 < rule.move_percent:
            continue
        direction = "up" if change > 0 else "down"
        last = session.scalar(select(AlertDelivery).where(
            AlertDelivery.rule == rule.name, AlertDelivery.event == MARKET_MOVE,
            AlertDelivery.created_at > now - timedelta(days=rule.move_days),
            AlertDelivery.dedupe_key.like(f"market:{rule.name}:{direction}:%"))
            .order_by(AlertDelivery.created_at.desc(), AlertDelivery.id.desc()).limit(1))
        told = None if last is None else from_minor(last.price, last.currency)
        if told and abs(now_ref.median - told) / told * 100 < rule.move_percent:
            continue
        key = move_key(rule.name, direction, now)
        for channel in cfg.channels(rule):
            rows.append({
                "dedupe_key": key if channel == "email" else f"{key}@{channel}",
                "listing_id": None, "rule": rule.name, "watch": rule.watch,
                "event": MARKET_MOVE, "mode": "instant",
                "price": to_minor(now_ref.median, watch.currency), "currency": watch.currency,
                "score": None, "state": "queued", "created_at": now,
                "due_at": due_at(rule, now, alert_timezone(cfg)), "attempts": 0,
                "channel": channel,
            })
    return enqueue(session, rows)


@dataclass(frozen=True)
class _Move:
    """A market move as both messages tell it."""

    model: str
    watch: WatchConfig
    rule: AlertRule
    change: Decimal
    now: str
    then: str
    explanation: str


def _move(cfg: Config, session: Session, row: AlertDelivery) -> _Move:
    from gpuscout.jobs.alerts.rules import alert_rule
    from gpuscout.jobs.marketview import References, usd_of
    from gpuscout.jobs.text import clean_text
    from gpuscout.models.storage.market import raw_connection

    rule: AlertRule = alert_rule(cfg, row.rule)
    watch = cfg.watch(row.watch)
    conn, sqlite = raw_connection(session)
    refs = References(conn, sqlite, watch, usd_of(cfg, conn, sqlite))
    at = row.created_at
    now_ref, then_ref = refs.at(at), refs.at(at - timedelta(days=rule.move_days))
    change = (now_ref.median - then_ref.median) / then_ref.median if then_ref.median else Decimal(0)
    cur = watch.currency
    return _Move(model=clean_text(f"{watch.model.upper()} {watch.variant.upper()}", 60),
                 watch=watch, rule=rule, change=change, now=_money(now_ref.median, cur),
                 then=_money(then_ref.median, cur),
                 explanation=clean_text(now_ref.explain(), 400))


def market_move_push(cfg: Config, session: Session, row: AlertDelivery) -> PushMessage:
    """The push notification of a market move: the new reference, how far it went and why."""
    from gpuscout.jobs.alerts.push import PushMessage

    move = _move(cfg, session, row)
    title = (f"Market move: {move.model} {move.now}, {move.change:+.1%} in "
             f"{move.rule.move_days} days")
    body = f"The reference went from {move.then} to {move.now}.\n{move.explanation}"
    return PushMessage(title=title, body=body, key=row.dedupe_key)


def market_move_message(cfg: Config, session: Session, row: AlertDelivery, *,
                        now: datetime) -> EmailMessage:
    """The email of a market move: how far the reference went, the chart and its numbers."""
    from gpuscout.jobs.alerts.mail import render_message
    from gpuscout.jobs.alerts.rules import email_config, message_id_for
    from gpuscout.jobs.text import clean_text

    email = email_config(cfg)
    move = _move(cfg, session, row)
    message_id = message_id_for(row.dedupe_key, email.sender)
    picture = market_picture(cfg, session, move.watch.name, now=row.created_at,
                             message_id=message_id)
    subject = (f"[gpuscout] Market move: {move.model} reference {move.now}, "
               f"{move.change:+.1%} in {move.rule.move_days} days")
    context = {"model": move.model, "watch": clean_text(move.watch.name, 64),
               "rule": clean_text(move.rule.name, 64), "days": move.rule.move_days,
               "change": f"{move.change:+.1%}", "now": move.now, "then": move.then,
               "explanation": move.explanation, **picture_context(picture)}
    return render_message(email, template="market_move", subject=subject, context=context,
                          message_id=message_id, now=now,
                          images=picture.images if picture else ())
