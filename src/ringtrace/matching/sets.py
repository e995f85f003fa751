"""Hash sets in the case: import and remove lists, export the case's media as VICS, the unknown-series queue.

Import streams a list into ``hash_entries`` in batches (10 million rows in bounded memory). The match stage that
joins media to these lists is ``ringtrace.stages.match``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select

from ringtrace.case import Case
from ringtrace.lock import writes_case
from ringtrace.matching.hashsets import read_hashset
from ringtrace.matching.hashsets.model import CategoryScheme, HashEntry, HashListError, HashListProblem
from ringtrace.matching.pdq_index import PDQIndex, hex_to_array
from ringtrace.store import new_id
from ringtrace.store import schema as S
from ringtrace.vault import digest_file

MATCH_MIN_QUALITY = 50
BATCH = 20_000


class HashsetError(Exception):
    pass


@dataclass
class ImportResult:
    name: str
    format: str
    entries: int
    problems: list[str] = field(default_factory=list)


def _load_scheme(path: Path | None) -> CategoryScheme | None:
    if path is None:
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return CategoryScheme(name=str(doc.get("name", path.stem)), mapping={str(k): str(v) for k, v in
                                                                            doc["mapping"].items()},
                              default=doc.get("default", "uncategorised"))
    except (OSError, ValueError, KeyError, AttributeError) as e:
        raise HashsetError(f"{path}: not a category scheme ({{'name', 'mapping', 'default'}} JSON): {e}") from e


@writes_case
def import_hashset(case: Case, file: Path, name: str | None = None, format: str | None = None,
                   scheme_path: Path | None = None, pdq_distance: int = 31) -> ImportResult:
    from ringtrace.matching.hashsets import sniff_format

    if not file.is_file():
        raise HashsetError(f"{file}: no such file")
    name = name or file.stem
    scheme = _load_scheme(scheme_path)
    try:
        fmt = format or sniff_format(file)
    except HashListError as e:
        raise HashsetError(str(e)) from e
    d = digest_file(file)
    with case.engine.connect() as con:
        if con.execute(select(S.hashsets.c.id).where(S.hashsets.c.name == name)).first():
            raise HashsetError(f"a hash set named {name!r} is already in the case (remove it first, or use --name)")
    res = ImportResult(name, fmt, 0)
    with case.begin() as con:
        hid = new_id(con.execute(insert(S.hashsets).values(
            name=name, format=fmt, file_sha256=d.sha256, original_path=str(file.resolve()),
            category_scheme=scheme.name if scheme else None, pdq_distance=pdq_distance,
            imported_at=datetime.now(UTC))))
        batch: list[dict[str, Any]] = []
        try:
            for item in read_hashset(file, fmt, scheme):
                if isinstance(item, HashListProblem):
                    where = f"line {item.line}" if item.line else (item.position or "")
                    res.problems.append(f"{item.file}: {where}: {item.reason}")
                    continue
                batch.append(_entry_row(hid, item))
                if len(batch) >= BATCH:
                    con.execute(insert(S.hash_entries), batch)
                    res.entries += len(batch)
                    batch = []
        except HashListError as e:
            # the list broke off part-way: keep what was read, say where it stopped
            res.problems.append(str(e))
        if batch:
            con.execute(insert(S.hash_entries), batch)
            res.entries += len(batch)
        con.execute(S.hashsets.update().where(S.hashsets.c.id == hid).values(entry_count=res.entries))
        case.log("hashset.import", {"name": name, "format": fmt, "file": str(file.resolve()), "sha256": d.sha256,
                                    "entries": res.entries, "refused": len(res.problems),
                                    "scheme": scheme.name if scheme else None}, con)
        for p in res.problems[:1000]:
            con.execute(S.problems.insert().values(stage="hashsets", file=str(file), reason=p, severity="warning",
                                                   at=datetime.now(UTC)))
    if res.entries == 0:
        res.problems.append(f"{file}: no usable entries")
    return res


def _entry_row(hid: int, e: HashEntry) -> dict[str, Any]:
    return {"hashset_id": hid, "md5": e.md5, "sha1": e.sha1, "sha256": e.sha256, "pdq": e.pdq,
            "photodna": e.photodna, "category": e.category, "raw_category": e.raw_category, "series": e.series,
            "victim_identified": e.victim_identified, "offender_identified": e.offender_identified,
            "raw_id": e.raw_id, "position": e.line}


@writes_case
def remove_hashset(case: Case, name: str) -> None:
    with case.begin() as con:
        hid = con.execute(select(S.hashsets.c.id).where(S.hashsets.c.name == name)).scalar()
        if hid is None:
            raise HashsetError(f"no hash set named {name!r}")
        con.execute(delete(S.matches).where(S.matches.c.hashset_id == hid))
        con.execute(delete(S.hash_entries).where(S.hash_entries.c.hashset_id == hid))
        con.execute(delete(S.hashsets).where(S.hashsets.c.id == hid))
        case.log("hashset.remove", {"name": name}, con)


def export_vics(case: Case, out: Path) -> int:
    """The case's media as Project VIC VICS JSON 2.0 (Media form), categories from the best match or, where an
    investigator categorised the item, theirs."""
    from ringtrace.matching.vics_export import write_vics_json

    with case.engine.connect() as con:
        cat: dict[str, str | None] = {}
        for r in con.execute(select(S.matches.c.media_sha256, S.hash_entries.c.raw_category)
                             .join(S.hash_entries, S.hash_entries.c.id == S.matches.c.entry_id)):
            cat.setdefault(r.media_sha256, r.raw_category)
        known = set(cat)
        # an investigator's categorisation (web decisions, latest wins) goes over the lists' category
        for r in con.execute(select(S.media_categories.c.sha256, S.media_categories.c.category)
                             .order_by(S.media_categories.c.id)):
            cat[r.sha256] = r.category
        items = [{"md5": r.md5, "sha1": r.sha1, "sha256": r.sha256, "pdq": r.pdq, "media_size": r.size,
                  "category": cat.get(r.sha256), "is_distributed": r.sha256 in known}
                 for r in con.execute(select(S.media).where(S.media.c.md5 != "").order_by(S.media.c.sha256))]
    n = write_vics_json(items, out, case.name)
    case.log("export.vics", {"path": str(out), "items": n})
    return n


# ---- unknown series -----------------------------------------------------------------------------------------


@dataclass
class SeriesRow:
    rank: int
    size: int
    devices: list[str]
    persons: list[str]
    groups: list[str]
    media: list[str]  # sha256 of the items, never their content


def unknown_series(case: Case, threshold: int = 31, min_size: int = 2) -> list[SeriesRow]:
    """Media that matches no list, clustered by PDQ distance across every device: the victim-identification
    queue, ranked by how many devices, persons and groups hold each series."""
    from ringtrace.matching.series import Holders, connected_components, rank_series

    with case.engine.connect() as con:
        matched = {r[0] for r in con.execute(select(S.matches.c.media_sha256).distinct())}
        items = [(r.sha256, r.pdq_dihedral) for r in con.execute(
            select(S.media.c.sha256, S.media.c.pdq_dihedral).where(S.media.c.pdq_quality >= MATCH_MIN_QUALITY)
            .where(S.media.c.pdq_dihedral.is_not(None)).order_by(S.media.c.sha256)) if r.sha256 not in matched]
        if not items:
            return []
        exhibit = {r.id: r.exhibit for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
        devices: dict[str, set[str]] = {}
        for r in con.execute(select(S.source_files.c.sha256, S.source_files.c.source_id)):
            devices.setdefault(r.sha256, set()).add(exhibit[r.source_id])
        person_of = {r.account_id: r.person_id for r in con.execute(select(S.person_accounts))}
        plabel = {r.id: r.label for r in con.execute(select(S.persons.c.id, S.persons.c.label))}
        group_of = {r.chat_id: r.group_id for r in con.execute(select(S.group_chats))}
        glabel = {r.id: r.label for r in con.execute(select(S.groups.c.id, S.groups.c.label))}
        persons: dict[str, set[str]] = {}
        groups: dict[str, set[str]] = {}
        q = (select(S.message_media.c.sha256, S.messages.c.sender_id, S.messages.c.chat_id, S.messages.c.source_id)
             .join(S.messages, S.messages.c.id == S.message_media.c.message_id)
             .where(S.message_media.c.sha256.is_not(None)))
        for row in con.execute(q):
            devices.setdefault(row.sha256, set()).add(exhibit[row.source_id])
            pid = person_of.get(row.sender_id)
            if pid is not None:
                persons.setdefault(row.sha256, set()).add(plabel[pid])
            gid = group_of.get(row.chat_id)
            if gid is not None:
                groups.setdefault(row.sha256, set()).add(glabel[gid])
    # a rotated or mirrored copy belongs to the same series: link items through all 8 dihedral hashes
    index = PDQIndex(hex_to_array([d.split(",")[0] for _, d in items]))
    pairs = index.search_dihedral(np.stack([hex_to_array(d.split(",")) for _, d in items]), threshold)
    a = np.array([p[0] for p in pairs if p[0] != p[1]], dtype=np.int64)
    b = np.array([p[1] for p in pairs if p[0] != p[1]], dtype=np.int64)
    labels = connected_components(len(items), a, b)
    holders = [Holders(frozenset(devices.get(s, ())), frozenset(persons.get(s, ())), frozenset(groups.get(s, ())))
               for s, _ in items]
    out = []
    for i, ser in enumerate(rank_series(labels, holders, min_size=min_size), start=1):
        out.append(SeriesRow(i, ser.size, sorted(ser.devices), sorted(ser.persons), sorted(ser.groups),
                             [items[j][0] for j in ser.members]))
    case.log("analysis.series", {"series": len(out), "unmatched_media": len(items), "threshold": threshold})
    return out
