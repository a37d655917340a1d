"""figure snapshots: the overview's figures kept between visits; an index for a teacher's classes

Revision ID: figure_snapshots
Revises: web
Create Date: 2026-12-03 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import db.base

revision: str = 'figure_snapshots'
down_revision: str | Sequence[str] | None = 'web'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('figure_snapshots',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('upto_id', sa.BigInteger(), nullable=False),
    sa.Column('computed_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('viewed_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('refreshing_since', db.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_figure_snapshots'))
    )
    with op.batch_alter_table('figure_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_figure_snapshots_viewed_at'), ['viewed_at'], unique=False)
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_class_at', ['class_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_class_at')
    with op.batch_alter_table('figure_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_figure_snapshots_viewed_at'))
    op.drop_table('figure_snapshots')
