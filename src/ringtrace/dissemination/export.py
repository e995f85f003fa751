"""The JSON export, contract version 1 (docs/export.md, schema in export_schema.json).

It reads the evidence tables and the analysis tables and writes one document. Times are ISO 8601 UTC with a
``Z``. Every list is sorted so that the same case gives the same bytes.

``write_export`` streams: each list item is written as it is read from the database (the messages, which grow
with the case, are never all in memory), and the bytes are exactly those of
``json.dumps(build_export(...), indent=1, ensure_ascii=False) + "\n"``. ``build_export`` returns the same document
in memory for the callers that need it (the package maker, the report, the CASE/UCO export, the read views).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO, Final, TextIO

import msgspec
from sqlalchemy import ColumnElement, Connection, Text, select, type_coerce

from ringtrace import TOOL
from ringtrace.analysis.invites import code_current_at, looks_like_code
from ringtrace.case import Case
from ringtrace.dissemination import precomputed
from ringtrace.dissemination.export_types import (
    ExportDoc,
    FirstShared,
    Group,
    Indicator,
    InviteLink,
    Match,
    Media,
    MediaFile,
    Message,
    Person,
    Sighting,
    Source,
)
from ringtrace.model import Prov
from ringtrace.sources.base import canonical_format
from ringtrace.store import schema as S

EXPORT_VERSION: Final = 1
SCHEMA_PATH = Path(__file__).with_name("export_schema.json")


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def mask_secret(s: str | None) -> str | None:
    if not s:
        return s
    return s[:4] + "…" + "•" * 6


# SQLAlchemy's SQLite DATETIME storage format (naive, UTC by the writer's convention): the text is turned into the
# ISO form directly, without a datetime object per row; anything else goes through the column type and ``iso``.
_STORED_DT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def _raw_time(col: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as the database gives it (text on SQLite; a datetime where the driver makes one)."""
    return type_coerce(col, Text).label(col.key)


def _iso_reader(con: Connection, col: ColumnElement[Any]) -> Callable[[Any], str | None]:
    """``iso`` of a ``_raw_time`` value, equal to ``iso`` of the value the column type would have returned."""
    processor = col.type.dialect_impl(con.dialect).result_processor(con.dialect, None)
    match = _STORED_DT.fullmatch
    last: tuple[Any, str | None] = (None, None)  # rows come in time order: copies of a message follow each other

    def read(v: Any) -> str | None:
        nonlocal last
        if v.__class__ is str:
            if v == last[0]:
                return last[1]
            out: str | None
            if len(v) == 26 and match(v):
                out = v[:10] + "T" + v[11:19] + ("Z" if v.endswith(".000000") else v[19:] + "Z")
            else:
                out = iso(processor(v) if processor is not None else datetime.fromisoformat(v))
            last = (v, out)
            return out
        return iso(v)

    return read


class _Ctx:
    """Lookups shared by the sections: accounts -> persons, chats -> groups, sources -> exhibits."""

    def __init__(self, con: Connection) -> None:
        self.con = con
        self.exhibit = {r.id: r.exhibit for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
        self.person_label = {r.id: r.label for r in con.execute(select(S.persons.c.id, S.persons.c.label))}
        self.account_person: dict[int, int] = {
            r.account_id: r.person_id for r in con.execute(select(S.person_accounts))}
        self.group_label = {r.id: r.label for r in con.execute(select(S.groups.c.id, S.groups.c.label))}
        self.chat_group: dict[int, int] = {r.chat_id: r.group_id for r in con.execute(select(S.group_chats))}
        self.account_label: dict[int, str] = {a: self.person_label[p] for a, p in self.account_person.items()
                                               if p in self.person_label}  # person_of, one lookup
        self.chat_label: dict[int, str] = {c: self.group_label[g] for c, g in self.chat_group.items()
                                           if g in self.group_label}  # group_of, one lookup

    @cached_property
    def code_ties(self) -> dict[tuple[str, str], Any]:
        """Invite code -> group, from device evidence only (analysis.invites)."""
        from ringtrace.analysis.invites import tie_invite_codes

        return tie_invite_codes(self.con)

    @cached_property
    def resets(self) -> dict[int, list[datetime]]:
        from ringtrace.analysis.invites import group_resets

        return group_resets(self.con, self.chat_group)

    def person_of(self, account_id: int | None) -> str | None:
        if account_id is None:
            return None
        pid = self.account_person.get(account_id)
        return self.person_label.get(pid) if pid is not None else None

    def group_of(self, chat_id: int | None) -> str | None:
        if chat_id is None:
            return None
        gid = self.chat_group.get(chat_id)
        return self.group_label.get(gid) if gid is not None else None


def _locator(r: Any) -> str:
    """A stored row's provenance, written as everywhere else (``Prov.locator``)."""
    return Prov(r.prov_file, r.prov_table, r.prov_row, r.prov_line).locator()


def _document(con: Connection, case: Case, with_messages: bool, include_secrets: bool
              ) -> tuple[list[tuple[str, Any]], list[tuple[str, Iterable[Any]]]]:
    """The document's leading keys and values, then its lists in order, each one an iterable of its items read
    from the database as they are consumed (on this connection, one list after the other)."""
    ctx = _Ctx(con)
    head: list[tuple[str, Any]] = [("export_version", EXPORT_VERSION), ("case", case.name),
                                   ("generated_at", iso(datetime.now(UTC))), ("tool", TOOL)]
    lists: list[tuple[str, Iterable[Any]]] = [
        ("sources", _Lazy(lambda: _sources(con))), ("persons", _Lazy(lambda: _persons(con))),
        ("groups", _Lazy(lambda: _groups(con, ctx))),
        ("media", _Lazy(lambda: _media(con, ctx))),
        ("invite_links", _Lazy(lambda: _invite_links(con, ctx, include_secrets))),
        ("indicators", _Lazy(lambda: _indicators(con, ctx, include_secrets)))]
    if with_messages:
        lists.append(("messages", _Lazy(lambda: map(_message_dict, _message_rows(con, ctx)),
                                        lambda: map(_message_json, _message_rows(con, ctx)))))
    return head, lists


class _Lazy:
    """A section read only when it is iterated, so that the lists before it are written (and freed) first;
    ``texts``, where given, makes the items' JSON text straight from the rows (``iter_json`` uses it)."""

    def __init__(self, make: Callable[[], Iterable[Any]], texts: Callable[[], Iterable[str]] | None = None) -> None:
        self.make = make
        self.texts = texts

    def __iter__(self) -> Iterator[Any]:
        return iter(self.make())


def build_export(case: Case, with_messages: bool = False, include_secrets: bool = False) -> ExportDoc:
    """The whole document in memory (``write_export`` writes the same bytes without holding it)."""
    with case.engine.connect() as con:
        head, lists = _document(con, case, with_messages, include_secrets)
        doc: dict[str, Any] = dict(head)
        for key, items in lists:
            doc[key] = list(items)
    return doc  # type: ignore[return-value]  # the keys of ExportDoc, built by _document


def scoped_export(con: Connection, case: Case, keep_media: Callable[[Media], bool]
                  ) -> tuple[dict[str, Any], Callable[[], Iterator[Message]]]:
    """Part of the document, for a reader that needs only some of it (a country's package): the small lists
    (sources, persons, groups, invite links) whole, the media that ``keep_media`` keeps, and the messages as a
    function that streams them again each time it is called, on ``con``, item for item those of
    ``build_export(case, with_messages=True)``. No indicators. The messages are never all in memory."""
    ctx = _Ctx(con)
    doc: dict[str, Any] = {"case": case.name, "tool": TOOL, "sources": _sources(con), "persons": _persons(con),
                           "groups": _groups(con, ctx)}
    doc["media"] = [m for m in _media(con, ctx) if keep_media(m)]
    doc["invite_links"] = _invite_links(con, ctx, False)
    return doc, lambda: _messages(con, ctx)


def write_export(case: Case, out: Path, with_messages: bool = False, include_secrets: bool = False) -> Path:
    """Write the export to ``out`` as a stream: the same bytes as ``json.dumps(build_export(...), indent=1,
    ensure_ascii=False) + "\\n"``, each list item written as it is read (the file appears whole or not at all).
    Without messages or secrets (the default), the lists come from the stored export view when it is this case
    version's (``_stored_lists``), so the export costs what writing the text costs."""
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    counts: dict[str, int] = {}
    try:
        with case.engine.connect() as con, part.open("w", encoding="utf-8") as f:
            head, lists = _document(con, case, with_messages, include_secrets)
            if not with_messages and not include_secrets:
                lists = _stored_lists(con, case, lists)
            _write_chunks(f, iter_json(head, lists, counts))
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    case.log("export.json", {"path": str(out), "with_messages": with_messages, "persons": counts["persons"],
                             "groups": counts["groups"], "media": counts["media"]})
    return out


def _stored_lists(con: Connection, case: Case, lists: list[tuple[str, Iterable[Any]]]
                  ) -> list[tuple[str, Iterable[Any]]]:
    """The lists of the export view that ``ringtrace run`` stored for this very case version (``precomputed``:
    the document without messages or secrets), in place of reading them again; ``lists`` when there is none, or
    when it was written by another version of the tool. The leading keys (the time of writing) stay fresh."""
    stored = precomputed.Stored.open(case.path, precomputed.fingerprint(con))
    ok, doc = stored.get("export") if stored is not None else (False, None)
    if (not ok or not isinstance(doc, dict) or doc.get("export_version") != EXPORT_VERSION
            or doc.get("tool") != TOOL or not all(isinstance(doc.get(key), list) for key, _ in lists)):
        return lists
    return [(key, doc[key]) for key, _ in lists]


# ---- the document as text, exactly as json.dumps(doc, indent=1, ensure_ascii=False) writes it ---------------------

_enc: Callable[[str], str] = json.encoder.encode_basestring  # what dumps(ensure_ascii=False) calls (C)


def _write_chunks(f: TextIO, chunks: Iterable[str], batch: int = 2048) -> None:
    """Text made a small piece at a time, written a batch of pieces at a time."""
    buf: list[str] = []
    for chunk in chunks:
        buf.append(chunk)
        if len(buf) >= batch:
            f.write("".join(buf))
            buf.clear()
    f.write("".join(buf))


def write_json(o: Any, out: Path, sort_keys: bool = False) -> Path:
    """``out.write_text(json.dumps(o, indent=1, ensure_ascii=False, sort_keys=sort_keys) + "\n")``, a tenth of
    its time: msgspec encodes and indents in C (json's encoder is pure Python once ``indent`` is given) and
    each item of a top-level list is written as it is made (a package's JSON-LD runs to hundreds of MB). The
    same bytes, but for what json.dumps writes wrongly or not at all: NaN and infinities are null, floats
    with an exponent are written 1e16 (not 1e+16). Where msgspec cannot (keys that are no text; unsorted keys,
    since msgspec sorts or keeps order only as a whole), json's own encoder writes it."""
    if sort_keys:
        try:
            with out.open("wb") as f:
                _write_msgspec(o, f)
            return out
        except (TypeError, ValueError, UnicodeEncodeError, msgspec.EncodeError):
            pass  # written again below, from the start
    with out.open("w", encoding="utf-8") as t:
        _write_chunks(t, json.JSONEncoder(indent=1, ensure_ascii=False, sort_keys=sort_keys).iterencode(o), 8192)
        t.write("\n")
    return out


def _write_msgspec(o: Any, f: BinaryIO) -> None:
    """``json.dumps(o, indent=1, ensure_ascii=False, sort_keys=True) + "\n"`` as bytes, by msgspec."""

    def text(v: Any, level: int) -> bytes:
        b = msgspec.json.format(msgspec.json.encode(v, order="sorted"), indent=1)
        return b.replace(b"\n", b"\n" + b" " * level) if level else b  # raw line breaks are the layout's

    if not isinstance(o, dict) or not o:
        f.write(text(o, 0) + b"\n")
        return
    if not all(isinstance(k, str) for k in o):
        raise TypeError("keys that are no text")
    f.write(b"{")
    for i, k in enumerate(sorted(o)):
        v = o[k]
        f.write((b",\n " if i else b"\n ") + msgspec.json.encode(k) + b": ")
        if isinstance(v, list) and v:
            f.write(b"[")
            for j, item in enumerate(v):
                f.write((b",\n  " if j else b"\n  ") + text(item, 2))
            f.write(b"\n ]")
        else:
            f.write(text(v, 1))
    f.write(b"\n}\n")


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == math.inf:
        return "Infinity"
    if o == -math.inf:
        return "-Infinity"
    return float.__repr__(o)


def _key(k: Any) -> str:
    if isinstance(k, str):
        return _enc(k)
    if isinstance(k, float):
        return _enc(_float(k))
    if k is True:
        return '"true"'
    if k is False:
        return '"false"'
    if k is None:
        return '"null"'
    if isinstance(k, int):
        return _enc(int.__repr__(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def dump_json(o: Any, pad: str = "\n") -> str:
    """``json.dumps(o, indent=1, ensure_ascii=False)`` for a value written at the indent ``pad`` (a newline and
    one space a level), without the generator chain of the pure-Python encoder that ``indent`` falls back to."""
    if isinstance(o, str):
        return _enc(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _float(o)
    inner = pad + " "
    if isinstance(o, (list, tuple)):
        if not o:
            return "[]"
        return "[" + inner + ("," + inner).join([dump_json(v, inner) for v in o]) + pad + "]"
    if isinstance(o, dict):
        if not o:
            return "{}"
        return ("{" + inner + ("," + inner).join([_key(k) + ": " + dump_json(v, inner) for k, v in o.items()])
                + pad + "}")
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


_ITEM = "\n  "  # a list item of the document: level 2


def _message_json(r: _MessageRow) -> str:
    """``dump_json(_message_dict(r), _ITEM)``, written from a template: the hot path of an export with messages.
    Text goes through ``json.dumps``' own string encoder; a value of any other type than the reader's (text,
    None, a list of text) through ``dump_json``."""
    e, d = _enc, dump_json
    p3, p4 = "\n   ", "\n    "
    kind, group, key, sender, at, text, media, forwarded, source, location, ev = r
    parts = ["{\n   \"chat\": {\n    \"kind\": ", e(kind) if kind.__class__ is str else d(kind, p4),
             ",\n    \"group\": ", e(group) if group.__class__ is str else d(group, p4),
             ",\n    \"key\": ", e(key) if key.__class__ is str else d(key, p4),
             "\n   },\n   \"sender\": ", e(sender) if sender.__class__ is str else d(sender, p3),
             ",\n   \"at\": ", e(at) if at.__class__ is str else d(at, p3)]
    if ev is None:
        parts.append(',\n   "kind": "message",\n   "text": ')
    else:
        ekind, raw_code, target, value = ev
        parts += [',\n   "kind": "event",\n   "event": {\n    "kind": ',
                  e(ekind) if ekind.__class__ is str else d(ekind, p4),
                  ",\n    \"raw_code\": ", e(raw_code) if raw_code.__class__ is str else d(raw_code, p4),
                  ",\n    \"target\": ", e(target) if target.__class__ is str else d(target, p4),
                  ",\n    \"value\": ", e(value) if value.__class__ is str else d(value, p4), "\n   },\n   \"text\": "]
    parts += [e(text) if text.__class__ is str else d(text, p3), ",\n   \"media\": ",
              "[]" if media.__class__ is list and not media else d(media, p3),
              ",\n   \"forwarded\": ",
              "true" if forwarded is True else "false" if forwarded is False else d(forwarded, p3),
              ",\n   \"source\": ", e(source) if source.__class__ is str else d(source, p3),
              ",\n   \"location\": ", e(location) if location.__class__ is str else d(location, p3), "\n  }"]
    return "".join(parts)


def iter_json(head: list[tuple[str, Any]], lists: list[tuple[str, Iterable[Any]]],
              counts: dict[str, int] | None = None) -> Iterator[str]:
    """The text of the document ``dict(head) | {key: list(items) ...}`` in pieces, each list item formatted as
    it comes; ``counts`` gets the number of items of each list."""
    yield "{"
    sep = "\n "
    for key, value in head:
        yield sep + _key(key) + ": " + dump_json(value, "\n ")
        sep = ",\n "
    for key, items in lists:
        texts = getattr(items, "texts", None)
        yield sep + _key(key) + ": "
        sep = ",\n "
        n = 0
        for t in texts() if texts is not None else (dump_json(o, _ITEM) for o in items):
            yield ("[" if n == 0 else ",") + _ITEM + t
            n += 1
        yield "\n ]" if n else "[]"
        if counts is not None:
            counts[key] = n
    yield "\n}\n"


# ---- sections --------------------------------------------------------------------------------------------------


def _sources(con: Connection) -> list[Source]:
    fmts: dict[int, set[str]] = defaultdict(set)
    for r in con.execute(select(S.source_files.c.source_id, S.source_files.c.format)
                         .where(S.source_files.c.format.is_not(None))):
        fmts[r.source_id].add(canonical_format(r.format))  # a case read before the ids were renamed
    out: list[Source] = []
    # exhibit numbers are unique and given by the examiner: the order does not depend on ingest order or row ids
    for r in con.execute(select(S.sources).order_by(S.sources.c.exhibit, S.sources.c.id)):
        out.append({"id": r.id, "exhibit": r.exhibit, "kind": r.kind, "path": r.original_path, "sha256": r.sha256,
                    "md5": r.md5, "size": r.size, "files": r.file_count, "mode": r.mode,
                    "formats": sorted(fmts[r.id]), "timezone": r.timezone, "owner": r.owner,
                    "seizure_country": r.seizure_country, "examiner": r.examiner,
                    "ingested_at": iso(r.ingested_at)})
    return out


def _persons(con: Connection) -> list[Person]:
    accounts: dict[int, list[Any]] = defaultdict(list)
    q = select(S.person_accounts.c.person_id, S.accounts).join(S.accounts,
                                                                S.accounts.c.id == S.person_accounts.c.account_id)
    acc_ids: dict[int, list[int]] = defaultdict(list)
    for r in con.execute(q):
        accounts[r.person_id].append(r)
        acc_ids[r.person_id].append(r.id)
    names_by_account: dict[int, set[str]] = defaultdict(set)
    for r in con.execute(select(S.names_seen.c.account_id, S.names_seen.c.name)):
        names_by_account[r.account_id].add(r.name)
    out: list[Person] = []
    for p in con.execute(select(S.persons).order_by(S.persons.c.label)):
        accs = accounts[p.id]
        phones = sorted({a.value for a in accs if a.kind == "phone"})
        names = sorted({n for aid in acc_ids[p.id] for n in names_by_account[aid]})
        out.append({
            "id": p.label, "phones": phones,
            "accounts": sorted(({"platform": a.platform, "kind": a.kind, "value": a.value} for a in accs),
                               key=lambda a: (a["platform"], a["kind"], a["value"])),
            "names": names, "country": p.country, "country_basis": p.country_basis,
            "country_confidence": p.country_confidence,
        })
    return out


def _groups(con: Connection, ctx: _Ctx) -> list[Group]:
    chats_of: dict[int, list[int]] = defaultdict(list)
    for chat_id, gid in ctx.chat_group.items():
        chats_of[gid].append(chat_id)
    chat_rows = {r.id: r for r in con.execute(select(S.chats))}
    sightings: dict[int, list[Any]] = defaultdict(list)
    for r in con.execute(select(S.group_sightings)):
        sightings[r.chat_id].append(r)
    events: dict[int, list[Any]] = defaultdict(list)  # link joins: the codes they recorded
    for r in con.execute(select(S.group_events).where(S.group_events.c.kind == "joined_link")):
        events[r.chat_id].append(r)
    members: dict[int, list[Any]] = defaultdict(list)
    for r in con.execute(select(S.memberships).order_by(S.memberships.c.from_at, S.memberships.c.to_at,
                                                         S.memberships.c.joined_via, S.memberships.c.invite_code)):
        members[r.group_id].append(r)
    msg_count: dict[int, int] = defaultdict(int)
    media_count: dict[int, int] = defaultdict(int)
    msg_sources: dict[int, set[int]] = defaultdict(set)
    for r in con.execute(select(S.messages.c.chat_id, S.messages.c.source_id).distinct()):
        msg_sources[r.chat_id].add(r.source_id)
    for gid, chats in chats_of.items():
        placeholders = ",".join(str(int(c)) for c in chats)
        # two counts, not one over the messages' left join with their media: the messages alone are read from
        # the chat index, and only those with media are joined (a third less CPU on a medium case)
        msg_count[gid] = con.exec_driver_sql(
            "SELECT count(DISTINCT coalesce(m.msg_key, 'r' || m.id)) FROM messages m "
            f"WHERE m.chat_id IN ({placeholders})").scalar_one()
        media_count[gid] = con.exec_driver_sql(
            "SELECT count(DISTINCT mm.sha256) FROM messages m JOIN message_media mm ON mm.message_id = m.id "
            f"WHERE m.chat_id IN ({placeholders})").scalar_one()
    out: list[Group] = []
    for g in con.execute(select(S.groups).order_by(S.groups.c.label)):
        chats = sorted(chats_of[g.id])
        names: dict[tuple[str | None, str], None] = {}
        codes: set[str] = set()
        srcs: set[int] = set()
        for c in chats:
            for s in sightings[c]:
                srcs.add(s.source_id)
                if s.invite_code:
                    codes.add(s.invite_code)
            for e in events[c]:
                if e.kind == "joined_link" and looks_like_code(g.platform, e.value):
                    codes.add(e.value)
            srcs |= msg_sources[c]
        # names over time come from the analysis, which folds one rename seen by several devices into one entry
        detail = g.detail or {}
        for n in detail.get("names", []):
            if isinstance(n, dict) and n.get("name"):
                at = n.get("at")
                names[(iso(datetime.fromisoformat(at)) if isinstance(at, str) else None, n["name"])] = None
        if not names:
            for c in chats:
                for s in sightings[c]:
                    if s.name:
                        names[(None, s.name)] = None
        mem_rows = members[g.id]
        codes.update(code for (_plat, code), tie in ctx.code_ties.items() if tie.group_id == g.id)
        by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
        admins = set()
        for m in mem_rows:
            label = ctx.person_label.get(m.person_id)
            if label is None:
                continue
            # a join's recorded value that is no code (an inviter's name) says nothing about the link
            code = m.invite_code if looks_like_code(g.platform, m.invite_code) else None
            if code is None and m.joined_via == "invite_link":  # the code current when they joined, if known
                code = code_current_at(ctx.code_ties, g.id, m.from_at, ctx.resets.get(g.id, ()))
            by_person[label].append({"from": iso(m.from_at), "to": iso(m.to_at), "joined_via": m.joined_via,
                                     "invite_code": code})
            if m.role in ("admin", "superadmin", "creator"):
                admins.add(label)
            if code:
                codes.add(code)
        out.append({
            "id": g.label, "platform": g.platform,
            "identifiers": sorted({chat_rows[c].key for c in chats}),
            "names": [{"at": at, "name": n} for at, n in sorted(names, key=lambda x: (x[0] or "", x[1]))],
            "created_at": iso(g.created_at),
            "creator": ctx.person_label.get(g.creator_person_id) if g.creator_person_id else None,
            "admins": sorted(admins),
            "members": [
                {"person": p, "intervals": [{"from": iv["from"], "to": iv["to"]} for iv in ivs],
                 "joined_via": sorted({iv["joined_via"] for iv in ivs if iv["joined_via"]}),
                 "joined_via_invite_link": sorted({iv["invite_code"] for iv in ivs
                                                   if iv["joined_via"] == "invite_link" and iv["invite_code"]})
                 or (True if any(iv["joined_via"] == "invite_link" for iv in ivs) else None)}
                for p, ivs in sorted(by_person.items())
            ],
            "invite_codes": sorted(codes),
            "message_count": msg_count[g.id], "media_count": media_count[g.id],
            "sources": sorted(ctx.exhibit[s] for s in srcs if s in ctx.exhibit),
            "conflicts": detail.get("conflicts", []),
        })
    return out


def _media(con: Connection, ctx: _Ctx) -> Iterator[Media]:
    # every table read once, in bulk, as plain rows (the files, matches and sharers of 10^5 media)
    files: dict[str, list[MediaFile]] = defaultdict(list)
    d = S.disk_files
    times = [_iso_reader(con, c) for c in (d.c.mtime, d.c.atime, d.c.ctime, d.c.crtime)]
    places = {(r[0], r[1]): r[2:] for r in _stream(con, select(
        d.c.source_id, d.c.relpath, d.c.partition, d.c.fs_type, d.c.fs_path, d.c.inode, d.c.deleted, d.c.media_offset,
        _raw_time(d.c.mtime), _raw_time(d.c.atime), _raw_time(d.c.ctime), _raw_time(d.c.crtime)))}
    exhibit = ctx.exhibit
    sf = S.source_files
    for sha, source_id, relpath in _stream(con, select(sf.c.sha256, sf.c.source_id, sf.c.relpath)):
        f: MediaFile = {"source": exhibit[source_id], "path": relpath}
        pl = places.get((source_id, relpath))
        if pl is not None:
            part, fs_type, fs_path, inode, deleted, offset, mt, at, ct, cr = pl
            f["place"] = {"partition": part, "fs_type": fs_type, "fs_path": fs_path, "inode": inode,
                          "deleted": bool(deleted), "media_offset": offset, "mtime": times[0](mt),
                          "atime": times[1](at), "ctime": times[2](ct), "crtime": times[3](cr)}
        files[sha].append(f)
    hs_name = {r.id: r.name for r in con.execute(select(S.hashsets.c.id, S.hashsets.c.name))}
    matches: dict[str, list[Match]] = defaultdict(list)
    mt_, he = S.matches, S.hash_entries
    q = (select(mt_.c.media_sha256, mt_.c.hashset_id, mt_.c.entry_id, mt_.c.method, mt_.c.distance, he.c.category,
                he.c.raw_id, he.c.series).join(he, he.c.id == mt_.c.entry_id))
    for sha, hs, entry_id, method, distance, category, raw_id, series in _stream(con, q):
        matches[sha].append({"hashset": hs_name.get(hs), "entry": raw_id or str(entry_id), "method": method,
                             "distance": distance, "category": category, "series": series})
    shared_by: dict[str, set[str]] = defaultdict(set)
    shared_in: dict[str, set[str]] = defaultdict(set)
    person, group = ctx.account_label.get, ctx.chat_label.get
    for sha, sender, chat in _stream(con, select(S.message_media.c.sha256, S.messages.c.sender_id,
                                                 S.messages.c.chat_id)
                                     .join(S.messages, S.messages.c.id == S.message_media.c.message_id)
                                     .where(S.message_media.c.sha256.is_not(None))):
        p = person(sender)
        if p:
            shared_by[sha].add(p)
        g = group(chat)
        if g:
            shared_in[sha].add(g)
    first = _first_sharers(con, ctx)
    have: set[str] = set()
    md = S.media
    for sha, md5, sha1, pdq, pdq_quality, kind, size, error in _stream(con, select(
            md.c.sha256, md.c.md5, md.c.sha1, md.c.pdq, md.c.pdq_quality, md.c.kind, md.c.size, md.c.error)
            .order_by(md.c.sha256)):
        have.add(sha)
        yield {
            "sha256": sha, "md5": md5, "sha1": sha1, "pdq": pdq, "pdq_quality": pdq_quality,
            "kind": kind, "size": size, "error": error,
            "files": sorted(files[sha], key=_file_key),
            "matches": sorted(matches[sha], key=_match_key),
            "first_shared": first.get(sha),
            "shared_by": sorted(shared_by[sha]), "shared_in": sorted(shared_in[sha]),
        }
    # media known only by the hash an app declared (file never on the device): still part of the case
    declared = set(shared_by) | set(shared_in)
    for sha in sorted(declared - have):
        yield {"sha256": sha, "md5": None, "sha1": None, "pdq": None, "pdq_quality": None, "kind": "unknown",
               "size": None, "error": "file not in evidence: hash declared by the app",
               "files": [], "matches": sorted(matches.get(sha, []), key=lambda x: str(x["entry"])),
               "first_shared": first.get(sha), "shared_by": sorted(shared_by[sha]),
               "shared_in": sorted(shared_in[sha])}


def _file_key(f: MediaFile) -> tuple[str, str]:
    return (f["source"], f["path"])


def _match_key(x: Match) -> tuple[str, str, str]:
    return (str(x["hashset"]), str(x["entry"]), x["method"])


def _first_sharers(con: Connection, ctx: _Ctx) -> dict[str, FirstShared]:
    from ringtrace.analysis.roles import first_sharers

    return {sha: {"person": ctx.person_label.get(pid) if pid is not None else None,
                  "group": ctx.group_label.get(gid) if gid is not None else None, "at": iso(at)}
            for sha, (pid, gid, at) in first_sharers(con).items()}


INVITE_KINDS = ("whatsapp_invite", "telegram_invite", "signal_group", "discord_invite", "session_open_group")


def _seen(r: Any, ctx: _Ctx, include_secrets: bool) -> Sighting:
    return {"source": ctx.exhibit.get(r.source_id), "location": _locator(r), "page": r.page_uri, "at": iso(r.at),
            "context": r.context}


def _seen_key(s: Sighting) -> tuple[str, ...]:
    """Sightings in the order of their evidence (exhibit, place in it, time), never of row ids, so that the same
    case exports the same document however its sources were ingested (docs/export.md)."""
    return (s["source"] or "", s["location"] or "", s["at"] or "", s.get("page") or "", s["context"] or "")


def _invite_links(con: Connection, ctx: _Ctx, include_secrets: bool) -> list[InviteLink]:
    # the group a code opens comes from device evidence only (analysis.invites): never from where it was posted
    code_group: dict[tuple[str, str], str] = {}
    for key, tie in ctx.code_ties.items():
        if tie.group_id is not None and tie.group_id in ctx.group_label:
            code_group[key] = ctx.group_label[tie.group_id]
    links: dict[tuple[str, str], InviteLink] = {}
    for r in con.execute(select(S.indicators).where(S.indicators.c.kind.in_(INVITE_KINDS))
                         .order_by(S.indicators.c.id)):
        code = r.code or r.value
        key = (r.platform or "", code)
        item = links.setdefault(key, {"platform": r.platform, "code": code,
                                      "url": r.value, "group": code_group.get(key), "seen": []})
        if include_secrets and r.secret:
            item["secret"] = r.secret
        item["seen"].append(_seen(r, ctx, include_secrets))
    for item in links.values():
        item["seen"].sort(key=_seen_key)
    return [links[k] for k in sorted(links)]


def _indicators(con: Connection, ctx: _Ctx, include_secrets: bool) -> list[Indicator]:
    out: dict[tuple[str, str], Indicator] = {}
    for r in con.execute(select(S.indicators).where(S.indicators.c.kind.not_in(INVITE_KINDS))
                         .order_by(S.indicators.c.id)):
        item = out.setdefault((r.kind, r.value), {"kind": r.kind, "value": r.value, "seen": []})
        item["seen"].append(_seen(r, ctx, include_secrets))
    for item in out.values():
        item["seen"].sort(key=_seen_key)
    return [out[k] for k in sorted(out)]


def _loc(file: str, table: str | None, row: str | None, line: int | None) -> str:
    """``Prov(file, table, row, line).locator()`` of a stored row, without the object."""
    if table:
        file = f"{file}:{table}"
    if row is not None:
        file = f"{file}:row {row}"
    if line is not None:
        file = f"{file}:line {line}"
    return file


# a message or an event as the export writes it: chat kind, group, chat key, sender, time, text, media, forwarded,
# source, location, then None for a message or (kind, raw_code, target, value) for an event
_MessageRow = tuple[Any, Any, Any, Any, Any, Any, list[str], bool, Any, Any, tuple[Any, Any, Any, Any] | None]


def _message_dict(r: _MessageRow) -> Message:
    kind, group, key, sender, at, text, media, forwarded, source, location, ev = r
    if ev is None:
        return {"chat": {"kind": kind, "group": group, "key": key}, "sender": sender, "at": at, "kind": "message",
                "text": text, "media": media, "forwarded": forwarded, "source": source, "location": location}
    return {"chat": {"kind": kind, "group": group, "key": key}, "sender": sender, "at": at, "kind": "event",
            "event": {"kind": ev[0], "raw_code": ev[1], "target": ev[2], "value": ev[3]},
            "text": text, "media": media, "forwarded": forwarded, "source": source, "location": location}


def _messages(con: Connection, ctx: _Ctx) -> Iterator[Message]:
    """Every message, then every group event, as the export lists them."""
    return map(_message_dict, _message_rows(con, ctx))


def _message_rows(con: Connection, ctx: _Ctx) -> Iterator[_MessageRow]:
    """Every message, then every group event, in the order of the database's sort, one at a time: the media of
    each message and the chats are read first, in bulk; nothing is queried per row."""
    media: dict[int, list[str]] = {}
    for mid, sha in con.execute(select(S.message_media.c.message_id, S.message_media.c.sha256)
                                .where(S.message_media.c.sha256.is_not(None))):
        if sha:
            media.setdefault(mid, []).append(sha)
    for shas in media.values():
        shas.sort()
    chats = {r.id: (r.kind, ctx.group_of(r.id), r.key)
             for r in con.execute(select(S.chats.c.id, S.chats.c.kind, S.chats.c.key))}
    person, exhibit, pop = ctx.account_label.get, ctx.exhibit.get, media.pop
    m, e = S.messages, S.group_events
    at_m, at_e = _iso_reader(con, m.c.at), _iso_reader(con, e.c.at)
    # in time, then by where each copy was read (exhibit, file, table and row or line): not by row id
    q = (select(m.c.id, m.c.chat_id, m.c.sender_id, _raw_time(m.c.at), m.c.text, m.c.forwarded, m.c.source_id,
                m.c.prov_file, m.c.prov_table, m.c.prov_row, m.c.prov_line)
         .join(S.sources, S.sources.c.id == m.c.source_id)
         .order_by(m.c.at, S.sources.c.exhibit, m.c.prov_file, m.c.prov_table, m.c.prov_row, m.c.prov_line, m.c.id))
    for mid, chat_id, sender, at, text, forwarded, source, pf, pt, pr, pl in _stream(con, q):
        kind, group, key = chats[chat_id]
        yield (kind, group, key, person(sender), at_m(at), text, pop(mid, []), bool(forwarded), exhibit(source),
               _loc(pf, pt, pr, pl), None)
    q = (select(e.c.chat_id, e.c.actor_id, _raw_time(e.c.at), e.c.kind, e.c.raw_code, e.c.target_id, e.c.value,
                e.c.source_id, e.c.prov_file, e.c.prov_table, e.c.prov_row, e.c.prov_line)
         .join(S.sources, S.sources.c.id == e.c.source_id)
         .order_by(e.c.at, S.sources.c.exhibit, e.c.prov_file, e.c.prov_table, e.c.prov_row, e.c.prov_line, e.c.id))
    for chat_id, actor, at, ekind, raw_code, target, value, source, pf, pt, pr, pl in _stream(con, q):
        kind, group, key = chats[chat_id]
        yield (kind, group, key, person(actor), at_e(at), None, [], False, exhibit(source), _loc(pf, pt, pr, pl),
               (ekind, raw_code, person(target), value))


def _stream(con: Connection, q: Any) -> Iterator[Any]:
    """The rows of ``q`` as plain tuples, fetched in batches: on SQLite straight from the driver's cursor (no
    result processing: the columns read are text and integers, times as ``_raw_time``), elsewhere through a
    server-side cursor so that the rows are never all in memory."""
    if con.dialect.name != "sqlite":
        yield from con.execute(q.execution_options(stream_results=True, yield_per=2000))
        return
    compiled = q.compile(dialect=con.dialect)
    params = compiled.construct_params()
    dbapi: Any = con.connection.dbapi_connection
    cur = dbapi.cursor()
    try:
        cur.execute(compiled.string, [params[k] for k in compiled.positiontup or ()])
        while rows := cur.fetchmany(2000):
            yield from rows
    finally:
        cur.close()
