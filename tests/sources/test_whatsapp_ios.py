"""WhatsApp iOS ChatStorage.sqlite: round trip through the synthetic writer, and bad inputs."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_whatsapp_android import ANA, BEN, CARL, DORA, OWNER, T0, expected_events, make_view, read_all

from ringtrace.model import DeviceOwner, Group, GroupEvent, Message, NameSeen, Participant, Problem
from ringtrace.sources.base import Candidate, FormatError, registry
from ringtrace.sources.whatsapp.android import jid_account
from ringtrace.synth.formats import whatsapp_ios as writer

DB = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite"


def write_and_read(tmp_path: Path) -> list[Any]:
    writer.write(make_view("ios"), tmp_path, seed=5)
    return read_all(tmp_path, DB, "whatsapp-ios")


def test_round_trip(tmp_path: Path) -> None:
    recs = write_and_read(tmp_path)
    assert [r.account.value for r in recs if isinstance(r, DeviceOwner)] == [OWNER.phone]
    (g,) = [r for r in recs if isinstance(r, Group)]
    assert g.name == "Club Jardín" and g.created_at == T0 and g.creator == jid_account(CARL.jid)
    parts = {(r.account.value, r.current, r.role) for r in recs if isinstance(r, Participant)}
    assert {
        (CARL.phone, True, "admin"),
        (OWNER.phone, True, "admin"),
        (ANA.phone, True, "member"),
        (BEN.phone, True, "member"),
        (DORA.phone, False, "member"),
    } == parts
    evs = [
        (r.kind, r.actor.value if r.actor else None, r.target.value if r.target else None, r.value)
        for r in recs
        if isinstance(r, GroupEvent)
    ]
    assert evs == expected_events()
    msgs = {r.msg_key: r for r in recs if isinstance(r, Message)}
    assert len(msgs) == 9  # iOS has no WAL-only rows in the writer: all nine are in the db
    assert msgs["MSG01"].sender == jid_account(CARL.jid) and msgs["MSG03"].from_owner
    assert msgs["MSG03"].sender == jid_account(OWNER.jid)
    assert msgs["DM01"].sender == jid_account(BEN.jid) and msgs["DM01"].chat.kind == "direct"
    assert msgs["MSG02"].text == "ciao"
    view = make_view("ios")
    m2, m4 = msgs["MSG02"].media[0], msgs["MSG04"].media[0]
    v2, v4 = view.groups[0].messages[1].media, view.groups[0].messages[3].media
    assert v2 is not None and v4 is not None
    assert m2.sha256 == v2.sha256 and m2.path and not m2.declared_only
    assert (tmp_path / m2.path).read_bytes() == v2.data
    assert m4.path is None and m4.declared_only and m4.sha256 == v4.sha256
    names = {(r.account.value, r.name, r.kind) for r in recs if isinstance(r, NameSeen)}
    assert (ANA.phone, "Ana Trabajo", "contact_name") in names and (BEN.phone, BEN.name, "push_name") in names
    assert not [r for r in recs if isinstance(r, Problem)]


def test_group_event_type_ignored_on_ordinary_messages(tmp_path: Path) -> None:
    writer.write(make_view("ios"), tmp_path, seed=5)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("UPDATE ZWAMESSAGE SET ZGROUPEVENTTYPE = 2 WHERE ZMESSAGETYPE != 6")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    assert len([r for r in recs if isinstance(r, GroupEvent)]) == 8
    assert len([r for r in recs if isinstance(r, Message)]) == 9


def test_unknown_event_code(tmp_path: Path) -> None:
    writer.write(make_view("ios"), tmp_path, seed=5)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("UPDATE ZWAMESSAGE SET ZGROUPEVENTTYPE = 777 WHERE ZSTANZAID = 'EV04'")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    assert [r.raw_code for r in recs if isinstance(r, GroupEvent) and r.kind == "unknown"] == ["777"]
    assert any(isinstance(r, Problem) and "unknown code 777" in r.reason for r in recs)


def test_claims(tmp_path: Path) -> None:
    writer.write(make_view("ios"), tmp_path, seed=5)
    ios, android = registry()["whatsapp-ios"](), registry()["whatsapp-android"]()
    cand = Candidate(tmp_path, DB, (tmp_path / DB).stat().st_size)
    assert ios.claim(cand) == 95 and android.claim(cand) == 0


def test_missing_table(tmp_path: Path) -> None:
    writer.write(make_view("ios"), tmp_path, seed=5)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("DROP TABLE ZWACHATSESSION")
    con.commit()
    con.close()
    with pytest.raises(FormatError, match="ZWACHATSESSION"):
        read_all(tmp_path, DB, "whatsapp-ios")


def test_missing_member_table_partial(tmp_path: Path) -> None:
    writer.write(make_view("ios"), tmp_path, seed=5)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("DROP TABLE ZWAGROUPMEMBER")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    assert any(isinstance(r, Problem) and "ZWAGROUPMEMBER" in r.reason for r in recs)
    assert len([r for r in recs if isinstance(r, Message)]) == 9


def test_truncated(tmp_path: Path) -> None:
    writer.write(make_view("ios"), tmp_path, seed=5)
    p = tmp_path / DB
    p.write_bytes(p.read_bytes()[:3000])
    with pytest.raises(FormatError, match="ChatStorage.sqlite.*malformed"):
        read_all(tmp_path, DB, "whatsapp-ios")


PLIST = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared/Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist"


def _no_plist(tmp_path: Path) -> None:
    writer.write(make_view("ios"), tmp_path, seed=5)
    (tmp_path / PLIST).unlink()


def test_owner_inferred_from_own_event_rows(tmp_path: Path) -> None:
    """No plist, no --owner: the owner's own subject change (ZISFROMME 1, type 6) names them in ZGROUPMEMBER."""
    _no_plist(tmp_path)
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.account.value == OWNER.phone
    assert "own-event member" in own.basis and "below --owner" in own.basis
    assert own.prov.table == "ZWAMESSAGE"
    msgs = {r.msg_key: r for r in recs if isinstance(r, Message)}
    assert msgs["MSG03"].sender is not None and msgs["MSG03"].sender.value == OWNER.phone
    evs = {(r.kind, r.actor.value if r.actor else None) for r in recs if isinstance(r, GroupEvent)}
    assert ("subject", OWNER.phone) in evs and ("removed", OWNER.phone) in evs
    probs = [r for r in recs if isinstance(r, Problem)]
    assert [p.severity for p in probs] == ["info"] and "own-event member" in probs[0].reason


def test_examiner_owner_outranks_inference(tmp_path: Path) -> None:
    _no_plist(tmp_path)
    recs = read_all(tmp_path, DB, "whatsapp-ios", owner="+34600999888")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.basis == "--owner" and own.account.value == "+34600999888"


def test_owner_from_direct_recipient_and_conflicts(tmp_path: Path) -> None:
    """Without own event rows the recipient JID of received 1:1 messages decides; disagreeing rows decide
    nothing and say so."""
    _no_plist(tmp_path)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("DELETE FROM ZWAMESSAGE WHERE ZMESSAGETYPE = 6 AND ZISFROMME = 1")
    direct = con.execute("SELECT Z_PK FROM ZWACHATSESSION WHERE ZCONTACTJID NOT LIKE '%@g.us'").fetchone()[0]
    con.execute("UPDATE ZWAMESSAGE SET ZTOJID = ? WHERE ZCHATSESSION = ? AND ZISFROMME = 0",
                (OWNER.jid, direct))
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.account.value == OWNER.phone and "recipient of received direct messages" in own.basis
    con = sqlite3.connect(tmp_path / DB)
    pk = con.execute("SELECT MAX(Z_PK) FROM ZWAMESSAGE WHERE ZTOJID = ?", (OWNER.jid,)).fetchone()[0]
    con.execute("INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, Z_OPT, ZISFROMME, ZMESSAGETYPE, ZCHATSESSION, "
                "ZMESSAGEDATE, ZTOJID, ZTEXT) VALUES (?, 9, 1, 0, 0, ?, 700000000, ?, 'x')",
                (pk + 1000, direct, ANA.jid))
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    assert not [r for r in recs if isinstance(r, DeviceOwner)]
    reasons = [r.reason for r in recs if isinstance(r, Problem)]
    assert any("names 2 different numbers" in x for x in reasons)
    assert any("owner's number not found" in x for x in reasons)


def test_system_rows_are_notices_not_messages(tmp_path: Path) -> None:
    """ZMESSAGETYPE 10 (by ZGROUPEVENTTYPE), 12 and 14 rows are typed events, never messages (IPED
    ExtractorIOS.decodeMessageType); an unknown 10/x is kept as 'other' with one info problem."""
    writer.write(make_view("ios"), tmp_path, seed=5)
    con = sqlite3.connect(tmp_path / DB)
    direct = con.execute("SELECT Z_PK FROM ZWACHATSESSION WHERE ZCONTACTJID NOT LIKE '%@g.us'").fetchone()[0]
    rows = [(1, 10, 1, 0), (2, 10, 4, 1), (3, 10, 2, 0), (4, 10, 3, 0), (5, 14, 0, 0), (6, 10, 99, 0),
            (7, 12, 0, 0)]
    for i, mtype, gtype, fm in rows:
        con.execute("INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, Z_OPT, ZISFROMME, ZMESSAGETYPE, ZGROUPEVENTTYPE, "
                    "ZCHATSESSION, ZMESSAGEDATE, ZFROMJID, ZSTANZAID, ZTEXT) VALUES (?,9,1,?,?,?,?,?,?,?,?)",
                    (9000 + i, fm, mtype, gtype, direct, 700000000 + i, BEN.jid, f"N{i}", None))
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    assert not [m for m in recs if isinstance(m, Message) and (m.msg_key or "").startswith("N")]
    got = {r.msg_key: (r.kind, r.actor.value if r.actor else None) for r in recs
           if isinstance(r, GroupEvent) and (r.msg_key or "").startswith("N")}
    assert got == {
        "N1": ("missed_call", BEN.phone),
        "N2": ("missed_call", OWNER.phone),
        "N3": ("encryption_notice", None),
        "N4": ("security_code", BEN.phone),
        "N5": ("message_deleted", BEN.phone),
        "N6": ("other", BEN.phone),
        "N7": ("other", BEN.phone),
    }
    infos = [p.reason for p in recs if isinstance(p, Problem)]
    assert len(infos) == 2 and all("has no known meaning" in x for x in infos)


def test_owner_as_member_of_every_group(tmp_path: Path) -> None:
    """No plist, no own event rows, no ZTOJID: the one member of every group (two here) who never sent a
    received group message is the owner, with that rule as the basis."""
    _no_plist(tmp_path)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("DELETE FROM ZWAMESSAGE WHERE ZMESSAGETYPE = 6 AND ZISFROMME = 1")
    con.execute("INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, Z_OPT, ZSESSIONTYPE, ZCONTACTJID, ZPARTNERNAME) "
                "VALUES (500, 4, 1, 1, '120363049999999999@g.us', 'Second')")
    for pk, jid in ((900, OWNER.jid), (901, CARL.jid)):
        con.execute("INSERT INTO ZWAGROUPMEMBER (Z_PK, Z_ENT, Z_OPT, ZISACTIVE, ZISADMIN, ZCHATSESSION, "
                    "ZMEMBERJID) VALUES (?, 8, 1, 1, 0, 500, ?)", (pk, jid))
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.account.value == OWNER.phone and "member of every group" in own.basis
    assert own.prov.table == "ZWAGROUPMEMBER"


def _with_other_chats(variant: str) -> Any:
    from ringtrace.synth.view import VChat, VPost

    view = make_view(variant)
    view.others = [
        VChat("status@broadcast", "broadcast", [VPost("ST01", ANA, T0, "at the beach"),
                                                VPost("ST02", BEN, T0, "busy")]),
        VChat("120363111222333444@newsletter", "channel", [VPost("NL01", None, T0, "Weekly update")]),
        VChat("0@s.whatsapp.net", "direct", [VPost("WA01", None, T0, "Welcome to WhatsApp")]),
    ]
    return view


def test_chats_that_are_no_phone_number(tmp_path: Path) -> None:
    """status@broadcast, a newsletter and WhatsApp's own 0@s.whatsapp.net keep their messages under their own
    kind; status posts name their poster; nothing is a group, no number is made from '0'; a chat row whose JID
    cannot be read and the messages of a chat the table lacks are counted in named problems."""
    writer.write(_with_other_chats("ios"), tmp_path, seed=5)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, Z_OPT, ZCONTACTJID) VALUES (900, 4, 1, NULL)")
    con.execute("INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, Z_OPT, ZISFROMME, ZMESSAGETYPE, ZCHATSESSION, ZMESSAGEDATE,"
                " ZTEXT) VALUES (901, 9, 1, 0, 0, 900, 700000000, 'lost chat')")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    msgs = {r.msg_key: r for r in recs if isinstance(r, Message)}
    assert msgs["ST01"].chat.kind == "broadcast" and msgs["ST01"].sender == jid_account(ANA.jid)
    assert msgs["ST02"].sender == jid_account(BEN.jid)
    assert msgs["NL01"].chat.kind == "channel" and msgs["NL01"].sender is None
    assert msgs["WA01"].chat.kind == "direct" and msgs["WA01"].sender is not None
    assert msgs["WA01"].sender.kind == "jid" and msgs["WA01"].sender.value == "0@s.whatsapp.net"
    assert [r.chat.key for r in recs if isinstance(r, Group)] == ["120363041234567890@g.us"]
    assert not any(isinstance(r, Participant) and r.chat.kind != "group" for r in recs)
    reasons = [p.reason for p in recs if isinstance(p, Problem)]
    assert any("1 row(s) skipped: chat row without a readable JID (ZWACHATSESSION:900)" in r for r in reasons)
    assert any("1 row(s) skipped: message of a chat the chat table lacks (ZWAMESSAGE:901)" in r for r in reasons)


def test_call_history_beside_chat_storage(tmp_path: Path) -> None:
    """CallHistory.sqlite in the app group folder is read with ChatStorage: each call an event (iLEAPP's ZOUTCOME:
    0 ended, 1 missed, 4 rejected), the caller acting, each other participant a target, never a message; an
    unknown outcome is kept and reported, a call naming no one is counted in a named problem."""
    from ringtrace.synth.view import VCall

    view = make_view("ios")
    gkey = view.groups[0].key
    view.calls = [VCall("C1", BEN, False, T0, True, 0, 2), VCall("C2", ANA, True, T0, False, 60, 5),
                  VCall("C3", ANA, True, T0, True, 0, 5, gkey, ((ANA, 5), (CARL, 2)))]
    writer.write(view, tmp_path, seed=5)
    calls_db = tmp_path / DB.replace("ChatStorage", "CallHistory")
    con = sqlite3.connect(calls_db)
    con.execute("INSERT INTO ZWACDCALLEVENT (Z_PK, ZDATE, ZOUTCOME, ZCALLIDSTRING) VALUES (50, 700000000, 9, 'C9')")
    con.execute("INSERT INTO ZWACDCALLEVENTPARTICIPANT (Z_PK, Z1PARTICIPANTS, ZJIDSTRING) VALUES (50, 50, ?)",
                (BEN.jid,))
    con.execute("INSERT INTO ZWACDCALLEVENT (Z_PK, ZDATE, ZOUTCOME, ZCALLIDSTRING) VALUES (51, 700000000, 0, 'C0')")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-ios")
    got = sorted((r.msg_key, r.kind, r.actor.value if r.actor else None, r.target.value if r.target else None,
                  r.chat.kind, r.value) for r in recs if isinstance(r, GroupEvent)
                 and (r.raw_code or "").startswith("ZOUTCOME="))
    assert got == [
        ("C1", "missed_call", BEN.phone, OWNER.phone, "direct", "video, missed"),
        ("C2", "call", OWNER.phone, ANA.phone, "direct", "audio, ended, 60 s"),
        ("C3", "call", OWNER.phone, ANA.phone, "group", "video, ended"),
        ("C3", "call", OWNER.phone, CARL.phone, "group", "video, ended"),
        ("C9", "call", OWNER.phone, BEN.phone, "direct", "audio, outcome 9"),
    ]
    assert not [m for m in recs if isinstance(m, Message) and m.msg_key in ("C1", "C2", "C3", "C9")]
    reasons = [p.reason for p in recs if isinstance(p, Problem)]
    assert any("unknown code 9" in r and "ZOUTCOME" in r for r in reasons)
    assert any("1 row(s) skipped: call without a readable participant or group JID (ZWACDCALLEVENT:51)" in r
               for r in reasons)


# ---- the message loop gives what the per-row helpers give ----------------------------------------------------


def _reference_message_rows(self: Any, sql: str) -> Any:
    """``_IOSReader.message_rows`` as it was before its fast loop: each row through the general helpers
    (``apple_dt``, ``message_sender``, ``account``, ``Path(...).name``, the record classes themselves)."""
    from ringtrace.model import MediaRef, Prov
    from ringtrace.sources._helpers.sqlite_util import batches
    from ringtrace.sources.whatsapp.android import b64_to_hex
    from ringtrace.sources.whatsapp.device_reader import message_sender
    from ringtrace.sources.whatsapp.ios import BATCH, NOTICE_TYPES, apple_dt

    for rows in batches(self.con, sql, BATCH):
        for pk, chat, key, fm, _fromjid, mjid, date, text, mtype, gtype, mpk, lpath, vname, fsize, vstr, title in rows:
            ref = self.chats.get(chat)
            if ref is None:
                self.skip("message of a chat the chat table lacks", "ZWAMESSAGE", pk)
                continue
            at = apple_dt(date)
            if mtype == 6:
                if ref.kind == "group":
                    yield from self.event(ref, pk, key, fm, mjid, at, text, gtype)
                else:
                    self.skip("group event row in a chat that is not a group", "ZWAMESSAGE", pk)
                continue
            prov = Prov(self.file, "ZWAMESSAGE", str(pk))
            if mtype in NOTICE_TYPES:
                yield from self.notice(ref, pk, key, fm, mjid, at, mtype, gtype, prov)
                continue
            if at is None:
                yield Problem(self.file, f"ZWAMESSAGE row {pk}: unreadable date {date!r}; skipped", prov, "warning")
                continue
            sender = message_sender(fm, ref, self.owner, None if fm else jid_account(mjid))
            yield from self.account(sender, prov)
            mrefs: tuple[MediaRef, ...] = ()
            if mpk is not None and (lpath or vname):
                path = self.media.resolve(lpath if isinstance(lpath, str) else None)
                mime = vstr if isinstance(vstr, str) and "/" in vstr and len(vstr) < 100 else None
                mrefs = (MediaRef(path, b64_to_hex(vname), Path(lpath).name if isinstance(lpath, str) else None,
                                  fsize if isinstance(fsize, int) else None, mime, declared_only=path is None),)
            if text is None and isinstance(title, str) and mrefs:
                text = title
            yield Message(ref, key, sender, at, text, prov, mrefs, False, bool(fm), str(mtype))


def _odd_rows(root: Path) -> None:
    """The writer's database with every message copied three times, the copies off the common path: dates as
    text, integers, NULL and out of range; types as text and float; own flags 2 and NULL; members that are
    missing or no phone number; media rows with odd paths, sizes as text, captions."""
    writer.write(_with_other_chats("ios"), root, seed=5)
    con = sqlite3.connect(root / DB)
    cols = [r[1] for r in con.execute("PRAGMA table_info(ZWAMESSAGE)")]
    rest = ", ".join(c for c in cols if c != "Z_PK")
    for k in (1, 2, 3):
        con.execute(f"INSERT INTO ZWAMESSAGE (Z_PK, {rest}) SELECT Z_PK + {k * 1000}, {rest} FROM ZWAMESSAGE "
                    "WHERE Z_PK < 1000")
    pks = [pk for (pk,) in con.execute("SELECT Z_PK FROM ZWAMESSAGE WHERE Z_PK > 1000 AND ZMESSAGETYPE != 6 "
                                       "ORDER BY Z_PK")]
    dates: list[object] = ["700000000.25", 700000000, None, 1e300, -1e12, "abc", b"\x00", 3e10, -3e10, 1.5]
    types: list[object] = ["0", 0.0, None, 1, "x"]
    for i, pk in enumerate(pks):
        con.execute("UPDATE ZWAMESSAGE SET ZMESSAGEDATE = ? WHERE Z_PK = ?", (dates[i % len(dates)], pk))
        if i % 3 == 0:
            con.execute("UPDATE ZWAMESSAGE SET ZMESSAGETYPE = ? WHERE Z_PK = ?", (types[i % len(types)], pk))
        if i % 4 == 1:
            con.execute("UPDATE ZWAMESSAGE SET ZISFROMME = ? WHERE Z_PK = ?", ((2, None)[i % 2], pk))
        if i % 5 == 2:
            con.execute("UPDATE ZWAMESSAGE SET ZGROUPMEMBER = ? WHERE Z_PK = ?", (99999, pk))
    con.execute("INSERT INTO ZWAGROUPMEMBER (Z_PK, Z_ENT, Z_OPT, ZISACTIVE, ZISADMIN, ZCHATSESSION, ZMEMBERJID) "
                "SELECT 7000, 8, 1, 1, 0, ZCHATSESSION, '201234567890123@lid' FROM ZWAGROUPMEMBER LIMIT 1")
    con.execute("UPDATE ZWAMESSAGE SET ZGROUPMEMBER = 7000 WHERE Z_PK % 7 = 3 AND ZGROUPMEMBER IS NOT NULL")
    paths: list[object] = ["Media/x/", "", None, "Media/./a.jpg", "Media/a/..", "/", "a.jpg"]
    for i, (mpk,) in enumerate(con.execute("SELECT Z_PK FROM ZWAMEDIAITEM ORDER BY Z_PK").fetchall()):
        con.execute("INSERT INTO ZWAMEDIAITEM (Z_PK, Z_ENT, Z_OPT, ZFILESIZE, ZMEDIALOCALPATH, ZVCARDNAME, "
                    "ZVCARDSTRING, ZTITLE) VALUES (?, 1, 1, ?, ?, ?, ?, ?)",
                    (mpk + 5000, ("12", 12, None)[i % 3], paths[i % len(paths)],
                     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", ("image/jpeg", "x" * 200, None)[i % 3],
                     "a caption"))
        con.execute("UPDATE ZWAMESSAGE SET ZMEDIAITEM = ?, ZTEXT = NULL WHERE ZMEDIAITEM = ? AND Z_PK > 2000",
                    (mpk + 5000, mpk))
    con.commit()
    con.close()


@pytest.mark.parametrize("odd", [False, True])
@pytest.mark.parametrize("opts", [{}, {"owner": "+34600999888"}])
def test_message_rows_equal_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: bool,
                                      opts: dict[str, str]) -> None:
    from ringtrace.sources.whatsapp import ios

    if odd:
        _odd_rows(tmp_path)
    else:
        writer.write(_with_other_chats("ios"), tmp_path, seed=5)
    if opts:
        (tmp_path / PLIST).unlink()
    fast = read_all(tmp_path, DB, "whatsapp-ios", **opts)
    monkeypatch.setattr(ios._IOSReader, "message_rows", _reference_message_rows)
    ref = read_all(tmp_path, DB, "whatsapp-ios", **opts)
    assert fast == ref
    assert [type(r) for r in fast] == [type(r) for r in ref]
    msgs = [r for r in fast if isinstance(r, Message)]
    assert len(msgs) >= (30 if odd else 12) and any(m.media for m in msgs)
    if odd:
        assert any(isinstance(r, Problem) and "unreadable date" in r.reason for r in fast)
        assert any(m.media and m.text == "a caption" for m in msgs)


def test_path_name_is_pathlib_name() -> None:
    from ringtrace.sources.whatsapp.ios import path_name

    names = ["", "/", "//", "///", ".", "..", "./", "a", "a/", "a/.", "a/./", "a/..", "/a/b.jpg", "a//b", "a/b/",
             "Media/x/./", "...", "a/...", ".hidden", "a/.hidden", "\x00", "a/\x00b", "a\\b", " ", "a/ "]
    for p in names:
        assert path_name(p) == Path(p).name, p
