"""Series: the victim-identification queue, ranked as ``ringtrace series`` ranks it (``unknown_series``).

Unknown media (matching no list) clustered by PDQ distance across devices; hashes only. Content is shown solely
through the media page's reasoned preview (a POST, audited, blurred and greyscale).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.dissemination.precomputed import SERIES_THRESHOLD
from ringtrace.web.chats import media_by_sha
from ringtrace.web.data import clean, table, who
from ringtrace.web.deps import CaseDep
from ringtrace.web.state import render

router = APIRouter()

THRESHOLD = SERIES_THRESHOLD  # the CLI's default PDQ distance, the one the stored view is computed at


@router.get("/cases/{cid}/series", response_class=HTMLResponse)
def series(request: Request, gc: CaseDep, sort: str | None = None, page: str | None = None,
           person: str | None = None, device: str | None = None) -> Response:
    p = gc.view("series")
    rows = p.data.view("series", p.case)
    fp, fd = clean(person, 40), clean(device, 100)
    items = [r for r in rows if (not fp or fp in r.persons) and (not fd or fd in r.devices)]
    t = table(items, {"rank": lambda r: r.rank, "size": lambda r: r.size, "devices": lambda r: len(r.devices),
                      "persons": lambda r: len(r.persons), "groups": lambda r: len(r.groups)},
              sort, "rank", page, gc.st.settings.page_size // 4 or 25, {"person": fp, "device": fd})
    kinds = media_by_sha(p.data)
    return render(request, "series.html", p.ctx("series", t=t, total=len(rows), who=who(p.data, p.case),
                                                 media=kinds, person=fp, device=fd, threshold=THRESHOLD))
