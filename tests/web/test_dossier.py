"""Person and group pages answer an investigator's questions: where each identifier and name was seen, devices,
groups with roles, messages (into the chat viewer), media with known-material badges, score components."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from tests.web.helpers import LoggedIn


def _sharer_of_known(web_case: Path) -> tuple[str, str, str]:
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export

    with Case.open(web_case) as case:
        doc = build_export(case)
    m = next(m for m in doc["media"] if m["matches"] and m["shared_by"] and m["shared_in"])
    return m["shared_by"][0], m["shared_in"][0], m["sha256"]


def test_person_page_answers(logged_in: LoggedIn, web_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    person, _group, sha = _sharer_of_known(web_case)
    html = logged_in("ivy").get(f"/cases/1/persons/{person}").text
    for heading in ["Score", "Identifiers", "Names seen", "Devices", "Groups", "Messages by chat", "Media shared"]:
        assert f"<h2>{heading}" in html, heading
    assert sha in html and 'class="chip hot known"' in html  # known-material badge
    assert re.search(r'<td class="hash">[^<]+</td><td>EX-\d+', html)  # identifier with where it was seen
    assert '<ul class="comp">' in html  # score components
    with Case.open(web_case) as case, case.engine.connect() as con:
        n_ids = con.execute(select(func.count()).select_from(S.person_accounts)
                            .join(S.persons, S.persons.c.id == S.person_accounts.c.person_id)
                            .where(S.persons.c.label == person)).scalar()
    assert f'Identifiers <span class="badge">{n_ids}</span>' in html


def test_group_page_lists_media_with_badges_and_links_to_chat(logged_in: LoggedIn, web_case: Path) -> None:
    person, group, sha = _sharer_of_known(web_case)
    html = logged_in("ivy").get(f"/cases/1/groups/{group}").text
    assert "Media shared here" in html and sha in html
    assert 'class="chip hot known"' in html
    assert f'href="/cases/1/persons/{person}"' in html
    assert f'href="/cases/1/chats/{group}"' in html
    assert "<img" not in html and "data:image" not in html  # never content
