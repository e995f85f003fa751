"""Person and group labels survive re-analysis: new evidence never moves a label onto someone else."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

import ringtrace
from ringtrace.analysis.persons import add_alias
from ringtrace.case import Case
from ringtrace.store import schema as S


def _export(folder: Path, title: str, phones: list[str]) -> Path:
    folder.mkdir(parents=True)
    lines = [f"0{i % 9 + 1}/03/2025, 10:{i:02d} - {ph}: hello {i}" for i, ph in enumerate(phones * 2)]
    (folder / f"WhatsApp Chat with {title}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _labels(case: Case) -> dict[str, str]:
    q = (select(S.accounts.c.value, S.persons.c.label)
         .join(S.person_accounts, S.person_accounts.c.account_id == S.accounts.c.id)
         .join(S.persons, S.persons.c.id == S.person_accounts.c.person_id)
         .where(S.accounts.c.kind == "phone"))
    with case.engine.connect() as con:
        return {r.value: r.label for r in con.execute(q)}


def test_labels_are_stable_across_new_evidence_and_merges(case: Case, tmp_path: Path) -> None:
    es, it = "+34612345678", "+393123456789"
    ringtrace.ingest(case, _export(tmp_path / "a", "Garden", [es, it]), timezone="Europe/Madrid")
    ringtrace.run(case)
    first = _labels(case)
    assert set(first) == {es, it}
    # new people whose numbers sort first arrive: the old labels stay where they were
    us, br = "+12015550123", "+5511987654321"
    ringtrace.ingest(case, _export(tmp_path / "b", "Book", [us, br, es]), timezone="Europe/Madrid")
    ringtrace.run(case)
    second = _labels(case)
    assert second[es] == first[es] and second[it] == first[it]
    assert {second[us], second[br]}.isdisjoint(first.values())
    # an analyst merges two people: the lower label survives and the other is never issued again
    add_alias(case, f"whatsapp:phone:{es}", f"whatsapp:phone:{it}", by="tester", reason="same person")
    ringtrace.run(case)
    third = _labels(case)
    kept = min(first[es], first[it])
    assert third[es] == third[it] == kept
    retired = max(first[es], first[it])
    gb = "+447700900123"
    ringtrace.ingest(case, _export(tmp_path / "c", "Quiz", [gb]), timezone="Europe/Madrid")
    ringtrace.run(case)
    fourth = _labels(case)
    assert fourth[gb] not in {retired, *first.values(), second[us], second[br]}
    assert retired not in fourth.values()


def test_group_labels_stable(case: Case, tmp_path: Path) -> None:
    three = ["+34612345678", "+393123456789", "+4915123456789"]  # more than two senders: a group
    ringtrace.ingest(case, _export(tmp_path / "a", "Garden", three), timezone="UTC")
    ringtrace.run(case)
    with case.engine.connect() as con:
        before = {r.label for r in con.execute(select(S.groups.c.label))}
    assert before
    ringtrace.ingest(case, _export(tmp_path / "b", "Alpha", ["+12015550123", "+5511987654321", "+33612345678"]),
                     timezone="UTC")
    ringtrace.run(case)
    with case.engine.connect() as con:
        after = {r.label for r in con.execute(select(S.groups.c.label))}
    assert before < after
