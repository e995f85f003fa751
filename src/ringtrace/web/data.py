"""Read model of a case for the web pages, through the library (``Case``, ``build_export``, ``rank_suspects``).

Cases are opened once per process and kept; the export document is rebuilt only when the case's data changed
(new sources, stage runs, hash sets, overrides), not on every page. The only writes are audit entries.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select

from ringtrace.case import Case
from ringtrace.dissemination.export_types import ExportDoc
from ringtrace.store import schema as S

T = TypeVar("T")


@dataclass
class CaseData:
    export: ExportDoc
    counts: dict[str, int]
    version: tuple[Any, ...]
    problems: list[dict[str, Any]] = field(default_factory=list)
    derived: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """A value derived from this version of the case (ranking, series, names), computed once per version.

        The whole ``CaseData`` is dropped when the case's fingerprint changes, so the memo never outlives the data
        it was computed from.
        """
        with self.lock:
            if key not in self.derived:
                self.derived[key] = make()
            value: T = self.derived[key]
            return value


class CaseCache:
    def __init__(self) -> None:
        self._cases: dict[Path, Case] = {}
        self._data: dict[Path, CaseData] = {}
        self._lock = threading.Lock()

    def case(self, path: Path, actor: str) -> Case:
        """A Case whose audit entries name ``actor``; the engine and vault are shared between requests."""
        with self._lock:
            base = self._cases.get(path)
            if base is None:
                base = self._cases[path] = Case.open(path, actor="web")
        return Case(base.path, base.engine, base.vault, actor)

    def close(self) -> None:
        with self._lock:
            for c in self._cases.values():
                c.close()
            self._cases.clear()
            self._data.clear()

    def data(self, case: Case) -> CaseData:
        from ringtrace.dissemination.export import build_export

        ver = _version(case)
        cached = self._data.get(case.path)
        if cached is not None and cached.version == ver:
            return cached
        doc = build_export(case)
        with case.engine.connect() as con:
            problems = [dict(r._mapping) for r in con.execute(select(S.problems).order_by(S.problems.c.id)
                                                               .limit(1000))]
            n_problems = int(con.execute(select(func.count()).select_from(S.problems)).scalar() or 0)
            n_messages = int(con.execute(select(func.count()).select_from(S.messages)).scalar() or 0)
        exhibit = {s["id"]: s["exhibit"] for s in doc["sources"]}
        for p in problems:
            p["exhibit"] = exhibit.get(p["source_id"], "-")
        counts = {"sources": len(doc["sources"]), "persons": len(doc["persons"]), "groups": len(doc["groups"]),
                  "media": len(doc["media"]), "matched": sum(1 for m in doc["media"] if m["matches"]),
                  "invite_links": len(doc["invite_links"]), "indicators": len(doc["indicators"]),
                  "problems": n_problems, "messages": n_messages}
        cd = CaseData(doc, counts, ver, problems)
        self._data[case.path] = cd
        return cd


def _version(case: Case) -> tuple[Any, ...]:
    """Cheap fingerprint of everything the export depends on.

    The last entry of the audit chain written by anything but the web: every stage run, ingest, hash-set change and
    override appends one, while page views (``web.*``) do not count, so viewing pages never invalidates the cache.
    Source, hash-set and override counts are kept as a belt to the braces.
    """
    al = S.audit_log
    with case.engine.connect() as con:
        last = con.execute(select(func.max(al.c.seq)).where(~al.c.action.like("web.%"))).scalar()
        n_src = con.execute(select(func.count()).select_from(S.sources)).scalar()
        hs = con.execute(select(func.count(), func.max(S.hashsets.c.id)).select_from(S.hashsets)).one()
        ov = con.execute(select(func.count(), func.max(S.overrides.c.id)).select_from(S.overrides)).one()
    return (last, n_src, tuple(hs), tuple(ov))


def person_groups(doc: ExportDoc, label: str) -> list[dict[str, Any]]:
    out = []
    for g in doc["groups"]:
        for m in g["members"]:
            if m["person"] == label:
                role = ("creator" if g["creator"] == label else "admin" if label in g["admins"] else "member")
                out.append({"group": g["id"], "name": g["names"][-1]["name"] if g["names"] else "",
                            "intervals": m["intervals"], "role": role, "joined_via": m["joined_via"]})
    return out


def grouped_matches(matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per hash-set entry, with every method that matched it (md5, sha256, pdq d=4 ...)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for x in matches:
        key = (str(x["hashset"]), str(x["entry"]))
        g = out.setdefault(key, {"hashset": x["hashset"], "entry": x["entry"], "category": x["category"],
                                 "series": x["series"], "methods": []})
        g["methods"].append(f"{x['method']} d={x['distance']}" if x["method"] in ("pdq", "vpdq") else x["method"])
    return list(out.values())


def media_summary(doc: ExportDoc) -> dict[str, int]:
    c: Counter[str] = Counter()
    for m in doc["media"]:
        for x in m["matches"]:
            c[x.get("category") or "uncategorised"] += 1
    return dict(sorted(c.items()))


def media_path(case: Case, sha256: str) -> Path | None:
    """Where the bytes of a content can be read: its vault object, else a reference-mode source's file."""
    from ringtrace.case import content_path

    return content_path(case, sha256)


def known_media(case: Case, sha256: str) -> dict[str, Any] | None:
    with case.engine.connect() as con:
        r = con.execute(select(S.media).where(S.media.c.sha256 == sha256)).first()
    return dict(r._mapping) if r else None


class QuietCase(Case):
    """The case as the web reads it: library calls that record what they computed (``analysis.series``) are
    written as ``web.*`` entries, so a page view stays in the audit chain without changing the case's fingerprint
    (which would throw away the cached export on every view)."""

    def log(self, action: str, detail: dict[str, Any], con: Any = None) -> None:
        super().log(action if action.startswith("web.") else f"web.{action}", detail, con)


def quiet(case: Case) -> QuietCase:
    return QuietCase(case.path, case.engine, case.vault, case.actor)


# ---- who is who: best name and number beside every label ----------------------------------------------------


def who(data: CaseData, case: Case) -> dict[str, dict[str, str]]:
    """Person label -> best name (the name seen most often across the person's accounts, then the shortest,
    then alphabetical) and best number (the first phone, E.164 as stored), computed once per case version."""

    def make() -> dict[str, dict[str, str]]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        q = (select(S.persons.c.label, S.names_seen.c.name)
             .join(S.person_accounts, S.person_accounts.c.person_id == S.persons.c.id)
             .join(S.names_seen, S.names_seen.c.account_id == S.person_accounts.c.account_id))
        with case.engine.connect() as con:
            for label, name in con.execute(q):
                name = " ".join(str(name or "").split())[:80]
                if name:
                    counts[label][name] += 1
        out: dict[str, dict[str, str]] = {}
        for p in data.export["persons"]:
            c = counts.get(p["id"])
            best = min(c.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0] if c else ""
            out[p["id"]] = {"name": best, "phone": p["phones"][0] if p["phones"] else ""}
        return out

    return data.memo("who", make)


# ---- tables: server-side sort, filter and paging --------------------------------------------------------------

MAX_PARAM = 100


def as_int(raw: str | None, default: int = 1, lo: int = 1, hi: int = 1_000_000) -> int:
    """A page number or limit from a query string: anything odd (words, huge numbers, negatives) is bounded."""
    try:
        v = int(str(raw)[:12]) if raw not in (None, "") else default
    except ValueError:
        v = default
    return min(max(lo, v), hi)


def clean(raw: str | None, n: int = MAX_PARAM) -> str:
    return " ".join(str(raw or "").split())[:n]


@dataclass
class Table:
    rows: list[Any]
    total: int
    page: int
    pages: int
    sort: str  # key, with "-" in front when descending
    params: dict[str, str]  # the filters in force (and other tables' state), for the links
    names: tuple[str, str] = ("sort", "page")  # this table's query parameters, when a page has several tables
    anchor: str = ""

    def link(self, **change: Any) -> str:
        """A query string for this table with some parameters changed (sort links, pager)."""
        from urllib.parse import urlencode

        p = {**self.params, self.names[0]: self.sort, self.names[1]: str(self.page)}
        for k, v in change.items():
            p[self.names[0] if k == "sort" else self.names[1] if k == "page" else k] = str(v)
        return "?" + urlencode({k: v for k, v in p.items() if v not in ("", None)}) + self.anchor

    def sort_link(self, key: str) -> str:
        """Ascending first; the sorted column's link turns it the other way round."""
        return self.link(sort="-" + key if self.sort == key else key, page=1)

    def arrow(self, key: str) -> str:
        return " ▲" if self.sort == key else " ▼" if self.sort == "-" + key else ""


def table(items: Sequence[Any], keys: dict[str, Callable[[Any], Any]], sort: str | None, default: str,
          page: str | None, size: int, params: dict[str, str] | None = None,
          names: tuple[str, str] = ("sort", "page"), anchor: str = "") -> Table:
    """Sort ``items`` by one of ``keys`` (``-key`` descending; unknown keys fall back to ``default``), then cut
    one page. Sorting is stable, so rows that tie keep their given order (the ranking, the label)."""
    s = clean(sort, 40)
    if s.lstrip("-") not in keys:
        s = default
    key = keys[s.lstrip("-")]
    full = [x for x in items if key(x) not in (None, "")]
    empty = [x for x in items if key(x) in (None, "")]  # rows without the value go last, either way round
    rows = sorted(full, key=lambda x: _sortable(key(x)), reverse=s.startswith("-")) + empty
    pages = max(1, (len(rows) + size - 1) // size)
    pg = min(as_int(page), pages)
    return Table(rows[(pg - 1) * size: pg * size], len(rows), pg, pages, s, dict(params or {}), names, anchor)


def _sortable(v: Any) -> Any:
    return v if isinstance(v, (int, float)) else str(v).casefold()
