"""The chat viewer: a group's or a direct chat's messages and system events, folded across devices, in order."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.web.auth import NotFound
from ringtrace.web.chats import MAX_FIND, Cursor, chat_page, date_cursor, resolve_chat
from ringtrace.web.deps import CaseDep
from ringtrace.web.state import render

router = APIRouter()


@router.get("/cases/{cid}/chats/{ref}", response_class=HTMLResponse)
def chat(request: Request, gc: CaseDep, ref: str, after: str | None = None, date: str | None = None,
         find: str | None = None) -> Response:
    p = gc.view("chat", ref[:100])
    find = " ".join(find.split())[:MAX_FIND] if find else ""
    with gc.case.engine.connect() as con:
        c = resolve_chat(con, ref, p.data.export["groups"])
        if c is None:
            raise NotFound()
        cursor = date_cursor(date) or Cursor.parse(after)
        page = chat_page(con, c, p.data, gc.case, gc.st.settings.page_size, cursor, find or None)
    return render(request, "chat.html", p.ctx("groups" if c.group else "persons", chat=c, page=page, find=find,
                                               date=date[:10] if date and date_cursor(date) else ""))
