"""The list of the viewer's cases and a case's overview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from ringtrace.case import CaseError
from ringtrace.store import schema as S
from ringtrace.web.auth import client_address
from ringtrace.web.data import media_summary
from ringtrace.web.deps import CaseDep, ViewerDep
from ringtrace.web.state import render, state

router = APIRouter()


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, v: ViewerDep) -> Response:
    st = state(request)
    st.store.log("view", v.user.name, client_address(request), target="/cases")
    rows: list[dict[str, Any]] = []
    for e in st.store.granted_cases(v.user):
        created: str | None = None
        try:
            c = st.cases.case(e.path, f"web:{v.user.name}")
            counts: dict[str, int] | None = st.cases.data(c).counts
            with c.engine.connect() as con:  # the case's first audit entry is its creation
                created = con.execute(select(S.audit_log.c.at).order_by(S.audit_log.c.seq).limit(1)).scalar()
        except CaseError:
            counts = None  # registered but gone or unreadable: listed, without numbers
        rows.append({"entry": e, "counts": counts, "created": created})
    names = [str(r["entry"].name) for r in rows]
    for r in rows:
        r["twin"] = names.count(r["entry"].name) > 1  # two cases share a name: the folder tells them apart
    return render(request, "cases.html", {"viewer": v, "rows": rows, "entry": None})


@router.get("/cases/{cid}", response_class=HTMLResponse)
def overview(request: Request, gc: CaseDep) -> Response:
    p = gc.view("overview")
    return render(request, "overview.html", p.ctx("overview", sources=p.data.export["sources"],
                                                    problems=p.data.problems[:200],
                                                    categories=media_summary(p.data.export)))
