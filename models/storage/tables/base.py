"""Declarative base, naming convention, and the shared column types (UTC time, money, JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, mapped_column

from gpuscout.models.storage.rawtime import aware, from_stored

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    NOTE: SQLite has no time zone type; values are stored as naive UTC and re-tagged on load.
    Naive datetimes are refused on write so local time can never slip in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = aware(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return from_stored(value)


# Shared annotated column types (warehouse-style): money is integer minor units + ISO currency.
MinorUnits = Annotated[int, mapped_column(BigInteger)]
Currency = Annotated[str, mapped_column(String(3))]
UTCTime = Annotated[datetime, mapped_column(UTCDateTime())]
Str32 = Annotated[str, mapped_column(String(32))]
Str64 = Annotated[str, mapped_column(String(64))]
Str200 = Annotated[str, mapped_column(String(200))]
JSONData = Annotated[Any, mapped_column(JSON)]


class Base(DeclarativeBase):
    """Base of all ORM classes; its metadata carries the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
