"""oa_followers: when each Zalo OA user last interacted, for the OA's 7-day window

Revision ID: oa_followers
Revises: 0001
Create Date: 2026-12-04 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = 'oa_followers'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('oa_followers',
    sa.Column('oa_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('last_interaction_at', db.base.UTCDateTime(), nullable=True),
    sa.Column('following', sa.Boolean(), nullable=True),
    sa.Column('not_reachable', sa.String(length=32), nullable=True),
    sa.Column('updated_at', db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('oa_id', 'user_id', name=op.f('pk_oa_followers'))
    )


def downgrade() -> None:
    op.drop_table('oa_followers')
