"""What the person and group pages add to the export: where each identifier and name was seen, devices, media
with known-material badges, score components. Every list is bounded; everything keeps its exhibit and file."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.dissemination.export_types import ExportDoc, Media, Person
from ringtrace.store import schema as S

MAX_ROWS = 500


def _person_accounts(con: Connection, label: str) -> list[int]:
    pa, p = S.person_accounts, S.persons
    return [int(x) for x in con.execute(select(pa.c.account_id).join(p, p.c.id == pa.c.person_id)
                                        .where(p.c.label == label)).scalars()]


def person_dossier(con: Connection, label: str, person: Person, doc: ExportDoc,
                   shared: Sequence[Media]) -> dict[str, Any]:
    """``shared``: the media this person shared (``data.media_index``)."""
    accounts = _person_accounts(con, label)
    exhibit = {int(r.id): str(r.exhibit) for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
    a = S.accounts
    seen: dict[int, set[str]] = defaultdict(set)
    for table, col in ((S.messages, S.messages.c.sender_id), (S.participants, S.participants.c.account_id),
                       (S.names_seen, S.names_seen.c.account_id)):
        for r in con.execute(select(col, table.c.source_id).where(col.in_(accounts)).distinct()):
            seen[int(r[0])].add(exhibit.get(int(r[1]), "?"))
    identifiers = [{"platform": r.platform, "kind": r.kind, "value": r.value, "seen": sorted(seen.get(r.id, ()))}
                   for r in con.execute(select(a).where(a.c.id.in_(accounts)).order_by(a.c.platform, a.c.kind,
                                                                                        a.c.value))]
    ns = S.names_seen
    names = [{"name": r.name, "kind": r.kind, "exhibit": exhibit.get(r.source_id, "?"), "file": r.prov_file}
             for r in con.execute(select(ns.c.name, ns.c.kind, ns.c.source_id, ns.c.prov_file)
                                  .where(ns.c.account_id.in_(accounts)).distinct()
                                  .order_by(ns.c.name, ns.c.source_id).limit(MAX_ROWS))]
    phones = set(person["phones"])
    devices = [{"exhibit": s["exhibit"], "formats": s["formats"], "seizure_country": s["seizure_country"]}
               for s in doc["sources"] if s.get("owner") in phones]
    devices_seen = sorted({e for v in seen.values() for e in v})
    media = [{"sha256": m["sha256"], "kind": m["kind"], "known": bool(m["matches"]),
              "categories": sorted({str(x.get("category") or "uncategorised") for x in m["matches"]}),
              "lists": sorted({str(x["hashset"]) for x in m["matches"]}),
              "first": bool((fs := m.get("first_shared")) and fs.get("person") == label),
              "groups": m.get("shared_in", [])}
             for m in shared]
    media.sort(key=lambda x: (not x["known"], not x["first"], x["sha256"]))
    return {"identifiers": identifiers, "names": names, "devices": devices, "devices_seen": devices_seen,
            "media": media[:MAX_ROWS], "media_total": len(media)}


def group_media(shared_in: Sequence[Media], label: str) -> list[dict[str, Any]]:
    """``shared_in``: the media shared in this group (``data.media_index``)."""
    out = [{"sha256": m["sha256"], "kind": m["kind"], "known": bool(m["matches"]),
            "categories": sorted({str(x.get("category") or "uncategorised") for x in m["matches"]}),
            "lists": sorted({str(x["hashset"]) for x in m["matches"]}),
            "shared_by": m["shared_by"],
            "first": fs if (fs := m.get("first_shared")) and fs.get("group") == label else None}
           for m in shared_in]
    out.sort(key=lambda x: (not x["known"], x["sha256"]))
    return out[:MAX_ROWS]
