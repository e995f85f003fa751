"""One timeline per group: messages streamed in time order and de-duplicated across devices.

The same message seen by several phones is one message: same ``msg_key``, or (when a source has no keys, as
exports do) the same sender, the same text or media within the sources' time precision. A duplicate must come
from another source, so two identical "ok"s in one export stay two messages. The canonical message keeps the
most precise copy's time, id and key (an export prints minutes; a phone's database keeps seconds).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, String, select, type_coerce

from ringtrace.analysis.common import CHUNK, utc
from ringtrace.store import schema as S

fromisoformat = datetime.fromisoformat


@dataclass(slots=True)  # many are held at once (an export's index in groups)
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
    sender_id: int | None = None  # the account as the source wrote it (before person resolution)
    _content: tuple[str, str] | None | bool = False  # content(), once computed (False: not yet)

    def content(self) -> tuple[str, str] | None:
        """What makes two key-less copies the same message: the first media hash, else the text with its
        whitespace folded. Computed once: a message's text and media do not change once it is streamed."""
        c = self._content
        if c is False:
            if self.shas:
                c = ("m", self.shas[0])
            elif self.text and not self.text.isspace():
                c = ("t", " ".join(self.text.split()))
            else:
                c = None
            self._content = c
        return c  # type: ignore[return-value]


@dataclass
class SenderMap:
    person_of: dict[int, int]  # account id -> person index
    owner_person: dict[int, int]  # source id -> person index of its device owner
    wildcard_accounts: set[int]  # export-name accounts not tied to anyone else


_EPOCH = datetime.min


def raw_messages(con: Connection, chat_ids: list[int], senders: SenderMap,
                 lo: datetime | None = None, hi: datetime | None = None) -> Iterator[Msg]:
    """Messages of these chats in time order, with their media hashes, streamed."""
    if not chat_ids:
        return
    m, mm = S.messages, S.message_media
    sqlite = con.dialect.name == "sqlite"

    def one_chat(chat_id: int) -> Iterator[Any]:
        # one chat at a time: the (chat_id, at) index gives its rows in order, streamed, where an IN over several
        # chats has the database sort all of them before the first row (a page of a big group paid for it all)
        q = (select(m.c.id, m.c.at, m.c.precision_s, m.c.msg_key, m.c.sender_id, m.c.from_owner, m.c.text,
                    m.c.forwarded, m.c.source_id, m.c.chat_id, mm.c.sha256)
             .outerjoin(mm, mm.c.message_id == m.c.id)
             .where(m.c.chat_id == chat_id).order_by(m.c.at, m.c.id, mm.c.id))
        if lo is not None:
            q = q.where(m.c.at >= lo.replace(tzinfo=None) if sqlite else m.c.at >= lo)
        if hi is not None:
            q = q.where(m.c.at <= hi.replace(tzinfo=None) if sqlite else m.c.at <= hi)
        if sqlite:
            # SQLite keeps the time as ISO text: read it as text and parse it here in C (datetime.fromisoformat)
            # rather than through SQLAlchemy's per-row DateTime processing; other databases hand back datetimes.
            q = q.with_only_columns(*[type_coerce(c, String) if c.name == "at" else c for c in q.selected_columns])
        for part in con.execute(q.execution_options(stream_results=True, yield_per=CHUNK)).partitions():
            yield from part

    def key(r: Any) -> tuple[bool, Any, int]:
        # the database's own order: SQLite puts NULL times first (its times are ISO text), PostgreSQL last
        if sqlite:
            return r[1] is not None, r[1] or "", r[0]
        return r[1] is None, r[1] or _EPOCH, r[0]

    rows = (one_chat(chat_ids[0]) if len(chat_ids) == 1
            else heapq.merge(*(one_chat(c) for c in sorted(set(chat_ids))), key=key))
    person_of, owner_person, wildcards = senders.person_of, senders.owner_person, senders.wildcard_accounts
    cur: Msg | None = None
    for mid, at, prec, mkey, sender, from_owner, text, fwd, sid, cid, sha in rows:
        if cur is not None and cur.id == mid:
            if sha:
                cur.shas.append(sha)
            continue
        if cur is not None:
            yield cur
        person = person_of.get(sender) if sender is not None else None
        if person is None and sender is None and from_owner:
            person = owner_person.get(sid)
        if type(at) is str:
            when = fromisoformat(at)
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        else:
            when = utc(at) or datetime.min
        cur = Msg(mid, when, int(prec or 1), mkey, person, sender in wildcards, text, [sha] if sha else [],
                  bool(fwd), sid, cid, sender_id=sender)
    if cur is not None:
        yield cur


def same_sender(a: Msg, b: Msg) -> bool:
    return a.wildcard or b.wildcard or (a.person is not None and a.person == b.person)


def same_time(a: Msg, b: Msg, slack_s: int = 2) -> bool:
    """Whether two copies can be one message: times agree within the coarser copy's precision."""
    return abs((a.at - b.at).total_seconds()) <= max(a.precision_s, b.precision_s) + slack_s


def _take_precise(canon: Msg, m: Msg) -> None:
    """Fold ``m`` into ``canon``; the more precise copy gives the canonical time, id, source and chat."""
    canon.sources.add(m.source_id)
    canon.forwarded = canon.forwarded or m.forwarded
    if m.precision_s < canon.precision_s:
        canon.duplicates.append(canon.id)
        canon.id, canon.at, canon.precision_s = m.id, m.at, m.precision_s
        canon.source_id, canon.chat_id, canon.sender_id = m.source_id, m.chat_id, m.sender_id
    else:
        canon.duplicates.append(m.id)


def deduplicated(stream: Iterator[Msg], slack_s: int = 2) -> Iterator[Msg]:
    """Canonical messages in time order; each carries the ids of the duplicates folded into it.

    A canonical message is emitted once nothing later can still fold into it (its window has passed). A fold
    can move a canonical time later (minute copy first, its second-precise copy after), so the window is a heap
    on the current time; a moved entry is pushed again with its new time."""
    seen_keys: dict[str, Msg] = {}
    window: list[tuple[float, int, datetime, Msg]] = []  # (time, tie-break, the time it was pushed at, message)
    order = itertools.count()
    by_content: dict[tuple[str, str], list[Msg]] = {}
    max_prec = 60

    def evict(now: datetime | None) -> Iterator[Msg]:
        limit = None if now is None else now.timestamp() - (max_prec + slack_s)
        while window and (limit is None or window[0][0] < limit):
            _ts, _n, pushed_at, old = heapq.heappop(window)
            if old.at is not pushed_at:  # its time moved with a fold: back in at the new time
                heapq.heappush(window, (old.at.timestamp(), next(order), old.at, old))
                continue
            c = old.content()
            if c is not None:
                lst = by_content.get(c)
                if lst:
                    lst.remove(old)
                    if not lst:
                        del by_content[c]
            yield old

    for m in stream:
        if m.precision_s > max_prec:
            max_prec = m.precision_s
        if window and window[0][0] < m.at.timestamp() - (max_prec + slack_s):
            yield from evict(m.at)  # (only when something is due: most messages evict nothing)
        if m.key is not None and m.key in seen_keys:
            _take_precise(seen_keys[m.key], m)
            continue
        c = m.content()
        folded = False
        if c is not None:
            for cand in by_content.get(c, ()):
                if (m.source_id not in cand.sources and same_time(cand, m, slack_s)
                        and same_sender(cand, m) and (cand.key is None or m.key is None or cand.key == m.key)):
                    _take_precise(cand, m)
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
        heapq.heappush(window, (m.at.timestamp(), next(order), m.at, m))
        if c is not None:
            by_content.setdefault(c, []).append(m)
    yield from evict(None)
