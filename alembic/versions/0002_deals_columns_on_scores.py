"""deals columns on scores: the listing's status, source and first sighting, copied

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 23:25:33.778397
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gpuscout.models.storage.tables.base


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPIED = ('status', 'source', 'first_seen')


def upgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('first_seen', gpuscout.models.storage.tables.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f('ix_scores_watch_fits_total'))
    # the copies start equal to the listing's own columns
    sets = ', '.join(f'{c} = (SELECT l.{c} FROM listings l WHERE l.id = scores.listing_id)' for c in _COPIED)
    op.execute(f'UPDATE scores SET {sets}')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('source', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('first_seen', existing_type=gpuscout.models.storage.tables.base.UTCDateTime(timezone=True),
                              nullable=False)
        batch_op.create_index('ix_scores_deals', ['watch', 'fits', 'status', 'total', 'unit_price', 'listing_id', 'first_seen', 'source'], unique=False)
        batch_op.create_index('ix_scores_deals_recent', ['watch', 'fits', 'status', 'first_seen', 'total', 'unit_price', 'listing_id', 'source'], unique=False)
        batch_op.create_index('ix_scores_deals_source', ['watch', 'fits', 'status', 'source', 'total', 'unit_price', 'listing_id', 'first_seen'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_index('ix_scores_deals_source')
        batch_op.drop_index('ix_scores_deals_recent')
        batch_op.drop_index('ix_scores_deals')
        batch_op.create_index(batch_op.f('ix_scores_watch_fits_total'), ['watch', 'fits', 'total', 'unit_price', 'listing_id'], unique=False)
        batch_op.drop_column('first_seen')
        batch_op.drop_column('source')
        batch_op.drop_column('status')
