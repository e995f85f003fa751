"""The notes stage: a note's numbers and names tied to persons (never merged), the rest possible victims."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ringtrace.stages.analyze import analyze_stage
from ringtrace.stages.notes import notes_stage
from ringtrace.store import schema as S

from .helpers import add_source, gchat, grp, msg, name, new_case, part, sha, t, wa, write

NOTE = sha("note-page")


def _case(tmp_path):  # type: ignore[no-untyped-def]
    case = new_case(tmp_path)
    sid = add_source(case, "EX-1", region="ES", seizure="ES")
    g = gchat("111-222@g.us")
    a, b = wa("+34612345678"), wa("+393471234567")
    write(case, sid, [grp(g, "club"), part(g, a), part(g, b), name(a, "Bruno Quillon"), name(b, "Enzo Varnet"),
                      msg(g, "1", a, t(1), "hola"), msg(g, "2", b, t(2), "ciao")])
    analyze_stage(case)
    lines = [
        "Contacts",
        "Bruno Quilon, tel 612 345 678",  # the number ties him exactly; the name too (one letter off)
        "Enzo Varnett - Roma",  # a name like a person of the case
        "Alba Pym, 12, Toledo, 3/4/2004",  # nobody of the case: a possible victim
        "Gala Drayle 9 Lugo; Hugo Sallow 11 Vigo",
    ]
    with case.begin() as con:
        con.execute(S.source_files.insert().values(source_id=sid, relpath="notes/page1.png", size=1, sha256=NOTE,
                                                   md5="0" * 32, sha1="0" * 40))
        for i, text in enumerate(lines, start=1):
            con.execute(S.text_lines.insert().values(
                sha256=NOTE, origin="ocr", page=1, line_no=i, text=text, box_left=10, box_top=30 * i,
                box_width=600, box_height=25, confidence=88.0, by="tesseract", at=datetime(2026, 1, 1, tzinfo=UTC)))
    return case


def test_numbers_and_names_tie_to_persons_with_basis(tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = _case(tmp_path)
    with case.engine.connect() as con:
        before = sorted(r.label for r in con.execute(select(S.persons)))
    s = notes_stage(case)
    assert s.documents == 1 and s.lines == 5
    with case.engine.connect() as con:
        links = con.execute(select(S.note_links, S.note_entities.c.kind, S.note_entities.c.value)
                            .join(S.note_entities, S.note_entities.c.id == S.note_links.c.entity_id)).all()
    phone = [lk for lk in links if lk.kind == "phone"]
    assert len(phone) == 1 and phone[0].score == 100 and "+34612345678" in phone[0].basis
    names = {(lk.value, lk.matched) for lk in links if lk.kind == "name"}
    assert ("Bruno Quilon", "Bruno Quillon") in names and ("Enzo Varnett", "Enzo Varnet") in names
    assert all("token-sort ratio" in lk.basis for lk in links if lk.kind == "name")
    # suggestions only: no person was merged or made, now or by the next analysis
    analyze_stage(case)
    with case.engine.connect() as con:
        assert sorted(r.label for r in con.execute(select(S.persons))) == before == ["P0001", "P0002"]


def test_people_tied_to_nobody_are_possible_victims(tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = _case(tmp_path)
    notes_stage(case)
    with case.engine.connect() as con:
        vs = {r.name: r for r in con.execute(select(S.possible_victims))}
    assert set(vs) == {"Alba Pym", "Gala Drayle", "Hugo Sallow"}
    alba = vs["Alba Pym"]
    assert (alba.age, alba.place, alba.place_country, alba.country) == (12, "Toledo", "ES", "ES")
    assert alba.dates == ["2004-04-03"] and (alba.page, alba.line_no, alba.sha256) == (1, 4, NOTE)
    assert (vs["Gala Drayle"].age, vs["Gala Drayle"].place) == (9, "Lugo")
    assert (vs["Hugo Sallow"].age, vs["Hugo Sallow"].place) == (11, "Vigo")


def test_a_transcription_replaces_the_ocr_of_its_page_and_reruns_are_idempotent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = _case(tmp_path)
    with case.begin() as con:
        con.execute(S.text_lines.insert().values(sha256=NOTE, origin="transcription", page=1, line_no=1,
                                                 text="Ines Korvish, 10, Badajoz", by="examiner",
                                                 at=datetime(2026, 1, 2, tzinfo=UTC)))
    first = notes_stage(case)
    again = notes_stage(case)
    assert first.entities == again.entities and first.lines == 1
    with case.engine.connect() as con:
        assert [r.name for r in con.execute(select(S.possible_victims))] == ["Ines Korvish"]
        assert {r.origin for r in con.execute(select(S.note_entities))} == {"transcription"}
        assert len(con.execute(select(S.audit_log).where(S.audit_log.c.action == "stage.notes")).all()) == 2
