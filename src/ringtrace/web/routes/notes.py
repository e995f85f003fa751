"""The text read out of a content (a document, a picture of paper): its text layer, OCR lines with box and
confidence, examiners' transcriptions, all escaped by the templates; and the transcription form (investigator and
above, CSRF, a reason), stored by ``documents.transcribe`` as the web user's, audited in the case's chain and the
web audit."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from ringtrace.web import auth
from ringtrace.web.auth import NotFound, client_address
from ringtrace.web.deps import CaseDep, GrantedCase
from ringtrace.web.state import reason_is_given, render

router = APIRouter()

SHA256 = re.compile(r"^[0-9a-f]{64}$")
TRANSCRIBERS = ("investigator", "supervisor", "admin")
MAX_FORM_TEXT = 200_000  # characters one form may send


def _content(gc: GrantedCase, sha: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(lines, files holding it) of a content of this case, or 404."""
    from ringtrace.documents.transcribe import lines_of
    from ringtrace.store import schema as S

    sha = sha.lower()
    if not SHA256.match(sha):
        raise NotFound()
    with gc.case.engine.connect() as con:
        files = [{"exhibit": r.exhibit, "path": r.relpath} for r in con.execute(
            select(S.sources.c.exhibit, S.source_files.c.relpath)
            .join(S.sources, S.sources.c.id == S.source_files.c.source_id)
            .where(S.source_files.c.sha256 == sha).order_by(S.sources.c.exhibit, S.source_files.c.relpath).limit(20))]
        if not files:
            raise NotFound()
        return lines_of(con, sha), files


def _page(request: Request, gc: GrantedCase, sha: str, error: str | None = None, status: int = 200,
          text: str = "", reason: str = "") -> Response:
    lines, files = _content(gc, sha)
    p = gc.view("media_text", sha)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ln in lines:
        groups.setdefault((str(ln["origin"]), str(ln["by"])), []).append(ln)
    ctx = p.ctx("media", sha=sha.lower(), files=files, groups=[{"origin": o, "by": b, "lines": ls}
                                                               for (o, b), ls in groups.items()],
                can_transcribe=gc.viewer.user.role in TRANSCRIBERS, error=error, text=text, reason=reason)
    return render(request, "media_text.html", ctx, status)


@router.get("/cases/{cid}/media/{sha}/text", response_class=HTMLResponse)
def media_text(request: Request, gc: CaseDep, sha: str) -> Response:
    return _page(request, gc, sha)


@router.post("/cases/{cid}/media/{sha}/transcribe")
def media_transcribe(request: Request, gc: CaseDep, sha: str, csrf: str = Form(""), text: str = Form(""),
                     page: int = Form(1), reason: str = Form("")) -> Response:
    from ringtrace.documents.transcribe import TranscriptionError, transcribe

    auth.check_csrf(gc.viewer, csrf)
    auth.require_role(gc.viewer, *TRANSCRIBERS)
    _content(gc, sha)
    reason = " ".join(reason.split())[:500]
    text = text[:MAX_FORM_TEXT]
    if not reason_is_given(reason):
        return _page(request, gc, sha, "Say why you transcribe this page; the reason is recorded.", 400, text, reason)
    try:
        t = transcribe(gc.case, sha.lower(), text, examiner=gc.viewer.user.name, page=page, reason=reason)
    except TranscriptionError as e:
        return _page(request, gc, sha, str(e), 400, text, reason)
    gc.st.store.log("notes.transcribe", gc.viewer.user.name, client_address(request), case_id=gc.entry.id,
                    target=t.sha256, detail={"page": t.page, "lines": t.lines, "replaced": t.replaced,
                                             "reason": reason})
    return RedirectResponse(f"/cases/{gc.entry.id}/media/{t.sha256}/text", status_code=303)
