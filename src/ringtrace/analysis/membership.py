"""Membership as intervals per (group, person).

Starts: created / added / joined_link / joined events; ends: left / removed events and past-participant rows.
Events seen by several devices are one event, at the most precise copy's time (an export prints minutes). A
device's current participant list is true at the latest time that device saw anything in that group (not at
ingest): it keeps an interval open, or shows a return no event recorded. Messages sent outside every known
interval become an interval of their own (joined_via 'unknown').
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from ringtrace.analysis.common import iso, utc
from ringtrace.analysis.groups import SAME_TIME_S, GroupBuild, code_at
from ringtrace.analysis.persons import Resolution
from ringtrace.analysis.timeline import US, epoch_us, from_us
from ringtrace.store import schema as S

START_KINDS = {"created": "created", "added": "added", "joined_link": "invite_link", "joined": "unknown"}
END_KINDS = ("left", "removed")


@dataclass
class Activity:
    """One person's de-duplicated messages in one group (times kept compactly as integer POSIX microseconds,
    ``timeline.epoch_us``)."""

    times: array[int] = field(default_factory=lambda: array("q"))
    ids: array[int] = field(default_factory=lambda: array("q"))
    media: int = 0
    known: int = 0
    forwards: int = 0

    def add(self, ts: int, mid: int) -> None:
        self.times.append(ts)
        self.ids.append(mid)


@dataclass
class Interval:
    from_at: datetime | None
    to_at: datetime | None
    joined_via: str
    invite_code: str | None = None
    role: str = "member"
    evidence: dict[str, Any] = field(default_factory=dict)

    def covers(self, t: datetime) -> bool:
        return (self.from_at is None or self.from_at - TOL <= t) and (self.to_at is None or t <= self.to_at + TOL)

    def ev(self, key: str, *ids: Any) -> None:
        lst = self.evidence.setdefault(key, [])
        for i in ids:
            if i not in lst:
                lst.append(i)


TOL = timedelta(seconds=SAME_TIME_S)


def group_snapshot_times(con: Connection, chat_ids: list[int]) -> dict[int, datetime]:
    """Per source: the latest time it saw anything in these chats."""
    out: dict[int, datetime] = {}
    for t in (S.messages, S.group_events):
        q = select(t.c.source_id, func.max(t.c.at)).where(t.c.chat_id.in_(chat_ids)).group_by(t.c.source_id)
        for sid, at in con.execute(q):
            a = utc(at)
            if a is not None and (sid not in out or a > out[sid]):
                out[sid] = a
    return out


def chat_precision(con: Connection, g: GroupBuild) -> dict[int, int]:
    """Time precision (seconds) of each chat's evidence: its messages' coarsest, else 60 for an export (which
    prints minutes unless its lines show seconds) and 1 for a device database."""
    out = {c["chat_id"]: (60 if str(c["key"]).startswith("export:") else 1) for c in g.detail.get("chats", [])}
    m = S.messages
    for cid, prec in con.execute(select(m.c.chat_id, func.max(m.c.precision_s)).where(m.c.chat_id.in_(g.chats))
                                 .group_by(m.c.chat_id)):
        if prec is not None:
            out[cid] = int(prec)
    return out


@dataclass
class _Point:
    at: datetime
    start: bool
    via: str
    code: str | None
    events: list[int]
    precision_s: int = 1


def build_memberships(con: Connection, res: Resolution, g: GroupBuild,
                      activity: dict[int, Activity]) -> dict[int, list[Interval]]:
    p_of = res.person_of
    ev = S.group_events
    points: dict[int, list[_Point]] = {}
    prec_of = chat_precision(con, g)
    for e in con.execute(select(ev.c.id, ev.c.kind, ev.c.at, ev.c.actor_id, ev.c.target_id, ev.c.value, ev.c.chat_id)
                         .where(ev.c.chat_id.in_(g.chats))
                         .where(ev.c.kind.in_((*START_KINDS, *END_KINDS))).order_by(ev.c.at, ev.c.id)):
        at = utc(e.at)
        if at is None:
            continue
        if e.kind == "created" or (e.kind in ("joined_link", "joined", "left") and e.target_id is None):
            who = e.actor_id
        else:
            who = e.target_id if e.target_id is not None else e.actor_id
        if who is None or who not in p_of:
            continue
        start = e.kind in START_KINDS
        via = START_KINDS.get(e.kind, "")
        code = e.value if e.kind == "joined_link" and e.value else None
        lst = points.setdefault(p_of[who], [])
        prec = prec_of.get(e.chat_id, 1)
        dup = next((p for p in lst if p.start == start and abs((p.at - at).total_seconds()) <= SAME_TIME_S), None)
        if dup is not None:  # the same event seen by another device
            dup.events.append(e.id)
            dup.code = dup.code or code
            if dup.via == "unknown":
                dup.via = via
            if prec < dup.precision_s:  # a second-precise copy beats an export's minute
                dup.at, dup.precision_s = at, prec
            continue
        lst.append(_Point(at, start, via, code, [e.id], prec))
    snaps = group_snapshot_times(con, g.chats)
    current: dict[int, list[tuple[datetime | None, int, str]]] = {}
    pt = S.participants
    for r in con.execute(select(pt.c.id, pt.c.account_id, pt.c.role, pt.c.current, pt.c.at, pt.c.source_id)
                         .where(pt.c.chat_id.in_(g.chats)).order_by(pt.c.id)):
        if r.account_id not in p_of:
            continue
        pi = p_of[r.account_id]
        if r.current:
            current.setdefault(pi, []).append((snaps.get(r.source_id), r.id, r.role))
        elif r.at is not None:  # past participant: left at r.at
            at = utc(r.at)
            assert at is not None
            lst = points.setdefault(pi, [])
            dup = next((p for p in lst if not p.start and abs((p.at - at).total_seconds()) <= SAME_TIME_S), None)
            if dup is None:
                lst.append(_Point(at, False, "", None, []))
                dup = lst[-1]
            dup.events.append(-r.id)  # negative: a participants row, not an event (split below)
    out: dict[int, list[Interval]] = {}
    for pi in sorted(set(points) | set(current) | set(activity)):
        ivs = _intervals(sorted(points.get(pi, []), key=lambda p: (p.at, not p.start)))
        for snap_at, rid, role in sorted(current.get(pi, []), key=lambda c: (c[0] is None, c[0] or datetime.min)):
            _apply_snapshot(ivs, snap_at, rid, role)
        act = activity.get(pi)
        if act is not None and len(act.times):
            _apply_activity(ivs, act)
        for iv in ivs:
            if iv.joined_via == "invite_link" and iv.invite_code is None:
                iv.invite_code = code_at(g, iv.from_at)
            if pi == g.creator and iv is ivs[0]:
                iv.role = "creator"
            elif pi in g.admins and iv.role != "creator":
                for a in g.admins[pi]:
                    at = datetime.fromisoformat(a["at"]) if a.get("at") else None
                    if (at is not None and iv.covers(at)) or (at is None and iv is ivs[-1]):
                        iv.role = "admin"
        if ivs:
            out[pi] = ivs
    return out


def _intervals(points: list[_Point]) -> list[Interval]:
    ivs: list[Interval] = []
    open_iv: Interval | None = None
    for p in points:
        events = [i for i in p.events if i > 0]
        parts = [-i for i in p.events if i < 0]
        if p.start:
            if open_iv is None:
                open_iv = Interval(p.at, None, p.via, p.code)
                ivs.append(open_iv)
            else:
                open_iv.ev("notes", f"second start at {iso(p.at)} while already a member")
            open_iv.ev("events", *events)
        else:
            if open_iv is None:  # left, but the join was never seen (before this device's window)
                iv = Interval(None, p.at, "unknown")
                iv.ev("notes", "start not seen")
                ivs.append(iv)
                target = iv
            else:
                open_iv.to_at = p.at
                target = open_iv
                open_iv = None
            target.ev("events", *events)
            if parts:
                target.ev("participants", *parts)
    return ivs


def _apply_snapshot(ivs: list[Interval], snap_at: datetime | None, rid: int, role: str) -> None:
    for iv in ivs:
        if snap_at is None or iv.covers(snap_at) or iv.to_at is None:
            iv.ev("participants", rid)
            if role in ("admin", "superadmin"):
                iv.ev("notes", f"participant role {role}")
            return
    last_end = ivs[-1].to_at if ivs else None
    if ivs and last_end is not None and snap_at is not None and snap_at < (ivs[0].from_at or snap_at):
        return  # a stale list that predates everything else known; the events are more specific
    iv = Interval(None, None, "unknown")
    iv.ev("participants", rid)
    iv.ev("notes", "in a participant list; join not seen")
    ivs.append(iv)


def _apply_activity(ivs: list[Interval], act: Activity) -> None:
    """Messages outside every interval form intervals of their own; unknown starts take the first message.

    Times are compared as integer microseconds (exactly as the datetimes compare): a person's messages in a
    group can be many, their intervals are few."""
    tol = SAME_TIME_S * US
    # each interval's covered span, [from - TOL, to + TOL] (None: open), kept in step with ivs
    spans = [(None if iv.from_at is None else epoch_us(iv.from_at) - tol,
              None if iv.to_at is None else epoch_us(iv.to_at) + tol) for iv in ivs]
    times, ids = act.times, act.ids
    outside: list[int] = []
    for i, ts in enumerate(times):
        for j, (lo, hi) in enumerate(spans):
            if (lo is None or lo <= ts) and (hi is None or ts <= hi):
                hit = ivs[j]
                if hit.from_at is None:
                    hit.from_at = from_us(ts)
                    spans[j] = (ts - tol, hi)
                    hit.ev("notes", "start not seen: first message sent")
                    hit.ev("messages", int(ids[i]))
                break
        else:
            outside.append(i)
    if outside:
        starts = [epoch_us(iv.from_at) for iv in ivs if iv.from_at is not None]
        run: list[int] = []
        for i in outside:
            t = times[i]
            if run:
                prev = times[run[-1]]
                if any(prev < s <= t for s in starts):
                    iv = _activity_interval(act, run)
                    ivs.append(iv)
                    starts.append(times[run[0]])
                    run = []
            run.append(i)
        if run:
            ivs.append(_activity_interval(act, run))
    ivs.sort(key=lambda iv: iv.from_at or datetime.min.replace(tzinfo=UTC))


def _activity_interval(act: Activity, run: list[int]) -> Interval:
    iv = Interval(from_us(act.times[run[0]]), from_us(act.times[run[-1]]), "unknown")
    iv.ev("messages", int(act.ids[run[0]]), int(act.ids[run[-1]]))
    iv.ev("notes", f"from messages sent ({len(run)}); no join or leave seen")
    return iv


def in_any(ivs: list[Interval], t: datetime) -> bool:
    return any(iv.covers(t) for iv in ivs)


__all__ = ["Activity", "Interval", "build_memberships", "in_any"]
