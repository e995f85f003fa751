"""Export senders known only by a name, resolved to accounts through the messages they sent.

A WhatsApp export prints a sender by the owner's contact name ("Ana gym"), so the parser can only store an
export-name account scoped to that export. When the export's chat is merged into a JID group (``groups``), its
messages are the same messages other phones hold with real sender accounts. A name is resolved to a person when
at least ``MIN_MATCHES`` of its messages match that person's messages in the same group on another device (same
text or media hash, time within the export's precision) and nothing contradicts it: every matched message points
to that one person, and no other name of the same export points to the same person. Names alone never decide.
A message that matches several people's copies at once is ambiguous and counts for no one. Names used only in
system lines of the same export are the same account (names are scoped per export), so they follow.

Group events count as messages do (``add_events``): "Ana added Tio Pepe" in the export and "Ana added +34..."
recorded by a database in the same group within the export's minute is one matched event for that person, when
the kinds agree (added; joined or joined through a link; left; removed), the other party (if the export names an
account) is the same person, and no other person's event of that kind falls in that minute. Someone who never
posts but joined and left is then tied by two matched events.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.analysis.common import UnionFind, utc
from ringtrace.analysis.persons import EvidenceLink, Resolution
from ringtrace.analysis.timeline import US, Msg, SenderMap
from ringtrace.identifiers import ExportName
from ringtrace.store import schema as S

MIN_MATCHES = 2
LIST_CAP = 50  # message ids kept in an explanation (the count is always exact)
EVENT_CLASS = {"added": "added", "joined": "joined", "joined_link": "joined", "left": "left", "removed": "removed"}
EXPORT_PRECISION_S = 60  # an export prints the minute: the database's event falls within it
SLACK_S = 2
_SCOPE = re.compile(r"^S\d+:")


@dataclass
class _Tally:
    """What one export name's matched messages say about one person (within one export chat and group)."""

    count: int = 0  # export messages whose every match is this person's
    export_msgs: list[int] = field(default_factory=list)  # the first LIST_CAP of them
    other_msgs: list[int] = field(default_factory=list)
    other_ends: list[int] = field(default_factory=list)  # len(other_msgs) after each of export_msgs
    sources: set[int] = field(default_factory=set)
    events: int = 0  # of ``count``, matched group events
    export_events: list[int] = field(default_factory=list)
    other_events: list[int] = field(default_factory=list)


class NameEvidence:
    """Collects, while ``groups`` matches export messages to keyed ones, which people each export name's messages
    match. Keyed messages arrive in time order, so an export message is settled once the stream has passed its
    time by more than any tolerance: memory is a window of pending messages plus one tally per name and person.
    """

    def __init__(self) -> None:
        # export message -> (name account, export chat, export source, time, keyed root -> person -> matches)
        self._pending: dict[int, tuple[int, int, int, float, dict[int, dict[int, list[tuple[int, int]]]]]] = {}
        self._order: deque[tuple[float, int]] = deque()
        # (name account, export chat, keyed root) -> person -> tally; and ambiguous message counts
        self.tallies: dict[tuple[int, int, int], dict[int, _Tally]] = {}
        self.ambiguous: dict[tuple[int, int, int], int] = {}
        self.source_of: dict[int, int] = {}  # name account -> its export's source

    def add(self, e: Msg, m: Msg, root: int) -> None:
        """Export message ``e`` (sent under a name) matched keyed message ``m`` of a known person, in ``root``."""
        self.add_match(e, m.person, m.id, m.source_id, root)

    def add_match(self, e: Msg, person: int | None, mid: int, source_id: int, root: int) -> None:
        """As :meth:`add`, the keyed message given by its person, id and source."""
        if e.sender_id is None or person is None:
            return
        p = self._pending.get(e.id)
        if p is None:
            ts = e.ts / US  # POSIX seconds
            p = self._pending[e.id] = (e.sender_id, e.chat_id, e.source_id, ts, {})
            self._order.append((ts, e.id))
        by_root = p[4]
        people = by_root.get(root)
        if people is None:
            by_root[root] = {person: [(mid, source_id)]}
            return
        found = people.get(person)
        if found is None:
            people[person] = [(mid, source_id)]
        else:
            found.append((mid, source_id))

    @property
    def pending_order(self) -> deque[tuple[float, int]]:
        """The pending export messages as (POSIX seconds, id), oldest first: the queue itself, for a caller that
        tests it per message (``due`` without the call)."""
        return self._order

    def due(self, before: float) -> bool:
        """Whether :meth:`settle` with ``before`` would settle anything (a cheap test, made per message)."""
        return bool(self._order) and self._order[0][0] < before

    def settle(self, before: float | None = None) -> None:
        """Settle pending export messages older than ``before`` (all when None)."""
        order, pending, tallies = self._order, self._pending, self.tallies
        while order and (before is None or order[0][0] < before):
            _ts, eid = order.popleft()
            aid, chat, src, _t, roots = pending.pop(eid)
            self.source_of[aid] = src
            for root, people in roots.items():
                key = (aid, chat, root)
                if len(people) > 1:  # the same text by several people within the minute: no one's evidence
                    self.ambiguous[key] = self.ambiguous.get(key, 0) + 1
                    continue
                (person, found), = people.items()
                by_person = tallies.get(key)
                if by_person is None:
                    by_person = tallies[key] = {}
                t = by_person.get(person)
                if t is None:
                    t = by_person[person] = _Tally()
                t.count += 1
                if len(t.export_msgs) < LIST_CAP:
                    t.export_msgs.append(eid)
                    t.other_msgs.extend(sorted({f[0] for f in found}))
                    t.other_ends.append(len(t.other_msgs))
                for _mid, source in found:
                    t.sources.add(source)

    def absorb(self, later: NameEvidence) -> None:
        """Take in what ``later`` settled, as if its matches had been settled here after every one of this
        evidence's: it saw export messages all of which came after this one's (``groups.export_hits`` cuts the
        export stream at a gap in time wider than any tolerance), and this one is settled to its end. Messages
        only: group events are tallied after (``add_events``)."""
        self.settle()
        for key, people in later.tallies.items():
            mine = self.tallies.setdefault(key, {})
            for person, t in people.items():
                have = mine.get(person)
                if have is None:
                    mine[person] = t
                    continue
                have.count += t.count
                have.sources |= t.sources
                start = 0
                for eid, end in zip(t.export_msgs, t.other_ends, strict=True):
                    if len(have.export_msgs) >= LIST_CAP:
                        break
                    have.export_msgs.append(eid)
                    have.other_msgs.extend(t.other_msgs[start:end])
                    have.other_ends.append(len(have.other_msgs))
                    start = end
        for key, n in later.ambiguous.items():
            self.ambiguous[key] = self.ambiguous.get(key, 0) + n
        self.source_of.update(later.source_of)


    def add_events(self, con: Connection, uf: UnionFind[int], senders: SenderMap) -> None:
        """Tally the export's group events naming an untied export name against the same events recorded with
        accounts by other sources in the group the export was merged into (see the module text)."""
        ev = S.group_events
        wild = senders.wildcard_accounts
        rows = [r for r in con.execute(select(ev.c.id, ev.c.chat_id, ev.c.kind, ev.c.at, ev.c.actor_id,
                                              ev.c.target_id, ev.c.source_id)
                                       .where(ev.c.kind.in_(sorted(EVENT_CLASS))).order_by(ev.c.at, ev.c.id))
                if r.at is not None]
        keyed: dict[tuple[int, str], list[Any]] = {}
        for r in rows:
            if r.actor_id in wild or r.target_id in wild:
                continue
            keyed.setdefault((uf.find(r.chat_id), EVENT_CLASS[r.kind]), []).append(r)
        pof = senders.person_of
        stamps: dict[tuple[int, str], list[float]] = {}
        for e in rows:
            for role in ("target_id", "actor_id"):
                aid = getattr(e, role)
                if aid not in wild or (role == "actor_id" and aid == e.target_id):
                    continue  # "X left" names X as actor and target: one piece of evidence, not two
                other_role = "actor_id" if role == "target_id" else "target_id"
                other = getattr(e, other_role)
                other_person = pof.get(other) if other is not None and other not in wild else None
                root = uf.find(e.chat_id)
                at = utc(e.at)
                assert at is not None
                found: dict[int, list[Any]] = {}
                cands = keyed.get((root, EVENT_CLASS[e.kind]), [])
                times = stamps.setdefault((root, EVENT_CLASS[e.kind]), [_ts(d.at) for d in cands])
                lo = bisect_left(times, at.timestamp() - SLACK_S)
                hi = bisect_left(times, at.timestamp() + EXPORT_PRECISION_S + SLACK_S)
                for d in cands[lo:hi]:  # the database's events within the export's minute
                    if d.source_id == e.source_id:
                        continue
                    who = pof.get(getattr(d, role)) if getattr(d, role) is not None else None
                    if who is None:
                        continue
                    if other_person is not None and pof.get(getattr(d, other_role)) != other_person:
                        continue
                    found.setdefault(who, []).append(d)
                if not found:
                    continue
                self.source_of[aid] = e.source_id
                key = (aid, e.chat_id, root)
                if len(found) > 1:  # several people did that within the minute: no one's evidence
                    self.ambiguous[key] = self.ambiguous.get(key, 0) + 1
                    continue
                (person, ds), = found.items()
                t = self.tallies.setdefault(key, {}).setdefault(person, _Tally())
                t.count += 1
                t.events += 1
                if len(t.export_events) < LIST_CAP:
                    t.export_events.append(e.id)
                    t.other_events.extend(sorted(d.id for d in ds))
                t.sources.update(d.source_id for d in ds)


def _ts(at: Any) -> float:
    u = utc(at)
    assert u is not None
    return u.timestamp()


def display_name(value: str) -> str:
    """'S5:Ana gym' -> 'Ana gym' (export names are stored scoped to their source)."""
    return _SCOPE.sub("", value, count=1)


def resolve_export_names(ev: NameEvidence, uf: UnionFind[int], res: Resolution, exhibits: dict[int, str],
                         ) -> tuple[list[EvidenceLink], list[dict[str, Any]]]:
    """Links from export-name accounts to the accounts their messages show, and notes on every name that
    matched something but stayed unresolved (too few matches, several people, or a shared target)."""
    ev.settle()
    votes: dict[int, dict[int, _Tally]] = {}  # name account -> person -> tally, in the group its export joined
    for (aid, chat, root), people in sorted(ev.tallies.items()):
        if uf.find(chat) != uf.find(root):
            continue  # matched a group the export was not merged into
        mine = votes.setdefault(aid, {})
        for person, t in people.items():
            acc = mine.setdefault(person, _Tally())
            acc.count += t.count
            acc.events += t.events
            acc.export_events.extend(t.export_events)
            acc.other_events.extend(t.other_events)
            acc.export_msgs.extend(t.export_msgs)
            acc.other_msgs.extend(t.other_msgs)
            acc.sources |= t.sources
    notes: list[dict[str, Any]] = []
    cands: dict[tuple[int, int], list[int]] = {}  # (export source, person) -> names pointing there
    for aid, by_person in sorted(votes.items()):
        name, ex = _name(res, aid), exhibits.get(ev.source_of[aid], "?")
        if len(by_person) > 1:
            who = ", ".join(f"{_ref(res, p)} ({t.count})" for p, t in sorted(by_person.items()))
            notes.append({"kind": "export name not resolved", "account": res.account_text[aid],
                          "detail": f"export sender {name!r} in {ex} matched messages of several people: {who}"})
            continue
        (person, t), = by_person.items()
        if t.count < MIN_MATCHES:
            notes.append({"kind": "export name not resolved", "account": res.account_text[aid],
                          "detail": f"export sender {name!r} in {ex} matched only {t.count} "
                                    f"{'message(s)' if not t.events else 'message(s) and group event(s)'} of "
                                    f"{_ref(res, person)}; {MIN_MATCHES} needed"})
            continue
        cands.setdefault((ev.source_of[aid], person), []).append(aid)
    links: list[EvidenceLink] = []
    for (sid, person), names in sorted(cands.items()):
        ex = exhibits.get(sid, "?")
        already = [a for a in res.persons[person].account_ids
                   if res.account_kind[a] == ExportName.kind and res.account_text[a].split(":", 2)[2].startswith(
                       f"S{sid}:")]
        if len(names) > 1 or already:
            shown = ", ".join(repr(_name(res, a)) for a in names + already)
            for aid in names:
                notes.append({"kind": "export name not resolved", "account": res.account_text[aid],
                              "detail": f"export senders {shown} in {ex} all match {_ref(res, person)}; "
                                        "a person has one name in one export, so none is taken"})
            continue
        aid = names[0]
        links.append(_link(res, aid, person, votes[aid][person], ex, exhibits))
    return links, notes


def _name(res: Resolution, aid: int) -> str:
    return display_name(res.account_text[aid].split(":", 2)[2])


def _ref(res: Resolution, person: int) -> str:
    return res.account_text[res.persons[person].account_ids[0]]


def _link(res: Resolution, aid: int, person: int, t: _Tally, ex: str, exhibits: dict[int, str]) -> EvidenceLink:
    target = res.persons[person].account_ids[0]
    other = sorted(set(t.other_msgs))
    sources = sorted(t.sources)
    n_msgs = t.count - t.events
    shown = ", ".join(str(m) for m in other[:LIST_CAP]) + (" ..." if n_msgs > len(t.export_msgs) else "")
    on = "/".join(exhibits.get(s, f"source {s}") for s in sources)
    evidence: dict[str, Any] = {"export_messages": sorted(t.export_msgs)[:LIST_CAP], "messages": other[:LIST_CAP],
                                "matched": t.count, "sources": sources}
    if not t.events:
        basis = (f"export sender {_name(res, aid)!r} in {ex} matched {t.count} messages of "
                 f"{res.account_text[target]} on {on} (message ids {shown})")
        return EvidenceLink(aid, target, basis, evidence)
    oev = sorted(set(t.other_events))
    shown_ev = ", ".join(str(m) for m in oev[:LIST_CAP]) + (" ..." if t.events > len(t.export_events) else "")
    parts = [f"{n_msgs} messages (message ids {shown})"] if n_msgs else []
    parts.append(f"{t.events} group events recorded at the same minute (group_events ids {shown_ev})")
    basis = (f"export name {_name(res, aid)!r} in {ex} matched {' and '.join(parts)} of "
             f"{res.account_text[target]} on {on}")
    evidence.update({"export_group_events": sorted(t.export_events)[:LIST_CAP], "group_events": oev[:LIST_CAP],
                     "matched_events": t.events})
    return EvidenceLink(aid, target, basis, evidence)
