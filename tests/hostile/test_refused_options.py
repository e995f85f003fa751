"""Issue 12 items 10, 11, 12 (ingest half) and 14 (the problem count): mistakes refused before anything changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ringtrace.case import Case
from ringtrace.demo import MARK, DemoError, run_demo
from ringtrace.stages.intake import IntakeError, ingest
from ringtrace.store import schema as S


def _evidence(tmp: Path, name: str = "phone") -> Path:
    ev = tmp / name
    ev.mkdir()
    (ev / "notes.txt").write_text(f"synthetic notes {name}\n", encoding="utf-8")
    return ev


def _stored(case: Case) -> tuple[int, int, int]:
    with case.engine.connect() as con:
        return (int(con.execute(select(func.count()).select_from(S.sources)).scalar_one()),
                int(con.execute(select(func.count()).select_from(S.source_files)).scalar_one()),
                sum(1 for _ in case.vault.iter_objects()))


@pytest.mark.parametrize("kw,why", [
    ({"owner": "12345"}, "not a valid phone number"),
    ({"owner": "not a number"}, "not a valid phone number"),
    ({"seizure_country": "Spain"}, "ISO 3166 alpha-2"),
    ({"seizure_country": "XX"}, "ISO 3166 alpha-2"),
    ({"region": "España"}, "ISO 3166 alpha-2"),
    ({"format": "foo"}, "not a known source format"),
    ({"key": "/nonexistent/dir/key"}, "--key"),
    ({"key": "abcd"}, "--key"),
    ({"exhibit": "EX\n1"}, "printable"),
])
def test_bad_option_refused_before_anything_is_stored(case: Case, tmp_path: Path, kw: dict[str, str],
                                                      why: str) -> None:
    ev = _evidence(tmp_path)
    with pytest.raises(IntakeError, match=why):
        ingest(case, ev, **kw)  # type: ignore[arg-type]
    assert _stored(case) == (0, 0, 0)


def test_key_file_of_the_wrong_size_refused(case: Case, tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"\x01" * 31)
    with pytest.raises(IntakeError, match="not a WhatsApp key"):
        ingest(case, _evidence(tmp_path), key=str(key))
    assert _stored(case) == (0, 0, 0)


def test_good_options_are_normalised(case: Case, tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    key.write_text("ab" * 32, encoding="ascii")
    r = ingest(case, _evidence(tmp_path), owner="612 34 56 78", region="es", seizure_country="it",
               format="text_capture", key=str(key), parse=False)
    with case.engine.connect() as con:
        row = con.execute(select(S.sources).where(S.sources.c.id == r.source_id)).one()
    assert (row.owner, row.region, row.seizure_country) == ("+34612345678", "ES", "IT")


def test_exhibit_number_unique_per_case(case: Case, tmp_path: Path) -> None:
    ingest(case, _evidence(tmp_path, "a"), exhibit="EX-7", parse=False)
    before = _stored(case)
    with pytest.raises(IntakeError, match="EX-7 is already used"):
        ingest(case, _evidence(tmp_path, "b"), exhibit="EX-7", parse=False)
    assert _stored(case) == before
    again = ingest(case, tmp_path / "a", exhibit="EX-7", parse=False)  # the same exhibit again: nothing added
    assert not again.added and _stored(case) == before


def test_reported_problem_count_is_what_is_stored(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "chats"
    ev.mkdir()
    good = "\n".join(f"0{d}/03/2025, 10:0{d} - +34 612 34 56 7{d}: hello {d}" for d in range(1, 8)) + "\n"
    (ev / "WhatsApp Chat with Good.txt").write_text(good, encoding="utf-8")
    (ev / "WhatsApp Chat with Latin.txt").write_bytes(good.replace("hello", "caf\xe9").encode("latin-1"))
    r = ingest(case, ev)
    with case.engine.connect() as con:
        stored = con.execute(select(func.count()).select_from(S.problems)
                             .where(S.problems.c.source_id == r.source_id)
                             .where(S.problems.c.stage == "parse")).scalar_one()
    assert r.parse is not None and stored >= 1
    assert getattr(r.parse, "problems") == stored  # noqa: B009 - IntakeResult.parse is typed object


def test_demo_bad_scale_touches_nothing(tmp_path: Path) -> None:
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "precious.txt").write_text("keep me\n", encoding="utf-8")
    with pytest.raises(DemoError, match="huge"):
        run_demo(tmp_path, scale="huge")
    assert (tmp_path / "case" / "precious.txt").is_file()
    assert not (tmp_path / "operation").exists()


def test_demo_never_deletes_a_case_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "precious.txt").write_text("keep me\n", encoding="utf-8")
    with pytest.raises(DemoError, match="not made by the demo"):
        run_demo(tmp_path, scale="small")
    assert (tmp_path / "case" / "precious.txt").is_file()
    assert MARK.startswith(".")
