"""The synthetic operation written as two overlapping devices: memberships recovered against its truth."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from ringtrace.analysis.common import utc
from ringtrace.model import AccountKey, ChatRef, GroupEvent, MediaRef, Message, Participant, Prov
from ringtrace.stages.analyze import analyze_stage
from ringtrace.store import schema as S
from ringtrace.store.writer import RecordWriter
from ringtrace.synth.world import SCALES, SEIZURE, build_world
from tests.analysis.helpers import add_source, new_case

P = Prov("w.db")


def test_world_memberships_match_truth(tmp_path: Path) -> None:
    w = build_world(3, replace(SCALES["tiny"], messages=600))
    case = new_case(tmp_path)
    key = {pid: AccountKey("whatsapp", "phone", p.v.phone) for pid, p in w.persons.items()}
    mid = datetime(2025, 5, 1, tzinfo=UTC)
    for name, since in (("A", None), ("B", mid)):
        sid = add_source(case, name)
        with case.begin() as con:
            wr = RecordWriter(con, sid, "parse")
            for g in w.groups.values():
                ref = ChatRef(g.platform, "group", g.key)
                for e in g.events:
                    if since is None or e.at >= since:
                        wr.add(GroupEvent(ref, e.kind, e.at, key.get(e.actor or ""), key.get(e.target or ""),
                                          None, P, value=e.value, msg_key=e.key), "x")
                for m in g.messages:
                    if since is None or m.at >= since:
                        media = (MediaRef(sha256=hashlib.sha256(m.media.encode()).hexdigest()),) if m.media else ()
                        wr.add(Message(ref, m.key, key[m.sender], m.at, m.text, P, media=media), "x")
                for p in g.members_at(SEIZURE):
                    wr.add(Participant(ref, key[p], "member", True, P), "x")
            wr.flush()
    s = analyze_stage(case)
    assert s.groups == len(w.groups)
    assert s.messages == sum(len(g.messages) for g in w.groups.values())
    with case.engine.connect() as con:
        q = (select(S.groups.c.detail, S.groups.c.creator_person_id, S.memberships, S.accounts.c.value)
             .join(S.groups, S.groups.c.id == S.memberships.c.group_id)
             .join(S.person_accounts, S.person_accounts.c.person_id == S.memberships.c.person_id)
             .join(S.accounts, S.accounts.c.id == S.person_accounts.c.account_id))
        got: dict[tuple[str, str], list] = {}
        for r in con.execute(q):
            got.setdefault((r.detail["identifiers"][0], r.value), []).append(
                (utc(r.from_at), utc(r.to_at), r.joined_via, r.invite_code))
    total = exact = 0
    for g in w.groups.values():
        for p, ivs in g.intervals.items():
            exp = [(f, t, "created" if p == g.creator and i == 0 else ("invite_link" if g.via[p][i] else "added"),
                    g.via[p][i]) for i, (f, t) in enumerate(ivs)]
            total += 1
            exact += exp == sorted(got.get((g.key, w.persons[p].v.phone), []), key=lambda x: str(x[0]))
    assert exact == total
