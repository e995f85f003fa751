"""What the end-to-end benchmarks share: CPU seconds with reaped workers, the exhibits of a synthesised operation,
and the comparison of two cases table by table (bench_ingest.py, bench_pipeline.py)."""

from __future__ import annotations

import json
import resource
import sqlite3
from pathlib import Path
from typing import Any

# columns that say when this run happened, not what the evidence holds (any table; then per table)
VOLATILE_COLUMNS = {"ingested_at", "at_noted", "imported_at"}
VOLATILE_IN = {"problems": {"at"}, "text_lines": {"at"}, "text_reads": {"at"}}
# tables whose rows are compared in key order: where they were stored in the order their work finished
BY_KEY = {"media": "sha256"}
SKIP_TABLES = {"audit_log", "alembic_version", "case_info"}


def cpu() -> tuple[float, float]:
    """User + system CPU seconds of this process, and of its reaped children (workers count once reaped)."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


def exhibit_specs(op: Path) -> list[Any]:
    """The operation's exhibits as ``ingest_many`` takes them (what the investigators know of each at intake)."""
    from ringtrace.stages.intake import ExhibitSpec

    manifest = json.loads((op / "operation.json").read_text(encoding="utf-8"))
    return [ExhibitSpec(op / ex["path"], exhibit=ex["exhibit"], timezone=ex.get("timezone", "UTC"),
                        owner=ex.get("owner"), region=ex.get("region"), seizure_country=ex.get("seizure_country"))
            for ex in manifest["exhibits"]]


def differing_tables(a: Path, b: Path) -> list[str]:
    """Tables (rows in rowid order, or key order for ``BY_KEY``; ids included; wall-clock columns and the audit log
    aside) and recorded parse seals that differ between the cases in folders ``a`` and ``b``."""
    ca, cb = sqlite3.connect(a / "case.sqlite"), sqlite3.connect(b / "case.sqlite")
    differ = []
    for (t,) in ca.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        if t in SKIP_TABLES or t.startswith("messages_fts"):
            continue
        cols = [r[1] for r in ca.execute(f'PRAGMA table_info("{t}")')
                if r[1] not in VOLATILE_COLUMNS and r[1] not in VOLATILE_IN.get(t, ())]
        q = f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{t}" ORDER BY {BY_KEY.get(t, "rowid")}'
        if ca.execute(q).fetchall() != cb.execute(q).fetchall():
            differ.append(t)

    def seals(c: sqlite3.Connection) -> list[tuple[int, str]]:
        rows = [json.loads(d) for (d,) in c.execute("SELECT detail FROM audit_log WHERE action = 'stage.parse'")]
        return sorted((d["source_id"], d["seal"]["digest"]) for d in rows)

    if seals(ca) != seals(cb):
        differ.append("parse seals")
    return differ
