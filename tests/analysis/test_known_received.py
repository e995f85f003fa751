"""``known_received`` (known items others posted in a group while the person was a member) counted by bisection
over each group's posts sorted once, against the plain test of every post against every membership interval."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

import ringtrace
from ringtrace.analysis.common import utc
from ringtrace.analysis.roles import all_conduct, known_media
from ringtrace.case import Case
from ringtrace.demo import ingest_operation
from ringtrace.store import schema as S


def _plain(case: Case) -> dict[int, int]:
    """Every post of a known item tested against every interval of every member: the rule, written plainly."""
    with case.engine.connect() as con:
        known = known_media(con)
        chats: dict[int, list[int]] = {}
        for g, c in con.execute(select(S.group_chats.c.group_id, S.group_chats.c.chat_id)):
            chats.setdefault(g, []).append(c)
        acc = {a: p for p, a in con.execute(select(S.person_accounts.c.person_id, S.person_accounts.c.account_id))}
        ivs: dict[tuple[int, int], list[Any]] = {}
        for r in con.execute(select(S.memberships)):
            ivs.setdefault((r.person_id, r.group_id), []).append((utc(r.from_at), utc(r.to_at)))
        m, mm = S.messages, S.message_media
        posts: list[tuple[int, datetime | None, str, int | None]] = [
            (g, utc(r.at), r.sha256, acc.get(r.sender_id))
            for g, cs in chats.items()
            for r in con.execute(select(m.c.at, mm.c.sha256, m.c.sender_id).join(mm, mm.c.message_id == m.c.id)
                                 .where(m.c.chat_id.in_(cs)))
            if r.sha256 in known]
    out: dict[int, int] = {}
    for (pid, gid), spans in ivs.items():
        got = {sha for g, at, sha, sender in posts if g == gid and sender != pid and at is not None
               and any((f is None or f <= at) and (t is None or at <= t) for f, t in spans)}
        out[pid] = out.get(pid, 0) + len(got)
    return out


def test_known_received_is_the_plain_rule(tiny_operation: Path, tmp_path: Path) -> None:
    case = Case.init(tmp_path / "case", name="kr", actor="tester")
    ingest_operation(case, tiny_operation)
    ringtrace.run(case)
    want = _plain(case)
    with case.engine.connect() as con:
        got = {pid: c["known_received"] for pid, c in all_conduct(con).items() if pid in want}
    assert sum(want.values()) > 0  # the operation has known items posted to groups with members
    assert got == want
    case.close()
