"""Hand-built DeviceViews with invented people and benign generated images, shared by the WhatsApp tests."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
from PIL import Image, ImageDraw

from ringtrace.model import Record
from ringtrace.sources.base import Candidate, Unit, registry
from ringtrace.synth.view import DeviceView, VDirect, VEvent, VGroup, VMedia, VMessage, VPerson

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)

OWNER = VPerson("+34612345678", "Lucía Prueba")
ANA = VPerson("+393471234567", "Ana Inventata", lid="201234567890123")
BEN = VPerson("+447400123456", "Ben Madeup")
CARL = VPerson("+4915112345678", "Carl Erfunden", lid="209876543210987")
DORA = VPerson("+34622333444", "Dora Ficticia")

for _p in (OWNER, ANA, BEN, CARL, DORA):
    assert phonenumbers.is_valid_number(phonenumbers.parse(_p.phone)), _p.phone


def image(seed: int) -> bytes:
    img = Image.new("RGB", (48, 32), (seed * 40 % 256, 120, 200))
    ImageDraw.Draw(img).ellipse((4, 4, 30, 28), fill=(255, 255 - seed * 30 % 256, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)



def expected_events() -> list[tuple[str, str | None, str | None, str | None]]:
    """The group events of ``make_view`` as (kind, actor phone, target phone, value): every database format
    must give back exactly these."""
    return [
        ("created", CARL.phone, None, None),
        ("added", CARL.phone, OWNER.phone, None),
        ("added", CARL.phone, ANA.phone, None),
        ("joined_link", BEN.phone, BEN.phone, None),
        ("promoted", CARL.phone, OWNER.phone, None),
        ("subject", OWNER.phone, None, "Club Jardín"),
        ("added", OWNER.phone, DORA.phone, None),
        ("removed", OWNER.phone, DORA.phone, None),
    ]


def make_view(variant: str, lid_mapped: bool = True) -> DeviceView:
    gkey = "120363041234567890@g.us"
    img1 = VMedia("IMG-20240301-WA0001.jpg", image(1))
    img2 = VMedia("IMG-20240301-WA0002.jpg", image(2), present=False)
    events = [
        VEvent("EV01", "created", t(0), actor=CARL),
        VEvent("EV02", "added", t(1), actor=CARL, target=OWNER),
        VEvent("EV03", "added", t(2), actor=CARL, target=ANA),
        VEvent("EV04", "joined_link", t(3), actor=BEN, target=BEN),
        VEvent("EV05", "promoted", t(4), actor=CARL, target=OWNER),
        VEvent("EV06", "subject", t(5), actor=OWNER, value="Club Jardín"),
        VEvent("EV07", "added", t(6), actor=OWNER, target=DORA),
        VEvent("EV08", "removed", t(30), actor=OWNER, target=DORA),
    ]
    msgs = [
        VMessage("MSG01", CARL, t(10), "hola a todos"),
        VMessage("MSG02", ANA, t(11), "ciao", media=img1),
        VMessage("MSG03", OWNER, t(12), "buenos días"),
        VMessage("MSG04", BEN, t(13), None, media=img2, forwarded=True),
        VMessage("MSG05", DORA, t(14), "hallo"),
        VMessage("MSG06", ANA, t(40), "recent, only in the WAL", in_wal=True),
        VMessage("MSG07", OWNER, t(41), "mine, also WAL", in_wal=True),
    ]
    g = VGroup(
        "whatsapp",
        gkey,
        "Club Jardín",
        t(0),
        CARL,
        participants=[(CARL, "superadmin"), (OWNER, "admin"), (ANA, "member"), (BEN, "member")],
        past=[(DORA, t(30))],
        events=events,
        messages=msgs,
    )
    direct = VDirect(BEN, [VMessage("DM01", BEN, t(50), "privado"), VMessage("DM02", OWNER, t(51), "ok")])
    return DeviceView(
        OWNER,
        "whatsapp",
        groups=[g],
        directs=[direct],
        contacts=[(ANA, "Ana Trabajo")],
        variant=variant,
        lid_mapped=lid_mapped,
    )


def unit_for(root: Path, relpath: str, fmt: str) -> Unit:
    all_rel = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    cand = Candidate(root, relpath, (root / relpath).stat().st_size)
    cls = registry()[fmt]
    members = cls().members(cand, all_rel)
    return Unit(root, relpath, fmt, members)


def read_all(root: Path, relpath: str, fmt: str, **opts: object) -> list[Record]:
    from ringtrace.model import ReadOptions

    unit = unit_for(root, relpath, fmt)
    return list(registry()[fmt]().read(unit, ReadOptions(**opts)))  # type: ignore[arg-type]


# ---- tests -------------------------------------------------------------------------------------------------

import shutil  # noqa: E402
import sqlite3  # noqa: E402

import pytest  # noqa: E402

from ringtrace.model import (  # noqa: E402
    Account,
    AccountKey,
    AccountLink,
    DeviceOwner,
    Group,
    GroupEvent,
    Message,
    NameSeen,
    Participant,
    Problem,
)
from ringtrace.sources._helpers.sqlite_util import open_readonly_copy  # noqa: E402
from ringtrace.sources.base import FormatError  # noqa: E402
from ringtrace.sources.whatsapp.android import jid_account  # noqa: E402
from ringtrace.synth.formats import whatsapp_android as writer  # noqa: E402

DB = "data/data/com.whatsapp/databases/msgstore.db"


def phone(p: VPerson) -> str:
    return p.phone


def write_and_read(tmp_path: Path, variant: str, lid_mapped: bool = True) -> list[Record]:
    writer.write(make_view(variant, lid_mapped), tmp_path, seed=7)
    return read_all(tmp_path, DB, "whatsapp-android")


def ident(key: object, links: dict[str, str]) -> str | None:
    """An account as its phone number, through the LID map when there is one."""
    if key is None:
        return None
    v: str = key.value  # type: ignore[attr-defined]
    return links.get(v, v)


@pytest.mark.parametrize("variant", ["legacy", "current", "mixed"])
def test_round_trip(tmp_path: Path, variant: str) -> None:
    recs = write_and_read(tmp_path, variant)
    links = {r.a.value: r.b.value for r in recs if isinstance(r, AccountLink)}
    assert [r.account.value for r in recs if isinstance(r, DeviceOwner)] == [OWNER.phone]
    (group,) = [r for r in recs if isinstance(r, Group)]
    assert (
        group.name == "Club Jardín" and group.created_at == T0 and ident(group.creator, links) == CARL.phone
    )
    parts = {(ident(r.account, links), r.current, r.role) for r in recs if isinstance(r, Participant)}
    assert (CARL.phone, True, "superadmin") in parts
    assert (ANA.phone, True, "member") in parts and (BEN.phone, True, "member") in parts
    owner_parts = [r for r in recs if isinstance(r, Participant) and r.account.value == OWNER.phone]
    assert len(owner_parts) == 1 and owner_parts[0].prov.table == "inferred"
    assert owner_parts[0].role == "admin" and owner_parts[0].current
    if variant != "legacy":
        assert (DORA.phone, False, "member") in parts
    evs = [
        (r.kind, ident(r.actor, links), ident(r.target, links), r.value)
        for r in recs
        if isinstance(r, GroupEvent)
    ]
    assert evs == expected_events()
    msgs = {r.msg_key: r for r in recs if isinstance(r, Message)}
    assert sorted(msgs) == ["DM01", "DM02", "MSG01", "MSG02", "MSG03", "MSG04", "MSG05", "MSG06", "MSG07"]  # type: ignore[type-var]
    assert msgs["MSG06"].text == "recent, only in the WAL" and ident(msgs["MSG06"].sender, links) == ANA.phone
    assert msgs["MSG07"].from_owner and msgs["MSG07"].sender.value == OWNER.phone  # type: ignore[union-attr]
    assert msgs["MSG03"].from_owner and not msgs["MSG01"].from_owner
    assert msgs["DM01"].chat.kind == "direct" and msgs["DM01"].sender.value == BEN.phone  # type: ignore[union-attr]
    assert msgs["MSG04"].forwarded and not msgs["MSG01"].forwarded
    present, missing = msgs["MSG02"].media[0], msgs["MSG04"].media[0]
    view = make_view(variant)
    assert present.sha256 == view.groups[0].messages[1].media.sha256  # type: ignore[union-attr]
    assert present.path and (tmp_path / present.path).read_bytes() == view.groups[0].messages[1].media.data  # type: ignore[union-attr]
    assert not present.declared_only
    assert missing.path is None and missing.declared_only
    assert missing.sha256 == view.groups[0].messages[3].media.sha256  # type: ignore[union-attr]
    names = {(r.account.value, r.name, r.kind) for r in recs if isinstance(r, NameSeen)}
    assert (ANA.phone, "Ana Trabajo", "contact_name") in names and (BEN.phone, BEN.name, "push_name") in names
    assert not [r for r in recs if isinstance(r, Problem)]


def test_wal_rows_live_only_in_wal(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    db = tmp_path / DB
    assert (tmp_path / (DB + "-wal")).stat().st_size > 0
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro&immutable=1", uri=True)  # main file only, WAL ignored
    keys = {k for (k,) in con.execute("SELECT key_id FROM message")}
    con.close()
    assert "MSG06" not in keys and "MSG01" in keys


@pytest.mark.parametrize("mapped", [True, False])
def test_lid_mapping(tmp_path: Path, mapped: bool) -> None:
    recs = write_and_read(tmp_path, "current", lid_mapped=mapped)
    links = {(r.a.value, r.b.value) for r in recs if isinstance(r, AccountLink)}
    if mapped:
        assert links == {(f"{ANA.lid}@lid", ANA.phone), (f"{CARL.lid}@lid", CARL.phone)}
    else:
        assert not links
    parts = {r.account for r in recs if isinstance(r, Participant)}
    assert any(k.kind == "lid" and k.value == f"{ANA.lid}@lid" for k in parts)


def test_mixed_deduplicates(tmp_path: Path) -> None:
    recs = write_and_read(tmp_path, "mixed")
    keys = [r.msg_key for r in recs if isinstance(r, Message)]
    assert len(keys) == len(set(keys))
    tables = {r.prov.table for r in recs if isinstance(r, Message)}
    assert tables == {"message", "messages"}  # both schemas contributed


def test_owner_from_options_when_no_prefs(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    shutil.rmtree(tmp_path / "data/data/com.whatsapp/shared_prefs")
    recs = read_all(tmp_path, DB, "whatsapp-android")
    assert any(isinstance(r, Problem) and "owner" in r.reason for r in recs)
    recs = read_all(tmp_path, DB, "whatsapp-android", owner="+34 612 345 678")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.account.value == OWNER.phone and own.basis == "--owner"


def test_claim_by_content(tmp_path: Path) -> None:
    writer.write(make_view("legacy"), tmp_path, seed=7)
    fmt = registry()["whatsapp-android"]()
    renamed = tmp_path / "evidence.bin"
    shutil.copyfile(tmp_path / DB, renamed)
    assert fmt.claim(Candidate(tmp_path, "evidence.bin", renamed.stat().st_size)) > 0
    wa = tmp_path / "data/data/com.whatsapp/databases/wa.db"
    assert fmt.claim(Candidate(tmp_path, wa.relative_to(tmp_path).as_posix(), wa.stat().st_size)) == 0
    members = unit_for(tmp_path, DB, "whatsapp-android").members
    assert any(m.endswith("wa.db") for m in members) and any(
        m.endswith("preferences_light.xml") for m in members
    )


def test_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    writer.write(make_view("current"), a, seed=3)
    writer.write(make_view("current"), b, seed=3)
    con_a, con_b = sqlite3.connect(a / DB), sqlite3.connect(b / DB)
    q = "SELECT * FROM message_media ORDER BY message_row_id"
    assert con_a.execute(q).fetchall() == con_b.execute(q).fetchall()
    con_a.close()
    con_b.close()


# ---- bad inputs ------------------------------------------------------------------------------------------


def test_truncated_db(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    db = tmp_path / DB
    db.write_bytes(db.read_bytes()[:5000])
    (tmp_path / (DB + "-wal")).unlink()
    with pytest.raises(FormatError, match="msgstore.db.*malformed"):
        read_all(tmp_path, DB, "whatsapp-android")


def test_not_a_database(tmp_path: Path) -> None:
    p = tmp_path / "msgstore.db"
    p.write_bytes(b"hello, this is text" * 20)
    assert registry()["whatsapp-android"]().claim(Candidate(tmp_path, "msgstore.db", p.stat().st_size)) == 0
    with pytest.raises(FormatError, match="msgstore.db: file is not a database"):
        read_all(tmp_path, "msgstore.db", "whatsapp-android")


def test_missing_table_and_wrong_format(tmp_path: Path) -> None:
    p = tmp_path / "msgstore.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    con.commit()
    con.close()
    assert registry()["whatsapp-android"]().claim(Candidate(tmp_path, "msgstore.db", p.stat().st_size)) == 0
    with pytest.raises(FormatError, match="msgstore.db: not a WhatsApp message store"):
        read_all(tmp_path, "msgstore.db", "whatsapp-android")


def test_missing_optional_table_is_partial(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("DROP TABLE message_media")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android")
    msgs = [r for r in recs if isinstance(r, Message)]
    assert len(msgs) == 9 and all(not m.media for m in msgs)


def test_empty_wal(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    (tmp_path / (DB + "-wal")).write_bytes(b"")
    (tmp_path / (DB + "-shm")).unlink(missing_ok=True)
    recs = read_all(tmp_path, DB, "whatsapp-android")
    keys = {r.msg_key for r in recs if isinstance(r, Message)}
    assert "MSG01" in keys and "MSG06" not in keys  # WAL content gone, rest readable


def test_copy_limit(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    with pytest.raises(FormatError, match="copy limit"):
        open_readonly_copy(tmp_path / DB, tmp_path / "work", max_bytes=1000)


def test_original_untouched(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    before = {p: p.read_bytes() for p in (tmp_path / DB).parent.iterdir()}
    read_all(tmp_path, DB, "whatsapp-android")
    assert {p: p.read_bytes() for p in (tmp_path / DB).parent.iterdir()} == before


def test_unknown_code_kept(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("UPDATE message_system SET action_type = 9999 WHERE action_type = 1")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android")
    unk = [r for r in recs if isinstance(r, GroupEvent) and r.kind == "unknown"]
    assert len(unk) == 1 and unk[0].raw_code == "9999"
    probs = [r for r in recs if isinstance(r, Problem) and "unknown code 9999" in r.reason]
    assert len(probs) == 1 and probs[0].severity == "warning"


def test_media_path_outside_exhibit_refused(tmp_path: Path) -> None:
    writer.write(make_view("current"), tmp_path, seed=7)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("UPDATE message_media SET file_path = 'Media/../../../../etc/passwd'")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android")
    assert all(m.path is None for r in recs if isinstance(r, Message) for m in r.media)


# ---- notices, owner from the database, chats that are not phone numbers (issue 13 items 1, 2, 4) ----------

OWN = "34611000001"  # synthetic, valid Spanish mobile numbers
PEER = "34611000002"
MEMBER = "34611000003"
MS0 = 1_700_000_000_000


def current_db(tmp_path: Path) -> sqlite3.Connection:
    (tmp_path / "data/data/com.whatsapp/databases").mkdir(parents=True)
    con = sqlite3.connect(tmp_path / DB)
    con.executescript(writer.CURRENT_SCHEMA)
    return con


def legacy_db(tmp_path: Path) -> sqlite3.Connection:
    (tmp_path / "data/data/com.whatsapp/databases").mkdir(parents=True)
    con = sqlite3.connect(tmp_path / DB)
    con.executescript(writer.LEGACY_SCHEMA)
    return con


class CurrentBuilder:
    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.n = 0

    def jid(self, raw: str) -> int:
        user, _, server = raw.partition("@")
        row = self.con.execute("SELECT _id FROM jid WHERE raw_string=?", (raw,)).fetchone()
        if row:
            return int(row[0])
        cur = self.con.execute("INSERT INTO jid (user, server, raw_string) VALUES (?,?,?)", (user, server, raw))
        return int(cur.lastrowid or 0)

    def chat(self, raw: str, subject: str | None = None) -> int:
        cur = self.con.execute("INSERT INTO chat (jid_row_id, subject) VALUES (?,?)", (self.jid(raw), subject))
        return int(cur.lastrowid or 0)

    def msg(self, chat: int, from_me: int, mtype: int, text: str | None = None, sender: str | None = None,
            action: int | None = None, targets: tuple[str, ...] = ()) -> int:
        self.n += 1
        srow = self.jid(sender) if sender else None
        cur = self.con.execute(
            "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type, "
            "text_data) VALUES (?,?,?,?,?,?,?)",
            (chat, from_me, f"K{self.n}", srow, MS0 + self.n * 60000, mtype, text),
        )
        mid = int(cur.lastrowid or 0)
        if action is not None:
            self.con.execute("INSERT INTO message_system (message_row_id, action_type) VALUES (?,?)", (mid, action))
            for t in targets:
                self.con.execute(
                    "INSERT INTO message_system_chat_participant (message_row_id, user_jid_row_id) VALUES (?,?)",
                    (mid, self.jid(t)),
                )
        return mid


def legacy_msg(con: sqlite3.Connection, n: int, jid: str, from_me: int, wa_type: str, status: int = 0,
               data: str | None = None, media_size: int | None = None, thumb: str | None = None,
               res: str | None = None) -> None:
    con.execute(
        "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type, "
        "media_size, thumb_image, remote_resource) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (jid, from_me, f"L{n}", status, data, MS0 + n * 60000, wa_type, media_size, thumb, res),
    )


def _events(recs: list[Record]) -> list[GroupEvent]:
    return [r for r in recs if isinstance(r, GroupEvent)]


def test_current_notices_are_events_not_messages(tmp_path: Path) -> None:
    con = current_db(tmp_path)
    b = CurrentBuilder(con)
    direct = b.chat(f"{PEER}@s.whatsapp.net")
    group = b.chat("120363000000000001@g.us", "Club")
    b.msg(direct, 0, 0, "hola")
    b.msg(direct, 0, 15)  # "This message was deleted" (IPED: type 15)
    b.msg(direct, 1, 15)  # "You deleted this message"
    b.msg(direct, 0, 10, "video")  # missed video call
    b.msg(direct, 0, 11)  # waiting for this message
    b.msg(direct, 0, 7, action=19)  # encryption notice in a direct chat
    b.msg(direct, 0, 7, action=18)  # security code changed
    b.msg(group, 0, 7, sender=f"{MEMBER}@s.whatsapp.net", action=56)  # disappearing messages turned on
    b.msg(group, 0, 64, sender=f"{MEMBER}@s.whatsapp.net")  # deleted by an admin
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android", owner=f"+{OWN}")
    msgs = [r for r in recs if isinstance(r, Message)]
    assert [m.text for m in msgs] == ["hola"]
    kinds = [(e.kind, e.chat.kind, e.actor.value if e.actor else None, e.value) for e in _events(recs)]
    assert kinds == [
        ("encryption_notice", "direct", None, None),
        ("security_code", "direct", f"+{PEER}", None),
        ("ephemeral_setting", "group", f"+{MEMBER}", None),
        ("message_deleted", "direct", f"+{PEER}", None),
        ("message_deleted", "direct", f"+{OWN}", None),
        ("missed_call", "direct", f"+{PEER}", "video"),
        ("message_waiting", "direct", f"+{PEER}", None),
        ("message_deleted", "group", f"+{MEMBER}", None),
    ]
    assert all(e.raw_code for e in _events(recs))


def test_legacy_notices_are_events_not_messages(tmp_path: Path) -> None:
    con = legacy_db(tmp_path)
    peer = f"{PEER}@s.whatsapp.net"
    legacy_msg(con, 1, peer, 0, "0", data="hola")
    legacy_msg(con, 2, peer, 0, "15", status=0)
    legacy_msg(con, 3, peer, 0, "10", data="audio")
    legacy_msg(con, 4, peer, 0, "11")
    legacy_msg(con, 5, peer, 0, "0", status=6, media_size=18)  # security code changed, direct chat
    legacy_msg(con, 6, peer, 0, "0", status=6, media_size=12)  # an 'added' row in a direct chat: skipped
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android", owner=f"+{OWN}")
    assert [m.text for m in recs if isinstance(m, Message)] == ["hola"]
    assert sorted(e.kind for e in _events(recs)) == ["message_deleted", "message_waiting", "missed_call",
                                                      "security_code"]
    (skip,) = [r for r in recs if isinstance(r, Problem) and "skipped" in r.reason]
    assert "1 row(s) skipped: group action (added)" in skip.reason and "messages:6" in skip.reason


def test_owner_inferred_from_own_leave_row_current(tmp_path: Path) -> None:
    con = current_db(tmp_path)
    b = CurrentBuilder(con)
    group = b.chat("120363000000000002@g.us", "Vecinos")
    b.msg(group, 0, 0, "buenas", sender=f"{MEMBER}@s.whatsapp.net")
    b.msg(group, 1, 0, "hola a todos")
    b.msg(group, 1, 7, action=5, targets=(f"{OWN}@s.whatsapp.net",))  # the owner left
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.account.value == f"+{OWN}"
    assert "own self-event target" in own.basis and "below --owner" in own.basis
    assert own.prov.table == "message_system"
    sent = [m for m in recs if isinstance(m, Message) and m.text == "hola a todos"]
    assert sent[0].sender is not None and sent[0].sender.value == f"+{OWN}"
    assert any(isinstance(r, Participant) and r.account.value == f"+{OWN}" and not r.current for r in recs)
    # the examiner's --owner outranks the inference
    recs = read_all(tmp_path, DB, "whatsapp-android", owner=f"+{PEER}")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.account.value == f"+{PEER}" and own.basis == "--owner"


def test_owner_inferred_from_old_group_jid_legacy(tmp_path: Path) -> None:
    con = legacy_db(tmp_path)
    gjid = f"{OWN}-1600000000@g.us"
    legacy_msg(con, 1, gjid, 1, "0", status=6, media_size=11)  # the owner created the group
    legacy_msg(con, 2, gjid, 1, "0", data="bienvenidos")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.account.value == f"+{OWN}" and "creator digits of own created group" in own.basis
    (m,) = [r for r in recs if isinstance(r, Message)]
    assert m.sender is not None and m.sender.value == f"+{OWN}"


def test_owner_rule_that_disagrees_decides_nothing(tmp_path: Path) -> None:
    con = current_db(tmp_path)
    b = CurrentBuilder(con)
    g1 = b.chat("120363000000000003@g.us", "A")
    g2 = b.chat("120363000000000004@g.us", "B")
    b.msg(g1, 1, 7, action=5, targets=(f"{OWN}@s.whatsapp.net",))
    b.msg(g2, 1, 7, action=5, targets=(f"{PEER}@s.whatsapp.net",))
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android")
    assert not [r for r in recs if isinstance(r, DeviceOwner)]
    reasons = [r.reason for r in recs if isinstance(r, Problem)]
    assert any("names 2 different numbers" in r for r in reasons)
    assert any("device owner's number not found" in r for r in reasons)


def test_legacy_chats_that_are_not_phone_numbers(tmp_path: Path) -> None:
    con = legacy_db(tmp_path)
    legacy_msg(con, 1, "status@broadcast", 0, "0", data="estado", res=f"{PEER}@s.whatsapp.net")
    legacy_msg(con, 2, "120363000000000009@newsletter", 0, "0", data="noticia")
    legacy_msg(con, 3, "1600000000000@broadcast", 1, "0", data="lista")
    legacy_msg(con, 4, "whatsappbusiness@s.whatsapp.net", 0, "0", data="oferta")
    legacy_msg(con, 5, "", 0, "0", data="sin chat")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android", owner=f"+{OWN}")
    got = {(m.chat.kind, m.chat.key, m.text) for m in recs if isinstance(m, Message)}
    assert got == {
        ("broadcast", "status@broadcast", "estado"),
        ("channel", "120363000000000009@newsletter", "noticia"),
        ("broadcast", "1600000000000@broadcast", "lista"),
        ("direct", "whatsappbusiness@s.whatsapp.net", "oferta"),
    }
    biz = [m for m in recs if isinstance(m, Message) and m.text == "oferta"][0]
    assert biz.sender is not None and biz.sender.kind == "jid"
    status = [m for m in recs if isinstance(m, Message) and m.text == "estado"][0]
    assert status.sender is not None and status.sender.value == f"+{PEER}"
    skipped = [r.reason for r in recs if isinstance(r, Problem) and "skipped" in r.reason]
    assert any("1 row(s) skipped: chat JID unreadable" in r and "messages:5" in r for r in skipped)


def test_current_rows_without_a_chat_are_counted(tmp_path: Path) -> None:
    con = current_db(tmp_path)
    b = CurrentBuilder(con)
    direct = b.chat(f"{PEER}@s.whatsapp.net")
    b.msg(direct, 0, 0, "hola")
    b.msg(999, 0, 0, "huérfano")  # chat row the chat table lacks
    b.msg(998, 0, 7, action=19)
    con.execute("INSERT INTO group_participant_user (group_jid_row_id, user_jid_row_id) VALUES (777, 1)")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android", owner=f"+{OWN}")
    assert [m.text for m in recs if isinstance(m, Message)] == ["hola"]
    skipped = sorted(r.reason for r in recs if isinstance(r, Problem) and "skipped" in r.reason)
    assert len(skipped) == 3
    assert any("message of a chat the chat table lacks (message:2)" in r for r in skipped)
    assert any("system row without a readable chat (message_system:3)" in r for r in skipped)
    assert any("participant row of a group the chat tables lack" in r for r in skipped)


def _realev_view(variant: str) -> DeviceView:
    """The round-trip view with the owner creating a group of their own (new-style JID), notices of every kind
    and chats that are not a person's number."""
    from ringtrace.synth.view import VChat, VPost

    view = make_view(variant)
    own = VGroup("whatsapp", "120363099999999999@g.us", "Mine", t(60), OWNER,
                 participants=[(OWNER, "superadmin"), (ANA, "member")],
                 events=[VEvent("EV20", "created", t(60), actor=OWNER), VEvent("EV21", "added", t(61), OWNER, ANA)],
                 messages=[VMessage("MSG20", ANA, t(62), "gracias")],
                 notices=[VEvent("NO01", "encryption_notice", t(60)), VEvent("NO02", "security_code", t(63), ANA),
                          VEvent("NO03", "message_deleted", t(64), ANA), VEvent("NO04", "message_waiting", t(65), ANA),
                          VEvent("NO05", "missed_call", t(66), ANA, value="video"),
                          VEvent("NO06", "message_deleted", t(67), OWNER),
                          VEvent("NO07", "ephemeral_setting", t(68), OWNER, value="604800")])
    view.groups.append(own)
    view.others = [
        VChat("status@broadcast", "broadcast", [VPost("ST01", ANA, t(70), "at the beach")]),
        VChat("1700000000@broadcast", "broadcast", [VPost("BL01", OWNER, t(71), "see you all")]),
        VChat("120363111222333444@newsletter", "channel", [VPost("NL01", None, t(72), "Weekly update")]),
        VChat("0@s.whatsapp.net", "direct", [VPost("WA01", None, t(73), "Welcome to WhatsApp")]),
    ]
    view.owner_recorded = False
    return view


@pytest.mark.parametrize("variant", ["current", "legacy", "mixed"])
def test_owner_notices_and_other_chats_from_the_writer(tmp_path: Path, variant: str) -> None:
    """No preferences file and no --owner: the owner is the creator wa.db records for the group whose creation
    row is the owner's own (a new-style JID names no one); notices come out as typed events with their actor,
    never as messages; status, broadcast-list, newsletter and 0@s.whatsapp.net chats keep their messages."""
    writer.write(_realev_view(variant), tmp_path, seed=3)
    assert not (tmp_path / writer.PREFS).exists()
    recs = read_all(tmp_path, DB, "whatsapp-android")
    (own,) = [r for r in recs if isinstance(r, DeviceOwner)]
    assert own.account.value == OWNER.phone and "below --owner" in own.basis
    assert "wa.db creator of own created group" in own.basis or "own self-event target" in own.basis
    lids = {f"{p.lid}@lid": p.phone for p in (ANA, BEN, CARL, DORA) if p.lid}  # the current schema names LIDs

    def who(k: AccountKey | None) -> str | None:
        return None if k is None else lids.get(k.value, k.value)

    notices = {r.msg_key: (r.kind, who(r.actor), r.value) for r in recs
               if isinstance(r, GroupEvent) and r.msg_key and r.msg_key.startswith("NO")}
    want = {"NO01": ("encryption_notice", None, None), "NO02": ("security_code", ANA.phone, None),
            "NO03": ("message_deleted", ANA.phone, None), "NO04": ("message_waiting", ANA.phone, None),
            "NO05": ("missed_call", ANA.phone, "video"), "NO06": ("message_deleted", OWNER.phone, None),
            "NO07": ("ephemeral_setting", OWNER.phone, None)}
    if variant == "legacy":  # the legacy table has no disappearing-message rows
        del want["NO07"]
    assert notices == want
    msgs = {r.msg_key: r for r in recs if isinstance(r, Message)}
    assert not {k for k in msgs if k.startswith("NO")}
    assert msgs["ST01"].chat.kind == "broadcast" and msgs["ST01"].sender == jid_account(ANA.jid)
    assert msgs["BL01"].chat.kind == "broadcast" and msgs["BL01"].sender == jid_account(OWNER.jid)
    assert msgs["NL01"].chat.kind == "channel" and msgs["NL01"].sender is None
    assert msgs["WA01"].sender is not None and msgs["WA01"].sender.kind == "jid"
    assert not [r for r in recs if isinstance(r, Account) and r.key.kind == "phone" and len(r.key.value) < 6]
    assert not [r for r in recs if isinstance(r, Problem) and r.severity != "info"], [
        r.reason for r in recs if isinstance(r, Problem)]


def test_call_log_rows_are_call_events(tmp_path: Path) -> None:
    """call_log rows become call / missed-call events in the peer's chat (a group call in its group, one event
    per participant of call_log_participant_v2 with their own result); unknown results are kept and reported;
    a call whose peer JID cannot be read is counted in a named problem; no call is a message."""
    from ringtrace.synth.view import VCall

    view = make_view("current")
    gkey = view.groups[0].key
    view.calls = [
        VCall("C1", BEN, False, t(80), True, 0, 2),  # BEN's video call the owner missed
        VCall("C2", BEN, True, t(81), False, 125, 5),  # the owner's voice call, 125 s
        VCall("C3", ANA, True, t(82), True, 0, 5, gkey, ((ANA, 5), (CARL, 2))),  # a group video call
        VCall("C4", CARL, False, t(83), False, 0, 99),  # a result no source documents
    ]
    writer.write(view, tmp_path, seed=3)
    con = sqlite3.connect(tmp_path / DB)
    con.execute("INSERT INTO call_log (jid_row_id, from_me, call_id, timestamp, video_call, duration, call_result) "
                "VALUES (99999, 0, 'C5', 1700000000000, 0, 0, 5)")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android")
    calls = sorted(((r.msg_key, r.kind, r.actor.value if r.actor else None, r.target.value if r.target else None,
                     r.chat.kind, r.value) for r in recs if isinstance(r, GroupEvent)
                    and (r.raw_code or "").startswith("call_result=")), key=str)
    lids = {f"{p.lid}@lid": p.phone for p in (ANA, BEN, CARL, DORA) if p.lid}
    calls = [(k, kind, lids.get(a, a), lids.get(tg, tg) if tg else None, ck, v) for k, kind, a, tg, ck, v in calls]
    assert calls == [
        ("C1", "missed_call", BEN.phone, OWNER.phone, "direct", "video, missed"),
        ("C2", "call", OWNER.phone, BEN.phone, "direct", "audio, connected, 125 s"),
        ("C3", "call", OWNER.phone, ANA.phone, "group", "video, connected"),
        ("C3", "call", OWNER.phone, CARL.phone, "group", "video, not answered"),
        ("C4", "call", CARL.phone, OWNER.phone, "direct", "audio, result 99"),
    ]
    assert not [m for m in recs if isinstance(m, Message) and m.msg_key.startswith("C")]
    reasons = [p.reason for p in recs if isinstance(p, Problem)]
    assert any("unknown code 99" in r and "call_log" in r for r in reasons)
    assert any("1 row(s) skipped: call without a readable peer or group JID (call_log:5)" in r for r in reasons)


def test_text_that_is_not_utf8_mid_read_keeps_every_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are fetched with SQLite's C decoder until a cell is not UTF-8; then the query is read again with the
    replacing decoder. Every message comes once, in order, the damaged one with U+FFFD."""
    import ringtrace.sources.whatsapp.android as android

    monkeypatch.setattr(android, "BATCH", 3)  # the damaged row falls in a later batch, mid-batch
    con = current_db(tmp_path)
    b = CurrentBuilder(con)
    group = b.chat("120363000000000001@g.us", "Club")
    for i in range(10):
        b.msg(group, 0, 0, f"text {i}", sender=f"{MEMBER}@s.whatsapp.net")
    con.execute("UPDATE message SET text_data = CAST(X'6F6B20FF21' AS TEXT) WHERE _id = 8")
    con.commit()
    con.close()
    recs = read_all(tmp_path, DB, "whatsapp-android", owner=f"+{OWN}")
    texts = [r.text for r in recs if isinstance(r, Message)]
    assert texts == [f"text {i}" for i in range(7)] + ["ok \ufffd!", "text 8", "text 9"]


def test_batches_same_rows_whichever_decoder(tmp_path: Path) -> None:
    from ringtrace.sources._helpers.sqlite_util import batches

    db = tmp_path / "t.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(1, 12)])
    con.execute("UPDATE t SET x = CAST(X'FF' AS TEXT) WHERE id IN (5, 11)")
    con.commit()
    con.close()
    copy = open_readonly_copy(db, tmp_path / "copy")
    rows = [r for batch in batches(copy, "SELECT id, x FROM t ORDER BY id", 4) for r in batch]
    assert rows == copy.execute("SELECT id, x FROM t ORDER BY id").fetchall()  # the connection's own decoder
    assert [r[0] for r in rows] == list(range(1, 12)) and rows[4][1] == "\ufffd"
    assert copy.text_factory is not str  # the replacing decoder is back for every other query
    copy.close()


# ---- the merged read gives the joined read's records -----------------------------------------------------


def _both_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **opts: object) -> tuple[list[Record], list[Record]]:
    """The records read the fast way (``current_messages``: media merged by row id; ``legacy_messages``) and
    the general way (``joined_messages``: the LEFT JOIN query, one row loop for every schema variant, as the
    reader read every database before the merge and the legacy loop)."""
    import ringtrace.sources.whatsapp.android as android

    merged: list[bool] = []
    mergeable = android._AndroidReader.media_mergeable
    with monkeypatch.context() as m:
        m.setattr(android._AndroidReader, "media_mergeable", lambda self: merged.append(mergeable(self)) or merged[-1])
        fast = read_all(tmp_path, DB, "whatsapp-android", **opts)
    assert merged in ([], [True]), merged  # a current schema is read the fast way (legacy has no such choice)
    legacy = android.SCHEMA_VARIANTS["legacy"]
    with monkeypatch.context() as m:
        m.setattr(android._AndroidReader, "media_mergeable", lambda self: False)
        m.setattr(android._AndroidReader, "legacy_messages", lambda self, seen: self.joined_messages(legacy, seen))
        joined = read_all(tmp_path, DB, "whatsapp-android", **opts)
    return fast, joined


@pytest.mark.parametrize("variant", ["legacy", "current", "mixed"])
@pytest.mark.parametrize("lid_mapped", [True, False])
def test_merged_read_equals_joined_read_writer_views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str,
                                                     lid_mapped: bool) -> None:
    writer.write(make_view(variant, lid_mapped), tmp_path / "a", seed=7)
    fast, joined = _both_reads(tmp_path / "a", monkeypatch)
    assert fast == joined and len(fast) > 20 and any(isinstance(r, Message) and r.media for r in fast)
    writer.write(_realev_view(variant), tmp_path / "b", seed=3)
    fast, joined = _both_reads(tmp_path / "b", monkeypatch)
    assert fast == joined and sum(isinstance(r, Message) for r in fast) >= 10


def _odd_current_db(tmp_path: Path) -> None:
    """Rows off every common path: media rows of system and missing messages, media rows with neither path
    nor hash, messages of a missing chat, times out of range or text, message types as text, the owner's own
    and direct-chat messages, unknown senders and senders without a jid row."""
    con = current_db(tmp_path)
    b = CurrentBuilder(con)
    direct = b.chat(f"{PEER}@s.whatsapp.net")
    group = b.chat("120363000000000001@g.us", "Club")
    other = b.chat("120363000000000002@g.us", "Otro")
    member, lid = f"{MEMBER}@s.whatsapp.net", "201234567890123@lid"
    for i in range(40):
        chat = (direct, group, other)[i % 3]
        mid = b.msg(chat, i % 4 == 0, (0, 1, 0, 15, 0, 10, 0)[i % 7], f"t{i}",
                    sender=(member, lid, None)[i % 3] if chat != direct else None,
                    action=56 if i % 13 == 5 else None)
        if i % 3 == 1:
            h = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" if i % 2 else "not base64!"
            con.execute("INSERT INTO message_media (message_row_id, file_path, file_hash, file_size, mime_type, "
                        "media_name) VALUES (?,?,?,?,?,?)",
                        (mid, f"Media/WhatsApp Images/IMG-{i}.jpg" if i % 5 else None, h, 100 + i,
                         "image/jpeg", f"IMG-{i}.jpg" if i % 4 else None))
        elif i % 7 == 2:
            con.execute("INSERT INTO message_media (message_row_id, mime_type) VALUES (?, 'x')", (mid,))
    con.execute("INSERT INTO message_media (message_row_id, file_path) VALUES (9999, 'Media/gone.jpg')")
    con.execute("UPDATE message SET chat_row_id = 77 WHERE _id = 3")
    con.execute("UPDATE message SET timestamp = -5 WHERE _id = 4")
    con.execute("UPDATE message SET timestamp = '1700000000000' WHERE _id = 6")
    con.execute("UPDATE message SET timestamp = 999999999999999999 WHERE _id = 7")
    con.execute("UPDATE message SET message_type = '15' WHERE _id = 9")
    con.execute("UPDATE message SET message_type = NULL WHERE _id = 11")
    con.execute("UPDATE message SET message_type = 'x' WHERE _id = 12")
    con.execute("UPDATE message SET sender_jid_row_id = 4242 WHERE _id = 14")
    con.execute("UPDATE message SET sender_jid_row_id = 'abc' WHERE _id = 17")
    con.commit()
    con.close()
    media = tmp_path / "data/data/com.whatsapp/Media/WhatsApp Images"
    media.mkdir(parents=True)
    (media / "IMG-7.jpg").write_bytes(image(1))


def test_merged_read_equals_joined_read_odd_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _odd_current_db(tmp_path)
    for opts in ({"owner": f"+{OWN}"}, {}):
        fast, joined = _both_reads(tmp_path, monkeypatch, **opts)
        assert fast == joined
        msgs = [r for r in fast if isinstance(r, Message)]
        assert len(msgs) > 15 and sum(bool(m.media) for m in msgs) >= 5
        assert any(m.media and m.media[0].path for m in msgs)
        assert any(isinstance(r, Problem) and "unreadable timestamp" in r.reason for r in fast)


def test_media_merge_only_where_keys_are_distinct_numbers(tmp_path: Path) -> None:
    """A message_media whose message_row_id is not a unique number (a hand-made or damaged schema) is read
    through the join, and gives the same records as the join would."""
    from ringtrace.sources.whatsapp.android import unique_number_key

    con = sqlite3.connect(tmp_path / "k.db")
    con.executescript(
        "CREATE TABLE a (message_row_id INTEGER PRIMARY KEY, x);"
        "CREATE TABLE b (message_row_id INTEGER, x); CREATE UNIQUE INDEX bi ON b (message_row_id);"
        "CREATE TABLE c (message_row_id INTEGER, x);"
        "CREATE TABLE d (message_row_id TEXT PRIMARY KEY, x); INSERT INTO d VALUES ('abc', 1);"
        "CREATE TABLE e (message_row_id INTEGER, x); CREATE UNIQUE INDEX ei ON e (message_row_id);"
        "INSERT INTO e VALUES (NULL, 1);"
        "CREATE TABLE f (message_row_id, y, PRIMARY KEY (message_row_id, y));"
    )
    assert [unique_number_key(con, t, "message_row_id") for t in "abcdef"] == [True, True, False, False, False,
                                                                                False]
    con.close()
    _odd_current_db(tmp_path / "x")
    con = sqlite3.connect(tmp_path / "x" / DB)
    con.executescript(
        "ALTER TABLE message_media RENAME TO mm_old;"
        "CREATE TABLE message_media (message_row_id INTEGER, file_path TEXT, file_size INTEGER, mime_type TEXT,"
        " file_hash TEXT, media_name TEXT);"
        "INSERT INTO message_media SELECT message_row_id, file_path, file_size, mime_type, file_hash, media_name "
        "FROM mm_old; INSERT INTO message_media (message_row_id, file_path) VALUES (2, 'Media/second.jpg');"
    )
    con.commit()
    con.close()
    recs = read_all(tmp_path / "x", DB, "whatsapp-android", owner=f"+{OWN}")
    twice = [r for r in recs if isinstance(r, Message) and r.prov.row == "2"]
    assert len(twice) == 2  # the join pairs message 2 with both of its media rows


def test_minute_table_times_equal_fromtimestamp() -> None:
    """``current_messages`` builds a millisecond time below EXACT_MS from a cached minute and a timedelta table:
    the same datetime as ``fromtimestamp(ms / 1000, UTC)`` (what the general loop and ms_to_dt give)."""
    import random

    from ringtrace.sources.whatsapp.android import EPOCH, EXACT_MS, MS_INTO_MINUTE

    rng = random.Random(5)
    samples = [1, 999, 60_000, 59_999, EXACT_MS - 1, 1_700_000_000_123] + [rng.randrange(1, EXACT_MS)
                                                                          for _ in range(50_000)]
    for ms in samples:
        assert EPOCH + timedelta(minutes=ms // 60_000) + MS_INTO_MINUTE[ms % 60_000] == datetime.fromtimestamp(
            ms / 1000, UTC), ms


def _odd_legacy_db(tmp_path: Path) -> None:
    """Legacy rows off every common path: types as text, integer and float (1, 1.0 and "1" read differently),
    notices, chats the chat list lacks and unreadable ones, times out of range or text, the owner's own and
    direct-chat messages, group senders repeated, missing, not text or no phone number, media by blob and by
    hash alone. The type column has no affinity here, so that its values keep their types."""
    (tmp_path / "data/data/com.whatsapp/databases").mkdir(parents=True)
    con = sqlite3.connect(tmp_path / DB)
    assert "media_wa_type TEXT" in writer.LEGACY_SCHEMA
    con.executescript(writer.LEGACY_SCHEMA.replace("media_wa_type TEXT", "media_wa_type"))
    group, other = "120363000000000001@g.us", "4915112345678-1500000000@g.us"
    con.execute("INSERT INTO chat_list (key_remote_jid, subject) VALUES (?, 'Club')", (group,))
    peer = f"{PEER}@s.whatsapp.net"
    senders: list[str | None] = [f"{MEMBER}@s.whatsapp.net", f"{MEMBER}:3@s.whatsapp.net", "201234567890123@lid",
                                 None, "abc@s.whatsapp.net", f"{PEER}@s.whatsapp.net"]
    blob = b"\xac\xed\x00\x05t\x00\x1fMedia/WhatsApp Images/IMG-7.jpg\x00"
    for i in range(60):
        jid = (group, peer, other, group, "status@broadcast")[i % 5]
        wa_type = ("0", "1", "15", "0", "10", "11", "2", "0", "64")[i % 9]
        legacy_msg(con, i, jid, int(i % 6 == 0), wa_type, data=f"t{i}", res=senders[i % len(senders)])
    rowid = "(SELECT MAX(_id) FROM messages)"
    legacy_msg(con, 100, "", 0, "0", data="no chat")
    legacy_msg(con, 101, "x" * 300 + "@s.whatsapp.net", 0, "0", data="too long")
    con.execute("INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, timestamp, media_wa_type) "
                "VALUES (X'2a', 0, 'L102', 0, 1, '0')")  # a chat that is not text
    for n, v in ((1, 1), (2, 1.0), (3, "1"), (4, 15), (5, 15.0), (6, None), (7, "x"), (8, " 15 ")):
        legacy_msg(con, 200 + n, group, 0, "0", data=f"type {n}", res=senders[0])
        con.execute(f"UPDATE messages SET media_wa_type = ? WHERE _id = {rowid}", (v,))
    for n, ts in ((1, -5), (2, "1700000000000"), (3, 999999999999999999), (4, 2**32 * 1000 + 7), (5, 0),
                  (6, 1.5e12)):
        legacy_msg(con, 300 + n, group, 0, "0", data=f"time {n}", res=senders[0])
        con.execute(f"UPDATE messages SET timestamp = ? WHERE _id = {rowid}", (ts,))
    for n, res in ((1, 42), (2, b"blob"), (3, "")):
        legacy_msg(con, 400 + n, group, 0, "0", data=f"sender {n}")
        con.execute(f"UPDATE messages SET remote_resource = ? WHERE _id = {rowid}", (res,))
    legacy_msg(con, 500, group, 0, "1", res=senders[0])
    con.execute(f"UPDATE messages SET thumb_image = ?, media_hash = ?, media_size = 12, media_mime_type = "
                f"'image/jpeg' WHERE _id = {rowid}", (blob, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="))
    legacy_msg(con, 501, group, 0, "0", res=senders[0])
    con.execute(f"UPDATE messages SET media_hash = 'not base64!', media_name = 'a.jpg' WHERE _id = {rowid}")
    con.commit()
    con.close()
    media = tmp_path / "data/data/com.whatsapp/Media/WhatsApp Images"
    media.mkdir(parents=True)
    (media / "IMG-7.jpg").write_bytes(image(1))


def test_legacy_read_equals_joined_read_odd_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _odd_legacy_db(tmp_path)
    for opts in ({"owner": f"+{OWN}"}, {}):
        fast, joined = _both_reads(tmp_path, monkeypatch, **opts)
        assert fast == joined
        assert [type(r) for r in fast] == [type(r) for r in joined]
        msgs = [r for r in fast if isinstance(r, Message)]
        assert len(msgs) > 30 and any(m.media and m.media[0].path for m in msgs)
        types = {m.raw_type for m in msgs if (m.text or "").startswith("type ")}
        assert types == {"1", "1.0", None, "x", "15.0"}  # 15 and " 15 " are notices
        assert any(isinstance(r, Problem) and "unreadable timestamp" in r.reason for r in fast)
        assert any(isinstance(r, GroupEvent) and r.kind == "message_deleted" for r in fast)


def _reference_blob_path(blob: bytes) -> str | None:
    """``legacy_blob_path`` as it was: each byte before the path tried in turn."""
    from ringtrace.sources.whatsapp.android import _LEGACY_PATH

    blob = blob[:65536]
    idx = blob.find(b"Media/")
    if idx < 0:
        return None
    for p in range(idx - 3, max(-1, idx - 400), -1):
        if blob[p : p + 1] == b"t":
            n = int.from_bytes(blob[p + 1 : p + 3], "big")
            end = p + 3 + n
            if end > idx + 6 and end <= len(blob):
                return blob[idx:end].decode("utf-8", "replace")
    m = _LEGACY_PATH.search(blob)
    return m.group(1).decode("ascii", "replace") if m else None


def test_legacy_blob_path_equals_byte_walk() -> None:
    import random

    from ringtrace.sources.whatsapp.android import legacy_blob_path

    rng = random.Random(11)
    alphabet = b"tt\x00\x01\x20/aM" + bytes(range(256))
    blobs = [b"", b"Media/", b"tMedia/x.jpg", b"t\x00\x0bMedia/x.jpg", b"xxt\x00\x0bMedia/x.jpg",
             b"t" * 500 + b"Media/a.jpg"]
    for _ in range(20_000):
        pre = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 450)))
        post = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        if rng.random() < 0.5:  # a real length prefix somewhere before the path
            k = rng.randrange(0, len(pre) + 1)
            pre = pre[:k] + b"t" + (len(pre) - k + 6 + rng.randrange(-3, 30)).to_bytes(2, "big") + pre[k:]
        blobs.append(pre + b"Media/" + post)
    for b in blobs:
        assert legacy_blob_path(b) == _reference_blob_path(b), b
