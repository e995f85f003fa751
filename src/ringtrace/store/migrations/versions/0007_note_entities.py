"""what notes say: entities read from text lines, their links to persons, and the possible-victims record

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('note_entities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('text_line_id', sa.Integer(), nullable=True),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('span_start', sa.Integer(), nullable=False),
    sa.Column('span_end', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('date_precision', sa.String(length=10), nullable=True),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('box_left', sa.Integer(), nullable=True),
    sa.Column('box_top', sa.Integer(), nullable=True),
    sa.Column('box_width', sa.Integer(), nullable=True),
    sa.Column('box_height', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_entities'))
    )
    op.create_index(op.f('ix_note_entities_sha256'), 'note_entities', ['sha256'], unique=False)
    op.create_table('note_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('person_label', sa.Text(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('matched', sa.Text(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_note_links_account_id_accounts')),
    sa.ForeignKeyConstraint(['entity_id'], ['note_entities.id'], name=op.f('fk_note_links_entity_id_note_entities'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_links'))
    )
    op.create_index(op.f('ix_note_links_entity_id'), 'note_links', ['entity_id'], unique=False)
    op.create_table('possible_victims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('place', sa.Text(), nullable=True),
    sa.Column('place_country', sa.String(length=2), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('country_basis', sa.Text(), nullable=False),
    sa.Column('dates', sa.JSON(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('entity_ids', sa.JSON(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_possible_victims'))
    )


def downgrade() -> None:
    op.drop_table('possible_victims')
    op.drop_index(op.f('ix_note_links_entity_id'), table_name='note_links')
    op.drop_table('note_links')
    op.drop_index(op.f('ix_note_entities_sha256'), table_name='note_entities')
    op.drop_table('note_entities')
