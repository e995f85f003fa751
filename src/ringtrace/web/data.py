"""Read model of a case for the web pages, through the library (``Case``, ``build_export``, ``rank_suspects``).

Cases are opened once per process and kept; the export document is rebuilt only when the case's data changed
(new sources, stage runs, hash sets, overrides), not on every page. The only writes are audit entries.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ringtrace.audit import verify_chain
from ringtrace.case import Case
from ringtrace.store import schema as S


@dataclass
class CaseData:
    export: dict[str, Any]
    counts: dict[str, int]
    version: tuple[Any, ...]
    problems: list[dict[str, Any]] = field(default_factory=list)


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


def person_groups(doc: dict[str, Any], label: str) -> list[dict[str, Any]]:
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


def media_summary(doc: dict[str, Any]) -> dict[str, int]:
    c: Counter[str] = Counter()
    for m in doc["media"]:
        for x in m["matches"]:
            c[x.get("category") or "uncategorised"] += 1
    return dict(sorted(c.items()))


def case_audit(case: Case, limit: int = 500) -> tuple[list[dict[str, Any]], int, list[str]]:
    """Latest audit entries (newest first), how many there are, and any chain breaks."""
    with case.engine.connect() as con:
        rows = [dict(r._mapping) for r in con.execute(select(S.audit_log).order_by(S.audit_log.c.seq.desc())
                                                       .limit(limit))]
        total = int(con.execute(select(func.count()).select_from(S.audit_log)).scalar() or 0)
        breaks = [f"entry {b.seq}: {b.reason}" for b in verify_chain(con)]
    return rows, total, breaks


def media_path(case: Case, sha256: str) -> Path | None:
    """Where the bytes of a content can be read: its vault object, else a reference-mode source's file."""
    from ringtrace.case import content_path

    return content_path(case, sha256)


def known_media(case: Case, sha256: str) -> dict[str, Any] | None:
    with case.engine.connect() as con:
        r = con.execute(select(S.media).where(S.media.c.sha256 == sha256)).first()
    return dict(r._mapping) if r else None
