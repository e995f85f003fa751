"""``first_sharers`` (one streamed pass, times compared as the database returns them) against its rule written
plainly: per item, the earliest copy and the copies within its precision + 2 s; the most precise of them wins,
then the earliest, then a copy with a message key, then the lowest id."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

import ringtrace
from ringtrace.analysis.common import utc
from ringtrace.analysis.roles import SLACK_S, FirstShare, _maps, first_sharers
from ringtrace.case import Case
from ringtrace.demo import ingest_operation
from ringtrace.store import schema as S


def _plain(case: Case) -> dict[str, FirstShare]:
    with case.engine.connect() as con:
        acc, chat, owner = _maps(con)  # who is whom: the rule under test is what follows
        m, mm = S.messages, S.message_media
        per: dict[str, list[Any]] = {}
        for r in con.execute(select(mm.c.sha256, m).join(m, m.c.id == mm.c.message_id)
                             .where(mm.c.sha256.is_not(None))):
            per.setdefault(r.sha256, []).append(r)
    out: dict[str, FirstShare] = {}
    for sha, rows in per.items():
        rows.sort(key=lambda r: (utc(r.at), r.id))
        first = rows[0]
        until = utc(first.at) + timedelta(seconds=int(first.precision_s or 1) + SLACK_S)  # type: ignore[operator]
        best = min((r for r in rows if utc(r.at) <= until),  # type: ignore[operator]
                   key=lambda r: (int(r.precision_s or 1), utc(r.at), r.msg_key is None, r.id))
        person = acc.get(best.sender_id) if best.sender_id is not None else (
            owner.get(best.source_id) if best.from_owner else None)
        out[sha] = (person, chat.get(best.chat_id), utc(best.at))  # type: ignore[assignment]
    return out


def test_first_sharers_is_the_plain_rule(tiny_operation: Path, tmp_path: Path) -> None:
    case = Case.init(tmp_path / "case", name="fs", actor="tester")
    ingest_operation(case, tiny_operation)
    ringtrace.run(case)
    want = _plain(case)
    with case.engine.connect() as con:
        got = first_sharers(con)
    assert len(want) >= 5 and any(g is not None for _p, g, _at in want.values())
    assert all(at.tzinfo is not None for _p, _g, at in got.values())  # UTC datetimes, as before
    assert got == want
    case.close()
