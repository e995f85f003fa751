"""text read out of documents and pictures of paper: text layers, OCR lines with boxes, examiners' transcriptions

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('text_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('box_left', sa.Integer(), nullable=True),
    sa.Column('box_top', sa.Integer(), nullable=True),
    sa.Column('box_width', sa.Integer(), nullable=True),
    sa.Column('box_height', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('rotation', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=40), nullable=True),
    sa.Column('by', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_text_lines'))
    )
    op.create_index('ix_text_lines_sha256_page_line', 'text_lines', ['sha256', 'page', 'line_no'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_text_lines_sha256_page_line', table_name='text_lines')
    op.drop_table('text_lines')
