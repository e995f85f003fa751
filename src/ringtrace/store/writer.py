"""Writes one source's records into the store, in batches, inside the caller's transaction."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, insert, select

from ringtrace.model import (
    Account,
    AccountKey,
    AccountKind,
    AccountLink,
    ChatRef,
    DeviceOwner,
    Group,
    GroupEvent,
    Indicator,
    MediaFile,
    Message,
    NameSeen,
    Page,
    Participant,
    Problem,
    Prov,
    Record,
)
from ringtrace.store import new_id
from ringtrace.store import schema as S

BATCH = 5000
MAX_IDENTIFIER = 1000
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _prov(p: Prov | None) -> tuple[str, str | None, str | None, int | None]:
    """prov_file, prov_table, prov_row, prov_line: the last four columns of every row the writer queues."""
    if p is None:
        return ("", None, None, None)
    return (p.file, p.table, None if p.row is None else str(p.row), p.line)


_PROV = ("prov_file", "prov_table", "prov_row", "prov_line")
# The columns of each table's queued rows, in the order the row tuples give them (provenance last where it is kept).
COLUMNS: dict[str, tuple[str, ...]] = {
    "account_sightings": ("account_id", "source_id", *_PROV),
    "account_links": ("a_id", "b_id", "basis", "source_id", *_PROV),
    "names_seen": ("account_id", "name", "kind", "source_id", *_PROV),
    "device_owners": ("source_id", "account_id", "basis", *_PROV),
    "group_sightings": ("chat_id", "source_id", "name", "created_at", "creator_id", "invite_code", *_PROV),
    "participants": ("chat_id", "account_id", "role", "current", "at", "source_id", *_PROV),
    "group_events": ("chat_id", "kind", "at", "actor_id", "target_id", "raw_code", "value", "old_value", "msg_key",
                     "source_id", *_PROV),
    "messages": ("chat_id", "msg_key", "sender_id", "at", "precision_s", "text", "forwarded", "from_owner",
                 "raw_type", "source_id", *_PROV),
    "message_media": ("message_id", "sha256", "relpath", "name", "size", "mime", "declared_only"),
    "pages": ("source_id", "uri", "captured_at", "record_id", "title", "content_type", "language", "resources",
              *_PROV),
    "indicators": ("source_id", "kind", "value", "raw", "context", "page_uri", "platform", "code", "secret", "at",
                   *_PROV),
    "problems": ("source_id", "stage", "file", "reason", "severity", "locator", "at"),
}


def _utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # a parser that forgot: treat as UTC rather than guess
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


class _Inserter:
    """INSERTs of row tuples into one table. On SQLite they go to the driver's executemany as they are, each value
    first through its column's own SQLAlchemy bind conversion (times, booleans, JSON), so the stored values are
    those of ``con.execute(insert(table), dicts)`` without its per-row cost; on other databases through that."""

    def __init__(self, con: Connection, table: Table) -> None:
        self.con = con
        self.table = table
        self.columns = COLUMNS[table.name]
        self.fast = con.dialect.name == "sqlite" and con.dialect.paramstyle == "qmark"
        self.procs = [(i, proc) for i, name in enumerate(self.columns)
                      if (proc := table.c[name].type.dialect_impl(con.dialect).bind_processor(con.dialect)) is not None]
        self.sql = (f'INSERT INTO "{table.name}" ({", ".join(chr(34) + c + chr(34) for c in self.columns)}) '
                    f'VALUES ({", ".join("?" * len(self.columns))})')

    def _bound(self, row: tuple[Any, ...]) -> list[Any] | tuple[Any, ...]:
        if not self.procs:
            return row
        out = list(row)
        for i, proc in self.procs:
            out[i] = proc(out[i])
        return out

    def insert_many(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if not self.fast:
            self.con.execute(insert(self.table), [dict(zip(self.columns, r, strict=True)) for r in rows])
            return
        cur = self.con.connection.cursor()
        try:
            cur.executemany(self.sql, [self._bound(r) for r in rows] if self.procs else rows)
        finally:
            cur.close()

    def insert_returning_ids(self, rows: list[tuple[Any, ...]]) -> list[int]:
        """Each row inserted in order; the ids they got, in that order."""
        if not rows:
            return []
        if not self.fast:
            return list(self.con.execute(insert(self.table).returning(self.table.c.id, sort_by_parameter_order=True),
                                         [dict(zip(self.columns, r, strict=True)) for r in rows]).scalars().all())
        cur = self.con.connection.cursor()
        ids: list[int] = []
        try:
            for r in rows:
                cur.execute(self.sql, self._bound(r))
                ids.append(int(cur.lastrowid or 0))
        finally:
            cur.close()
        return ids


class RecordWriter:
    """Queues each record as a row tuple (``COLUMNS``) and inserts them in batches. When any table's queue reaches
    ``BATCH`` rows every queue is flushed; messages with media wait in a queue of their own (their ids are needed
    for their media rows), flushed first. The order of the inserts, and so every row id, depends only on the
    records' order."""

    def __init__(self, con: Connection, source_id: int, stage: str, store_embedded: Any = None) -> None:
        self.con = con
        self.source_id = source_id
        self.stage = stage
        self.store_embedded = store_embedded  # callable(bytes) -> Digests, for media inside containers
        self._accounts: dict[AccountKey, int] = {}  # as the record gave it -> id
        self._chats: dict[ChatRef, int] = {}
        self._pending: dict[Table, list[tuple[Any, ...]]] = {}
        self._full = False  # a queue reached BATCH: flush after this record
        self._inserters: dict[Table, _Inserter] = {}
        self._files_by_relpath: dict[str, str] = {
            r.relpath: r.sha256
            for r in con.execute(select(S.source_files.c.relpath, S.source_files.c.sha256)
                                 .where(S.source_files.c.source_id == source_id))
        }
        self.counts: dict[str, int] = defaultdict(int)
        self._media_messages: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = []

    # ---- identities ---------------------------------------------------------------------------------------
    def account_id(self, key: AccountKey | None) -> int | None:
        if key is None:
            return None
        aid = self._accounts.get(key)
        if aid is None:
            aid = self._accounts[key] = self._lookup_account(key)
        return aid

    def _lookup_account(self, key: AccountKey) -> int:
        if key.kind == AccountKind.EXPORT_NAME:  # names from one export mean nothing outside it
            key = AccountKey(key.platform, key.kind, f"S{self.source_id}:{key.value}")
        if len(key.value) > MAX_IDENTIFIER:  # hostile input: an identifier is never this long
            key = AccountKey(key.platform, key.kind, key.value[:MAX_IDENTIFIER])
        row = self.con.execute(
            select(S.accounts.c.id).where(
                and_(S.accounts.c.platform == key.platform, S.accounts.c.kind == key.kind,
                     S.accounts.c.value == key.value)
            )
        ).scalar()
        if row is None:
            row = new_id(self.con.execute(
                insert(S.accounts).values(platform=key.platform, kind=key.kind, value=key.value)
            ))
        return int(row)

    def chat_id(self, chat: ChatRef) -> int:
        cid = self._chats.get(chat)
        if cid is not None:
            return cid
        scope = self.source_id if chat.key.startswith("export:") else None
        q = select(S.chats.c.id).where(
            and_(S.chats.c.platform == chat.platform, S.chats.c.kind == chat.kind, S.chats.c.key == chat.key)
        )
        q = q.where(S.chats.c.scope_source_id == scope) if scope is not None else q.where(
            S.chats.c.scope_source_id.is_(None))
        cid = self.con.execute(q).scalar()
        if cid is None:
            cid = new_id(self.con.execute(
                insert(S.chats).values(platform=chat.platform, kind=chat.kind, key=chat.key,
                                       peer_account_id=self.account_id(chat.peer), scope_source_id=scope)
            ))
        self._chats[chat] = cid
        return cid

    # ---- records ------------------------------------------------------------------------------------------
    def add(self, rec: Record, unit_primary: str) -> None:
        sid = self.source_id
        self.counts[type(rec).__name__] += 1
        aid = self.account_id
        if isinstance(rec, Message):
            self._message(rec)
        elif isinstance(rec, Indicator):
            self._queue(S.indicators, (sid, rec.kind, rec.value, rec.raw[:2000], rec.context[:1000], rec.page_uri,
                                       rec.platform, rec.code, rec.secret, _utc(rec.at), *_prov(rec.prov)))
        elif isinstance(rec, Account):
            self._queue(S.account_sightings, (aid(rec.key), sid, *_prov(rec.prov)))
        elif isinstance(rec, AccountLink):
            self._queue(S.account_links, (aid(rec.a), aid(rec.b), rec.basis, sid, *_prov(rec.prov)))
        elif isinstance(rec, NameSeen):
            self._queue(S.names_seen, (aid(rec.account), rec.name[:500], rec.kind, sid, *_prov(rec.prov)))
        elif isinstance(rec, DeviceOwner):
            self._queue(S.device_owners, (sid, aid(rec.account), rec.basis, *_prov(rec.prov)))
        elif isinstance(rec, Group):
            self._queue(S.group_sightings, (self.chat_id(rec.chat), sid, rec.name, _utc(rec.created_at),
                                            aid(rec.creator), rec.invite_code, *_prov(rec.prov)))
        elif isinstance(rec, Participant):
            self._queue(S.participants, (self.chat_id(rec.chat), aid(rec.account), rec.role, rec.current,
                                         _utc(rec.at), sid, *_prov(rec.prov)))
        elif isinstance(rec, GroupEvent):
            self._queue(S.group_events, (self.chat_id(rec.chat), str(rec.kind), _utc(rec.at), aid(rec.actor),
                                         aid(rec.target), rec.raw_code, rec.value, rec.old_value, rec.msg_key, sid,
                                         *_prov(rec.prov)))
        elif isinstance(rec, Page):
            self._queue(S.pages, (sid, rec.uri, _utc(rec.captured_at), rec.record_id,
                                  (rec.title or "")[:1000] or None, rec.content_type, rec.language,
                                  list(rec.resources) or None, *_prov(rec.prov)))
        elif isinstance(rec, MediaFile):
            self._media_file(rec, unit_primary)
        elif isinstance(rec, Problem):
            self.problem(rec.file, rec.reason, rec.severity, rec.prov.locator() if rec.prov else None)
        else:  # a format yielding something else is a bug in that format, not in the evidence
            raise TypeError(f"unknown record type {type(rec).__name__}")
        if self._full:
            self.flush()

    def problem(self, file: str, reason: str, severity: str = "error", locator: str | None = None) -> None:
        self.counts["Problem:" + severity] += 1
        self._queue(S.problems, (self.source_id, self.stage, file, reason[:4000], severity, locator,
                                 datetime.now(UTC)))

    def _message(self, m: Message) -> None:
        row = (self.chat_id(m.chat), m.msg_key, self.account_id(m.sender), _utc(m.at), m.time_precision_s, m.text,
               m.forwarded, m.from_owner, m.raw_type, self.source_id, *_prov(m.prov))
        if not m.media:
            self._queue(S.messages, row)
            return
        media = []
        for ref in m.media:
            sha = self._files_by_relpath.get(ref.path) if ref.path else None
            declared = ref.sha256.lower() if ref.sha256 and _SHA256.fullmatch(ref.sha256.lower()) else None
            media.append((sha or declared, ref.path, ref.name, ref.size, ref.mime,
                          sha is None and declared is not None))
        # messages with media wait for one batch, whose ids their media rows then take
        self._media_messages.append((row, media))
        if len(self._media_messages) >= BATCH:
            self._flush_media_messages()

    def _flush_media_messages(self) -> None:
        if not self._media_messages:
            return
        batch, self._media_messages = self._media_messages, []
        ids = self._inserter(S.messages).insert_returning_ids([r for r, _ in batch])
        rows = [(mid, *ref) for mid, (_, refs) in zip(ids, batch, strict=True) for ref in refs]
        self._inserter(S.message_media).insert_many(rows)

    def _media_file(self, mf: MediaFile, unit_primary: str) -> None:
        if mf.content is None or self.store_embedded is None:
            return  # plain files of the exhibit are already inventoried at intake
        d = self.store_embedded(mf.content)
        if mf.path in self._files_by_relpath:
            return
        self._files_by_relpath[mf.path] = d.sha256
        self.flush_table(S.source_files)
        self.con.execute(insert(S.source_files).values(
            source_id=self.source_id, relpath=mf.path, size=d.size, sha256=d.sha256, md5=d.md5, sha1=d.sha1,
            embedded=True, unit_primary=unit_primary, origin_uri=(mf.origin_uri or "")[:4096] or None))

    # ---- batching -----------------------------------------------------------------------------------------
    def _inserter(self, table: Table) -> _Inserter:
        ins = self._inserters.get(table)
        if ins is None:
            ins = self._inserters[table] = _Inserter(self.con, table)
        return ins

    def _queue(self, table: Table, row: tuple[Any, ...]) -> None:
        rows = self._pending.get(table)
        if rows is None:
            rows = self._pending[table] = []
        rows.append(row)
        if len(rows) >= BATCH:
            self._full = True

    def flush_table(self, table: Table) -> None:
        rows = self._pending.pop(table, None)
        if rows:
            self._inserter(table).insert_many(rows)

    def flush(self) -> None:
        self._flush_media_messages()
        for table in list(self._pending):
            self.flush_table(table)
        self._full = False
