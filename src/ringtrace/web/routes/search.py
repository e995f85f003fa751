"""Search in a case: one box, results grouped by kind, each linking to its page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.deps import CaseDep
from ringtrace.web.search import Results, clean_query, media_hashes, search
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/search", response_class=HTMLResponse)
def search_page(request: Request, gc: CaseDep, q: str | None = None) -> Response:
    query = clean_query(q)
    p = gc.view("search", query[:100] or None)
    if query:
        with gc.case.engine.connect() as con:
            hashes = p.data.memo("media_hashes", lambda: media_hashes(p.data.export))
            res = search(con, gc.case.path, p.data.version, p.data.export, query, hashes)
    else:
        res = Results("")
    return render(request, "search.html", p.ctx("search", res=res, q=query))
