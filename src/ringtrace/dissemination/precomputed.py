"""Read views of a case computed once per case version, when the analysis finishes, and stored beside the case.

The web pages need whole-case results (the export document, the suspect ranking, series, leads, the network's
communities, the timeline, who is who) that take seconds to tens of seconds on a medium case. ``build`` computes
them all (called by ``stages.views`` at the end of ``ringtrace run``) and writes them to ``precomputed.sqlite`` in
the case folder, stamped with the case's ``fingerprint``. A reader asks ``Stored.open(case, fingerprint)``; a file
that is missing, unreadable or stamped with another fingerprint is no answer, and the reader computes the view with
the same function from ``VIEWS`` instead. Correctness never depends on the file: it is a cache, rebuilt by the next
run, and safe to delete.

The file holds JSON (zlib-compressed), never pickles: a tampered cache can give wrong numbers but cannot run code.
Library objects (``Suspect``, ``SeriesRow``, ``LeadsReport`` ...) travel through a small codec that knows only the
dataclasses listed in ``_TYPES``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, or_, select

from ringtrace.case import Case
from ringtrace.dissemination.export_types import ExportDoc
from ringtrace.store import schema as S

FILE_NAME = "precomputed.sqlite"
FORMAT = 2  # bumped when a view's shape changes: an older file is then stale
SERIES_THRESHOLD = 31  # the PDQ distance ``ringtrace series`` clusters at by default
MAX_BODY = 1 << 30  # a stored view larger than this (decompressed) is refused as corrupt

# Audit actions that record an output or a reading of the case, not a change to what it holds: they do not move
# the fingerprint, so a report, a package or a page view does not throw the stored views away.
READ_ONLY_ACTIONS = ("web.", "report.", "package.", "export.", "deconflict.", "analysis.series")


# ---- the case version -----------------------------------------------------------------------------------------


def fingerprint(where: Case | Connection) -> str:
    """Cheap fingerprint of everything the views depend on.

    The last entry of the audit chain that is not read-only (``READ_ONLY_ACTIONS``): every stage run, ingest,
    hash-set change, override and decision appends one. Source, hash-set and override counts are kept as a belt
    to the braces (an entry rolled back with its change cannot leave a stale match).
    """
    if isinstance(where, Case):
        with where.engine.connect() as con:
            return fingerprint(con)
    con = where
    al = S.audit_log
    changed = ~or_(*[al.c.action.startswith(a, autoescape=True) if a.endswith(".") else al.c.action == a
                     for a in READ_ONLY_ACTIONS])
    last = con.execute(select(func.max(al.c.seq)).where(changed)).scalar()
    n_src = con.execute(select(func.count()).select_from(S.sources)).scalar()
    hs = con.execute(select(func.count(), func.max(S.hashsets.c.id)).select_from(S.hashsets)).one()
    ov = con.execute(select(func.count(), func.max(S.overrides.c.id)).select_from(S.overrides)).one()
    return f"v{FORMAT}:{last}:{n_src}:{hs[0]}/{hs[1]}:{ov[0]}/{ov[1]}"


# ---- the views ------------------------------------------------------------------------------------------------


def _overview(case: Case, doc: ExportDoc) -> Any:
    from ringtrace.dissemination.readmodel import overview

    return overview(case, doc)


def _who(case: Case, doc: ExportDoc) -> Any:
    from ringtrace.dissemination.readmodel import who

    return who(case, doc)


def _suspects(case: Case, doc: ExportDoc) -> Any:
    from ringtrace.analysis.priorities import rank_suspects

    return rank_suspects(case)


def _series(case: Case, doc: ExportDoc) -> Any:
    from ringtrace.matching.sets import unknown_series

    return unknown_series(case, threshold=SERIES_THRESHOLD)


def _leads(case: Case, doc: ExportDoc) -> Any:
    from ringtrace.analysis.leads import lead_story, rank_leads

    rep = rank_leads(case)
    return rep, lead_story(case, rep)


def _network(case: Case, doc: ExportDoc) -> Any:
    from ringtrace.analysis.graph import analyse_network

    with case.engine.connect() as con:
        return analyse_network(con)


def _timeline(case: Case, doc: ExportDoc) -> Any:
    from ringtrace.dissemination.readmodel import timeline_entries

    return timeline_entries(case, doc)


def _senders(case: Case, doc: ExportDoc) -> Any:
    from ringtrace.dissemination.readmodel import senders

    return senders(case)


# name -> (case, export) -> value. The export itself is the view "export" (``export.build_export``, no messages;
# ``export.write_export`` reads it back, so this module does not import that one).
VIEWS: dict[str, Callable[[Case, ExportDoc], Any]] = {
    "overview": _overview, "who": _who, "suspects": _suspects, "series": _series, "leads": _leads,
    "network": _network, "timeline": _timeline, "senders": _senders,
}


# the views that read the case alone (their export argument unused): ``stages.views`` computes them in a worker
# process beside the export, passing None for the document (a view that began to read it would fail, not differ)
CASE_ONLY = frozenset({"suspects", "series", "leads", "network", "senders"})


# ---- codec: JSON with a few tagged types ----------------------------------------------------------------------


def _types() -> dict[str, type]:
    from ringtrace.analysis.graph import NetworkSummary
    from ringtrace.analysis.leads import KnownImage, LeadsReport, LinkLead, PageLead, Story, Visit
    from ringtrace.analysis.priorities import Suspect
    from ringtrace.matching.sets import SeriesRow

    return {t.__name__: t for t in (Suspect, SeriesRow, LeadsReport, PageLead, LinkLead, KnownImage, Visit, Story,
                                    NetworkSummary)}


TAGS = ("$dc", "$dt", "$t", "$kv", "$m")


def encode(v: Any) -> Any:
    """A value as JSON-able data: dataclasses (``$dc``), datetimes (``$dt``), tuples (``$t``) and dicts with keys
    that are not strings (``$kv``) are tagged so ``decode`` gives back an equal value."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, tuple):
        return {"$t": [encode(x) for x in v]}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v):
            body = {k: encode(x) for k, x in v.items()}
            return {"$m": body} if len(v) == 1 and next(iter(v)) in TAGS else body
        return {"$kv": [[encode(k), encode(x)] for k, x in v.items()]}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        name = type(v).__name__
        if name not in _types():
            raise TypeError(f"{name} is not a stored view type")
        return {"$dc": name, "f": {f.name: encode(getattr(v, f.name)) for f in dataclasses.fields(v)}}
    raise TypeError(f"cannot store a {type(v).__name__}")


def decode(v: Any, types: dict[str, type] | None = None) -> Any:
    types = types if types is not None else _types()
    if isinstance(v, list):
        return [decode(x, types) for x in v]
    if not isinstance(v, dict):
        return v
    if "$dc" in v:
        t = types.get(str(v["$dc"]))
        if t is None:
            raise ValueError(f"unknown stored type {v['$dc']!r}")
        return t(**{k: decode(x, types) for k, x in dict(v.get("f") or {}).items()})
    if len(v) == 1:
        (k, x), = v.items()
        if k == "$dt":
            return datetime.fromisoformat(str(x))
        if k == "$t":
            return tuple(decode(y, types) for y in x)
        if k == "$kv":
            return {_key(decode(a, types)): decode(b, types) for a, b in x}
        if k == "$m":
            return {kk: decode(y, types) for kk, y in dict(x).items()}
    return {k: decode(x, types) for k, x in v.items()}


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


# views that are JSON documents by contract (the export, the timeline's rows): stored and read as plain JSON,
# without the tagged codec's walk over every value (seconds on a medium case's export)
PLAIN = frozenset({"export", "timeline"})


def pack(value: Any, plain: bool = False) -> bytes:
    body = value if plain else encode(value)
    return zlib.compress(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def unpack(blob: bytes, plain: bool = False) -> Any:
    d = zlib.decompressobj()
    raw = d.decompress(blob, MAX_BODY)
    if d.unconsumed_tail:
        raise ValueError("stored view too large")
    body = json.loads(raw.decode("utf-8"))
    return body if plain else decode(body)


# ---- the file -------------------------------------------------------------------------------------------------


def path_of(case_path: Path) -> Path:
    return case_path / FILE_NAME


class Stored:
    """The stored views of one case version, read on demand (each view is decoded when first asked for)."""

    def __init__(self, path: Path, fp: str, names: set[str]) -> None:
        self.path = path
        self.fingerprint = fp
        self.names = names

    @classmethod
    def open(cls, case_path: Path, fp: str) -> Stored | None:
        """The stored views if the file exists and was built at ``fp``; otherwise None (compute them)."""
        path = path_of(case_path)
        if not path.is_file():
            return None
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
                if row is None or row[0] != fp:
                    return None
                names = {str(r[0]) for r in db.execute("SELECT name FROM views")}
            finally:
                db.close()
        except sqlite3.Error:
            return None  # unreadable: as if absent
        return cls(path, fp, names)

    def get(self, name: str) -> tuple[bool, Any]:
        """``(True, value)`` when the view is stored and readable, else ``(False, None)``."""
        if name not in self.names:
            return False, None
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                row = db.execute("SELECT v.body FROM views v JOIN meta m ON m.key = 'fingerprint' "
                                 "WHERE v.name = ? AND m.value = ?", (name, self.fingerprint)).fetchone()
            finally:
                db.close()
            if row is None:
                return False, None  # replaced by a newer build meanwhile
            return True, unpack(row[0], plain=name in PLAIN)
        except (sqlite3.Error, ValueError, TypeError, zlib.error):
            return False, None


def write(case_path: Path, fp: str, values: dict[str, Any], seconds: dict[str, float]) -> Path:
    """Write every view to a fresh file and move it into place in one step (readers never see half of it)."""
    return write_packed(case_path, fp, {name: pack(v, plain=name in PLAIN) for name, v in values.items()}, seconds)


def write_packed(case_path: Path, fp: str, bodies: dict[str, bytes], seconds: dict[str, float]) -> Path:
    """``write`` for views already in their stored form (``pack``), e.g. packed by the worker that made them."""
    path = path_of(case_path)
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        with db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE views (name TEXT PRIMARY KEY, seconds REAL NOT NULL, body BLOB NOT NULL)")
            db.executemany("INSERT INTO meta VALUES (?, ?)",
                           [("fingerprint", fp), ("format", str(FORMAT)),
                            ("built_at", datetime.now(UTC).isoformat(timespec="seconds"))])
            db.executemany("INSERT INTO views VALUES (?, ?, ?)",
                           [(name, round(seconds.get(name, 0.0), 3), body) for name, body in bodies.items()])
    finally:
        db.close()
    os.replace(tmp, path)
    return path
