"""The chat viewer: a group's or a direct chat's messages and system events, folded across devices, in order."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.auth import NotFound
from ringtrace.web.chats import MAX_FIND, Cursor, chat_page, date_cursor, earlier_cursor, resolve_chat
from ringtrace.web.decisions import decisions_for
from ringtrace.web.deps import CaseDep
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/chats/{ref}", response_class=HTMLResponse)
def chat(request: Request, gc: CaseDep, ref: str, after: str | None = None, date: str | None = None,
         find: str | None = None, before: str | None = None) -> Response:
    p = gc.view("chat", ref[:100])
    find = " ".join(find.split())[:MAX_FIND] if find else ""
    with gc.case.engine.connect() as con:
        c = resolve_chat(con, ref, p.data.export["groups"])
        if c is None:
            raise NotFound()
        cursor = date_cursor(date) or Cursor.parse(after)
        back = Cursor.parse(before) if not find else None
        if cursor is None and back is not None:  # "earlier": the page that ends where the shown one began
            cursor = earlier_cursor(con, c, back, gc.st.settings.page_size)
        page = chat_page(con, c, p.data.export["persons"], p.data.export["media"], gc.st.settings.page_size,
                         cursor, find or None)
    ids = [str(it["id"]) for it in page.items if it["type"] == "message"]
    first = next((it for it in page.items if it["type"] == "message"), None)
    prev = Cursor(first["at"], first["id"]).token() if first is not None and not page.first and not find else None
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "chat.html", p.ctx("groups" if c.group else "persons", chat=c, page=page, find=find,
                                               date=date[:10] if date and date_cursor(date) else "",
                                               decided=decisions_for(gc.case, "message", ids), here=here[:400],
                                               prev_cursor=prev))
