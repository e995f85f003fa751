"""Decisions in the web app: each refused without the CSRF token, refused to a user without a grant, recorded in
the case's audit chain with who and why, and shown back; alias and country start a re-analysis whose job page
polls JSON; the VICS export takes an investigator's category; a supervisor makes, downloads and verifies a package.

These tests change their case, so they work on a copy of the shared tiny case (one per module)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.web.helpers import HOSTILE, PASSWORD, LoggedIn, case_audit, csrf_of, fast_hasher


@pytest.fixture(scope="module")
def own_case(web_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("decisions") / "case"
    shutil.copytree(web_case, dest)
    return dest


@pytest.fixture
def app(tmp_path: Path, own_case: Path) -> Iterator[Any]:
    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    a = create_app(WebSettings(home=tmp_path / "home", secure_cookies=False), hasher=fast_hasher())
    st = a.state.web
    st.store.add_user("ivy", PASSWORD, "investigator")
    st.store.add_user("sam", PASSWORD, "supervisor")
    st.store.add_user("noel", PASSWORD, "investigator")  # no grant
    st.store.grant("ivy", own_case, "test")
    st.store.grant("sam", own_case, "test")
    yield a
    for j in list(st.jobs._jobs):
        st.jobs.wait(j, 120)
    st.cases.close()
    st.store.close()


def _facts(path: Path) -> dict[str, Any]:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(path) as case, case.engine.connect() as con:
        rows = con.execute(select(S.persons.c.label, S.accounts.c.platform, S.accounts.c.kind, S.accounts.c.value)
                           .join(S.person_accounts, S.person_accounts.c.person_id == S.persons.c.id)
                           .join(S.accounts, S.accounts.c.id == S.person_accounts.c.account_id)
                           .order_by(S.persons.c.label, S.accounts.c.id)).all()
        msg = con.execute(select(S.messages.c.id).order_by(S.messages.c.id)).scalar()
        sha = con.execute(select(S.media.c.sha256).where(S.media.c.md5 != "").order_by(S.media.c.sha256)).scalar()
        group = con.execute(select(S.groups.c.label).order_by(S.groups.c.label)).scalar()
    first: dict[str, str] = {}
    for r in rows:
        first.setdefault(r.label, f"{r.platform}:{r.kind}:{r.value}")
    return {"accounts": first, "message": msg, "media": sha, "group": group}


def _post(c: Any, path: str, data: dict[str, Any], with_csrf: bool = True) -> Any:
    tok = csrf_of(c.get("/cases/1/decisions").text)
    return c.post(path, data={**data, **({"csrf": tok} if with_csrf else {})}, follow_redirects=False)


def test_every_decision_needs_the_csrf_token_and_a_grant(logged_in: LoggedIn, own_case: Path) -> None:
    f = _facts(own_case)
    person = sorted(f["accounts"])[0]
    forms: dict[str, dict[str, Any]] = {
        "alias": {"a": "x:y:z", "b": "x:y:w", "reason": "same phone seen"},
        "country": {"subject": person, "code": "DE", "reason": "seized there"},
        "status": {"person": person, "value": "identified"},
        "note": {"kind": "person", "subject": person, "text": "hello"},
        "tag": {"kind": "person", "subject": person, "tag": "courier"},
        "bookmark": {"kind": "person", "subject": person, "title": "look again"},
        "categorise": {"sha256": f["media"], "category": "4", "reason": "adult"},
    }
    c = logged_in("ivy")
    for name, data in forms.items():
        r = _post(c, f"/cases/1/decisions/{name}", data, with_csrf=False)
        assert r.status_code == 403, name
        assert "security token" in r.text
        r = c.post(f"/cases/1/decisions/{name}", data={**data, "csrf": "stale"}, follow_redirects=False)
        assert r.status_code == 403, name
    c = logged_in("noel")
    tok = csrf_of(c.get("/cases").text)
    for name, data in forms.items():
        assert c.post(f"/cases/1/decisions/{name}", data={**data, "csrf": tok}).status_code == 404, name
    # nothing was recorded by any of these
    assert not case_audit(own_case, "decision.note") and not case_audit(own_case, "decision.tag")


def test_notes_tags_bookmarks_are_stored_audited_and_shown_escaped(logged_in: LoggedIn, own_case: Path) -> None:
    f = _facts(own_case)
    person = sorted(f["accounts"])[0]
    c = logged_in("ivy")
    subjects = [("person", person), ("group", f["group"]), ("message", str(f["message"])), ("media", f["media"])]
    for kind, subject in subjects:
        r = _post(c, "/cases/1/decisions/note", {"kind": kind, "subject": subject, "text": f"note {HOSTILE}",
                                                 "next": f"/cases/1/persons/{person}"})
        assert r.status_code == 303 and r.headers["location"] == f"/cases/1/persons/{person}", r.text
        assert _post(c, "/cases/1/decisions/tag", {"kind": kind, "subject": subject, "tag": "Courier"}
                     ).status_code == 303
        assert _post(c, "/cases/1/decisions/bookmark", {"kind": kind, "subject": subject, "title": "again",
                                                        "next": "https://elsewhere.example/"}
                     ).headers["location"] == "/cases/1/decisions"  # no open redirect
    notes = case_audit(own_case, "decision.note")
    assert {(n["detail"]["kind"], n["detail"]["subject"]) for n in notes} >= set(subjects)
    assert all(n["detail"]["by"] == "ivy" and n["actor"] == "web:ivy" for n in notes)
    assert {t["detail"]["tag"] for t in case_audit(own_case, "decision.tag")} == {"courier"}
    assert len(case_audit(own_case, "decision.bookmark")) >= 4
    html = c.get("/cases/1/decisions").text
    assert "courier" in html and "again" in html
    assert HOSTILE not in html and "&lt;script&gt;" in html
    # a second identical tag is not a second row; removing it is audited
    assert _post(c, "/cases/1/decisions/tag", {"kind": "person", "subject": person, "tag": "courier"}
                 ).status_code == 303
    assert html.count("<span class=\"chip\">courier</span>") == 4
    assert _post(c, "/cases/1/decisions/tag", {"kind": "person", "subject": person, "tag": "courier",
                                               "remove": "1"}).status_code == 303
    assert case_audit(own_case, "decision.untag")
    # bad input: a clear message, nothing stored
    for data in ({"kind": "person", "subject": "P9999999", "text": "x"}, {"kind": "planet", "subject": "x",
                                                                         "text": "x"},
                 {"kind": "media", "subject": "zz", "text": "x"}, {"kind": "person", "subject": person, "text": ""}):
        r = _post(c, "/cases/1/decisions/note", data)
        assert r.status_code == 400 and 'class="problem"' in r.text, data


def test_categorisation_goes_into_the_vics_export(logged_in: LoggedIn, own_case: Path, tmp_path: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.matching.sets import export_vics

    f = _facts(own_case)
    c = logged_in("ivy")
    assert _post(c, "/cases/1/decisions/categorise", {"sha256": f["media"], "category": "7", "reason": "x"}
                 ).status_code == 400  # not a VICS category
    assert _post(c, "/cases/1/decisions/categorise", {"sha256": f["media"].upper(), "category": "3",
                                                      "reason": "may identify a victim"}).status_code == 303
    (ent,) = case_audit(own_case, "decision.categorise")[-1:]
    assert ent["detail"]["label"] == "other-pertinent" and ent["detail"]["reason"] == "may identify a victim"
    out = tmp_path / "vics.json"
    with Case.open(own_case) as case:
        export_vics(case, out)
    items = {m["SHA256"].lower(): m for m in json.loads(out.read_text())["value"] if "SHA256" in m}
    assert items[f["media"]]["Category"] == 3


def test_status_is_set_and_audited(logged_in: LoggedIn, own_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.dissemination.status import current_statuses

    person = sorted(_facts(own_case)["accounts"])[0]
    c = logged_in("ivy")
    assert _post(c, "/cases/1/decisions/status", {"person": person, "value": "warrant", "note": "judge signed"}
                 ).status_code == 303
    with Case.open(own_case) as case, case.engine.connect() as con:
        st = current_statuses(con)[person]
    assert st.status == "warrant" and st.by == "ivy"
    r = _post(c, "/cases/1/decisions/status", {"person": person, "value": "on holiday"})
    assert r.status_code == 400 and "not a status" in r.text


def test_alias_starts_a_reanalysis_that_merges_the_persons(logged_in: LoggedIn, own_case: Path, app: Any) -> None:
    f = _facts(own_case)
    a_label, b_label = sorted(f["accounts"])[-2:]
    c = logged_in("ivy")
    r = _post(c, "/cases/1/decisions/alias", {"a": f["accounts"][a_label], "b": f["accounts"][b_label],
                                              "reason": ""})
    assert r.status_code == 400 and "why" in r.text.lower()  # a reason is required
    r = _post(c, "/cases/1/decisions/alias", {"a": f["accounts"][a_label], "b": f["accounts"][b_label],
                                              "reason": "same voice, same phone"})
    assert r.status_code == 303 and "/cases/1/jobs/" in r.headers["location"]
    jid = int(r.headers["location"].rsplit("/", 1)[1])
    assert app.state.web.jobs.wait(jid, 120).state == "done", app.state.web.jobs.get(jid).error
    j = c.get(f"/cases/1/jobs/{jid}.json").json()
    assert j["state"] == "done" and j["started_by"] == "ivy"
    assert '<script src="/static/job.js"></script>' in c.get(f"/cases/1/jobs/{jid}").text
    assert c.get("/cases/1/jobs/999.json").status_code == 404
    after = _facts(own_case)["accounts"]
    assert len(after) == len(f["accounts"]) - 1  # the two persons are one now
    (ov,) = case_audit(own_case, "override.alias")
    assert ov["detail"]["by"] == "ivy" and ov["detail"]["reason"] == "same voice, same phone"
    assert ov["actor"] == "web:ivy"
    assert case_audit(own_case, "web.reanalysis.done")


def _all_audit(path: Path) -> list[dict[str, Any]]:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(path) as case, case.engine.connect() as con:
        return [{**r._mapping, "detail": json.loads(r.detail)} for r in con.execute(select(S.audit_log))]


def test_country_override_starts_a_reanalysis(logged_in: LoggedIn, own_case: Path, app: Any) -> None:
    person = sorted(_facts(own_case)["accounts"])[0]
    c = logged_in("ivy")
    r = _post(c, "/cases/1/decisions/country", {"subject": person, "code": "XX", "reason": "seized there"})
    assert r.status_code == 400 and "ISO 3166" in r.text
    r = _post(c, "/cases/1/decisions/country", {"subject": person, "code": "ie", "reason": "seized in Dublin"})
    assert r.status_code == 303
    jid = int(r.headers["location"].rsplit("/", 1)[1])
    assert app.state.web.jobs.wait(jid, 120).state == "done"
    assert c.get("/cases/1/graph.json?country=IE").json()["nodes"]
    assert any(e["detail"].get("reason") == "seized in Dublin" and e["detail"].get("by") == "ivy"
               for e in _all_audit(own_case))


def test_packages_are_for_supervisors(logged_in: LoggedIn, own_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export

    with Case.open(own_case) as case:
        cc = next(p["country"] for p in build_export(case)["persons"] if p["country"])
    c = logged_in("ivy")
    tok = csrf_of(c.get("/cases/1/decisions").text)
    assert c.post("/cases/1/packages", data={"csrf": tok, "country": cc}).status_code == 403
    assert "Country packages" not in c.get("/cases/1/decisions").text
    c = logged_in("sam")
    assert c.post("/cases/1/packages", data={"country": cc}).status_code == 403  # no token
    tok = csrf_of(c.get("/cases/1/decisions").text)
    r = c.post("/cases/1/packages", data={"csrf": tok, "country": cc})
    assert r.status_code == 200 and f"Package {cc}-v1 made" in r.text, r.text[-2000:]
    z = c.get(f"/cases/1/packages/{cc}-v1.zip")
    assert z.status_code == 200 and zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    v = c.post(f"/cases/1/packages/{cc}-v1/verify", data={"csrf": tok})
    assert v.status_code == 200 and "every file matches its manifest" in v.text
    assert c.get("/cases/1/packages/..%2F..%2Fweb.sqlite.zip").status_code == 404
    assert logged_in("ivy").get(f"/cases/1/packages/{cc}-v1.zip").status_code == 403
    assert case_audit(own_case, "web.package.verify")
