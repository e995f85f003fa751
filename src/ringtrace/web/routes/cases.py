"""The list of the viewer's cases and a case's overview."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.case import CaseError
from ringtrace.web.auth import client_address
from ringtrace.web.data import media_summary
from ringtrace.web.deps import CaseDep, ViewerDep
from ringtrace.web.state import render, state

router = APIRouter()


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, v: ViewerDep) -> Response:
    st = state(request)
    st.store.log("view", v.user.name, client_address(request), target="/cases")
    rows = []
    for e in st.store.granted_cases(v.user):
        try:
            c = st.cases.case(e.path, f"web:{v.user.name}")
            counts: dict[str, int] | None = st.cases.data(c).counts
        except CaseError:
            counts = None  # registered but gone or unreadable: listed, without numbers
        rows.append({"entry": e, "counts": counts})
    return render(request, "cases.html", {"viewer": v, "rows": rows, "entry": None})


@router.get("/cases/{cid}", response_class=HTMLResponse)
def overview(request: Request, gc: CaseDep) -> Response:
    p = gc.view("overview")
    return render(request, "overview.html", p.ctx("overview", sources=p.data.export["sources"],
                                                    problems=p.data.problems[:200],
                                                    categories=media_summary(p.data.export)))
