"""Leads: invite links and captured pages ranked as ``ringtrace leads`` ranks them (``rank_leads``), the story
page -> link -> group -> who joined through it (``lead_story``), and the other indicators.

Everything found in evidence is shown as text, never as a link: ringtrace does not contact anything it finds.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.data import CaseData, clean, table, who
from ringtrace.web.deps import CaseDep
from ringtrace.web.routes import series
from ringtrace.web.state import render

router = APIRouter()
router.include_router(series.router)  # the series page lives beside the leads (both are queues to work through)


def ranked(data: CaseData, case: Any) -> tuple[Any, list[Any]]:
    """The leads report and its stories, computed once per case version (stored by ``ringtrace run``)."""
    rep, stories = data.view("leads", case)
    return rep, stories


@router.get("/cases/{cid}/leads", response_class=HTMLResponse)
def leads(request: Request, gc: CaseDep, sort: str | None = None, page: str | None = None,
          psort: str | None = None, ppage: str | None = None, platform: str | None = None,
          tied: str | None = None, isort: str | None = None, ipage: str | None = None,
          kind: str | None = None) -> Response:
    p = gc.view("leads")
    rep, stories = ranked(p.data, p.case)
    size = gc.st.settings.page_size
    fplat, ftied, fkind = clean(platform, 20), clean(tied, 3), clean(kind, 30)
    links = [{"rank": i, "x": x} for i, x in enumerate(rep.links, 1)
             if (not fplat or x.platform == fplat) and (ftied != "1" or x.group)]
    lt = table(links, {"rank": lambda r: r["rank"], "score": lambda r: r["x"].score,
                       "pages": lambda r: len(r["x"].pages), "joined": lambda r: len(r["x"].joined),
                       "first": lambda r: str(r["x"].first_seen or ""), "group": lambda r: r["x"].group or ""},
               sort, "rank", page, size, anchor="#links")
    pages = [{"rank": i, "x": x} for i, x in enumerate(rep.pages, 1)]
    pt = table(pages, {"rank": lambda r: r["rank"], "score": lambda r: r["x"].score,
                       "known": lambda r: len(r["x"].known), "captured": lambda r: str(r["x"].captured_at or "")},
               psort, "rank", ppage, size, names=("psort", "ppage"), anchor="#pages")
    inds = [i for i in p.data.export["indicators"] if not fkind or i["kind"] == fkind]
    it = table(inds, {"kind": lambda i: i["kind"], "value": lambda i: i["value"], "seen": lambda i: len(i["seen"])},
               isort, "kind", ipage, size, names=("isort", "ipage"), anchor="#indicators")
    # every link on the page keeps the other tables' state
    state = {"platform": fplat, "tied": ftied, "kind": fkind, "sort": lt.sort, "page": str(lt.page),
             "psort": pt.sort, "ppage": str(pt.page), "isort": it.sort, "ipage": str(it.page)}
    for t in (lt, pt, it):
        t.params = dict(state)
    return render(request, "leads.html", p.ctx(
        "leads", lt=lt, pt=pt, it=it, stories=stories[:20], n_stories=len(stories), who=who(p.data, p.case),
        platforms=sorted({x.platform for x in rep.links}),
        kinds=sorted({i["kind"] for i in p.data.export["indicators"]}), platform=fplat, tied=ftied, kind=fkind,
        sort=lt.sort))
