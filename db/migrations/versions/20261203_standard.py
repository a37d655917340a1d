"""the "An toàn về an ninh, trật tự" standard: a school's registration, self-assessment and evaluation per year

Revision ID: standard
Revises: web
Create Date: 2026-12-03 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text  # noqa: F401

import db.base

revision: str = 'standard'
down_revision: str | Sequence[str] | None = 'web'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('standard_registrations',
    sa.Column('id', ID, nullable=False),
    sa.Column('school_id', ID, nullable=False),
    sa.Column('school_year', sa.String(length=9), nullable=False),
    sa.Column('registered_by', ID, nullable=True),
    sa.Column('registered_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('self_assessed_at', db.base.UTCDateTime(), nullable=True),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('evaluated_on', sa.Date(), nullable=True),
    sa.Column('evaluation_note', sa.Text(), nullable=True),
    sa.Column('evaluated_by', ID, nullable=True),
    sa.Column('evaluated_at', db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_standard_registrations_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registered_by'], ['users.id'], name=op.f('fk_standard_registrations_registered_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evaluated_by'], ['users.id'], name=op.f('fk_standard_registrations_evaluated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_registrations')),
    sa.UniqueConstraint('school_id', 'school_year', name=op.f('uq_standard_registrations_school_id_school_year'))
    )
    with op.batch_alter_table('standard_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_registrations_school_id'), ['school_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('standard_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_registrations_school_id'))
    op.drop_table('standard_registrations')
