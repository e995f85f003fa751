"""A Telegram export's bare names (member lists, link inviters) tied to the account the same export names so:
its contacts list, personal_information, or a message's from/from_id. Namesakes and other sources decide nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.model import AccountKey, ChatRef, GroupEvent, NameSeen, Prov
from ringtrace.stages.analyze import analyze_stage
from ringtrace.store import schema as S
from tests.analysis.helpers import add_source, grp, msg, t, tg, write
from tests.analysis.test_stage import persons_by_account

G = ChatRef("telegram", "group", "1800000001")
OWNER, ANA, BEA, SAM1, SAM2, LEE = (tg(str(8000 + i)) for i in range(6))
PV = Prov("result.json", "/x", "1")


def xn(n: str) -> AccountKey:
    return AccountKey("telegram", "export_name", n)


def seen(a: AccountKey, n: str, kind: str) -> NameSeen:
    return NameSeen(a, n, kind, PV)


def test_same_export_names_tie_bare_names(case: Case) -> None:
    s1, s2 = add_source(case, "EX-1"), add_source(case, "EX-2")
    recs: list[Any] = [
        grp(G, "Grove", t(0), OWNER),
        seen(OWNER, "Olga Owner", "profile"),  # personal_information
        seen(ANA, "Ana Sol", "contact_name"),  # contacts list
        seen(BEA, "Bea Mar", "telegram_name"),  # from + from_id of a message
        seen(SAM1, "Sam Twin", "telegram_name"), seen(SAM2, "Sam Twin", "contact_name"),  # namesakes
        msg(G, "1", BEA, t(1), "hi"),
    ]
    for i, n in enumerate(("Olga Owner", "Ana Sol", "Bea Mar", "Sam Twin", "Lee Far")):
        recs += [seen(xn(n), n, "export_sender"),
                 GroupEvent(G, "added", t(2 + i), OWNER, xn(n), "invite_members", PV)]
    write(case, s1, recs)
    write(case, s2, [seen(LEE, "Lee Far", "contact_name")])  # the name in another source: says nothing
    analyze_stage(case)
    acc = persons_by_account(case)
    for n, who in (("Olga Owner", OWNER), ("Ana Sol", ANA), ("Bea Mar", BEA)):
        assert acc[f"telegram:export_name:S{s1}:{n}"] == acc[f"telegram:tg_id:{who.value}"], n
    twin = acc[f"telegram:export_name:S{s1}:Sam Twin"]
    assert twin not in (acc[f"telegram:tg_id:{SAM1.value}"], acc[f"telegram:tg_id:{SAM2.value}"])
    assert acc[f"telegram:tg_id:{SAM1.value}"] != acc[f"telegram:tg_id:{SAM2.value}"]
    assert acc[f"telegram:export_name:S{s1}:Lee Far"] != acc[f"telegram:tg_id:{LEE.value}"]
    with case.engine.connect() as con:
        expl = {r.label: r.explanation for r in con.execute(select(S.persons.c.label, S.persons.c.explanation))}
    ana = expl[acc[f"telegram:tg_id:{ANA.value}"]]
    assert any("same Telegram export" in e["basis"] and "contacts list" in e["basis"] for e in ana)
    assert any("personal_information" in e["basis"] for e in expl[acc[f"telegram:tg_id:{OWNER.value}"]])
    assert any("from_id" in e["basis"] for e in expl[acc[f"telegram:tg_id:{BEA.value}"]])
