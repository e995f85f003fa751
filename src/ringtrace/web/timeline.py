"""Every dated event of a case as one list: messages per day and chat, group events (creation, joins, link joins,
leaves, removals, promotions, renames), first shares of known material and dated link or indicator sightings.
Filters: person, group, kind, dates (UTC days). Each entry links to its page and keeps its exhibit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from ringtrace.analysis.common import utc
from ringtrace.dissemination.export_types import ExportDoc
from ringtrace.store import schema as S

MAX_EVENTS = 50_000


@dataclass(frozen=True)
class Filters:
    person: str = ""
    group: str = ""
    kind: str = ""
    since: str = ""  # YYYY-MM-DD
    until: str = ""


def _day(raw: str | None) -> str:
    if not raw or len(raw) != 10:
        return ""
    try:
        datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        return ""
    return raw


def filters(person: str | None, group: str | None, kind: str | None, since: str | None,
            until: str | None) -> Filters:
    return Filters((person or "").strip()[:20], (group or "").strip()[:20], (kind or "").strip()[:40],
                   _day(since), _day(until))


def timeline(con: Connection, doc: ExportDoc, f: Filters) -> tuple[list[dict[str, Any]], list[str]]:
    """The entries in time order (undated last) and every kind present (for the filter's choices)."""
    exhibit = {int(r.id): str(r.exhibit) for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
    group_of = {int(r.chat_id): str(r.label) for r in con.execute(
        select(S.group_chats.c.chat_id, S.groups.c.label).join(S.groups, S.groups.c.id == S.group_chats.c.group_id))}
    person_of = {int(r.account_id): str(r.label) for r in con.execute(
        select(S.person_accounts.c.account_id, S.persons.c.label)
        .join(S.persons, S.persons.c.id == S.person_accounts.c.person_id))}
    out: list[dict[str, Any]] = []
    m = S.messages
    day = func.date(m.c.at)
    for r in con.execute(select(m.c.chat_id, day.label("day"), func.count(), func.count(func.distinct(m.c.source_id)))
                         .group_by(m.c.chat_id, day).order_by(day).limit(MAX_EVENTS)):
        out.append({"kind": "messages", "at": f"{r.day} 00:00:00", "day": str(r.day),
                    "group": group_of.get(int(r.chat_id)), "chat": group_of.get(int(r.chat_id)) or f"c{r.chat_id}",
                    "persons": [], "what": f"{r[2]} message copies from {r[3]} device(s)", "exhibit": "",
                    "count": int(r[2])})
    ge = S.group_events
    for e in con.execute(select(ge).order_by(ge.c.at, ge.c.id).limit(MAX_EVENTS)):
        at = utc(e.at)
        who = [x for x in (person_of.get(e.actor_id) if e.actor_id else None,
                           person_of.get(e.target_id) if e.target_id else None) if x]
        what = " → ".join(who) if who else ""
        if e.old_value or e.value:
            what += f" “{e.old_value}” → “{e.value}”" if e.old_value else f" {e.value}"
        out.append({"kind": e.kind, "at": at.strftime("%Y-%m-%d %H:%M:%S") if at else "", "day": at.strftime(
            "%Y-%m-%d") if at else "", "group": group_of.get(int(e.chat_id)),
            "chat": group_of.get(int(e.chat_id)) or f"c{e.chat_id}", "persons": who, "what": what.strip(),
            "exhibit": exhibit.get(e.source_id, "?")})
    for md in doc["media"]:
        fs = md.get("first_shared")
        if md["matches"] and fs and fs.get("at"):
            at_s = str(fs["at"]).replace("T", " ").replace("Z", "")[:19]
            cats = sorted({str(x.get("category") or "uncategorised") for x in md["matches"]})
            out.append({"kind": "first_share_known", "at": at_s, "day": at_s[:10], "group": fs.get("group"),
                        "chat": fs.get("group"), "persons": [fs["person"]] if fs.get("person") else [],
                        "what": f"{md['sha256'][:16]}… known ({', '.join(cats)})", "exhibit": ""})
    for link in doc["invite_links"]:
        for s in link["seen"]:
            if s.get("at"):
                at_s = str(s["at"]).replace("T", " ").replace("Z", "")[:19]
                out.append({"kind": "invite_link_seen", "at": at_s, "day": at_s[:10], "group": link["group"],
                            "chat": None, "persons": [], "what": f"{link['platform']} {link['url']}",
                            "exhibit": s["source"]})
    kinds = sorted({x["kind"] for x in out})
    keep = [x for x in out
            if (not f.kind or x["kind"] == f.kind) and (not f.group or x["group"] == f.group)
            and (not f.person or f.person in x["persons"])
            and (not f.since or (x["day"] and x["day"] >= f.since))
            and (not f.until or (x["day"] and x["day"] <= f.until))]
    keep.sort(key=lambda x: (x["at"] == "", x["at"], x["kind"]))
    return keep, kinds


def per_day(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chart's series: for each UTC day with entries, how many entries and how many message copies."""
    days: dict[str, dict[str, Any]] = {}
    for x in items:
        if not x["day"]:
            continue
        d = days.setdefault(x["day"], {"day": x["day"], "entries": 0, "messages": 0, "events": 0})
        d["entries"] += 1
        if x["kind"] == "messages":
            d["messages"] += int(x.get("count", 0))
        else:
            d["events"] += 1
    return [days[k] for k in sorted(days)]
