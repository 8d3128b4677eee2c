"""auction end, per-item price mark and the item lines of multi-item posts on listings

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gpuscout.models.storage.tables.base


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NOTE: plain ADD COLUMN on every backend: a batch rebuild of listings on SQLite would drop
    # the table, and with it (ON DELETE CASCADE) every score, observation and sighting
    op.add_column('listings', sa.Column('ends_at', gpuscout.models.storage.tables.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('listings', sa.Column('price_each', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('listings', sa.Column('items', sa.Text(), nullable=True))


def downgrade() -> None:
    # NOTE: plain DROP COLUMN (SQLite 3.35 and later), for the reason given above
    op.drop_column('listings', 'items')
    op.drop_column('listings', 'price_each')
    op.drop_column('listings', 'ends_at')
