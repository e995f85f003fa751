"""Read model of a case for the web pages, through the library (``Case``, ``build_export``, ``rank_suspects``).

Cases are opened once per process and kept. What the pages need from the whole case (the export document, the
suspect ranking, series, leads, the timeline ...) is computed once per case version by ``ringtrace run``
(``dissemination.precomputed``) and read from there; a view that is missing or stale (an older case, or the case
changed since) is computed here with the same library function, once per version. The only writes are audit
entries, and those of the web (``web.*``) do not change the version.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.dissemination import precomputed
from ringtrace.dissemination.export import build_export
from ringtrace.dissemination.export_types import ExportDoc, Media
from ringtrace.store import schema as S

T = TypeVar("T")


@dataclass
class CaseData:
    export: ExportDoc
    counts: dict[str, int]
    version: str  # precomputed.fingerprint of the case these values were read or computed at
    problems: list[dict[str, Any]] = field(default_factory=list)
    derived: dict[str, Any] = field(default_factory=dict)
    stored: precomputed.Stored | None = None  # the views ``ringtrace run`` stored for this version, if any
    # re-entrant: a derived value may be made from other derived values (the graph from the ranking)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """A value derived from this version of the case, computed once per version.

        The whole ``CaseData`` is dropped when the case's fingerprint changes, so the memo never outlives the data
        it was computed from.
        """
        with self.lock:
            if key not in self.derived:
                self.derived[key] = make()
                gc.freeze()  # long-lived from now on: see CaseCache.data
            value: T = self.derived[key]
            return value

    def view(self, name: str, case: Case) -> Any:
        """One of the library's read views (``precomputed.VIEWS``): the stored one when ``ringtrace run`` stored it
        for this version, else computed now (audit entries it writes are ``web.*``, see ``QuietCase``)."""

        def make() -> Any:
            if self.stored is not None:
                ok, value = self.stored.get(name)
                if ok:
                    return value
            return precomputed.VIEWS[name](quiet(case), self.export)

        return self.memo("view:" + name, make)


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
        ver = precomputed.fingerprint(case)
        cached = self._data.get(case.path)
        if cached is not None and cached.version == ver:
            return cached
        # The read model is millions of long-lived objects (a medium case's export alone): Python's full collections
        # walk them all, 0.5-0.8 s each, at random requests. They are moved out of the collector's sight once
        # loaded (gc.freeze) and given back to it when a new version replaces them (gc.unfreeze).
        gc.unfreeze()
        self._data.pop(case.path, None)
        stored = precomputed.Stored.open(case.path, ver)
        ok, found = stored.get("export") if stored is not None else (False, None)
        doc: ExportDoc = found if ok and found is not None else build_export(case)
        cd = CaseData(doc, {}, ver, stored=stored)
        ov = cd.view("overview", case)
        cd.counts, cd.problems = ov["counts"], ov["problems"]
        self._data[case.path] = cd
        gc.collect()
        gc.freeze()
        return cd


def media_index(data: CaseData) -> tuple[dict[str, list[Media]], dict[str, list[Media]]]:
    """Person label -> the media they shared, group label -> the media shared in it (export order), once per case
    version: a person's or group's page does not walk every media item of the case."""

    def make() -> tuple[dict[str, list[Media]], dict[str, list[Media]]]:
        by_person: dict[str, list[Media]] = defaultdict(list)
        by_group: dict[str, list[Media]] = defaultdict(list)
        for m in data.export["media"]:
            for p in dict.fromkeys(m["shared_by"]):
                by_person[p].append(m)
            for g in dict.fromkeys(m.get("shared_in") or []):
                by_group[g].append(m)
        return dict(by_person), dict(by_group)

    result: tuple[dict[str, list[Media]], dict[str, list[Media]]] = data.memo("media_index", make)
    return result


def persons_by_label(data: CaseData) -> dict[str, Any]:
    result: dict[str, Any] = data.memo("persons_by_label", lambda: {p["id"]: p for p in data.export["persons"]})
    return result


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
    """Person label -> best name and best number (``readmodel.who``), once per case version."""
    result: dict[str, dict[str, str]] = data.view("who", case)
    return result


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
