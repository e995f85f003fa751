"""Leads: invite links and indicators (shown as text, never as links)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.deps import CaseDep
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/leads", response_class=HTMLResponse)
def leads(request: Request, gc: CaseDep) -> Response:
    p = gc.view("leads")
    return render(request, "leads.html", p.ctx("leads", links=p.data.export["invite_links"],
                                                indicators=p.data.export["indicators"][:1000]))
