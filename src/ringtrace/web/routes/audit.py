"""The case's audit trail and the web audit of the case (supervisors only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.data import case_audit
from ringtrace.web.deps import SupervisorCaseDep
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/audit", response_class=HTMLResponse)
def audit_trail(request: Request, gc: SupervisorCaseDep) -> Response:
    p = gc.view("audit")
    rows, total, breaks = case_audit(p.case)
    web_rows = gc.st.store.audit_rows(gc.entry.id, 500)
    return render(request, "audit.html", p.ctx("audit", rows=rows, total=total, breaks=breaks, web_rows=web_rows))
