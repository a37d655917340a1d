"""roster matching: the students a teacher said are not on the class's roster sheet

Revision ID: roster_consent
Revises: web
Create Date: 2026-12-03 18:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = 'roster_consent'
down_revision: str | Sequence[str] | None = 'web'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('roster_unlisted',
    sa.Column('id', ID, nullable=False),
    sa.Column('class_id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('decided_by', ID, nullable=True),
    sa.Column('decided_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_roster_unlisted_class_id_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_roster_unlisted_decided_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roster_unlisted_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_unlisted')),
    sa.UniqueConstraint('class_id', 'user_id', name=op.f('uq_roster_unlisted_class_id_user_id'))
    )
    with op.batch_alter_table('roster_unlisted', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_unlisted_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_unlisted_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('roster_unlisted', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_unlisted_user_id'))
        batch_op.drop_index(batch_op.f('ix_roster_unlisted_class_id'))
    op.drop_table('roster_unlisted')
