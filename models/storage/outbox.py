"""The alert outbox: insert-if-absent, claim with a lease, mark sent or failed, list, count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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


def due_instant(session: Session, *, now: datetime, limit: int = 100) -> list[AlertDelivery]:
    """Instant alerts to send now: queued and due, or left "sending" past their lease."""
    return list(session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.mode == "instant", AlertDelivery.state.in_(("queued", "sending")),
               AlertDelivery.due_at <= now)
        .order_by(AlertDelivery.due_at, AlertDelivery.id).limit(limit)))


def claim(session: Session, row_id: int, *, state: str, attempts: int,
          lease_until: datetime) -> bool:
    """Mark a row "sending" if nobody changed it since it was read (compare-and-set); the lease
    (held in ``due_at``) says when another run may take it over. Counts one attempt."""
    result = session.execute(
        update(_A).where(_A.id == row_id, _A.state == state, _A.attempts == attempts)
        .values(state="sending", due_at=lease_until, attempts=attempts + 1))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


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
        AlertDelivery.mode == "instant", AlertDelivery.state.in_(("queued", "sending")),
        AlertDelivery.due_at <= now))
    later = session.scalar(select(func.count(AlertDelivery.id)).where(
        AlertDelivery.state == "queued", AlertDelivery.event != "digest",
        AlertDelivery.message_id.is_(None),
        or_(AlertDelivery.due_at > now, AlertDelivery.mode == "digest")))
    return int(waiting or 0), int(later or 0)


def listings_with_scores(session: Session, listing_ids: Iterable[int],
                         watches: Iterable[str]) -> dict[int, tuple[Listing, dict[str, Score]]]:
    """Each listing with its scores for ``watches``."""
    ids = sorted(set(listing_ids))
    wanted = sorted(set(watches))
    out: dict[int, tuple[Listing, dict[str, Score]]] = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
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
