"""Alerts whose delivery is uncertain: each is sent at most twice, and never marked failed while
it may have gone out.

gpuscout cannot know the outcome of a send in one moment: after the mail server received the
whole message (the final ".") and before it answered. A connection dropped or a timeout there,
or a run that died while a row was "sending", leaves the message perhaps delivered. Such an
alert becomes "uncertain" and is sent once more after a lease (``resends`` 0 → 1), with the same
Message-ID, so a mail client can recognise a duplicate. If that second send is uncertain too, or
refused for good, the row stays "uncertain" and is never sent again: a third copy is never sent,
and an alert that may have arrived is never called "failed". A second send that certainly did not
reach the server (it could not be reached, or answered "try later") does not count: the row
waits for its one resend again.

Per message this is at-least-once with a bound of two: a missed deal costs the deal, a duplicate
costs one email that carries the same Message-ID; an unbounded retry (five copies of one alert
from a server that keeps dropping the connection after DATA) costs the user's trust.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gpuscout.jobs.alerts.mail import CONNECTION_KINDS, UNCERTAIN
from gpuscout.jobs.errors import DeliveryError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from gpuscout.models.storage.tables.alerts import AlertDelivery

log = logging.getLogger("gpuscout.alerts")

#: attempts after which an alert the server keeps answering "try later" stops being sent
MAX_ATTEMPTS = 5


def record_uncertain(sessions: sessionmaker[Session], row: AlertDelivery, *, now: datetime,
                     lease: timedelta, why: str, resend: bool) -> tuple[str, str]:
    """Record that ``row`` may have been delivered; ``resend``: this was already its one resend.
    Returns ("uncertain", the message recorded)."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import mark_uncertain

    if resend:
        message = (f"{UNCERTAIN}: {why}; it was already sent once more, so it is not sent again "
                   "(it may have arrived twice)")
        due, resends = now, 1
    else:
        due, resends = now + lease, 0
        message = f"{UNCERTAIN}: {why}; sent once more after {due:%Y-%m-%d %H:%M} UTC"
    with transaction(sessions) as session:
        mark_uncertain(session, row.id, due_at=due, error=message, resends=resends)
    log.warning("alert %s: %s", row.dedupe_key, message)
    return UNCERTAIN, message


def resend_failed(sessions: sessionmaker[Session], row: AlertDelivery, exc: DeliveryError, *,
                  now: datetime, retry_at: datetime) -> tuple[str, str]:
    """The one resend of an uncertain alert failed for certain (nothing was delivered by it; the
    first send may have been): wait for the resend again, or, refused for good, stop — as
    "uncertain", not "failed". Returns "unreachable", "retry" or "uncertain" and the message."""
    from gpuscout.models.storage.db import transaction
    from gpuscout.models.storage.outbox import mark_uncertain

    reason = f"{exc.kind}: {exc}"
    if exc.kind in CONNECTION_KINDS and not exc.permanent:
        outcome, due, resends = "unreachable", retry_at, 0
        message = f"{UNCERTAIN}: an earlier send may have arrived; sending it once more failed ({reason})"
    elif exc.permanent or row.attempts + 1 >= MAX_ATTEMPTS:
        outcome, due, resends = UNCERTAIN, now, 1
        message = (f"{UNCERTAIN}: an earlier send may have arrived; sending it once more was "
                   f"refused ({reason}), so it is not sent again")
    else:
        outcome, due, resends = "retry", retry_at, 0
        message = f"{UNCERTAIN}: an earlier send may have arrived; sending it once more failed ({reason})"
    with transaction(sessions) as session:
        mark_uncertain(session, row.id, due_at=due, error=message, resends=resends,
                       attempts=row.attempts if outcome == "unreachable" else None)
    log.warning("alert %s: %s", row.dedupe_key, message)
    return outcome, message


#: what ``mark_sent`` notes on an alert delivered by its resend
RESENT_NOTE = "sent once more after an uncertain delivery: it may have arrived twice"
