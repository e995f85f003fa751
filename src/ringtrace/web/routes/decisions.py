"""Decisions in the web app (investigator and above): alias two accounts, override a country, set an action-day
status, notes, tags and bookmarks on persons, groups, messages and media, media categorisation; the re-analysis job
an alias or country decision starts, with a page that polls its progress. (Packages: ``routes.packages``.)

Every POST carries the CSRF token; every decision is written by the library into the case's audit chain with who
(the web user) and why (the reason or note given), and into the web audit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ringtrace.case import Case
from ringtrace.web import auth
from ringtrace.web.auth import NotFound, client_address
from ringtrace.web.decisions import (
    DECIDERS,
    KINDS,
    DecisionError,
    account_of,
    add_bookmark,
    add_note,
    add_tag,
    categorise,
    category_choices,
    decisions_about,
    remove_tag,
)
from ringtrace.web.deps import CaseDep, GrantedCase
from ringtrace.web.state import reason_is_given, render, safe_next

router = APIRouter()


def _decide(gc: GrantedCase, csrf: str) -> str:
    """CSRF and role checks for a decision; the user name that goes into the audit as ``by``."""
    auth.check_csrf(gc.viewer, csrf)
    auth.require_role(gc.viewer, *DECIDERS)
    return gc.viewer.user.name


def _web_log(gc: GrantedCase, action: str, detail: dict[str, Any]) -> None:
    gc.st.store.log(action, gc.viewer.user.name, client_address(gc.request), case_id=gc.entry.id,
                    target=action, detail=detail)


def _page(request: Request, gc: GrantedCase, error: str | None = None, status: int = 200,
          done: str | None = None, back: str | None = None) -> Response:
    """The decisions page; with ``error`` (and ``back``, the page the form was on) when a decision was refused."""
    p = gc.view("decisions")
    from ringtrace.dissemination.status import STATUSES

    target = safe_next(back)
    ctx = p.ctx("decisions", d=decisions_about(gc.case), kinds=KINDS, statuses=STATUSES,
                categories=category_choices(gc.st.settings.category_scheme()),
                jobs=[j.public() for j in gc.st.jobs.for_case(str(gc.case.path))][:10], error=error, done=done,
                back=target if target and target.startswith(f"/cases/{gc.entry.id}/") else None)
    return render(request, "decisions.html", ctx, status)


def _back(gc: GrantedCase, nxt: str, fallback: str = "decisions") -> Response:
    target = safe_next(nxt)
    if not target or not target.startswith(f"/cases/{gc.entry.id}/"):
        target = f"/cases/{gc.entry.id}/{fallback}"
    return RedirectResponse(target, status_code=303)


@router.get("/cases/{cid}/decisions", response_class=HTMLResponse)
def decisions_page(request: Request, gc: CaseDep) -> Response:
    return _page(request, gc)


@router.post("/cases/{cid}/decisions/alias")
def alias(request: Request, gc: CaseDep, csrf: str = Form(""), a: str = Form(""), b: str = Form(""),
          reason: str = Form(""), next: str = Form("")) -> Response:
    """Two accounts (``platform:kind:value``, or a person label for any of that person's accounts) are one
    person; a re-analysis follows."""
    from ringtrace.analysis.persons import add_alias

    by = _decide(gc, csrf)
    reason = " ".join(reason.split())[:500]
    if not reason_is_given(reason):
        return _page(request, gc, "Say why these two accounts are one person; the reason is recorded.", 400,
                     back=next)
    try:
        a, b = account_of(gc.case, a), account_of(gc.case, b)
        oid = add_alias(gc.case, a, b, by, reason)
    except ValueError as e:
        return _page(request, gc, str(e), 400, back=next)
    _web_log(gc, "decision.alias", {"override": oid, "a": a, "b": b, "reason": reason})
    return _job_started(gc, by, f"alias {a} = {b}", next)


def _job_started(gc: GrantedCase, by: str, why: str, nxt: str) -> Response:
    """Start (or join) the case's re-analysis and go to its progress page, which links back to ``nxt``."""
    job = gc.st.jobs.start(gc.case, by, why)
    back = safe_next(nxt)
    query = f"?{urlencode({'back': back})}" if back and back.startswith(f"/cases/{gc.entry.id}/") else ""
    return RedirectResponse(f"/cases/{gc.entry.id}/jobs/{job.id}{query}", status_code=303)


@router.post("/cases/{cid}/decisions/country")
def country(request: Request, gc: CaseDep, csrf: str = Form(""), subject: str = Form(""), code: str = Form(""),
            reason: str = Form(""), next: str = Form("")) -> Response:
    from ringtrace.analysis.countries import set_country

    by = _decide(gc, csrf)
    reason = " ".join(reason.split())[:500]
    subject, code = subject.strip()[:200], code.strip()[:10]
    if not reason_is_given(reason):
        return _page(request, gc, "Say why this country is right; the reason is recorded.", 400, back=next)
    try:
        oid = set_country(gc.case, subject, code, by, reason)
    except ValueError as e:
        return _page(request, gc, str(e), 400, back=next)
    _web_log(gc, "decision.country", {"override": oid, "subject": subject, "country": code.upper(),
                                      "reason": reason})
    return _job_started(gc, by, f"country {subject} -> {code.upper()}", next)


@router.post("/cases/{cid}/decisions/status")
def status(request: Request, gc: CaseDep, csrf: str = Form(""), person: str = Form(""), value: str = Form(""),
           note: str = Form(""), next: str = Form("")) -> Response:
    from ringtrace.dissemination.status import set_status

    by = _decide(gc, csrf)
    note = " ".join(note.split())[:500]
    try:
        set_status(gc.case, person.strip()[:20], value[:40], by, note or None)
    except ValueError as e:
        return _page(request, gc, str(e), 400, back=next)
    _web_log(gc, "decision.status", {"person": person[:20], "status": value[:40], "note": note})
    return _back(gc, next)


def _subject_decision(action: str, value_field: str, record: Callable[[Case, str, str, str, str, bool], Any],
                      removable: bool = False) -> None:
    """One route for a decision about a person, group, message or media item (note, tag, bookmark): the form's
    ``kind``, ``subject`` and the value named ``value_field``; ``remove`` undoes it where ``removable``."""

    def endpoint(request: Request, gc: CaseDep, csrf: str = Form(""), kind: str = Form(""),
                 subject: str = Form(""), value: str = Form("", alias=value_field), remove: str = Form(""),
                 next: str = Form(""), shared_value: str = Form("", alias="value")) -> Response:
        # ``value``: the chat viewer's one box per message, whose buttons post it as a note, a tag or a bookmark
        by = _decide(gc, csrf)
        value = value or shared_value
        undo = bool(remove) and removable
        try:
            ref = record(gc.case, kind, subject, value, by, undo)
        except DecisionError as e:
            return _page(request, gc, str(e), 400, back=next)
        detail: dict[str, Any] = {"kind": kind[:20], "subject": subject[:100], value_field: value[:60]}
        if ref is not None and not isinstance(ref, bool):
            detail[action] = ref
        _web_log(gc, f"decision.un{action}" if undo else f"decision.{action}", detail)
        return _back(gc, next)

    endpoint.__name__ = f"decide_{action}"
    router.post(f"/cases/{{cid}}/decisions/{action}")(endpoint)


def _note(case: Case, kind: str, subject: str, text: str, by: str, _undo: bool) -> int:
    return add_note(case, kind, subject, text, by)


def _tag(case: Case, kind: str, subject: str, tag: str, by: str, undo: bool) -> bool | None:
    if undo:
        remove_tag(case, kind, subject, tag, by)
        return None
    return add_tag(case, kind, subject, tag, by)


def _bookmark(case: Case, kind: str, subject: str, title: str, by: str, _undo: bool) -> int:
    return add_bookmark(case, kind, subject, title, by)


_subject_decision("note", "text", _note)
_subject_decision("tag", "tag", _tag, removable=True)
_subject_decision("bookmark", "title", _bookmark)


@router.post("/cases/{cid}/decisions/categorise")
def categorise_media(request: Request, gc: CaseDep, csrf: str = Form(""), sha256: str = Form(""),
                     category: str = Form(""), reason: str = Form(""), next: str = Form("")) -> Response:
    by = _decide(gc, csrf)
    try:
        label = categorise(gc.case, sha256, category, by, reason, gc.st.settings.category_scheme())
    except DecisionError as e:
        return _page(request, gc, str(e), 400, back=next)
    _web_log(gc, "decision.categorise", {"sha256": sha256[:64], "category": category[:60], "label": label})
    return _back(gc, next)


# ---- re-analysis jobs -----------------------------------------------------------------------------------------


@router.get("/cases/{cid}/jobs/{jid}.json")  # before the page: "{jid}" would take "3.json"
def job_json(gc: CaseDep, jid: int) -> Response:
    job = gc.st.jobs.get(jid)
    if job is None or job.case_path != str(gc.case.path):
        raise NotFound()
    return JSONResponse(job.public())


@router.get("/cases/{cid}/jobs/{jid}", response_class=HTMLResponse)
def job_page(request: Request, gc: CaseDep, jid: int, back: str | None = None) -> Response:
    job = gc.st.jobs.get(jid)
    if job is None or job.case_path != str(gc.case.path):
        raise NotFound()
    p = gc.view("job", str(jid))
    target = safe_next(back)
    return render(request, "job.html", p.ctx("decisions", job=job.public(),
                                              back=target if target and target.startswith(f"/cases/{gc.entry.id}/")
                                              else None))
