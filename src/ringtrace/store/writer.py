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


def _prov(p: Prov | None) -> dict[str, Any]:
    if p is None:
        return {"prov_file": "", "prov_table": None, "prov_row": None, "prov_line": None}
    return {"prov_file": p.file, "prov_table": p.table, "prov_row": None if p.row is None else str(p.row),
            "prov_line": p.line}


def _utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # a parser that forgot: treat as UTC rather than guess
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


class RecordWriter:
    def __init__(self, con: Connection, source_id: int, stage: str, store_embedded: Any = None) -> None:
        self.con = con
        self.source_id = source_id
        self.stage = stage
        self.store_embedded = store_embedded  # callable(bytes) -> Digests, for media inside containers
        self._accounts: dict[AccountKey, int] = {}
        self._chats: dict[ChatRef, int] = {}
        self._pending: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self._files_by_relpath: dict[str, str] = {
            r.relpath: r.sha256
            for r in con.execute(select(S.source_files.c.relpath, S.source_files.c.sha256)
                                 .where(S.source_files.c.source_id == source_id))
        }
        self.counts: dict[str, int] = defaultdict(int)
        self._media_messages: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []

    # ---- identities ---------------------------------------------------------------------------------------
    def account_id(self, key: AccountKey | None) -> int | None:
        if key is None:
            return None
        if key.kind == AccountKind.EXPORT_NAME:  # names from one export mean nothing outside it
            key = AccountKey(key.platform, key.kind, f"S{self.source_id}:{key.value}")
        if len(key.value) > MAX_IDENTIFIER:  # hostile input: an identifier is never this long
            key = AccountKey(key.platform, key.kind, key.value[:MAX_IDENTIFIER])
        aid = self._accounts.get(key)
        if aid is not None:
            return aid
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
        self._accounts[key] = row
        return row

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
        if isinstance(rec, Account):
            self._queue(S.account_sightings, account_id=self.account_id(rec.key), source_id=sid, **_prov(rec.prov))
        elif isinstance(rec, AccountLink):
            self._queue(S.account_links, a_id=self.account_id(rec.a), b_id=self.account_id(rec.b),
                        basis=rec.basis, source_id=sid, **_prov(rec.prov))
        elif isinstance(rec, NameSeen):
            self._queue(S.names_seen, account_id=self.account_id(rec.account), name=rec.name[:500], kind=rec.kind,
                        source_id=sid, **_prov(rec.prov))
        elif isinstance(rec, DeviceOwner):
            self._queue(S.device_owners, source_id=sid, account_id=self.account_id(rec.account), basis=rec.basis,
                        **_prov(rec.prov))
        elif isinstance(rec, Group):
            self._queue(S.group_sightings, chat_id=self.chat_id(rec.chat), source_id=sid, name=rec.name,
                        created_at=_utc(rec.created_at), creator_id=self.account_id(rec.creator),
                        invite_code=rec.invite_code, **_prov(rec.prov))
        elif isinstance(rec, Participant):
            self._queue(S.participants, chat_id=self.chat_id(rec.chat), account_id=self.account_id(rec.account),
                        role=rec.role, current=rec.current, at=_utc(rec.at), source_id=sid, **_prov(rec.prov))
        elif isinstance(rec, GroupEvent):
            self._queue(S.group_events, chat_id=self.chat_id(rec.chat), kind=str(rec.kind), at=_utc(rec.at),
                        actor_id=self.account_id(rec.actor), target_id=self.account_id(rec.target),
                        raw_code=rec.raw_code, value=rec.value, old_value=rec.old_value, msg_key=rec.msg_key,
                        source_id=sid,
                        **_prov(rec.prov))
        elif isinstance(rec, Message):
            self._message(rec)
        elif isinstance(rec, Page):
            self._queue(S.pages, source_id=sid, uri=rec.uri, captured_at=_utc(rec.captured_at),
                        record_id=rec.record_id, title=(rec.title or "")[:1000] or None,
                        content_type=rec.content_type, language=rec.language,
                        resources=list(rec.resources) or None, **_prov(rec.prov))
        elif isinstance(rec, Indicator):
            self._queue(S.indicators, source_id=sid, kind=rec.kind, value=rec.value, raw=rec.raw[:2000],
                        context=rec.context[:1000], page_uri=rec.page_uri, platform=rec.platform, code=rec.code,
                        secret=rec.secret, at=_utc(rec.at), **_prov(rec.prov))
        elif isinstance(rec, MediaFile):
            self._media_file(rec, unit_primary)
        elif isinstance(rec, Problem):
            self.problem(rec.file, rec.reason, rec.severity, rec.prov.locator() if rec.prov else None)
        else:  # a format yielding something else is a bug in that format, not in the evidence
            raise TypeError(f"unknown record type {type(rec).__name__}")
        if len(self._pending) and max(len(v) for v in self._pending.values()) >= BATCH:
            self.flush()

    def problem(self, file: str, reason: str, severity: str = "error", locator: str | None = None) -> None:
        self.counts["Problem:" + severity] += 1
        self._queue(S.problems, source_id=self.source_id, stage=self.stage, file=file, reason=reason[:4000],
                    severity=severity, locator=locator, at=datetime.now(UTC))

    def _message(self, m: Message) -> None:
        values = dict(chat_id=self.chat_id(m.chat), msg_key=m.msg_key, sender_id=self.account_id(m.sender),
                      at=_utc(m.at), precision_s=m.time_precision_s, text=m.text, forwarded=m.forwarded,
                      from_owner=m.from_owner, raw_type=m.raw_type, source_id=self.source_id, **_prov(m.prov))
        if not m.media:
            self._queue(S.messages, **values)
            return
        media = []
        for ref in m.media:
            sha = self._files_by_relpath.get(ref.path) if ref.path else None
            declared = ref.sha256.lower() if ref.sha256 and _SHA256.fullmatch(ref.sha256.lower()) else None
            media.append(dict(sha256=sha or declared, relpath=ref.path, name=ref.name, size=ref.size, mime=ref.mime,
                              declared_only=sha is None and declared is not None))
        # messages with media wait for one batched INSERT ... RETURNING, whose ids their media rows then take
        self._media_messages.append((values, media))
        if len(self._media_messages) >= BATCH:
            self._flush_media_messages()

    def _flush_media_messages(self) -> None:
        if not self._media_messages:
            return
        batch, self._media_messages = self._media_messages, []
        ids = self.con.execute(insert(S.messages).returning(S.messages.c.id, sort_by_parameter_order=True),
                               [v for v, _ in batch]).scalars().all()
        rows = [dict(message_id=mid, **ref) for mid, (_, refs) in zip(ids, batch, strict=True) for ref in refs]
        if rows:
            self.con.execute(insert(S.message_media), rows)

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
    def _queue(self, table: Table, **values: Any) -> None:
        self._pending[table].append(values)

    def flush_table(self, table: Table) -> None:
        rows = self._pending.pop(table, None)
        if rows:
            self.con.execute(insert(table), rows)

    def flush(self) -> None:
        self._flush_media_messages()
        for table in list(self._pending):
            self.flush_table(table)
