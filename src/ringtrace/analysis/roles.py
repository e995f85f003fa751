"""Roles and conduct per person, computed on demand from the analysis tables and the evidence.

``first_sharers`` finds, for every media item, the earliest message in the whole case that carries it (copies
of one message on several phones have the same time; an export prints the minute only, so a copy whose time
falls within an earlier export copy's minute is taken instead: the precise copy wins a tie within precision);
``first_sharers_pdq`` does the same per visual family (PDQ distance <= 31). ``person_conduct`` gathers one
person's groups and times, roles, messages and media sent, known material sent and received, first shares,
forwards and the invite links they joined through (and whether a captured page advertised that link).
``admin_acts`` finds the Telegram acts only an admin may do (``admin_by_conduct`` in a person's conduct, each
with its basis); invite-link ties use them as evidence that the poster of a link was the group's admin.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from ringtrace.analysis.common import CHUNK, iso, utc
from ringtrace.identifiers import ExportName
from ringtrace.store import schema as S

PDQ_DISTANCE = 31
SLACK_S = 2  # as timeline.deduplicated: copies this far apart beyond their precision are one message
FirstShare = tuple[int | None, int | None, datetime]


def _maps(con: Connection) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """account -> person id, chat -> group id, source -> owner's person id."""
    acc = {a: p for p, a in con.execute(select(S.person_accounts.c.person_id, S.person_accounts.c.account_id))}
    chat = {c: g for g, c in con.execute(select(S.group_chats.c.group_id, S.group_chats.c.chat_id))}
    owner: dict[int, int] = {}
    for sid, aid in con.execute(select(S.device_owners.c.source_id, S.device_owners.c.account_id)
                                .order_by(S.device_owners.c.id)):
        if aid in acc:
            owner.setdefault(sid, acc[aid])
    return acc, chat, owner


def first_sharers(con: Connection) -> dict[str, FirstShare]:
    """sha256 -> (person id, group id or None for a direct chat, time) of the earliest message carrying it.

    Rows come per item in time order; the earliest row and every row that may be the same moment within its
    precision are compared, and the most precise of them wins (then the earliest, then a copy with a message key:
    a device database names its sender by account, an export by a name)."""
    acc, chat, owner = _maps(con)
    m, mm = S.messages, S.message_media
    q = (select(mm.c.sha256, m.c.at, m.c.precision_s, m.c.id, m.c.msg_key, m.c.sender_id, m.c.from_owner, m.c.source_id,
                m.c.chat_id)
         .join(m, m.c.id == mm.c.message_id).where(mm.c.sha256.is_not(None))
         .order_by(mm.c.sha256, m.c.at, m.c.id))
    out: dict[str, FirstShare] = {}
    cur: str | None = None
    until: datetime | None = None
    best: tuple[int, datetime, bool, int, Any] | None = None

    def done() -> None:
        if cur is not None and best is not None:
            sender, from_owner, source, chat_id = best[4]
            person = acc.get(sender) if sender is not None else (owner.get(source) if from_owner else None)
            out[cur] = (person, chat.get(chat_id), best[1])

    # Rows are unpacked as tuples (no attribute look-ups): tens of thousands of rows on a medium case.
    add_s = timedelta(seconds=1)
    for sha, at, prec_raw, mid, key, sender, from_owner, source, chat_id in con.execute(
            q.execution_options(stream_results=True, yield_per=CHUNK)):
        at = utc(at)  # every row: a database may hold naive and aware times side by side (the export tests do)
        assert at is not None
        prec = int(prec_raw or 1)
        if sha != cur:
            done()
            cur, best = sha, (prec, at, key is None, mid, (sender, from_owner, source, chat_id))
            until = at + add_s * (prec + SLACK_S)
            continue
        if until is not None and at <= until and best is not None and (prec, at, key is None, mid) < best[:4]:
            best = (prec, at, key is None, mid, (sender, from_owner, source, chat_id))
    done()
    return out


def pdq_neighbours(con: Connection, max_distance: int = PDQ_DISTANCE,
                   block: int = 2048) -> dict[str, list[str]]:
    """sha256 -> the media items within ``max_distance`` of its PDQ (itself included), blockwise in numpy."""
    rows = [(s, p) for s, p in con.execute(select(S.media.c.sha256, S.media.c.pdq).where(S.media.c.pdq.is_not(None)))
            if p and len(p) == 64]
    if not rows:
        return {}
    shas = [s for s, _ in rows]
    arr = np.frombuffer(b"".join(bytes.fromhex(p) for _, p in rows), dtype=np.uint8).reshape(-1, 32)
    words = arr.view(">u8").astype(np.uint64)  # 4 words per hash
    out: dict[str, list[str]] = {}
    for i in range(0, len(shas), block):
        q = words[i:i + block]
        dist = np.zeros((len(q), len(shas)), dtype=np.int32)
        for w in range(4):
            dist += np.bitwise_count(q[:, w:w + 1] ^ words[None, :, w]).astype(np.int32)
        for j, row in enumerate(dist):
            out[shas[i + j]] = [shas[k] for k in np.nonzero(row <= max_distance)[0]]
    return out


def first_sharers_pdq(con: Connection, first: dict[str, FirstShare] | None = None,
                      ) -> dict[str, tuple[int | None, int | None, datetime, str]]:
    """sha256 -> (person id, group id, time, sha256 of the item actually shared) of the earliest message
    carrying any item within PDQ distance 31 of it."""
    first = first if first is not None else first_sharers(con)
    out: dict[str, tuple[int | None, int | None, datetime, str]] = {}
    for sha, near in pdq_neighbours(con).items():
        shared = [(first[n][2], n) for n in near if n in first]
        if not shared:
            continue
        at, via = min(shared)
        p, g, _ = first[via]
        out[sha] = (p, g, at, via)
    return out


def known_media(con: Connection) -> set[str]:
    return {r[0] for r in con.execute(select(S.matches.c.media_sha256).distinct())}


def all_conduct(con: Connection, first: dict[str, FirstShare] | None = None) -> dict[int, dict[str, Any]]:
    """Conduct of every person, keyed by person id (one pass; what priorities and exports use)."""
    return _conduct(con, None, first)


def person_conduct(con: Connection, person_id: int, first: dict[str, FirstShare] | None = None) -> dict[str, Any]:
    """One person's conduct; pass ``first`` (from ``first_sharers``) when calling this for many people."""
    return _conduct(con, person_id, first).get(person_id, {})


def _conduct(con: Connection, only: int | None, first: dict[str, FirstShare] | None) -> dict[int, dict[str, Any]]:
    pq = select(S.persons)
    if only is not None:
        pq = pq.where(S.persons.c.id == only)
    people = {r.id: r for r in con.execute(pq)}
    if not people:
        return {}
    known = known_media(con)
    first = first if first is not None else first_sharers(con)
    groups = {r.id: r for r in con.execute(select(S.groups))}
    out: dict[int, dict[str, Any]] = {}
    for pid, p in people.items():
        out[pid] = {"person": p.label, "country": p.country, "country_basis": p.country_basis,
                    "accounts": [], "names": [], "groups": [], "creator_of": [], "admin_of": [],
                    "messages": 0, "media": 0, "forwards": 0, "known_sent": 0, "known_received": 0,
                    "first_shared": [], "first_shared_known": 0, "invite_joins": [], "admin_by_conduct": []}
    aq = (select(S.person_accounts.c.person_id, S.accounts.c.id, S.accounts.c.platform, S.accounts.c.kind,
                 S.accounts.c.value).join(S.accounts, S.accounts.c.id == S.person_accounts.c.account_id))
    if only is not None:
        aq = aq.where(S.person_accounts.c.person_id == only)
    acc_person: dict[int, int] = {}
    for pid, aid, plat, kind, value in con.execute(aq):
        out[pid]["accounts"].append(f"{plat}:{kind}:{value}")
        acc_person[aid] = pid
    for aid, nm in con.execute(select(S.names_seen.c.account_id, S.names_seen.c.name).distinct()
                               .where(S.names_seen.c.account_id.in_(list(acc_person)))):
        names = out[acc_person[aid]]["names"]
        if nm not in names:
            names.append(nm)
    mq = select(S.memberships).order_by(S.memberships.c.group_id, S.memberships.c.from_at)
    if only is not None:
        mq = mq.where(S.memberships.c.person_id == only)
    per_group: dict[tuple[int, int], list[Any]] = {}
    for r in con.execute(mq):
        per_group.setdefault((r.person_id, r.group_id), []).append(r)
    codes_used: set[str] = set()
    for (gid, pid), acts in admin_acts(con).items():
        if pid in out and gid in groups:
            decisive = [a for a in acts if a.decisive]
            out[pid]["admin_by_conduct"].append({"group": groups[gid].label, "at": iso(acts[0].at),
                                                 "decisive": bool(decisive),
                                                 "basis": [a.basis for a in acts]})
    for (pid, gid), ivs in per_group.items():
        g = groups[gid]
        act = (g.detail or {}).get("activity", {}).get(out[pid]["person"], {})
        o = out[pid]
        o["groups"].append({"group": g.label, "name": (g.detail or {}).get("name"), "activity": act,
                            "intervals": [{"from": iso(utc(iv.from_at)), "to": iso(utc(iv.to_at)),
                                           "joined_via": iv.joined_via, "invite_code": iv.invite_code,
                                           "role": iv.role} for iv in ivs]})
        if g.creator_person_id == pid:
            o["creator_of"].append(g.label)
        elif any(iv.role in ("admin", "creator") for iv in ivs):
            o["admin_of"].append(g.label)
        o["messages"] += act.get("messages", 0)
        o["media"] += act.get("media", 0)
        o["forwards"] += act.get("forwards", 0)
        o["known_sent"] += act.get("known", 0)
        for iv in ivs:
            if iv.joined_via == "invite_link":
                o["invite_joins"].append({"group": g.label, "code": iv.invite_code, "at": iso(utc(iv.from_at)),
                                          "advertised": []})
                if iv.invite_code:
                    codes_used.add(iv.invite_code)
    if codes_used:
        ads: dict[str, list[dict[str, Any]]] = {}
        iq = (select(S.indicators.c.id, S.indicators.c.code, S.indicators.c.page_uri, S.indicators.c.source_id,
                     S.indicators.c.kind).where(S.indicators.c.code.in_(sorted(codes_used))))
        for r in con.execute(iq):
            ads.setdefault(r.code, []).append({"indicator": r.id, "page_uri": r.page_uri, "source_id": r.source_id,
                                               "kind": r.kind})
        for o in out.values():
            for j in o["invite_joins"]:
                j["advertised"] = ads.get(j["code"] or "", [])
    for sha, (sharer, share_gid, at) in first.items():
        if sharer is not None and sharer in out:
            glabel = groups[share_gid].label if share_gid is not None and share_gid in groups else None
            out[sharer]["first_shared"].append({"sha256": sha, "at": iso(at), "known": sha in known,
                                                "group": glabel})
            out[sharer]["first_shared_known"] += sha in known
    _known_received(con, out, per_group, known)
    return out


def _known_received(con: Connection, out: dict[int, dict[str, Any]], per_group: dict[tuple[int, int], list[Any]],
                    known: set[str]) -> None:
    """Known items posted by others in a group while the person was a member (distinct items). A group's posts
    are sorted by time once, so each membership interval takes its posts by bisection, not by testing them all."""
    if not known:
        return
    chats: dict[int, list[int]] = {}
    for g, c in con.execute(select(S.group_chats.c.group_id, S.group_chats.c.chat_id)):
        chats.setdefault(g, []).append(c)
    acc = {a: p for p, a in con.execute(select(S.person_accounts.c.person_id, S.person_accounts.c.account_id))}
    timed: dict[int, list[tuple[datetime, str, int | None]]] = {}  # a group's posts with a time, in time order
    untimed: dict[int, list[tuple[str, int | None]]] = {}  # ... and those without one
    m, mm = S.messages, S.message_media
    gids = sorted({g for _p, g in per_group})
    groups_of: dict[int, list[int]] = {}  # chat -> the groups (of those asked) it is part of
    for gid in gids:
        timed[gid] = []
        for c in chats.get(gid, []):
            groups_of.setdefault(c, []).append(gid)
    # one query for every group, the known items picked by the database from the matches table (what ``known``
    # holds): a query per group with the known hashes as an IN list cost more in compiling those lists than in
    # reading. The row order does not matter: posts are sorted by time (a tie's posts are taken together by the
    # bisection) and only the set of items taken is counted.
    q = (select(m.c.chat_id, m.c.at, mm.c.sha256, m.c.sender_id).join(mm, mm.c.message_id == m.c.id)
         .where(m.c.chat_id.in_(sorted(groups_of)))
         .where(mm.c.sha256.in_(select(S.matches.c.media_sha256).distinct())))
    for cid, at_raw, sha, sender in con.execute(q):
        if sha not in known:  # (cannot happen within one snapshot; kept so the count is by ``known`` alone)
            continue
        at, who = utc(at_raw), acc.get(sender)
        for gid in groups_of[cid]:
            if at is None:
                untimed.setdefault(gid, []).append((sha, who))
            else:
                timed[gid].append((at, sha, who))
    for posts in timed.values():
        posts.sort(key=lambda p: p[0])
    times = {gid: [p[0] for p in posts] for gid, posts in timed.items()}
    for (pid, gid), ivs in per_group.items():
        posts, at_of = timed.get(gid, []), times.get(gid, [])
        got: set[str] = set()
        for iv in ivs:
            f, t = utc(iv.from_at), utc(iv.to_at)
            lo = 0 if f is None else bisect_left(at_of, f)
            hi = len(posts) if t is None else bisect_right(at_of, t)
            got.update(sha for _at, sha, sender in posts[lo:hi] if sender != pid)
            if f is None and t is None:  # a membership without bounds holds the posts without a time too
                got.update(sha for sha, sender in untimed.get(gid, []) if sender != pid)
        out[pid]["known_received"] += len(got)


# ---- admins from conduct ------------------------------------------------------------------------------------
# Telegram's rights model (core.telegram.org/api/rights): removing (banning) a member is an admin right only
# (``ban_users``, never in a group's default member permissions), and a link join's ``inviter`` is the user who
# created that invite link, an admin act (``exportChatInvite`` needs admin rights). Changing the title or photo
# and pinning are admin rights too, but a group's default permissions (``ChatBannedRights``: change_info,
# pin_messages) may grant them to every member, and the export does not record those permissions: such acts are
# listed as conduct with their basis but are not ``decisive``, so they alone tie no invite link to a group.
# Telegram Desktop's export keeps the service action as the event's raw code, so acts are read from group_events.
CONDUCT_ACTS: dict[str, tuple[str, bool]] = {
    "remove_members": ("removed a member", True),
    "edit_group_title": ("changed the group's title (an admin right unless members may change info)", False),
    "edit_group_photo": ("changed the group's photo (an admin right unless members may change info)", False),
    "delete_group_photo": ("removed the group's photo (an admin right unless members may change info)", False),
    "pin_message": ("pinned a message (an admin right unless members may pin)", False),
}
LINK_OWNER = "created the invite link someone joined through (the join's inviter)"
ADMIN_ACT_PLATFORMS = ("telegram",)
NAME_KINDS = ("telegram_name", "contact_name", "profile")  # names by which an export names a Telegram account


@dataclass(frozen=True)
class AdminAct:
    """One act only an admin can do: who (person), in which group, when, what, and the event row."""

    group_id: int
    person_id: int
    at: datetime
    act: str
    event_id: int
    source_id: int
    decisive: bool = True  # proves the admin role on its own (see CONDUCT_ACTS)

    @property
    def basis(self) -> str:
        return f"conduct: {self.act} (group_events {self.event_id})"


def admin_acts(con: Connection) -> dict[tuple[int, int], list[AdminAct]]:
    """(group id, person id) -> the acts, in time order, that only an admin of that group may do."""
    acc, chat, _owner = _maps(con)
    platform: dict[int, str | None] = {r.id: r.platform for r in con.execute(select(S.chats.c.id,
                                                                                   S.chats.c.platform))}
    ev = S.group_events
    out: dict[tuple[int, int], list[AdminAct]] = {}

    def add(gid: int, pid: int, at: datetime, act: str, eid: int, sid: int, decisive: bool) -> None:
        out.setdefault((gid, pid), []).append(AdminAct(gid, pid, at, act, eid, sid, decisive))

    q = (select(ev.c.id, ev.c.chat_id, ev.c.kind, ev.c.at, ev.c.actor_id, ev.c.target_id, ev.c.raw_code,
                ev.c.source_id).where(ev.c.raw_code.in_(sorted(CONDUCT_ACTS))).where(ev.c.actor_id.is_not(None))
         .order_by(ev.c.id))
    for r in con.execute(q):
        gid, pid, at = chat.get(r.chat_id), acc.get(r.actor_id), utc(r.at)
        if gid is None or pid is None or at is None or platform.get(r.chat_id) not in ADMIN_ACT_PLATFORMS:
            continue
        if r.raw_code == "remove_members" and (r.kind != "removed" or r.target_id == r.actor_id):
            continue  # "X removed X" is X leaving: anyone may
        act, decisive = CONDUCT_ACTS[r.raw_code]
        add(gid, pid, at, act, r.id, r.source_id, decisive)
    for gid, pid, at, eid, sid in _link_owners(con, acc, chat, platform):
        add(gid, pid, at, LINK_OWNER, eid, sid, True)
    for v in out.values():
        v.sort(key=lambda a: (a.at, a.event_id))
    return out


def _link_owners(con: Connection, acc: dict[int, int], chat: dict[int, int], platform: dict[int, str | None],
                 ) -> list[tuple[int, int, datetime, int, int]]:
    """(group, person, time, event id, source) for each link join whose inviter names exactly one person.

    The export prints the inviter by name only (kept as a ``link_inviter`` name seen with the join's own
    provenance). The name decides only when the same export names exactly one person by it, or when the
    inviter's name account is already tied to a person; two people of that name (namesakes) decide nothing."""
    ev, ns = S.group_events, S.names_seen
    joins = {(r.source_id, r.prov_file, r.prov_table, r.prov_row): r for r in con.execute(
        select(ev.c.id, ev.c.chat_id, ev.c.at, ev.c.source_id, ev.c.prov_file, ev.c.prov_table, ev.c.prov_row)
        .where(ev.c.kind == "joined_link"))}
    inviters: list[tuple[Any, Any]] = []
    for r in con.execute(select(ns.c.account_id, ns.c.name, ns.c.source_id, ns.c.prov_file, ns.c.prov_table,
                                ns.c.prov_row).where(ns.c.kind == "link_inviter")):
        j = joins.get((r.source_id, r.prov_file, r.prov_table, r.prov_row))
        if j is not None:
            inviters.append((r, j))
    if not inviters:
        return []
    by_name: dict[tuple[int, str], set[int]] = {}
    for n in con.execute(select(ns.c.account_id, ns.c.name, ns.c.source_id).join(
            S.accounts, S.accounts.c.id == ns.c.account_id).where(ns.c.kind.in_(NAME_KINDS))
            .where(S.accounts.c.platform == "telegram")):
        if n.account_id in acc:
            by_name.setdefault((n.source_id, n.name), set()).add(acc[n.account_id])
    # a name account of its own is a person of its own until tied: it decides only once tied to an account
    tied = {acc[r.id] for r in con.execute(select(S.accounts.c.id).where(S.accounts.c.kind != ExportName.kind))
            if r.id in acc}
    out: list[tuple[int, int, datetime, int, int]] = []
    for r, j in inviters:
        gid, at = chat.get(j.chat_id), utc(j.at)
        if gid is None or at is None or platform.get(j.chat_id) not in ADMIN_ACT_PLATFORMS:
            continue
        pid = acc.get(r.account_id)
        if pid not in tied:
            named = by_name.get((r.source_id, r.name), set())
            pid = next(iter(named)) if len(named) == 1 else None
        if pid is not None:
            out.append((gid, pid, at, j.id, j.source_id))
    return out
