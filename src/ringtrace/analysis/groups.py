"""Groups across devices: chats of the same group seen by several phones, exports and migrations, merged.

Chats with the same (platform, key) are already one chats row. What is left to merge:
* a Telegram group migrated to a supergroup (``migrated`` event, value = new id);
* an export's chat (key ``export:<title>``, no group id) into the JID group whose messages it shows: its
  messages are matched to theirs by sender, time within the export's precision, and text or media hash; the
  group with the most matches wins if it has at least 3, or half of the export's messages.
Then each group's names over time, creation, creator and admins are gathered from every device, and
disagreements between devices are kept as conflicts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from ringtrace.analysis.common import UnionFind, iso, utc
from ringtrace.analysis.exportnames import NameEvidence
from ringtrace.analysis.persons import Resolution
from ringtrace.analysis.timeline import US, Msg, SenderMap, contents, raw_messages
from ringtrace.identifiers import ExportName, old_group_jid, telegram_chat_number
from ringtrace.store import schema as S

GROUP_KINDS = ("group", "channel")
SAME_TIME_S = 120  # two devices' timestamps of one event may differ this much
MIN_MATCHES = 3
# A later span of the export matching handed to another process: (fn, its arguments) -> its result, when called.
FarHalf = Callable[..., "Callable[[], tuple[dict[int, dict[int, int]], NameEvidence | None]]"]
# Export messages a case needs before the matching is cut in two spans, one read by another process (``far_half``):
# below it the second process's start-up and the read of its span's senders cost about what the cut saves
# (medium, 192k export messages, the OCR workers busy alongside: no faster; large, 801k: 23.6 -> 18.8 s)
SPLIT_MIN_EXPORT_MESSAGES = 300_000


@dataclass
class ChatInfo:
    id: int
    platform: str
    kind: str
    key: str
    scope: int | None

    @property
    def is_export(self) -> bool:
        return self.key.startswith("export:")


@dataclass
class GroupBuild:
    label: str
    platform: str
    chats: list[int]
    basis: dict[int, str]
    created_at: datetime | None = None
    creator: int | None = None  # person index
    detail: dict[str, Any] = field(default_factory=dict)
    admins: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # person index -> evidence
    codes: list[tuple[datetime | None, str, str]] = field(default_factory=list)  # (at, code, basis)
    resets: list[datetime] = field(default_factory=list)


def sender_map(con: Connection, res: Resolution) -> SenderMap:
    owner: dict[int, int] = {}
    for sid, aid in con.execute(select(S.device_owners.c.source_id, S.device_owners.c.account_id)
                                .order_by(S.device_owners.c.id)):
        if aid in res.person_of:
            owner.setdefault(sid, res.person_of[aid])
    wild = {aid for aid, k in res.account_kind.items()
            if k == ExportName.kind and len(res.persons[res.person_of[aid]].account_ids) == 1}
    return SenderMap(res.person_of, owner, wild)


def snapshot_times(con: Connection) -> dict[int, datetime]:
    """Latest evidence time of each source: when its participant lists were true (not when it was ingested)."""
    out: dict[int, datetime] = {}
    for t in (S.messages, S.group_events):
        for sid, at in con.execute(select(t.c.source_id, func.max(t.c.at)).group_by(t.c.source_id)):
            a = utc(at)
            if a is not None and (sid not in out or a > out[sid]):
                out[sid] = a
    return out


def group_chats(con: Connection) -> dict[int, ChatInfo]:
    """Every group or channel chat, by id."""
    return {r.id: ChatInfo(r.id, r.platform, r.kind, r.key, r.scope_source_id)
            for r in con.execute(select(S.chats).where(S.chats.c.kind.in_(GROUP_KINDS)).order_by(S.chats.c.id))}


def merge_chats(con: Connection, senders: SenderMap, names: NameEvidence | None = None,
                far_half: FarHalf | None = None,
                ) -> tuple[dict[int, ChatInfo], UnionFind[int], dict[int, str], list[dict[str, Any]]]:
    """Chats that are one group, unioned. ``names`` (when given) collects which people the messages sent under
    each export name match on other devices, for ``exportnames``; ``far_half``: see ``export_hits``."""
    chats = group_chats(con)
    uf: UnionFind[int] = UnionFind(chats)
    basis: dict[int, str] = {}
    notes: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str], int] = {}
    for c in chats.values():
        if not c.is_export:
            by_key.setdefault((c.platform, c.key), c.id)
            if c.platform == "telegram":
                by_key.setdefault((c.platform, "tg:" + telegram_chat_number(c.key)), c.id)
    ev = S.group_events
    for eid, chat_id, value in con.execute(select(ev.c.id, ev.c.chat_id, ev.c.value)
                                           .where(ev.c.kind == "migrated").order_by(ev.c.id)):
        src = chats.get(chat_id)
        if src is None or not value:
            continue
        target = (by_key.get((src.platform, str(value)))
                  or by_key.get((src.platform, "tg:" + telegram_chat_number(str(value)))))
        if target is not None and target != chat_id:
            uf.union(target, chat_id)
            basis.setdefault(chat_id, f"migrated to supergroup {value} (group_events {eid})")
    exports = [c for c in chats.values() if c.is_export and c.kind == "group"]
    if exports:
        _merge_exports(con, chats, exports, uf, basis, notes, senders, names, far_half)
    return chats, uf, basis, notes


def _export_spans(con: Connection, exports: list[int], keyed: list[int],
                  ) -> tuple[dict[int, int], datetime | None, datetime | None, int]:
    """Per export chat its message count; the first and last export message time; and the largest precision of
    any export or keyed message (at least 1): one aggregate each, before a message is read."""
    m = S.messages
    total = {c: 0 for c in exports}
    lo = hi = None
    prec = 1
    for chat, n, first, last, p in con.execute(
            select(m.c.chat_id, func.count(), func.min(m.c.at), func.max(m.c.at), func.max(m.c.precision_s))
            .where(m.c.chat_id.in_(exports)).group_by(m.c.chat_id)):
        total[chat] = n
        f, la = utc(first), utc(last)
        lo = f if lo is None or (f is not None and f < lo) else lo
        hi = la if hi is None or (la is not None and la > hi) else hi
        prec = max(prec, int(p or 1))
    if keyed and lo is not None:
        p = con.execute(select(func.max(m.c.precision_s)).where(m.c.chat_id.in_(keyed))).scalar()
        prec = max(prec, int(p or 1))
    return total, lo, hi, prec


def export_hits(con: Connection, chats: dict[int, ChatInfo], exports: list[ChatInfo], uf: UnionFind[int],
                senders: SenderMap, names: NameEvidence | None = None, far_half: FarHalf | None = None,
                ) -> tuple[dict[int, dict[int, int]], dict[int, int]]:
    """How many messages of each export copy a keyed group chat's of the same platform (export chat -> keyed
    root -> export messages matched), and each export's message count; ``names`` is told each match of a name's message.

    Both are read in time order. Export messages are indexed by content, and the index holds only the export
    messages within the largest reach of the keyed message being compared (the largest precision of any copy
    + 2 s): older ones are evicted, later ones read as the keyed stream gets to them. A keyed message is so
    compared only with the export messages of its content within its reach (common texts ("ok") stay linear),
    in time order, with one look-up (every copy it can match is within its reach, so in the index).

    ``far_half``: when given, and the exports hold ``SPLIT_MIN_EXPORT_MESSAGES`` or more, the export messages are
    cut in two at a gap in their times wider than twice the reach, near their median: no keyed message is within
    reach of both sides, so each side's matches are the whole pass's, and each side is read with the keyed
    messages within its own reach. The later side goes to ``far_half`` (another process), this one reads the
    earlier; their counts add up, and the later side's name evidence is settled after the earlier's, as the whole
    pass settles it."""
    platforms = {c.platform for c in exports}
    keyed = [c.id for c in chats.values() if not c.is_export and c.platform in platforms]
    export_ids = [c.id for c in exports]
    total, first, last, top_prec = _export_spans(con, export_ids, keyed)
    if first is None or last is None:
        return {}, total
    # no pair is further apart than this and still a copy: tol = max(both precisions) + 2 <= reach
    reach = top_prec + 2
    pad = timedelta(seconds=reach)
    root_of = {c: uf.find(c) for c in keyed}  # (no union happens before every message is matched)
    cut = None
    if far_half is not None and sum(total.values()) >= SPLIT_MIN_EXPORT_MESSAGES:
        cut = _time_gap(con, export_ids, sum(total.values()), 2 * reach + 1)
    if cut is None:
        return _hits_in_span(con, keyed, export_ids, root_of, senders, names, reach, first - pad, last + pad,
                             None, None), total
    before, after = cut
    middle = before + (after - before) / 2  # (no export message within reach of it: the spans' bound)
    assert far_half is not None
    later = None
    try:
        later = far_half(hits_in_later_span, keyed, export_ids, root_of, senders, names is not None, reach,
                         after - pad, last + pad, middle)
    except Exception:  # noqa: BLE001, S110 - another process that cannot take it costs only time (read below)
        pass
    hits = _hits_in_span(con, keyed, export_ids, root_of, senders, names, reach, first - pad, before + pad, None,
                         middle)
    far: dict[int, dict[int, int]] | None = None
    if later is not None:
        try:
            far, far_names = later()
        except Exception:  # noqa: BLE001 - another process that failed costs only time: its span is read here
            far = None
        else:
            if names is not None and far_names is not None:
                names.absorb(far_names)
    if far is None:  # read here, after the earlier span: the names settle in the same order
        far = _hits_in_span(con, keyed, export_ids, root_of, senders, names, reach, after - pad, last + pad,
                            middle, None)
    for chat, by_root in far.items():
        mine = hits.setdefault(chat, {})
        for root, n in by_root.items():
            mine[root] = mine.get(root, 0) + n
    return hits, total


def _time_gap(con: Connection, export_ids: list[int], count: int, gap_s: int,
              ) -> tuple[datetime, datetime] | None:
    """(the last export message time before, the first after) a gap of more than ``gap_s`` seconds between two
    export messages, the first such gap from their median time on (then back from it); None without one."""
    m = S.messages
    timed = select(m.c.at).where(m.c.chat_id.in_(export_ids), m.c.at.is_not(None))
    median = con.execute(timed.order_by(m.c.at).offset(count // 2).limit(1)).scalar()
    if median is None:
        return None
    gap = timedelta(seconds=gap_s)
    for q, later in ((timed.where(m.c.at >= median).order_by(m.c.at), True),
                     (timed.where(m.c.at <= median).order_by(m.c.at.desc()), False)):
        prev = None
        for (stored,) in con.execute(q.limit(_GAP_SCAN)):
            at = utc(stored)
            if at is None:
                continue
            if prev is not None and abs(at - prev) > gap:
                return (prev, at) if later else (at, prev)
            prev = at
    return None


_GAP_SCAN = 50_000  # export message times looked at on each side of the median for a gap


def hits_in_later_span(url: str, keyed: list[int], export_ids: list[int], root_of: dict[int, int],
                       senders: SenderMap, with_names: bool, reach: int, keyed_lo: datetime, keyed_hi: datetime,
                       export_lo: datetime) -> tuple[dict[int, dict[int, int]], NameEvidence | None]:
    """In another process: the later span of ``export_hits``, from the database at ``url``; its name evidence
    settled."""
    from ringtrace.store import db

    names = NameEvidence() if with_names else None
    engine = db.make_engine(url)
    try:
        with engine.connect() as con:
            hits = _hits_in_span(con, keyed, export_ids, root_of, senders, names, reach, keyed_lo, keyed_hi,
                                 export_lo, None)
    finally:
        engine.dispose()
    if names is not None:
        names.settle()
    return hits, names


def _hits_in_span(con: Connection, keyed: list[int], export_ids: list[int], root_of: dict[int, int],
                  senders: SenderMap, names: NameEvidence | None, reach: int, keyed_lo: datetime,
                  keyed_hi: datetime, export_lo: datetime | None, export_hi: datetime | None,
                  ) -> dict[int, dict[int, int]]:
    """``export_hits``' pass over the export messages timed within [export_lo, export_hi] (None: unbounded) and
    the keyed messages within [keyed_lo, keyed_hi]."""
    reach_us = reach * US
    index: dict[tuple[str, str], list[Msg]] = {}  # content -> export messages in the window, in time order
    held: deque[tuple[int, tuple[str, str]]] = deque()  # (time, index key), oldest first
    stream = raw_messages(con, export_ids, senders, lo=export_lo, hi=export_hi, whole=True)
    upcoming = next(stream, None)
    hits: dict[int, dict[int, int]] = {}  # export chat -> keyed root -> export messages matched
    roots_of: dict[int, set[int]] = {}  # export message in the window -> the keyed roots it matched so far
    name_order = names.pending_order if names is not None else None  # (the live queue, not a copy)
    # every keyed message with a content, as a tuple (no Msg: most of these are read only to be compared)
    try:
        for mid, mts, mprec, mperson, mwild, cont, msrc, mchat in contents(con, keyed, senders, keyed_lo,
                                                                           keyed_hi):
            while upcoming is not None and upcoming.ts <= mts + reach_us:  # the export messages it may copy
                k = upcoming.content()
                if k is not None:
                    found = index.get(k)
                    if found is None:
                        index[k] = [upcoming]
                    else:
                        found.append(upcoming)
                    held.append((upcoming.ts, k))
                upcoming = next(stream, None)
            while held and held[0][0] < mts - reach_us:  # too old for this and every later keyed message
                k = held.popleft()[1]
                found = index[k]
                roots_of.pop(found[0].id, None)
                del found[0]  # (each list is in time order: the oldest goes first)
                if not found:
                    del index[k]
            if name_order and names is not None:  # (names.due, inline: it runs for every keyed message)
                before = mts / US - reach - 3600  # POSIX seconds, as datetime.timestamp() gives them
                if name_order[0][0] < before:  # an hour behind: far past any copy's tolerance, still a
                    names.settle(before)  # small window
            found = index.get(cont)
            if found is not None:
                for e in found:
                    ep = e.precision_s
                    # within the coarser copy's precision + 2 s, and same_sender(e, m)
                    if abs(mts - e.ts) <= ((ep if ep > mprec else mprec) + 2) * US and (
                            e.wildcard or mwild or (e.person is not None and e.person == mperson)):
                        root = root_of[mchat]
                        seen = roots_of.get(e.id)
                        if seen is None:
                            seen = roots_of[e.id] = set()
                        if root not in seen:  # each export message counts once per group
                            seen.add(root)
                            by_root = hits.get(e.chat_id)
                            if by_root is None:
                                by_root = hits[e.chat_id] = {}
                            by_root[root] = by_root.get(root, 0) + 1
                        if names is not None and e.wildcard and not mwild and msrc != e.source_id:
                            names.add_match(e, mperson, mid, msrc, root)
    finally:
        stream.close()
    return hits


def _merge_exports(con: Connection, chats: dict[int, ChatInfo], exports: list[ChatInfo], uf: UnionFind[int],
                   basis: dict[int, str], notes: list[dict[str, Any]], senders: SenderMap,
                   names: NameEvidence | None = None, far_half: FarHalf | None = None) -> None:
    """Each export joins the keyed group whose messages its own match best (see the module text)."""
    hits, total = export_hits(con, chats, exports, uf, senders, names, far_half)
    for c in exports:
        cand = hits.get(c.id, {})
        if not cand:
            continue
        ranked = sorted(cand.items(), key=lambda kv: (-kv[1], kv[0]))
        root, n = ranked[0]
        need = min(MIN_MATCHES, max(1, (total[c.id] + 1) // 2))
        if n < need:
            notes.append({"chat": c.id, "kind": "export not merged",
                          "detail": f"best candidate chat {root} matched only {n} of {total[c.id]} messages"})
            continue
        if len(ranked) > 1 and ranked[1][1] == n:
            notes.append({"chat": c.id, "kind": "ambiguous export match",
                          "detail": f"chats {root} and {ranked[1][0]} both match {n} messages; took {root}"})
        uf.union(root, c.id)
        basis[c.id] = (f"export matched to {chats[root].key}: {n} of {total[c.id]} messages agree on sender, "
                       f"time (within precision) and text or media")


def _name_before_first_rename(names: list[dict[str, Any]], events: Any, created_at: datetime | None) -> None:
    """A rename can record the subject it replaced. That old subject was the group's name at creation only when
    the device that recorded the rename also saw the creation (it then saw every rename in between); otherwise it
    is the name just before that rename, since a time no source records."""
    renames = [e for e in events if e.kind == "subject" and e.at is not None]
    if not renames:
        return
    first = min(renames, key=lambda e: (utc(e.at), e.id))
    olds = [e for e in renames if utc(e.at) == utc(first.at) and e.old_value]
    if not olds or any(n["basis"] == "created with this name" for n in names):
        return
    creation_seen = {e.source_id for e in events if e.kind == "created"}
    witnessed = [e for e in olds if e.source_id in creation_seen]
    if witnessed and created_at is not None:
        names.append({"name": witnessed[0].old_value, "at": iso(created_at),
                      "basis": "created with this name (the subject its first rename replaced, on a device that saw "
                               "both)", "evidence": {"group_events": [e.id for e in witnessed]}})
    else:
        names.append({"name": olds[0].old_value, "at": None,
                      "basis": f"the name before the rename at {iso(utc(first.at))}; since when is not recorded",
                      "evidence": {"group_events": [e.id for e in olds]}})


def describe_groups(con: Connection, res: Resolution, chats: dict[int, ChatInfo], uf: UnionFind[int],
                    basis: dict[int, str], snap: dict[int, datetime]) -> list[GroupBuild]:
    comps = [sorted(c) for c in uf.groups().values()]
    built: list[GroupBuild] = []
    for comp in comps:
        keyed = [chats[c] for c in comp if not chats[c].is_export]
        primary = (keyed or [chats[comp[0]]])[0]
        b = {c: basis.get(c, "group id" if not chats[c].is_export else "export chat (no group id)") for c in comp}
        g = GroupBuild("", primary.platform, comp, b)
        _gather(con, res, g, chats, snap)
        built.append(g)
    far = datetime.max.replace(tzinfo=None)

    def order(g: GroupBuild) -> tuple[Any, ...]:
        ids = g.detail.get("identifiers", [""])
        return (g.created_at.replace(tzinfo=None) if g.created_at else far, ids[0])

    built.sort(key=order)
    for i, g in enumerate(built):
        g.label = f"G{i + 1:04d}"
    return built


def _pick(cands: list[tuple[Any, str, dict[str, Any]]], what: str, conflicts: list[dict[str, Any]],
          same: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The first candidate (callers order by reliability) and a conflict for each that disagrees with it."""
    if not cands:
        return None, []
    chosen = cands[0][0]
    support = [{"basis": b, "evidence": e} for v, b, e in cands if same(v, chosen)]
    for v, b, e in cands[1:]:
        if not same(v, chosen):
            conflicts.append({"field": what, "kept": str(chosen), "other": str(v), "basis": b, "evidence": e})
    return chosen, support


def _gather(con: Connection, res: Resolution, g: GroupBuild, chats: dict[int, ChatInfo],
            snap: dict[int, datetime]) -> None:
    conflicts: list[dict[str, Any]] = []
    names: list[dict[str, Any]] = []
    created: list[tuple[Any, str, dict[str, Any]]] = []
    creators: list[tuple[Any, str, dict[str, Any]]] = []
    p_of = res.person_of
    ids = sorted({chats[c].key for c in g.chats}, key=lambda k: (k.startswith("export:"), k))
    for c in g.chats:  # old-style WhatsApp ids: "<creator digits>-<unix time>@g.us"
        old = old_group_jid(chats[c].key)
        if old:
            old_creator, created_s = old
            created.append((datetime.fromtimestamp(created_s, UTC), "old-style group id",
                            {"chat": c, "key": chats[c].key}))
            pi = res.phone_person.get(old_creator)
            creators.append((pi if pi is not None else old_creator, "old-style group id",
                             {"chat": c, "key": chats[c].key}))
    ev = S.group_events
    events = con.execute(select(ev.c.id, ev.c.kind, ev.c.at, ev.c.actor_id, ev.c.target_id, ev.c.value,
                                ev.c.old_value, ev.c.source_id).where(ev.c.chat_id.in_(g.chats))
                         .where(ev.c.kind.in_(("created", "subject", "promoted", "demoted", "invite_link_reset",
                                               "joined_link")))
                         .order_by(ev.c.at, ev.c.id)).all()
    gs = S.group_sightings
    sightings = con.execute(select(gs).where(gs.c.chat_id.in_(g.chats)).order_by(gs.c.id)).all()
    for s in sightings:
        if s.created_at is not None:
            created.append((utc(s.created_at), "device group record", {"group_sightings": [s.id],
                                                                      "source_id": s.source_id}))
        if s.creator_id is not None and s.creator_id in p_of:
            creators.append((p_of[s.creator_id], "device group record", {"group_sightings": [s.id],
                                                                        "source_id": s.source_id}))
        if s.name:
            names.append({"name": s.name, "at": iso(snap.get(s.source_id)), "basis": "name on the device",
                          "evidence": {"group_sightings": [s.id]}})
        if s.invite_code:
            g.codes.append((snap.get(s.source_id), s.invite_code, f"device group record {s.id}"))
    for e in events:
        at = utc(e.at)
        if e.kind == "created":
            if at is not None:
                created.append((at, "created event", {"group_events": [e.id]}))
            if e.actor_id is not None and e.actor_id in p_of:
                creators.append((p_of[e.actor_id], "created event", {"group_events": [e.id]}))
            if e.value:
                names.append({"name": e.value, "at": iso(at), "basis": "created with this name",
                              "evidence": {"group_events": [e.id]}})
        elif e.kind == "subject" and e.value:
            names.append({"name": e.value, "at": iso(at), "basis": "renamed",
                          "evidence": {"group_events": [e.id]}})
        elif e.kind == "promoted" and e.target_id in p_of:
            g.admins.setdefault(p_of[e.target_id], []).append({"basis": "promoted", "at": iso(at),
                                                                "evidence": {"group_events": [e.id]}})
        elif e.kind == "invite_link_reset" and at is not None:
            g.resets.append(at)
        elif e.kind == "joined_link" and e.value:
            g.codes.append((at, e.value, f"joined_link event {e.id}"))
    pt = S.participants
    for r in con.execute(select(pt.c.id, pt.c.account_id, pt.c.role).where(pt.c.chat_id.in_(g.chats))
                         .where(pt.c.role.in_(("admin", "superadmin"))).order_by(pt.c.id)):
        if r.account_id in p_of:
            g.admins.setdefault(p_of[r.account_id], []).append({"basis": f"participant role {r.role}",
                                                                 "evidence": {"participants": [r.id]}})
    # exact id evidence first, then what devices recorded, then events (which a device may have missed)
    rank = {"old-style group id": 0, "device group record": 1, "created event": 2}
    created.sort(key=lambda c: (rank[c[1]], c[0]))
    creators.sort(key=lambda c: rank[c[1]])
    g.created_at, created_support = _pick(
        created, "created_at", conflicts, lambda a, b: abs((a - b).total_seconds()) <= SAME_TIME_S)
    creator, creator_support = _pick(creators, "creator", conflicts, lambda a, b: a == b)
    creator_phone = None
    if isinstance(creator, str):  # the id names a number nobody in the case uses
        creator_phone, creator = creator, None
    g.creator = creator
    if creator is not None:
        g.admins.setdefault(creator, []).append({"basis": "creator", "evidence": creator_support})
    _name_before_first_rename(names, events, g.created_at)
    names = _dedup_names(names)
    g.detail = {
        "identifiers": ids,
        "chats": [{"chat_id": c, "platform": chats[c].platform, "key": chats[c].key, "basis": g.basis[c]}
                  for c in g.chats],
        "names": names,
        "name": names[-1]["name"] if names else None,
        "created": {"at": iso(g.created_at), "support": created_support},
        "creator": {"person": None, "phone_only": creator_phone, "support": creator_support},
        "invite_codes": [{"code": c, "seen_at": iso(a), "basis": b} for a, c, b in g.codes],
        "conflicts": conflicts,
        "evidence": {"group_sightings": [s.id for s in sightings]},
    }


def _dedup_names(names: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Names in time order; the same name seen by several devices is one entry with all its evidence."""
    def k(n: dict[str, Any]) -> str:
        return n["at"] or "9999"

    out: list[dict[str, Any]] = []
    for n in sorted(names, key=k):
        prev = next((o for o in out if o["name"] == n["name"]), None)
        if prev is not None and (prev is out[-1] or n["basis"] == "name on the device"):
            for key, ids in n["evidence"].items():
                prev["evidence"].setdefault(key, []).extend(ids)
            continue
        out.append({**n, "evidence": {k2: list(v) for k2, v in n["evidence"].items()}})
    return out


def code_at(g: GroupBuild, at: datetime | None) -> str | None:
    """The group's invite code current at ``at``: a code seen at time s was valid from the last reset
    before s to the first reset after it."""
    if at is None:
        return None
    for seen, code, _b in g.codes:
        if seen is None:
            continue
        start = max((r for r in g.resets if r <= seen), default=None)
        end = min((r for r in g.resets if r > seen), default=None)
        if (start is None or start <= at) and (end is None or at < end):
            return code
    return None
