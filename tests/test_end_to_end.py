"""The whole pipeline on a small synthetic operation (every device format mixed, a suspect's computer as a disk
image), compared with its ground truth: groups, members, creators, countries, known-media matches (on the disk,
deleted ones too, with their place), invite links, the suspect's own visits and his iPhone's backup."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

import ringtrace
from ringtrace.case import Case
from ringtrace.demo import ingest_operation
from ringtrace.dissemination.export import SCHEMA_PATH, build_export
from ringtrace.synth.operation import write_operation

SEED = 5  # other seeds (1, 2, 9) were checked the same way while building this


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any], Case]:
    root = tmp_path_factory.mktemp("e2e")
    write_operation(root / "op", seed=SEED, scale="small")
    truth = json.loads((root / "op" / "ground-truth.json").read_text())
    case = Case.init(root / "case", actor="e2e")
    ingest_operation(case, root / "op")
    ringtrace.run(case)
    return truth, build_export(case, with_messages=True), case


def _disk(truth: dict[str, Any]) -> dict[str, Any]:
    """The computer's disk in the ground truth; skipped (with the reason operation.json gives) where this machine
    could not build the image: CI installs the tools, so there the image is always exercised."""
    if not truth["disks"]:
        pytest.skip("the computer was written as a folder: the disk image's tools or the 'disk' extra are missing")
    (disk,) = [d for d in truth["disks"] if d["exhibit"] == "EX-PC1"]
    return disk


def _phones(export: dict[str, Any]) -> dict[str, set[str]]:
    return {p["id"]: set(p["phones"]) for p in export["persons"]}


def _group_by_key(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: g for g in export["groups"] for k in g["identifiers"]}


def test_export_validates_against_schema(run) -> None:
    _, export, _ = run
    jsonschema.validate(export, json.loads(SCHEMA_PATH.read_text()))


def test_every_source_recorded(run) -> None:
    truth, export, _ = run
    exhibits = {s["exhibit"] for s in export["sources"]}
    computers = {x["exhibit"] for x in truth["browser_visits"] + truth["backups"]}
    assert computers == {"EX-PC1"}
    computers |= {d["exhibit"] for d in truth["disks"]}  # and the USB stick beside it
    assert {d["exhibit"] for d in truth["devices"]} | {"EX-CAP", truth["notes"]["exhibit"]} | computers == exhibits
    assert all(len(s["sha256"]) == 64 and s["size"] > 0 for s in export["sources"])


def test_groups_recovered_one_to_one(run) -> None:
    truth, export, _ = run
    by_key = _group_by_key(export)
    observed = [g for g in truth["groups"] if g["observed_by"]]
    assert observed, "the operation must have groups seen by devices"
    matched = {by_key[g["key"]]["id"] for g in observed}
    assert len(matched) == len(observed)  # no two true groups merged
    # WhatsApp newsletters are channels, analysed as groups as Telegram channels are; nothing else is invented
    channels = {c["jid"] for c in truth["other_chats"] if c["kind"] == "channel"}
    assert channels, "the operation must hold newsletters"
    assert len(export["groups"]) == len(observed) + len(channels)  # and no group split or invented
    assert channels <= set(by_key)


def test_members_recovered_exactly(run) -> None:
    truth, export, _ = run
    phones = _phones(export)
    tg = {p["id"]: {a["value"] for a in p["accounts"] if a["kind"] == "tg_id"} for p in export["persons"]}
    by_key = _group_by_key(export)
    for g in truth["groups"]:
        if not g["observed_by"]:
            continue
        eg = by_key[g["key"]]
        if g["platform"] == "whatsapp":
            got = {ph for m in eg["members"] for ph in phones[m["person"]]}
            want = {m["phone"] for m in g["members"] if m["observed"]}
        else:
            got = {t for m in eg["members"] for t in tg[m["person"]]}
            want = {str(m["tg_id"]) for m in g["members"] if m["observed"]}
        assert got == want, (g["gid"], sorted(want - got), sorted(got - want))


def test_creators_where_the_evidence_shows_them(run) -> None:
    truth, export, _ = run
    phones = _phones(export)
    by_key = _group_by_key(export)
    checked = 0
    for g in truth["groups"]:
        if g["observed_by"] and g["creator_observable"] and g["platform"] == "whatsapp":
            creator = by_key[g["key"]]["creator"]
            assert creator is not None and g["creator"] in phones[creator], g["gid"]
            checked += 1
    assert checked >= 3


def test_countries_of_every_person_with_a_number(run) -> None:
    truth, export, _ = run
    want = {p["phone"]: p["country"] for p in truth["persons"]}
    seen = 0
    for p in export["persons"]:
        for ph in p["phones"]:
            assert p["country"] == want[ph], (ph, p["country"], p["country_basis"])
            assert p["country_basis"]
            seen += 1
    assert seen >= 30
    assert len({want[ph] for p in export["persons"] for ph in p["phones"]}) >= 13


def test_no_person_merged_on_names_alone(run) -> None:
    _, export, _ = run
    for p in export["persons"]:
        assert len(p["phones"]) <= 1, p  # invented people each have one number


def test_known_media_matched_exactly(run) -> None:
    truth, export, _ = run
    want = {k["sha256"] for k in truth["known_media"]}
    got = {m["sha256"] for m in export["media"] if m["matches"]}
    assert want, "the operation must hold known media"
    assert got == want, (len(want - got), len(got - want))
    transformed = {k["sha256"] for k in truth["known_media"] if k["method"] == "pdq"}
    assert transformed, "transformed copies must be part of the test"
    for m in export["media"]:
        if m["sha256"] in transformed:
            assert any(x["method"] == "pdq" and x["distance"] <= 31 for x in m["matches"])


def test_invite_links_found(run) -> None:
    truth, export, _ = run
    want = {(link["platform"], link["code"]) for link in truth["invite_links"]}
    captured = {(link["platform"], link["code"]) for link in export["invite_links"]
                if any(s["source"] == "EX-CAP" for s in link["seen"])}
    assert captured == want


def test_messages_carry_provenance(run) -> None:
    _, export, _ = run
    msgs = export["messages"]
    assert len(msgs) > 1000
    assert all(m["source"] and m["location"] for m in msgs)
    assert {m["kind"] for m in msgs} == {"message", "event"}


def test_unknown_series_group_each_family_and_never_mix(run) -> None:
    import hashlib

    from ringtrace.matching.sets import unknown_series
    from ringtrace.synth.world import build_world

    truth, export, case = run
    family = {hashlib.sha256(m.data()).hexdigest(): m.family for m in build_world(SEED, "small").media.values()}
    rows = unknown_series(case)
    assert rows, "the operation must hold unknown near-duplicate families"
    known = {k["sha256"] for k in truth["known_media"]}
    for r in rows:
        fams = {family[s] for s in r.media}
        assert len(fams) == 1, f"series {r.rank} mixes families {fams}"
        assert not set(r.media) & known
    # ranked by spread: devices first
    assert [len(r.devices) for r in rows] == sorted((len(r.devices) for r in rows), reverse=True)
    notes = {f["sha256"] for f in truth["notes"]["files"]}  # photos of paper: no family, never in a series
    assert not {s for r in rows for s in r.media} & notes
    hashed = {m["sha256"] for m in export["media"] if m["pdq"] and not m["matches"]} - notes
    by_family: dict[int, set[str]] = {}
    for s in hashed:
        by_family.setdefault(family[s], set()).add(s)
    expected = {frozenset(v) for v in by_family.values() if len(v) >= 2}
    assert {frozenset(r.media) for r in rows} == expected


def _t(s: str | None):
    from datetime import datetime

    return datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None


def _member_rows(truth: dict[str, Any], export: dict[str, Any]):
    """(truth group, truth member, export member) for every observed WhatsApp member."""
    phones = _phones(export)
    by_key = _group_by_key(export)
    for g in truth["groups"]:
        if not g["observed_by"] or g["platform"] != "whatsapp":
            continue
        eg = by_key[g["key"]]
        by_phone = {ph: m for m in eg["members"] for ph in phones[m["person"]]}
        for m in g["members"]:
            if m["observed"]:
                yield g, m, by_phone[m["phone"]]


def test_membership_intervals_to_the_precision_the_sources_allow(run) -> None:
    truth, export, _ = run
    checked = 0
    for g, m, em in _member_rows(truth, export):
        froms = [_t(i["from"]) for i in em["intervals"]]
        tos = [_t(i["to"]) for i in em["intervals"]]
        for j in m["observed_joins"]:
            at = _t(j["at"])
            assert any(f is not None and abs((f - at).total_seconds()) <= 60 for f in froms), (g["gid"], m, em)
            checked += 1
        for left in m["observed_leaves"]:
            at = _t(left)
            assert any(t is not None and abs((t - at).total_seconds()) <= 60 for t in tos), (g["gid"], m, em)
    assert checked >= 50


def test_joined_via_invite_link(run) -> None:
    truth, export, _ = run
    n = 0
    for _g, m, em in _member_rows(truth, export):
        if any(j["kind"] == "joined_link" for j in m["observed_joins"]):
            assert "invite_link" in em["joined_via"], (m, em)
            n += 1
        elif m["observed_joins"] and not m["joined_via_invite_link"]:
            assert "invite_link" not in em["joined_via"], (m, em)
    assert n >= 3


def test_admins_where_the_evidence_shows_them(run) -> None:
    truth, export, _ = run
    phones = _phones(export)
    by_key = _group_by_key(export)
    for g in truth["groups"]:
        if g["observed_by"] and g["platform"] == "whatsapp":
            got = {ph for a in by_key[g["key"]]["admins"] for ph in phones[a]}
            assert got == set(g["admins_observable"]), g["gid"]


def test_first_sharer_of_every_shared_item(run) -> None:
    truth, export, _ = run
    phones = _phones(export)
    tg = {p["id"]: {a["value"] for a in p["accounts"] if a["kind"] == "tg_id"} for p in export["persons"]}
    tg_of_phone = {p["phone"]: str(p["tg_id"]) for p in truth["persons"]}
    telegram_keys = {g["key"] for g in truth["groups"] if g["platform"] == "telegram"}
    want = truth["media_first_shared_observed"]
    checked = 0
    for m in export["media"]:
        w = want.get(m["sha256"])
        if w is None or not m["first_shared"]:
            continue
        who = m["first_shared"]["person"]
        if w["group"] in telegram_keys:
            assert tg_of_phone[w["phone"]] in tg[who], (m["sha256"], w, m["first_shared"])
        else:
            assert w["phone"] in phones[who], (m["sha256"], w, m["first_shared"])
        assert abs((_t(m["first_shared"]["at"]) - _t(w["at"])).total_seconds()) < 60
        checked += 1
    assert checked >= 30


def test_group_names_over_time(run) -> None:
    """Every name a device saw is listed, and a rename that recorded the subject it replaced gives back the
    name the group was created with."""
    truth, export, _ = run
    by_key = _group_by_key(export)
    back_to_creation = 0
    for g in truth["groups"]:
        if not g["observed_by"]:
            continue
        got = [n["name"] for n in by_key[g["key"]]["names"]]
        assert set(got) <= {n["name"] for n in g["names"]}, (g["gid"], got)  # nothing invented
        first = by_key[g["key"]]["names"][0]
        if first["at"] and abs((_t(first["at"]) - _t(g["created_at"])).total_seconds()) < 60:
            assert first["name"] == g["names"][0]["name"], (g["gid"], first)
            back_to_creation += 1
    assert back_to_creation >= 1


def test_suspects_own_visit_to_the_advertising_post(run) -> None:
    """The suspect's Tor Browser read the dark-web post that advertised a group, then opened its link: the lead
    shows both visits with their times, tied to the computer (exhibit, file, row) and to its owner."""
    from ringtrace.analysis.leads import lead_story, rank_leads

    truth, export, case = run
    page, link = truth["browser_visits"]
    assert page["what"] == "the page" and ".onion/" in page["url"] and link["what"] == "the link"
    assert page["group_key"] is not None  # the post advertised a real group
    (person,) = [pid for pid, phones in _phones(export).items() if page["phone"] in phones]
    rep = rank_leads(case)
    lead = next(x for x in rep.links if x.code == page["code"])
    mine = [v for v in lead.visits if v.source == "EX-PC1"]
    assert [(v.what, v.url, v.at.isoformat().replace("+00:00", "Z") if v.at else None) for v in mine] == [
        (t["what"], t["url"], t["at"]) for t in (page, link)]
    assert all(v.persons == [person] and v.location.startswith(page["file"] + ":moz_historyvisits:row ")
               for v in mine)
    comp = next(c for c in lead.components if c[0] == "visited by a device owner")
    assert f"the page visited by {person} on EX-PC1 at {page['at'][:19]}" in comp[2]
    # the post itself, as captured (each capture of it), carries the visit too
    posts = [p for p in rep.pages if p.uri == page["url"]]
    assert posts and all([(v.what, v.source, v.persons) for v in p.visits] == [("the page", "EX-PC1", [person])]
                         for p in posts)
    if page["group_tied_by_evidence"]:  # seed 5's devices never tie this code (the tiny operation's do)
        story = next(s for s in lead_story(case, rep) if s.code == page["code"])
        assert any(v["text"].startswith(f"the page visited by {person}") for v in story.visits)
    else:
        assert lead.group is None


def test_the_iphone_backup_on_the_computer(run) -> None:
    """The computer holds a backup of the suspect's iPhone: its chats are read through the manifest, every
    message of the backup pointing at a hashed file inside the backup folder."""
    truth, export, _ = run
    (bk,) = truth["backups"]
    from_backup = [m for m in export["messages"] if m["source"] == "EX-PC1"]
    assert from_backup and all(m["location"].startswith(bk["path"] + "/") for m in from_backup)
    by_key = _group_by_key(export)
    assert {by_key[k]["id"] for k in bk["chats"]} <= {m["chat"]["group"] for m in from_backup}
    # the backup holds what the phone holds (its broadcast lists and newsletters too): messages seen on both are
    # folded under the phone, so the backup's own chats are among the phone's
    of_phone = {m["chat"]["key"] for m in export["messages"] if m["source"] == bk["of_device"]}
    assert {m["chat"]["key"] for m in from_backup} <= of_phone
# ---- the classes of real evidence (issue 13) ------------------------------------------------------------------


def test_notices_are_typed_events_never_messages(run) -> None:
    """Encryption, security-code, deleted, waiting, missed-call and disappearing-message notices come out as
    events of their kind, in their group, at their time, about the right person; none as a message."""
    truth, export, _ = run
    phones = _phones(export)
    by_key = _group_by_key(export)
    events = {}
    for m in export["messages"]:
        if m["kind"] == "event":
            events.setdefault((m["source"], m["chat"]["group"], m["event"]["kind"], m["at"]), []).append(m)
    texts_at = {(m["source"], m["at"]) for m in export["messages"] if m["kind"] == "message"}
    kinds = set()
    for g in truth["groups"]:
        for n in g["notices"]:
            got = events.get((n["exhibit"], by_key[g["key"]]["id"], n["kind"], n["at"]), [])
            assert got, (g["gid"], n)
            if n["actor"] is None:
                assert all(e["sender"] is None for e in got), (n, got)  # about the chat, no one's act
            else:
                assert any(e["sender"] and n["actor"] in phones[e["sender"]] for e in got), (n, got)
            assert (n["exhibit"], n["at"]) not in texts_at, n  # never also a message
            kinds.add(n["kind"])
    assert kinds == {"encryption_notice", "security_code", "message_deleted", "message_waiting", "missed_call",
                     "ephemeral_setting"}, kinds


def test_chats_that_are_no_phone_number_kept_as_what_they_are(run) -> None:
    """status@broadcast, broadcast lists, newsletters and WhatsApp's own 0@s.whatsapp.net keep every message
    under their own JID and kind; no one's number is made from them; status posters are who posted."""
    truth, export, _ = run
    phones = _phones(export)
    by_chat: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in export["messages"]:
        if m["kind"] == "message":
            by_chat.setdefault((m["source"], m["chat"]["key"]), []).append(m)
    kinds = set()
    for c in truth["other_chats"]:
        got = by_chat.get((c["exhibit"], c["jid"]), [])
        assert len(got) == len(c["message_keys"]), c
        assert {m["chat"]["kind"] for m in got} == {c["kind"]}, c
        senders = {ph for m in got if m["sender"] for ph in phones[m["sender"]]}
        assert senders == set(c["senders"]), c
        kinds.add(c["jid"] if c["jid"] in ("status@broadcast", "0@s.whatsapp.net") else c["kind"])
    assert kinds == {"status@broadcast", "0@s.whatsapp.net", "broadcast", "channel"}, kinds
    all_phones = {ph for p in export["persons"] for ph in p["phones"]}
    assert not {ph for ph in all_phones if len(ph) < 6}, "a short JID user part is no phone number"


def test_owner_inferred_from_the_database_with_its_basis(run) -> None:
    """Phones whose extraction names no owner (no preferences file, no --owner): the owner is inferred from the
    database, with the rule in the basis, and their own messages and memberships follow (checked above)."""
    from sqlalchemy import select

    from ringtrace.store import schema as S

    truth, _, case = run
    ownerless = [d for d in truth["devices"] if not d["owner_recorded"]]
    assert {d["format"] for d in ownerless} == {"whatsapp_android", "whatsapp_ios"}
    with case.engine.connect() as con:
        rows = con.execute(select(S.sources.c.exhibit, S.sources.c.owner, S.device_owners.c.basis,
                                  S.accounts.c.value)
                           .join(S.device_owners, S.device_owners.c.source_id == S.sources.c.id)
                           .join(S.accounts, S.accounts.c.id == S.device_owners.c.account_id)).all()
    found = {r.exhibit: (r.value, r.basis, r.owner) for r in rows}
    for d in ownerless:
        value, basis, given = found[d["exhibit"]]
        assert given is None and value == d["owner"], (d, found[d["exhibit"]])
        assert basis.startswith("inferred from the database (") and "ranks below --owner" in basis, basis


def _tg_ids(export: dict[str, Any]) -> dict[str, set[str]]:
    return {p["id"]: {a["value"] for a in p["accounts"] if a["kind"] == "tg_id"} for p in export["persons"]}


def test_telegram_admins_by_conduct(run) -> None:
    """In Telegram only an admin removes someone else or owns the link a join came through: each person the
    export shows doing so is found as an admin by conduct, with the act as basis; nobody else is."""
    from sqlalchemy import select

    from ringtrace.analysis.roles import admin_acts
    from ringtrace.store import schema as S

    truth, export, case = run
    tg_of_phone = {p["phone"]: str(p["tg_id"]) for p in truth["persons"]}
    by_key = _group_by_key(export)
    tg = _tg_ids(export)
    with case.engine.connect() as con:
        acts = admin_acts(con)
        person_label = {r.id: r.label for r in con.execute(select(S.persons.c.id, S.persons.c.label))}
        group_label = {r.id: r.label for r in con.execute(select(S.groups.c.id, S.groups.c.label))}
    by_group: dict[str, set[str]] = {}
    for (gid, pid), v in acts.items():
        if any(a.decisive for a in v):
            assert all(a.basis.startswith("conduct: ") for a in v)
            by_group.setdefault(group_label[gid], set()).update(tg[person_label[pid]])
    checked = 0
    for g in truth["groups"]:
        if g["platform"] == "telegram" and g["observed_by"]:
            want = {tg_of_phone[ph] for ph in g["admins_by_conduct"]}
            assert by_group.get(by_key[g["key"]]["id"], set()) == want, g["gid"]
            checked += len(want)
    assert checked >= 1


def test_invite_links_tied_to_their_group_exactly(run) -> None:
    """A link is tied to a group only where the devices show the tie (the group's own code, a join through it,
    or its post by the creator or an admin, Telegram admins known by conduct included)."""
    truth, export, _ = run
    by_key = _group_by_key(export)
    got: dict[str, set[str]] = {}
    for link in export["invite_links"]:
        if link["group"]:
            got.setdefault(link["group"], set()).add(link["code"])
    tg_checked = 0
    for g in truth["groups"]:
        if not g["observed_by"]:
            continue
        eg = by_key[g["key"]]["id"]
        want = set(g["codes_tied_by_evidence"])
        assert want <= got.get(eg, set()), (g["gid"], sorted(want - got.get(eg, set())))
        # and never a wrong one: WhatsApp may tie more than the truth's rule counts (an admin's post read from an
        # export whose sender name was tied to the admin's number), but only the group's own codes
        assert got.get(eg, set()) <= {c["code"] for c in g["invite_codes"]}, g["gid"]
        if g["platform"] == "telegram":
            assert got.get(eg, set()) == want, g["gid"]
            tg_checked += len(want)
    assert tg_checked >= 1


def test_telegram_people_named_only_by_name_are_tied(run) -> None:
    """Someone a Telegram export prints only by name (added, removed, a link's inviter) is tied to the account
    the same export names so in its contacts list or personal_information, with that basis on record."""
    from sqlalchemy import select

    from ringtrace.store import schema as S

    truth, export, case = run
    want = truth["telegram_name_only"]
    assert want, "the operation must hold Telegram people known only by name"
    tg = _tg_ids(export)
    with case.engine.connect() as con:
        explanation = {r.label: r.explanation for r in con.execute(select(S.persons.c.label,
                                                                          S.persons.c.explanation))}
    for w in want:
        (pid,) = [p for p, ids in tg.items() if w["tg_id"] in ids]
        person = next(p for p in export["persons"] if p["id"] == pid)
        assert any(a["kind"] == "export_name" and a["value"].endswith(":" + w["name"]) for a in person["accounts"]), (
            w, person["accounts"])
        assert "same Telegram export names" in str(explanation[pid]) and w["by"] in str(explanation[pid]), (
            w, explanation[pid])


def test_calls_are_typed_events_on_the_timeline(run) -> None:
    """Every call of a call log (Android call_log, iOS CallHistory.sqlite) is an event (call or missed call) at
    its time, caller as actor and each callee (each participant of a group call) as target, in the group for a
    group call; never a message."""
    truth, export, _ = run
    phones = _phones(export)

    def phone(pid: str | None) -> str | None:
        return next(iter(phones[pid]), None) if pid else None

    got = sorted((m["source"], m["at"], m["event"]["kind"], phone(m["sender"]), phone(m["event"]["target"]),
                  m["chat"]["key"] if m["chat"]["kind"] == "group" else None)
                 for m in export["messages"] if m["kind"] == "event" and m["event"]["kind"] in ("call", "missed_call")
                 and m["event"]["raw_code"].startswith(("call_result=", "ZOUTCOME=")))
    want = sorted((c["exhibit"], c["at"], c["kind"], c["caller"], c["callee"], c["group"]) for c in truth["calls"])
    assert want and got == want
    assert {c["kind"] for c in truth["calls"]} == {"call", "missed_call"}
    assert any(c["group"] for c in truth["calls"])
    fmt = {d["exhibit"]: d["format"] for d in truth["devices"]} | {b["exhibit"]: b["format"] for b in truth["backups"]}
    assert {fmt[c["exhibit"]] for c in truth["calls"]} == {"whatsapp_android", "whatsapp_ios", "ios-backup"}


def test_the_computer_is_a_disk_image_recorded_in_place(run) -> None:
    """EX-PC1 is a raw GPT disk: recorded where it lies (mode in-place, nothing of it copied to the vault) and
    identified by its media's digests, with its one ext4 partition walked."""
    from sqlalchemy import select

    from ringtrace.store import schema as S

    truth, export, case = run
    disk = _disk(truth)
    (src,) = [s for s in export["sources"] if s["exhibit"] == "EX-PC1"]
    assert (src["kind"], src["mode"]) == ("disk", "in-place")
    assert src["path"].endswith(disk["image"])
    assert (src["sha256"], src["md5"]) == (disk["media_sha256"], disk["media_md5"])
    with case.engine.connect() as con:
        (img,) = con.execute(select(S.disk_images).where(S.disk_images.c.source_id == src["id"])).all()
        found = con.execute(select(S.disk_files).where(S.disk_files.c.source_id == src["id"])).all()
    assert (img.image_type, img.sha256, img.md5) == ("RAW", disk["media_sha256"], disk["media_md5"])
    assert [s["name"] for s in img.segments] == disk["segments"] and img.copied is False
    assert [(v["partition"], v["fs_type"], v["offset"]) for v in img.volumes] == [
        (p["partition"], "Ext4", p["offset"]) for p in disk["partitions"]]
    assert not case.vault.has(disk["media_sha256"])
    # every file the disk holds, deleted ones too, is found with its place
    want = {(f["tree_path"], f["sha256"], f["inode"], f["deleted"]) for f in disk["files"]}
    assert {(r.relpath, r.sha256, r.inode, bool(r.deleted)) for r in found} == want
    assert any(f["deleted"] for f in disk["files"])


def test_the_usb_stick_is_read_off_its_exfat_volume(run) -> None:
    """EX-USB1 is a raw MBR disk with an exFAT volume: every file on it, the deleted one too, is found with its
    path, times and deleted flag, and its known pictures are matched with that place."""
    from sqlalchemy import select

    from ringtrace.store import schema as S

    truth, export, case = run
    sticks = [d for d in truth["disks"] if d["exhibit"] == "EX-USB1"]
    if not sticks:
        pytest.skip("no USB stick was built: the exFAT tools or the 'disk' extra are missing")
    (disk,) = sticks
    (src,) = [s for s in export["sources"] if s["exhibit"] == "EX-USB1"]
    assert (src["kind"], src["sha256"]) == ("disk", disk["media_sha256"])
    with case.engine.connect() as con:
        found = con.execute(select(S.disk_files).where(S.disk_files.c.source_id == src["id"])).all()
    got = {(r.relpath, r.fs_type, r.sha256, bool(r.deleted), r.mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
            r.crtime.strftime("%Y-%m-%dT%H:%M:%SZ")) for r in found}
    assert got == {(f["tree_path"], "exFAT", f["sha256"], f["deleted"], f["mtime"], f["crtime"])
                   for f in disk["files"]}
    by_sha = {m["sha256"]: m for m in export["media"]}
    for p in disk["pictures"]:
        m = by_sha[p["sha256"]]
        assert bool(m["matches"]) is p["known"], p["fs_path"]
        (f,) = [f for f in m["files"] if f["source"] == "EX-USB1"]
        assert (f["place"]["fs_type"], f["place"]["fs_path"], f["place"]["deleted"]) == (
            "exFAT", p["fs_path"], p["deleted"])


def test_browser_history_and_backup_are_found_inside_the_image(run) -> None:
    """The Tor history and the iPhone backup are read off the disk's partition, as they were from a folder: the
    visits point at the places.sqlite inside the image, the backup's chats at files of its folder there."""
    truth, export, _ = run
    disk = _disk(truth)
    on_disk = {f["tree_path"] for f in disk["files"]}
    page, link = truth["browser_visits"]
    assert page["file"] == link["file"] and page["file"] in on_disk and page["file"].startswith("p1/Users/")
    (bk,) = truth["backups"]
    assert any(p.startswith(bk["path"] + "/") for p in on_disk) and bk["path"].startswith("p1/")
    from_backup = [m for m in export["messages"] if m["source"] == "EX-PC1"]
    assert {m["location"].split(":", 1)[0] for m in from_backup} <= on_disk


def test_known_pictures_on_the_disk_are_matched_with_their_place(run) -> None:
    """Every known picture on the disk, the deleted ones included (one of them held by no other exhibit), is
    matched as the phones' media are, and the export gives its place: partition, path, inode, deleted, MACB."""
    truth, export, _ = run
    disk = _disk(truth)
    pics = disk["pictures"]
    assert {(p["known"], p["deleted"]) for p in pics} == {(True, True), (True, False), (False, True), (False, False)}
    assert any(p["only_here"] for p in pics)
    by_sha = {m["sha256"]: m for m in export["media"]}
    for p in pics:
        m = by_sha[p["sha256"]]
        if p["known"]:
            assert any(x["method"] == p["method"] for x in m["matches"]), (p["fs_path"], m["matches"])
        else:
            assert not m["matches"], p["fs_path"]
        (f,) = [f for f in m["files"] if f["source"] == "EX-PC1" and f["path"] == p["tree_path"]]
        place = f["place"]
        assert (place["partition"], place["fs_type"], place["fs_path"], place["inode"], place["deleted"]) == (
            p["partition"], "Ext4", p["fs_path"], p["inode"], p["deleted"]), p["fs_path"]
        assert [place[k] for k in ("mtime", "atime", "ctime", "crtime")] == [
            p[k] for k in ("mtime", "atime", "ctime", "crtime")], p["fs_path"]
    only = [p for p in pics if p["only_here"]]
    assert all(len(by_sha[p["sha256"]]["files"]) == 1 for p in only)  # no other exhibit holds it
