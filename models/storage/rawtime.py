"""UTC datetimes as the DB-API drivers take them, for the statements that bypass SQLAlchemy
(they must match what ``gpuscout.models.storage.tables.base.UTCDateTime`` stores)."""

from __future__ import annotations

from datetime import UTC, datetime


def aware(value: datetime) -> datetime:
    """``value`` in UTC; naive datetimes are refused, as ``UTCDateTime`` refuses them."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given; gpuscout stores UTC-aware datetimes only")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def sqlite_time(value: datetime | None) -> str | None:
    """How ``UTCDateTime`` stores a datetime on SQLite: naive UTC text with microseconds."""
    if value is None:
        return None
    # NOTE: "YYYY-MM-DD HH:MM:SS.ffffff+00:00" cut before the offset is exactly the stored text
    return aware(value).isoformat(" ", "microseconds")[:26]


def pg_time(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


def from_stored(value: datetime | str | None) -> datetime | None:
    """A stored datetime read back as aware UTC: SQLite's naive UTC (text, as the bare driver
    returns it, or a datetime) is tagged UTC; an aware value is converted to UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
