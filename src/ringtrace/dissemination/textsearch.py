"""Words in messages, found fast: SQLite FTS5 in a side file, or PostgreSQL full-text search on a team server.

On SQLite the case database holds no full-text index; ``web-search.sqlite`` in the case folder does (an FTS5 table
of message text and ids, ``unicode61`` tokens with diacritics removed), stamped with the case's fingerprint. It is
built when the analysis finishes (``build_index``, from ``stages.views``) and rebuilt by ``ensure_index`` if it is
missing or stale. On PostgreSQL the case store answers itself: ``to_tsvector('simple', text)`` with a GIN index on
that expression (migration 0008), queried with ``plainto_tsquery`` (every word required, no query syntax).

Queries are hostile input: at most ``MAX_TERMS`` words, each quoted for FTS5 (no operator or column filter reaches
the engine); PostgreSQL gets the words as plain text, and ``plainto_tsquery`` cannot be made to fail.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, literal_column, select

from ringtrace.store import schema as S

INDEX_NAME = "web-search.sqlite"
MAX_TERMS = 8
MAX_TERM_CHARS = 100
MAX_HITS = 100
TS_CONFIG = "simple"  # no stemming and no stop words: names, slang and codes are found as written
WORD = re.compile(r"\w+", re.UNICODE)
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def words_of(q: str) -> list[str]:
    return [w[:MAX_TERM_CHARS] for w in WORD.findall(q)[:MAX_TERMS]]


def fts_query(q: str) -> str | None:
    """Every word as a quoted FTS5 string (quotes doubled), all required: no operator or column filter gets in."""
    words = words_of(q)
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def message_tsvector() -> ColumnElement[Any]:
    """The expression the PostgreSQL GIN index is built on (``schema.messages_tsvector``): written out with
    literals, so the planner sees the very same expression in a query and uses the index."""
    expr: ColumnElement[Any] = S.messages_tsvector(S.messages.c.text)
    return expr


RANK_CAP = 5000  # more hits than this: the best-first order is not worth its cost (SQLite FTS5)


def pg_query(words: list[str], limit: int = MAX_HITS) -> Select[Any]:
    """PostgreSQL: messages holding every word (``plainto_tsquery``: the words as text, no query syntax), best
    ``ts_rank`` first; the match goes through the GIN index ``ix_messages_text_tsv``."""
    tsq = func.plainto_tsquery(literal_column(f"'{TS_CONFIG}'::regconfig"), " ".join(words))
    vec = message_tsvector()
    return (select(S.messages.c.id).where(vec.op("@@")(tsq))
            .order_by(func.ts_rank(vec, tsq).desc(), S.messages.c.id).limit(limit))


def message_ids(con: Connection, case_path: Path, fp: str, q: str, limit: int = MAX_HITS) -> list[int]:
    """Ids of messages holding every word of ``q``, best matches first (FTS5 rank, or ``ts_rank`` on PostgreSQL)."""
    words = words_of(q)
    if not words:
        return []
    if con.dialect.name == "postgresql":
        return [int(r[0]) for r in con.execute(pg_query(words, limit))]
    fq = fts_query(q)
    path = ensure_index(con, case_path, fp)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        # ranking (bm25) costs a pass over every hit: a word in thousands of messages is answered in case order
        many = len(db.execute("SELECT rowid FROM msg_fts WHERE msg_fts MATCH ? LIMIT ?", (fq, RANK_CAP)).fetchall())
        order = "" if many >= RANK_CAP else "ORDER BY rank "
        return [int(r[0]) for r in db.execute(f"SELECT message_id FROM msg_fts WHERE msg_fts MATCH ? {order}"
                                              "LIMIT ?", (fq, limit))]
    except sqlite3.OperationalError:
        return []  # cannot happen with quoted terms; a bad query is an empty answer, never an error page
    finally:
        db.close()


def index_path(case_path: Path) -> Path:
    return case_path / INDEX_NAME


def _lock(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def _stamp(path: Path) -> str | None:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def database_file(con: Connection) -> Path:
    """The SQLite case database that ``con`` reads (the index is built from the file, outside SQLAlchemy)."""
    name = con.engine.url.database
    if not name or name == ":memory:":
        raise ValueError("the message-word index needs a case database in a file")
    return Path(name)


def build_index(case_db: Path, dest: Path, fp: str) -> Path:
    """A fresh FTS5 file of every message's text at ``dest``, stamped ``fp``, moved into place in one step.

    The messages are copied by one ``INSERT ... SELECT`` from the case database attached read-only: all of it is
    SQLite's C code, which releases the GIL, so ``stages.views`` runs it in a thread beside the Python views."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    # a URI, so that the ATTACH below may say mode=ro
    db = sqlite3.connect(tmp.resolve().as_uri(), uri=True, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("ATTACH DATABASE ? AS c", (case_db.resolve().as_uri() + "?mode=ro",))
        db.execute("BEGIN")
        db.execute("CREATE TABLE main.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("CREATE VIRTUAL TABLE main.msg_fts USING fts5(text, message_id UNINDEXED, "
                   "tokenize='unicode61 remove_diacritics 2')")
        # rowids 1..n in message order, as the batches through SQLAlchemy gave them
        db.execute("INSERT INTO main.msg_fts (text, message_id) "
                   "SELECT text, id FROM c.messages WHERE text IS NOT NULL ORDER BY id")
        db.execute("INSERT INTO main.meta (key, value) VALUES ('version', ?)", (fp,))
        db.execute("COMMIT")
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, dest)
    return dest


def restamp(path: Path, fp: str) -> None:
    """Say that an index built a moment ago (same messages) belongs to version ``fp``."""
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)", (fp,))
    finally:
        db.close()


def ensure_index(con: Connection, case_path: Path, fp: str) -> Path:
    """The side FTS5 index, (re)built when it is missing or was built at another case version."""
    path = index_path(case_path)
    with _lock(path):
        if _stamp(path) != fp:
            build_index(database_file(con), path, fp)
    return path
