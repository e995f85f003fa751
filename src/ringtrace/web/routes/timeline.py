"""The case's timeline as a list with filters (person, group, kind, dates), paged, and the per-day series its chart
draws (``timeline.json``, same filters)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ringtrace.web.deps import CaseDep, paged
from ringtrace.web.state import render
from ringtrace.web.timeline import filters, per_day, timeline

router = APIRouter()


@router.get("/cases/{cid}/timeline", response_class=HTMLResponse)
def timeline_page(request: Request, gc: CaseDep, person: str | None = None, group: str | None = None,
                  kind: str | None = None, since: str | None = None, until: str | None = None,
                  page: int = 1) -> Response:
    p = gc.view("timeline")
    f = filters(person, group, kind, since, until)
    items, kinds = timeline(p.data, gc.case, f)
    rows, page, pages = paged(items, page, gc.st.settings.page_size)
    return render(request, "timeline.html", p.ctx("timeline", rows=rows, f=f, kinds=kinds, page=page, pages=pages,
                                                    total=len(items)))


@router.get("/cases/{cid}/timeline.json")
def timeline_json(gc: CaseDep, person: str | None = None, group: str | None = None, kind: str | None = None,
                  since: str | None = None, until: str | None = None) -> Response:
    p = gc.view("timeline.json")
    f = filters(person, group, kind, since, until)
    items, kinds = timeline(p.data, gc.case, f)
    return JSONResponse({"filters": {"person": f.person, "group": f.group, "kind": f.kind, "since": f.since,
                                     "until": f.until}, "total": len(items), "undated": sum(1 for x in items
                                                                                            if not x["day"]),
                         "days": per_day(items), "kinds": kinds})
