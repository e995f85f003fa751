"""A match on a plain hash list exports the list's line number, never the store's internal row id."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

import ringtrace
from ringtrace.case import Case
from ringtrace.matching.hashsets import read_hashset
from ringtrace.matching.hashsets.model import HashEntry
from ringtrace.matching.sets import import_hashset
from ringtrace.store import schema as S
from ringtrace.synth.formats.captures import PageSpec, write_captures


def _png(seed: int) -> bytes:
    arr = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, format="PNG")
    return buf.getvalue()


def test_plain_reader_names_each_entry_by_its_line(tmp_path: Path) -> None:
    p = tmp_path / "l.txt"
    p.write_text("# comment\n\n" + "a" * 32 + "\npdq " + "b" * 64 + "\ttag\n", encoding="utf-8")
    got = [e for e in read_hashset(p, "plain") if isinstance(e, HashEntry)]
    assert [e.raw_id for e in got] == ["line 3", "line 4"]


def test_pdq_match_on_plain_list_exports_line_number(tmp_path: Path) -> None:
    pages = [PageSpec(uri="http://board.example/t/1", captured_at=datetime(2025, 5, 1, tzinfo=UTC),
                      title="page", links=[], images=[_png(3)])]
    write_captures(pages, tmp_path / "captures", seed=1)
    case = Case.init(tmp_path / "case", actor="tester")
    ringtrace.ingest(case, tmp_path / "captures", exhibit="EX-1")
    ringtrace.run(case)
    with case.engine.connect() as con:
        pdqs = [r.pdq for r in con.execute(select(S.media.c.pdq)) if r.pdq]
    assert pdqs
    # decoy lines first so that the entry's row id (1 or 2 within this list) can never equal its line number
    lines = ["# a plain PDQ list", "", "# decoys below are far from any image"]
    lines += ["pdq " + "0" * 64, "pdq " + "f" * 64]
    lines += [f"pdq {pdqs[0]}"]
    hl = tmp_path / "list.txt"
    hl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_hashset(case, hl, name="plain-pdq")
    ringtrace.run(case)
    out = ringtrace.export(case, tmp_path / "export.json")
    doc = json.loads(out.read_text(encoding="utf-8"))
    entries = {(m["hashset"], m["entry"], m["method"]) for x in doc["media"] for m in x["matches"]}
    assert ("plain-pdq", "line 6", "pdq") in entries
    assert all(e == "line 6" for h, e, _ in entries if h == "plain-pdq")
