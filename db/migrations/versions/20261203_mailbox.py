"""mailbox: the school's counsellors, children's letters to them and the replies (hộp thư an toàn)

Revision ID: mailbox
Revises: web
Create Date: 2026-12-03 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = 'mailbox'
down_revision: str | Sequence[str] | None = 'web'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('mailbox_counsellors',
    sa.Column('id', ID, nullable=False),
    sa.Column('school_id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('named_by', ID, nullable=True),
    sa.Column('named_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['named_by'], ['users.id'], name=op.f('fk_mailbox_counsellors_named_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_mailbox_counsellors_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mailbox_counsellors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_counsellors')),
    sa.UniqueConstraint('school_id', 'user_id', name=op.f('uq_mailbox_counsellors_school_id_user_id'))
    )
    with op.batch_alter_table('mailbox_counsellors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailbox_counsellors_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailbox_counsellors_user_id'), ['user_id'], unique=False)
    op.create_table('mailbox_cases',
    sa.Column('id', ID, nullable=False),
    sa.Column('school_id', ID, nullable=False),
    sa.Column('writer_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('closed_at', db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_mailbox_cases_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['writer_id'], ['users.id'], name=op.f('fk_mailbox_cases_writer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_cases'))
    )
    with op.batch_alter_table('mailbox_cases', schema=None) as batch_op:
        batch_op.create_index('ix_mailbox_cases_school_status', ['school_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailbox_cases_writer_id'), ['writer_id'], unique=False)
    op.create_table('mailbox_messages',
    sa.Column('id', ID, nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('from_writer', sa.Boolean(), nullable=False),
    sa.Column('author_id', ID, nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_mailbox_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['mailbox_cases.id'], name=op.f('fk_mailbox_messages_case_id_mailbox_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_messages'))
    )
    with op.batch_alter_table('mailbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailbox_messages_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mailbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_messages_case_id'))
    op.drop_table('mailbox_messages')
    with op.batch_alter_table('mailbox_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_cases_writer_id'))
        batch_op.drop_index('ix_mailbox_cases_school_status')
    op.drop_table('mailbox_cases')
    with op.batch_alter_table('mailbox_counsellors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_counsellors_user_id'))
        batch_op.drop_index(batch_op.f('ix_mailbox_counsellors_school_id'))
    op.drop_table('mailbox_counsellors')
