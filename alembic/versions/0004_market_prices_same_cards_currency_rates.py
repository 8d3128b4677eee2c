"""market prices, listing keys and same cards (cross-posts, reposts), cached currency rates

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:46:46.360312
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gpuscout.models.storage.tables.base


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = gpuscout.models.storage.tables.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    # NOTE: new tables only; the listings of an existing database get their market prices and
    # keys from `gpuscout rescore`
    op.create_table('currency_rates',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('usd', sa.String(length=40), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('fetched_at', _TIME, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_currency_rates'))
    )
    op.create_table('listing_keys',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_keys_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'listing_id', name=op.f('pk_listing_keys'))
    )
    op.create_index(op.f('ix_listing_keys_listing_id'), 'listing_keys', ['listing_id'], unique=False)
    op.create_table('market_prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('grp', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.Column('variant', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('observed_at', _TIME, nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('base_price', sa.BigInteger(), nullable=True),
    sa.Column('condition', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_market_prices_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_prices')),
    sa.UniqueConstraint('grp', 'model', 'variant', 'kind', 'week', name=op.f('uq_market_prices_grp_model_variant_kind_week'))
    )
    op.create_index(op.f('ix_market_prices_listing_id'), 'market_prices', ['listing_id'], unique=False)
    op.create_index('ix_market_prices_recent', 'market_prices', ['model', 'variant', 'kind', 'observed_at'], unique=False)
    op.create_index('ix_market_prices_weekly', 'market_prices', ['model', 'variant', 'kind', 'week', 'base_price'], unique=False)
    op.create_table('same_cards',
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('same_as', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('found_at', _TIME, nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_same_cards_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['same_as'], ['listings.id'], name=op.f('fk_same_cards_same_as_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('listing_id', name=op.f('pk_same_cards'))
    )
    op.create_index(op.f('ix_same_cards_same_as'), 'same_cards', ['same_as'], unique=False)


def downgrade() -> None:
    op.drop_table('same_cards')
    op.drop_table('market_prices')
    op.drop_table('listing_keys')
    op.drop_table('currency_rates')
