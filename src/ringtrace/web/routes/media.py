"""Media: hashes, matches and locations only; content solely through ``media_preview``.

The preview is a POST with a CSRF token and a stated reason, answered with a blurred greyscale thumbnail inlined as
a data: URI (no URL that could be replayed, bookmarked or cached), and audited as ``web.media_view`` in the case's
chain.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web import auth
from ringtrace.web.auth import NotFound, client_address
from ringtrace.web.data import grouped_matches, known_media, media_path
from ringtrace.web.decisions import category_choices, decisions_about
from ringtrace.web.deps import CaseDep, paged
from ringtrace.web.state import reason_is_given, render

router = APIRouter()

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_REASON = 500
MAX_PREVIEW_BYTES = 100 * 1024 * 1024


@router.get("/cases/{cid}/media", response_class=HTMLResponse)
def media(request: Request, gc: CaseDep, page: int = 1, matched: int = 0) -> Response:
    p = gc.view("media")
    items = [m for m in p.data.export["media"] if m["matches"] or not matched]
    rows, page, pages = paged(items, page, gc.st.settings.page_size)
    rows = [{**m, "grouped": grouped_matches(m["matches"])} for m in rows]
    return render(request, "media.html", p.ctx("media", rows=rows, page=page, pages=pages, matched=matched,
                                                total=len(items)))


@router.get("/cases/{cid}/media/{sha}", response_class=HTMLResponse)
def media_item(request: Request, gc: CaseDep, sha: str) -> Response:
    """One media item: hashes, matches, where it is and who shared it, the investigators' categorisations, notes,
    tags and bookmarks, and the forms to add them. Still no content: the preview is its own POST."""
    sha = sha.lower()
    if not SHA256.match(sha):
        raise NotFound()
    p = gc.view("media_item", sha)
    m = next((x for x in p.data.export["media"] if x["sha256"] == sha), None)
    if m is None:
        raise NotFound()
    decided = decisions_about(gc.case, "media", sha)
    return render(request, "media_item.html",
                  p.ctx("media", m={**m, "grouped": grouped_matches([dict(x) for x in m["matches"]])}, decided=decided,
                        choices=category_choices(gc.st.settings.category_scheme()),
                        here=f"/cases/{gc.entry.id}/media/{sha}"))


@router.post("/cases/{cid}/media/{sha}/preview", response_class=HTMLResponse)
def media_preview(request: Request, gc: CaseDep, sha: str, csrf: str = Form(""),
                  reason: str = Form("")) -> Response:
    from ringtrace.media.images import DecodeRefused
    from ringtrace.media.thumbnails import safe_thumbnail

    v, st, case = gc.viewer, gc.st, gc.case
    auth.check_csrf(v, csrf)
    addr = client_address(request)
    sha = sha.lower()
    if not SHA256.match(sha):
        raise NotFound()
    reason = " ".join(reason.split())[:MAX_REASON]
    row = known_media(case, sha)
    if row is None:
        raise NotFound()
    data = st.cases.data(case)
    base: dict[str, Any] = {"viewer": v, "entry": gc.entry, "counts": data.counts, "nav": "media", "sha": sha,
                            "row": row, "reason": reason, "image": None, "error": None}
    if not reason_is_given(reason):
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
            if size > MAX_PREVIEW_BYTES:
                raise DecodeRefused(f"{size} bytes is too large to preview")
            png = safe_thumbnail(path.read_bytes(), st.settings.thumb_max_side, st.settings.thumb_blur_radius)
            image = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        except (DecodeRefused, OSError) as e:
            outcome, error = "refused", f"no preview: {e}"
    detail = {"sha256": sha, "user": v.user.name, "reason": reason, "address": addr, "outcome": outcome,
              "max_side": st.settings.thumb_max_side, "blur_radius": st.settings.thumb_blur_radius}
    st.store.log("media_view", v.user.name, addr, case_id=gc.entry.id, target=sha, detail=detail)
    case.log("web.media_view", detail)
    return render(request, "preview.html", {**base, "image": image, "error": error}, 200 if image else 422)
