"""The alert outbox: insert-if-absent, claim with a lease, mark sent or failed, list, count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gpuscout.models.storage.batches import chunks
from gpuscout.models.storage.tables.alerts import AlertDelivery
from gpuscout.models.storage.tables.listings import Listing, PriceObservation, Score

_A = AlertDelivery


def enqueue(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert each row unless its ``dedupe_key`` is already recorded (ON CONFLICT DO NOTHING on
    SQLite and PostgreSQL alike); returns the keys actually inserted."""
    ins = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted: list[str] = []
    for row in rows:
        stmt = (ins(AlertDelivery).values(**row)
                .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(AlertDelivery.id))
        if session.execute(stmt).scalar() is not None:
            inserted.append(row["dedupe_key"])
    return inserted


def by_key(session: Session, key: str) -> AlertDelivery | None:
    return session.scalar(select(AlertDelivery).where(AlertDelivery.dedupe_key == key))


#: an "uncertain" row still to be sent once more (``resends`` 0); with ``resends`` 1 it never is
_RESEND_PENDING = and_(_A.state == "uncertain", _A.resends == 0)


def due_instant(session: Session, *, now: datetime, limit: int = 100) -> list[AlertDelivery]:
    """Instant alerts to send now: queued and due, left "sending" past their lease, or
    "uncertain" and due for their one resend."""
    return list(session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.mode == "instant",
               or_(AlertDelivery.state.in_(("queued", "sending")), _RESEND_PENDING),
               AlertDelivery.due_at <= now)
        .order_by(AlertDelivery.due_at, AlertDelivery.id).limit(limit)))


def digests_to_resend(session: Session, rule: str, *, now: datetime,
                      channel: str = "email") -> list[AlertDelivery]:
    """Daily digests of ``rule`` on ``channel`` whose delivery is uncertain and due for their one
    resend, or left "sending" past their lease (whatever day they were for)."""
    return list(session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.rule == rule, AlertDelivery.event == "digest",
               AlertDelivery.mode == "digest", AlertDelivery.channel == channel,
               or_(AlertDelivery.state == "sending", _RESEND_PENDING), AlertDelivery.due_at <= now)
        .order_by(AlertDelivery.id)))


def claim(session: Session, row_id: int, *, state: str, attempts: int,
          lease_until: datetime, resend: bool = False) -> bool:
    """Mark a row "sending" if nobody changed it since it was read (compare-and-set); the lease
    (held in ``due_at``) says when another run may take it over. Counts one attempt; ``resend``
    records that this is the one send after an uncertain delivery."""
    values: dict[str, Any] = {"state": "sending", "due_at": lease_until, "attempts": attempts + 1}
    if resend:
        values["resends"] = 1
    result = session.execute(
        update(_A).where(_A.id == row_id, _A.state == state, _A.attempts == attempts)
        .values(**values))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def mark_uncertain(session: Session, row_id: int, *, due_at: datetime, error: str,
                   resends: int, attempts: int | None = None) -> None:
    """Delivery unknown: the server may have the message. With ``resends`` 0 the row is sent once
    more at ``due_at``; with 1 it is never sent again (and never marked failed). ``attempts``
    resets the count, as ``release`` does."""
    values: dict[str, Any] = {"state": "uncertain", "due_at": due_at, "resends": resends,
                              "last_error": error[:2000]}
    if attempts is not None:
        values["attempts"] = attempts
    session.execute(update(_A).where(_A.id == row_id).values(**values))


def mark_sent(session: Session, ids: Iterable[int], *, message_id: str, now: datetime,
              note: str | None = None) -> None:
    session.execute(update(_A).where(_A.id.in_(list(ids)))
                    .values(state="sent", sent_at=now, message_id=message_id, last_error=note))


def mark_previewed(session: Session, *, note: str) -> int:
    """Rows a preview "sent" (nothing left the machine) become "previewed", unsent."""
    result = session.execute(update(_A).where(_A.state == "sent")
                             .values(state="previewed", sent_at=None, last_error=note))
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, row_id: int, *, state: str, due_at: datetime, error: str,
            attempts: int | None = None) -> None:
    """After a failed send: back to "queued" (to retry at ``due_at``) or "failed"; ``attempts``
    resets the count when the failure was not the message's (the server was unreachable)."""
    values: dict[str, Any] = {"state": state, "due_at": due_at, "last_error": error[:2000]}
    if attempts is not None:
        values["attempts"] = attempts
    session.execute(update(_A).where(_A.id == row_id).values(**values))


def note_error(session: Session, ids: Iterable[int], error: str) -> None:
    session.execute(update(_A).where(_A.id.in_(list(ids))).values(last_error=error[:2000]))


def digest_candidates(session: Session, rule: str, *, now: datetime,
                      channel: str = "email") -> list[AlertDelivery]:
    """Digest items of ``rule`` for ``channel`` recorded up to ``now`` and not yet given to a
    digest."""
    return list(session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.rule == rule, AlertDelivery.mode == "digest",
               AlertDelivery.event != "digest", AlertDelivery.state == "queued",
               AlertDelivery.channel == channel,
               AlertDelivery.message_id.is_(None), AlertDelivery.created_at <= now)
        .order_by(AlertDelivery.id)))


def digest_items(session: Session, message_id: str) -> list[AlertDelivery]:
    """The items given to one digest (they carry its Message-ID until it is sent)."""
    return list(session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.message_id == message_id, AlertDelivery.event != "digest")
        .order_by(AlertDelivery.id)))


def assign(session: Session, ids: Iterable[int], *, message_id: str | None) -> None:
    """Give digest items to a digest (its Message-ID), or take them back (None)."""
    session.execute(update(_A).where(_A.id.in_(list(ids))).values(message_id=message_id))


def skip(session: Session, ids: Iterable[int], reason: str) -> None:
    session.execute(update(_A).where(_A.id.in_(list(ids)))
                    .values(state="skipped", last_error=reason[:2000]))


def fail(session: Session, ids: Iterable[int], error: str) -> None:
    """The items of a digest that failed for good fail with it."""
    session.execute(update(_A).where(_A.id.in_(list(ids)))
                    .values(state="failed", last_error=error[:2000]))


def deliveries(session: Session, *, state: str | None = None, rule: str | None = None,
               limit: int = 50) -> list[tuple[AlertDelivery, str | None]]:
    """The newest outbox rows with their listing's title, newest first."""
    conds: list[Any] = []
    if state:
        conds.append(AlertDelivery.state == state)
    if rule:
        conds.append(AlertDelivery.rule == rule)
    stmt = (select(AlertDelivery, Listing.title)
            .outerjoin(Listing, Listing.id == AlertDelivery.listing_id)
            .where(and_(True, *conds))
            .order_by(AlertDelivery.created_at.desc(), AlertDelivery.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in session.execute(stmt)]


def pending_counts(session: Session, *, now: datetime) -> tuple[int, int]:
    """(instant alerts due but not delivered yet, alerts waiting for a later time)."""
    waiting = session.scalar(select(func.count(AlertDelivery.id)).where(
        AlertDelivery.mode == "instant",
        or_(AlertDelivery.state.in_(("queued", "sending")), _RESEND_PENDING),
        AlertDelivery.due_at <= now))
    later = session.scalar(select(func.count(AlertDelivery.id)).where(
        or_(and_(AlertDelivery.state == "queued", AlertDelivery.event != "digest",
                 AlertDelivery.message_id.is_(None),
                 or_(AlertDelivery.due_at > now, AlertDelivery.mode == "digest")),
            and_(_RESEND_PENDING, AlertDelivery.due_at > now))))
    return int(waiting or 0), int(later or 0)


def listings_with_scores(session: Session, listing_ids: Iterable[int],
                         watches: Iterable[str]) -> dict[int, tuple[Listing, dict[str, Score]]]:
    """Each listing with its scores for ``watches``."""
    ids = sorted(set(listing_ids))
    wanted = sorted(set(watches))
    out: dict[int, tuple[Listing, dict[str, Score]]] = {}
    for part in chunks(ids, 500):
        for listing in session.scalars(select(Listing).where(Listing.id.in_(part))):
            out[listing.id] = (listing, {})
        for score in session.scalars(select(Score).where(Score.listing_id.in_(part),
                                                         Score.watch.in_(wanted))):
            out[score.listing_id][1][score.watch] = score
    return out


def price_history(session: Session, listing_id: int, limit: int = 12) -> list[PriceObservation]:
    """The latest price observations of a listing, oldest first."""
    rows = list(session.scalars(
        select(PriceObservation).where(PriceObservation.listing_id == listing_id)
        .order_by(PriceObservation.observed_at.desc(), PriceObservation.id.desc()).limit(limit)))
    return rows[::-1]
