"""Alerts: rules decide, the outbox records, SMTP or Apprise sends — each alert once per channel.

Every alert is a row of the outbox (``gpuscout.models.storage.tables.alerts.AlertDelivery``) keyed by
``<listing id>:<rule>:<event>:<unit price in minor units>``, unique in the database, and inserted
with ON CONFLICT DO NOTHING: the same alert can never be queued twice, however often a scan
reports the same event. Sending is a sequence of separate commits:

    1. record      the row is inserted "queued" (commit)
    2. claim       compare-and-set to "sending", one attempt counted, a lease in ``due_at`` (commit)
    3. SMTP        the message goes out, with a Message-ID derived from the key
    4. sent        the row is marked "sent" with the Message-ID (commit)

A crash or a mail outage before step 3 leaves the row "queued" (or "sending"); the next run
(``send_queued``: after every scan, and ``gpuscout alerts send``) sends it. Nothing is lost.

The one window for a duplicate lies between the SMTP server receiving the whole message (end of
step 3) and the "sent" commit (step 4): a connection dropped or a timeout before the server
confirmed DATA, a crash, a lost database connection. The row becomes "uncertain" (or is left
"sending", and counts as uncertain once its lease has expired: twice the SMTP timeout plus a
minute, so a slow run that is still sending is not overtaken); it is sent once more after a
lease, and never a third time (``gpuscout.jobs.alerts.uncertain``): at least once, at most twice.
That choice favours a rare duplicate over a silently lost deal alert: a duplicate costs one extra
email, which mail clients can recognise because it carries the same Message-ID; a lost alert
costs the deal. Failures that are the server's, not the message's (DNS, refused, timeout, TLS,
login) do not count as attempts and stop the batch; a message the server rejects permanently, or
that fails ``MAX_ATTEMPTS`` times, is marked "failed" — unless it may already have gone out.

Digest rules queue their items instead ("mode" digest, due at the next digest time);
``send_digest`` gathers the best of them into one email a day, itself an outbox row keyed
``digest:<rule>:<local date>`` that goes through the same claim/send/sent steps.

Channels: a rule sends to email and to [[notify]] push targets (Apprise). Every channel has its
own rows (``channel``; keys of push rows end in ``@<target>``), so each target gets each alert
once with the same guarantees, and a target that is down holds back only its own alerts.

A search's first successful scan (a new database, or a search just added) would otherwise
alert on every qualifying listing it finds at once: those go out as one digest per rule and
channel instead (``record_backlog``): a head row (event "digest", sent as soon as possible)
whose items are the listings, each still keyed so that no later scan alerts on it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.alerts.mail import (
    CONNECTION_KINDS,
    UNCERTAIN,
    Mailer,
    SmtpMailer,
    check_message,
)
from gpuscout.jobs.alerts.messages import build
from gpuscout.jobs.alerts.push import (
    ApprisePusher,
    Pusher,
    PushMessage,
)
from gpuscout.jobs.alerts.rules import (
    ScoreFacts,
    alert_timezone,
    dedupe_key,
    due_at,
    email_config,
    first_scan_key,
    message_id_for,
    reject_reason,
)
from gpuscout.jobs.alerts.uncertain import (
    MAX_ATTEMPTS,
    RESENT_NOTE,
    record_uncertain,
    resend_failed,
)
from gpuscout.jobs.config import Config, EmailConfig
from gpuscout.jobs.config.schema import EMAIL_CHANNEL
from gpuscout.jobs.errors import DeliveryError

if TYPE_CHECKING:

    from sqlalchemy.orm import Session, sessionmaker

    from gpuscout.jobs.scoring import ListingEvent
    from gpuscout.models.storage.tables.alerts import AlertDelivery
    from gpuscout.models.storage.tables.listings import Listing, Score

log = logging.getLogger("gpuscout.alerts")

__all__ = ["MAX_ATTEMPTS", "RESENT_NOTE", "AlertReport", "process_events", "record_events",
           "send_digest", "send_queued", "send_test"]
#: how long a push row being sent belongs to the run that claimed it
PUSH_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class AlertReport:
    """What a call did. ``queued``: due but not delivered yet (retried on the next run);
    ``deferred``: waiting for a later time (quiet hours, the next digest); ``recorded``: new
    outbox rows; ``error``: why the mail server could not be used, if it could not."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    recorded: int = 0
    error: str | None = None
    #: sends whose outcome is unknown (the server may have the message): see "uncertain"
    uncertain: int = 0

    def __add__(self, other: AlertReport) -> AlertReport:
        return AlertReport(self.queued + other.queued, self.sent + other.sent,
                           self.failed + other.failed, self.deferred + other.deferred,
                           self.recorded + other.recorded, self.error or other.error,
                           self.uncertain + other.uncertain)


def lease(email: EmailConfig) -> timedelta:
    """How long a "sending" row belongs to the run that claimed it."""
    return timedelta(seconds=2 * email.timeout + 60)


def channel_lease(cfg: Config, channel: str) -> timedelta:
    """The lease of a row on ``channel``: the email one, or a push one."""
    return lease(cfg.email) if channel == EMAIL_CHANNEL and cfg.email is not None else PUSH_LEASE


class Senders:
    """The mailer and the pusher a run delivers with, made on first use."""

    def __init__(self, cfg: Config, mailer: Mailer | None = None,
                 pusher: Pusher | None = None) -> None:
        self.cfg = cfg
        self._mailer = mailer
        self._pusher = pusher

    @property
    def mailer(self) -> Mailer:
        if self._mailer is None:
            self._mailer = SmtpMailer(email_config(self.cfg))
        return self._mailer

    @property
    def pusher(self) -> Pusher:
        if self._pusher is None:
            self._pusher = ApprisePusher()
        return self._pusher


def facts_of(listing: Listing, score: Score | None) -> ScoreFacts | None:
    if score is None:
        return None
    return ScoreFacts(status=listing.status, fits=score.fits, total=score.total,
                      unit_price=score.unit_price, currency=score.currency,
                      quantity=listing.quantity or 1, flags=tuple(score.flags or ()),
                      ends_at=listing.ends_at)


# --------------------------------------------------------------------------- recording


def _rows(cfg: Config, session: Session, events: Sequence[ListingEvent], *,
          now: datetime) -> list[dict[str, Any]]:
    """An outbox row for each (event, rule, channel) that qualifies."""
    from gpuscout.models.storage.market import groups_of
    from gpuscout.models.storage.outbox import listings_with_scores

    tz = alert_timezone(cfg)
    data = listings_with_scores(session, (e.listing_id for e in events),
                                (r.watch for r in cfg.alerts))
    # NOTE: the key names the card, not the listing: a cross-post or a repost of a card already
    # alerted at that price is the same alert (ON CONFLICT DO NOTHING)
    card = groups_of(session, data)
    rows: list[dict[str, Any]] = []
    for ev in events:
        found = data.get(ev.listing_id)
        if found is None:
            continue
        listing, scores = found
        for rule in cfg.alerts:
            score = scores.get(rule.watch)
            reason = reject_reason(rule, ev.event, facts_of(listing, score),
                                   old_price=ev.old_price, new_price=ev.new_price, now=now)
            if reason is not None or score is None:
                log.debug("listing %d, rule %s, %s: no alert (%s)", ev.listing_id, rule.name,
                          ev.event, reason)
                continue
            for channel in cfg.channels(rule):
                rows.append({
                    "dedupe_key": dedupe_key(card.get(listing.id, listing.id), rule.name,
                                             ev.event, score.unit_price, channel),
                    "listing_id": listing.id, "rule": rule.name, "watch": rule.watch,
                    "event": ev.event, "mode": rule.mode, "price": score.unit_price,
                    "currency": score.currency, "score": score.total, "state": "queued",
                    "created_at": now, "due_at": due_at(rule, now, tz), "attempts": 0,
                    "channel": channel,
                })
    return rows


def record_events(cfg: Config, session: Session, events: Sequence[ListingEvent], *,
                  now: datetime) -> list[str]:
    """Queue an outbox row for each (event, rule, channel) that qualifies; returns the new keys."""
    from gpuscout.models.storage.outbox import enqueue

    return enqueue(session, _rows(cfg, session, events, now=now))


def record_backlog(cfg: Config, session: Session, events: Sequence[ListingEvent], *,
                   now: datetime) -> list[str]:
    """The events of searches on their first successful scan: for instant rules, one digest per
    rule and channel holding every listing that qualifies (digest rules queue as usual).
    Returns the keys of the digests recorded."""
    from gpuscout.models.storage.outbox import enqueue

    rows = _rows(cfg, session, events, now=now)
    heads: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row["mode"] != "instant":
            continue
        group = (row["rule"], row["channel"])
        if group not in heads:
            key = first_scan_key(row["rule"], now, row["channel"])
            heads[group] = {"dedupe_key": key, "listing_id": None, "rule": row["rule"],
                            "watch": row["watch"], "event": "digest", "mode": "instant",
                            "state": "queued", "created_at": now, "due_at": now, "attempts": 0,
                            "channel": row["channel"],
                            "message_id": message_id_for(key, sender_address(cfg))}
        # NOTE: an item is a "digest" row given to its head at once: neither sent on its own
        # nor picked up by a daily digest
        row.update(mode="digest", message_id=heads[group]["message_id"], due_at=now)
    enqueue(session, rows)
    # NOTE: a head with no item inserted (every listing alerted before) is not recorded
    from gpuscout.models.storage.outbox import digest_items

    wanted = [head for head in heads.values()
              if digest_items(session, head["message_id"])]
    return enqueue(session, wanted)


def sender_address(cfg: Config) -> str:
    """The address Message-IDs are made from (the [email] sender, when there is one)."""
    return cfg.email.sender if cfg.email is not None else "gpuscout@localhost"


def process_events(cfg: Config, sessions: sessionmaker[Session], events: Sequence[ListingEvent],
                   *, now: datetime, mailer: Mailer | None = None, pusher: Pusher | None = None,
                   backlog: Sequence[ListingEvent] = (), send: bool = True) -> AlertReport:
    """After a scan: record the alerts its events call for (``backlog``: events of searches on
    their first scan, as one digest), then send everything due. Without ``send`` (``scan
    --no-alerts``) they are only recorded: "not now", not "never" — the next scan or ``gpuscout
    alerts send`` sends them."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import pending_counts

    if not cfg.alerts or (cfg.email is None and not cfg.notify):
        return AlertReport()
    from gpuscout.jobs.alerts.market import record_market_moves

    with transaction(sessions) as session:
        recorded = record_events(cfg, session, events, now=now)
        recorded += record_market_moves(cfg, session, now=now)
        if backlog:
            recorded += record_backlog(cfg, session, backlog, now=now)
    if not send:
        with transaction(sessions) as session:
            waiting, later = pending_counts(session, now=now)
        return AlertReport(queued=waiting, deferred=later, recorded=len(recorded))
    report = send_queued(cfg, sessions, now=now, mailer=mailer, pusher=pusher)
    return replace(report, recorded=len(recorded))


# --------------------------------------------------------------------------- instant alerts


def send_queued(cfg: Config, sessions: sessionmaker[Session], *, now: datetime,
                mailer: Mailer | None = None, pusher: Pusher | None = None,
                limit: int = 100) -> AlertReport:
    """Send the instant alerts that are due (including any a crashed run left "sending"), on
    every channel; a channel that cannot be reached holds back only its own alerts."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import due_instant, note_error, pending_counts

    senders = Senders(cfg, mailer, pusher)
    with transaction(sessions) as session:
        rows = due_instant(session, now=now, limit=limit)
    sent = failed = uncertain = 0
    down: dict[str, str] = {}
    for row in rows:
        if row.channel in down:
            with transaction(sessions) as session:
                note_error(session, [row.id], down[row.channel])
            continue
        outcome, message = _deliver(cfg, sessions, senders, row, now)
        sent += outcome == "sent"
        failed += outcome == "failed"
        uncertain += outcome == UNCERTAIN
        if outcome == "unreachable":
            down[row.channel] = message or ""
    with transaction(sessions) as session:
        waiting, later = pending_counts(session, now=now)
    error = "; ".join(down.values()) or None
    return AlertReport(queued=waiting, sent=sent, failed=failed, deferred=later, error=error,
                       uncertain=uncertain)


def _deliver(cfg: Config, sessions: sessionmaker[Session], senders: Senders, row: AlertDelivery,
             now: datetime) -> tuple[str, str | None]:
    """Claim, send and mark one alert: "sent", "failed", "retry", "unreachable", "uncertain" or
    "taken". A row left "sending" past its lease, or "uncertain", gets its one resend."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import claim, digest_items, mark_sent

    retry_at = row.due_at if row.state == "queued" else now
    lease = channel_lease(cfg, row.channel)
    # NOTE: a row still "sending" after its lease was interrupted mid-send: it may have gone out
    resend = row.state in ("sending", UNCERTAIN)
    if row.state == "sending" and row.resends:
        return record_uncertain(sessions, row, now=now, lease=lease, resend=True,
                                why="a run was interrupted while sending it once more")
    with transaction(sessions) as session:
        if not claim(session, row.id, state=row.state, attempts=row.attempts,
                     lease_until=now + lease, resend=resend):
            return "taken", None
    items: list[int] = []
    try:
        with sessions() as session:
            if row.event == "digest":
                items = [item.id for item in digest_items(session, row.message_id or "")]
            payload = build(cfg, session, row, now=now)
    except Exception as exc:  # a message that cannot be built will never be: fail it, go on
        log.exception("alert %s: building the message failed", row.dedupe_key)
        error = exc if isinstance(exc, DeliveryError) else DeliveryError(
            f"building the message failed: {type(exc).__name__}: {exc}", permanent=True)
        return _failed(sessions, row, error, retry_at, items, resend=resend, now=now, lease=lease)
    try:
        if isinstance(payload, PushMessage):
            message_id = senders.pusher.send(payload, cfg.target(row.channel))
        else:
            message_id = senders.mailer.send(payload)
    except DeliveryError as exc:
        return _failed(sessions, row, exc, retry_at, items, resend=resend, now=now, lease=lease)
    with transaction(sessions) as session:
        mark_sent(session, [row.id, *items], message_id=message_id, now=now,
                  note=RESENT_NOTE if resend else None)
    log.info("alert %s sent as %s", row.dedupe_key, message_id)
    return "sent", None


def _failed(sessions: sessionmaker[Session], row: AlertDelivery, exc: DeliveryError,
            retry_at: datetime, items: Sequence[int] = (), *, resend: bool, now: datetime,
            lease: timedelta) -> tuple[str, str | None]:
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import fail, release

    if exc.kind == UNCERTAIN:
        # NOTE: a digest's items stay given to it: they may have been delivered in it
        return record_uncertain(sessions, row, now=now, lease=lease, why=str(exc), resend=resend)
    if resend:
        return resend_failed(sessions, row, exc, now=now, retry_at=retry_at)
    message = f"{exc.kind}: {exc}"
    with transaction(sessions) as session:
        if exc.kind in CONNECTION_KINDS and not exc.permanent:
            release(session, row.id, state="queued", due_at=retry_at, error=message,
                    attempts=row.attempts)
            log.warning("alert %s stays queued: %s", row.dedupe_key, message)
            return "unreachable", message
        if exc.permanent or row.attempts + 1 >= MAX_ATTEMPTS:
            release(session, row.id, state="failed", due_at=retry_at, error=message)
            fail(session, items, message)
            log.error("alert %s failed: %s", row.dedupe_key, message)
            return "failed", message
        release(session, row.id, state="queued", due_at=retry_at, error=message)
        return "retry", message


# --------------------------------------------------------------------------- digests


def send_digest(cfg: Config, sessions: sessionmaker[Session], *, rule: str, now: datetime,
                mailer: Mailer | None = None, pusher: Pusher | None = None,
                force: bool = False) -> AlertReport:
    """``gpuscout.jobs.alerts.digests.send_digest``: a digest rule's daily digest."""
    from gpuscout.jobs.alerts.digests import send_digest as send

    return send(cfg, sessions, rule=rule, now=now, mailer=mailer, pusher=pusher, force=force)


# --------------------------------------------------------------------------- checks


def send_test(cfg: Config, *, now: datetime, mailer: Mailer | None = None) -> str:
    """Send one test message; DeliveryError says plainly what failed."""
    email = email_config(cfg)
    msg = check_message(email, now=now, message_id=message_id_for(f"test:{now.isoformat()}",
                                                                   email.sender))
    return (mailer or SmtpMailer(email)).send(msg)


def send_test_push(cfg: Config, target: str, *, now: datetime,
                   pusher: Pusher | None = None) -> str:
    """Send one test push notification to ``target``; DeliveryError says what failed."""
    message = PushMessage(title="gpuscout test notification",
                          body=f"If you can read this, deal alerts for [[notify]] {target!r} "
                               f"will reach you. ({now.strftime('%Y-%m-%d %H:%M UTC')})",
                          key=f"test:{now.isoformat()}")
    return (pusher or ApprisePusher()).send(message, cfg.target(target))
