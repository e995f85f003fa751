"""The case's audit trail and the web audit of the case (supervisors only).

The case chain is read a page at a time in SQL (filters by action, actor and dates), and each entry is told in
words by a small renderer per action kind (``describe``); the raw detail stays one click away, escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, func, select

from ringtrace.audit import verify_chain
from ringtrace.store import schema as S
from ringtrace.web.data import as_int, clean
from ringtrace.web.deps import SupervisorCaseDep
from ringtrace.web.state import render

router = APIRouter()

PAGE = 100


def _n(d: dict[str, Any], k: str) -> str:
    v = d.get(k)
    return f"{v:,}" if isinstance(v, int) else str(v) if v is not None else "?"


def _counts(d: dict[str, Any], *keys: str) -> str:
    return ", ".join(f"{_n(d, k)} {k.replace('_', ' ')}" for k in keys if k in d)


def _why(d: dict[str, Any]) -> str:
    return f" — because: {d['reason']}" if d.get("reason") else ""


RENDER: dict[str, Callable[[dict[str, Any]], str]] = {
    "case.init": lambda d: f"created the case “{d.get('name', '')}” with {d.get('tool', 'ringtrace')}",
    "source.ingest": lambda d: (f"took in exhibit {d.get('exhibit', '?')} ({d.get('kind', '?')}, {_n(d, 'files')} "
                                f"files, {_n(d, 'size')} bytes, {d.get('mode', '?')} mode), examiner "
                                f"{d.get('examiner') or '—'}; {_n(d, 'refused')} refused"),
    "stage.parse": lambda d: (f"read exhibit {d.get('exhibit', '?')}: "
                              + ", ".join(f"{v:,} {k}" for k, v in sorted((d.get("records") or {}).items())
                                          if isinstance(v, int))),
    "stage.hash": lambda d: f"hashed {_n(d, 'hashed')} media items",
    "stage.match": lambda d: (f"matched media against {', '.join(map(str, d.get('hashsets') or [])) or 'no lists'}:"
                              f" {_n(d, 'matches')} matches on {_n(d, 'media_items')} items"),
    "stage.analyze": lambda d: ("analysed the case: " + _counts(d, "persons", "groups", "memberships", "messages",
                                                               "duplicates_folded", "conflicts")),
    "analysis.series": lambda d: (f"clustered {_n(d, 'unmatched_media')} unknown media into {_n(d, 'series')} "
                                  f"series (PDQ distance {_n(d, 'threshold')})"),
    "hashset.import": lambda d: (f"imported hash list “{d.get('name', '?')}” ({d.get('format', '?')}): "
                                 f"{_n(d, 'entries')} entries, {_n(d, 'refused')} refused"),
    "hashset.remove": lambda d: f"removed hash list “{d.get('name', '?')}”",
    "override.alias": lambda d: (f"{d.get('by') or 'someone'} declared {d.get('a', '?')} and {d.get('b', '?')} "
                                 f"the same person" + _why(d)),
    "override.country": lambda d: (f"{d.get('by') or 'someone'} set the country of {d.get('subject', '?')} to "
                                   f"{d.get('country', '?')}" + _why(d)),
    "status.set": lambda d: (f"{d.get('by') or 'someone'} set the action-day status of {d.get('person', '?')} to "
                             f"“{d.get('status', '?')}”" + (f" — note: {d['note']}" if d.get("note") else "")),
    "report.write": lambda d: (f"wrote the report ({', '.join(map(str, d.get('files') or []))})"
                               + (" with a PDF" if d.get("pdf") else "")),
    "package.write": lambda d: "made a referral package" + (f" for {d['country']}" if d.get("country") else ""),
    "export.json": lambda d: f"exported the case as JSON ({_counts(d, 'persons', 'groups', 'media')})",
    "web.view": lambda d: (f"{d.get('user', '?')} viewed the {d.get('page', '?')} page"
                           + (f" of {d['subject']}" if d.get("subject") else "") + f" from {d.get('address', '?')}"),
    "web.media_view": lambda d: (f"{d.get('user', '?')} asked for a preview of {str(d.get('sha256', '?'))[:16]}… "
                                 f"({d.get('outcome', '?')}) giving the reason “{d.get('reason', '')}”"),
    "web.grant": lambda d: f"{d.get('by') or 'an administrator'} granted {d.get('user', '?')} access to the case",
}


def describe(action: str, detail: dict[str, Any]) -> str:
    """One audit entry in words; an action without a renderer is named, with its detail's keys and values."""
    fn = RENDER.get(action)
    if fn is not None:
        try:
            return fn(detail)[:500]
        except (TypeError, ValueError, AttributeError, KeyError):
            pass  # an odd detail falls back to the plain listing below
    parts = [f"{k} {v}" for k, v in sorted(detail.items()) if not isinstance(v, (dict, list))][:6]
    return (action.replace(".", " ").replace("_", " ") + (": " + ", ".join(parts) if parts else ""))[:500]


def _day(raw: str | None) -> str:
    s = clean(raw, 10)
    try:
        return date.fromisoformat(s).isoformat() if s else ""
    except ValueError:
        return ""


@router.get("/cases/{cid}/audit", response_class=HTMLResponse)
def audit_trail(request: Request, gc: SupervisorCaseDep, action: str | None = None, actor: str | None = None,
                since: str | None = None, until: str | None = None, page: str | None = None,
                web: str | None = None) -> Response:
    p = gc.view("audit")
    al = S.audit_log
    fa, fu, fs, ft, fw = clean(action, 100), clean(actor, 100), _day(since), _day(until), clean(web, 1)

    def where(q: Select[Any]) -> Select[Any]:
        if fa:
            q = q.where((al.c.action == fa) | al.c.action.startswith(fa + ".", autoescape=True))
        if fu:
            q = q.where(al.c.actor.contains(fu, autoescape=True))
        if fs:
            q = q.where(al.c.at >= fs)
        if ft:
            q = q.where(al.c.at < ft + "T99")  # the whole of the last day
        if fw != "1":
            q = q.where(~al.c.action.like("web.%"))  # page views are many: shown on request
        return q

    with p.case.engine.connect() as con:
        total = int(con.execute(select(func.count()).select_from(al)).scalar() or 0)
        shown = int(con.execute(where(select(func.count()).select_from(al))).scalar() or 0)
        pages = max(1, (shown + PAGE - 1) // PAGE)
        pg = min(as_int(page), pages)
        rows = [dict(r._mapping) for r in con.execute(where(select(al)).order_by(al.c.seq.desc())
                                                      .limit(PAGE).offset((pg - 1) * PAGE))]
        actions = [r[0] for r in con.execute(select(al.c.action).distinct().order_by(al.c.action))]
        actors = [r[0] for r in con.execute(select(al.c.actor).distinct().order_by(al.c.actor).limit(200))]
        breaks = [f"entry {b.seq}: {b.reason}" for b in verify_chain(con)]
    for r in rows:
        try:
            d = json.loads(r["detail"])
        except ValueError:
            d = {}
        r["words"] = describe(r["action"], d if isinstance(d, dict) else {})
    web_rows = gc.st.store.audit_rows(gc.entry.id, 500)
    filters = {"action": fa, "actor": fu, "since": fs, "until": ft, "web": fw}

    def link(n: int) -> str:
        from urllib.parse import urlencode

        return "?" + urlencode({k: v for k, v in {**filters, "page": str(n)}.items() if v})

    return render(request, "audit.html", p.ctx("audit", rows=rows, total=total, shown=shown, breaks=breaks,
                                                web_rows=web_rows, page=pg, pages=pages, link=link,
                                                actions=actions, actors=actors, **filters))
