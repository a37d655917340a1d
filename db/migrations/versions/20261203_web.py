"""web console: one-time sign-in links, browser sessions, files behind links for chats that carry none

Revision ID: web
Revises: 0001
Create Date: 2026-12-03 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = 'web'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('web_logins',
    sa.Column('id', ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('expires_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_logins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_logins')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_logins_token_hash'))
    )
    with op.batch_alter_table('web_logins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_logins_user_id'), ['user_id'], unique=False)
    op.create_table('web_sessions',
    sa.Column('id', ID, nullable=False),
    sa.Column('sid_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('expires_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('sid_hash', name=op.f('uq_web_sessions_sid_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_expires_at'), ['expires_at'], unique=False)
    op.create_table('web_files',
    sa.Column('id', ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mime_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('expires_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_files_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_files')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_files_token_hash'))
    )
    with op.batch_alter_table('web_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_files_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_files_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_files_expires_at'))
        batch_op.drop_index(batch_op.f('ix_web_files_user_id'))
    op.drop_table('web_files')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
    op.drop_table('web_sessions')
    with op.batch_alter_table('web_logins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_logins_user_id'))
    op.drop_table('web_logins')
