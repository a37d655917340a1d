"""web console: reports made in the background (one row per job, its progress and its files)

Revision ID: report_jobs
Revises: web
Create Date: 2026-12-03 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = 'report_jobs'
down_revision: str | Sequence[str] | None = 'web'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('web_report_jobs',
    sa.Column('id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('error', sa.String(length=32), nullable=True),
    sa.Column('active_key', sa.String(length=120), nullable=True),
    sa.Column('docx_file_id', ID, nullable=True),
    sa.Column('xlsx_file_id', ID, nullable=True),
    sa.Column('created_at', db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_report_jobs_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['docx_file_id'], ['web_files.id'], name=op.f('fk_web_report_jobs_docx_file_id_web_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['xlsx_file_id'], ['web_files.id'], name=op.f('fk_web_report_jobs_xlsx_file_id_web_files'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_report_jobs')),
    sa.UniqueConstraint('active_key', name=op.f('uq_web_report_jobs_active_key'))
    )
    with op.batch_alter_table('web_report_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_report_jobs_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_report_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_report_jobs_user_id'))
    op.drop_table('web_report_jobs')
