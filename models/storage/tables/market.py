"""ORM: the market's observed prices, the keys and links that make cross-posts one card, and the
cached currency rates."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gpuscout.models.storage.tables.base import Base, Currency, MinorUnits, Str64, UTCTime


class MarketPrice(Base):
    """One observed price of one card in one week: a sale, a listing gone within days, or an
    ask (the card's latest asking price that week). ``grp`` is the card: the first listing of a
    cross-posted or reposted card, which its copies share, so that each card counts once.
    ``base_price`` is the price in US cents at the rate of the day it was observed (None when no
    rate was known). ``week`` counts weeks from Monday 1970-01-05 (see ``market_weeks``).

    NOTE: the two indexes serve ``gpuscout market`` (counts and quantiles of a week walk the
    first in price order) and the reference (the newest observations of a kind walk the second).
    """

    __tablename__ = "market_prices"
    __table_args__ = (
        UniqueConstraint("grp", "model", "variant", "kind", "week"),
        Index("ix_market_prices_weekly", "model", "variant", "kind", "week", "base_price"),
        Index("ix_market_prices_recent", "model", "variant", "kind", "observed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"),
                                            index=True)
    grp: Mapped[int] = mapped_column(Integer)
    model: Mapped[Str64]
    variant: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    week: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[UTCTime]
    price: Mapped[MinorUnits]
    currency: Mapped[Currency]
    base_price: Mapped[MinorUnits | None]
    condition: Mapped[str] = mapped_column(String(16))


class ListingKey(Base):
    """A key under which a listing meets its copies on other marketplaces or its reposts: a
    photo, its seller with the model, its offer's words with the model (see
    ``gpuscout.models.judge.duplicates``)."""

    __tablename__ = "listing_keys"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)


class SameCard(Base):
    """That a listing offers the card an earlier one (``same_as``, the first of its copies)
    offered: a cross-post or a repost, and why it was taken for one."""

    __tablename__ = "same_cards"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"),
                                            primary_key=True)
    same_as: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"),
                                         index=True)
    reason: Mapped[str] = mapped_column(String(200))
    found_at: Mapped[UTCTime]


class CurrencyRate(Base):
    """The latest known value of one currency in US dollars (``usd``, decimal text), from the
    configured source of daily rates: the cache the scorer converts with."""

    __tablename__ = "currency_rates"

    code: Mapped[Currency] = mapped_column(primary_key=True)
    usd: Mapped[str] = mapped_column(String(40))
    day: Mapped[str] = mapped_column(String(10))
    fetched_at: Mapped[UTCTime]
    source: Mapped[str] = mapped_column(String(200))


__all__ = ["CurrencyRate", "ListingKey", "MarketPrice", "SameCard"]
