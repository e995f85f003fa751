"""The same evidence gives the same export document however its sources were ingested (issue 12 item 9): lists are
sorted on keys the evidence carries, never on row ids, which an interrupted or reordered ingest changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ringtrace
from ringtrace.case import Case
from ringtrace.matching.sets import import_hashset
from ringtrace.stages.intake import ingest


def _case(path: Path, op: Path, order: list[dict[str, Any]], decoy_first: bool) -> Path:
    case = Case.init(path, name="order", actor="tester")
    if decoy_first:  # an ingest that was interrupted and removed leaves its row ids used: later ids all move
        r = ingest(case, op / order[0]["path"], exhibit="EX-TMP", parse=False)
        with case.begin() as con:
            from sqlalchemy import delete

            from ringtrace.store import schema as S

            # (reversed, the first is the computer's disk image: its image and file rows go too)
            for table in (S.problems, S.source_files, S.disk_files, S.disk_images):
                con.execute(delete(table).where(table.c.source_id == r.source_id))
            con.execute(delete(S.sources).where(S.sources.c.id == r.source_id))
    for ex in order:
        ingest(case, op / ex["path"], exhibit=ex["exhibit"], timezone=ex.get("timezone", "UTC"),
               owner=ex.get("owner"), region=ex.get("region"), seizure_country=ex.get("seizure_country"),
               examiner="demo")
    manifest = json.loads((op / "operation.json").read_text(encoding="utf-8"))
    for hl in manifest.get("hashlists", []):
        import_hashset(case, op / hl["path"], name=hl["name"], format=hl.get("format"))
    ringtrace.run(case)
    out = path.parent / f"{path.name}.json"
    ringtrace.export(case, out, with_messages=True)
    case.close()
    return out


def _order(p: Path) -> dict[str, list[Any]]:
    """The order of every list, told by keys the evidence carries (row ids and source-scoped names left out)."""
    d = json.loads(p.read_text(encoding="utf-8"))
    seen = lambda xs: [(x["source"], x["location"], x["at"]) for x in xs]  # noqa: E731
    return {
        "sources": [s["exhibit"] for s in d["sources"]],
        "persons": [p["id"] for p in d["persons"]],
        "groups": [g["id"] for g in d["groups"]],
        "members": [[m["person"] for m in g["members"]] for g in d["groups"]],
        "media": [m["sha256"] for m in d["media"]],
        "media files": [[(f["source"], f["path"]) for f in m["files"]] for m in d["media"]],
        "invite_links": [(x["platform"], x["code"]) for x in d["invite_links"]],
        "invite sightings": [seen(x["seen"]) for x in d["invite_links"]],
        "indicators": [(x["kind"], x["value"]) for x in d["indicators"]],
        "indicator sightings": [seen(x["seen"]) for x in d["indicators"]],
        "messages": [(m["at"], m["source"], m["location"], m["kind"]) for m in d.get("messages", [])],
    }


def test_export_order_does_not_depend_on_ingest_order_or_row_ids(tiny_operation: Path, tmp_path: Path) -> None:
    exhibits = json.loads((tiny_operation / "operation.json").read_text(encoding="utf-8"))["exhibits"]
    a = _order(_case(tmp_path / "a", tiny_operation, exhibits, decoy_first=False))
    b = _order(_case(tmp_path / "b", tiny_operation, list(reversed(exhibits)), decoy_first=True))
    assert a["messages"] and a["indicator sightings"]
    for key in a:
        assert a[key] == b[key], key
