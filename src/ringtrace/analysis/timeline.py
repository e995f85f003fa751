"""One timeline per group: messages streamed in time order and de-duplicated across devices.

The same message seen by several phones is one message: same ``msg_key``, or (when a source has no keys, as
exports do) the same sender, the same text or media within the sources' time precision. A duplicate must come
from another source, so two identical "ok"s in one export stay two messages.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from ringtrace.analysis.common import CHUNK, utc
from ringtrace.store import schema as S


@dataclass
class Msg:
    id: int
    at: datetime
    precision_s: int
    key: str | None
    person: int | None  # index in Resolution.persons; None when the sender cannot be told
    wildcard: bool  # sender known only by an export name: matches any sender
    text: str | None
    shas: list[str]
    forwarded: bool
    source_id: int
    chat_id: int
    sources: set[int] = field(default_factory=set)
    duplicates: list[int] = field(default_factory=list)

    def content(self) -> tuple[str, str] | None:
        if self.shas:
            return ("m", self.shas[0])
        if self.text and self.text.strip():
            return ("t", " ".join(self.text.split()))
        return None


@dataclass
class SenderMap:
    person_of: dict[int, int]  # account id -> person index
    owner_person: dict[int, int]  # source id -> person index of its device owner
    wildcard_accounts: set[int]  # export-name accounts not tied to anyone else


def raw_messages(con: Connection, chat_ids: list[int], senders: SenderMap,
                 lo: datetime | None = None, hi: datetime | None = None) -> Iterator[Msg]:
    """Messages of these chats in time order, with their media hashes, streamed."""
    if not chat_ids:
        return
    m, mm = S.messages, S.message_media
    q = (select(m.c.id, m.c.at, m.c.precision_s, m.c.msg_key, m.c.sender_id, m.c.from_owner, m.c.text,
                m.c.forwarded, m.c.source_id, m.c.chat_id, mm.c.sha256)
         .outerjoin(mm, mm.c.message_id == m.c.id)
         .where(m.c.chat_id.in_(chat_ids)).order_by(m.c.at, m.c.id, mm.c.id))
    if lo is not None:
        q = q.where(m.c.at >= lo.replace(tzinfo=None) if con.dialect.name == "sqlite" else m.c.at >= lo)
    if hi is not None:
        q = q.where(m.c.at <= hi.replace(tzinfo=None) if con.dialect.name == "sqlite" else m.c.at <= hi)
    cur: Msg | None = None
    for r in con.execute(q.execution_options(stream_results=True, yield_per=CHUNK)):
        if cur is not None and cur.id == r.id:
            if r.sha256:
                cur.shas.append(r.sha256)
            continue
        if cur is not None:
            yield cur
        sender = r.sender_id
        person = senders.person_of.get(sender) if sender is not None else None
        if person is None and sender is None and r.from_owner:
            person = senders.owner_person.get(r.source_id)
        cur = Msg(r.id, utc(r.at) or datetime.min, int(r.precision_s or 1), r.msg_key, person,
                  sender in senders.wildcard_accounts, r.text, [r.sha256] if r.sha256 else [], bool(r.forwarded),
                  r.source_id, r.chat_id)
    if cur is not None:
        yield cur


def same_sender(a: Msg, b: Msg) -> bool:
    return a.wildcard or b.wildcard or (a.person is not None and a.person == b.person)


def deduplicated(stream: Iterator[Msg], slack_s: int = 2) -> Iterator[Msg]:
    """Canonical messages in time order; each carries the ids of the duplicates folded into it.

    A canonical message is emitted once nothing later can still fold into it (its window has passed)."""
    seen_keys: dict[str, Msg] = {}
    window: deque[Msg] = deque()
    by_content: dict[tuple[str, str], list[Msg]] = {}
    max_prec = 60

    def evict(now: datetime) -> Iterator[Msg]:
        while window and (now - window[0].at).total_seconds() > max_prec + slack_s:
            old = window.popleft()
            c = old.content()
            if c is not None:
                lst = by_content.get(c)
                if lst:
                    lst.remove(old)
                    if not lst:
                        del by_content[c]
            yield old

    for m in stream:
        max_prec = max(max_prec, m.precision_s)
        yield from evict(m.at)
        if m.key is not None and m.key in seen_keys:
            canon = seen_keys[m.key]
            canon.duplicates.append(m.id)
            canon.sources.add(m.source_id)
            continue
        c = m.content()
        folded = False
        if c is not None:
            for cand in by_content.get(c, ()):
                tol = max(cand.precision_s, m.precision_s) + slack_s
                if (m.source_id not in cand.sources and abs((m.at - cand.at).total_seconds()) <= tol
                        and same_sender(cand, m) and (cand.key is None or m.key is None or cand.key == m.key)):
                    cand.duplicates.append(m.id)
                    cand.sources.add(m.source_id)
                    if cand.person is None or cand.wildcard:  # a resolved sender is better than a name
                        cand.person, cand.wildcard = m.person, m.wildcard
                    if cand.key is None and m.key is not None:
                        cand.key = m.key
                        seen_keys[m.key] = cand
                    folded = True
                    break
        if folded:
            continue
        m.sources.add(m.source_id)
        if m.key is not None:
            seen_keys[m.key] = m
        window.append(m)
        if c is not None:
            by_content.setdefault(c, []).append(m)
    while window:
        yield window.popleft()
