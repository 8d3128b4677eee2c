"""Other ids of a listing (listing_aliases); why a scrape run failed (reason); the
channel of an alert (email or a push target)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'listing_aliases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('alias', sa.String(length=64), nullable=False),
        sa.Column('listing_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['listing_id'], ['listings.id'],
                                name=op.f('fk_listing_aliases_listing_id_listings'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_aliases')),
        sa.UniqueConstraint('source', 'alias', name=op.f('uq_listing_aliases_source_alias')),
    )
    with op.batch_alter_table('listing_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_aliases_listing_id'), ['listing_id'],
                              unique=False)
    with op.batch_alter_table('scrape_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=32), nullable=True))
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=64), server_default='email',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_column('channel')
    with op.batch_alter_table('scrape_runs', schema=None) as batch_op:
        batch_op.drop_column('reason')
    with op.batch_alter_table('listing_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_aliases_listing_id'))
    op.drop_table('listing_aliases')
