"""One timeline per group: messages streamed in time order and de-duplicated across devices.

The same message seen by several phones is one message: same ``msg_key``, or (when a source has no keys, as
exports do) the same sender, the same text or media within the sources' time precision. A duplicate must come
from another source, so two identical "ok"s in one export stay two messages. The canonical message keeps the
most precise copy's time, id and key (an export prints minutes; a phone's database keeps seconds).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.analysis.common import CHUNK, utc
from ringtrace.store import schema as S

fromisoformat = datetime.fromisoformat


US = 1_000_000  # microseconds per second: times are kept as integer POSIX microseconds
_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def epoch_us(dt: datetime) -> int:
    """POSIX microseconds of ``dt`` (naive means UTC, as everything stored is): exact integer arithmetic, so
    comparisons and differences of times agree with those of the datetimes, to the microsecond."""
    if dt.tzinfo is None:
        return (dt - _EPOCH_NAIVE) // _ONE_US
    return (dt - _EPOCH_UTC) // _ONE_US


def from_us(us: int) -> datetime:
    """The UTC datetime of POSIX microseconds (the inverse of :func:`epoch_us`)."""
    return _EPOCH_UTC + timedelta(microseconds=us)


class Msg:
    """One message copy as streamed (or, after :func:`deduplicated`, a canonical message).

    Its time is ``ts`` (integer POSIX microseconds); ``at`` is the same time as a UTC datetime, made on demand:
    a stage that streams hundreds of thousands of messages compares integers and never builds a datetime."""

    __slots__ = ("id", "ts", "precision_s", "key", "person", "wildcard", "text", "shas", "forwarded", "source_id",
                 "chat_id", "sources", "duplicates", "sender_id", "_content", "moves")

    def __init__(self, id: int, at: datetime | None, precision_s: int, key: str | None, person: int | None,
                 wildcard: bool, text: str | None, shas: list[str], forwarded: bool, source_id: int, chat_id: int,
                 sources: set[int] | None = None, duplicates: list[int] | None = None, sender_id: int | None = None,
                 ts: int | None = None) -> None:
        self.id = id
        if ts is None:
            if at is None:
                raise ValueError("a message needs a time (at or ts)")
            ts = epoch_us(at)
        self.ts = ts
        self.precision_s = precision_s
        self.key = key
        self.person = person  # index in Resolution.persons; None when the sender cannot be told
        self.wildcard = wildcard  # sender known only by an export name: matches any sender
        self.text = text
        self.shas = shas
        self.forwarded = forwarded
        self.source_id = source_id
        self.chat_id = chat_id
        self.sources = set() if sources is None else sources
        self.duplicates = [] if duplicates is None else duplicates
        self.sender_id = sender_id  # the account as the source wrote it (before person resolution)
        self._content: tuple[str, str] | None | bool = False  # content(), once computed (False: not yet)
        self.moves = 0  # how often a fold moved this message's time (deduplicated's window re-queues it)

    @property
    def at(self) -> datetime:
        return from_us(self.ts)

    @at.setter
    def at(self, value: datetime) -> None:
        self.ts = epoch_us(value)

    def __repr__(self) -> str:
        return f"Msg(id={self.id}, at={self.at.isoformat()}, key={self.key!r}, person={self.person})"

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
_COLS = ("id", "at", "precision_s", "msg_key", "sender_id", "from_owner", "text", "forwarded", "source_id",
         "chat_id")


def _sqlite_chat_cursor(con: Connection, chat_ids: list[int], lo: datetime | None, hi: datetime | None,
                        text: bool = True) -> Any:
    """These chats' message rows in (time, id) order with their media, as an executed SQLite cursor (iterated
    row by row in C): the stored ISO text of the time is handed back as is (parsed by the caller), and none of
    SQLAlchemy's per-row processing runs (at hundreds of thousands of rows it cost more than the query)."""
    m, mm = S.messages.name, S.message_media.name
    where = "m.chat_id = ?" if len(chat_ids) == 1 else f"m.chat_id IN ({', '.join('?' * len(chat_ids))})"
    cols = ", ".join("m." + c if text or c != "text" else "NULL" for c in _COLS)
    sql = (f"SELECT {cols}, mm.sha256 FROM {m} AS m "
           f"LEFT OUTER JOIN {mm} AS mm ON mm.message_id = m.id WHERE {where}")
    params: list[Any] = list(chat_ids)
    # the stored text form of a time, as written (the dialect's own type: the generic DateTime has no processor,
    # and sqlite3's adapter drops a zero fraction, so a bound equal to a whole-second time compared above it)
    bind = S.messages.c.at.type.dialect_impl(con.dialect).bind_processor(con.dialect)
    for op, bound in ((">=", lo), ("<=", hi)):
        if bound is not None:
            b = bound.astimezone(UTC).replace(tzinfo=None) if bound.tzinfo is not None else bound
            sql += f" AND m.at {op} ?"
            params.append(bind(b) if bind is not None else b)
    sql += " ORDER BY m.at, m.id, mm.id"
    cur = con.connection.cursor()
    cur.arraysize = CHUNK
    cur.execute(sql, params)
    return cur


def _rows(con: Connection, chat_ids: list[int], lo: datetime | None, hi: datetime | None, whole: bool,
          cursors: list[Any], text: bool = True) -> Iterator[Any]:
    """Message rows of these chats (one per message and media item) in (time, id) order; SQLite cursors opened
    are added to ``cursors`` for the caller to close. ``text=False``: the text column is left out (None)."""
    m, mm = S.messages, S.message_media
    sqlite = con.dialect.name == "sqlite"
    chats = sorted(set(chat_ids))
    parts = [chats] if whole or len(chats) == 1 else [[c] for c in chats]

    def one_chat(ids: list[int]) -> Iterator[Any]:
        if sqlite:
            cursors.append(_sqlite_chat_cursor(con, ids, lo, hi, text))
            return cursors[-1]  # type: ignore[no-any-return]
        q = (select(m.c.id, m.c.at, m.c.precision_s, m.c.msg_key, m.c.sender_id, m.c.from_owner, m.c.text,
                    m.c.forwarded, m.c.source_id, m.c.chat_id, mm.c.sha256)
             .outerjoin(mm, mm.c.message_id == m.c.id)
             .where(m.c.chat_id.in_(ids)).order_by(m.c.at, m.c.id, mm.c.id))
        if lo is not None:
            q = q.where(m.c.at >= lo)
        if hi is not None:
            q = q.where(m.c.at <= hi)
        return (r for part in con.execute(q.execution_options(stream_results=True, yield_per=CHUNK)).partitions()
                for r in part)

    def key(r: Any) -> tuple[bool, Any, int]:
        # the database's own order: SQLite puts NULL times first (its times are ISO text), PostgreSQL last
        if sqlite:
            return r[1] is not None, r[1] or "", r[0]
        return r[1] is None, r[1] or _EPOCH, r[0]

    return one_chat(parts[0]) if len(parts) == 1 else heapq.merge(*(one_chat(c) for c in parts), key=key)


def _ts(at: Any) -> int:
    """POSIX microseconds of a stored time (SQLite: ISO text; other databases: a datetime)."""
    if type(at) is str:
        when = fromisoformat(at)
        return (when - _EPOCH_NAIVE) // _ONE_US if when.tzinfo is None else epoch_us(when)
    d = utc(at)
    return epoch_us(d if d is not None else datetime.min)


def raw_messages(con: Connection, chat_ids: list[int], senders: SenderMap,
                 lo: datetime | None = None, hi: datetime | None = None, whole: bool = False,
                 ) -> Generator[Msg, None, None]:
    """Messages of these chats in time order, with their media hashes, streamed.

    Each chat is read on its own (the (chat_id, at) index gives its rows in order, streamed) and the chats
    merged here, so that a reader who stops early (a page) pays for what it read. ``whole=True`` says the
    caller reads everything: one query over all the chats, sorted by the database (the same order: time, then
    id), costs less than merging the streams in Python."""
    if not chat_ids:
        return
    person_of, owner_person, wildcards = senders.person_of, senders.owner_person, senders.wildcard_accounts
    naive, one_us = _EPOCH_NAIVE, _ONE_US
    cursors: list[Any] = []
    try:
        cur: Msg | None = None
        cur_id = None
        for mid, at, prec, mkey, sender, from_owner, text, fwd, sid, cid, sha in _rows(con, chat_ids, lo, hi, whole,
                                                                                       cursors):
            if mid == cur_id:  # the same message again: one row per media item
                if sha:
                    cur.shas.append(sha)  # type: ignore[union-attr]
                continue
            if cur is not None:
                yield cur
            person = person_of.get(sender) if sender is not None else None
            if person is None and sender is None and from_owner:
                person = owner_person.get(sid)
            if type(at) is str:
                when = fromisoformat(at)
                ts = (when - naive) // one_us if when.tzinfo is None else epoch_us(when)
            else:
                ts = _ts(at)
            cur = Msg(mid, None, int(prec or 1), mkey, person, sender in wildcards, text, [sha] if sha else [],
                      bool(fwd), sid, cid, None, None, sender, ts)
            cur_id = mid
        if cur is not None:
            yield cur
    finally:
        for c in cursors:
            c.close()


Copy = tuple[int, int, int, "int | None", bool, tuple[str, str], int, int]


def contents(con: Connection, chat_ids: list[int], senders: SenderMap, lo: datetime | None = None,
             hi: datetime | None = None) -> Iterator[Copy]:
    """What matching needs of each message that has a content (:meth:`Msg.content`), in time order and without a
    :class:`Msg` per message: (id, ts, precision_s, person, wildcard, content, source_id, chat_id). The same
    messages, times and senders as :func:`raw_messages` (``whole=True``)."""
    if not chat_ids:
        return
    person_of, owner_person, wildcards = senders.person_of, senders.owner_person, senders.wildcard_accounts
    naive, one_us = _EPOCH_NAIVE, _ONE_US
    cursors: list[Any] = []
    try:
        rows = _rows(con, chat_ids, lo, hi, True, cursors)
        row = next(rows, None)
        while row is not None:
            mid, at, prec, _k, sender, from_owner, text, _f, sid, cid, sha = row
            first_sha = sha or None
            row = next(rows, None)
            while row is not None and row[0] == mid:  # the same message again: one row per media item
                if first_sha is None and row[10]:
                    first_sha = row[10]
                row = next(rows, None)
            if first_sha is not None:
                cont = ("m", first_sha)
            elif text and not text.isspace():
                cont = ("t", " ".join(text.split()))
            else:
                continue
            person = person_of.get(sender) if sender is not None else None
            if person is None and sender is None and from_owner:
                person = owner_person.get(sid)
            if type(at) is str:
                when = fromisoformat(at)
                ts = (when - naive) // one_us if when.tzinfo is None else epoch_us(when)
            else:
                ts = _ts(at)
            yield mid, ts, int(prec or 1), person, sender in wildcards, cont, sid, cid
    finally:
        for cu in cursors:
            cu.close()


Canonical = list[Any]  # [ts, id, person, shas, forwarded, duplicates folded, precision_s]


def keyed_timeline(con: Connection, chat_ids: list[int], senders: SenderMap) -> list[Canonical] | None:
    """What ``deduplicated(raw_messages(con, chat_ids, senders, whole=True), keyless=False)`` gives for chats whose
    every message has a key, without a :class:`Msg` or a window per message; None when that short cut does not
    hold (a message without a key, times out of order, a later copy more precise than the first: a fold that
    moves a time), and the caller takes the general path.

    Where every message has a key, a copy folds into the first copy of its key and nothing else folds; the
    canonical message is the first copy (its id, time, sender, media), forwarded if any copy is, and, while no
    fold moves a time and times come in order, the window emits canonical messages in the order their first
    copies came. Returned in that order: [ts, id, person, shas, forwarded, duplicates folded, precision_s]."""
    if not chat_ids:
        return []
    person_of, owner_person = senders.person_of, senders.owner_person
    naive, one_us = _EPOCH_NAIVE, _ONE_US
    seen: dict[str, Canonical] = {}
    out: list[Canonical] = []
    cursors: list[Any] = []
    prev_ts: int | None = None
    cur_id = None
    cur: Canonical | None = None  # the first copy being read (its media rows follow it)
    try:
        for mid, at, prec, mkey, sender, from_owner, _t, fwd, sid, _c, sha in _rows(con, chat_ids, None, None, True,
                                                                                  cursors, text=False):
            if mid == cur_id:
                if sha and cur is not None:
                    cur[3].append(sha)
                continue
            cur_id, cur = mid, None
            if mkey is None:
                return None
            if type(at) is str:
                when = fromisoformat(at)
                ts = (when - naive) // one_us if when.tzinfo is None else epoch_us(when)
            else:
                ts = _ts(at)
            if prev_ts is not None and ts < prev_ts:
                return None
            prev_ts = ts
            p = int(prec or 1)
            c = seen.get(mkey)
            if c is None:
                person = person_of.get(sender) if sender is not None else None
                if person is None and sender is None and from_owner:
                    person = owner_person.get(sid)
                cur = [ts, mid, person, [sha] if sha else [], bool(fwd), 0, p]
                seen[mkey] = cur
                out.append(cur)
            else:
                if p < c[6]:
                    return None
                c[4] = c[4] or bool(fwd)
                c[5] += 1
    finally:
        for cu in cursors:
            cu.close()
    return out


def same_sender(a: Msg, b: Msg) -> bool:
    return a.wildcard or b.wildcard or (a.person is not None and a.person == b.person)


def same_time(a: Msg, b: Msg, slack_s: int = 2) -> bool:
    """Whether two copies can be one message: times agree within the coarser copy's precision."""
    return abs(a.ts - b.ts) <= (max(a.precision_s, b.precision_s) + slack_s) * US


def _take_precise(canon: Msg, m: Msg) -> None:
    """Fold ``m`` into ``canon``; the more precise copy gives the canonical time, id, source and chat."""
    canon.sources.add(m.source_id)
    canon.forwarded = canon.forwarded or m.forwarded
    if m.precision_s < canon.precision_s:
        canon.duplicates.append(canon.id)
        canon.id, canon.ts, canon.precision_s = m.id, m.ts, m.precision_s
        canon.moves += 1
        canon.source_id, canon.chat_id, canon.sender_id = m.source_id, m.chat_id, m.sender_id
    else:
        canon.duplicates.append(m.id)


def _fold_by_content(by_content: dict[tuple[str, str], list[Msg]], seen_keys: dict[str, Msg], m: Msg,
                     slack_us: int) -> bool:
    """Fold ``m`` into a canonical message of the same content, if one is a copy of it: from another source, at
    the same time (same_time), by the same sender (same_sender), and no two different keys. False when ``m``
    stands alone (no content, or nothing it folds into); it is then indexed by its content."""
    c = m.content()
    if c is None:
        return False
    lst = by_content.get(c)
    if lst is None:
        by_content[c] = [m]
        return False
    ts, k, src, prec, person = m.ts, m.key, m.source_id, m.precision_s, m.person
    for cand in lst:
        if (src not in cand.sources
                and abs(cand.ts - ts) <= max(cand.precision_s, prec) * US + slack_us
                and (cand.wildcard or m.wildcard or (cand.person is not None and cand.person == person))
                and (cand.key is None or k is None or cand.key == k)):
            _take_precise(cand, m)
            if cand.person is None or cand.wildcard:  # a resolved sender is better than a name
                cand.person, cand.wildcard = person, m.wildcard
            if cand.key is None and k is not None:
                cand.key = k
                seen_keys[k] = cand
            return True
    lst.append(m)
    return False


def deduplicated(stream: Iterator[Msg], slack_s: int = 2, keyless: bool = True) -> Iterator[Msg]:
    """Canonical messages in time order; each carries the ids of the duplicates folded into it.

    A canonical message is emitted once nothing later can still fold into it (its window has passed). A fold
    can move a canonical time later (minute copy first, its second-precise copy after), so the window is a heap
    on the current time; a moved entry is pushed again with its new time.

    ``keyless=False`` is the caller's word that every message in the stream has a key (``msg_key``): copies then
    fold by key alone (a content match between two keyed copies needs the same key, which the key already
    found), so no content is computed or indexed; the result is the same."""
    seen_keys: dict[str, Msg] = {}
    window: list[tuple[int, int, int, Msg]] = []  # (time, tie-break, the message's moves when pushed, message)
    order = itertools.count()
    by_content: dict[tuple[str, str], list[Msg]] = {}
    max_prec = 60
    push, pop = heapq.heappush, heapq.heappop
    slack_us = slack_s * US

    for m in stream:
        if m.precision_s > max_prec:
            max_prec = m.precision_s
        ts = m.ts
        limit = ts - (max_prec + slack_s) * US
        while window and window[0][0] < limit:  # (the loop, inline: it runs for nearly every message)
            _ts, _n, moves, old = pop(window)
            if old.moves != moves:  # its time moved with a fold: back in at the new time
                push(window, (old.ts, next(order), old.moves, old))
                continue
            if keyless:
                _forget(by_content, old)
            yield old
        k = m.key
        if k is not None:
            canon = seen_keys.get(k)
            if canon is not None:
                _take_precise(canon, m)
                continue
        if keyless and _fold_by_content(by_content, seen_keys, m, slack_us):
            continue
        m.sources.add(m.source_id)
        if k is not None:
            seen_keys[k] = m
        push(window, (ts, next(order), m.moves, m))
    while window:
        _ts, _n, moves, old = pop(window)
        if old.moves != moves:
            push(window, (old.ts, next(order), old.moves, old))
            continue
        if keyless:
            _forget(by_content, old)
        yield old


def group_timeline(con: Connection, chat_ids: list[int], senders: SenderMap, slack_s: int = 2) -> Iterator[Msg]:
    """What ``deduplicated(raw_messages(con, chat_ids, senders, whole=True), keyless=True)`` gives, message for
    message and at the same points of the stream (a canonical message yielded is the same object, in the same
    state), with the read and the fold in one loop: a copy whose key was seen already folds straight from its
    row, without a :class:`Msg` (in a group seen by several phones most copies are such; they need only their
    id, time, precision, source, chat, sender and forwarded flag)."""
    if not chat_ids:
        return
    person_of, owner_person, wildcards = senders.person_of, senders.owner_person, senders.wildcard_accounts
    naive, one_us = _EPOCH_NAIVE, _ONE_US
    seen_keys: dict[str, Msg] = {}
    window: list[tuple[int, int, int, Msg]] = []  # (time, tie-break, the message's moves when pushed, message)
    order = itertools.count()
    by_content: dict[tuple[str, str], list[Msg]] = {}
    max_prec = 60
    push, pop = heapq.heappush, heapq.heappop
    slack_us = slack_s * US
    cursors: list[Any] = []
    try:
        pending: Msg | None = None  # a message read whose media rows may still follow (folded once they have)
        cur_id = None
        rows = _rows(con, chat_ids, None, None, True, cursors)
        while True:
            row = next(rows, None)
            if row is not None and row[0] == cur_id:  # the same message again: one row per media item
                if pending is not None and row[10]:
                    pending.shas.append(row[10])
                continue
            if pending is not None:  # deduplicated's body for a message that did not fold by its key
                m, pending = pending, None
                if not _fold_by_content(by_content, seen_keys, m, slack_us):  # a message of its own
                    m.sources.add(m.source_id)
                    if m.key is not None:
                        seen_keys[m.key] = m
                    push(window, (m.ts, next(order), m.moves, m))
            if row is None:
                break
            mid, at, prec, mkey, sender, from_owner, text, fwd, sid, cid, sha = row
            cur_id = mid
            if type(at) is str:
                when = fromisoformat(at)
                ts = (when - naive) // one_us if when.tzinfo is None else epoch_us(when)
            else:
                ts = _ts(at)
            p = int(prec or 1)
            if p > max_prec:
                max_prec = p
            limit = ts - (max_prec + slack_s) * US
            while window and window[0][0] < limit:
                _t, _n, moves, old = pop(window)
                if old.moves != moves:  # its time moved with a fold: back in at the new time
                    push(window, (old.ts, next(order), old.moves, old))
                    continue
                _forget(by_content, old)
                yield old
            if mkey is not None:
                canon = seen_keys.get(mkey)
                if canon is not None:  # _take_precise from the row: this copy is never a message of its own
                    canon.sources.add(sid)
                    canon.forwarded = canon.forwarded or bool(fwd)
                    if p < canon.precision_s:
                        canon.duplicates.append(canon.id)
                        canon.id, canon.ts, canon.precision_s = mid, ts, p
                        canon.moves += 1
                        canon.source_id, canon.chat_id, canon.sender_id = sid, cid, sender
                    else:
                        canon.duplicates.append(mid)
                    continue
            person = person_of.get(sender) if sender is not None else None
            if person is None and sender is None and from_owner:
                person = owner_person.get(sid)
            pending = Msg(mid, None, p, mkey, person, sender in wildcards, text, [sha] if sha else [],
                          bool(fwd), sid, cid, None, None, sender, ts)
    finally:
        for cu in cursors:
            cu.close()
    while window:
        _t, _n, moves, old = pop(window)
        if old.moves != moves:
            push(window, (old.ts, next(order), old.moves, old))
            continue
        _forget(by_content, old)
        yield old


def _forget(by_content: dict[tuple[str, str], list[Msg]], old: Msg) -> None:
    """A message leaving the window leaves the content index."""
    c = old.content()
    if c is not None:
        lst = by_content.get(c)
        if lst:
            lst.remove(old)
            if not lst:
                del by_content[c]
