"""Generated columns in an evidence database: computed by an expression the file itself carries, so their values
are not stored evidence, and ``PRAGMA table_info`` does not even list them (a reader would see the column as
missing and read NULL). ``PRAGMA table_xinfo`` does: ``hidden`` is 2 for a virtual and 3 for a stored generated
column. A reader calls :func:`generated_column_problems` for the tables it reads, and is told by name."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from ringtrace.model import Problem
from ringtrace.sources.base import quote_ident

_KINDS = {2: "virtual", 3: "stored"}


def generated_columns(con: sqlite3.Connection, table: str) -> dict[str, str]:
    """The table's generated columns: name -> 'virtual' or 'stored' (empty when none or no such table)."""
    try:
        rows = con.execute(f"PRAGMA table_xinfo({quote_ident(table)})").fetchall()
    except sqlite3.DatabaseError:
        return {}
    return {str(r[1]): _KINDS[int(r[6])] for r in rows if len(r) > 6 and r[6] in _KINDS}


def generated_column_problems(con: sqlite3.Connection, file: str, tables: Iterable[str]) -> Iterator[Problem]:
    for table in tables:
        for col, kind in sorted(generated_columns(con, table).items()):
            yield Problem(file, f"{table}.{col} is a {kind} generated column: its values are computed by an "
                                "expression in the database file, not stored evidence; not read")
