"""Groups: the list and one group's page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.auth import NotFound
from ringtrace.web.decisions import decisions_about
from ringtrace.web.deps import CaseDep
from ringtrace.web.dossier import group_media
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/groups", response_class=HTMLResponse)
def groups(request: Request, gc: CaseDep) -> Response:
    p = gc.view("groups")
    return render(request, "groups.html", p.ctx("groups", groups=p.data.export["groups"]))


@router.get("/cases/{cid}/groups/{label}", response_class=HTMLResponse)
def group(request: Request, gc: CaseDep, label: str) -> Response:
    p = gc.view("group", label[:100])
    g = next((g for g in p.data.export["groups"] if g["id"] == label), None)
    if g is None:
        raise NotFound()
    return render(request, "group.html", p.ctx("groups", g=g, media=group_media(p.data.export, label),
                                                decided=decisions_about(gc.case, "group", label),
                                                here=f"/cases/{gc.entry.id}/groups/{label}"))
