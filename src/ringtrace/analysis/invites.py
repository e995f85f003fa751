"""Which analysed group each invite code opens, decided from device evidence only.

A captured page says "join chat.whatsapp.com/X"; only a seized device can say which group X opens. Three kinds
of device evidence tie a code to a group, strongest first:

* ``device``: the device stored X as the group's own invite code (``group_sightings.invite_code``);
* ``joined_link``: the app recorded a join to the group through X (a ``joined_link`` event whose value is X);
* ``admin_post``: a message in the group's chat holding the link X, sent by someone who was the group's
  creator or an admin at that time ("the group's admin posted the group's link"). In Telegram an act only an
  admin may do (remove a member, own the link someone joined through; see ``roles.admin_acts``) makes its doer
  an admin from then on, until a recorded demotion; the basis names the act. Pinning and changing the title or
  photo do not: a group's default permissions may allow any member to.

A link posted by an ordinary member says nothing about the group it was posted in (people advertise other
groups), so it ties nothing. When groups tie with equal strength the code is left untied and the conflict is
listed: a wrong group is worse than none. Nothing here fetches or resolves a link.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, or_, select

from ringtrace.analysis.common import iso, utc
from ringtrace.analysis.groups import SAME_TIME_S, snapshot_times
from ringtrace.analysis.roles import admin_acts
from ringtrace.identifiers import looks_like_invite_code as looks_like_code
from ringtrace.indicators.extract import extract_indicators
from ringtrace.store import schema as S

STRENGTH = {"device": 3, "joined_link": 3, "admin_post": 2}
BASIS = {
    "device": "a device stored it as the group's invite code",
    "joined_link": "a device recorded a join to the group through it",
    "admin_post": "the group's creator or an admin posted it in the group",
}
INVITE_KINDS = ("whatsapp_invite", "telegram_invite", "signal_group", "discord_invite", "session_open_group")
# cheap SQL pre-filter: only messages that can hold an invite link are read and searched
LINK_PATTERNS = ("%chat.whatsapp.com%", "%whatsapp://chat%", "%t.me/%", "%telegram.me/%", "%telegram.dog/%",
                 "%tg://join%", "%signal.group%", "%discord.gg%", "%discord.com/invite%",
                 "%discordapp.com/invite%")
ADMIN_ROLES = ("creator", "admin", "superadmin")
MAX_MESSAGE_SCAN = 64 * 1024
TOL = timedelta(seconds=SAME_TIME_S)

CodeKey = tuple[str, str]  # (platform, code)


@dataclass
class CodeTie:
    """What the devices say about one invite code. ``group_id`` is None when nothing ties it, or when groups
    tie with equal strength (then ``conflicts`` lists them)."""

    group_id: int | None
    basis: str  # device | joined_link | admin_post | conflict
    evidence: list[dict[str, Any]] = field(default_factory=list)  # for the chosen group (all, when conflict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # other groups the code was tied to
    first_at: datetime | None = None  # earliest evidence time for the chosen group

    @property
    def reason(self) -> str:
        if self.group_id is None:
            return "tied to several groups with equal strength: left untied"
        return BASIS.get(self.basis, self.basis)


@dataclass
class _Claim:
    kind: str
    at: datetime | None
    detail: dict[str, Any]


class _Admins:
    """Was a person creator/admin of a group at a time: creator, membership intervals with an admin role,
    promotion events not undone by a later demotion."""

    def __init__(self, con: Connection, chat_group: dict[int, int]) -> None:
        self.creator = {r.id: r.creator_person_id for r in con.execute(
            select(S.groups.c.id, S.groups.c.creator_person_id))}
        self.intervals: dict[tuple[int, int], list[tuple[datetime | None, datetime | None]]] = defaultdict(list)
        for r in con.execute(select(S.memberships.c.group_id, S.memberships.c.person_id, S.memberships.c.from_at,
                                    S.memberships.c.to_at).where(S.memberships.c.role.in_(ADMIN_ROLES))):
            self.intervals[(r.group_id, r.person_id)].append((utc(r.from_at), utc(r.to_at)))
        person = person_of_account(con)
        self.changes: dict[tuple[int, int], list[tuple[datetime, bool]]] = defaultdict(list)
        ev = S.group_events
        for r in con.execute(select(ev.c.chat_id, ev.c.kind, ev.c.at, ev.c.target_id)
                             .where(ev.c.kind.in_(("promoted", "demoted")))):
            gid = chat_group.get(r.chat_id)
            pid = person.get(r.target_id) if r.target_id is not None else None
            at = utc(r.at)
            if gid is not None and pid is not None and at is not None:
                self.changes[(gid, pid)].append((at, r.kind == "promoted"))
        for v in self.changes.values():
            v.sort()
        # acts only an admin may do (Telegram): an admin at that moment; acts that members may be allowed too
        # (pinning, changing info) decide nothing here
        self.acts = {k: d for k, v in admin_acts(con).items() if (d := [a for a in v if a.decisive])}

    def why(self, gid: int, pid: int, at: datetime) -> str | None:
        if self.creator.get(gid) == pid:
            return "creator"
        changes = self.changes.get((gid, pid), [])
        acts = self.acts.get((gid, pid), [])
        if changes or acts:  # promotions, demotions and admin acts say when the person was admin
            steps = sorted([(when, promoted, "promoted") for when, promoted in changes]
                           + [(a.at, True, a.basis) for a in acts], key=lambda s: s[0])
            state: str | None = None
            for when, on, basis in steps:
                if when <= at + TOL:
                    state = basis if on else None
            if state is not None or changes:
                return state
        for f, t in self.intervals.get((gid, pid), ()):
            if (f is None or f - TOL <= at) and (t is None or at <= t + TOL):
                return "admin membership"
        return None


def person_of_account(con: Connection) -> dict[int, int]:
    return {r.account_id: r.person_id for r in con.execute(
        select(S.person_accounts.c.account_id, S.person_accounts.c.person_id))}


def chat_groups(con: Connection) -> dict[int, int]:
    return {r.chat_id: r.group_id for r in con.execute(select(S.group_chats.c.chat_id, S.group_chats.c.group_id))}


def _links_in(text: str) -> Iterable[tuple[str, str, str]]:
    """(platform, code, url) of the invite links in a message text."""
    for f in extract_indicators(text[:MAX_MESSAGE_SCAN]):
        if f.kind in INVITE_KINDS and f.code and f.platform:
            yield f.platform, f.code, f.value


def has_link(text: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """``text`` holds one of ``LINK_PATTERNS``, letter case aside. On SQLite plain LIKE already folds ASCII case,
    and ``lower()`` (what ILIKE becomes there) folds ASCII alone too, so LIKE gives the same rows without copying
    every text ten times (about half the scan's CPU on a medium case); PostgreSQL's LIKE keeps case: ILIKE."""
    if dialect == "sqlite":
        return or_(*(text.like(p) for p in LINK_PATTERNS))
    return or_(*(text.ilike(p) for p in LINK_PATTERNS))


def _claims(con: Connection) -> dict[CodeKey, dict[int, list[_Claim]]]:
    chat_group = chat_groups(con)
    platform = {r.id: r.platform for r in con.execute(select(S.chats.c.id, S.chats.c.platform))}
    claims: dict[CodeKey, dict[int, list[_Claim]]] = defaultdict(lambda: defaultdict(list))
    snaps = snapshot_times(con)
    gs = S.group_sightings
    for r in con.execute(select(gs.c.id, gs.c.chat_id, gs.c.invite_code, gs.c.source_id)
                         .where(gs.c.invite_code.is_not(None)).order_by(gs.c.id)):
        gid = chat_group.get(r.chat_id)
        if gid is None or not r.invite_code:
            continue
        claims[(platform[r.chat_id], r.invite_code)][gid].append(_Claim(
            "device", snaps.get(r.source_id), {"group_sightings": r.id, "source_id": r.source_id}))
    ev = S.group_events
    for e in con.execute(select(ev.c.id, ev.c.chat_id, ev.c.value, ev.c.at, ev.c.source_id)
                         .where(ev.c.kind == "joined_link").where(ev.c.value.is_not(None)).order_by(ev.c.id)):
        gid = chat_group.get(e.chat_id)
        if gid is None or not looks_like_code(platform[e.chat_id], e.value):
            continue
        claims[(platform[e.chat_id], e.value)][gid].append(_Claim(
            "joined_link", utc(e.at), {"group_events": e.id, "source_id": e.source_id}))
    admins = _Admins(con, chat_group)
    person = person_of_account(con)
    m = S.messages
    q = (select(m.c.id, m.c.chat_id, m.c.sender_id, m.c.at, m.c.text, m.c.source_id)
         .where(m.c.chat_id.in_(list(chat_group)) if chat_group else m.c.id.is_(None))
         .where(m.c.sender_id.is_not(None))
         .where(has_link(m.c.text, con.dialect.name)).order_by(m.c.at, m.c.id))
    for mr in con.execute(q):
        gid = chat_group[mr.chat_id]
        pid = person.get(mr.sender_id)
        at = utc(mr.at)
        if pid is None or at is None or not mr.text:
            continue
        why = admins.why(gid, pid, at)
        if why is None:
            continue  # an ordinary member's link may open any group: no tie
        for plat, code, _url in _links_in(mr.text):
            claims[(plat, code)][gid].append(_Claim(
                "admin_post", at, {"messages": mr.id, "source_id": mr.source_id, "sender_person": pid,
                                   "sender_role": why}))
    return claims


def _describe(gid: int, cl: list[_Claim]) -> list[dict[str, Any]]:
    return [{"group_id": gid, "kind": c.kind, "basis": BASIS[c.kind], "at": iso(c.at), **c.detail}
            for c in sorted(cl, key=lambda c: (-STRENGTH[c.kind], c.at is None, c.at or datetime.min))]


def tie_invite_codes(con: Connection) -> dict[CodeKey, CodeTie]:
    """Every invite code the devices tie to an analysed group, with the group (or None on a tie between
    groups), the strongest basis, the evidence rows, and the groups it lost to or tied with."""
    out: dict[CodeKey, CodeTie] = {}
    for key, by_group in _claims(con).items():
        strength = {gid: max(STRENGTH[c.kind] for c in cl) for gid, cl in by_group.items()}
        top = max(strength.values())
        winners = sorted(g for g, s in strength.items() if s == top)
        if len(winners) > 1:
            evidence = [e for g in winners for e in _describe(g, by_group[g])]
            conflicts = [{"group_id": g, "strength": strength[g], "basis": _best(by_group[g])} for g in
                         sorted(by_group, key=lambda g: (-strength[g], g))]
            out[key] = CodeTie(None, "conflict", evidence, conflicts)
            continue
        gid = winners[0]
        cl = by_group[gid]
        times = [c.at for c in cl if c.at is not None]
        conflicts = [{"group_id": g, "strength": strength[g], "basis": _best(by_group[g]),
                      "evidence": _describe(g, by_group[g])} for g in sorted(by_group) if g != gid]
        out[key] = CodeTie(gid, _best(cl), _describe(gid, cl), conflicts, min(times) if times else None)
    return out


def _best(cl: list[_Claim]) -> str:
    return max(cl, key=lambda c: STRENGTH[c.kind]).kind


def group_resets(con: Connection, chat_group: dict[int, int] | None = None) -> dict[int, list[datetime]]:
    """Per group: when its invite link was reset (the code current before stopped working)."""
    chat_group = chat_groups(con) if chat_group is None else chat_group
    out: dict[int, list[datetime]] = defaultdict(list)
    ev = S.group_events
    for r in con.execute(select(ev.c.chat_id, ev.c.at).where(ev.c.kind == "invite_link_reset")):
        gid = chat_group.get(r.chat_id)
        at = utc(r.at)
        if gid is not None and at is not None:
            out[gid].append(at)
    for v in out.values():
        v.sort()
    return dict(out)


def code_current_at(ties: dict[CodeKey, CodeTie], group_id: int, at: datetime | None,
                    resets: Sequence[datetime] = ()) -> str | None:
    """The code current when someone joined ``group_id`` at ``at`` through an invite link: the latest code
    tied to the group whose first evidence is not after the join. None when no such code, or when a reset
    of the group's link came between that evidence and the join (the code had stopped working)."""
    at = utc(at)
    if at is None:
        return None
    best: tuple[datetime, str] | None = None
    for (_plat, code), tie in ties.items():
        if tie.group_id != group_id or tie.first_at is None or tie.first_at > at + TOL:
            continue
        if best is None or (tie.first_at, code) > best:
            best = (tie.first_at, code)
    if best is None:
        return None
    if any(best[0] < r <= at for r in resets):
        return None
    return best[1]


__all__ = ["CodeTie", "code_current_at", "group_resets", "looks_like_code", "tie_invite_codes"]
