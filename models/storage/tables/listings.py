"""ORM: listings, their price observations, which searches saw them, and their scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gpuscout.models.storage.tables.base import Base, Currency, MinorUnits, Str32, Str64, UTCDateTime, UTCTime

LISTING_STATUSES = ("active", "sold", "gone", "wanted")


class Listing(Base):
    """One marketplace listing, unique on (source, external_id). Money in integer minor units."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint(
            "status IN ('active', 'sold', 'gone', 'wanted')", name="status_valid"
        ),
        Index("ix_listings_model_variant", "model", "variant"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[Str32]
    external_id: Mapped[Str64]
    url: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[MinorUnits | None]
    shipping: Mapped[MinorUnits | None]
    price_local: Mapped[MinorUnits | None]
    price_max: Mapped[MinorUnits | None]
    currency: Mapped[Currency | None]
    location: Mapped[str | None] = mapped_column(String(200))
    seller: Mapped[str | None] = mapped_column(String(200))
    seller_feedback: Mapped[int | None] = mapped_column(Integer)
    seller_positive_pct: Mapped[float | None] = mapped_column(Float)
    condition: Mapped[str | None] = mapped_column(String(100))
    buying_format: Mapped[Str32] = mapped_column(default="fixed")
    bids: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[Str32] = mapped_column(default="active")
    image_url: Mapped[str | None] = mapped_column(String(1000))
    posted_at: Mapped[UTCTime | None]
    sold_at: Mapped[UTCTime | None]
    first_seen: Mapped[UTCTime]
    last_seen: Mapped[UTCTime]
    model: Mapped[str | None] = mapped_column(String(64))
    variant: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    #: when an auction ends (from the page, or its "time left" when it was seen)
    ends_at: Mapped[UTCTime | None]
    #: the page states the price per item ("$700 each")
    price_each: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the priced item lines of a multi-item post, as identified (JSON text; see judge.items)
    items: Mapped[str | None] = mapped_column(Text)

    observations: Mapped[list[PriceObservation]] = relationship(
        back_populates="listing", cascade="all, delete-orphan", order_by="PriceObservation.id"
    )
    scores: Mapped[list[Score]] = relationship(
        back_populates="listing", cascade="all, delete-orphan"
    )


class PriceObservation(Base):
    """A price as first seen and each time it changed (one row per change, not per scan)."""

    __tablename__ = "price_observations"
    __table_args__ = (Index("ix_price_observations_listing_observed", "listing_id", "observed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    observed_at: Mapped[UTCTime]
    price: Mapped[MinorUnits | None]
    shipping: Mapped[MinorUnits | None]
    currency: Mapped[Currency | None]

    listing: Mapped[Listing] = relationship(back_populates="observations")


class SearchHit(Base):
    """That a search has seen a listing; counts the successful scans that have missed it since."""

    __tablename__ = "search_hits"
    __table_args__ = (UniqueConstraint("search", "listing_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    search: Mapped[Str64]
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), index=True
    )
    last_seen: Mapped[UTCTime]
    missed: Mapped[int] = mapped_column(Integer, default=0)


class ListingAlias(Base):
    """Another id a marketplace shows for a stored listing (Craigslist links a post by a token
    on some pages and by its numeric id on others): a page showing either finds the one listing."""

    __tablename__ = "listing_aliases"
    __table_args__ = (UniqueConstraint("source", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[Str32]
    alias: Mapped[Str64]
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), index=True
    )


class Score(Base):
    """A listing's score for one watch, with the rules version that produced it."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("listing_id", "watch"),
        # NOTE: these serve `deals` (models.storage.queries). Active fitting listings of a watch are walked
        # from the best score down (ties sorted per score on the index columns), so the walk stops
        # at the limit; the filters are answered from the index without reading a row. A chosen
        # source and a short "first seen since" window, which match few entries, get their own.
        Index("ix_scores_deals", "watch", "fits", "status", "total", "unit_price", "listing_id",
              "first_seen", "source"),
        Index("ix_scores_deals_source", "watch", "fits", "status", "source", "total", "unit_price",
              "listing_id", "first_seen"),
        Index("ix_scores_deals_recent", "watch", "fits", "status", "first_seen", "total", "unit_price",
              "listing_id", "source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    watch: Mapped[Str64]
    version: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    fits: Mapped[bool] = mapped_column(Boolean)
    unfit_reason: Mapped[str | None] = mapped_column(String(200))
    unit_price: Mapped[MinorUnits | None]
    currency: Mapped[Currency | None]
    price_points: Mapped[int] = mapped_column(Integer)
    condition_points: Mapped[int] = mapped_column(Integer)
    risk_points: Mapped[int] = mapped_column(Integer)
    components: Mapped[Any] = mapped_column(JSON)
    flags: Mapped[Any] = mapped_column(JSON)
    reasons: Mapped[Any] = mapped_column(JSON)
    reference: Mapped[Any] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # NOTE: copies of the listing's own columns, kept in step by models.storage.store, so that the deals
    # indexes above can filter without a lookup into listings per candidate
    status: Mapped[Str32]
    source: Mapped[Str32]
    first_seen: Mapped[UTCTime]

    listing: Mapped[Listing] = relationship(back_populates="scores")


__all__ = ["LISTING_STATUSES", "Listing", "ListingAlias", "PriceObservation", "Score", "SearchHit"]
