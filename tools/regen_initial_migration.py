"""Regenerate the initial migration from store/schema.py (only until the first release; after it, add revisions)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from ringtrace.store.db import MIGRATIONS, alembic_config

for f in (MIGRATIONS / "versions").glob("0001_*.py"):
    f.unlink()
with tempfile.TemporaryDirectory() as d:
    cfg = alembic_config(f"sqlite:///{Path(d) / 'x.sqlite'}")
    command.revision(cfg, message=sys.argv[1] if len(sys.argv) > 1 else "initial schema", autogenerate=True,
                     rev_id="0001")
