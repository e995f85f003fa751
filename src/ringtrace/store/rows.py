"""A unit's records as row tuples, with no database: what a worker makes of the records it read, so that the one
writer only resolves references to accounts and chats and inserts.

``RowEncoder`` does the per-record work of writing: each record becomes a row of its table (``COLUMNS``) whose
references to accounts and chats are indices into ``refs`` (in the order of first use), its values already in the
form the SQLite driver stores when ``bind`` is asked (each column's own SQLAlchemy bind conversion). Rows queue and
leave as ops in the order they are to be inserted, in the same batches as ever (a queue full at ``BATCH`` rows
flushes every queue; messages with media wait in a queue of their own, flushed first), so the order of the
inserts, and so every row id, depends only on the records' order. Small tuples pickle far cheaper than records.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ringtrace.model import (
    Account,
    AccountKey,
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
from ringtrace.seal import LineRenderer, Unsure, ref_name
from ringtrace.vault import Digests

BATCH = 5000
_SHA256 = re.compile(r"[0-9a-f]{64}")

_PROV = ("prov_file", "prov_table", "prov_row", "prov_line")
# The columns of each table's rows, in the order the row tuples give them (provenance last where it is kept). The
# source's id is in none of them: a worker reads a unit before its source is stored, and the writer's INSERT gives
# it as a constant.
COLUMNS: dict[str, tuple[str, ...]] = {
    "account_sightings": ("account_id", *_PROV),
    "account_links": ("a_id", "b_id", "basis", *_PROV),
    "names_seen": ("account_id", "name", "kind", *_PROV),
    "device_owners": ("account_id", "basis", *_PROV),
    "group_sightings": ("chat_id", "name", "created_at", "creator_id", "invite_code", *_PROV),
    "participants": ("chat_id", "account_id", "role", "current", "at", *_PROV),
    "group_events": ("chat_id", "kind", "at", "actor_id", "target_id", "raw_code", "value", "old_value", "msg_key",
                     *_PROV),
    "messages": ("chat_id", "msg_key", "sender_id", "at", "precision_s", "text", "forwarded", "from_owner",
                 "raw_type", *_PROV),
    "message_media": ("message_id", "sha256", "relpath", "name", "size", "mime", "declared_only"),
    "pages": ("uri", "captured_at", "record_id", "title", "content_type", "language", "resources", *_PROV),
    "indicators": ("kind", "value", "raw", "context", "page_uri", "platform", "code", "secret", "at", *_PROV),
    "problems": ("stage", "file", "reason", "severity", "locator", "at"),
}
# Positions in those rows that hold a reference (an index into ``refs``, or None) to an account or a chat.
REFS: dict[str, tuple[int, ...]] = {
    "account_sightings": (0,), "account_links": (0, 1), "names_seen": (0,), "device_owners": (0,),
    "group_sightings": (0, 3), "participants": (0, 1), "group_events": (0, 3, 4), "messages": (0, 2),
}

# ops, in the order the writer carries them out
ROWS = 0  # (ROWS, table, rows): rows inserted in one batch
MEDIA = 1  # (MEDIA, message rows, per message its media, the messages' seal lines or None): messages inserted,
# their media rows take their ids
FILE = 2  # (FILE, path, Digests, origin_uri): a file embedded in a container, inventoried at once
# a message's media, as (path, declared sha256 or None, name, size, mime, late): ``late`` when an embedded file of
# this path was inventoried by this unit after the message was queued (the writer then ignores that file for it)
MediaRow = tuple[str | None, str | None, str | None, int | None, str | None, bool]
Op = tuple[Any, ...]
Ref = AccountKey | ChatRef


def _utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # a parser that forgot: treat as UTC rather than guess
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _prov(p: Prov | None) -> tuple[str, str | None, str | None, int | None]:
    if p is None:
        return ("", None, None, None)
    return (p.file, p.table, None if p.row is None else str(p.row), p.line)


_PROCS: dict[str, list[tuple[int, Callable[[Any], Any]]]] | None = None
_FUSED: Fused | None = None
_RENDERERS: dict[str, LineRenderer] = {}


def _renderer(table: str) -> LineRenderer:
    r = _RENDERERS.get(table)
    if r is None:
        r = _RENDERERS[table] = LineRenderer(table, COLUMNS[table], REFS.get(table, ()))
    return r


def sqlite_binds() -> dict[str, list[tuple[int, Callable[[Any], Any]]]]:
    """Per table: (position, bind conversion) of the columns the SQLite dialect converts (times, booleans, JSON)."""
    global _PROCS
    if _PROCS is None:
        from sqlalchemy.dialects import sqlite

        from ringtrace.store import schema as S

        dialect = sqlite.dialect()
        _PROCS = {}
        for name, cols in COLUMNS.items():
            table = S.metadata.tables[name]
            _PROCS[name] = [(i, proc) for i, c in enumerate(cols)
                            if (proc := table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    return _PROCS


# SQLite's DATETIME bind in its default storage format: what ``_time_bind`` writes without it
SQLITE_DATETIME_FORMAT = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"  # the same, by position


def _time_binder(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``proc(_utc(v))`` in one step for SQLAlchemy's SQLite DATETIME bind ``proc`` (default storage format): the
    same format from a tuple instead of a dict, of the fields of the time in UTC (a naive time is taken as UTC:
    its own fields). Anything but a plain datetime goes through ``_utc`` and ``proc``."""
    def bind(v: Any) -> Any:
        if v is None:
            return None
        if v.__class__ is datetime:
            if v.tzinfo is not None:
                v = v.astimezone(UTC)
            return _DATETIME % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
        return proc(_utc(v))
    return bind


def _bool_binder(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLAlchemy's Boolean bind ``proc`` where the database has no booleans (True -> 1, False -> 0), the bools
    without its calls; anything else through it (None, 0/1 it takes, the errors it raises)."""
    def bind(v: Any) -> Any:
        return 1 if v is True else 0 if v is False else proc(v)
    return bind


class Fused(NamedTuple):
    time: Callable[[Any], Any]  # a time column's value -> what SQLite's bind gives of ``_utc`` of it
    bool: Callable[[Any], Any]  # a Boolean column's value -> what SQLite's bind gives of it
    rest: dict[str, list[tuple[int, Callable[[Any], Any]]]]  # ``sqlite_binds`` less the time and Boolean columns


def fused_binds() -> Fused | None:
    """Conversions that make times and booleans what their columns' SQLite binds give, applied where the rows are
    built, or None: then rows keep their values and ``sqlite_binds`` converts them as before. Chosen by the
    columns' types: every DateTime column of ``COLUMNS`` must be the SQLite dialect's DATETIME in its default
    storage format, every Boolean one SQLAlchemy's Boolean on a dialect without booleans."""
    global _FUSED
    if _FUSED is None:
        from sqlalchemy import Boolean, DateTime
        from sqlalchemy.dialects import sqlite

        from ringtrace.store import schema as S

        dialect = sqlite.dialect()
        time_proc = bool_proc = None
        ok = not dialect.supports_native_boolean
        fused: dict[str, set[int]] = {}
        for name, cols in COLUMNS.items():
            for i, c in enumerate(cols):
                typ = S.metadata.tables[name].c[c].type
                impl = typ.dialect_impl(dialect)
                if isinstance(typ, DateTime):
                    ok = ok and (type(impl) is sqlite.DATETIME
                                 and getattr(impl, "_storage_format", None) == SQLITE_DATETIME_FORMAT)
                    time_proc = time_proc or impl.bind_processor(dialect)
                elif isinstance(typ, Boolean):
                    ok = ok and type(impl) is Boolean
                    bool_proc = bool_proc or impl.bind_processor(dialect)
                else:
                    continue
                fused.setdefault(name, set()).add(i)
        if not ok or time_proc is None or bool_proc is None:
            return None
        rest = {t: [(i, p) for i, p in procs if i not in fused.get(t, ())] for t, procs in sqlite_binds().items()}
        _FUSED = Fused(_time_binder(time_proc), _bool_binder(bool_proc), rest)
    return _FUSED


def _same(v: Any) -> Any:
    return v


class RowEncoder:
    """One unit's records into ops (see the module). ``take`` hands over the refs and ops made since the last take:
    a writer in the same process takes them as they come (nothing of the unit held), a worker once at the end.

    With ``bind`` (SQLite) each row is also rendered as its seal line (ringtrace.seal), so the writer need not read
    the rows back to seal the source: ``lines`` per table, or None where a value's stored form is not certain."""

    def __init__(self, stage: str, unit_primary: str, bind: bool,
                 store_embedded: Callable[[bytes], Digests] | None) -> None:
        self.stage = stage
        self.unit_primary = unit_primary
        self.store_embedded = store_embedded  # for media inside containers
        self.refs: list[Ref] = []
        self._index: dict[Ref, int] = {}
        self.ops: list[Op] = []
        self._taken_refs = 0
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self._full = False
        self._media: list[tuple[tuple[Any, ...], list[tuple[str | None, str | None, str | None, int | None,
                                                            str | None]], int]] = []
        self._embedded: dict[str, int] = {}  # path of an embedded file inventoried by this unit -> its FILE op's number
        self._files = 0  # FILE ops so far
        self.counts: dict[str, int] = defaultdict(int)
        # times and booleans bound as the rows are built where that is exactly SQLAlchemy's bind (``fused_binds``),
        # ``_bound`` then converting only the other columns (JSON); else all of them there, as ever
        fused = fused_binds() if bind else None
        self._t: Callable[[Any], Any] = fused.time if fused else _utc
        self._b: Callable[[Any], Any] = fused.bool if fused else _same
        self._binds = fused.rest if fused else sqlite_binds() if bind else {}
        self.lines: dict[str, list[str]] | None = {} if bind else None
        self._names: list[str] = []  # the natural keys of refs, as far as rendered

    def ref(self, key: Ref | None) -> int | None:
        if key is None:
            return None
        i = self._index.get(key)
        if i is None:
            i = self._index[key] = len(self.refs)
            self.refs.append(key)
        return i

    def take(self) -> tuple[list[Ref], list[Op]]:
        refs, ops = self.refs[self._taken_refs:], self.ops
        self._taken_refs, self.ops = len(self.refs), []
        return refs, ops

    # ---- records ------------------------------------------------------------------------------------------
    def add(self, rec: Record) -> None:
        self.counts[type(rec).__name__] += 1
        r, t = self.ref, self._t
        if isinstance(rec, Message):
            self._message(rec)
        elif isinstance(rec, Indicator):
            self._queue("indicators", (rec.kind, rec.value, rec.raw[:2000], rec.context[:1000], rec.page_uri,
                                       rec.platform, rec.code, rec.secret, t(rec.at), *_prov(rec.prov)))
        elif isinstance(rec, Account):
            self._queue("account_sightings", (r(rec.key), *_prov(rec.prov)))
        elif isinstance(rec, AccountLink):
            self._queue("account_links", (r(rec.a), r(rec.b), rec.basis, *_prov(rec.prov)))
        elif isinstance(rec, NameSeen):
            self._queue("names_seen", (r(rec.account), rec.name[:500], rec.kind, *_prov(rec.prov)))
        elif isinstance(rec, DeviceOwner):
            self._queue("device_owners", (r(rec.account), rec.basis, *_prov(rec.prov)))
        elif isinstance(rec, Group):
            self._queue("group_sightings", (r(rec.chat), rec.name, t(rec.created_at), r(rec.creator),
                                            rec.invite_code, *_prov(rec.prov)))
        elif isinstance(rec, Participant):
            self._queue("participants", (r(rec.chat), r(rec.account), rec.role, self._b(rec.current), t(rec.at),
                                         *_prov(rec.prov)))
        elif isinstance(rec, GroupEvent):
            self._queue("group_events", (r(rec.chat), str(rec.kind), t(rec.at), r(rec.actor), r(rec.target),
                                         rec.raw_code, rec.value, rec.old_value, rec.msg_key, *_prov(rec.prov)))
        elif isinstance(rec, Page):
            self._queue("pages", (rec.uri, t(rec.captured_at), rec.record_id, (rec.title or "")[:1000] or None,
                                  rec.content_type, rec.language, list(rec.resources) or None, *_prov(rec.prov)))
        elif isinstance(rec, MediaFile):
            self._media_file(rec)
        elif isinstance(rec, Problem):
            self.problem(rec.file, rec.reason, rec.severity, rec.prov.locator() if rec.prov else None)
        else:  # a format yielding something else is a bug in that format, not in the evidence
            raise TypeError(f"unknown record type {type(rec).__name__}")
        if self._full:
            self.flush()

    def problem(self, file: str, reason: str, severity: str = "error", locator: str | None = None) -> None:
        self.counts["Problem:" + severity] += 1
        self._queue("problems", (self.stage, file, reason[:4000], severity, locator, self._t(datetime.now(UTC))))

    def _message(self, m: Message) -> None:
        r, b = self.ref, self._b
        row = (r(m.chat), m.msg_key, r(m.sender), self._t(m.at), m.time_precision_s, m.text, b(m.forwarded),
               b(m.from_owner), m.raw_type, *_prov(m.prov))
        if not m.media:
            self._queue("messages", row)
            return
        media = []
        for ref in m.media:
            declared = ref.sha256.lower() if ref.sha256 and _SHA256.fullmatch(ref.sha256.lower()) else None
            media.append((ref.path, declared, ref.name, ref.size, ref.mime))
        # messages with media wait for one batch, whose ids their media rows then take
        self._media.append((row, media, self._files))
        if len(self._media) >= BATCH:
            self._flush_media()

    def _flush_media(self) -> None:
        if not self._media:
            return
        batch, self._media = self._media, []
        emb = self._embedded
        media: list[list[MediaRow]] = [
            [(p, d, n, s, mt, p is not None and emb.get(p, -1) >= files) for p, d, n, s, mt in refs]
            for _, refs, files in batch]
        rows = self._bound("messages", [r for r, _, _ in batch])
        self.ops.append((MEDIA, rows, media, self._render("messages", rows)))

    def _media_file(self, mf: MediaFile) -> None:
        if mf.content is None or self.store_embedded is None:
            return  # plain files of the exhibit are already inventoried at intake
        d = self.store_embedded(mf.content)
        self._embedded.setdefault(mf.path, self._files)
        self._files += 1
        self.ops.append((FILE, mf.path, d, (mf.origin_uri or "")[:4096] or None))

    # ---- batching -----------------------------------------------------------------------------------------
    def _bound(self, table: str, rows: list[tuple[Any, ...]]) -> list[Any]:
        procs = self._binds.get(table)
        if not procs:
            return rows
        out = []
        for row in rows:
            r = list(row)
            for i, proc in procs:
                r[i] = proc(r[i])
            out.append(r)
        return out

    def _queue(self, table: str, row: tuple[Any, ...]) -> None:
        rows = self._pending.get(table)
        if rows is None:
            rows = self._pending[table] = []
        rows.append(row)
        if len(rows) >= BATCH:
            self._full = True

    def flush(self) -> None:
        self._flush_media()
        for table in list(self._pending):
            rows = self._pending.pop(table)
            if rows:
                bound = self._bound(table, rows)
                self._render(table, bound)
                self.ops.append((ROWS, table, bound))
        self._full = False

    def _render(self, table: str, rows: list[Any]) -> list[str] | None:
        """The seal lines of rows just bound (kept in ``lines``), or None once a value was not certain."""
        if self.lines is None:
            return None
        try:
            names = self._names
            for k in self.refs[len(names):]:
                names.append(ref_name(k))
            out = _renderer(table).lines(rows, names)
        except Unsure:
            self.lines = None
            return None
        self.lines.setdefault(table, []).extend(out)
        return out
