"""Pages render from a real (synthetic) case, escape hostile evidence, and every view is logged in both logs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from tests.web.helpers import HOSTILE, LoggedIn, case_audit

if TYPE_CHECKING:
    from fastapi import FastAPI


def test_every_case_page_renders(logged_in: LoggedIn, case_facts: dict[str, str]) -> None:
    c = logged_in("sam")
    pages = {"/cases": "Your cases", "/cases/1": "Exhibits", "/cases/1/groups": "Groups",
             f"/cases/1/groups/{case_facts['group']}": "Names over time", "/cases/1/persons": "Persons",
             f"/cases/1/persons/{case_facts['person']}": "Identifiers", "/cases/1/suspects": "Suspects by priority",
             "/cases/1/leads": "Invite links", "/cases/1/media": "No image content is shown",
             "/cases/1/audit": "Case audit log"}
    for url, marker in pages.items():
        r = c.get(url)
        assert r.status_code == 200, url
        assert marker in r.text, url
    assert c.get("/cases/1/groups/NOPE").status_code == 404
    assert c.get("/cases/1/persons/NOPE").status_code == 404


def test_suspects_show_score_components(logged_in: LoggedIn) -> None:
    r = logged_in("ivy").get("/cases/1/suspects")
    assert "message volume" in r.text  # every score comes with its components
    assert r.text.count('<ul class="comp">') >= 1


def test_hostile_strings_render_escaped(logged_in: LoggedIn, case_facts: dict[str, str]) -> None:
    c = logged_in("ivy")
    for url in ["/cases/1/groups", f"/cases/1/groups/{case_facts['group']}",
                f"/cases/1/persons/{case_facts['person']}", "/cases/1/persons", "/cases"]:
        html = c.get(url).text
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html, url
        assert "<b>Tiny</b>" not in html, url  # the case name is data too
    html = c.get(f"/cases/1/groups/{case_facts['group']}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;script&gt;" in c.get(f"/cases/1/persons/{case_facts['person']}").text
    assert HOSTILE not in html


def test_no_script_anywhere_in_pages(logged_in: LoggedIn) -> None:
    c = logged_in("sam")
    for url in ["/cases/1", "/cases/1/media", "/cases/1/leads", "/cases/1/audit"]:
        assert "<script" not in c.get(url).text


def test_invite_links_are_text_not_links(logged_in: LoggedIn) -> None:
    html = logged_in("ivy").get("/cases/1/leads").text
    assert "chat.whatsapp.com" in html or "t.me" in html
    assert 'href="http' not in html and "href='http" not in html


def test_views_are_logged_in_web_audit_and_case_chain(logged_in: LoggedIn, app: FastAPI,
                                                        web_case: Path, case_facts: dict[str, str]) -> None:
    before = len(case_audit(web_case, "web.view"))
    c = logged_in("ivy")
    c.get(f"/cases/1/groups/{case_facts['group']}")
    views = case_audit(web_case, "web.view")
    assert len(views) == before + 1
    last = views[-1]
    assert last["actor"] == "web:ivy"
    assert last["detail"]["user"] == "ivy" and last["detail"]["page"] == "group"
    assert last["detail"]["subject"] == case_facts["group"] and last["detail"]["address"]
    rows = app.state.web.store.audit_rows(case_id=1)
    assert rows[0]["action"] == "view" and rows[0]["user"] == "ivy" and rows[0]["target"] == "group"


def test_denied_view_is_not_logged_into_the_case(logged_in: LoggedIn, web_case: Path) -> None:
    before = len(case_audit(web_case, "web.view"))
    logged_in("noel").get("/cases/1/groups")
    assert len(case_audit(web_case, "web.view")) == before


def test_media_list_shows_no_image_content(logged_in: LoggedIn, case_facts: dict[str, str]) -> None:
    html = logged_in("ivy").get("/cases/1/media").text
    assert "<img" not in html
    assert "data:image" not in html
    assert case_facts["image"] in html  # hashes only
    assert "sha256" in html and "csam-" in html  # matches: method and category
    known = logged_in("ivy").get("/cases/1/media?matched=1").text
    assert known.count('class="known"') >= 1


def test_media_pagination(tmp_path: Path, web_case: Path) -> None:
    from fastapi.testclient import TestClient

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings
    from tests.web.helpers import PASSWORD, fast_hasher, login

    a = create_app(WebSettings(home=tmp_path / "h", secure_cookies=False, page_size=3), hasher=fast_hasher())
    a.state.web.store.add_user("ivy", PASSWORD, "investigator")
    a.state.web.store.grant("ivy", web_case, "t")
    with TestClient(a) as c:
        login(c, "ivy")
        p1, p2 = c.get("/cases/1/media?page=1").text, c.get("/cases/1/media?page=2").text
        assert p1.count('class="hash"') == 3 and p1 != p2
        assert c.get("/cases/1/media?page=999").status_code == 200  # clamped to the last page


def test_case_folder_gone(tmp_path: Path, app: FastAPI, logged_in: LoggedIn) -> None:
    from ringtrace.case import Case

    Case.init(tmp_path / "gone", name="Gone case").close()
    app.state.web.store.grant("ivy", tmp_path / "gone", "t")
    shutil.rmtree(tmp_path / "gone")
    c = logged_in("ivy")
    r = c.get("/cases")
    assert r.status_code == 200 and "cannot be opened" in r.text
    assert c.get("/cases/2").status_code == 404


def test_register_rejects_non_case(app: FastAPI, tmp_path: Path) -> None:
    import pytest

    from ringtrace.web.users import WebStoreError

    with pytest.raises(WebStoreError, match="not a ringtrace case"):
        app.state.web.store.register_case(tmp_path)


def test_page_viewed_before_a_run_shows_the_run_after_it(tmp_path: Path, tiny_operation: Path) -> None:
    """The read model is keyed on the case's audit chain, not on a ``jobs`` table nothing writes (issue 10 item 9)."""
    from fastapi.testclient import TestClient

    import ringtrace
    from ringtrace.case import Case
    from ringtrace.demo import ingest_operation
    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings
    from tests.web.helpers import PASSWORD, fast_hasher, login

    path = tmp_path / "case"
    with Case.init(path, name="Before and after", actor="tester") as case:
        ingest_operation(case, tiny_operation)
    a = create_app(WebSettings(home=tmp_path / "h", secure_cookies=False), hasher=fast_hasher())
    a.state.web.store.add_user("ivy", PASSWORD, "investigator")
    a.state.web.store.grant("ivy", path, "t")
    with TestClient(a) as c:
        login(c, "ivy")
        before = c.get("/cases/1/groups").text
        assert a.state.web.cases.data(a.state.web.cases.case(path, "t")).counts["groups"] == 0
        with Case.open(path, actor="tester") as case:
            ringtrace.run(case)
            with case.engine.connect() as con:
                from sqlalchemy import select

                from ringtrace.store import schema as S

                label = con.execute(select(S.groups.c.label).order_by(S.groups.c.label)).scalar()
        assert label and label not in before
        after = c.get("/cases/1/groups").text
        assert label in after
        assert a.state.web.cases.data(a.state.web.cases.case(path, "t")).counts["groups"] > 0
        assert c.get(f"/cases/1/groups/{label}").status_code == 200
    a.state.web.cases.close()
    a.state.web.store.close()
