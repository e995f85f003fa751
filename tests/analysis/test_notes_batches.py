"""The notes stage extracts once per (region, seizure country), not once per document: the entities stored are
those of the plain per-document extraction, in the same order, whatever region each document's exhibit has."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ringtrace.indicators.note_entities import NoteLine, extract_note_entities
from ringtrace.stages.notes import _holders, _lines_by_content, case_accounts, notes_stage
from ringtrace.store import schema as S

from .helpers import add_source, sha
from .test_note_links import _case

OTHER_ES, IN_US = sha("note-two-es"), sha("note-us")


def _add_note(case, source_id: int, content: str, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    with case.begin() as con:
        con.execute(S.source_files.insert().values(source_id=source_id, relpath=f"notes/{content[:8]}.png", size=1,
                                                   sha256=content, md5="0" * 32, sha1="0" * 40))
        for i, text in enumerate(lines, start=1):
            con.execute(S.text_lines.insert().values(
                sha256=content, origin="ocr", page=1, line_no=i, text=text, box_left=5, box_top=20 * i,
                box_width=400, box_height=18, confidence=90.0, by="tesseract", at=datetime(2026, 1, 1, tzinfo=UTC)))


def _per_document(case) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """The rule, plainly: each document extracted on its own with its exhibit's region."""
    out: list[tuple[object, ...]] = []
    with case.engine.connect() as con:
        by_sha = _lines_by_content(con)
        holders = _holders(con, set(by_sha))
        _phones, names = case_accounts(con)
    for content, lines in sorted(by_sha.items()):
        region, seized, _exhibit = holders.get(content, (None, None, "?"))
        found = extract_note_entities([ln for _, ln in lines], region=region or seized,
                                      known_names=[n.value for n in names],
                                      prefer_countries=[c for c in (region, seized) if c])
        out.extend(_key(e.line, e.kind, e.value, e.start, e.end, e.country, e.precision) for e in found)
    return out


def _key(line: NoteLine, *rest: object) -> tuple[object, ...]:
    return (line.sha256, line.page, line.line_no, *rest)


def test_entities_are_those_of_one_extraction_per_document(tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = _case(tmp_path)  # one ES note already (NOTE)
    es = 1
    us = add_source(case, "EX-2", region="US", seizure="US")
    # the same date on each: read day-first in Spain, month-first in the US
    _add_note(case, es, OTHER_ES, ["Enzo Varnett 5/6/2003, tel 612 345 678", "Rita Colm, 14, Burgos"])
    _add_note(case, us, IN_US, ["Enzo Varnett 5/6/2003", "call (212) 555-0143", "Ned Orly 10 Boston"])
    want = _per_document(case)
    s = notes_stage(case)
    assert s.documents == 3 and s.lines == 5 + 2 + 3
    with case.engine.connect() as con:
        got = [(r.sha256, r.page, r.line_no, r.kind, r.value, r.span_start, r.span_end, r.country, r.date_precision)
               for r in con.execute(select(S.note_entities).order_by(S.note_entities.c.id))]
    assert got == want
    dates = {(r[0], r[4]) for r in got if r[3] == "date"}
    assert (OTHER_ES, "2003-06-05") in dates and (IN_US, "2003-05-06") in dates  # each with its own region
    case.close()
