"""Reading evidence SQLite databases safely: through a private copy, with the WAL replayed.

Apps like WhatsApp keep the newest rows only in ``<db>-wal`` until a checkpoint. Opening the original with
``immutable=1`` would miss them, and opening it normally could checkpoint into (modify) the evidence. So the
db and its ``-wal``/``-shm`` siblings are copied (size-bounded) into a work dir and the copy is opened: SQLite
replays the WAL into the copy's view, the original is never opened for writing.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ringtrace.sources.base import SQLITE_MAGIC, FormatError, quote_ident

#: Refuse to copy more than this (db + wal + shm together) unless the caller says otherwise.
DEFAULT_MAX_BYTES = 8 * 1024**3

SIBLING_SUFFIXES = ("-wal", "-shm")


def _check_header(path: Path, size: int) -> None:
    """Reject non-SQLite and truncated files before SQLite gives a vaguer error later."""
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise FormatError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    if not head.startswith(SQLITE_MAGIC):
        raise FormatError(f"{path.name}: file is not a database (no SQLite header)")
    if len(head) < 100:
        raise FormatError(f"{path.name}: database disk image is malformed (header truncated)")
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change_counter, n_pages = struct.unpack(">II", head[24:32])
    valid_for = struct.unpack(">I", head[92:96])[0]
    # The in-header page count is only trustworthy when "version-valid-for" matches the change counter.
    if n_pages and valid_for == change_counter and n_pages * page_size > size:
        raise FormatError(
            f"{path.name}: database disk image is malformed (truncated: header says "
            f"{n_pages * page_size} bytes, file has {size})"
        )


def open_readonly_copy(
    db_path: Path, workdir: Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> sqlite3.Connection:
    """Copy ``db_path`` (+ ``-wal``/``-shm``) into ``workdir`` and open the copy, WAL replayed.

    Raises FormatError naming the file for: missing file, too large, not SQLite, truncated, unreadable.
    The caller owns ``workdir`` (usually a TemporaryDirectory) and must close the connection.
    """
    try:
        size = db_path.stat().st_size
    except OSError as exc:
        raise FormatError(f"{db_path.name}: cannot open ({exc.strerror or exc})") from exc
    siblings = [db_path.with_name(db_path.name + s) for s in SIBLING_SUFFIXES]
    total = size + sum(p.stat().st_size for p in siblings if p.is_file())
    if total > max_bytes:
        raise FormatError(f"{db_path.name}: {total} bytes with its WAL, over the {max_bytes}-byte copy limit")
    _check_header(db_path, size)
    workdir.mkdir(parents=True, exist_ok=True)
    dest = workdir / db_path.name
    try:
        shutil.copyfile(db_path, dest)
        for sib in siblings:
            if sib.is_file():
                shutil.copyfile(sib, workdir / sib.name)
    except OSError as exc:
        raise FormatError(f"{db_path.name}: cannot copy for reading ({exc.strerror or exc})") from exc
    try:
        con = sqlite3.connect(dest, check_same_thread=False)
        # Evidence text is not always valid UTF-8 (damaged pages, malformed messages): decode with replacement
        # instead of letting one bad cell abort the whole database.
        con.text_factory = _text
        # Touch the schema now so a damaged file fails here, with the file named.
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        con.execute("PRAGMA query_only=1")
    except sqlite3.DatabaseError as exc:
        raise FormatError(f"{db_path.name}: {exc}") from exc
    except UnicodeDecodeError as exc:  # SQLite's own error text quoting a damaged schema entry
        raise FormatError(f"{db_path.name}: malformed database schema (text that is not UTF-8: {exc.reason})") from exc
    return con


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def batches(con: sqlite3.Connection, sql: str, size: int) -> Iterator[list[Any]]:
    """The rows of a large ordered query, ``size`` at a time, decoded as fast as SQLite's C decoder allows.

    Connections from ``open_readonly_copy`` decode text through a Python function (``_text``, with
    replacement), one call per cell. For the million-row queries that cost is a third of the read, and almost
    every cell is valid UTF-8: so each batch is fetched with the C decoder, and at the first cell that is not
    valid UTF-8 the query is run again with the replacing decoder, the rows already given skipped (``sql``
    must fix the row order, e.g. ORDER BY a key). Same rows, same text, whichever decoder read them."""
    factory = con.text_factory
    cur = con.execute(sql)
    given = 0
    while True:
        con.text_factory = str
        try:
            rows = cur.fetchmany(size)
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc):
                raise
            break
        finally:
            con.text_factory = factory
        if not rows:
            return
        given += len(rows)
        yield rows
    cur = con.execute(sql)  # slow path from here on: the replacing decoder for the rest of the query
    while given > 0:
        skipped = cur.fetchmany(min(size, given))
        if not skipped:
            return
        given -= len(skipped)
    while rows := cur.fetchmany(size):
        yield rows


def table_columns(con: sqlite3.Connection) -> dict[str, set[str]]:
    """All tables (not views: a view can hide what the data really is) and their columns."""
    out: dict[str, set[str]] = {}
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
        out[name] = {r[1] for r in con.execute(f"PRAGMA table_info({quote_ident(name)})")}
    return out


def cols_present(schema: dict[str, set[str]], table: str, wanted: list[str] | tuple[str, ...]) -> list[str]:
    """The subset of ``wanted`` columns that ``table`` really has, in the order asked."""
    have = schema.get(table, set())
    return [c for c in wanted if c in have]


def col_or_null(schema: dict[str, set[str]], table: str, col: str, alias: str | None = None) -> str:
    """``alias.col`` when the column exists, else ``NULL`` (SELECT lists for varying schemas)."""
    if col in schema.get(table, set()):
        return f"{alias or quote_ident(table)}.{quote_ident(col)}"
    return "NULL"


def require_tables(schema: dict[str, set[str]], needed: dict[str, set[str]], file: str) -> None:
    """FormatError naming the file and the first missing table/column."""
    for table, cols in needed.items():
        if table not in schema:
            raise FormatError(f"{file}: table {table!r} is missing")
        missing = sorted(cols - schema[table])
        if missing:
            raise FormatError(f"{file}: table {table!r} lacks column(s) {', '.join(missing)}")


def has_rows(con: sqlite3.Connection, table: str) -> bool:
    return con.execute(f"SELECT 1 FROM {quote_ident(table)} LIMIT 1").fetchone() is not None
