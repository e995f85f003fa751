"""What a reader of a case sees beside the export: overview counts and problems, who is who (best name and number
per person), every dated event as one timeline, and who sent what (account and device owner -> person).

These are whole-case computations (seconds on a medium case). ``dissemination.precomputed`` runs them once when the
analysis finishes and stores them per case version; the web reads the stored values and calls these same
functions only when they are missing or stale, so the stored and the live answer cannot differ.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import Connection, func, select

from ringtrace.analysis.common import utc
from ringtrace.case import Case
from ringtrace.dissemination.export_types import ExportDoc
from ringtrace.store import schema as S

MAX_PROBLEMS = 1000  # listed on the overview; the count says how many there are in all
MAX_EVENTS = 50_000  # per kind of timeline row: a bound on one case's timeline
MAX_NAME = 80


def overview(case: Case, doc: ExportDoc) -> dict[str, Any]:
    """``{"counts": {...}, "problems": [...]}``: the numbers every page's header shows and the first problems."""
    with case.engine.connect() as con:
        problems = [dict(r._mapping) for r in con.execute(select(S.problems).order_by(S.problems.c.id)
                                                           .limit(MAX_PROBLEMS))]
        n_problems = int(con.execute(select(func.count()).select_from(S.problems)).scalar() or 0)
        n_messages = int(con.execute(select(func.count()).select_from(S.messages)).scalar() or 0)
    exhibit = {s["id"]: s["exhibit"] for s in doc["sources"]}
    for p in problems:
        p["exhibit"] = exhibit.get(p["source_id"], "-")
    counts = {"sources": len(doc["sources"]), "persons": len(doc["persons"]), "groups": len(doc["groups"]),
              "media": len(doc["media"]), "matched": sum(1 for m in doc["media"] if m["matches"]),
              "invite_links": len(doc["invite_links"]), "indicators": len(doc["indicators"]),
              "problems": n_problems, "messages": n_messages}
    return {"counts": counts, "problems": problems}


def who(case: Case, doc: ExportDoc) -> dict[str, dict[str, str]]:
    """Person label -> best name (the name seen most often across the person's accounts, then the shortest, then
    alphabetical) and best number (the first phone, E.164 as stored)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    q = (select(S.persons.c.label, S.names_seen.c.name)
         .join(S.person_accounts, S.person_accounts.c.person_id == S.persons.c.id)
         .join(S.names_seen, S.names_seen.c.account_id == S.person_accounts.c.account_id))
    with case.engine.connect() as con:
        for label, name in con.execute(q):
            name = " ".join(str(name or "").split())[:MAX_NAME]
            if name:
                counts[label][name] += 1
    out: dict[str, dict[str, str]] = {}
    for p in doc["persons"]:
        c = counts.get(p["id"])
        best = min(c.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0] if c else ""
        out[p["id"]] = {"name": best, "phone": p["phones"][0] if p["phones"] else ""}
    return out


def senders(case: Case, doc: ExportDoc | None = None) -> dict[str, dict[int, int]]:
    """``person_of``: account id -> person id (the stored resolution); ``owner``: source id -> the person behind
    the accounts its owner's own messages carry (a device's owner, when the case can tell)."""
    with case.engine.connect() as con:
        return sender_tables(con)


def sender_tables(con: Connection) -> dict[str, dict[int, int]]:
    person_of = {int(r.account_id): int(r.person_id) for r in con.execute(select(S.person_accounts))}
    owner: dict[int, int] = {}
    for r in con.execute(select(S.messages.c.source_id, S.messages.c.sender_id)
                         .where(S.messages.c.from_owner.is_(True), S.messages.c.sender_id.is_not(None))
                         .distinct().order_by(S.messages.c.source_id, S.messages.c.sender_id)):
        p = person_of.get(r.sender_id)
        if p is not None:
            owner.setdefault(int(r.source_id), p)
    return {"person_of": person_of, "owner": owner}


def timeline_entries(case: Case, doc: ExportDoc) -> dict[str, Any]:
    """Every dated event, unfiltered, in time order (undated last): messages per UTC day and chat (the per-day
    aggregate), group events, first shares of known material, dated invite-link sightings; and the kinds present.

    ``{"entries": [{"kind", "at", "day", "group", "chat", "persons", "what", "exhibit", "count"?}], "kinds": [...]}``
    """
    with case.engine.connect() as con:
        exhibit = {int(r.id): str(r.exhibit) for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit))}
        group_of = {int(r.chat_id): str(r.label) for r in con.execute(
            select(S.group_chats.c.chat_id, S.groups.c.label)
            .join(S.groups, S.groups.c.id == S.group_chats.c.group_id))}
        person_of = {int(r.account_id): str(r.label) for r in con.execute(
            select(S.person_accounts.c.account_id, S.persons.c.label)
            .join(S.persons, S.persons.c.id == S.person_accounts.c.person_id))}
        out: list[dict[str, Any]] = []
        m = S.messages
        day = func.date(m.c.at)
        for r in con.execute(select(m.c.chat_id, day.label("day"), func.count(),
                                    func.count(func.distinct(m.c.source_id)))
                             .group_by(m.c.chat_id, day).order_by(day, m.c.chat_id).limit(MAX_EVENTS)):
            chat = group_of.get(int(r.chat_id))
            d = str(r.day) if r.day is not None else ""  # messages without a time: one undated row per chat
            out.append({"kind": "messages", "at": f"{d} 00:00:00" if d else "", "day": d, "group": chat,
                        "chat": chat or f"c{r.chat_id}", "persons": [],
                        "what": f"{r[2]} message copies from {r[3]} device(s)", "exhibit": "", "count": int(r[2])})
        ge = S.group_events
        for e in con.execute(select(ge).order_by(ge.c.at, ge.c.id).limit(MAX_EVENTS)):
            at = utc(e.at)
            names = [x for x in (person_of.get(e.actor_id) if e.actor_id else None,
                                 person_of.get(e.target_id) if e.target_id else None) if x]
            what = " → ".join(names) if names else ""
            if e.old_value or e.value:
                what += f" “{e.old_value}” → “{e.value}”" if e.old_value else f" {e.value}"
            out.append({"kind": e.kind, "at": at.strftime("%Y-%m-%d %H:%M:%S") if at else "",
                        "day": at.strftime("%Y-%m-%d") if at else "", "group": group_of.get(int(e.chat_id)),
                        "chat": group_of.get(int(e.chat_id)) or f"c{e.chat_id}", "persons": names,
                        "what": what.strip(), "exhibit": exhibit.get(e.source_id, "?")})
        out.extend(_note_dates(con))
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
    out.sort(key=lambda x: (x["at"] == "", x["at"], x["kind"]))
    return {"entries": out, "kinds": sorted({x["kind"] for x in out})}


def _note_dates(con: Connection) -> list[dict[str, Any]]:
    """Dates written on seized notes (also years long past), with the persons the same line ties to. Never the
    names of people tied to nobody: those are possible victims, shown only behind their own grant."""
    ne, nl = S.note_entities, S.note_links
    tied: dict[tuple[str, int, int], set[str]] = {}
    for r in con.execute(select(ne.c.sha256, ne.c.page, ne.c.line_no, nl.c.person_label)
                         .join(nl, nl.c.entity_id == ne.c.id)):
        tied.setdefault((r.sha256, r.page, r.line_no), set()).add(str(r.person_label))
    holder: dict[str, str] = {}
    rows = con.execute(select(ne).where(ne.c.kind == "date").order_by(ne.c.id).limit(MAX_EVENTS)).all()
    shas = {r.sha256 for r in rows}
    if shas:
        for f in con.execute(select(S.source_files.c.sha256, S.sources.c.exhibit)
                             .join(S.sources, S.sources.c.id == S.source_files.c.source_id)
                             .where(S.source_files.c.sha256.in_(shas)).order_by(S.sources.c.id)):
            holder.setdefault(f.sha256, f.exhibit)
    out: list[dict[str, Any]] = []
    for r in rows:
        v = str(r.value)
        day = v if len(v) == 10 else (f"{v}-01" if len(v) == 7 else f"{v}-01-01")
        prec = "" if len(v) == 10 else f" (a {r.date_precision or 'year'} only)"
        out.append({"kind": "note_date", "at": f"{day} 00:00:00", "day": day, "group": None, "chat": None,
                    "persons": sorted(tied.get((r.sha256, r.page, r.line_no), ())),
                    "what": f"“{r.raw}” written on a note{prec}: {r.sha256[:12]}… page {r.page}, line {r.line_no}",
                    "exhibit": holder.get(r.sha256, "")})
    return out
