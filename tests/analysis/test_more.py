"""Countries, exports, Telegram, first sharers, priorities, graph, aliases and deconfliction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ringtrace.analysis.countries import CountryError, phone_country, set_country
from ringtrace.analysis.deconflict import (
    DeconflictError,
    compare_keyed,
    deconflict,
    export_keyed_digests,
)
from ringtrace.analysis.graph import analyse_network, export_graphml
from ringtrace.analysis.persons import AliasError, add_alias
from ringtrace.analysis.priorities import rank_suspects
from ringtrace.analysis.roles import first_sharers, first_sharers_pdq, person_conduct
from ringtrace.stages.analyze import analyze_stage
from ringtrace.store import schema as S
from tests.analysis.helpers import (
    add_media,
    add_source,
    ev,
    gchat,
    link,
    mark_known,
    msg,
    new_case,
    owner,
    part,
    sha,
    t,
    tg,
    tgp,
    wa,
    write,
    xname,
)
from tests.analysis.test_stage import persons_by_account

US = "+12015550123"
CA = "+15062345678"
GB = "+447400123456"
JE = "+447797712345"
ES = "+34612345678"
BAD = "+34123"  # too short for Spain
NONGEO = "+80012345678"  # international freephone


def persons(case) -> dict[str, object]:
    with case.engine.connect() as con:
        return {r.label: r for r in con.execute(select(S.persons))}


def test_phone_country_plan() -> None:
    assert phone_country(US)[0] == "US"
    assert phone_country(CA)[0] == "CA"
    assert phone_country(GB)[0] == "GB"
    assert phone_country(JE)[0] == "JE"
    assert phone_country(BAD)[0] is None and "not a valid" in phone_country(BAD)[1]
    assert phone_country(NONGEO)[0] is None


def test_countries_in_case(tmp_path: Path) -> None:
    case = new_case(tmp_path)
    s1 = add_source(case, "EX-1", seizure="FR")
    s2 = add_source(case, "EX-2", seizure="ES")
    g = gchat("120363000000000001@g.us")
    write(case, s1, [owner(wa(US)), part(g, wa(US)), part(g, wa(CA)), part(g, wa(GB)), part(g, wa(JE)),
                     part(g, wa(BAD)), part(g, AccountKey_lid("999")), part(g, wa(NONGEO))])
    write(case, s2, [owner(wa(ES)), part(g, wa(ES))])
    analyze_stage(case)
    acc = persons_by_account(case)
    ps = persons(case)

    def c(phone: str):
        return ps[acc[f"whatsapp:phone:{phone}"]]

    assert c(CA).country == "CA" and c(JE).country == "JE" and c(GB).country == "GB"
    assert c(US).country == "US" and "conflict" in c(US).country_basis and c(US).country_confidence <= 0.6
    assert c(ES).country == "ES" and "device seized in ES" in c(ES).country_basis and c(ES).country_confidence > 0.9
    assert c(BAD).country is None and "flagged" in c(BAD).country_basis
    assert c(NONGEO).country is None and "non-geographic" in c(NONGEO).country_basis
    lid_p = ps[acc["whatsapp:lid:999@lid"]]
    assert lid_p.country is None and "no phone" in lid_p.country_basis
    # an analyst override wins, now and after the next analyze
    set_country(case, f"whatsapp:phone:{BAD}", "PT", "analyst1", "subscriber records")
    assert persons(case)[acc[f"whatsapp:phone:{BAD}"]].country == "PT"
    analyze_stage(case)
    p = persons(case)[acc[f"whatsapp:phone:{BAD}"]]
    assert p.country == "PT" and p.country_basis == "manual override by analyst1: subscriber records"
    with pytest.raises(CountryError):
        set_country(case, "P0001", "XX", "a", "b")
    with pytest.raises(CountryError):
        set_country(case, "P0001", "FR", " ", "b")


def AccountKey_lid(v: str):
    from tests.analysis.helpers import lid

    return lid(v)


def test_national_format_uses_owner_region(tmp_path: Path) -> None:
    case = new_case(tmp_path)
    s1 = add_source(case, "EX-1")
    from ringtrace.model import AccountKey

    national = AccountKey("phone", "phone", "612 34 56 78")
    write(case, s1, [owner(wa(ES)), link(tg("5551"), national, "telegram contact phone"),
                     link(tg("5552"), tgp("+34612345679"), "telegram contact phone")])
    analyze_stage(case)
    acc = persons_by_account(case)
    assert acc["telegram:tg_id:5551"] == acc[f"whatsapp:phone:{ES}"] == acc["phone:phone:612 34 56 78"]
    assert acc["telegram:tg_id:5552"] != acc["telegram:tg_id:5551"]


def test_export_merged_into_jid_group_and_names_never_merge(tmp_path: Path) -> None:
    case = new_case(tmp_path)
    s1 = add_source(case, "EX-1")
    s2 = add_source(case, "EX-2")
    g = gchat("120363000000000002@g.us")
    other = gchat("120363000000000003@g.us")
    ex = gchat("export:Chess Corner")
    a, b = wa("+34612345611"), wa("+34612345612")
    write(case, s1, [owner(a), msg(g, "A1", a, t(0.2), "one"), msg(g, "A2", b, t(1.5), "two"),
                     msg(g, "A3", a, t(2.7), None, media=sha("x")), msg(g, "A4", b, t(4.1), "four"),
                     msg(other, "B1", a, t(0.3), "one")])  # one coincidence in another group
    # the export prints minutes; Bee only by names ("~ Bee", "Bea"), each with one matched message: too few
    write(case, s2, [owner(a), msg(ex, None, a, t(0), "one", precision=60),
                     msg(ex, None, xname("~ Bee"), t(1), "two", precision=60),
                     msg(ex, None, a, t(2), None, media=sha("x"), precision=60),
                     msg(ex, None, xname("Bea"), t(4), "four", precision=60),
                     msg(ex, None, xname("~ Bee"), t(9), "only in export", precision=60)])
    s = analyze_stage(case)
    assert s.exports_merged == 1 and s.groups == 2
    with case.engine.connect() as con:
        rows = con.execute(select(S.group_chats.c.group_id, S.chats.c.key, S.group_chats.c.basis)
                           .join(S.chats, S.chats.c.id == S.group_chats.c.chat_id)).all()
        gm = {k: (gid, basis) for gid, k, basis in rows}
        detail = con.execute(select(S.groups.c.detail).where(S.groups.c.id == gm[g.key][0])).scalar()
    assert gm["export:Chess Corner"][0] == gm[g.key][0]
    assert "4 of 5 messages" in gm["export:Chess Corner"][1]
    assert detail["messages"]["count"] == 5 and detail["messages"]["duplicates_folded"] == 4
    acc = persons_by_account(case)
    assert acc["whatsapp:export_name:S2:~ Bee"] != acc[f"whatsapp:phone:{b.value}"]
    assert acc["whatsapp:export_name:S2:Bea"] != acc[f"whatsapp:phone:{b.value}"]
    # an alias ties the export name to Bee's number
    add_alias(case, "whatsapp:export_name:S2:~ Bee", f"whatsapp:phone:{b.value}", "analyst1", "same messages")
    analyze_stage(case)
    acc = persons_by_account(case)
    assert acc["whatsapp:export_name:S2:~ Bee"] == acc[f"whatsapp:phone:{b.value}"]
    with pytest.raises(AliasError):
        add_alias(case, "nonsense", "whatsapp:phone:+1", "x", "y")
    with pytest.raises(AliasError):
        add_alias(case, "whatsapp:phone:+34000", f"whatsapp:phone:{b.value}", "x", "y")


def test_export_too_few_matches_stays_alone(tmp_path: Path) -> None:
    case = new_case(tmp_path)
    s1, s2 = add_source(case, "EX-1"), add_source(case, "EX-2")
    g, ex = gchat("120363000000000002@g.us"), gchat("export:Other")
    a = wa("+34612345611")
    write(case, s1, [msg(g, "A1", a, t(0.2), "ok")])
    write(case, s2, [msg(ex, None, a, t(0), "ok", precision=60)] +
          [msg(ex, None, a, t(10 + i), f"x{i}", precision=60) for i in range(5)])
    s = analyze_stage(case)
    assert s.exports_merged == 0 and s.groups == 2 and s.notes


def test_telegram_ids_phones_and_migration(tmp_path: Path) -> None:
    case = new_case(tmp_path)
    s1 = add_source(case, "TG-1")
    s2 = add_source(case, "WA-1")
    old, new = gchat("4001", "telegram"), gchat("1004002", "telegram")
    write(case, s1, [owner(tg("77")), link(tg("77"), tgp("+34612345621"), "personal_information"),
                     link(tg("78"), tgp("+34612345622"), "telegram contact phone"),
                     msg(old, "1", tg("77"), t(0), "hi"), ev(old, "migrated", t(5), tg("77"), value="1004002"),
                     msg(new, "2", tg("78"), t(6), "hello")])
    write(case, s2, [owner(wa("+34612345621")), part(gchat("120363000000000009@g.us"), wa("+34612345622"))])
    s = analyze_stage(case)
    acc = persons_by_account(case)
    assert acc["telegram:tg_id:77"] == acc["whatsapp:phone:+34612345621"] == acc["telegram:phone:+34612345621"]
    assert acc["telegram:tg_id:78"] == acc["whatsapp:phone:+34612345622"]
    assert s.groups == 2  # the migrated Telegram group is one group; plus the WhatsApp one
    with case.engine.connect() as con:
        q = select(S.persons.c.explanation).where(S.persons.c.label == acc["telegram:tg_id:77"])
        expl = con.execute(q).scalar()
    assert {e["basis"] for e in expl} == {"account link (personal_information)", "same phone number +34612345621"}


def sharing_case(tmp_path: Path, name: str, people: list[str], media: list[str], extra_person: str):
    case = new_case(tmp_path, name)
    s1 = add_source(case, f"{name}-1", seizure="ES")
    g = gchat(f"{people[0][1:]}-1740830400@g.us")
    h = gchat("120363000000000077@g.us")
    recs = [owner(wa(people[0])), ev(g, "created", t(0), wa(people[0]), value="Astronomy")]
    for i, p in enumerate(people[1:] + [extra_person]):
        recs.append(ev(g, "joined_link" if i % 2 else "added", t(1 + i), wa(p) if i % 2 else wa(people[0]),
                       wa(p), value="CODE" + name if i % 2 else None))
    for i, m in enumerate(media):
        sender = people[i % len(people)]
        recs.append(msg(g, f"{name}M{i}", wa(sender), t(10 + i), None, media=m))
    recs.append(msg(h, f"{name}H", wa(people[1]), t(5), "bridge"))
    recs.append(msg(h, f"{name}H2", wa(people[2]), t(60), None, media=media[0]))  # later copy elsewhere
    write(case, s1, recs)
    for m in media:
        add_media(case, m, pdq="0" * 64)
    return case, s1


def test_first_sharer_priorities_graph(tmp_path: Path) -> None:
    people = ["+34612345631", "+34612345632", "+34612345633"]
    media = [sha("k1"), sha("k2"), sha("n1")]
    case, s1 = sharing_case(tmp_path, "c1", people, media, "+34612345634")
    mark_known(case, media[0])
    mark_known(case, media[1])
    with case.begin() as con:  # a captured page advertised the invite code
        con.execute(S.indicators.insert().values(source_id=s1, kind="whatsapp_invite", value="x", raw="x",
                                                 context="", page_uri="http://example.invalid/p", code="CODEc1",
                                                 prov_file="page.warc"))
    analyze_stage(case)
    acc = persons_by_account(case)
    with case.engine.connect() as con:
        fs = first_sharers(con)
        ids = {r.label: r.id for r in con.execute(select(S.persons))}
        glabel = {r.id: r.label for r in con.execute(select(S.groups))}
        fam = first_sharers_pdq(con, fs)
        c0 = person_conduct(con, ids[acc[f"whatsapp:phone:{people[0]}"]])
    assert fs[media[0]][0] == ids[acc[f"whatsapp:phone:{people[0]}"]] and glabel[fs[media[0]][1]] == "G0001"
    assert fs[media[1]][0] == ids[acc[f"whatsapp:phone:{people[1]}"]]
    # all three share one PDQ: the family's first share is the earliest of them
    assert {v[3] for v in fam.values()} == {media[0]}
    assert c0["creator_of"] == ["G0001"] and c0["first_shared_known"] == 1
    ranked = rank_suspects(case)
    top = ranked[0]
    assert top.label == acc[f"whatsapp:phone:{people[0]}"]
    names = {n for n, _, _ in top.components}
    assert {"creator", "first sharer of known material", "known-material volume", "message volume"} <= names
    joiner = next(s for s in ranked if s.label == acc[f"whatsapp:phone:{people[2]}"])
    comp = {n: (p, r) for n, p, r in joiner.components}
    assert "http://example.invalid/p" in comp["joined via a link from a captured page"][1]
    assert comp["bridging groups"][0] == 3.0
    assert all(s.country == "ES" for s in rank_suspects(case, country="ES"))
    net = analyse_network(case.engine.connect())
    assert {b for b, _ in net.bridges} == {acc[f"whatsapp:phone:{people[1]}"], acc[f"whatsapp:phone:{people[2]}"]}
    assert sum(len(c) for c in net.communities) == 4
    out = export_graphml(case, tmp_path / "g.graphml")
    assert "G0001" in out.read_text()


def test_deconfliction_plain_and_keyed(tmp_path: Path) -> None:
    shared = ["+34612345641", "+34612345642", "+34612345643"]
    m_shared = [sha("s1"), sha("s2")]
    a, _ = sharing_case(tmp_path, "a", shared, m_shared + [sha("a-only")], "+34612345651")
    b, _ = sharing_case(tmp_path, "b", shared, m_shared + [sha("b-only")], "+34612345652")
    analyze_stage(a)
    analyze_stage(b)
    ov = deconflict(a, [b])
    assert sorted(o.value for o in ov.identifiers if o.kind == "phone") == shared
    assert len(ov.persons_in_common()) == 3
    assert sorted(o.value for o in ov.media if o.kind == "sha256") == sorted(m_shared)
    key = b"agreed-key-0123456789"
    export_keyed_digests(a, key, tmp_path / "a.jsonl")
    export_keyed_digests(b, key, tmp_path / "b.jsonl")
    text = (tmp_path / "a.jsonl").read_text()
    assert "+34612345641" not in text and m_shared[0] not in text
    keyed = compare_keyed(tmp_path / "a.jsonl", tmp_path / "b.jsonl", case=a, key=key)
    assert sorted(k.mine for k in keyed if k.kind == "phone") == shared
    assert sorted(k.mine for k in keyed if k.kind == "sha256") == sorted(m_shared)
    assert len(keyed) == len(ov.identifiers) + len(ov.media)
    # a different key reveals nothing
    export_keyed_digests(b, b"another-key-0123456789", tmp_path / "b2.jsonl")
    assert compare_keyed(tmp_path / "a.jsonl", tmp_path / "b2.jsonl") == []
    (tmp_path / "bad.jsonl").write_text('{"t": "phone", "d": "zz"}\n')
    with pytest.raises(DeconflictError, match="line 1"):
        compare_keyed(tmp_path / "a.jsonl", tmp_path / "bad.jsonl")
    (tmp_path / "bad2.jsonl").write_text("not json\n")
    with pytest.raises(DeconflictError, match="bad2.jsonl"):
        compare_keyed(tmp_path / "bad2.jsonl", tmp_path / "a.jsonl")
    with pytest.raises(DeconflictError):
        export_keyed_digests(a, b"short", tmp_path / "x.jsonl")
