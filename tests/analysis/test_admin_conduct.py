"""Telegram admins from conduct: removing a member, changing title/photo, pinning, owning the link someone joined
through make the doer an admin at that time (with the basis), so that links they post tie to their group."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ringtrace.analysis.invites import tie_invite_codes
from ringtrace.analysis.roles import admin_acts, all_conduct
from ringtrace.case import Case
from ringtrace.indicators.messages import message_indicators
from ringtrace.model import ChatRef, GroupEvent, Message, NameSeen, Prov
from ringtrace.stages.analyze import analyze_stage
from ringtrace.store import schema as S
from tests.analysis.helpers import add_source, grp, msg, t, tg, write

G = ChatRef("telegram", "group", "1700000001")
H = ChatRef("telegram", "group", "1700000002")
CREATOR, REMOVER, PINNER, PLAIN, GONE, INVITER, TWIN1, TWIN2 = (tg(str(7000 + i)) for i in range(8))
C_REMOVER = "RemoverPostedThisLink01"
C_EARLY = "RemoverPostedBeforeAct1"
C_PINNER = "PinnerPostedThisLink001"
C_PLAIN = "OrdinaryMemberPosted001"
C_LEAVER = "LeaverPostedThisLink001"
C_INVITER = "InviterPostedThisLink01"
C_TWIN = "NamesakePostedThisLink1"


def _ev(chat: ChatRef, kind: str, minute: float, actor: Any, target: Any, raw: str, row: str) -> GroupEvent:
    return GroupEvent(chat, kind, t(minute), actor, target, raw, Prov("result.json", "/messages", row))


def _link(code: str) -> str:
    return f"join https://t.me/+{code} now"


def _names(*pairs: tuple[Any, str]) -> list[NameSeen]:
    return [NameSeen(a, n, "telegram_name", Prov("result.json", "/messages", "n")) for a, n in pairs]


def _build(case: Case) -> dict[str, int]:
    sid = add_source(case, "EX-TG")
    inviter_name = NameSeen(tg("0").__class__("telegram", "export_name", "Ines Vale"), "Ines Vale", "link_inviter",
                            Prov("result.json", "/messages", "40"))
    twin_name = NameSeen(tg("0").__class__("telegram", "export_name", "Sam Twin"), "Sam Twin", "link_inviter",
                         Prov("result.json", "/messages", "41"))
    recs: list[Any] = [
        grp(G, "Garden", t(0), CREATOR), grp(H, "Hedge", t(0), TWIN1),
        _ev(G, "created", 0, CREATOR, None, "create_group", "1"),
        *[_ev(G, "added", 1, CREATOR, who, "invite_members", f"2{i}") for i, who in
          enumerate((REMOVER, PINNER, PLAIN, GONE, INVITER, TWIN1, TWIN2))],
        _ev(G, "removed", 10, REMOVER, GONE, "remove_members", "10"),  # only an admin may remove someone
        _ev(G, "left", 11, PLAIN, PLAIN, "remove_members", "11"),  # "X removed X": leaving, anyone may
        _ev(G, "other", 12, PINNER, None, "pin_message", "12"),
        _ev(G, "joined_link", 30, tg("7100"), tg("7100"), "join_group_by_link", "40"), inviter_name,
        _ev(G, "joined_link", 31, tg("7101"), tg("7101"), "join_group_by_link", "41"), twin_name,
        *_names((REMOVER, "Rui Remover"), (PINNER, "Pia Pinner"), (PLAIN, "Oli Plain"), (INVITER, "Ines Vale"),
                (TWIN1, "Sam Twin"), (TWIN2, "Sam Twin")),
        msg(G, "m1", REMOVER, t(5), _link(C_EARLY)),  # before any admin act: says nothing
        msg(G, "m2", REMOVER, t(20), _link(C_REMOVER)),
        msg(G, "m3", PINNER, t(20), _link(C_PINNER)),
        msg(G, "m4", PLAIN, t(20), _link(C_PLAIN)),
        msg(G, "m5", PLAIN, t(21), _link(C_LEAVER)),
        msg(G, "m6", INVITER, t(35), _link(C_INVITER)),
        msg(G, "m7", TWIN2, t(35), _link(C_TWIN)),
    ]
    out = list(recs)
    out.extend(i for r in recs if isinstance(r, Message) for i in message_indicators(r))
    write(case, sid, out)
    analyze_stage(case)
    with case.engine.connect() as con:
        return {r.key: r.group_id for r in con.execute(
            select(S.chats.c.key, S.group_chats.c.group_id)
            .join(S.group_chats, S.group_chats.c.chat_id == S.chats.c.id))}


def test_links_posted_by_admins_from_conduct_tie_to_their_group(case: Case) -> None:
    gids = _build(case)
    with case.engine.connect() as con:
        ties = tie_invite_codes(con)
    g = gids[G.key]
    for code, act in ((C_REMOVER, "removed a member"), (C_INVITER, "created the invite link")):
        tie = ties[("telegram", code)]
        assert tie.group_id == g and tie.basis == "admin_post", code
        assert act in tie.evidence[0]["sender_role"] and "group_events" in tie.evidence[0]["sender_role"]
    # before the act, a leaver, an ordinary member, a namesake; a pinner (members may be allowed to pin)
    for code in (C_EARLY, C_PLAIN, C_LEAVER, C_TWIN, C_PINNER):
        assert ("telegram", code) not in ties or ties[("telegram", code)].group_id is None, code


def test_conduct_lists_admin_acts_with_basis(case: Case) -> None:
    gids = _build(case)
    with case.engine.connect() as con:
        acts = admin_acts(con)
        persons = {r.account_id: r.person_id for r in con.execute(select(S.person_accounts))}
        accounts = {r.value: r.id for r in con.execute(select(S.accounts.c.id, S.accounts.c.value))}
        conduct = all_conduct(con)
    g = gids[G.key]
    by_person = {pid: [a.act for a in v] for (gid, pid), v in acts.items() if gid == g}
    remover = persons[accounts[REMOVER.value]]
    assert by_person[remover] == ["removed a member"]
    assert persons[accounts[PLAIN.value]] not in by_person
    assert persons[accounts[TWIN1.value]] not in by_person and persons[accounts[TWIN2.value]] not in by_person
    assert any("created the invite link" in a for a in by_person[persons[accounts[INVITER.value]]])
    row = conduct[remover]["admin_by_conduct"]
    assert len(row) == 1 and row[0]["basis"][0].startswith("conduct: removed a member") and row[0]["decisive"]
    pin = conduct[persons[accounts[PINNER.value]]]["admin_by_conduct"]
    assert len(pin) == 1 and not pin[0]["decisive"] and "pinned a message" in pin[0]["basis"][0]
