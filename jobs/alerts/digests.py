"""Digests: a digest rule's daily email (or push message) of the best listings queued since the
last one, and the one digest a search's first scan sends instead of an alert per listing.

A digest is itself an outbox row (``event`` "digest") that goes through the same claim, send and
sent steps as an alert (see ``gpuscout.jobs.alerts.dispatch``); its items carry its Message-ID
from the moment they are given to it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gpuscout.jobs.alerts.dispatch import (
    AlertReport,
    Senders,
    channel_lease,
    facts_of,
    sender_address,
)
from gpuscout.jobs.alerts.mail import (
    CONNECTION_KINDS,
    UNCERTAIN,
    digest_item,
    digest_subject,
    money,
    render_message,
)
from gpuscout.jobs.alerts.push import Pusher, PushMessage, digest_push
from gpuscout.jobs.alerts.rules import (
    alert_rule,
    alert_timezone,
    digest_key,
    email_config,
    local_date,
    message_id_for,
    score_reason,
)
from gpuscout.jobs.alerts.uncertain import MAX_ATTEMPTS, RESENT_NOTE, record_uncertain, resend_failed
from gpuscout.jobs.config import AlertRule, Config
from gpuscout.jobs.config.schema import EMAIL_CHANNEL
from gpuscout.jobs.errors import ConfigError, DeliveryError

if TYPE_CHECKING:
    from email.message import EmailMessage

    from sqlalchemy.orm import Session, sessionmaker

    from gpuscout.jobs.alerts.mail import Mailer
    from gpuscout.models.storage.tables.alerts import AlertDelivery
    from gpuscout.models.storage.tables.listings import Listing, Score

log = logging.getLogger("gpuscout.alerts")


def send_digest(cfg: Config, sessions: sessionmaker[Session], *, rule: str, now: datetime,
                mailer: Mailer | None = None, pusher: Pusher | None = None,
                force: bool = False) -> AlertReport:
    """Send ``rule``'s digest for today (local date) on each of its channels unless it was sent
    already; ``force`` sends another one now. A digest holds the top ``digest_top`` listings
    queued since the last one."""
    r = alert_rule(cfg, rule)
    if r.mode != "digest":
        raise ConfigError(f"alert rule {rule!r} has mode = {r.mode!r}: only digest rules have digests")
    senders = Senders(cfg, mailer, pusher)
    reports = [_digest_on(cfg, sessions, r, channel, now=now, senders=senders, force=force)
               for channel in cfg.channels(r)]
    errors = [x.error for x in reports if x.error]
    return replace(sum(reports, AlertReport()), error="; ".join(errors) or None)


def _digest_on(cfg: Config, sessions: sessionmaker[Session], r: AlertRule, channel: str, *,
               now: datetime, senders: Senders, force: bool) -> AlertReport:
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import assign, by_key, claim, enqueue

    key = digest_key(r.name, local_date(now, alert_timezone(cfg)), channel)
    if force:
        key = f"{key}:{now.strftime('%H%M%S')}"
    mid = message_id_for(key, sender_address(cfg))
    # NOTE: first the digests an earlier day (or run) left uncertain or interrupted: one resend each
    report = _resend_digests(cfg, sessions, r, channel, now, senders)
    with transaction(sessions) as session:
        head = by_key(session, key)
        if head is None:
            chosen = _choose(r, session, now=now, channel=channel)
            if not chosen:
                return report
            row = {"dedupe_key": key, "listing_id": None, "rule": r.name, "watch": r.watch,
                   "event": "digest", "mode": "digest", "state": "queued", "created_at": now,
                   "due_at": now, "attempts": 0, "message_id": mid, "channel": channel}
            if not enqueue(session, [row]):
                return report  # NOTE: another run created it a moment ago
            assign(session, chosen, message_id=mid)
            head = by_key(session, key)
        assert head is not None
        if head.state != "queued" or not claim(session, head.id, state=head.state,
                                               attempts=head.attempts,
                                               lease_until=now + channel_lease(cfg, channel)):
            return report
    return report + _send_digest(cfg, sessions, r, head, mid, now, senders, resend=False)


def _resend_digests(cfg: Config, sessions: sessionmaker[Session], rule: AlertRule, channel: str,
                    now: datetime, senders: Senders) -> AlertReport:
    """The one resend of each digest of ``rule`` on ``channel`` whose delivery is uncertain (or
    that a run left "sending" past its lease)."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import claim, digests_to_resend

    lease = channel_lease(cfg, channel)
    with transaction(sessions) as session:
        heads = digests_to_resend(session, rule.name, now=now, channel=channel)
    report = AlertReport()
    for head in heads:
        if head.state == "sending" and head.resends:
            record_uncertain(sessions, head, now=now, lease=lease, resend=True,
                             why="a run was interrupted while sending it once more")
            report += AlertReport(uncertain=1)
            continue
        with transaction(sessions) as session:
            if not claim(session, head.id, state=head.state, attempts=head.attempts,
                         lease_until=now + lease, resend=True):
                continue
        assert head.message_id is not None
        report += _send_digest(cfg, sessions, rule, head, head.message_id, now, senders,
                               resend=True)
    return report


def _choose(rule: AlertRule, session: Session, *, now: datetime, channel: str) -> list[int]:
    """The candidate rows of the best ``digest_top`` listings; the others are marked skipped."""
    from gpuscout.models.storage.outbox import digest_candidates, listings_with_scores, skip

    rows = digest_candidates(session, rule.name, now=now, channel=channel)
    data = listings_with_scores(session, (r.listing_id for r in rows if r.listing_id), [rule.watch])
    qualified: dict[int, tuple[int, int]] = {}
    for row in rows:
        listing, scores = data.get(row.listing_id or 0, (None, {}))
        score = scores.get(rule.watch)
        reason = score_reason(rule, facts_of(listing, score), now=now) if listing \
            else "listing removed"
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
                 head: AlertDelivery, mid: str, now: datetime, senders: Senders, *,
                 resend: bool) -> AlertReport:
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import assign, digest_items, mark_sent, release

    try:
        with sessions() as session:
            items = digest_items(session, mid)
            entries = _entries(session, rule.watch, items)
            if head.channel == EMAIL_CHANNEL:
                message_id = senders.mailer.send(digest_message(
                    cfg, session, rule, items, now=now, message_id=mid))
            else:
                day = local_date(now, alert_timezone(cfg)).isoformat()
                push = digest_push(f"gpuscout digest {rule.name}, {day}: "
                                   f"{_count(len(entries))}", entries, key=head.dedupe_key)
                message_id = senders.pusher.send(push, cfg.target(head.channel))
    except DeliveryError as exc:
        if exc.kind == UNCERTAIN or resend:
            # NOTE: the listings stay given to this digest: they may have been delivered in it
            outcome, message = (
                record_uncertain(sessions, head, now=now, lease=channel_lease(cfg, head.channel),
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


def _count(n: int) -> str:
    return f"{n} deal{'' if n == 1 else 's'}"


def _entries(session: Session, watch: str, items: Sequence[AlertDelivery]) -> list[dict[str, Any]]:
    """The listings of a digest, each once, best first, as the templates show them."""
    from gpuscout.jobs.alerts.price_note import market_note
    from gpuscout.models.storage.outbox import listings_with_scores

    data = listings_with_scores(session, (i.listing_id for i in items if i.listing_id), [watch])
    found: dict[int, tuple[Listing, Score, str]] = {}
    for item in items:
        listing, scores = data.get(item.listing_id or 0, (None, {}))
        score = scores.get(watch)
        if listing is not None and score is not None and listing.id not in found:
            found[listing.id] = (listing, score, item.event)
    if not found:
        raise DeliveryError("the digest's listings are no longer stored", permanent=True)
    ordered = sorted(found.values(), key=lambda e: (-e[1].total, e[1].unit_price or 0, e[0].id))
    return [{**digest_item(n, listing, score, event), "market": market_note(score, money)}
            for n, (listing, score, event) in enumerate(ordered, 1)]


def digest_message(cfg: Config, session: Session, rule: AlertRule, items: Sequence[AlertDelivery],
                   *, now: datetime, message_id: str, first_scan: bool = False) -> EmailMessage:
    """One email ranking the digest's listings by score (each listing once)."""
    email = email_config(cfg)
    rows = _entries(session, rule.watch, items)
    day = local_date(now, alert_timezone(cfg)).isoformat()
    subject = digest_subject(rule.name, rows)
    if first_scan:
        subject = subject.replace("[gpuscout] Digest", "[gpuscout] First scan", 1)
    return render_message(email, template="digest", subject=subject,
                          context={"rule": rule.name, "watch": rule.watch, "day": day,
                                   "items": rows, "first_scan": first_scan},
                          message_id=message_id, now=now)


def first_scan_message(cfg: Config, session: Session, row: AlertDelivery, *,
                       now: datetime) -> EmailMessage | PushMessage:
    """The one message a search's first scan sends: every listing it found that qualifies."""
    from gpuscout.models.storage.outbox import digest_items

    r = alert_rule(cfg, row.rule)
    items = digest_items(session, row.message_id or "")
    if row.channel == EMAIL_CHANNEL:
        return digest_message(cfg, session, r, items, now=now, message_id=row.message_id or "",
                              first_scan=True)
    entries = _entries(session, r.watch, items)
    return digest_push(f"gpuscout first scan for {r.watch}: {_count(len(entries))} already "
                       "listed", entries, key=row.dedupe_key)
