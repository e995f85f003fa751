"""Invite code -> group ties from device evidence only, the code current at a join, and the export using them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ringtrace.analysis.invites import code_current_at, looks_like_code, tie_invite_codes
from ringtrace.case import Case
from ringtrace.dissemination.export import build_export
from ringtrace.indicators.messages import message_indicators
from ringtrace.model import Message
from ringtrace.stages.analyze import analyze_stage
from ringtrace.store import schema as S
from tests.analysis.helpers import add_source, ev, gchat, grp, msg, t, wa, write

A, B, C, D, E, F = (f"+3461234570{i}" for i in range(1, 7))
G1, G2 = gchat("111111111111111111@g.us"), gchat("222222222222222222@g.us")
OWN = "OwnLinkOfGroupOne0000a"  # G1's creator posts G1's link in G1; E advertises it in G2
NOBODY = "PostedByMemberOnly000b"  # only an ordinary member posted it
EARLY = "BeforePromotion00000cc"  # B posted it before being promoted
LATER = "AfterPromotion000000dd"  # B posted it after being promoted
BOTH = "AdminsOfBothGroups000e"  # admins of two groups posted it: equal strength
JOINED = "RecordedJoinCode0000gg"  # a joined_link event recorded it
OLD, NEW = "FirstLinkOfGroupTwo0hh", "SecondLinkOfGroupTwoii"  # NEW: stored by G2's device too


def _link(code: str) -> str:
    return f"join us https://chat.whatsapp.com/{code} today"


def _write_with_indicators(case: Case, sid: int, recs: list[Any]) -> None:
    out = list(recs)
    for r in recs:
        if isinstance(r, Message):
            out.extend(message_indicators(r))
    write(case, sid, out)


@pytest.fixture
def tied(case: Case) -> tuple[Case, dict[str, int]]:
    s1 = add_source(case, "EX-1")
    recs: list[Any] = [
        grp(G1, "One", t(0), wa(A)), grp(G2, "Two", t(0), wa(D), code=NEW),
        ev(G1, "created", t(0), wa(A), value="One"),
        ev(G1, "added", t(1), wa(A), wa(B)),
        ev(G1, "added", t(2), wa(A), wa(F)),
        ev(G1, "joined_link", t(30), wa(C)),  # joined through a link; the device did not say which code
        ev(G1, "joined_link", t(31), wa(F), wa(F), value="Some Inviter"),  # a name, not a code
        ev(G1, "promoted", t(50), wa(A), wa(B)),
        ev(G2, "created", t(0), wa(D), value="Two"),
        ev(G2, "added", t(1), wa(D), wa(E)),
        ev(G2, "joined_link", t(8), wa(B), wa(B), value=JOINED),
        ev(G2, "invite_link_reset", t(100), wa(D)),
        ev(G2, "joined_link", t(110), wa(F), wa(F)),  # after the reset, before NEW was seen: unknown
        ev(G2, "joined_link", t(130), wa(C), wa(C)),  # after NEW was posted
        msg(G1, "m1", wa(A), t(20), _link(OWN)),
        msg(G2, "m2", wa(E), t(21), _link(OWN)),
        msg(G1, "m3", wa(C), t(40), _link(NOBODY)),
        msg(G1, "m4", wa(B), t(10), _link(EARLY)),
        msg(G1, "m5", wa(B), t(60), _link(LATER)),
        msg(G1, "m6", wa(A), t(61), _link(BOTH)),
        msg(G2, "m7", wa(D), t(62), _link(BOTH)),
        msg(G1, "m8", wa(A), t(63), _link(NEW)),
        msg(G2, "m9", wa(D), t(3), _link(OLD)),
        msg(G2, "m10", wa(D), t(120), _link(NEW)),
    ]
    _write_with_indicators(case, s1, recs)
    analyze_stage(case)
    with case.engine.connect() as con:
        gid = {r.label: r.id for r in con.execute(select(S.groups.c.id, S.groups.c.label))}
        keys = {r.key: r.group_id for r in con.execute(
            select(S.chats.c.key, S.group_chats.c.group_id)
            .join(S.group_chats, S.group_chats.c.chat_id == S.chats.c.id))}
    assert len(gid) == 2
    return case, {"G1": keys[G1.key], "G2": keys[G2.key]}


def test_ties_from_device_evidence(tied: tuple[Case, dict[str, int]]) -> None:
    case, g = tied
    with case.engine.connect() as con:
        ties = tie_invite_codes(con)
    own = ties[("whatsapp", OWN)]
    assert own.group_id == g["G1"] and own.basis == "admin_post"
    assert own.conflicts == []  # E's advert in G2 is no evidence for G2
    assert own.evidence[0]["sender_role"] == "creator"
    assert ("whatsapp", NOBODY) not in ties
    assert ("whatsapp", EARLY) not in ties  # B was not yet an admin
    assert ties[("whatsapp", LATER)].group_id == g["G1"]
    both = ties[("whatsapp", BOTH)]
    assert both.group_id is None and both.basis == "conflict"
    assert {c["group_id"] for c in both.conflicts} == {g["G1"], g["G2"]}
    stored = ties[("whatsapp", NEW)]  # G1's creator also posted it in G1: the device record is stronger
    assert stored.group_id == g["G2"] and stored.basis == "device"
    assert [c["group_id"] for c in stored.conflicts] == [g["G1"]]
    joined = ties[("whatsapp", JOINED)]
    assert joined.group_id == g["G2"] and joined.basis == "joined_link"
    assert all(code != "Some Inviter" for _, code in ties)


def test_code_current_at_join(tied: tuple[Case, dict[str, int]]) -> None:
    case, g = tied
    with case.engine.connect() as con:
        ties = tie_invite_codes(con)
    assert code_current_at(ties, g["G1"], t(30)) == OWN
    assert code_current_at(ties, g["G1"], t(15)) is None  # before any G1 code was seen
    assert code_current_at(ties, g["G1"], t(30), [t(25)]) is None  # the link was reset in between
    assert code_current_at(ties, g["G1"], None) is None
    assert code_current_at(ties, g["G2"], t(4)) == OLD
    assert code_current_at(ties, g["G2"], t(50)) == JOINED  # seen later than OLD
    assert code_current_at(ties, g["G2"], t(110), [t(100)]) is None
    assert code_current_at(ties, g["G2"], t(130), [t(100)]) == NEW


def test_export_uses_ties(tied: tuple[Case, dict[str, int]]) -> None:
    case, g = tied
    doc = build_export(case)
    with case.engine.connect() as con:
        label = {r.id: r.label for r in con.execute(select(S.groups.c.id, S.groups.c.label))}
    links = {x["code"]: x for x in doc["invite_links"]}
    assert links[OWN]["group"] == label[g["G1"]]
    assert links[BOTH]["group"] is None
    assert links[NOBODY]["group"] is None and links[EARLY]["group"] is None
    assert links[NEW]["group"] == label[g["G2"]]
    groups = {x["id"]: x for x in doc["groups"]}
    g1, g2 = groups[label[g["G1"]]], groups[label[g["G2"]]]
    assert OWN in g1["invite_codes"] and "Some Inviter" not in g1["invite_codes"]
    assert NEW in g2["invite_codes"] and BOTH not in g1["invite_codes"] + g2["invite_codes"]
    with case.engine.connect() as con:
        person = {r.value: r.label for r in con.execute(
            select(S.accounts.c.value, S.persons.c.label)
            .join(S.person_accounts, S.person_accounts.c.account_id == S.accounts.c.id)
            .join(S.persons, S.persons.c.id == S.person_accounts.c.person_id))}
    m1 = {m["person"]: m for m in g1["members"]}
    assert m1[person[C]]["joined_via_invite_link"] == [OWN]
    m2 = {m["person"]: m for m in g2["members"]}
    assert m2[person[B]]["joined_via_invite_link"] == [JOINED]
    # membership analysis already placed it: the device's record of NEW is valid back to the last reset
    assert m2[person[F]]["joined_via_invite_link"] == [NEW]
    assert m2[person[C]]["joined_via_invite_link"] == [NEW]


def test_no_groups_no_ties(case: Case) -> None:
    s1 = add_source(case, "EX-1")
    _write_with_indicators(case, s1, [msg(gchat("333@g.us"), "x", wa(A), t(1), _link(OWN))])
    with case.engine.connect() as con:  # not analysed yet: nothing to tie to
        assert tie_invite_codes(con) == {}


def test_looks_like_code() -> None:
    assert looks_like_code("whatsapp", OWN)
    assert not looks_like_code("whatsapp", "Some Inviter")
    assert not looks_like_code("telegram", "Joana Pym")
    assert looks_like_code("telegram", "AbCdEf_123-xyz")
    assert not looks_like_code("whatsapp", None)


def test_link_filter_on_sqlite_keeps_the_rows_ilike_keeps() -> None:
    """SQLite's plain LIKE stands in for ILIKE there (both fold ASCII case alone): the same texts pass, mixed
    case, non-ASCII letters and near misses included."""
    from sqlalchemy import literal, or_, select

    from ringtrace.analysis.invites import LINK_PATTERNS, has_link
    from ringtrace.store.db import make_engine

    texts = ["join https://CHAT.WhatsApp.com/AbC123", "T.ME/+xyz", "t.me", "tme/x", "see DISCORD.GG/q",
             "tg://JOIN?invite=a", "Signal.Group/#x", "telegram.dog/ab", "TELEGRAM.ME/joinchat/z", "nothing here",
             "ＣＨＡＴ.whatsapp.com/x", "İt.me/x", "discordapp.com/INVITE/k", "whatsapp://chat?code=Q", "",
             "discord.com/invite", "t.me/", "chat.whatsapp.co"]
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as con:
            for t in texts:
                col = literal(t)
                new = con.execute(select(has_link(col, "sqlite"))).scalar()
                old = con.execute(select(or_(*(col.ilike(p) for p in LINK_PATTERNS)))).scalar()
                assert bool(new) == bool(old), t
            assert con.execute(select(has_link(literal("X T.Me/abc"), "sqlite"))).scalar()
    finally:
        engine.dispose()
