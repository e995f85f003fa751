"""FastAPI dependencies: who is asking (``current_viewer``) and which granted case (``granted_case``).

Every case route runs the same chain: session (``LoginRequired`` -> login page) -> grant (``NotFound``: a case that
exists but is not granted looks like one that does not) -> audit (``GrantedCase.view``: one entry in the web log, one
in the case's chain) -> render.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from ringtrace.case import Case, CaseError
from ringtrace.web import auth
from ringtrace.web.auth import NotFound, Viewer, client_address
from ringtrace.web.data import CaseData
from ringtrace.web.state import WebState, state
from ringtrace.web.users import CaseEntry


def current_viewer(request: Request) -> Viewer:
    return auth.viewer(request)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


@dataclass
class Page:
    viewer: Viewer
    entry: CaseEntry
    case: Case
    data: CaseData
    victims_ok: bool = False  # holds the separate grant for possible victims (people named in notes)

    def ctx(self, nav: str, **kw: Any) -> dict[str, Any]:
        return {"viewer": self.viewer, "entry": self.entry, "counts": self.data.counts, "nav": nav,
                "victims_ok": self.victims_ok, **kw}


@dataclass
class GrantedCase:
    """A case the viewer holds a grant for, opened with the viewer as the actor of its audit entries."""

    request: Request
    st: WebState
    viewer: Viewer
    entry: CaseEntry
    case: Case

    def view(self, page: str, subject: str | None = None) -> Page:
        """Audit this view (web log and case chain), then give the page's read model."""
        v = self.viewer
        addr = client_address(self.request)
        detail: dict[str, Any] = {"user": v.user.name, "page": page, "address": addr}
        if subject is not None:
            detail["subject"] = subject
        self.st.store.log("view", v.user.name, addr, case_id=self.entry.id, target=page,
                          detail={"subject": subject} if subject else {})
        self.case.log("web.view", detail)  # BEGIN IMMEDIATE: waits for a re-analysis writing the chain, no race
        return Page(v, self.entry, self.case, self.st.cases.data(self.case),
                    self.st.store.may_see_victims(v.user, self.entry.id))


def granted_case(request: Request, cid: int, v: ViewerDep) -> GrantedCase:
    entry = auth.granted(request, v, cid)
    st = state(request)
    try:
        case = st.cases.case(entry.path, f"web:{v.user.name}")
    except CaseError as e:
        raise NotFound() from e
    return GrantedCase(request, st, v, entry, case)


CaseDep = Annotated[GrantedCase, Depends(granted_case)]


def supervisor_case(request: Request, cid: int, v: ViewerDep) -> GrantedCase:
    """A granted case for supervisors only: 404 before 403, so a missing grant does not reveal the case."""
    auth.granted(request, v, cid)
    auth.require_role(v, "supervisor")
    return granted_case(request, cid, v)


SupervisorCaseDep = Annotated[GrantedCase, Depends(supervisor_case)]


def paged(items: list[Any], page: int, size: int) -> tuple[list[Any], int, int]:
    pages = max(1, (len(items) + size - 1) // size)
    page = min(max(1, page), pages)
    return items[(page - 1) * size: page * size], page, pages
