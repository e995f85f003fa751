"""The case store: schema, migrations, engines, and the writer that lands parsed records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult


def new_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just made."""
    pk = result.inserted_primary_key
    if pk is None or pk[0] is None:
        raise RuntimeError("the insert returned no primary key")
    return int(pk[0])
