"""ORM: the alert outbox and ledger: one row per (listing, rule, event, price), sent at most once."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gpuscout.models.storage.tables.base import Base, Currency, MinorUnits, Str32, Str64, UTCTime


class AlertDelivery(Base):
    """An alert: queued when decided, marked sending just before SMTP, sent after it accepted.

    ``due_at`` is when a queued row may be sent (after quiet hours, at the digest time); while a
    row is "sending" it holds the claim's lease. A row whose delivery is unknown (the server
    took the whole message and the connection dropped before it confirmed, or a run died while
    sending) is "uncertain": sent once more at ``due_at`` when ``resends`` is 0, never again once
    it is 1 (see ``gpuscout.jobs.alerts.dispatch``).
    A digest is a row too (``event`` "digest", no listing); its items carry its ``message_id``
    from the moment they are given to it. ``channel`` is where it goes: "email", or the name of
    a [[notify]] push target; each channel has its own rows, keys and guarantees.
    """

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_alert_deliveries_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"))
    rule: Mapped[Str64]
    watch: Mapped[Str64]
    event: Mapped[Str32]
    mode: Mapped[Str32] = mapped_column(default="instant")
    price: Mapped[MinorUnits | None]
    currency: Mapped[Currency | None]
    score: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[Str32] = mapped_column(default="queued")
    created_at: Mapped[UTCTime]
    due_at: Mapped[UTCTime]
    sent_at: Mapped[UTCTime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: 1 once the alert was sent again after an uncertain delivery (it is never sent a third time)
    resends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[Str64] = mapped_column(default="email", server_default="email")
