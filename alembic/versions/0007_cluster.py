"""Cluster: the fire ledger of the distributed schedule, and node heartbeats

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gpuscout.models.storage.tables.base import UTCDateTime

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'scan_fires',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('search', sa.String(length=64), nullable=False),
        sa.Column('scheduled_for', UTCDateTime(timezone=True), nullable=False),
        sa.Column('enqueued_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('scheduler', sa.String(length=200), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=True),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('worker', sa.String(length=200), nullable=True),
        sa.Column('started_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=True),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_fires')),
        sa.UniqueConstraint('search', 'scheduled_for', name=op.f('uq_scan_fires_search_scheduled_for')),
    )
    op.create_index('ix_scan_fires_state_enqueued', 'scan_fires', ['state', 'enqueued_at'],
                    unique=False)
    op.create_table(
        'cluster_nodes',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('host', sa.String(length=200), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('seen_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('doing', sa.String(length=200), nullable=True),
        sa.Column('stopped_at', UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cluster_nodes')),
    )


def downgrade() -> None:
    op.drop_table('cluster_nodes')
    op.drop_index('ix_scan_fires_state_enqueued', table_name='scan_fires')
    op.drop_table('scan_fires')
