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


def test_packages_are_for_supervisors_signed_and_verified(own_case: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export
    from ringtrace.dissemination.signing import new_keypair, verify_package
    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings
    from tests.web.helpers import login

    with Case.open(own_case) as case:
        cc = next(p["country"] for p in build_export(case)["persons"] if p["country"])
    key, pub = new_keypair(tmp_path / "keys", "unit")
    homes = {"unsigned": WebSettings(home=tmp_path / "h0", secure_cookies=False),
             "signed": WebSettings(home=tmp_path / "h1", secure_cookies=False, signing_key=key)}
    apps = {k: create_app(v, hasher=fast_hasher()) for k, v in homes.items()}
    for a in apps.values():
        a.state.web.store.add_user("ivy", PASSWORD, "investigator")
        a.state.web.store.add_user("sam", PASSWORD, "supervisor")
        a.state.web.store.grant("ivy", own_case, "t")
        a.state.web.store.grant("sam", own_case, "t")
    try:
        with TestClient(apps["unsigned"]) as c:
            login(c, "sam")
            tok = csrf_of(c.get("/cases/1/packages").text)
            r = c.post("/cases/1/packages", data={"csrf": tok, "country": cc})
            assert r.status_code == 409 and "makes only signed packages" in r.text  # never an unsigned one
            assert not (tmp_path / "h0" / "packages" / "case-1").exists()
        with TestClient(apps["signed"]) as c:
            login(c, "ivy")
            assert c.get("/cases/1/packages").status_code == 403
            tok = csrf_of(c.get("/cases/1/decisions").text)
            assert c.post("/cases/1/packages", data={"csrf": tok, "country": cc}).status_code == 403
            assert 'href="/cases/1/packages"' not in c.get("/cases/1/decisions").text
            c.cookies.clear()
            login(c, "sam")
            assert c.post("/cases/1/packages", data={"country": cc}).status_code == 403  # no token
            html = c.get("/cases/1/packages").text
            assert 'href="/cases/1/packages"' in html  # in the supervisor's navigation
            tok = csrf_of(html)
            r = c.post("/cases/1/packages", data={"csrf": tok, "country": cc, "recipient": "Unit 7"})
            assert r.status_code == 200 and f"Package {cc}-v1 made and signed" in r.text, r.text[-2000:]
            folder = tmp_path / "h1" / "packages" / "case-1" / f"{cc}-v1"
            # signed as the CLI signs: manifest.sig over manifest.json, checked with the unit's public key
            assert (folder / "manifest.sig").is_file() and verify_package(folder, pub) == []
            z = c.get(f"/cases/1/packages/{cc}-v1.zip")
            assert z.status_code == 200
            names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
            assert f"{cc}-v1/manifest.sig" in names and f"{cc}-v1/manifest.json" in names
            v = c.post(f"/cases/1/packages/{cc}-v1/verify", data={"csrf": tok})
            assert v.status_code == 200 and "intact — every file matches the signed manifest" in v.text
            assert v.text.count('<strong class="ok-text">intact</strong>') == 2  # the folder and the zip
            # a file changed after signing is found, and said
            (folder / "package.json").write_text("{}", encoding="utf-8")
            v = c.post(f"/cases/1/packages/{cc}-v1/verify", data={"csrf": tok})
            assert "NOT intact" in v.text and "changed file: package.json" in v.text
            assert c.get("/cases/1/packages/..%2F..%2Fweb.sqlite.zip").status_code == 404
            assert c.post("/cases/1/packages/XX-v9/verify", data={"csrf": tok}).status_code == 404
    finally:
        for a in apps.values():
            a.state.web.cases.close()
            a.state.web.store.close()
    ok = [e["detail"]["ok"] for e in case_audit(own_case, "web.package.verify")]
    assert ok[-2:] == [True, False]
    (made,) = [e for e in case_audit(own_case, "package.write") if e["actor"] == "web:sam"][-1:]
    assert made["detail"]["signed"] is True and made["detail"]["recipient"] == "Unit 7"


# ---- decisions embedded on the person, group, media and chat pages ------------------------------------------


def _form(html: str, action: str) -> str:
    """The HTML of the first form posting to ``action``."""
    import re

    m = re.search(r'<form method="post" action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', html, re.S)
    assert m, f"no form for {action}"
    return m.group(1)


def test_decisions_made_on_the_person_page_show_up_on_it(logged_in: LoggedIn, own_case: Path, app: Any) -> None:
    f = _facts(own_case)
    person = sorted(f["accounts"])[0]
    here = f"/cases/1/persons/{person}"
    c = logged_in("ivy")
    html = c.get(here).text
    for action in ("note", "tag", "bookmark", "status", "country", "alias"):
        body = _form(html, f"/cases/1/decisions/{action}")
        assert 'name="csrf"' in body and f'name="next" value="{here}"' in body, action
    assert f'<option value="{f["accounts"][person]}">' in _form(html, "/cases/1/decisions/alias")
    tok = csrf_of(html)
    for action, data in (("note", {"text": f"met at the port {HOSTILE}"}), ("tag", {"tag": "Courier"}),
                         ("bookmark", {"title": "check the SIM"})):
        r = c.post(f"/cases/1/decisions/{action}", data={"csrf": tok, "kind": "person", "subject": person,
                                                          "next": here, **data}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == here, (action, r.text[-500:])
    r = c.post("/cases/1/decisions/status", data={"csrf": tok, "person": person, "value": "warrant",
                                                  "note": "judge signed", "next": here}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == here
    html = c.get(here).text
    assert "met at the port &lt;script&gt;" in html and HOSTILE not in html
    assert '<span class="chip tag">courier</span>' in html and "check the SIM" in html
    assert "ivy" in html.split('id="decisions"', 1)[1]  # who, beside each record
    assert '<span class="chip status">warrant</span>' in html and "judge signed" in html
    # a country from the person page: a re-analysis job whose page leads back here
    r = c.post("/cases/1/decisions/country", data={"csrf": tok, "subject": person, "code": "PT",
                                                   "reason": "seized in Lisbon, Portuguese SIM", "next": here},
               follow_redirects=False)
    assert r.status_code == 303 and "/cases/1/jobs/" in r.headers["location"], r.text[-500:]
    job_url = r.headers["location"]
    jid = int(job_url.split("/jobs/", 1)[1].split("?", 1)[0])
    assert app.state.web.jobs.wait(jid, 120).state == "done"
    assert f'href="{here}"' in c.get(job_url).text
    html = c.get(here).text
    made = html.split("Decisions made about", 1)[1]
    assert "country" in made and "PT" in made and "seized in Lisbon, Portuguese SIM" in made and "ivy" in made
    assert '<span class="chip">PT</span>' in html  # applied by the re-analysis
    # a refused decision says why and leads back to the page it came from
    r = c.post("/cases/1/decisions/country", data={"csrf": tok, "subject": person, "code": "PT", "reason": "x",
                                                   "next": here})
    assert r.status_code == 400 and f'href="{here}"' in r.text


def test_an_alias_can_name_the_other_person_by_label(logged_in: LoggedIn, own_case: Path, app: Any) -> None:
    f = _facts(own_case)
    a, b = sorted(f["accounts"])[:2]
    here = f"/cases/1/persons/{a}"
    c = logged_in("ivy")
    tok = csrf_of(c.get(here).text)
    r = c.post("/cases/1/decisions/alias", data={"csrf": tok, "a": f["accounts"][a], "b": "P9999999",
                                                 "reason": "same phone on both", "next": here})
    assert r.status_code == 400 and "no person P9999999" in r.text
    r = c.post("/cases/1/decisions/alias", data={"csrf": tok, "a": f["accounts"][a], "b": b,
                                                 "reason": "same phone on both", "next": here},
               follow_redirects=False)
    assert r.status_code == 303, r.text[-500:]
    jid = int(r.headers["location"].split("/jobs/", 1)[1].split("?", 1)[0])
    assert app.state.web.jobs.wait(jid, 120).state == "done"
    (ov,) = [o for o in case_audit(own_case, "override.alias") if o["detail"]["reason"] == "same phone on both"]
    assert ov["detail"]["b"] == f["accounts"][b]  # the label became that person's account
    assert len(_facts(own_case)["accounts"]) == len(f["accounts"]) - 1


def test_notes_and_tags_on_the_group_and_media_pages(logged_in: LoggedIn, own_case: Path) -> None:
    f = _facts(own_case)
    c = logged_in("ivy")
    for kind, here in (("group", f"/cases/1/groups/{f['group']}"), ("media", f"/cases/1/media/{f['media']}")):
        html = c.get(here).text
        subject = f["group"] if kind == "group" else f["media"]
        body = _form(html, "/cases/1/decisions/note")
        assert f'name="kind" value="{kind}"' in body and f'name="subject" value="{subject}"' in body
        tok = csrf_of(html)
        for action, data in (("note", {"text": f"{kind} note"}), ("tag", {"tag": f"{kind}-tag"}),
                             ("bookmark", {"title": f"{kind} mark"})):
            r = c.post(f"/cases/1/decisions/{action}", data={"csrf": tok, "kind": kind, "subject": subject,
                                                              "next": here, **data}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == here
        html = c.get(here).text
        assert f"{kind} note" in html and f'<span class="chip tag">{kind}-tag' in html and f"{kind} mark" in html
        # the tag can be taken off from the page, and that is audited
        r = c.post("/cases/1/decisions/tag", data={"csrf": tok, "kind": kind, "subject": subject,
                                                   "tag": f"{kind}-tag", "remove": "1", "next": here})
        assert r.status_code == 200 and f'<span class="chip tag">{kind}-tag' not in r.text
    assert any(e["detail"]["tag"] == "media-tag" for e in case_audit(own_case, "decision.untag"))


def test_media_page_categorises_with_the_configured_scheme(own_case: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings
    from tests.web.helpers import login

    sha = _facts(own_case)["media"]
    scheme = tmp_path / "uk.json"
    scheme.write_text(json.dumps({"name": "uk-caid", "mapping": {"A": "cat-a", "B": "cat-b", "C": "cat-c"}}))
    a = create_app(WebSettings(home=tmp_path / "h", secure_cookies=False, category_scheme_file=scheme),
                   hasher=fast_hasher())
    a.state.web.store.add_user("ivy", PASSWORD, "investigator")
    a.state.web.store.grant("ivy", own_case, "t")
    here = f"/cases/1/media/{sha}"
    try:
        with TestClient(a) as c:
            login(c, "ivy")
            html = c.get(here).text
            body = _form(html, "/cases/1/decisions/categorise")
            assert '<option value="a">a · cat-a</option>' in body and "CSAM" not in body
            r = c.post("/cases/1/decisions/categorise", data={"csrf": csrf_of(html), "sha256": sha,
                                                              "category": "b", "reason": "graded by two officers",
                                                              "next": here}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == here
            html = c.get(here).text
            assert "b · cat-b" in html and "uk-caid" in html and "graded by two officers" in html
            assert "<img" not in html  # the media page shows no content
            assert c.get("/cases/1/media/" + "0" * 64).status_code == 404
    finally:
        a.state.web.cases.close()
        a.state.web.store.close()
    (ent,) = case_audit(own_case, "decision.categorise")[-1:]
    assert ent["detail"]["scheme"] == "uk-caid" and ent["detail"]["label"] == "cat-b"


def test_notes_tags_and_bookmarks_on_a_message_in_the_chat_viewer(logged_in: LoggedIn, own_case: Path) -> None:
    import re

    f = _facts(own_case)
    c = logged_in("ivy")
    here = f"/cases/1/chats/{f['group']}"
    html = c.get(here).text
    mid = re.search(r'<li class="msg" id="m(\d+)">', html)
    assert mid, "no message in the chat"
    msg = mid.group(1)
    body = _form(html, "/cases/1/decisions/note").split("</form>")[0]
    assert 'formaction="/cases/1/decisions/tag"' in body and 'formaction="/cases/1/decisions/bookmark"' in body
    tok = csrf_of(html)
    for action, value in (("note", "asks for the new link"), ("tag", "recruiting"), ("bookmark", "first ask")):
        r = c.post(f"/cases/1/decisions/{action}", data={"csrf": tok, "kind": "message", "subject": msg,
                                                          "value": value, "next": f"{here}#m{msg}"},
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"{here}#m{msg}", action
    html = c.get(here).text
    li = re.split(r'<li class="(?:msg|event)"|</ol>', html.split(f'<li class="msg" id="m{msg}">', 1)[1], maxsplit=1)[0]
    assert "asks for the new link" in li and re.search(r'<span class="chip tag"[^>]*>recruiting<', li)
    assert "first ask" in li and 'aria-label="remove tag recruiting"' in li
    assert {e["detail"]["subject"] for e in case_audit(own_case, "decision.bookmark")} >= {msg}
