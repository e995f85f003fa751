"""Possible victims: people named in notes who tie to nobody of the case, the most sensitive data of a case.

Shown only to users holding the separate victims grant for the case (``ringtrace web grant USER CASE --victims``);
to anyone else the page does not exist (404, like a case that is not granted). Every view is audited twice: the
page view, and the read of the victims with its purpose.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.analysis.victims import read_victims
from ringtrace.web.auth import NotFound
from ringtrace.web.data import clean, table
from ringtrace.web.deps import CaseDep
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/victims", response_class=HTMLResponse)
def victims(request: Request, gc: CaseDep, sort: str | None = None, page: str | None = None,
            country: str | None = None) -> Response:
    if not gc.st.store.may_see_victims(gc.viewer.user, gc.entry.id):
        raise NotFound()
    p = gc.view("victims")
    fc = (clean(country, 2) or "").upper() or None
    rows = read_victims(p.case, purpose=f"web victims page, viewed by {gc.viewer.user.name}", country=fc)
    t = table(rows, {"label": lambda r: r.label, "name": lambda r: r.name.casefold(),
                     "age": lambda r: (r.age is None, r.age or 0), "country": lambda r: r.country or "~"},
              sort, "label", page, gc.st.settings.page_size, {"country": fc or ""})
    return render(request, "victims.html", p.ctx("victims", t=t, total=len(rows), country=fc or ""))
