"""The case store: schema, migrations, engines, and the writer that lands parsed records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, CursorResult, Table, insert


def new_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just made."""
    pk = result.inserted_primary_key
    if pk is None or pk[0] is None:
        raise RuntimeError("the insert returned no primary key")
    return int(pk[0])


def insert_in_batches(con: Connection, table: Table, rows: list[dict[str, Any]], n: int = 2000) -> None:
    """Insert ``rows`` in statements of ``n`` (bounded parameter lists; SQLite caps the variables of one)."""
    for i in range(0, len(rows), n):
        con.execute(insert(table), rows[i:i + n])
