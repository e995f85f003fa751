"""Analysts' decisions name labels; a label merged into another by a later analysis must not lose them
(issue 12 item 13), and a decision on a person who does not exist is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

import ringtrace
from ringtrace.analysis.countries import CountryError, set_country
from ringtrace.analysis.persons import add_alias
from ringtrace.case import Case
from ringtrace.dissemination.status import current_statuses, set_status
from ringtrace.store import schema as S


@pytest.fixture
def analysed(tmp_path: Path, tiny_operation: Path):  # type: ignore[no-untyped-def]
    from ringtrace.demo import ingest_operation

    case = Case.init(tmp_path / "case", name="t", actor="tester")
    ingest_operation(case, tiny_operation)
    ringtrace.run(case)
    yield case
    case.close()


def _two_phone_persons(case: Case) -> tuple[tuple[str, str], tuple[str, str]]:
    q = (select(S.persons.c.label, S.accounts.c.platform, S.accounts.c.kind, S.accounts.c.value)
         .join(S.person_accounts, S.person_accounts.c.person_id == S.persons.c.id)
         .join(S.accounts, S.accounts.c.id == S.person_accounts.c.account_id)
         .where(S.accounts.c.kind == "phone").order_by(S.persons.c.label))
    with case.engine.connect() as con:
        seen: dict[str, str] = {}
        for label, p, k, v in con.execute(q):
            seen.setdefault(label, f"{p}:{k}:{v}")
    (a, acc_a), (b, acc_b) = list(seen.items())[:2]
    return (a, acc_a), (b, acc_b)


def test_unknown_persons_and_accounts_are_refused(analysed: Case) -> None:
    with pytest.raises(CountryError, match="no person P9999"):
        set_country(analysed, "P9999", "IT", "A. Examiner", "address in notes")
    with pytest.raises(CountryError, match="no account"):
        set_country(analysed, "whatsapp:phone:+34600000000", "ES", "A. Examiner", "reason")
    with analysed.engine.connect() as con:
        assert con.execute(select(S.overrides).where(S.overrides.c.kind == "country")).first() is None


def test_a_country_and_a_status_follow_a_person_merged_by_an_alias(analysed: Case) -> None:
    (keep, acc_keep), (gone, acc_gone) = _two_phone_persons(analysed)
    set_country(analysed, gone, "PT", "A. Examiner", "address in seized notes")
    set_status(analysed, gone, "arrested", "PT liaison")
    add_alias(analysed, acc_keep, acc_gone, "A. Examiner", "same messages from both numbers")
    ringtrace.run(analysed)
    with analysed.engine.connect() as con:
        labels = {r.label for r in con.execute(select(S.persons.c.label))}
        row = con.execute(select(S.persons).where(S.persons.c.label == keep)).one()
        statuses = current_statuses(con)
    assert gone not in labels and keep in labels  # merged: the lower label is kept
    assert row.country == "PT" and row.country_confidence == 1.0
    assert f"decided on {gone}, since merged into {keep}" in row.country_basis
    assert statuses[keep].status == "arrested" and f"set on {gone}" in (statuses[keep].note or "")
    # a later decision must name the label that holds the person now
    with pytest.raises(CountryError, match=f"{gone} was merged into {keep}"):
        set_country(analysed, gone, "ES", "A. Examiner", "second thoughts")
