"""The text read out of a picture or document in the web app, escaped; the transcription form: investigator and
above, CSRF, a reason, stored as the web user's, audited in the case's chain and the web audit."""

from __future__ import annotations

from sqlalchemy import select

from tests.web.helpers import HOSTILE, case_audit, csrf_of


def _text_page(c, sha):
    return c.get(f"/cases/1/media/{sha}/text")


def _transcribe(c, sha, text, reason="handwriting the OCR reads poorly", csrf=None):
    tok = csrf if csrf is not None else csrf_of(_text_page(c, sha).text)
    return c.post(f"/cases/1/media/{sha}/transcribe", data={"csrf": tok, "text": text, "page": "1",
                                                             "reason": reason}, follow_redirects=False)


def test_document_lines_are_shown_and_media_links_to_them(logged_in, web_case):
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(web_case) as case, case.engine.connect() as con:
        row = con.execute(select(S.text_lines.c.sha256, S.text_lines.c.text).where(S.text_lines.c.origin == "text")
                          .order_by(S.text_lines.c.id)).first()
    assert row is not None, "the tiny operation's notes exhibit holds typed documents"
    c = logged_in("ivy")
    r = _text_page(c, row.sha256)
    assert r.status_code == 200 and row.text in r.text and "Text layer" in r.text
    assert "/text" in c.get("/cases/1/media").text
    assert _text_page(c, "0" * 64).status_code == 404
    assert _text_page(c, "..%2f..%2fetc").status_code == 404


def test_transcription_needs_csrf_and_a_reason_and_is_escaped_and_audited(logged_in, case_facts, app, web_case):
    sha = case_facts["image"]
    c = logged_in("ivy")
    assert _transcribe(c, sha, "Lista: Alba Ostrava", csrf="forged").status_code == 403
    r = _transcribe(c, sha, "Lista: Alba Ostrava", reason="why")
    assert r.status_code == 400 and "Lista: Alba Ostrava" in r.text  # the text typed is not lost
    before = len(case_audit(web_case, "web.notes.transcribe")) + len(case_audit(web_case, "notes.transcribe"))
    r = _transcribe(c, sha, f"Lista de contactos\n{HOSTILE}\nAlba Ostrava, 34, Cuenca\n")
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "Transcription" in page and "by ivy" in page and "Alba Ostrava, 34, Cuenca" in page
    assert HOSTILE not in page  # escaped, not markup
    after = case_audit(web_case, "web.notes.transcribe") + case_audit(web_case, "notes.transcribe")
    assert len(after) == before + 1 and after[-1]["detail"]["examiner"] == "ivy" and after[-1]["detail"]["lines"] == 3
    assert app.state.web.store.audit_count("notes.transcribe") == 1
