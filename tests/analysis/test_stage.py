"""The analyze stage on small hand-built cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from ringtrace.stages.analyze import analyze_stage
from ringtrace.store import schema as S
from tests.analysis.helpers import (
    add_source,
    ev,
    gchat,
    grp,
    lid,
    link,
    msg,
    name,
    new_case,
    owner,
    part,
    sha,
    t,
    wa,
    write,
)

ANA = "+34612345601"
BEN = "+34612345602"
CARL = "+4915123456703"
DORA = "+34612345604"
OLD = gchat("34612345601-1740830400@g.us")  # old-style id: Ana created it at 2025-03-01 12:00 UTC
NEW = gchat("120363012345678901@g.us")


def persons_by_account(case) -> dict[str, str]:
    with case.engine.connect() as con:
        q = (select(S.persons.c.label, S.accounts.c.platform, S.accounts.c.kind, S.accounts.c.value)
             .join(S.person_accounts, S.person_accounts.c.person_id == S.persons.c.id)
             .join(S.accounts, S.accounts.c.id == S.person_accounts.c.account_id))
        return {f"{r.platform}:{r.kind}:{r.value}": r.label for r in con.execute(q)}


def dump(case) -> dict[str, list]:
    with case.engine.connect() as con:
        out = {}
        for t_ in (S.persons, S.person_accounts, S.groups, S.group_chats, S.memberships):
            rows = [dict(r._mapping) for r in con.execute(select(t_))]
            out[t_.name] = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
        return out


def memberships(case, group_label: str, person_label: str) -> list:
    with case.engine.connect() as con:
        q = (select(S.memberships).join(S.groups, S.groups.c.id == S.memberships.c.group_id)
             .join(S.persons, S.persons.c.id == S.memberships.c.person_id)
             .where(S.groups.c.label == group_label, S.persons.c.label == person_label)
             .order_by(S.memberships.c.from_at))
        return con.execute(q).all()


@pytest.fixture()
def two_devices(tmp_path: Path):
    case = new_case(tmp_path)
    s1 = add_source(case, "EX-1", seizure="ES")
    s2 = add_source(case, "EX-2", seizure="ES")
    # device 1: Ana's phone. Ben appears by LID only in messages, with the LID->phone map on this device.
    write(case, s1, [
        owner(wa(ANA)),
        link(lid("111"), wa(BEN)),
        name(wa(ANA), "Ana"), name(wa(CARL), "Ana"),  # same display name: never a merge
        grp(OLD, "Book Swap", creator=wa(ANA), code="CODEa1"),
        ev(OLD, "created", t(0), wa(ANA), value="Book Swap"),
        ev(OLD, "added", t(10), wa(ANA), wa(BEN)),
        ev(OLD, "joined_link", t(20), wa(CARL), wa(CARL), value="CODEa1"),
        ev(OLD, "left", t(100), wa(CARL), wa(CARL)),
        ev(OLD, "added", t(200), wa(ANA), wa(CARL)),
        ev(OLD, "promoted", t(30), wa(ANA), lid("111")),
        msg(OLD, "K1", wa(ANA), t(1), "hello all"),
        msg(OLD, "K2", lid("111"), t(11), None, media=sha("img1")),
        msg(OLD, "K3", wa(CARL), t(21), "ok"),
        msg(OLD, "K4", wa(CARL), t(300), "back"),
        part(OLD, wa(ANA), "superadmin"), part(OLD, wa(BEN), "admin"), part(OLD, wa(CARL)),
    ])
    # device 2: Ben's phone; sees the same group from minute 10 and shares the same messages (same keys)
    write(case, s2, [
        owner(wa(BEN)),
        grp(OLD, "Book Swap (v2)"),
        ev(OLD, "added", t(10, ) , wa(ANA), wa(BEN)),
        msg(OLD, "K2", wa(BEN), t(11), None, media=sha("img1")),
        msg(OLD, "K3", wa(CARL), t(21), "ok"),
        msg(OLD, "K5", wa(DORA), t(400), "I was never added"),
        ev(OLD, "subject", t(350), wa(ANA), value="Book Swap (v2)"),
    ])
    return case


def test_persons_groups_memberships(two_devices) -> None:
    case = two_devices
    s = analyze_stage(case)
    acc = persons_by_account(case)
    assert acc["whatsapp:lid:111@lid"] == acc[f"whatsapp:phone:{BEN}"]
    assert acc[f"whatsapp:phone:{ANA}"] != acc[f"whatsapp:phone:{CARL}"]  # same display name, not merged
    assert s.groups == 1
    ana, ben, carl, dora = (acc[f"whatsapp:phone:{p}"] for p in (ANA, BEN, CARL, DORA))
    with case.engine.connect() as con:
        g = con.execute(select(S.groups)).one()
        creator = con.execute(select(S.persons.c.label).where(S.persons.c.id == g.creator_person_id)).scalar()
    assert creator == ana
    assert g.created_at.replace(tzinfo=None) == t(0).replace(tzinfo=None)
    assert [n["name"] for n in g.detail["names"]][-1] == "Book Swap (v2)"
    assert g.detail["messages"]["count"] == 5  # K2 and K3 seen twice, folded
    assert {a["person"] for a in g.detail["admins"]} == {ana, ben}
    # Carl: joined by link, left, added back
    ivs = memberships(case, g.label, carl)
    assert [(iv.joined_via, iv.invite_code) for iv in ivs] == [("invite_link", "CODEa1"), ("added", None)]
    assert ivs[0].to_at is not None and ivs[1].to_at is None
    (b,) = memberships(case, g.label, ben)
    assert b.joined_via == "added" and b.role == "admin" and len(b.evidence["events"]) == 2
    (a,) = memberships(case, g.label, ana)
    assert a.joined_via == "created" and a.role == "creator"
    (d,) = memberships(case, g.label, dora)
    assert d.joined_via == "unknown" and d.from_at == d.to_at


def test_idempotent(two_devices) -> None:
    analyze_stage(two_devices)
    first = dump(two_devices)
    analyze_stage(two_devices)
    assert dump(two_devices) == first
    with two_devices.engine.connect() as con:
        actions = [r[0] for r in con.execute(select(S.audit_log.c.action))]
    assert actions.count("stage.analyze") == 2
