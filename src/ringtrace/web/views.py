"""Case pages. Each route: session -> grant (404 when missing) -> audit in both logs -> render.

Media rows show hashes, matches and locations only. Content is shown solely through ``media_preview``: a POST
with a CSRF token and a stated reason, answered with a blurred greyscale thumbnail inlined as a data: URI (no URL
that could be replayed, bookmarked or cached), and audited as ``web.media_view`` in the case's chain.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.case import Case, CaseError
from ringtrace.web import auth
from ringtrace.web.app import render
from ringtrace.web.auth import NotFound, Viewer, client_address
from ringtrace.web.data import (
    CaseData,
    case_audit,
    grouped_matches,
    known_media,
    media_path,
    media_summary,
    person_groups,
)
from ringtrace.web.users import CaseEntry

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_REASON = 500


@dataclass
class Page:
    viewer: Viewer
    entry: CaseEntry
    case: Case
    data: CaseData

    def ctx(self, nav: str, **kw: Any) -> dict[str, Any]:
        return {"viewer": self.viewer, "entry": self.entry, "counts": self.data.counts, "nav": nav, **kw}


def open_case(request: Request, cid: int, page: str, subject: str | None = None) -> Page:
    """Session, grant, then one audit entry in the web log and one in the case's chain for this view."""
    v = auth.viewer(request)
    entry = auth.granted(request, v, cid)
    st = auth.state(request)
    addr = client_address(request)
    try:
        case = st.cases.case(entry.path, f"web:{v.user.name}")
    except CaseError as e:
        raise NotFound() from e
    detail: dict[str, Any] = {"user": v.user.name, "page": page, "address": addr}
    if subject is not None:
        detail["subject"] = subject
    st.store.log("view", v.user.name, addr, case_id=cid, target=page, detail={"subject": subject} if subject else {})
    case.log("web.view", detail)
    return Page(v, entry, case, st.cases.data(case))


def _paged(items: list[Any], page: int, size: int) -> tuple[list[Any], int, int]:
    pages = max(1, (len(items) + size - 1) // size)
    page = min(max(1, page), pages)
    return items[(page - 1) * size: page * size], page, pages


def register(app: FastAPI) -> None:
    @app.get("/cases", response_class=HTMLResponse)
    def cases(request: Request) -> Response:
        v = auth.viewer(request)
        st = auth.state(request)
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

    @app.get("/cases/{cid}", response_class=HTMLResponse)
    def overview(request: Request, cid: int) -> Response:
        p = open_case(request, cid, "overview")
        return render(request, "overview.html", p.ctx("overview", sources=p.data.export["sources"],
                                                        problems=p.data.problems[:200],
                                                        categories=media_summary(p.data.export)))

    @app.get("/cases/{cid}/groups", response_class=HTMLResponse)
    def groups(request: Request, cid: int) -> Response:
        p = open_case(request, cid, "groups")
        return render(request, "groups.html", p.ctx("groups", groups=p.data.export["groups"]))

    @app.get("/cases/{cid}/groups/{label}", response_class=HTMLResponse)
    def group(request: Request, cid: int, label: str) -> Response:
        p = open_case(request, cid, "group", label[:100])
        g = next((g for g in p.data.export["groups"] if g["id"] == label), None)
        if g is None:
            raise NotFound()
        return render(request, "group.html", p.ctx("groups", g=g))

    @app.get("/cases/{cid}/persons", response_class=HTMLResponse)
    def persons(request: Request, cid: int) -> Response:
        p = open_case(request, cid, "persons")
        return render(request, "persons.html", p.ctx("persons", persons=p.data.export["persons"]))

    @app.get("/cases/{cid}/persons/{label}", response_class=HTMLResponse)
    def person(request: Request, cid: int, label: str) -> Response:
        p = open_case(request, cid, "person", label[:100])
        person = next((x for x in p.data.export["persons"] if x["id"] == label), None)
        if person is None:
            raise NotFound()
        shared = [m for m in p.data.export["media"] if label in m["shared_by"]]
        return render(request, "person.html", p.ctx("persons", p=person,
                                                      groups=person_groups(p.data.export, label),
                                                      shared=len(shared),
                                                      shared_known=sum(1 for m in shared if m["matches"])))

    @app.get("/cases/{cid}/suspects", response_class=HTMLResponse)
    def suspects(request: Request, cid: int, country: str | None = None) -> Response:
        from ringtrace.analysis.priorities import rank_suspects

        p = open_case(request, cid, "suspects")
        cc = country.strip().upper()[:2] if country else None
        ranked = rank_suspects(p.case, cc)
        countries = sorted({x["country"] for x in p.data.export["persons"] if x["country"]})
        return render(request, "suspects.html", p.ctx("suspects", ranked=ranked, country=cc or "",
                                                       countries=countries))

    @app.get("/cases/{cid}/leads", response_class=HTMLResponse)
    def leads(request: Request, cid: int) -> Response:
        p = open_case(request, cid, "leads")
        return render(request, "leads.html", p.ctx("leads", links=p.data.export["invite_links"],
                                                    indicators=p.data.export["indicators"][:1000]))

    @app.get("/cases/{cid}/media", response_class=HTMLResponse)
    def media(request: Request, cid: int, page: int = 1, matched: int = 0) -> Response:
        p = open_case(request, cid, "media")
        items = [m for m in p.data.export["media"] if m["matches"] or not matched]
        rows, page, pages = _paged(items, page, auth.state(request).settings.page_size)
        rows = [{**m, "grouped": grouped_matches(m["matches"])} for m in rows]
        return render(request, "media.html", p.ctx("media", rows=rows, page=page, pages=pages, matched=matched,
                                                    total=len(items)))

    @app.post("/cases/{cid}/media/{sha}/preview", response_class=HTMLResponse)
    def media_preview(request: Request, cid: int, sha: str, csrf: str = Form(""),
                      reason: str = Form("")) -> Response:
        from ringtrace.media.images import DecodeRefused
        from ringtrace.media.thumbnails import safe_thumbnail

        v = auth.viewer(request)
        entry = auth.granted(request, v, cid)
        auth.check_csrf(v, csrf)
        st = auth.state(request)
        addr = client_address(request)
        sha = sha.lower()
        if not SHA256.match(sha):
            raise NotFound()
        reason = " ".join(reason.split())[:MAX_REASON]
        try:
            case = st.cases.case(entry.path, f"web:{v.user.name}")
        except CaseError as e:
            raise NotFound() from e
        row = known_media(case, sha)
        if row is None:
            raise NotFound()
        data = st.cases.data(case)
        base = {"viewer": v, "entry": entry, "counts": data.counts, "nav": "media", "sha": sha, "row": row,
                "reason": reason, "image": None, "error": None}
        if len(reason) < 5:
            return render(request, "preview.html", {**base, "error": "State why you need to see this item "
                                                     "(at least a few words); the reason is recorded."}, 400)
        path = media_path(case, sha)
        image: str | None = None
        outcome = "shown"
        error: str | None = None
        if row["kind"] != "image":
            outcome, error = "refused", f"previews are made for images only; this item is a {row['kind']}"
        elif path is None:
            outcome, error = "refused", "the file's bytes are not in the vault or at its reference location"
        else:
            try:
                size = path.stat().st_size
                if size > 100 * 1024 * 1024:
                    raise DecodeRefused(f"{size} bytes is too large to preview")
                png = safe_thumbnail(path.read_bytes(), st.settings.thumb_max_side, st.settings.thumb_blur_radius)
                image = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            except (DecodeRefused, OSError) as e:
                outcome, error = "refused", f"no preview: {e}"
        detail = {"sha256": sha, "user": v.user.name, "reason": reason, "address": addr, "outcome": outcome,
                  "max_side": st.settings.thumb_max_side, "blur_radius": st.settings.thumb_blur_radius}
        st.store.log("media_view", v.user.name, addr, case_id=cid, target=sha, detail=detail)
        case.log("web.media_view", detail)
        return render(request, "preview.html", {**base, "image": image, "error": error},
                      200 if image else 422)

    @app.get("/cases/{cid}/audit", response_class=HTMLResponse)
    def audit_trail(request: Request, cid: int) -> Response:
        v = auth.viewer(request)
        auth.granted(request, v, cid)  # 404 before 403: a missing grant must not reveal the case
        auth.require_role(v, "supervisor")
        p = open_case(request, cid, "audit")
        rows, total, breaks = case_audit(p.case)
        web_rows = auth.state(request).store.audit_rows(cid, 500)
        return render(request, "audit.html", p.ctx("audit", rows=rows, total=total, breaks=breaks,
                                                    web_rows=web_rows))
