"""Email alerts: rules decide, the outbox records, SMTP sends — each alert once.

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
    alert_context,
    alert_subject,
    check_message,
    digest_item,
    digest_subject,
    render_message,
)
from gpuscout.jobs.alerts.rules import (
    ScoreFacts,
    dedupe_key,
    digest_key,
    due_at,
    local_date,
    message_id_for,
    reject_reason,
    score_reason,
)
from gpuscout.jobs.alerts.uncertain import (
    MAX_ATTEMPTS,
    RESENT_NOTE,
    record_uncertain,
    resend_failed,
)
from gpuscout.jobs.config import AlertRule, Config, EmailConfig
from gpuscout.jobs.errors import ConfigError, DeliveryError

if TYPE_CHECKING:
    from email.message import EmailMessage

    from sqlalchemy.orm import Session, sessionmaker

    from gpuscout.jobs.scoring import ListingEvent
    from gpuscout.models.storage.tables.alerts import AlertDelivery
    from gpuscout.models.storage.tables.listings import Listing, Score

log = logging.getLogger("gpuscout.alerts")

__all__ = ["MAX_ATTEMPTS", "AlertReport", "process_events", "record_events", "send_digest",
           "send_queued", "send_test"]


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


def email_config(cfg: Config) -> EmailConfig:
    if cfg.email is None:
        raise ConfigError("email: there is no [email] section; add one (see `gpuscout config init`)")
    return cfg.email


def alert_rule(cfg: Config, name: str) -> AlertRule:
    for rule in cfg.alerts:
        if rule.name == name:
            return rule
    known = ", ".join(r.name for r in cfg.alerts) or "none"
    raise ConfigError(f"no alert rule named {name!r}; configured: {known}")


def lease(email: EmailConfig) -> timedelta:
    """How long a "sending" row belongs to the run that claimed it."""
    return timedelta(seconds=2 * email.timeout + 60)


def facts_of(listing: Listing, score: Score | None) -> ScoreFacts | None:
    if score is None:
        return None
    return ScoreFacts(status=listing.status, fits=score.fits, total=score.total,
                      unit_price=score.unit_price, currency=score.currency,
                      quantity=listing.quantity or 1)


# --------------------------------------------------------------------------- recording


def record_events(cfg: Config, session: Session, events: Sequence[ListingEvent], *,
                  now: datetime) -> list[str]:
    """Queue an outbox row for each (event, rule) that qualifies; returns the new keys."""
    from gpuscout.models.storage.outbox import enqueue, listings_with_scores

    email = email_config(cfg)
    data = listings_with_scores(session, (e.listing_id for e in events),
                                (r.watch for r in cfg.alerts))
    rows: list[dict[str, Any]] = []
    for ev in events:
        found = data.get(ev.listing_id)
        if found is None:
            continue
        listing, scores = found
        for rule in cfg.alerts:
            score = scores.get(rule.watch)
            reason = reject_reason(rule, ev.event, facts_of(listing, score),
                                   old_price=ev.old_price, new_price=ev.new_price)
            if reason is not None or score is None:
                log.debug("listing %d, rule %s, %s: no alert (%s)", ev.listing_id, rule.name,
                          ev.event, reason)
                continue
            rows.append({
                "dedupe_key": dedupe_key(listing.id, rule.name, ev.event, score.unit_price),
                "listing_id": listing.id, "rule": rule.name, "watch": rule.watch,
                "event": ev.event, "mode": rule.mode, "price": score.unit_price,
                "currency": score.currency, "score": score.total, "state": "queued",
                "created_at": now, "due_at": due_at(rule, now, email.timezone), "attempts": 0,
            })
    return enqueue(session, rows)


def process_events(cfg: Config, sessions: sessionmaker[Session], events: Sequence[ListingEvent],
                   *, now: datetime, mailer: Mailer | None = None,
                   send: bool = True) -> AlertReport:
    """After a scan: record the alerts its events call for, then send everything due. Without
    ``send`` (``scan --no-alerts``) they are only recorded: "not now", not "never" — the next
    scan or ``gpuscout alerts send`` sends them."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import pending_counts

    if cfg.email is None or not cfg.alerts:
        return AlertReport()
    with transaction(sessions) as session:
        recorded = record_events(cfg, session, events, now=now)
    if not send:
        with transaction(sessions) as session:
            waiting, later = pending_counts(session, now=now)
        return AlertReport(queued=waiting, deferred=later, recorded=len(recorded))
    report = send_queued(cfg, sessions, now=now, mailer=mailer)
    return replace(report, recorded=len(recorded))


# --------------------------------------------------------------------------- instant alerts


def send_queued(cfg: Config, sessions: sessionmaker[Session], *, now: datetime,
                mailer: Mailer | None = None, limit: int = 100) -> AlertReport:
    """Send the instant alerts that are due (including any a crashed run left "sending")."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import due_instant, note_error, pending_counts

    email = email_config(cfg)
    mailer = mailer or SmtpMailer(email)
    with transaction(sessions) as session:
        rows = due_instant(session, now=now, limit=limit)
    sent = failed = uncertain = 0
    error: str | None = None
    for i, row in enumerate(rows):
        outcome, message = _deliver(cfg, sessions, mailer, row, now)
        sent += outcome == "sent"
        failed += outcome == "failed"
        uncertain += outcome == UNCERTAIN
        if outcome == "unreachable":
            error = message
            with transaction(sessions) as session:
                note_error(session, [r.id for r in rows[i + 1:]], message or "")
            break
    with transaction(sessions) as session:
        waiting, later = pending_counts(session, now=now)
    return AlertReport(queued=waiting, sent=sent, failed=failed, deferred=later, error=error,
                       uncertain=uncertain)


def _deliver(cfg: Config, sessions: sessionmaker[Session], mailer: Mailer, row: AlertDelivery,
             now: datetime) -> tuple[str, str | None]:
    """Claim, send and mark one alert: "sent", "failed", "retry", "unreachable", "uncertain" or
    "taken". A row left "sending" past its lease, or "uncertain", gets its one resend."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import claim, mark_sent

    email = email_config(cfg)
    retry_at = row.due_at if row.state == "queued" else now
    # NOTE: a row still "sending" after its lease was interrupted mid-send: it may have gone out
    resend = row.state in ("sending", UNCERTAIN)
    if row.state == "sending" and row.resends:
        return record_uncertain(sessions, row, now=now, lease=lease(email), resend=True,
                                why="a run was interrupted while sending it once more")
    with transaction(sessions) as session:
        if not claim(session, row.id, state=row.state, attempts=row.attempts,
                     lease_until=now + lease(email), resend=resend):
            return "taken", None
    try:
        with sessions() as session:
            msg = alert_message(cfg, session, row, now=now)
    except Exception as exc:  # a message that cannot be built will never be: fail it, go on
        log.exception("alert %s: building the message failed", row.dedupe_key)
        error = exc if isinstance(exc, DeliveryError) else DeliveryError(
            f"building the message failed: {type(exc).__name__}: {exc}", permanent=True)
        return _failed(sessions, row, error, retry_at, resend=resend, now=now, email=email)
    try:
        message_id = mailer.send(msg)
    except DeliveryError as exc:
        return _failed(sessions, row, exc, retry_at, resend=resend, now=now, email=email)
    with transaction(sessions) as session:
        mark_sent(session, [row.id], message_id=message_id, now=now,
                  note=RESENT_NOTE if resend else None)
    log.info("alert %s sent as %s", row.dedupe_key, message_id)
    return "sent", None


def _failed(sessions: sessionmaker[Session], row: AlertDelivery, exc: DeliveryError,
            retry_at: datetime, *, resend: bool, now: datetime,
            email: EmailConfig) -> tuple[str, str | None]:
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import release

    if exc.kind == UNCERTAIN:
        return record_uncertain(sessions, row, now=now, lease=lease(email), why=str(exc),
                                resend=resend)
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
            log.error("alert %s failed: %s", row.dedupe_key, message)
            return "failed", message
        release(session, row.id, state="queued", due_at=retry_at, error=message)
        return "retry", message


def alert_message(cfg: Config, session: Session, row: AlertDelivery, *,
                  now: datetime) -> EmailMessage:
    """The email for one outbox row, from the listing, its current score and price history."""
    from gpuscout.models.storage.outbox import listings_with_scores, price_history

    email = email_config(cfg)
    found = listings_with_scores(session, [row.listing_id] if row.listing_id else [], [row.watch])
    listing, scores = found.get(row.listing_id or 0, (None, {}))
    score = scores.get(row.watch)
    if listing is None or score is None:
        raise DeliveryError("the listing (or its score) is no longer stored", permanent=True)
    history = price_history(session, listing.id)
    old: int | None = None
    if (row.event == "price_drop" and len(history) >= 2 and listing.quantity == 1
            and listing.currency == score.currency):
        old = (history[-2].price or 0) + (history[-2].shipping or 0)
    context = alert_context(listing, score, history, event=row.event, rule=row.rule,
                            watch=row.watch)
    return render_message(email, template="alert",
                          subject=alert_subject(listing, score, row.event, old_price=old),
                          context=context, message_id=message_id_for(row.dedupe_key, email.sender),
                          now=now)


# --------------------------------------------------------------------------- digests


def send_digest(cfg: Config, sessions: sessionmaker[Session], *, rule: str, now: datetime,
                mailer: Mailer | None = None, force: bool = False) -> AlertReport:
    """Send ``rule``'s digest for today (local date) unless it was sent already; ``force`` sends
    another one now. A digest holds the top ``digest_top`` listings queued since the last one."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import assign, by_key, claim, enqueue

    email = email_config(cfg)
    r = alert_rule(cfg, rule)
    if r.mode != "digest":
        raise ConfigError(f"alert rule {rule!r} has mode = {r.mode!r}: only digest rules have digests")
    key = digest_key(r.name, local_date(now, email.timezone))
    if force:
        key = f"{key}:{now.strftime('%H%M%S')}"
    mid = message_id_for(key, email.sender)
    mailer = mailer or SmtpMailer(email)
    # NOTE: first the digests an earlier day (or run) left uncertain or interrupted: one resend each
    report = _resend_digests(cfg, sessions, r, now, mailer)
    with transaction(sessions) as session:
        head = by_key(session, key)
        if head is None:
            chosen = _choose(r, session, now=now)
            if not chosen:
                return report
            row = {"dedupe_key": key, "listing_id": None, "rule": r.name, "watch": r.watch,
                   "event": "digest", "mode": "digest", "state": "queued", "created_at": now,
                   "due_at": now, "attempts": 0, "message_id": mid}
            if not enqueue(session, [row]):
                return report  # NOTE: another run created it a moment ago
            assign(session, chosen, message_id=mid)
            head = by_key(session, key)
        assert head is not None
        if head.state != "queued" or not claim(session, head.id, state=head.state,
                                               attempts=head.attempts,
                                               lease_until=now + lease(email)):
            return report
    return report + _send_digest(cfg, sessions, r, head, mid, now, mailer, resend=False)


def _resend_digests(cfg: Config, sessions: sessionmaker[Session], rule: AlertRule, now: datetime,
                    mailer: Mailer) -> AlertReport:
    """The one resend of each digest of ``rule`` whose delivery is uncertain (or that a run left
    "sending" past its lease)."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import claim, digests_to_resend

    email = email_config(cfg)
    with transaction(sessions) as session:
        heads = digests_to_resend(session, rule.name, now=now)
    report = AlertReport()
    for head in heads:
        if head.state == "sending" and head.resends:
            record_uncertain(sessions, head, now=now, lease=lease(email), resend=True,
                             why="a run was interrupted while sending it once more")
            report += AlertReport(uncertain=1)
            continue
        with transaction(sessions) as session:
            if not claim(session, head.id, state=head.state, attempts=head.attempts,
                         lease_until=now + lease(email), resend=True):
                continue
        assert head.message_id is not None
        report += _send_digest(cfg, sessions, rule, head, head.message_id, now, mailer,
                               resend=True)
    return report


def _choose(rule: AlertRule, session: Session, *, now: datetime) -> list[int]:
    """The candidate rows of the best ``digest_top`` listings; the others are marked skipped."""
    from gpuscout.models.storage.outbox import digest_candidates, listings_with_scores, skip

    rows = digest_candidates(session, rule.name, now=now)
    data = listings_with_scores(session, (r.listing_id for r in rows if r.listing_id), [rule.watch])
    qualified: dict[int, tuple[int, int]] = {}
    for row in rows:
        listing, scores = data.get(row.listing_id or 0, (None, {}))
        score = scores.get(rule.watch)
        reason = score_reason(rule, facts_of(listing, score)) if listing else "listing removed"
        if reason is not None or listing is None or score is None:
            skip(session, [row.id], f"no longer qualifies: {reason}")
            continue
        qualified[listing.id] = (-score.total, score.unit_price or 0)
    order = sorted(qualified, key=lambda lid: (*qualified[lid], lid))
    keep = set(order[:rule.digest_top])
    chosen = [row.id for row in rows if row.listing_id in keep]
    rest = [row.id for row in rows if row.listing_id in qualified and row.listing_id not in keep]
    if rest:
        skip(session, rest, f"not among the top {rule.digest_top} of the digest")
    return chosen


def _send_digest(cfg: Config, sessions: sessionmaker[Session], rule: AlertRule,
                 head: AlertDelivery, mid: str, now: datetime, mailer: Mailer, *,
                 resend: bool) -> AlertReport:
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import assign, digest_items, mark_sent, release

    try:
        with sessions() as session:
            items = digest_items(session, mid)
            msg = digest_message(cfg, session, rule, items, now=now, message_id=mid)
        message_id = mailer.send(msg)
    except DeliveryError as exc:
        if exc.kind == UNCERTAIN or resend:
            # NOTE: the listings stay given to this digest: they may have been delivered in it
            outcome, message = (
                record_uncertain(sessions, head, now=now, lease=lease(email_config(cfg)),
                                 why=str(exc), resend=resend) if exc.kind == UNCERTAIN
                else resend_failed(sessions, head, exc, now=now, retry_at=now))
            done = outcome == UNCERTAIN
            return AlertReport(queued=int(not done), uncertain=int(done), error=message)
        message = f"{exc.kind}: {exc}"
        final = exc.permanent or (exc.kind not in CONNECTION_KINDS
                                  and head.attempts + 1 >= MAX_ATTEMPTS)
        with transaction(sessions) as session:
            release(session, head.id, state="failed" if final else "queued", due_at=now,
                    error=message, attempts=head.attempts if exc.kind in CONNECTION_KINDS else None)
            if final:  # NOTE: its listings go back to wait for the next digest
                assign(session, [i.id for i in items], message_id=None)
        log.warning("digest %s not sent: %s", head.dedupe_key, message)
        return AlertReport(queued=0 if final else 1, failed=int(final), error=message)
    with transaction(sessions) as session:
        mark_sent(session, [head.id, *(i.id for i in items)], message_id=message_id, now=now,
                  note=RESENT_NOTE if resend else None)
    log.info("digest %s sent as %s (%d listings)", head.dedupe_key, message_id, len(items))
    return AlertReport(sent=1)


def digest_message(cfg: Config, session: Session, rule: AlertRule, items: Sequence[AlertDelivery],
                   *, now: datetime, message_id: str) -> EmailMessage:
    """One email ranking the digest's listings by score (each listing once)."""
    from gpuscout.models.storage.outbox import listings_with_scores

    email = email_config(cfg)
    data = listings_with_scores(session, (i.listing_id for i in items if i.listing_id), [rule.watch])
    entries: dict[int, tuple[Listing, Score, str]] = {}
    for item in items:
        listing, scores = data.get(item.listing_id or 0, (None, {}))
        score = scores.get(rule.watch)
        if listing is not None and score is not None and listing.id not in entries:
            entries[listing.id] = (listing, score, item.event)
    if not entries:
        raise DeliveryError("the digest's listings are no longer stored", permanent=True)
    ordered = sorted(entries.values(), key=lambda e: (-e[1].total, e[1].unit_price or 0, e[0].id))
    rows = [digest_item(n, listing, score, event)
            for n, (listing, score, event) in enumerate(ordered, 1)]
    day = local_date(now, email.timezone).isoformat()
    return render_message(email, template="digest", subject=digest_subject(rule.name, rows),
                          context={"rule": rule.name, "watch": rule.watch, "day": day, "items": rows},
                          message_id=message_id, now=now)


# --------------------------------------------------------------------------- checks


def send_test(cfg: Config, *, now: datetime, mailer: Mailer | None = None) -> str:
    """Send one test message; DeliveryError says plainly what failed."""
    email = email_config(cfg)
    msg = check_message(email, now=now, message_id=message_id_for(f"test:{now.isoformat()}",
                                                                   email.sender))
    return (mailer or SmtpMailer(email)).send(msg)
