"""Regenerate the initial migration (0001) from store/schema.py. Allowed only until the first release; after it,
schema changes get revisions of their own. Later revisions (0002 ...) are set aside while 0001 is generated."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from alembic import command

from ringtrace.store.db import MIGRATIONS, alembic_config

versions = MIGRATIONS / "versions"
with tempfile.TemporaryDirectory() as d:
    aside = Path(d) / "aside"
    aside.mkdir()
    for f in versions.glob("*.py"):
        if f.name.startswith("0001_"):
            f.unlink()
        else:
            shutil.move(str(f), aside / f.name)
    try:
        cfg = alembic_config(f"sqlite:///{Path(d) / 'x.sqlite'}")
        command.revision(cfg, message=sys.argv[1] if len(sys.argv) > 1 else "initial schema", autogenerate=True,
                         rev_id="0001")
    finally:
        for f in aside.iterdir():
            shutil.move(str(f), versions / f.name)
new = next(versions.glob("0001_*.py"))
new.write_text(new.read_text().replace("Revises: \n", "Revises:\n"))
