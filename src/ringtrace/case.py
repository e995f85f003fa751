"""The open case: the handle every stage takes.

It holds the folder, the database engine, the vault, the audit log and the actor, and answers the lookups
every stage needs: a source's root (:func:`source_root`), its files (:func:`iter_source_files`) and where the
bytes of a content hash can be read (:func:`content_path`). It imports no stage: the stages import it.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, select

from ringtrace import audit
from ringtrace._version import TOOL
from ringtrace.store import db
from ringtrace.store.schema import case_info, source_files, sources
from ringtrace.vault import Vault

CASE_FILE = "case.json"  # small pointer file: name, created, database URL if not the default


_LISTENING: weakref.WeakSet[Engine] = weakref.WeakSet()
_LISTENING_LOCK = threading.Lock()


def _head_writer(case_dir: Path) -> Callable[[Connection], None]:
    def committed(con: Connection) -> None:
        head = con.info.pop(audit.PENDING_HEAD, None)
        if head is not None:
            audit.write_head(case_dir, head)

    return committed


def _head_dropped(con: Connection) -> None:
    con.info.pop(audit.PENDING_HEAD, None)


class CaseError(Exception):
    pass


class Case:
    def __init__(self, path: Path, engine: Engine, vault: Vault, actor: str | None = None) -> None:
        self.path = path
        self.engine = engine
        self.vault = vault
        self.actor = actor or os.environ.get("RINGTRACE_EXAMINER") or audit.default_actor()
        self.lock_wait = 0.0  # seconds a writing command waits for another writer (ringtrace.lock)
        # the audit head goes outside the table once the entries that moved it are committed
        # once per engine: the web app makes a Case per request over one shared engine, and listeners added
        # while another thread commits would change the list SQLAlchemy is walking
        with _LISTENING_LOCK:
            if engine not in _LISTENING:
                _LISTENING.add(engine)
                event.listen(engine, "commit", _head_writer(path))
                event.listen(engine, "rollback", _head_dropped)

    # ---- opening ---------------------------------------------------------------------------------------
    @staticmethod
    def default_url(path: Path) -> str:
        return f"sqlite:///{(path / 'case.sqlite').resolve()}"

    @classmethod
    def init(cls, path: str | Path, name: str | None = None, db_url: str | None = None,
             actor: str | None = None) -> Case:
        p = Path(path)
        if (p / CASE_FILE).exists():
            raise CaseError(f"{p} is already a case")
        p.mkdir(parents=True, exist_ok=True)
        url = db_url or os.environ.get("RINGTRACE_DB_URL") or cls.default_url(p)
        meta = {"name": name or p.name, "created": datetime.now(UTC).isoformat(), "tool": TOOL}
        if db_url or os.environ.get("RINGTRACE_DB_URL"):
            meta["db_url"] = url
        (p / CASE_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        engine = db.make_engine(url)
        db.upgrade(engine)
        case = cls(p, engine, Vault(p / "vault"), actor)
        with case.begin() as con:
            con.execute(case_info.insert(), [{"key": k, "value": str(v)} for k, v in meta.items() if k != "db_url"])
            audit.append(con, "case.init", {"name": meta["name"], "tool": TOOL}, case.actor)
        return case

    @classmethod
    def open(cls, path: str | Path, actor: str | None = None) -> Case:
        p = Path(path)
        if not (p / CASE_FILE).exists():
            raise CaseError(f"{p} is not a ringtrace case (no {CASE_FILE}); create one with 'ringtrace init {p}'")
        meta = json.loads((p / CASE_FILE).read_text(encoding="utf-8"))
        url = meta.get("db_url") or os.environ.get("RINGTRACE_DB_URL") or cls.default_url(p)
        engine = db.make_engine(url)
        db.upgrade(engine)  # no-op when current
        return cls(p, engine, Vault(p / "vault"), actor)

    @property
    def name(self) -> str:
        with self.engine.connect() as con:
            v = con.execute(select(case_info.c.value).where(case_info.c.key == "name")).scalar()
        return v or self.path.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction (SQLite: it takes the write lock when it starts; see store.db)."""
        with self.engine.connect() as con:
            con.execution_options(**{db.WRITE_OPTION: True})
            with con.begin():
                yield con

    def log(self, action: str, detail: dict[str, Any], con: Connection | None = None) -> None:
        if con is not None:
            audit.append(con, action, detail, self.actor)
            return
        with self.begin() as c:
            audit.append(c, action, detail, self.actor)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- lookups every stage needs --------------------------------------------------------------------------------


def source_root(case: Case, source_id: int) -> Path:
    """Where a source's files can be read: its vault tree, or the original location in reference mode."""
    with case.engine.connect() as con:
        row = con.execute(select(sources).where(sources.c.id == source_id)).one()
    if row.mode == "reference":
        p = Path(row.original_path)
        return p if row.kind == "folder" else p.parent
    return case.vault.tree(row.sha256)


def content_path(case: Case, sha256: str, con: Connection | None = None) -> Path | None:
    """Where the bytes of a content can be read: its vault object, else a reference-mode source's file."""
    p = case.vault.object_path(sha256)
    if p.exists():
        return p
    q = select(source_files.c.source_id, source_files.c.relpath).where(source_files.c.sha256 == sha256).limit(1)
    if con is None:
        with case.engine.connect() as c:
            row = c.execute(q).first()
    else:
        row = con.execute(q).first()
    if row is None:
        return None
    f = source_root(case, row.source_id) / row.relpath
    return f if f.is_file() else None


def iter_source_files(case: Case, source_id: int) -> Iterator[tuple[str, int]]:
    """A source's own files (not those found embedded in them), as (relpath, size)."""
    with case.engine.connect() as con:
        for r in con.execute(select(source_files.c.relpath, source_files.c.size)
                             .where(source_files.c.source_id == source_id)
                             .where(source_files.c.embedded.is_(False))):
            yield r.relpath, r.size


def iter_content_heads(case: Case, con: Connection, skip: Container[str], head_bytes: int
                       ) -> Iterator[tuple[str, Path, bytes]]:
    """Every distinct content of the case's source files not in ``skip`` that can be read where it is kept, with its
    first ``head_bytes``: what the hash and text stages sniff to choose their work."""
    for r in con.execute(select(source_files.c.sha256).distinct()):
        sha = r[0]
        if sha in skip:
            continue
        path = content_path(case, sha, con)
        if path is None:
            continue
        try:
            with path.open("rb") as fh:
                head = fh.read(head_bytes)
        except OSError:
            continue
        yield sha, path, head
