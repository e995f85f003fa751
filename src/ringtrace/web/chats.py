"""Read model of one chat for the chat viewer: folded messages and system events in time order, one page at a time.

A chat is named in URLs by its group's label (``G0003``: every chat of the group, from every device) or, for a chat
no group holds (direct chats), by ``c`` and its chat id (``c17``). Messages are folded across devices as the
analysis folds them (``analysis.timeline.deduplicated``) and paged by a keyset cursor on (time, id): a page starts a
few minutes before its cursor so copies still fold, and skips everything at or before the cursor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, or_, select

from ringtrace.analysis.common import utc
from ringtrace.analysis.timeline import Msg, SenderMap, deduplicated, raw_messages
from ringtrace.dissemination.export_types import Group, Media, Person
from ringtrace.store import schema as S

CHAT_REF = re.compile(r"^(G\d{1,9}|c\d{1,12})$")
FOLD_LEAD = timedelta(minutes=5)  # a page starts this far before its cursor, so copies across it still fold
MAX_FIND = 200
MAX_SCAN = 200_000  # messages a find-in-chat looks through for one page at most


@dataclass
class ChatRef:
    ref: str
    title: str
    kind: str  # group | direct | ...
    chat_ids: list[int]
    group: str | None


@dataclass
class Cursor:
    at: datetime
    id: int

    def token(self) -> str:
        return f"{self.at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}~{self.id}"

    @staticmethod
    def parse(raw: str | None) -> Cursor | None:
        if not raw or len(raw) > 60 or "~" not in raw:
            return None
        at_s, _, id_s = raw.partition("~")
        try:
            at = datetime.fromisoformat(at_s.replace("Z", "+00:00"))
            mid = int(id_s)
        except ValueError:
            return None
        return Cursor(at if at.tzinfo else at.replace(tzinfo=UTC), mid)


@dataclass
class ChatPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    first: bool
    scanned: int
    truncated: bool = False  # find stopped at MAX_SCAN
    exhibits: dict[int, str] = field(default_factory=dict)


def resolve_chat(con: Connection, ref: str, groups: Sequence[Group]) -> ChatRef | None:
    if not CHAT_REF.match(ref):
        return None
    if ref.startswith("G"):
        rows = con.execute(select(S.group_chats.c.chat_id).join(S.groups, S.groups.c.id == S.group_chats.c.group_id)
                           .where(S.groups.c.label == ref).order_by(S.group_chats.c.chat_id)).scalars().all()
        if not rows:
            return None
        g = next((x for x in groups if x["id"] == ref), None)
        title = (g["names"][-1]["name"] if g and g["names"] else ref)
        return ChatRef(ref, title, "group", list(rows), ref)
    chat = con.execute(select(S.chats).where(S.chats.c.id == int(ref[1:]))).first()
    if chat is None:
        return None
    return ChatRef(ref, f"{chat.kind} chat {chat.key}", chat.kind, [chat.id], None)


def chats_of_person(con: Connection, person_label: str) -> list[dict[str, Any]]:
    """The chats a person's accounts wrote in, with how many raw messages each (a link per chat)."""
    from sqlalchemy import func

    pa, m, gc, g = S.person_accounts, S.messages, S.group_chats, S.groups
    pid = con.execute(select(S.persons.c.id).where(S.persons.c.label == person_label)).scalar()
    if pid is None:
        return []
    accounts = select(pa.c.account_id).where(pa.c.person_id == pid)
    rows = con.execute(select(m.c.chat_id, func.count(), g.c.label).outerjoin(gc, gc.c.chat_id == m.c.chat_id)
                       .outerjoin(g, g.c.id == gc.c.group_id).where(m.c.sender_id.in_(accounts))
                       .group_by(m.c.chat_id, g.c.label).order_by(m.c.chat_id)).all()
    out: dict[str, dict[str, Any]] = {}
    for chat_id, n, label in rows:
        ref = label or f"c{chat_id}"
        row = out.setdefault(ref, {"ref": ref, "messages": 0})
        row["messages"] += int(n)
    return list(out.values())


def sender_map(con: Connection) -> tuple[SenderMap, dict[int, int]]:
    """Account -> person id (the stored resolution), and source -> device owner's person when it can be told."""
    person_of = {r.account_id: r.person_id for r in con.execute(select(S.person_accounts))}
    owner: dict[int, int] = {}
    # a source's owner is the person behind the accounts its owner's own messages carry
    for r in con.execute(select(S.messages.c.source_id, S.messages.c.sender_id)
                         .where(S.messages.c.from_owner.is_(True), S.messages.c.sender_id.is_not(None))
                         .distinct()):
        p = person_of.get(r.sender_id)
        if p is not None:
            owner.setdefault(r.source_id, p)
    return SenderMap(person_of, owner, set()), person_of


def _local(dt: datetime, tz: str | None) -> str | None:
    if not tz or tz == "UTC":
        return None
    try:
        z = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return dt.astimezone(z).strftime("%Y-%m-%d %H:%M:%S %Z")


def _db(con: Connection, dt: datetime) -> datetime:
    """A time as the database compares it (SQLite stores naive UTC)."""
    return dt.astimezone(UTC).replace(tzinfo=None) if con.dialect.name == "sqlite" else dt


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def chat_page(con: Connection, chat: ChatRef, persons: Sequence[Person], media: Sequence[Media],
              size: int, after: Cursor | None, find: str | None) -> ChatPage:
    senders, person_of = sender_map(con)
    pid_label = {r.id: r.label for r in con.execute(select(S.persons.c.id, S.persons.c.label))}
    by_label = {p["id"]: p for p in persons}
    media_by_sha = {m["sha256"]: m for m in media}
    sources = {r.id: r for r in con.execute(select(S.sources.c.id, S.sources.c.exhibit, S.sources.c.timezone))}
    needle = " ".join(find.split()).casefold()[:MAX_FIND] if find else ""

    lo = after.at - FOLD_LEAD if after else None
    stream: Iterator[Msg] = deduplicated(raw_messages(con, chat.chat_ids, senders, lo=lo))
    msgs: list[Msg] = []
    scanned = 0
    truncated = False
    for m in stream:
        if after is not None and (m.at, m.id) <= (after.at, after.id):
            continue
        scanned += 1
        if needle and needle not in (m.text or "").casefold():
            if scanned >= MAX_SCAN:
                truncated = True
                break
            continue
        msgs.append(m)
        if len(msgs) > size:
            break
    more = len(msgs) > size
    msgs = msgs[:size]

    ids = [m.id for m in msgs] + [d for m in msgs for d in m.duplicates]
    prov: dict[int, Any] = {}
    for i in range(0, len(ids), 500):
        for r in con.execute(select(S.messages.c.id, S.messages.c.source_id, S.messages.c.prov_file,
                                    S.messages.c.prov_table, S.messages.c.prov_row, S.messages.c.prov_line,
                                    S.messages.c.raw_type)
                             .where(S.messages.c.id.in_(ids[i:i + 500]))):
            prov[r.id] = r

    def who(account_id: int | None, person: int | None, source_id: int) -> dict[str, Any]:
        pid = person if person is not None else (person_of.get(account_id) if account_id is not None else None)
        label = pid_label.get(pid) if pid is not None else None
        p = by_label.get(label) if label else None
        names = [n for n in (p["names"] if p else []) if n and n != "you"]
        return {"label": label, "name": names[0] if names else None,
                "number": (p["phones"][0] if p and p["phones"] else None)}

    def locator(r: Any) -> dict[str, Any]:
        src = sources.get(r.source_id)
        where = r.prov_file or ""
        if r.prov_table:
            where += f" · table {r.prov_table}" + (f" row {r.prov_row}" if r.prov_row else "")
        if r.prov_line:
            where += f" · line {r.prov_line}"
        return {"exhibit": src.exhibit if src else "?", "where": where}

    items: list[dict[str, Any]] = []
    for m in msgs:
        row = prov.get(m.id)
        src = sources.get(m.source_id)
        copies = [prov[d] for d in m.duplicates if d in prov]
        cards = []
        for sha in m.shas:
            x = media_by_sha.get(sha)
            matches = x["matches"] if x else []
            cards.append({"sha256": sha, "kind": x["kind"] if x else "not hashed", "known": bool(matches),
                          "lists": sorted({str(y["hashset"]) for y in matches}),
                          "categories": sorted({str(y.get("category") or "uncategorised") for y in matches})})
        items.append({"type": "message", "id": m.id, "at": m.at, "utc": _iso(m.at),
                      "local": _local(m.at, src.timezone if src else None), "precision_s": m.precision_s,
                      "sender": who(m.sender_id, m.person, m.source_id), "text": m.text, "forwarded": m.forwarded,
                      "media": cards,
                      "devices": sorted({sources[s].exhibit for s in m.sources if s in sources}),
                      "provenance": ([locator(row)] if row is not None else []) + [locator(c) for c in copies]})

    # system events inline, in the time span this page covers (all before the first message on the first page)
    ge = S.group_events
    q = select(ge).where(ge.c.chat_id.in_(chat.chat_ids)).order_by(ge.c.at, ge.c.id)
    if after is not None:
        q = q.where(ge.c.at > _db(con, after.at))
    if more and msgs:
        q = q.where(or_(ge.c.at <= _db(con, msgs[-1].at), ge.c.at.is_(None)) if after is None
                    else ge.c.at <= _db(con, msgs[-1].at))
    if not needle:
        for e in con.execute(q.limit(5000)):
            at = utc(e.at)
            src = sources.get(e.source_id)
            items.append({"type": "event", "id": e.id, "at": at, "utc": _iso(at) if at else "time unknown",
                          "local": _local(at, src.timezone if src else None) if at else None, "kind": e.kind,
                          "actor": who(e.actor_id, None, e.source_id), "target": who(e.target_id, None, e.source_id),
                          "code": e.raw_code, "value": e.value, "old_value": e.old_value,
                          "devices": [src.exhibit] if src else [], "provenance": [locator(e)]})
    epoch = datetime.min.replace(tzinfo=UTC)
    items.sort(key=lambda x: (x["at"] or epoch, x["type"] == "message", x["id"]))
    nxt = Cursor(msgs[-1].at, msgs[-1].id).token() if more and msgs else None
    return ChatPage(items, nxt, after is None, scanned, truncated)


def date_cursor(raw: str | None) -> Cursor | None:
    """``YYYY-MM-DD``: a cursor just before that day (UTC), so the page starts at its first message."""
    if not raw or len(raw) != 10:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return Cursor(day - timedelta(microseconds=1), 2**62)


def earlier_cursor(con: Connection, chat: ChatRef, before: Cursor, size: int) -> Cursor | None:
    """The cursor of the page that ends just before ``before`` (the first message of the page shown), so the
    viewer can page back; None when that page is the chat's first. Looks back over a growing time span and folds
    copies as ``chat_page`` does, so the earlier page meets the current one without a gap or an overlap."""
    from sqlalchemy import func

    first_at = utc(con.execute(select(func.min(S.messages.c.at)).where(S.messages.c.chat_id.in_(chat.chat_ids)))
                   .scalar())
    if first_at is None:
        return None
    senders, _ = sender_map(con)
    span = timedelta(days=1)
    while True:
        lo = before.at - span
        keys = [(m.at, m.id) for m in deduplicated(raw_messages(con, chat.chat_ids, senders, lo=lo - FOLD_LEAD,
                                                                 hi=before.at + FOLD_LEAD))
                if m.at >= lo and (m.at, m.id) < (before.at, before.id)]
        if len(keys) > size:
            at, mid = keys[-size - 1]
            return Cursor(at, mid)
        if lo <= first_at:
            return None
        span *= 4
