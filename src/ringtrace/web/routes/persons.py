"""Persons: the list, one person's page, and suspects by priority."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.auth import NotFound
from ringtrace.web.chats import chats_of_person
from ringtrace.web.data import person_groups
from ringtrace.web.deps import CaseDep
from ringtrace.web.dossier import person_dossier, score_of
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/persons", response_class=HTMLResponse)
def persons(request: Request, gc: CaseDep) -> Response:
    p = gc.view("persons")
    return render(request, "persons.html", p.ctx("persons", persons=p.data.export["persons"]))


@router.get("/cases/{cid}/persons/{label}", response_class=HTMLResponse)
def person(request: Request, gc: CaseDep, label: str) -> Response:
    p = gc.view("person", label[:100])
    found = next((x for x in p.data.export["persons"] if x["id"] == label), None)
    if found is None:
        raise NotFound()
    shared = [m for m in p.data.export["media"] if label in m["shared_by"]]
    with gc.case.engine.connect() as con:
        chats = chats_of_person(con, label)
        dossier = person_dossier(con, label, found, p.data.export)
    return render(request, "person.html", p.ctx("persons", p=found, groups=person_groups(p.data.export, label),
                                                  shared=len(shared),
                                                  shared_known=sum(1 for m in shared if m["matches"]), chats=chats,
                                                  d=dossier, score=score_of(p.case, label)))


@router.get("/cases/{cid}/suspects", response_class=HTMLResponse)
def suspects(request: Request, gc: CaseDep, country: str | None = None) -> Response:
    from ringtrace.analysis.priorities import rank_suspects

    p = gc.view("suspects")
    cc = country.strip().upper()[:2] if country else None
    ranked = rank_suspects(p.case, cc)
    countries = sorted({x["country"] for x in p.data.export["persons"] if x["country"]})
    return render(request, "suspects.html", p.ctx("suspects", ranked=ranked, country=cc or "",
                                                   countries=countries))
