"""Telegram Desktop JSON exports: writer -> reader round trips, and hostile input."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ringtrace.model import (
    AccountKey,
    AccountLink,
    ChatKind,
    DeviceOwner,
    EventKind,
    Group,
    GroupEvent,
    MediaFile,
    Message,
    NameSeen,
    Problem,
    ReadOptions,
)
from ringtrace.sources.base import Candidate, Unit
from ringtrace.sources.telegram.desktop_export import (
    TelegramDesktopExport,
    flatten_text,
    peer_account,
    phone_e164,
    sniff,
)
from ringtrace.synth.formats import telegram_export as writer
from ringtrace.synth.view import DeviceView, VDirect, VEvent, VGroup, VMedia, VMessage, VPerson

T0 = datetime(2024, 3, 30, 22, 15, tzinfo=UTC)  # the night Madrid moves to summer time
OWNER = VPerson("+34612345678", "Lucía Ferrer", tg_id=500100200, username="LuciaF")
ANA = VPerson("+34622334455", "Ana Prieto", tg_id=500100201)
BEN = VPerson("+4915123456789", "Ben Kraus", tg_id=500100202)
CLO = VPerson("+33612345678", "Chloé Martin", tg_id=500100203)


def tg(p: VPerson) -> AccountKey:
    return AccountKey("telegram", "tg_id", str(p.tg_id))


def png(color: tuple[int, int, int], size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def make_view(variant: str = "full") -> DeviceView:
    img = VMedia("IMG_0001.jpg", png((10, 120, 200)), mime="image/jpeg")
    gone = VMedia("IMG_0002.jpg", png((200, 20, 20)), present=False)
    vid = VMedia("clip.mp4", b"\x00\x00\x00\x18ftypmp42 benign", mime="video/mp4", kind="video")
    g = VGroup(
        platform="telegram",
        key="4001234567",
        subject="Book club",
        created_at=T0,
        creator=OWNER,
        participants=[(OWNER, "superadmin"), (ANA, "member"), (BEN, "member")],
    )
    g.events = [
        VEvent("1", EventKind.CREATED, T0, actor=OWNER, value="Book club"),
        VEvent("2", EventKind.ADDED, T0 + timedelta(minutes=1), actor=OWNER, target=ANA),
        VEvent("3", EventKind.JOINED_LINK, T0 + timedelta(minutes=2), actor=BEN),
        VEvent("4", EventKind.SUBJECT, T0 + timedelta(minutes=3), actor=OWNER, value="Book club 2"),
        VEvent("5", EventKind.JOINED, T0 + timedelta(minutes=4), actor=CLO),
        VEvent("6", EventKind.REMOVED, T0 + timedelta(minutes=5), actor=OWNER, target=CLO),
        VEvent("7", EventKind.LEFT, T0 + timedelta(minutes=6), target=ANA),
        VEvent("8", EventKind.PROMOTED, T0 + timedelta(minutes=7), actor=OWNER, target=BEN),  # not exported
    ]
    g.messages = [
        VMessage("10", ANA, T0 + timedelta(hours=1), text="hola, see https://example.org/list now"),
        VMessage("11", BEN, T0 + timedelta(hours=2), media=img),
        VMessage("12", OWNER, T0 + timedelta(hours=3), text="fwd", media=gone, forwarded=True),
        VMessage("13", BEN, T0 + timedelta(hours=4), media=vid),
    ]
    g2 = VGroup("telegram", "4009999999", "Second", T0, ANA, [(ANA, "admin"), (OWNER, "member")])
    g2.events = [
        VEvent("1", EventKind.CREATED, T0, actor=ANA, target=OWNER),
        VEvent("2", EventKind.MIGRATED, T0 + timedelta(days=1), actor=ANA, value="4009999999"),
    ]
    g2.messages = [VMessage("3", ANA, T0 + timedelta(days=1, hours=1), text="second")]
    return DeviceView(
        owner=OWNER,
        platform="telegram",
        groups=[g, g2],
        directs=[VDirect(ANA, [VMessage("20", ANA, T0 + timedelta(days=2), text="privado")])],
        contacts=[(ANA, "Ana Prieto"), (BEN, "Ben K")],
        timezone="Europe/Madrid",
        variant=variant,
    )


def read_tree(root: Path, options: ReadOptions | None = None) -> list[object]:
    fmt = TelegramDesktopExport()
    rels = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    out: list[object] = []
    for rel in rels:
        cand = Candidate(root, rel, (root / rel).stat().st_size)
        if fmt.claim(cand) > 0:
            unit = Unit(root, rel, fmt.name, fmt.members(cand, rels))
            out.extend(fmt.read(unit, options or ReadOptions(timezone="Europe/Madrid")))
    return out


def of(records: Sequence[object], cls: type) -> list[Any]:
    return [r for r in records if isinstance(r, cls)]


# ---- round trips ---------------------------------------------------------------------------------------


def test_full_export_round_trip(tmp_path: Path) -> None:
    view = make_view("full")
    files = writer.write(view, tmp_path, seed=7)
    assert files[0].name == "result.json" and files[0].parent.name.startswith("DataExport_")
    recs = read_tree(tmp_path)

    owner = of(recs, DeviceOwner)
    assert owner == [DeviceOwner(tg(OWNER), "personal_information", owner[0].prov)]
    links = {(link.a, link.b, link.basis) for link in of(recs, AccountLink)}
    assert (tg(OWNER), AccountKey("telegram", "phone", OWNER.phone), "personal_information") in links
    assert (tg(OWNER), AccountKey("telegram", "username", "luciaf"), "personal_information") in links
    assert (tg(BEN), AccountKey("telegram", "phone", BEN.phone), "telegram contact phone") in links

    groups = {g.chat.key: g for g in of(recs, Group)}
    assert set(groups) == {"4001234567", "4009999999"}
    assert groups["4001234567"].name == "Book club" and groups["4001234567"].creator == tg(OWNER)
    assert groups["4001234567"].created_at == T0

    msgs = {(m.chat.key, m.msg_key): m for m in of(recs, Message)}
    m10 = msgs[("4001234567", "10")]
    assert m10.sender == tg(ANA) and m10.at == T0 + timedelta(hours=1)
    assert m10.text == "hola, see https://example.org/list now"
    m11 = msgs[("4001234567", "11")]
    assert m11.media[0].sha256 == view.groups[0].messages[1].media.sha256  # type: ignore[union-attr]
    assert m11.media[0].path and m11.media[0].path.startswith("Telegram Desktop/DataExport_")
    m12 = msgs[("4001234567", "12")]
    assert m12.from_owner and m12.forwarded and m12.media[0].path is None
    assert msgs[("4001234567", "13")].media[0].mime == "video/mp4"
    direct = msgs[(str(ANA.tg_id), "20")]
    assert direct.chat.kind == ChatKind.DIRECT and direct.chat.peer == tg(ANA)

    ev = {(e.chat.key, e.msg_key, e.kind) for e in of(recs, GroupEvent)}
    g1 = "4001234567"
    assert (g1, "1", EventKind.CREATED) in ev
    assert (g1, "2", EventKind.ADDED) in ev
    assert (g1, "3", EventKind.JOINED_LINK) in ev
    assert (g1, "4", EventKind.SUBJECT) in ev
    assert (g1, "5", EventKind.JOINED) in ev
    assert (g1, "6", EventKind.REMOVED) in ev
    assert (g1, "7", EventKind.LEFT) in ev
    assert not any(k == g1 and m == "8" for k, m, _ in ev)  # promotions are not in Telegram exports
    added = next(e for e in of(recs, GroupEvent) if e.msg_key == "2" and e.chat.key == g1)
    assert added.target == AccountKey("telegram", "export_name", "Ana Prieto") and added.actor == tg(OWNER)
    link = next(e for e in of(recs, GroupEvent) if e.kind == EventKind.JOINED_LINK)
    # the inviter is a name seen on that row, not the event's value (which is kept for invite codes)
    assert link.actor == tg(BEN) and link.value is None
    assert any(isinstance(r, NameSeen) and r.kind == 'link_inviter' and r.name == OWNER.name for r in recs)
    mig = next(e for e in of(recs, GroupEvent) if e.kind == EventKind.MIGRATED)
    assert mig.value == "4009999999"
    names = {(n.account, n.name) for n in of(recs, NameSeen)}
    assert (AccountKey("telegram", "export_name", "Ana Prieto"), "Ana Prieto") in names
    assert (tg(BEN), "Ben K") in names  # the owner's contact name
    # present media are yielded as files; the missing one only as a note
    assert len(of(recs, MediaFile)) == 2
    notes = [p for p in of(recs, Problem) if p.severity == "info"]
    assert len(notes) == 1 and "not in the export" in notes[0].reason
    assert [p for p in of(recs, Problem) if p.severity != "info"] == []


def test_single_and_legacy_round_trip(tmp_path: Path) -> None:
    view = make_view("single-legacy")
    files = writer.write(view, tmp_path, seed=1)
    results = [f for f in files if f.name == "result.json"]
    assert len(results) == 2
    assert sniff(results[0].read_bytes()[:4096]) == "single"
    recs = read_tree(tmp_path)
    assert of(recs, DeviceOwner) == []  # single-chat exports say nothing about the owner
    msgs = {(m.chat.key, m.msg_key): m for m in of(recs, Message)}
    # legacy: no date_unixtime, so the local time crossing the DST change is converted with the timezone
    assert msgs[("4001234567", "10")].at == T0 + timedelta(hours=1)
    assert msgs[("4001234567", "13")].at == T0 + timedelta(hours=4)
    assert msgs[("4001234567", "10")].sender == tg(ANA)  # bare numeric from_id
    assert ("4009999999", "3") in msgs
    assert not any(isinstance(r, Problem) and r.severity != "info" for r in recs)


def test_writer_is_deterministic(tmp_path: Path) -> None:
    a = writer.write(make_view(), tmp_path / "a", seed=3)
    b = writer.write(make_view(), tmp_path / "b", seed=3)
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_writer_refuses_other_platforms(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Telegram"):
        writer.write(DeviceView(OWNER, "whatsapp"), tmp_path, 0)


# ---- helpers -------------------------------------------------------------------------------------------


def test_peer_account_kinds() -> None:
    assert peer_account("user42") == AccountKey("telegram", "tg_id", "42")
    assert peer_account(42) == AccountKey("telegram", "tg_id", "42")
    assert peer_account("channel42") == AccountKey("telegram", "tg_channel", "42")
    assert peer_account("chat42") == AccountKey("telegram", "tg_chat", "42")
    for bad in ("bot42", "", None, True, -1, 1.5, ["user1"]):
        assert peer_account(bad) is None


def test_flatten_text_and_phone() -> None:
    assert flatten_text(["a ", {"type": "text_link", "text": "here", "href": "https://x.example"}]) == (
        "a here (https://x.example)"
    )
    assert flatten_text([{"type": "link", "text": "https://y.example"}]) == "https://y.example"
    assert flatten_text("") is None
    with pytest.raises(TypeError):
        flatten_text(5)
    with pytest.raises(TypeError):
        flatten_text([1])
    assert phone_e164("+34 612 345 678") == "+34612345678"
    assert phone_e164("34612345678") == "+34612345678"
    assert phone_e164("+34 000") is None
    assert phone_e164(None) is None


def test_sniff_rejects_other_json() -> None:
    assert sniff(b'{"name": "x", "type": "playlist", "id": 1, "messages": []}') is None
    assert sniff(b'[{"about": 1}]') is None
    assert sniff(b"not json") is None
    assert sniff(b'\xef\xbb\xbf{"about": "a", "personal_information": {"user_id": 1') == "full"


# ---- hostile input -------------------------------------------------------------------------------------


def write_doc(tmp_path: Path, doc: object | bytes, name: str = "result.json") -> Path:
    path = tmp_path / "exp" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    return tmp_path / "exp"


def single(messages: Sequence[object], **chat: object) -> dict[str, object]:
    return {"name": "G", "type": "private_supergroup", "id": 77, **chat, "messages": messages}


def msg(i: int, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": i,
        "type": "message",
        "date": "2024-01-05T10:00:00",
        "date_unixtime": "1704448800",
        "from": "Ana",
        "from_id": "user5",
        "text": f"m{i}",
    }
    base.update(kw)
    return base


def test_truncated_json_keeps_records_and_names_offset(tmp_path: Path) -> None:
    full = json.dumps(single([msg(1), msg(2), msg(3)])).encode()
    cut = full[: full.index(b'"id": 3') + 4]
    root = write_doc(tmp_path, cut)
    recs = read_tree(root)
    assert [m.msg_key for m in of(recs, Message)] == ["1", "2"]
    assert len(of(recs, Group)) == 1  # the chat cut mid-way is still reported
    prob = of(recs, Problem)
    assert len(prob) == 1 and prob[0].file == "result.json"
    assert f"byte {len(cut)}" in prob[0].reason and "truncated" in prob[0].reason


def test_non_utf8_is_reported(tmp_path: Path) -> None:
    data = json.dumps(single([msg(1), msg(2, text="XX")])).encode().replace(b'"XX"', b'"\xff\xfe"')
    recs = read_tree(write_doc(tmp_path, data))
    assert [m.msg_key for m in of(recs, Message)] == ["1"]
    assert any("invalid JSON" in p.reason and "UTF8" in p.reason for p in of(recs, Problem))


def test_wrong_types_are_problems_not_crashes(tmp_path: Path) -> None:
    messages = [
        "not an object",
        msg(2, id="x"),
        msg(3, type="weird"),
        msg(4, date_unixtime=None, date="garbage"),
        msg(5, from_id={"no": 1}),
        msg(6, text=7),
        msg(7, photo=12),
        {"id": 8, "type": "unsupported"},
        msg(9),
    ]
    recs = read_tree(write_doc(tmp_path, single(messages)))
    keys = [m.msg_key for m in of(recs, Message)]
    assert keys == ["5", "6", "7", "9"]
    by_key = {m.msg_key: m for m in of(recs, Message)}
    assert by_key["5"].sender is None and by_key["6"].text is None and by_key["7"].media == ()
    reasons = " | ".join(p.reason for p in of(recs, Problem))
    for frag in (
        "not an object",
        "id missing",
        "unknown message type",
        "no usable date",
        "unusable from_id",
        "text dropped",
        "photo is not a path",
        "unsupported",
    ):
        assert frag in reasons


def test_bad_chat_header(tmp_path: Path) -> None:
    recs = read_tree(write_doc(tmp_path, single([msg(1)], id="not-a-number")))
    assert of(recs, Message) == [] and of(recs, Group) == []
    assert any("wrong JSON type" in p.reason for p in of(recs, Problem))


def test_messages_before_header_are_buffered(tmp_path: Path) -> None:
    doc = (
        b'{"messages": [' + json.dumps(msg(1)).encode() + b'], "name": "G", "type": "private_group", "id": 9}'
    )
    fmt = TelegramDesktopExport()
    root = write_doc(tmp_path, doc)
    # sniffing needs the keys; read directly as a unit
    recs = list(fmt.read(Unit(root, "result.json", fmt.name), ReadOptions()))
    assert [m.chat.key for m in of(recs, Message)] == ["9"]


def test_unknown_action_and_deleted_members(tmp_path: Path) -> None:
    svc = {"id": 2, "type": "service", "date": "2024-01-05T10:00:00", "actor": "Ana", "actor_id": "user5"}
    messages = [
        {**svc, "action": "summon_dragon"},
        {**svc, "id": 3, "action": "invite_members", "members": [None, "Bo"]},
        {**svc, "id": 4, "action": "remove_members", "members": "Bo"},
        {**svc, "id": 5, "action": "migrate_to_supergroup"},
        {**svc, "id": 6},
    ]
    recs = read_tree(write_doc(tmp_path, single(messages, type="private_group")))
    evs = of(recs, GroupEvent)
    unknown = [e for e in evs if e.kind == EventKind.UNKNOWN]
    assert len(unknown) == 1 and unknown[0].raw_code == "summon_dragon"
    added = [e.target for e in evs if e.msg_key == "3"]
    assert added == [None, AccountKey("telegram", "export_name", "Bo")]
    mig = next(e for e in evs if e.kind == EventKind.MIGRATED)
    assert mig.value is None  # basic group: the new id is not in the export
    reasons = " | ".join(p.reason for p in of(recs, Problem))
    assert (
        "summon_dragon" in reasons and "members is not a list" in reasons and "without an action" in reasons
    )
    # local date without date_unixtime, read with the examiner's timezone (Madrid = UTC+1 in January)
    assert unknown[0].at == datetime(2024, 1, 5, 9, 0, tzinfo=UTC)


def test_media_paths_cannot_escape(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    messages = [
        msg(1, photo="../secret.txt"),
        msg(2, photo="/etc/passwd"),
        msg(3, file="files/missing.pdf", mime_type="application/pdf"),
        msg(4, photo="photos/link.jpg"),
    ]
    root = write_doc(tmp_path, single(messages))
    (root / "photos").mkdir()
    (root / "photos" / "link.jpg").symlink_to(tmp_path / "secret.txt")
    recs = read_tree(root)
    media = {m.msg_key: m.media[0] for m in of(recs, Message)}
    assert all(ref.path is None for ref in media.values())
    assert media["3"].name == "missing.pdf" and media["3"].mime == "application/pdf"
    reasons = " | ".join(p.reason for p in of(recs, Problem))
    assert reasons.count("leaves the export folder") == 2 and "missing" in reasons


def test_bad_personal_information_and_contacts(tmp_path: Path) -> None:
    doc = {
        "about": "x",
        "personal_information": {"user_id": "nope", "phone_number": "+34 612 345 678"},
        "contacts": {
            "list": [
                5,
                {"first_name": "Zoe", "phone_number": "+34 000"},
                {"first_name": "Yan", "phone_number": "+33 6 12 34 56 78"},
            ]
        },
        "chats": {"list": []},
    }
    recs = read_tree(write_doc(tmp_path, doc))
    assert of(recs, DeviceOwner) == []
    names = {(n.account, n.name) for n in of(recs, NameSeen)}
    assert (AccountKey("telegram", "phone", "+33612345678"), "Yan") in names  # no user_id: name on the phone
    reasons = " | ".join(p.reason for p in of(recs, Problem))
    assert "no usable user_id" in reasons and "not an object" in reasons and "not a valid number" in reasons


def test_unknown_timezone_falls_back_with_warning(tmp_path: Path) -> None:
    recs = read_tree(write_doc(tmp_path, single([msg(1)])), ReadOptions(timezone="Mars/Olympus"))
    assert any("unknown timezone" in p.reason for p in of(recs, Problem))
    assert len(of(recs, Message)) == 1


# ---- every shape tdesktop writes, recognised by content (issue 13 item 5) ------------------------------


def test_full_export_recognised_by_content_in_any_key_order(tmp_path: Path) -> None:
    """A whole-account export re-saved with sorted keys (no 'about' first) and not named result.json."""
    chat = {"id": 77, "messages": [msg(1)], "name": "G", "type": "private_supergroup"}
    doc = {"chats": {"about": "x", "list": [chat]}, "personal_information": {"user_id": 9, "first_name": "Me"}}
    head = json.dumps(doc, sort_keys=True).encode()
    assert sniff(head) == "full"
    assert sniff(json.dumps({"chats": {"list": [chat]}}).encode()) == "full"
    assert sniff(json.dumps({"chats": "not an export"}).encode()) is None
    root = write_doc(tmp_path, head, name="export_2024.json")
    recs = read_tree(root)
    (m,) = of(recs, Message)
    assert m.text == "m1" and m.chat.key == "77" and m.sender == AccountKey("telegram", "tg_id", "5")


def test_machine_readable_only_unixtime_and_entity_arrays(tmp_path: Path) -> None:
    """The machine-readable form: no local 'date', exact 'date_unixtime'; text only as text_entities."""
    m1 = msg(1, text_entities=[{"type": "plain", "text": "see "},
                               {"type": "text_link", "text": "list", "href": "https://example.org/l"},
                               {"type": "mention", "text": "@ana"}])
    del m1["date"], m1["text"]
    root = write_doc(tmp_path, single([m1]), name="chat.json")
    (m,) = of(read_tree(root), Message)
    assert m.at == datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    assert m.text == "see list (https://example.org/l)@ana"


def test_calls_and_auto_delete_are_typed_events(tmp_path: Path) -> None:
    """phone_call service messages are calls (missed when discard_reason says so) with the caller acting and the
    other party as target; set_messages_ttl is a disappearing-message setting; none is a message."""
    from ringtrace.model import GroupEvent, Message

    svc = {"type": "service", "date": "2024-01-05T10:00:00", "date_unixtime": "1704448800", "actor": "Ana",
           "actor_id": "user5"}
    doc = single([{**svc, "id": 1, "action": "phone_call", "discard_reason": "missed"},
                  {**svc, "id": 2, "action": "phone_call", "duration_seconds": 42, "discard_reason": "hangup"},
                  {**svc, "id": 3, "action": "set_messages_ttl", "period": 86400}],
                 name="Ana", type="personal_chat", id=5)
    recs = read_tree(write_doc(tmp_path, doc))
    evs = [(e.msg_key, e.kind, e.actor.value if e.actor else None, e.target.value if e.target else None, e.value)
           for e in of(recs, GroupEvent)]
    assert evs == [("1", "missed_call", "5", None, "missed"), ("2", "call", "5", None, "hangup, 42 s"),
                   ("3", "ephemeral_setting", "5", None, "86400 s")]
    assert not of(recs, Message)
