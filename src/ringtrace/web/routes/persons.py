"""Persons: the list, one person's page, and suspects by priority."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.auth import NotFound
from ringtrace.web.chats import chats_of_person
from ringtrace.web.data import clean, person_groups, table, who
from ringtrace.web.decisions import account_strings, decisions_about
from ringtrace.web.deps import CaseDep, Page
from ringtrace.web.dossier import person_dossier
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/persons", response_class=HTMLResponse)
def persons(request: Request, gc: CaseDep, sort: str | None = None, page: str | None = None,
            country: str | None = None, q: str | None = None) -> Response:
    p = gc.view("persons")
    w = who(p.data, p.case)
    cc, fq = clean(country, 2).upper(), clean(q).casefold()
    items = [x for x in p.data.export["persons"]
             if (not cc or (x["country"] or "") == cc)
             and (not fq or fq in x["id"].casefold() or any(fq in n.casefold() for n in x["names"])
                  or any(fq in ph for ph in x["phones"]))]
    t = table(items, {"label": lambda x: x["id"], "name": lambda x: w[x["id"]]["name"],
                      "phone": lambda x: w[x["id"]]["phone"], "country": lambda x: x["country"] or "",
                      "names": lambda x: len(x["names"])},
              sort, "label", page, gc.st.settings.page_size, {"country": cc, "q": clean(q)})
    countries = sorted({x["country"] for x in p.data.export["persons"] if x["country"]})
    return render(request, "persons.html", p.ctx("persons", t=t, who=w, country=cc, q=clean(q),
                                                  countries=countries, total=len(p.data.export["persons"])))


@router.get("/cases/{cid}/persons/{label}", response_class=HTMLResponse)
def person(request: Request, gc: CaseDep, label: str) -> Response:
    p = gc.view("person", label[:100])
    found = next((x for x in p.data.export["persons"] if x["id"] == label), None)
    if found is None:
        raise NotFound()
    from ringtrace.dissemination.status import STATUSES, current_statuses

    shared = [m for m in p.data.export["media"] if label in m["shared_by"]]
    with gc.case.engine.connect() as con:
        chats = chats_of_person(con, label)
        dossier = person_dossier(con, label, found, p.data.export)
        status = current_statuses(con).get(label)
        accounts = account_strings(con, label)
    from ringtrace.analysis.victims import note_mentions

    mentions = note_mentions(gc.case, label)
    return render(request, "person.html", p.ctx("persons", p=found, groups=person_groups(p.data.export, label),
                                                  shared=len(shared), mentions=mentions,
                                                  shared_known=sum(1 for m in shared if m["matches"]), chats=chats,
                                                  d=dossier, score=_score(p, label), status=status,
                                                  statuses=STATUSES, accounts=accounts,
                                                  decided=decisions_about(gc.case, "person", label),
                                                  jobs=[j.public() for j in gc.st.jobs.for_case(str(gc.case.path))],
                                                  here=f"/cases/{gc.entry.id}/persons/{label}", open_forms=False,
                                                  best=who(p.data, p.case).get(label, {})))


def _ranking(p: Page) -> list[Any]:
    """The suspect ranking of this case version, computed once (it reads every person's conduct: seconds on a
    medium case) and shared by the Suspects page and every person page."""
    from ringtrace.analysis.priorities import rank_suspects

    case = p.case
    result: list[Any] = p.data.memo("suspects", lambda: rank_suspects(case))
    return result


def _score(p: Page, label: str) -> Any:
    """The person's score with its components, as on the Suspects page, or None."""
    return next((s for s in _ranking(p) if s.label == label), None)


@router.get("/cases/{cid}/suspects", response_class=HTMLResponse)
def suspects(request: Request, gc: CaseDep, country: str | None = None, sort: str | None = None,
             page: str | None = None) -> Response:
    p = gc.view("suspects")
    cc = clean(country, 2).upper()
    ranking = _ranking(p)
    w = who(p.data, p.case)
    items = [{"rank": i, "s": s} for i, s in enumerate(ranking, 1) if not cc or (s.country or "").upper() == cc]
    t = table(items, {"rank": lambda r: r["rank"], "score": lambda r: r["s"].score, "label": lambda r: r["s"].label,
                      "name": lambda r: w.get(r["s"].label, {}).get("name", ""),
                      "country": lambda r: r["s"].country or ""},
              sort, "rank", page, gc.st.settings.page_size, {"country": cc})
    countries = sorted({x["country"] for x in p.data.export["persons"] if x["country"]})
    return render(request, "suspects.html", p.ctx("suspects", t=t, ranked=bool(ranking), who=w, country=cc,
                                                   countries=countries))
