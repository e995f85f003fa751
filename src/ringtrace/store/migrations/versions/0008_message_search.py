"""PostgreSQL full-text search over message text: a GIN index on to_tsvector('simple', text) (SQLite: no change)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# the expression must be the one schema.messages_tsvector writes, or queries will not use the index
EXPR = "to_tsvector('simple'::regconfig, coalesce(text, ''))"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_messages_text_tsv ON messages USING gin ({EXPR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_text_tsv")
