"""computers' disk images: how each image was read and verified, and every file found in it with its place

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disk_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('image_type', sa.String(length=20), nullable=False),
    sa.Column('segments', sa.JSON(), nullable=False),
    sa.Column('media_size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sha1', sa.String(length=40), nullable=False),
    sa.Column('md5', sa.String(length=32), nullable=False),
    sa.Column('stored_md5', sa.String(length=32), nullable=True),
    sa.Column('stored_sha1', sa.String(length=40), nullable=True),
    sa.Column('verification', sa.String(length=20), nullable=False),
    sa.Column('volumes', sa.JSON(), nullable=False),
    sa.Column('copied', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_disk_images_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disk_images')),
    sa.UniqueConstraint('source_id', name=op.f('uq_disk_images_source_id'))
    )
    op.create_table('disk_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('relpath', sa.Text(), nullable=False),
    sa.Column('partition', sa.String(length=40), nullable=False),
    sa.Column('fs_type', sa.String(length=20), nullable=False),
    sa.Column('fs_path', sa.Text(), nullable=False),
    sa.Column('inode', sa.BigInteger(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sha1', sa.String(length=40), nullable=False),
    sa.Column('md5', sa.String(length=32), nullable=False),
    sa.Column('mtime', sa.DateTime(timezone=True), nullable=True),
    sa.Column('atime', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ctime', sa.DateTime(timezone=True), nullable=True),
    sa.Column('crtime', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('stored', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('media_offset', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_disk_files_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disk_files')),
    sa.UniqueConstraint('source_id', 'relpath', name=op.f('uq_disk_files_source_id_relpath'))
    )
    op.create_index(op.f('ix_disk_files_source_id'), 'disk_files', ['source_id'], unique=False)
    op.create_index(op.f('ix_disk_files_sha256'), 'disk_files', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_disk_files_sha256'), table_name='disk_files')
    op.drop_index(op.f('ix_disk_files_source_id'), table_name='disk_files')
    op.drop_table('disk_files')
    op.drop_table('disk_images')
