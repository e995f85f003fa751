"""Possible victims in the web app: a grant of their own, 404 to everyone else, every view audited, escaped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select

from tests.web.helpers import HOSTILE, LoggedIn


@pytest.fixture
def victims(web_case: Path):  # type: ignore[no-untyped-def]
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(web_case) as case, case.begin() as con:
        con.execute(insert(S.possible_victims).values(
            label="V0001", name=HOSTILE, age=12, place="Toledo", place_country="ES", country="ES",
            country_basis="the place written beside the name (Toledo) is in ES", dates=["2004-04-03"],
            sha256="f" * 64, page=1, line_no=4, entity_ids=[1], basis="named on a note; ties to no person"))
    yield
    with Case.open(web_case) as case, case.begin() as con:
        con.execute(delete(S.possible_victims))


def test_only_users_with_the_victims_grant_see_them(app, logged_in: LoggedIn, web_case: Path, victims) -> None:  # type: ignore[no-untyped-def]
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    c = logged_in("ivy")  # granted the case, not its victims
    cid = app.state.web.store.list_cases()[0].id
    assert c.get(f"/cases/{cid}/victims").status_code == 404
    assert "Possible victims" not in c.get(f"/cases/{cid}").text
    app.state.web.store.grant_victims("ivy", web_case, "test")
    page = c.get(f"/cases/{cid}/victims")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text  # evidence shown inertly
    assert "Toledo" in page.text and "page 1, line 4" in page.text
    assert "Possible victims" in c.get(f"/cases/{cid}").text  # now in the navigation
    with Case.open(web_case) as case, case.engine.connect() as con:
        reads = con.execute(select(S.audit_log.c.detail).where(S.audit_log.c.action == "victims.view")).all()
    assert reads and "ivy" in reads[-1].detail
    # an admin without the grant does not see them either: the role is not enough
    assert logged_in("ada").get(f"/cases/{cid}/victims").status_code == 404
    assert app.state.web.store.revoke_victims("ivy", cid)
    assert logged_in("ivy").get(f"/cases/{cid}/victims").status_code == 404


def test_the_victims_grant_needs_the_case_grant(app, web_case: Path) -> None:  # type: ignore[no-untyped-def]
    from ringtrace.web.users import WebStoreError

    with pytest.raises(WebStoreError, match="grant the case first"):
        app.state.web.store.grant_victims("noel", web_case, "test")


def test_the_person_page_shows_where_notes_name_them(app, logged_in: LoggedIn, web_case: Path,  # type: ignore[no-untyped-def]
                                                     case_facts: dict[str, str]) -> None:
    from datetime import UTC, datetime

    from ringtrace.case import Case
    from ringtrace.stages.notes import notes_stage
    from ringtrace.store import schema as S

    label = case_facts["person"]
    with Case.open(web_case) as case:
        with case.engine.connect() as con:
            acc = con.execute(select(S.accounts.c.value).join(
                S.person_accounts, S.person_accounts.c.account_id == S.accounts.c.id).join(
                S.persons, S.persons.c.id == S.person_accounts.c.person_id).where(S.persons.c.label == label)
                .where(S.accounts.c.kind == "phone")).scalar()
        assert acc, "the tiny case's first person has a phone"
        with case.begin() as con:
            con.execute(insert(S.text_lines).values(sha256="d" * 64, origin="transcription", page=1, line_no=2,
                                                    text=f"ring {acc} about the <b>boxes</b>", by="tester",
                                                    at=datetime(2026, 1, 1, tzinfo=UTC)))
        notes_stage(case)
    try:
        cid = app.state.web.store.list_cases()[0].id
        page = logged_in("ivy").get(f"/cases/{cid}/persons/{label}").text
        assert "Named in seized notes" in page and "page 1, line 2" in page
        assert "&lt;b&gt;boxes&lt;/b&gt;" in page  # the note's line, escaped
    finally:
        with Case.open(web_case) as case, case.begin() as con:
            for t in (S.note_links, S.possible_victims, S.note_entities, S.text_lines):
                con.execute(delete(t))
