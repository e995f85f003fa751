"""Seals: a digest of every record a source's parse derived, recorded in the audit chain when the parse ends.

A seal is computed from the database alone, so ``verify`` can recompute it at any time and name the source whose
records were edited, deleted or planted after the parse. It is independent of row ids and of which database holds
the records: foreign keys to accounts and chats are rendered as their natural keys (platform, kind, value) and a
message's attachments by the message they belong to, so a re-parse of the same evidence into a scratch database
(``verify --deep``) gives the same seal, and a row-level comparison names the records that differ.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table, select

from ringtrace.store import schema as S

# Every table the parse stage writes for a source, in a fixed order. message_media hangs off messages.
SEALED: tuple[Table, ...] = (
    S.source_files, S.account_sightings, S.account_links, S.names_seen, S.device_owners, S.group_sightings,
    S.participants, S.group_events, S.messages, S.message_media, S.pages, S.indicators, S.problems,
)
# Columns that say nothing about the evidence: surrogate keys, and the wall-clock time a problem was noted.
_SKIP = {"id", "source_id", "at_noted"}
_SKIP_BY_TABLE = {"problems": {"at"}}
SEAL_VERSION = 1


@dataclass
class Seal:
    """Per-table digests and row counts of one source's derived records."""

    tables: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.tables):
            h.update(f"{name}\x1f{self.tables[name]}\x1e".encode())
        return h.hexdigest()

    def as_detail(self) -> dict[str, Any]:
        return {"version": SEAL_VERSION, "digest": self.digest, "tables": dict(self.tables),
                "counts": dict(self.counts)}

    @staticmethod
    def from_detail(d: dict[str, Any]) -> Seal:
        return Seal(tables=dict(d.get("tables") or {}), counts={k: int(v) for k, v in (d.get("counts") or {}).items()})

    def differing_tables(self, other: Seal) -> list[str]:
        return sorted(t for t in set(self.tables) | set(other.tables) if self.tables.get(t) != other.tables.get(t))


def _value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, bool):
        return int(v)
    return v


class _Keys:
    """Natural keys for the rows that foreign keys point at, looked up once per connection."""

    def __init__(self, con: Connection) -> None:
        self.con = con
        self._accounts: dict[int, str] | None = None
        self._chats: dict[int, str] | None = None

    def account(self, i: int | None) -> str | None:
        if i is None:
            return None
        if self._accounts is None:
            self._accounts = {r.id: f"{r.platform}:{r.kind}:{r.value}"
                              for r in self.con.execute(select(S.accounts.c.id, S.accounts.c.platform,
                                                               S.accounts.c.kind, S.accounts.c.value))}
        return self._accounts.get(i, f"missing-account:{i}")

    def chat(self, i: int | None) -> str | None:
        if i is None:
            return None
        if self._chats is None:
            self._chats = {}
            for r in self.con.execute(select(S.chats.c.id, S.chats.c.platform, S.chats.c.kind, S.chats.c.key,
                                             S.chats.c.scope_source_id)):
                # a chat scoped to one source (an export's chat) is keyed without the source's row id
                self._chats[r.id] = f"{r.platform}:{r.kind}:{r.key}" + (":scoped" if r.scope_source_id else "")
        return self._chats.get(i, f"missing-chat:{i}")


def _fk_target(col: Column[Any]) -> str | None:
    for fk in col.foreign_keys:
        return fk.column.table.name
    return None


def _render_rows(con: Connection, keys: _Keys, table: Table, source_id: int,
                 message_lines: dict[int, str]) -> Iterator[tuple[int, str]]:
    """Each row as ``(id, canonical line)``: its values as the columns' types read them (booleans, times, JSON),
    foreign keys rendered by the natural key they point at, the rest through ``_value``. Read as tuples, with the
    rendering of each column chosen once and one JSON encoder for every line: a medium operation's seals render
    ~700,000 rows."""
    skip = _SKIP | _SKIP_BY_TABLE.get(table.name, set())
    cols = [c for c in table.columns if c.name not in skip]
    if table is S.message_media:
        q = (select(table.c.id, *cols).select_from(table.join(S.messages, S.messages.c.id == table.c.message_id))
             .where(S.messages.c.source_id == source_id))
    elif table is S.problems:
        q = select(table.c.id, *cols).where(table.c.source_id == source_id).where(table.c.stage == "parse")
    else:
        q = select(table.c.id, *cols).where(table.c.source_id == source_id)
    # per column (in position): the foreign-key rendering, else None (the value through ``_value``)
    renders = list(enumerate((c.name, _fk_render(keys, c, message_lines)) for c in cols))
    plain, dt = _PLAIN, datetime
    encode = _ENCODE  # the lines LineRenderer writes for the same rows, by the same encoder
    for row in con.execute(q):
        out: dict[str, Any] = {}
        for i, (name, f) in renders:
            v = row[i + 1]
            if f is not None:
                out[name] = f(v)
            else:
                c = v.__class__
                out[name] = v if c in plain else (v.isoformat() if c is dt else (int(v) if c is bool else _value(v)))
        yield row[0], encode(out)


# one encoder for every line (json.dumps builds a new one per call): the output of json.dumps with these options
_LINE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _line_encoder() -> Callable[[Any], str]:
    """``_LINE.encode`` of a dict, without the two Python calls and the C encoder made anew per line: the C encoder
    that ``JSONEncoder.iterencode`` makes, made once (no circular check: a line's values are scalars or what
    ``json.loads`` gave, never circular). ``_LINE.encode`` where the interpreter has no C encoder."""
    try:
        from _json import make_encoder
    except ImportError:  # pragma: no cover - CPython has it
        return _LINE.encode
    c = make_encoder(None, str, json.encoder.encode_basestring, None, ":", ",", True, False, True)
    join = "".join
    return lambda d: join(c(d, 0))


_ENCODE = _line_encoder()
_PLAIN = frozenset({str, int, float, type(None)})  # values ``_value`` returns as they are (exact types: not bool)


def _fk_render(keys: _Keys, col: Column[Any], message_lines: dict[int, str]) -> Callable[[Any], Any] | None:
    """How a foreign key's value is rendered (by the natural key it points at); None for other columns."""
    target = _fk_target(col)
    if target == "accounts":
        return keys.account
    if target == "chats":
        return keys.chat
    if target == "messages":
        return lambda v: message_lines.get(v, f"missing-message:{v}")
    if target == "sources":
        return lambda v: None if v is None else "source"
    return None


def source_lines(con: Connection, source_id: int, tables: tuple[Table, ...] = SEALED) -> dict[str, list[str]]:
    """Every derived record of a source rendered as one canonical line, per table (of ``tables``, in SEALED's
    order: message_media needs messages before it), sorted."""
    keys = _Keys(con)
    message_lines: dict[int, str] = {}
    out: dict[str, list[str]] = {}
    for table in tables:
        lines: list[str] = []
        for rid, line in _render_rows(con, keys, table, source_id, message_lines):
            if table is S.messages:
                # attachments name their message by the digest of its line: independent of row ids
                message_lines[rid] = hashlib.sha256(line.encode()).hexdigest()
            lines.append(line)
        lines.sort()
        out[table.name] = lines
    return out


def seal_source(con: Connection, source_id: int) -> Seal:
    seal = Seal()
    for name, lines in source_lines(con, source_id).items():
        h = hashlib.sha256()
        for line in lines:
            h.update(line.encode())
            h.update(b"\n")
        seal.tables[name] = h.hexdigest()
        seal.counts[name] = len(lines)
    return seal


def _where(rec: dict[str, Any]) -> str:
    parts = [str(rec.get("prov_file") or "")]
    if rec.get("prov_table"):
        parts.append(f"table {rec['prov_table']} row {rec.get('prov_row')}")
    elif rec.get("prov_line") is not None:
        parts.append(f"line {rec['prov_line']}")
    elif rec.get("relpath"):
        parts.append(str(rec["relpath"]))
    return " ".join(p for p in parts if p) or "(no provenance)"


def _short(v: Any) -> str:
    t = repr(v)
    return t if len(t) <= 120 else t[:117] + "..."


def describe_difference(recorded: dict[str, list[str]], now: dict[str, list[str]], limit: int = 10) -> list[str]:
    """Name the records that differ between two renderings of one source: edited (same provenance, other values),
    planted (in the database, not derived from the evidence) or missing."""
    found: list[str] = []
    for table in sorted(set(recorded) | set(now)):
        gone = [json.loads(x) for x in sorted(set(recorded.get(table, [])) - set(now.get(table, [])))]
        new = [json.loads(x) for x in sorted(set(now.get(table, [])) - set(recorded.get(table, [])))]
        by_where: dict[str, list[dict[str, Any]]] = {}
        for rec in gone:
            by_where.setdefault(_where(rec), []).append(rec)
        n = 0
        for rec in new:
            where = _where(rec)
            if by_where.get(where):
                old = by_where[where].pop(0)
                fields = sorted(k for k in set(old) | set(rec) if old.get(k) != rec.get(k))
                change = "; ".join(f"{k}: {_short(old.get(k))} -> {_short(rec.get(k))}" for k in fields)
                found.append(f"{table}: edited record at {where}: {change}")
            else:
                found.append(f"{table}: planted record at {where} (not derived from the evidence)")
            n += 1
            if n >= limit:
                break
        for rest in by_where.values():
            for rec in rest[:limit]:
                found.append(f"{table}: record at {_where(rec)} derived from the evidence is missing")
    return found


# ---- the same lines from the rows as they are written, without reading them back --------------------------------

# Where the "S<source id>:" of a name scoped by its source (an export's sender) goes in a rendered account, in lines
# made before the source's id is known; no stored text can hold a lone surrogate (it is not UTF-8), so no other
# part of a line can be mistaken for it.
PENDING_SOURCE = "\udfff"
_SCOPED_ROOM = 980  # a scoped name longer than this may be cut by the store (MAX_IDENTIFIER) at a place not known yet


class Unsure(Exception):
    """A value whose stored form the row does not tell for certain (a number in a text column, a bool in an integer
    one: SQLite's type affinity may change it): that source's seal is read back from the database instead."""


def ref_name(key: Any) -> str:
    """The natural key ``_Keys`` renders for an account or chat reference (``AccountKey`` or ``ChatRef``) as the
    record writer stores it (ringtrace.store.writer), with ``PENDING_SOURCE`` for the source's id."""
    if hasattr(key, "peer"):
        return f"{key.platform}:{key.kind}:{key.key}" + (":scoped" if key.key.startswith("export:") else "")
    value = key.value
    if key.kind == "export_name":
        if len(value) > _SCOPED_ROOM:
            raise Unsure("an export name this long")
        value = PENDING_SOURCE + value
    return f"{key.platform}:{key.kind}:{value[:1000]}"


_TEXT: frozenset[type] = frozenset({str, type(None)})
_INT: frozenset[type] = frozenset({int, type(None)})
_NONE: frozenset[type] = frozenset()  # no value taken as it is


def _text(v: Any) -> Any:
    if isinstance(v, str):
        return str.__str__(v)  # a str subclass (an enum) is stored as its characters
    raise Unsure(f"{type(v).__name__} in a text column")


def _int(v: Any) -> Any:
    raise Unsure(f"{type(v).__name__} in an integer column")


def _time(v: str | None) -> str | None:
    """A time as SQLite stores it ("YYYY-MM-DD HH:MM:SS.ffffff") as read back and rendered (``isoformat``)."""
    if v is None:
        return None
    if len(v) != 26:
        raise Unsure("a time not in the stored form")
    return v[:10] + "T" + v[11:19] + ("" if v[20:] == "000000" else v[19:])


def _json(v: str | None) -> Any:
    return None if v is None else json.loads(v)


class LineRenderer:
    """Renders the rows of one table, as the record writer binds them for SQLite (``columns``: their order; the
    references, at ``ref_positions``, as indices into a list of natural keys), into ``source_lines``'s lines."""

    def __init__(self, table: str, columns: tuple[str, ...], ref_positions: tuple[int, ...]) -> None:
        from sqlalchemy import JSON, Boolean, DateTime, Integer

        t = S.metadata.tables[table]
        skip = _SKIP | _SKIP_BY_TABLE.get(table, set())
        assert {c.name for c in t.columns} - skip == set(columns) - skip, table  # every column, from the row
        # per column: (name, position, allowed classes as they are, else the conversion); references apart
        self.refs = [(name, i) for i, name in enumerate(columns) if i in ref_positions]
        self.values: list[tuple[str, int, frozenset[type], Callable[[Any], Any]]] = []
        for i, name in enumerate(columns):
            if name in skip or i in ref_positions:
                continue
            typ = t.c[name].type
            if isinstance(typ, Boolean):
                self.values.append((name, i, _INT, _int))  # bound to 0 or 1, read back as a bool: its int
            elif isinstance(typ, DateTime):
                self.values.append((name, i, _NONE, _time))
            elif isinstance(typ, JSON):
                self.values.append((name, i, _NONE, _json))
            elif isinstance(typ, Integer):
                self.values.append((name, i, _INT, _int))
            else:
                self.values.append((name, i, _TEXT, _text))
        # A batch in fewer Python steps, column by column (``_columns``): the line is ``_LINE.encode`` of the
        # row's dict, so it is its sorted keys with each value as that encoder writes it, a value of a plain class
        # (str, int, None) being written on its own just as inside the dict.
        kinds: dict[str, tuple[int, str, Callable[[Any], Any] | None]] = {name: (i, "ref", None)
                                                                          for name, i in self.refs}
        for name, i, ok, conv in self.values:
            kinds[name] = (i, "text" if ok is _TEXT else "int" if ok is _INT else "time" if conv is _time else "conv",
                           conv)
        order = sorted(kinds)
        self._template = "{" + ",".join(_str(k) + ":%s" for k in order) + "}"
        self._columns = [kinds[k] for k in order]

    def _line(self, row: Any, names: list[str]) -> str:
        d: dict[str, Any] = {}
        for name, i in self.refs:
            v = row[i]
            d[name] = None if v is None else names[v]
        for name, i, ok, conv in self.values:
            v = row[i]
            d[name] = v if v.__class__ in ok else conv(v)
        return _ENCODE(d)

    def lines(self, rows: list[Any], names: list[str]) -> list[str]:
        if not rows:
            return []
        try:
            got = self._by_column(rows, names)
        except Exception:  # noqa: BLE001 - whatever it was, row by row says it as ever (Unsure, or the error)
            got = None
        return [self._line(row, names) for row in rows] if got is None else got

    def _by_column(self, rows: list[Any], names: list[str]) -> list[str] | None:
        """The lines of ``rows``, or None where a value is of a class the steps row by row must see to."""
        cols = list(zip(*rows, strict=True))
        encoded: list[list[str]] = []
        for i, kind, conv in self._columns:
            col: Sequence[Any] = cols[i]
            if kind == "ref":
                col = [None if v is None else names[v] for v in col] if None in col else [names[v] for v in col]
                kind = "text"
            elif kind == "time":  # ``_time`` gives a str or None
                encoded.append(["null" if v is None else _ESCAPE(_time(v) or "") for v in col])
                continue
            elif kind == "conv":
                assert conv is not None
                encoded.append([_ENCODE(conv(v)) for v in col])
                continue
            if not (_TEXT if kind == "text" else _INT).issuperset(map(type, col)):
                return None  # another class: converted, or not certain
            f = _ESCAPE if kind == "text" else _INT_TEXT
            encoded.append(["null" if v is None else f(v) for v in col] if None in col else list(map(f, col)))
        return list(map(self._template.__mod__, zip(*encoded, strict=True)))


_ESCAPE = json.encoder.encode_basestring  # a str as ``_LINE`` writes it
_INT_TEXT = int.__repr__  # an int as json writes it


_MEDIA = '{"declared_only":%s,"message_id":"%s","mime":%s,"name":%s,"relpath":%s,"sha256":%s,"size":%s}'


def _str(v: str | None) -> str:
    return "null" if v is None else _ESCAPE(v)


def media_line(message_line: str, media: tuple[Any, ...]) -> str:
    """The line of a message_media row (message_id, sha256, relpath, name, size, mime, declared_only) whose message
    has ``message_line``: ``_LINE.encode`` of its dict, written out in its keys' order (every value checked to be
    text, an int or None, as the encoder writes them)."""
    _mid, sha, relpath, name, size, mime, declared = media
    for v in (sha, relpath, name, mime):
        if v.__class__ not in _TEXT:
            raise Unsure("a media field not text")
    if size.__class__ not in _INT:
        raise Unsure("a media size not an integer")
    return _MEDIA % (int.__repr__(int(declared)), hashlib.sha256(message_line.encode()).hexdigest(), _str(mime),
                     _str(name), _str(relpath), _str(sha), "null" if size is None else int.__repr__(size))


def seal_of_lines(parts: dict[str, list[str]], source_id: int) -> Seal:
    """The seal of a source from its lines per table (any order; ``PENDING_SOURCE`` not yet replaced), every sealed
    table named: what ``seal_source`` gives from the database."""
    scope = f"S{source_id}:"
    seal = Seal()
    for table in SEALED:
        lines = [x.replace(PENDING_SOURCE, scope) for x in parts.get(table.name, [])]
        lines.sort()
        seal.tables[table.name] = hashlib.sha256("".join(x + "\n" for x in lines).encode()).hexdigest()
        seal.counts[table.name] = len(lines)
    return seal
