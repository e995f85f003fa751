"""Writes one source's records into the store, in batches, inside the caller's transaction.

The per-record work (each record into a row tuple, the batches) is ``ringtrace.store.rows``'s, done where the
records are read (a worker); the writer resolves each unit's references to accounts and chats to their ids, in the
order of first use, and carries out the unit's ops in their order, so the rows and their ids are those of writing
record after record.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Dialect, Table, and_, bindparam, insert, select

from ringtrace.model import AccountKey, AccountKind, ChatRef, Record
from ringtrace.seal import PENDING_SOURCE, Seal, Unsure, media_line, seal_of_lines, seal_source, source_lines
from ringtrace.store import new_id
from ringtrace.store import schema as S
from ringtrace.store.rows import COLUMNS, FILE, MEDIA, REFS, ROWS, MediaRow, Op, Ref, RowEncoder
from ringtrace.vault import Digests

MAX_IDENTIFIER = 1000

# built once: a medium operation looks up thousands of accounts and chats, and building each query anew was most of
# the cost of a lookup (the statement then comes from SQLAlchemy's compiled cache)
_ACCOUNT = select(S.accounts.c.id).where(and_(S.accounts.c.platform == bindparam("platform"),
                                              S.accounts.c.kind == bindparam("kind"),
                                              S.accounts.c.value == bindparam("value")))
_CHAT = and_(S.chats.c.platform == bindparam("platform"), S.chats.c.kind == bindparam("kind"),
             S.chats.c.key == bindparam("key"))
_CHAT_SCOPED = select(S.chats.c.id).where(_CHAT).where(S.chats.c.scope_source_id == bindparam("scope"))
_CHAT_UNSCOPED = select(S.chats.c.id).where(_CHAT).where(S.chats.c.scope_source_id.is_(None))


def driver_rows(dialect: Dialect) -> bool:
    """Whether rows go to the database driver as they are (SQLite), their values bound where they are made."""
    return dialect.name == "sqlite" and dialect.paramstyle == "qmark"


class _Inserter:
    """INSERTs of row tuples into one table for one source (its id a constant of the statement). On SQLite the rows
    go to the driver's executemany as they are, their values bound where the rows were made (``RowEncoder``), so
    the stored values are those of ``con.execute(insert(table), dicts)`` without its per-row cost; on other
    databases through that."""

    def __init__(self, con: Connection, table: Table, source_id: int) -> None:
        self.con = con
        self.table = table
        self.source_id = source_id
        self.columns = COLUMNS[table.name]
        self.fast = driver_rows(con.dialect)
        self.with_source = "source_id" in table.c
        cols = [*self.columns, "source_id"] if self.with_source else list(self.columns)
        values = ["?"] * len(self.columns) + ([str(int(source_id))] if self.with_source else [])
        self.sql = (f'INSERT INTO "{table.name}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                    f'VALUES ({", ".join(values)})')

    def _dicts(self, rows: list[Any]) -> list[dict[str, Any]]:
        extra = {"source_id": self.source_id} if self.with_source else {}
        return [{**dict(zip(self.columns, r, strict=True)), **extra} for r in rows]

    def insert_many(self, rows: list[Any]) -> None:
        if not rows:
            return
        if not self.fast:
            self.con.execute(insert(self.table), self._dicts(rows))
            return
        cur = self.con.connection.cursor()
        try:
            cur.executemany(self.sql, rows)
        finally:
            cur.close()

    def insert_returning_ids(self, rows: list[Any]) -> list[int]:
        """Each row inserted in order; the ids they got, in that order."""
        if not rows:
            return []
        if not self.fast:
            return list(self.con.execute(insert(self.table).returning(self.table.c.id, sort_by_parameter_order=True),
                                         self._dicts(rows)).scalars().all())
        cur = self.con.connection.cursor()
        ids: list[int] = []
        try:
            for r in rows:
                cur.execute(self.sql, r)
                ids.append(int(cur.lastrowid or 0))
        finally:
            cur.close()
        return ids


def _resolved(rows: list[Any], positions: tuple[int, ...], ids: list[int]) -> list[Any]:
    """Rows with their references (indices into the unit's refs) replaced by the ids they resolved to. Rows that
    are lists (bound by ``RowEncoder``: made for this one write, their seal lines already rendered) are changed in
    place, 5x faster than copying each; tuples are copied."""
    if rows and rows[0].__class__ is not list:
        rows = [list(r) for r in rows]
    for r in rows:
        for i in positions:
            v = r[i]
            if v is not None:
                r[i] = ids[v]
    return rows


class RecordWriter:
    """Writes units' rows (``RowEncoder``'s refs and ops) into the store; ``add`` writes records one by one."""

    def __init__(self, con: Connection, source_id: int, stage: str, store_embedded: Any = None) -> None:
        self.con = con
        self.source_id = source_id
        self.stage = stage
        self.store_embedded = store_embedded  # callable(bytes) -> Digests, for media inside containers
        self.bind = driver_rows(con.dialect)
        self._accounts: dict[AccountKey, int] = {}  # as the record gave it -> id
        self._chats: dict[ChatRef, int] = {}
        self._inserters: dict[str, _Inserter] = {}
        self._files_by_relpath: dict[str, str] = {
            r.relpath: r.sha256
            for r in con.execute(select(S.source_files.c.relpath, S.source_files.c.sha256)
                                 .where(S.source_files.c.source_id == source_id))
        }
        self.counts: dict[str, int] = defaultdict(int)
        self._ids: list[int] = []  # the current unit's refs, resolved
        self._unit_files: set[str] = set()  # embedded files the current unit inventoried
        self._encoder: RowEncoder | None = None  # of ``add``
        self._encoder_unit = ""
        # the seal lines of what was written (``RowEncoder``), or None: then the seal is read back from the database
        self.lines: dict[str, list[str]] | None = {} if self.bind else None

    # ---- identities ---------------------------------------------------------------------------------------
    def account_id(self, key: AccountKey | None) -> int | None:
        return None if key is None else self._account(key)

    def _account(self, key: AccountKey) -> int:
        aid = self._accounts.get(key)
        if aid is None:
            aid = self._accounts[key] = self._lookup_account(key)
        return aid

    def _lookup_account(self, key: AccountKey) -> int:
        if key.kind == AccountKind.EXPORT_NAME:  # names from one export mean nothing outside it
            key = AccountKey(key.platform, key.kind, f"S{self.source_id}:{key.value}")
        if len(key.value) > MAX_IDENTIFIER:  # hostile input: an identifier is never this long
            key = AccountKey(key.platform, key.kind, key.value[:MAX_IDENTIFIER])
        values = {"platform": key.platform, "kind": key.kind, "value": key.value}
        row = self.con.execute(_ACCOUNT, values).scalar()
        if row is None:
            row = new_id(self.con.execute(insert(S.accounts), values))
        return int(row)

    def chat_id(self, chat: ChatRef) -> int:
        cid = self._chats.get(chat)
        if cid is not None:
            return cid
        scope = self.source_id if chat.key.startswith("export:") else None
        values = {"platform": chat.platform, "kind": chat.kind, "key": chat.key}
        cid = (self.con.execute(_CHAT_SCOPED, {**values, "scope": scope}) if scope is not None
               else self.con.execute(_CHAT_UNSCOPED, values)).scalar()
        if cid is None:
            cid = new_id(self.con.execute(
                insert(S.chats).values(platform=chat.platform, kind=chat.kind, key=chat.key,
                                       peer_account_id=self.account_id(chat.peer), scope_source_id=scope)
            ))
        self._chats[chat] = cid
        return cid

    # ---- units --------------------------------------------------------------------------------------------
    def encoder(self, unit_primary: str) -> RowEncoder:
        """An encoder for a unit read in this process (its ops then go to ``apply`` as they come)."""
        return RowEncoder(self.stage, unit_primary, self.bind, self.store_embedded)

    def start_unit(self) -> None:
        self._ids = []
        self._unit_files = set()

    def apply(self, refs: list[Ref], ops: list[Op], unit_primary: str) -> None:
        """The next refs and ops of the current unit: refs resolved in their order (accounts and chats made as
        first used), then the ops carried out in theirs."""
        ids = self._ids
        for k in refs:
            ids.append(self._account(k) if isinstance(k, AccountKey) else self.chat_id(k))
        for op in ops:
            kind = op[0]
            if kind == ROWS:
                table, rows = op[1], op[2]
                positions = REFS.get(table)
                self._inserter(table).insert_many(_resolved(rows, positions, ids) if positions else rows)
            elif kind == MEDIA:
                self._media_messages(_resolved(op[1], REFS["messages"], ids), op[2], op[3])
            elif kind == FILE:
                self._embedded_file(op[1], op[2], op[3], unit_primary)
            else:
                raise ValueError(f"unknown row op {kind!r}")

    def end_unit(self, counts: dict[str, int], lines: dict[str, list[str]] | None) -> None:
        """The current unit is written: its record counts and seal lines (None: not certain) join the source's."""
        for k, v in counts.items():
            self.counts[k] += v
        if lines is None:
            self.lines = None
        elif self.lines is not None:
            for table, part in lines.items():
                self.lines.setdefault(table, []).extend(part)

    def seal(self) -> Seal:
        """The source's seal, as ``seal_source`` reads it from the database: from the lines of what was written
        (the inventory of files read back: intake wrote most of it), or read back whole where they are not certain."""
        if self.lines is None:
            return seal_source(self.con, self.source_id)
        parts = {**self.lines, **source_lines(self.con, self.source_id, (S.source_files,))}
        return seal_of_lines(parts, self.source_id)

    def _media_messages(self, rows: list[Any], media: list[list[MediaRow]], lines: list[str] | None) -> None:
        ids = self._inserter("messages").insert_returning_ids(rows)
        fbr, late_files = self._files_by_relpath, self._unit_files
        out = []
        for mid, refs in zip(ids, media, strict=True):
            for path, declared, name, size, mime, late in refs:
                # the file a message names, as inventoried when the message was read (not one found after it)
                sha = fbr.get(path) if path and not (late and path in late_files) else None
                out.append((mid, sha or declared, path, name, size, mime, sha is None and declared is not None))
        self._inserter("message_media").insert_many(out)  # declared_only: the driver stores a bool as 0 or 1
        if self.lines is not None and lines is not None:
            scope, by_id = f"S{self.source_id}:", dict(zip(ids, lines, strict=True))
            try:
                self.lines.setdefault("message_media", []).extend(
                    media_line(by_id[r[0]].replace(PENDING_SOURCE, scope), r) for r in out)
            except Unsure:
                self.lines = None

    def _embedded_file(self, path: str, d: Digests, origin_uri: str | None, unit_primary: str) -> None:
        if path in self._files_by_relpath:
            return
        self._files_by_relpath[path] = d.sha256
        self._unit_files.add(path)
        self.con.execute(insert(S.source_files).values(
            source_id=self.source_id, relpath=path, size=d.size, sha256=d.sha256, md5=d.md5, sha1=d.sha1,
            embedded=True, unit_primary=unit_primary, origin_uri=origin_uri))

    def _inserter(self, table: str) -> _Inserter:
        ins = self._inserters.get(table)
        if ins is None:
            ins = self._inserters[table] = _Inserter(self.con, S.metadata.tables[table], self.source_id)
        return ins

    # ---- records one by one -------------------------------------------------------------------------------
    def add(self, rec: Record, unit_primary: str) -> None:
        """One record of the unit ``unit_primary`` (a new unit starts when the name changes); ``flush`` ends it."""
        enc = self._unit_encoder(unit_primary)
        enc.add(rec)
        if enc.ops:
            self.apply(*enc.take(), unit_primary)

    def unit_problem(self, unit_primary: str, reason: str) -> None:
        """Why the reading of the unit ``unit_primary`` stopped: a problem of that unit, among its records."""
        enc = self._unit_encoder(unit_primary)
        enc.problem(unit_primary, reason)
        if enc.ops:
            self.apply(*enc.take(), unit_primary)

    def _unit_encoder(self, unit_primary: str) -> RowEncoder:
        enc = self._encoder
        if enc is None or self._encoder_unit != unit_primary:
            if enc is not None:
                self.flush()
            enc = self._encoder = self.encoder(unit_primary)
            self._encoder_unit = unit_primary
            self.start_unit()
        return enc

    def problem(self, file: str, reason: str, severity: str = "error", locator: str | None = None) -> None:
        """A problem of the source as a whole (not of a unit's reading)."""
        self.flush()  # a unit written record by record ends first: its refs are resolved in ``start_unit``'s list
        enc = self.encoder("")
        enc.problem(file, reason, severity, locator)
        enc.flush()
        self.start_unit()
        self.apply(*enc.take(), "")
        self.end_unit(enc.counts, enc.lines)

    def flush(self) -> None:
        enc, self._encoder = self._encoder, None
        if enc is not None:
            enc.flush()
            self.apply(*enc.take(), self._encoder_unit)
            self.end_unit(enc.counts, enc.lines)
