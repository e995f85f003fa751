"""Export sender names resolved to accounts through matched messages (never through the name itself)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ringtrace.analysis.roles import first_sharers
from ringtrace.analysis.timeline import Msg, deduplicated
from ringtrace.case import Case
from ringtrace.stages.analyze import AnalysisSummary, analyze_stage
from ringtrace.store import schema as S
from tests.analysis.helpers import (
    add_source,
    ev,
    gchat,
    msg,
    new_case,
    owner,
    sha,
    t,
    wa,
    write,
    xname,
)
from tests.analysis.test_stage import persons_by_account

ANA, PEPE, QUIM = "+34612345621", "+34612345622", "+34612345623"
G = gchat("120363000000000042@g.us")
EX = gchat("export:Tertulia")


def minute(x: float) -> datetime:
    """What an Android export prints for a message sent at t(x): the minute, seconds cut."""
    return t(x).replace(second=0, microsecond=0)


def exported(sender: Any, x: float, text: str | None = None, media: str | None = None) -> Any:
    return msg(EX, None, sender, minute(x), text, media=media, precision=60)


def base_case(tmp: Path) -> tuple[Case, int, int]:
    """A phone database (EX-1) holding Ana's, Pepe's and Quim's messages, and an export (EX-2) of the group."""
    case = new_case(tmp)
    s1, s2 = add_source(case, "EX-1"), add_source(case, "EX-2")
    a, p, q = wa(ANA), wa(PEPE), wa(QUIM)
    write(case, s1, [owner(a),
                     msg(G, "K1", a, t(0.2), "buenos dias"), msg(G, "K2", p, t(1.5), "hola a todos"),
                     msg(G, "K3", p, t(2.7), None, media=sha("foto")), msg(G, "K4", p, t(4.1), "me voy"),
                     msg(G, "K5", q, t(6.3), "vale"), msg(G, "K6", q, t(7.4), "hasta luego"),
                     msg(G, "K7", a, t(8.2), "nos vemos")])
    return case, s1, s2


def notes_about(s: AnalysisSummary, name: str) -> list[str]:
    return [n["detail"] for n in s.notes if n.get("kind") == "export name not resolved" and name in n["detail"]]


def test_name_resolved_through_three_matched_messages(tmp_path: Path) -> None:
    case, _s1, s2 = base_case(tmp_path)
    pepe = xname("Tio Pepe")
    write(case, s2, [owner(wa(ANA)),
                     ev(EX, "added", minute(-30), wa(ANA), pepe),  # seen only in the export, by name
                     exported(wa(ANA), 0.2, "buenos dias"),
                     exported(pepe, 1.5, "hola a todos"), exported(pepe, 2.7, media=sha("foto")),
                     exported(pepe, 4.1, "me voy"),
                     ev(EX, "promoted", minute(5), wa(ANA), pepe),
                     ev(EX, "added", minute(5.4), wa(ANA), wa(QUIM))])  # also on the phone, to the second
    write(case, _s1, [ev(G, "added", t(5.4), wa(ANA), wa(QUIM))])
    s = analyze_stage(case)
    assert s.exports_merged == 1 and s.names_resolved == 1
    acc = persons_by_account(case)
    assert acc["whatsapp:export_name:S2:Tio Pepe"] == acc[f"whatsapp:phone:{PEPE}"]
    assert acc[f"whatsapp:phone:{PEPE}"] not in (acc[f"whatsapp:phone:{ANA}"], acc[f"whatsapp:phone:{QUIM}"])
    label = acc[f"whatsapp:phone:{PEPE}"]
    with case.engine.connect() as con:
        basis = con.execute(select(S.person_accounts.c.basis).join(
            S.accounts, S.accounts.c.id == S.person_accounts.c.account_id)
            .where(S.accounts.c.value == "S2:Tio Pepe")).scalar()
        expl = con.execute(select(S.persons.c.explanation).where(S.persons.c.label == label)).scalar()
        detail = con.execute(select(S.groups.c.detail)).scalar()
        ms = con.execute(select(S.memberships.c.from_at, S.memberships.c.joined_via, S.memberships.c.role)
                         .join(S.persons, S.persons.c.id == S.memberships.c.person_id)
                         .where(S.persons.c.label == label)).all()
        first = first_sharers(con)
        pid = con.execute(select(S.persons.c.id).where(S.persons.c.label == label)).scalar()
    assert basis.startswith(f"export sender 'Tio Pepe' in EX-2 matched 3 messages of whatsapp:phone:{PEPE} on EX-1")
    assert any(e["basis"] == basis and e["evidence"]["export_messages"] for e in expl)
    # one person only: the name no longer stands alone
    assert "whatsapp:export_name:S2:Tio Pepe" not in [k for k, v in acc.items() if v != label]
    # folding: each export copy is one message with its database copy, at the database's second
    assert detail["messages"] == {"count": 7, "duplicates_folded": 4, "first": t(0.2).isoformat(),
                                  "last": t(8.2).isoformat()}
    assert detail["activity"][label]["messages"] == 3
    assert detail["activity"][label]["first"] == t(1.5).isoformat()
    # the join and the promotion seen only in the export now belong to Pepe
    assert len(ms) == 1 and ms[0].joined_via == "added" and ms[0].role == "admin"
    assert ms[0].from_at.replace(tzinfo=UTC) == minute(-30)
    assert label in [a["person"] for a in detail["admins"]]
    with case.engine.connect() as con:  # one join for Quim, at the phone's second rather than the minute
        quim = con.execute(select(S.memberships.c.from_at, S.memberships.c.evidence)
                           .join(S.persons, S.persons.c.id == S.memberships.c.person_id)
                           .where(S.persons.c.label == acc[f"whatsapp:phone:{QUIM}"])).all()
    assert len(quim) == 1 and quim[0].from_at.replace(tzinfo=UTC) == t(5.4)
    assert len(quim[0].evidence["events"]) == 2
    # first sharer: Pepe, at the precise time, not the export's earlier minute
    assert first[sha("foto")][0] == pid and first[sha("foto")][2] == t(2.7)


def test_name_with_one_match_stays_alone(tmp_path: Path) -> None:
    case, _s1, s2 = base_case(tmp_path)
    pepe = xname("Tio Pepe")
    write(case, s2, [exported(wa(ANA), 0.2, "buenos dias"), exported(pepe, 1.5, "hola a todos"),
                     exported(wa(ANA), 8.2, "nos vemos"), exported(pepe, 9.5, "solo aqui"),
                     ev(EX, "added", minute(-30), wa(ANA), pepe)])
    s = analyze_stage(case)
    assert s.exports_merged == 1 and s.names_resolved == 0
    acc = persons_by_account(case)
    assert acc["whatsapp:export_name:S2:Tio Pepe"] != acc[f"whatsapp:phone:{PEPE}"]
    assert notes_about(s, "Tio Pepe") and "only 1 message" in notes_about(s, "Tio Pepe")[0]
    with case.engine.connect() as con:  # the export-only join stays with the name
        vias = {r.label: r.joined_via for r in con.execute(
            select(S.persons.c.label, S.memberships.c.joined_via)
            .join(S.persons, S.persons.c.id == S.memberships.c.person_id))}
    assert vias[acc["whatsapp:export_name:S2:Tio Pepe"]] == "added"
    assert vias[acc[f"whatsapp:phone:{PEPE}"]] == "unknown"


def test_two_names_for_one_account_neither_resolved(tmp_path: Path) -> None:
    case, _s1, s2 = base_case(tmp_path)
    one, two = xname("Tio Pepe"), xname("Pepe trabajo")
    write(case, s2, [exported(wa(ANA), 0.2, "buenos dias"), exported(one, 1.5, "hola a todos"),
                     exported(one, 2.7, media=sha("foto")), exported(two, 4.1, "me voy"),
                     exported(two, 1.5, "hola a todos")])
    s = analyze_stage(case)
    assert s.exports_merged == 1 and s.names_resolved == 0
    acc = persons_by_account(case)
    pepe = acc[f"whatsapp:phone:{PEPE}"]
    assert acc["whatsapp:export_name:S2:Tio Pepe"] != pepe and acc["whatsapp:export_name:S2:Pepe trabajo"] != pepe
    for n in ("Tio Pepe", "Pepe trabajo"):
        got = notes_about(s, n)
        assert got and "all match" in got[0] and "'Tio Pepe'" in got[0] and "'Pepe trabajo'" in got[0]


def test_name_matching_two_accounts_not_resolved(tmp_path: Path) -> None:
    case, _s1, s2 = base_case(tmp_path)
    pepe = xname("Tio Pepe")
    write(case, s2, [exported(wa(ANA), 0.2, "buenos dias"), exported(pepe, 1.5, "hola a todos"),
                     exported(pepe, 4.1, "me voy"), exported(pepe, 6.3, "vale"), exported(pepe, 7.4, "hasta luego")])
    s = analyze_stage(case)
    assert s.exports_merged == 1 and s.names_resolved == 0
    acc = persons_by_account(case)
    assert acc["whatsapp:export_name:S2:Tio Pepe"] not in (acc[f"whatsapp:phone:{PEPE}"],
                                                          acc[f"whatsapp:phone:{QUIM}"])
    got = notes_about(s, "Tio Pepe")
    assert got and "several people" in got[0] and PEPE in got[0] and QUIM in got[0]


def test_message_matching_two_people_at_once_counts_for_no_one(tmp_path: Path) -> None:
    case = new_case(tmp_path)
    s1, s2 = add_source(case, "EX-1"), add_source(case, "EX-2")
    a, p, q = wa(ANA), wa(PEPE), wa(QUIM)
    # Pepe and Quim both say "ok" within the same minute: the export's "ok" cannot tell whose it is
    write(case, s1, [msg(G, "K1", a, t(0.2), "uno"), msg(G, "K2", p, t(1.1), "ok"), msg(G, "K3", q, t(1.6), "ok"),
                     msg(G, "K4", p, t(3.3), "dos"), msg(G, "K5", a, t(4.2), "tres")])
    write(case, s2, [exported(a, 0.2, "uno"), exported(xname("Tio Pepe"), 1.1, "ok"),
                     exported(xname("Tio Pepe"), 3.3, "dos"), exported(a, 4.2, "tres")])
    s = analyze_stage(case)
    assert s.names_resolved == 0
    assert "only 1 message" in notes_about(s, "Tio Pepe")[0]


def test_names_resolved_only_inside_the_group_the_export_joined(tmp_path: Path) -> None:
    """Matches against a group the export was not merged into are no evidence."""
    case, s1, s2 = base_case(tmp_path)
    other = gchat("120363000000000043@g.us")
    write(case, s1, [msg(other, "O1", wa(QUIM), t(20.5), "x1"), msg(other, "O2", wa(QUIM), t(21.5), "x2")])
    pepe = xname("Tio Pepe")
    write(case, s2, [exported(wa(ANA), 0.2, "buenos dias"), exported(wa(ANA), 8.2, "nos vemos"),
                     exported(pepe, 1.5, "hola a todos"), exported(pepe, 4.1, "me voy"),
                     exported(pepe, 20.5, "x1"), exported(pepe, 21.5, "x2")])
    s = analyze_stage(case)
    acc = persons_by_account(case)
    assert s.names_resolved == 1 and acc["whatsapp:export_name:S2:Tio Pepe"] == acc[f"whatsapp:phone:{PEPE}"]


def _m(i: int, at: datetime, prec: int, src: int, key: str | None = None, text: str = "x") -> Msg:
    return Msg(i, at, prec, key, 1, False, text, [], False, src, 1)


def test_fold_keeps_the_precise_time_and_order() -> None:
    t0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    stream = [_m(1, t0, 60, 2, text="a"),  # export copy: minute 12:00
              _m(2, t0 + timedelta(seconds=20), 1, 1, "K2", text="b"),
              _m(3, t0 + timedelta(seconds=50), 1, 1, "K3", text="a")]  # the precise copy of 1
    out = list(deduplicated(iter(stream)))
    assert [m.id for m in out] == [2, 3]  # time order after the fold moved "a" to :50
    a = out[1]
    assert a.at == t0 + timedelta(seconds=50) and a.precision_s == 1 and a.key == "K3"
    assert a.duplicates == [1] and a.sources == {1, 2}


def test_name_resolved_through_matched_group_events(tmp_path: Path) -> None:
    """Someone who never posts in the export: added and later left, as the phone recorded too (issue 13 item 6)."""
    case, s1, s2 = base_case(tmp_path)
    quim, ghost, twin = xname("Quimet"), xname("Nadie"), xname("Dos Veces")
    write(case, s2, [owner(wa(ANA)),
                     exported(wa(ANA), 0.2, "buenos dias"), exported(wa(PEPE), 1.5, "hola a todos"),
                     exported(wa(PEPE), 4.1, "me voy"),
                     ev(EX, "added", minute(10.5), wa(ANA), quim), ev(EX, "left", minute(20.3), quim, quim),
                     ev(EX, "added", minute(30.2), wa(ANA), ghost),  # no database saw it: nothing
                     ev(EX, "added", minute(40.1), wa(ANA), twin),  # two people added that minute: ambiguous
                     ev(EX, "left", minute(50.1), twin, twin)])
    write(case, s1, [ev(G, "added", t(10.5), wa(ANA), wa(QUIM)), ev(G, "left", t(20.3), wa(QUIM), wa(QUIM)),
                     ev(G, "added", t(40.1), wa(ANA), wa(PEPE)), ev(G, "added", t(40.2), wa(ANA), wa(QUIM)),
                     ev(G, "left", t(50.1), wa(PEPE), wa(PEPE))])
    s = analyze_stage(case)
    assert s.exports_merged == 1 and s.names_resolved == 1
    acc = persons_by_account(case)
    assert acc[f"whatsapp:export_name:S{s2}:Quimet"] == acc[f"whatsapp:phone:{QUIM}"]
    assert acc[f"whatsapp:export_name:S{s2}:Nadie"] not in (acc[f"whatsapp:phone:{p}"] for p in (ANA, PEPE, QUIM))
    assert acc[f"whatsapp:export_name:S{s2}:Dos Veces"] not in (acc[f"whatsapp:phone:{p}"]
                                                                for p in (ANA, PEPE, QUIM))
    with case.engine.connect() as con:
        expl = {r.label: r.explanation for r in con.execute(select(S.persons.c.label, S.persons.c.explanation))}
    basis = [e for e in expl[acc[f"whatsapp:phone:{QUIM}"]] if "Quimet" in e["basis"]]
    assert len(basis) == 1 and "2 group events recorded at the same minute" in basis[0]["basis"]
    assert basis[0]["evidence"]["matched_events"] == 2 and len(basis[0]["evidence"]["group_events"]) == 2
    assert notes_about(s, "Dos Veces")  # one matched event (the leave) is not enough, and it says so
