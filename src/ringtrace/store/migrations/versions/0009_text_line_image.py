"""text_lines.image: the picture embedded in a PDF page a line was OCR'd off (a photo of paper on a page with a text
layer), named with its size

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("text_lines") as batch:
        batch.add_column(sa.Column("image", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("text_lines") as batch:
        batch.drop_column("image")
