"""oa_tokens: the Zalo Official Account's OAuth tokens (encrypted) and the write-ahead record of a refresh

Revision ID: oa_tokens
Revises: 0001
Create Date: 2026-12-04 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = 'oa_tokens'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('oa_tokens',
    sa.Column('id', ID, nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('access_expires_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('refresh_expires_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('authorized_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('refreshed_at', db.base.UTCDateTime(), nullable=True),
    sa.Column('refused_at', db.base.UTCDateTime(), nullable=True),
    sa.Column('refused_reason', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oa_tokens')),
    sa.UniqueConstraint('app_id', name=op.f('uq_oa_tokens_app_id'))
    )
    op.create_table('oa_token_refreshes',
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('started_at', db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('app_id', name=op.f('pk_oa_token_refreshes'))
    )


def downgrade() -> None:
    op.drop_table('oa_token_refreshes')
    op.drop_table('oa_tokens')
