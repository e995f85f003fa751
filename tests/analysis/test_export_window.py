"""Export messages matched to keyed ones through a time window (``groups.export_hits``) find exactly what
comparing every pair finds: copies exactly at the tolerance and just beyond it, on both sides, with minute-precise
exports, a keyed chat coarser than the exports, several exports interleaved in time, and hours between copies
(the window evicts)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from ringtrace.analysis.common import UnionFind
from ringtrace.analysis.exportnames import NameEvidence
from ringtrace.analysis.groups import export_hits, group_chats, sender_map
from ringtrace.analysis.persons import resolve_persons
from ringtrace.analysis.timeline import raw_messages, same_sender, same_time
from ringtrace.case import Case
from ringtrace.stages.analyze import analyze_stage
from tests.analysis.helpers import add_source, gchat, msg, new_case, owner, sha, t, wa, write, xname
from tests.analysis.test_stage import persons_by_account

ANA, PEPE = "+34612345631", "+34612345632"
G = gchat("120363000000000077@g.us")
G2 = gchat("120363000000000078@g.us")  # its database keeps times to two minutes (coarser than an export)
EX1, EX2 = gchat("export:Tertulia"), gchat("export:Tertulia 2")
US = timedelta(microseconds=1)


def _case(tmp: Path) -> Case:
    case = new_case(tmp)
    s1, s2, s3 = add_source(case, "EX-1"), add_source(case, "EX-2"), add_source(case, "EX-3")
    a, p = wa(ANA), wa(PEPE)
    pepe, ana = xname("Tio Pepe"), xname("Ana")
    keyed: list[Any] = [owner(a)]
    ex1: list[Any] = [owner(wa(ANA))]
    ex2: list[Any] = []
    for hour in range(6):  # hours apart: the window moves on and evicts
        base = t(60 * hour + 10)  # a whole minute: the export prints it as is
        for i, (dt, text) in enumerate([
                (timedelta(seconds=62), "at the tolerance after"),
                (timedelta(seconds=62) + US, "just beyond after"),
                (-timedelta(seconds=62), "at the tolerance before"),
                (-timedelta(seconds=62) - US, "just beyond before"),
                (timedelta(seconds=30), "ok"), (timedelta(seconds=-30), "ok"), (timedelta(0), "ok")]):
            keyed.append(msg(G, f"K{hour}-{i}", p, base + dt, text))
            ex1.append(msg(EX1, None, pepe, base, text, precision=60))
        # a media copy from the coarse chat: tolerance 122 s, so an export minute 122 s before still matches
        keyed.append(msg(G2, f"L{hour}-a", p, base + timedelta(seconds=122), media=sha(f"f{hour}"), precision=120))
        keyed.append(msg(G2, f"L{hour}-b", p, base + timedelta(seconds=122) + US, media=sha(f"g{hour}"),
                         precision=120))
        ex1.append(msg(EX1, None, pepe, base, media=sha(f"f{hour}"), precision=60))
        ex1.append(msg(EX1, None, pepe, base, media=sha(f"g{hour}"), precision=60))
        # a second export, interleaved in time with the first, other sender, same texts
        keyed.append(msg(G, f"M{hour}", a, base + timedelta(seconds=61), "ok"))
        ex2.append(msg(EX2, None, ana, base + timedelta(minutes=1), "ok", precision=60))
        ex2.append(msg(EX2, None, ana, base - timedelta(minutes=1), "at the tolerance after", precision=60))  # 122 s
    keyed.append(msg(G, "Z", p, t(60 * 8), "long after every export"))
    write(case, s1, keyed)
    write(case, s2, ex1)
    write(case, s3, ex2)
    return case


def _tallies(names: NameEvidence) -> tuple[Any, Any]:
    names.settle()
    return ({k: {p: (v.count, sorted(v.export_msgs), sorted(v.other_msgs), sorted(v.sources))
                 for p, v in by.items()} for k, by in names.tallies.items()}, dict(names.ambiguous))


def _every_pair(con: Any, chats: Any, exports: Any, uf: UnionFind[int], senders: Any, names: NameEvidence,
                ) -> dict[int, dict[int, set[int]]]:
    """The unwindowed result: every export message compared with every keyed message of the platform."""
    keyed = [c.id for c in chats.values() if not c.is_export and c.platform in {c.platform for c in exports}]
    ems = [e for e in raw_messages(con, [c.id for c in exports], senders, whole=True) if e.content() is not None]
    hits: dict[int, dict[int, set[int]]] = {}
    for m in raw_messages(con, keyed, senders, whole=True):
        for e in ems:
            if e.content() == m.content() and same_time(e, m) and same_sender(e, m):
                root = uf.find(m.chat_id)
                hits.setdefault(e.chat_id, {}).setdefault(root, set()).add(e.id)
                if e.wildcard and not m.wildcard and m.source_id != e.source_id:
                    names.add_match(e, m.person, m.id, m.source_id, root)
    return hits


def test_windowed_matching_finds_what_every_pair_finds(tmp_path: Path) -> None:
    case = _case(tmp_path)
    with case.begin() as con:
        senders = sender_map(con, resolve_persons(con))
        chats = group_chats(con)
        exports = [c for c in chats.values() if c.is_export]
        uf: UnionFind[int] = UnionFind(chats)
        windowed, brute = NameEvidence(), NameEvidence()
        hits, total = export_hits(con, chats, exports, uf, senders, windowed)
        expected = _every_pair(con, chats, exports, uf, senders, brute)
    assert hits == {c: {r: len(ids) for r, ids in roots.items()} for c, roots in expected.items()}
    assert _tallies(windowed) == _tallies(brute)
    assert sorted(total.values()) == [12, 54]
    by_chat = {chats[c].key: sum(roots.values()) for c, roots in hits.items()}
    # per hour: both copies at the tolerance, the three "ok"s, the media 122 s away: 6 of the 9 export messages
    # of EX1 (never the ones just beyond); of EX2 the "ok" (not the text 122 s away, tolerance 62 s)
    assert by_chat == {"export:Tertulia": 6 * 6, "export:Tertulia 2": 6}


def test_edges_decide_the_merge_and_the_names(tmp_path: Path) -> None:
    case = _case(tmp_path)
    s = analyze_stage(case)
    assert s.exports_merged == 2 and s.names_resolved == 1
    acc = persons_by_account(case)
    assert acc["whatsapp:export_name:S2:Tio Pepe"] == acc[f"whatsapp:phone:{PEPE}"]
    # every "ok" of the second export's Ana is within a minute of Pepe's too: ambiguous, no one's evidence
    assert acc["whatsapp:export_name:S3:Ana"] not in (acc[f"whatsapp:phone:{PEPE}"], acc[f"whatsapp:phone:{ANA}"])
