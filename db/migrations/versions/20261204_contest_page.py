"""contest page: one-time entry links, the key page sessions are signed with, answers' idempotency keys

Revision ID: contest_page
Revises: web, contests
Create Date: 2026-12-04 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = 'contest_page'
down_revision: str | Sequence[str] | None = ('web', 'contests')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('page_links',
    sa.Column('id', ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('round_id', ID, nullable=False),
    sa.Column('expires_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_page_links_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['contest_rounds.id'], name=op.f('fk_page_links_round_id_contest_rounds'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_page_links_token_hash'))
    )
    with op.batch_alter_table('page_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_links_user_id'), ['user_id'], unique=False)
    op.create_table('page_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_keys'))
    )
    op.create_table('page_answer_keys',
    sa.Column('id', ID, nullable=False),
    sa.Column('attempt_id', ID, nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempts.id'],
                            name=op.f('fk_page_answer_keys_attempt_id_quiz_attempts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_answer_keys')),
    sa.UniqueConstraint('attempt_id', 'key', name=op.f('uq_page_answer_keys_attempt_id_key'))
    )


def downgrade() -> None:
    op.drop_table('page_answer_keys')
    op.drop_table('page_keys')
    with op.batch_alter_table('page_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_links_user_id'))
    op.drop_table('page_links')
