"""WhatsApp chat exports: round trips through the synthetic writer, hand-written layouts, bad input."""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from ringtrace.model import (
    AccountKey,
    DeviceOwner,
    EventKind,
    Group,
    GroupEvent,
    Message,
    NameSeen,
    Problem,
    ReadOptions,
)
from ringtrace.sources.base import Candidate, FormatError, Unit
from ringtrace.sources.whatsapp import export as export_module
from ringtrace.sources.whatsapp.export import WhatsAppExport, _iter_lines
from ringtrace.sources.whatsapp.export_locale import load_locales, match_system, render_system
from ringtrace.synth.formats import whatsapp_export as writer
from ringtrace.synth.view import DeviceView, VDirect, VEvent, VGroup, VMedia, VMessage, VPerson

FMT = WhatsAppExport()
WA = "whatsapp"


def _reference_reader() -> Any:
    """main's reader before the speed work of branch waexport, frozen in tests/sources/reference/: every read of
    these tests also runs it, and the records must be identical (every field, provenance line numbers)."""
    path = Path(__file__).with_name("reference") / "whatsapp_export_main.py"
    spec = importlib.util.spec_from_file_location("_whatsapp_export_reference", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


REF_MOD = _reference_reader()
REF = REF_MOD.WhatsAppExport()


def phone(v: str) -> AccountKey:
    return AccountKey(WA, "phone", v)


def name(v: str) -> AccountKey:
    return AccountKey(WA, "export_name", v)


# ---- helpers -------------------------------------------------------------------------------------------


def read_file(root: Path, relpath: str, options: ReadOptions | None = None) -> list[Any]:
    all_rel = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    cand = Candidate(root=root, relpath=relpath, size=(root / relpath).stat().st_size)
    members = FMT.members(cand, all_rel)
    for k in ("BLOCK", "LINE_CAP", "MSG_CAP", "HEAD_LINES", "SENDER_CAP", "LAYOUT_LOCK"):  # tests patch these
        setattr(REF_MOD, k, getattr(export_module, k))
    assert REF.members(cand, all_rel) == members
    unit = Unit(root=root, primary=relpath, format=FMT.name, members=members)
    recs = list(FMT.read(unit, options or ReadOptions()))
    ref = list(REF.read(unit, options or ReadOptions()))
    assert ref == recs and list(map(repr, ref)) == list(map(repr, recs)), "records differ from the reference reader"
    return recs


def write_text(tmp_path: Path, text: str, fname: str = "WhatsApp Chat with Test.txt", **kw: Any) -> Path:
    p = tmp_path / fname
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8", **kw)
    return p


def of(records: list[Any], cls: type) -> list[Any]:
    return [r for r in records if isinstance(r, cls)]


def image(seed: int) -> bytes:
    img = Image.new("RGB", (32, 24), (seed * 40 % 256, 90, 200 - seed * 30 % 200))
    for x in range(32):
        img.putpixel((x, x % 24), (255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return buf.getvalue()


# ---- round trip ----------------------------------------------------------------------------------------

OWNER = VPerson("+34612345678", "Marta Ruiz")
ANA = VPerson("+393123456789", "Ana Bell")  # a contact
BO = VPerson("+4915123456789", "Bo Krause")  # not a contact
CY = VPerson("+33612345678", "Cyril Dane")  # not a contact
DEE = VPerson("+5511961234567", "Dee Lima")  # contact, removed later
T0 = datetime(2024, 3, 14, 21, 30, 15, tzinfo=UTC)  # day > 12 settles D/M vs M/D


def at(minutes: int, sec: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=sec)


def make_view(locale: str, variant: str) -> DeviceView:
    pic1 = VMedia("IMG-20240309-WA0001.jpg", image(1))
    pic2 = VMedia("IMG-20240309-WA0002.jpg", image(2))
    gone = VMedia("VID-20240309-WA0003.mp4", b"", mime="video/mp4", kind="video", present=False)
    events = [
        VEvent("e1", "created", at(0), actor=ANA, value="Garden Club"),
        VEvent("e2", "added", at(1), actor=ANA, target=OWNER),
        VEvent("e3", "added", at(2), actor=ANA, target=BO),
        VEvent("e4", "added", at(2, 30), actor=ANA, target=DEE),
        VEvent("e5", "joined_link", at(3), actor=CY),
        VEvent("e6", "subject", at(20), actor=OWNER, value="Garden Club: Spring"),
        VEvent("e7", "icon", at(21), actor=BO),
        VEvent("e8", "description", at(22), actor=ANA),
        VEvent("e9", "removed", at(23), actor=ANA, target=DEE),
        VEvent("e10", "left", at(40), actor=CY),
    ]
    messages = [
        VMessage("m1", ANA, at(5, 11), "Welcome everyone"),
        VMessage("m2", BO, at(6, 2), "hi!\nsecond line\n\nfourth line: with colon"),
        VMessage("m3", OWNER, at(7, 59), "Thanks - see you"),
        VMessage("m4", CY, at(8, 1), None, media=pic1),
        VMessage("m5", ANA, at(9, 30), "look at this", media=pic2),
        VMessage("m6", BO, at(10, 0), None, media=gone),
        VMessage("m7", DEE, at(11, 45), "ümlauts ✓ and emoji 🌱"),
        VMessage("m8", CY, at(1500, 5), "next day (local midnight crossed)"),
    ]
    group = VGroup(
        WA,
        "1203630@g.us",
        "Garden Club: Spring",
        at(0),
        ANA,
        participants=[(OWNER, "member"), (ANA, "superadmin"), (BO, "member")],
        events=events,
        messages=messages,
    )
    direct = VDirect(
        ANA,
        messages=[
            VMessage("d1", ANA, at(60, 1), "private hello"),
            VMessage("d2", OWNER, at(61, 2), "reply\nin two lines"),
        ],
    )
    return DeviceView(
        owner=OWNER,
        platform=WA,
        groups=[group],
        directs=[direct],
        contacts=[(ANA, "Ana B (work)"), (DEE, "Dee")],
        timezone="America/Sao_Paulo" if locale == "pt" else "Europe/Madrid",
        locale=locale,
        variant=variant,
    )


def expected_key(view: DeviceView, p: VPerson, owner_given: bool) -> AccountKey:
    contacts = {c.phone: n for c, n in view.contacts}
    if p == view.owner:
        return name(p.name)
    if p.phone in contacts:
        return name(contacts[p.phone])
    return name(f"~ {p.name}") if view.variant == "ios" else phone(p.phone)


def materialise(
    view: DeviceView, tmp_path: Path, seed: int = 7, style: writer.Style | None = None
) -> tuple[Path, list[str]]:
    """Write the view; unpack iOS zips as the lead's ingest would (folder named after the zip)."""
    out = tmp_path / "exhibit"
    written = writer.write(view, out, seed, style=style)
    txts = []
    for p in written:
        if p.suffix == ".zip":
            dest = out / p.stem
            with zipfile.ZipFile(p) as zf:
                zf.extractall(dest)
            p.unlink()
            txts.append((dest / "_chat.txt").relative_to(out).as_posix())
        elif p.suffix == ".txt":
            txts.append(p.relative_to(out).as_posix())
    return out, txts


@pytest.mark.parametrize("variant", ["android", "ios"])
@pytest.mark.parametrize("locale", ["en", "es", "pt", "it", "de", "fr", "nl"])
def test_round_trip(tmp_path: Path, locale: str, variant: str) -> None:
    check_round_trip(tmp_path, locale, variant)


def check_round_trip(tmp_path: Path, locale: str, variant: str, style: writer.Style | None = None) -> None:
    view = make_view(locale, variant)
    root, txts = materialise(view, tmp_path, style=style)
    assert len(txts) == 2
    group_rel = next(t for t in txts if "Garden" in t)
    direct_rel = next(t for t in txts if "Ana B" in t)
    for t in txts:
        assert FMT.claim(Candidate(root, t, (root / t).stat().st_size)) >= 80

    opts = ReadOptions(timezone=view.timezone, owner=OWNER.phone)
    recs = read_file(root, group_rel, opts)
    problems = [p for p in of(recs, Problem) if p.severity != "info"]
    assert problems == [], problems
    msgs = of(recs, Message)
    vg = view.groups[0]
    assert len(msgs) == len(vg.messages)
    seconds = variant == "ios" if style is None else "ss" in style.time
    precision = 1 if seconds else 60
    for got, want in zip(msgs, vg.messages, strict=True):
        assert got.sender == expected_key(view, want.sender, True)
        want_at = want.at if seconds else want.at.replace(second=0)
        assert got.at == want_at
        assert got.time_precision_s == precision
        assert got.text == want.text
        assert got.msg_key is None
        assert got.chat.kind == "group" and got.chat.key == "export:Garden Club_ Spring"
        if want.media is None:
            assert got.media == ()
        elif want.media.present:
            (mr,) = got.media
            assert mr.path is not None and (root / mr.path).read_bytes() == want.media.data
            assert mr.size == want.media.size
        else:
            assert got.media[0].path is None
    evs = [e for e in of(recs, GroupEvent) if e.kind != EventKind.ENCRYPTION_NOTICE]
    assert [e.kind for e in evs] == [e.kind for e in vg.events]
    owner_key = phone(OWNER.phone)
    for got, wev in zip(evs, vg.events, strict=True):
        if wev.actor is not None:
            assert got.actor == (owner_key if wev.actor == OWNER else expected_key(view, wev.actor, True))
        if wev.target is not None:
            assert got.target == (owner_key if wev.target == OWNER else expected_key(view, wev.target, True))
        assert got.at == (wev.at if seconds else wev.at.replace(second=0))
    assert evs[5].value == "Garden Club: Spring"
    (grp,) = of(recs, Group)
    assert grp.name == "Garden Club: Spring"
    assert grp.created_at == (at(0) if seconds else at(0).replace(second=0))
    assert grp.creator == expected_key(view, ANA, True)
    assert of(recs, DeviceOwner) == [DeviceOwner(owner_key, "--owner", grp.prov)]
    assert any(isinstance(n, NameSeen) and n.name == "Ana B (work)" for n in recs)

    drecs = read_file(root, direct_rel, opts)
    dmsgs = of(drecs, Message)
    assert [m.text for m in dmsgs] == ["private hello", "reply\nin two lines"]
    assert dmsgs[0].chat.kind == "direct" and dmsgs[0].chat.peer == name("Ana B (work)")
    assert of(drecs, Group) == []


def test_writer_is_deterministic(tmp_path: Path) -> None:
    view = make_view("de", "ios")
    a = [p.read_bytes() for p in writer.write(view, tmp_path / "a", 3)]
    b = [p.read_bytes() for p in writer.write(view, tmp_path / "b", 3)]
    assert a == b


def test_members_claim_only_referenced_attachments(tmp_path: Path) -> None:
    root, txts = materialise(make_view("en", "android"), tmp_path)
    group_rel = next(t for t in txts if "Garden" in t)
    folder = group_rel.rsplit("/", 1)[0]
    (root / folder / "unrelated.jpg").write_bytes(b"x")
    all_rel = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    m = FMT.members(Candidate(root, group_rel, 1), all_rel)
    assert m == [f"{folder}/IMG-20240309-WA0001.jpg", f"{folder}/IMG-20240309-WA0002.jpg"]


# ---- hand-written layouts ------------------------------------------------------------------------------

LAYOUTS = [
    # (line, timezone-naive local time expected, sender)
    ("12/31/23, 11:59\u202fPM - Ana: hi", datetime(2023, 12, 31, 23, 59), "Ana"),
    ("31/12/2023, 23:59 - Ana: hi", datetime(2023, 12, 31, 23, 59), "Ana"),
    ("31.12.23, 23:59 - Ana: hi", datetime(2023, 12, 31, 23, 59), "Ana"),
    ("2023-12-31 23:59 - Ana: hi", datetime(2023, 12, 31, 23, 59), "Ana"),
    ("31/12/2023, 11:59\u202fp.\u00a0m. - Ana: hi", datetime(2023, 12, 31, 23, 59), "Ana"),
    ("31/12/2023, 12:05 a. m. - Ana: hi", datetime(2023, 12, 31, 0, 5), "Ana"),
    ("31/12/23, 9:05 a.m. - Ana: hi", datetime(2023, 12, 31, 9, 5), "Ana"),
    ("31/12/2023 23:59 - Ana: hi", datetime(2023, 12, 31, 23, 59), "Ana"),
    ("31.12.23, 23.59 - Ana: hi", datetime(2023, 12, 31, 23, 59), "Ana"),
    ("[31/12/2023, 23:59:59] Ana: hi", datetime(2023, 12, 31, 23, 59, 59), "Ana"),
    ("[12/31/23, 11:59:59\u202fPM] Ana: hi", datetime(2023, 12, 31, 23, 59, 59), "Ana"),
    ("[31.12.23, 23:59:59] Ana: hi", datetime(2023, 12, 31, 23, 59, 59), "Ana"),
    ("[2023-12-31, 23:59:59] Ana: hi", datetime(2023, 12, 31, 23, 59, 59), "Ana"),
    ("\u200e[31/12/2023, 23:59:59] Ana: hi", datetime(2023, 12, 31, 23, 59, 59), "Ana"),
    # Arabic-Indic digits with RLMs between the fields, Arabic comma and PM mark
    (
        "\u0663\u0661\u200f/\u0661\u0662\u200f/\u0662\u0660\u0662\u0663\u060c \u0661\u0661:\u0665\u0669 م - Ana: hi",
        datetime(2023, 12, 31, 23, 59),
        "Ana",
    ),
    # Persian digits
    (
        "\u06f1\u06f4\u06f0\u06f2/\u06f1\u06f0/\u06f1\u06f0, \u06f2\u06f3:\u06f5\u06f9 - Ana: hi",
        datetime(1402, 10, 10, 23, 59),
        "Ana",
    ),
]


@pytest.mark.parametrize(("line", "local", "sender"), LAYOUTS)
def test_layouts(tmp_path: Path, line: str, local: datetime, sender: str) -> None:
    # two lines so the first-field > 12 rule (31) fixes the order; the second line repeats the layout
    write_text(tmp_path, line + "\n" + line.replace("hi", "again") + "\n")
    assert FMT.claim(Candidate(tmp_path, "WhatsApp Chat with Test.txt", 10)) > 0
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt", ReadOptions(timezone="Europe/Berlin"))
    msgs = of(recs, Message)
    assert [m.text for m in msgs] == ["hi", "again"]
    want = local.replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    assert msgs[0].at == want
    assert msgs[0].sender == name(sender)
    assert msgs[0].time_precision_s == (1 if line.lstrip("\u200e").startswith("[") else 60)


def test_ambiguous_order_settled_by_other_line(tmp_path: Path) -> None:
    text = "03/04/24, 10:00 - Ana: a\n03/04/24, 10:01 - Bo: b\n25/04/24, 10:02 - Ana: c\n"
    write_text(tmp_path, text)
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    assert of(recs, Message)[0].at == datetime(2024, 4, 3, 10, 0, tzinfo=UTC)
    assert not [p for p in of(recs, Problem) if "ambiguous" in p.reason]
    text = "03/04/24, 10:00 - Ana: a\n03/25/24, 10:01 - Bo: b\n"
    write_text(tmp_path, text)
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    assert of(recs, Message)[0].at == datetime(2024, 3, 4, 10, 0, tzinfo=UTC)


def test_ambiguous_order_settled_by_increasing_dates(tmp_path: Path) -> None:
    text = "01/02/24, 10:00 - Ana: a\n02/02/24, 10:00 - Ana: b\n"
    text += "05/02/24, 10:00 - Bo: c\n06/02/24, 9:00 - Bo: d\n"
    # D/M: 1.2, 2.2, 5.2, 6.2 (forward); M/D: 2 Jan, 2 Feb, 2 May, 2 Jun (forward too) -> add a backwards one
    text += "07/01/24, 9:00 - Bo: e\n"  # D/M: 7 Jan (back); M/D: 1 Jul (forward)
    write_text(tmp_path, text)
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    assert of(recs, Message)[0].at == datetime(2024, 1, 2, 10, 0, tzinfo=UTC)  # read as M/D


def test_ambiguous_order_falls_back_to_locale_default_with_warning(tmp_path: Path) -> None:
    text = "03/04/24, 10:00 - Ana: a\n03/04/24, 10:05 - Bo: b\n"
    write_text(tmp_path, text, fname="WhatsApp-Chat mit Test.txt")
    recs = read_file(tmp_path, "WhatsApp-Chat mit Test.txt")
    assert of(recs, Message)[0].at == datetime(2024, 4, 3, 10, 0, tzinfo=UTC)  # German default D/M
    assert any("ambiguous" in p.reason and p.severity == "warning" for p in of(recs, Problem))
    write_text(tmp_path, "03/04/24, 10:00\u202fAM - Ana: a\n", fname="WhatsApp Chat with Test.txt")
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    assert of(recs, Message)[0].at == datetime(2024, 3, 4, 10, 0, tzinfo=UTC)  # US default M/D


def test_senders_phone_pushname_bidi(tmp_path: Path) -> None:
    text = (
        "[31/12/2023, 10:00:00] \u202a+39 312 345 6789\u202c: uno\n"
        "[31/12/2023, 10:00:01] ~\u202fPushy: due\n"
        "[31/12/2023, 10:00:02] +34 612 34 56 78: tres\n"
        "[31/12/2023, 10:00:03] Group: \u200eAna added Bo\n"
    )
    write_text(tmp_path, text, fname="x/_chat.txt")
    recs = read_file(tmp_path, "x/_chat.txt", ReadOptions(owner="+34612345678"))
    msgs = of(recs, Message)
    assert [m.sender for m in msgs] == [phone("+393123456789"), name("~ Pushy"), phone("+34612345678")]
    assert msgs[2].from_owner
    assert msgs[0].chat.key == "export:x"  # bare _chat.txt: the (unzipped) folder name
    (ev,) = of(recs, GroupEvent)
    assert ev.kind == "added" and ev.actor == name("Ana") and ev.target == name("Bo")


@pytest.mark.parametrize(
    ("text", "kind", "actor", "target", "value"),
    [
        ('Ana created group "Club"', "created", "Ana", None, "Club"),
        ('You created group "Club"', "created", "You", None, "Club"),
        ("Ana added Bo", "added", "Ana", "Bo", None),
        ("You added Bo", "added", "You", "Bo", None),
        ("Ana added you", "added", "Ana", "You", None),
        ("Bo joined using this group's invite link", "joined_link", "Bo", None, None),
        ("Bo left", "left", "Bo", None, None),
        ("Ana removed Bo", "removed", "Ana", "Bo", None),
        ('Ana changed the subject from "A" to "B"', "subject", "Ana", None, "B"),
        ("Ana changed this group's icon", "icon", "Ana", None, None),
        ("Ana changed the group description", "description", "Ana", None, None),
        ("Your security code with Ana changed. Tap to learn more.", "security_code", "Ana", None, None),
        ('Creaste el grupo "Club"', "created", "You", None, "Club"),
        ("Ana añadió a Bo", "added", "Ana", "Bo", None),
        ("Ana te añadió", "added", "Ana", "You", None),
        ("Bo se unió usando el enlace de invitación de este grupo", "joined_link", "Bo", None, None),
        ('Ana cambió el asunto de "A" a "B"', "subject", "Ana", None, "B"),
        ("Ana adicionou Bo", "added", "Ana", "Bo", None),
        ("Bo saiu", "left", "Bo", None, None),
        ("Ana removeu Bo", "removed", "Ana", "Bo", None),
        ("Ana ha aggiunto Bo", "added", "Ana", "Bo", None),
        ("Bo ha abbandonato", "left", "Bo", None, None),
        ("Du hast Bo hinzugefügt", "added", "You", "Bo", None),
        ("Ana hat dich hinzugefügt", "added", "Ana", "You", None),
        ("Ana hat die Gruppe „Club“ erstellt", "created", "Ana", None, "Club"),
        ("Bo hat die Gruppe verlassen", "left", "Bo", None, None),
        ("Vous avez ajouté Bo", "added", "You", "Bo", None),
        ("Ana a créé le groupe « Club »", "created", "Ana", None, "Club"),
        ("Ana a retiré Bo", "removed", "Ana", "Bo", None),
        (
            "Messages and calls are end-to-end encrypted. No one outside.",
            "encryption_notice",
            None,
            None,
            None,
        ),
        (
            "Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand.",
            "encryption_notice",
            None,
            None,
            None,
        ),
    ],
)
def test_system_lines(tmp_path: Path, text: str, kind: str, actor: Any, target: Any, value: Any) -> None:
    write_text(tmp_path, f"31/12/2023, 10:00 - {text}\n31/12/2023, 10:01 - Ana: x\n")
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    (ev,) = of(recs, GroupEvent)
    assert ev.kind == kind and ev.raw_code == text.replace("\u202f", " ")
    assert ev.actor == (name(actor) if actor else None)
    assert ev.target == (name(target) if target else None)
    assert ev.value == value


def test_you_with_owner_and_multiple_targets(tmp_path: Path) -> None:
    text = (
        "31/12/2023, 10:00 - You added Bo, Cy and \u202a+39 312 345 6789\u202c\n"
        "31/12/2023, 10:01 - Bo: x\n31/12/2023, 10:02 - Cy: y\n"
        "31/12/2023, 10:03 - Ana added Tom and Jerry\n"
    )
    write_text(tmp_path, text)
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt", ReadOptions(owner="+34612345678"))
    evs = of(recs, GroupEvent)
    assert [e.target for e in evs] == [name("Bo"), name("Cy"), phone("+393123456789"), name("Tom and Jerry")]
    assert evs[0].actor == phone("+34612345678")
    assert of(recs, DeviceOwner)[0].account == phone("+34612345678")
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    assert of(recs, GroupEvent)[0].actor == name("You")
    assert any("no --owner" in p.reason for p in of(recs, Problem))


def test_attachments_and_omitted(tmp_path: Path) -> None:
    text = (
        "31/12/2023, 10:00 - Ana: <Medien ausgeschlossen>\n"
        "31/12/2023, 10:01 - Ana: <Multimedia omitido>\n"
        "31/12/2023, 10:02 - Ana: IMG-20231231-WA0003.jpg (file attached)\nnice\n"
        "31/12/2023, 10:03 - Ana: missing.jpg (Datei angehängt)\n"
        "[31/12/2023, 10:04:00] Ana: \u200e<attached: 00000012-PHOTO-2023-12-31-23-59-59.jpg>\n"
    )
    write_text(tmp_path, text)
    (tmp_path / "IMG-20231231-WA0003.jpg").write_bytes(image(3))
    (tmp_path / "00000012-PHOTO-2023-12-31-23-59-59.jpg").write_bytes(image(4))
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    msgs = of(recs, Message)
    assert msgs[0].media[0].path is None and msgs[0].text is None
    assert msgs[1].media[0].path is None
    assert msgs[2].media[0].path == "IMG-20231231-WA0003.jpg" and msgs[2].text == "nice"
    assert msgs[3].media[0].name == "missing.jpg" and msgs[3].media[0].path is None
    assert any("missing.jpg" in p.reason for p in of(recs, Problem))


def test_unknown_locale_kept(tmp_path: Path) -> None:
    text = "31-12-2023 10:00 - Jan zor grupo blik\n31-12-2023 10:01 - Jan: hallo\n"
    write_text(tmp_path, text, fname="chat.txt")
    recs = read_file(tmp_path, "chat.txt")
    (ev,) = of(recs, GroupEvent)
    assert ev.kind == EventKind.UNKNOWN and ev.raw_code == "Jan zor grupo blik"
    assert any("unknown locale" in p.reason and p.reason.endswith("lines 1") for p in of(recs, Problem))


def test_unknown_locale_yields_every_message_and_names_unread_lines(tmp_path: Path) -> None:
    """A language with no phrase data (here an invented one): every message is kept, each system line is an
    unknown event, and the problem names the lines it could not read."""
    text = ("31-12-2023 10:00 - Zor blik-blak grupo\n31-12-2023 10:01 - Jan: hallo\n"
            "31-12-2023 10:02 - Mia: ok\n31-12-2023 10:03 - Zor blik Mia\n31-12-2023 10:04 - Jan: doei\n")
    write_text(tmp_path, text, fname="chat.txt")
    recs = read_file(tmp_path, "chat.txt")
    assert [m.text for m in of(recs, Message)] == ["hallo", "ok", "doei"]
    assert [e.kind for e in of(recs, GroupEvent)] == [EventKind.UNKNOWN, EventKind.UNKNOWN]
    (p,) = [p for p in of(recs, Problem) if "unknown locale" in p.reason]
    assert p.reason.endswith("lines 1, 4")


# ---- bad input -----------------------------------------------------------------------------------------


def test_not_an_export(tmp_path: Path) -> None:
    write_text(tmp_path, "Dear diary,\ntoday nothing happened.\n" * 5, fname="notes.txt")
    assert FMT.claim(Candidate(tmp_path, "notes.txt", 10)) == 0
    with pytest.raises(FormatError, match="notes.txt"):
        read_file(tmp_path, "notes.txt")


def test_claim_needs_several_lines(tmp_path: Path) -> None:
    write_text(tmp_path, "31/12/2023, 10:00 - Ana: x\n" + "prose line\n" * 19, fname="a.txt")
    one = FMT.claim(Candidate(tmp_path, "a.txt", 10))
    write_text(tmp_path, "31/12/2023, 10:00 - Ana: x\n" * 5, fname="b.txt")
    many = FMT.claim(Candidate(tmp_path, "b.txt", 10))
    assert 0 < one < 50 <= many
    (tmp_path / "c.bin").write_bytes(b"\x00\x01\x02" * 100)
    assert FMT.claim(Candidate(tmp_path, "c.bin", 300)) == 0


def test_truncated_export(tmp_path: Path) -> None:
    write_text(tmp_path, "31/12/2023, 10:00 - Ana: a\n31/12/2023, 10:01 - Bo: b\n31/12/20")
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    assert len(of(recs, Message)) == 2
    assert any("truncated" in p.reason for p in of(recs, Problem))


def test_non_utf8_bytes(tmp_path: Path) -> None:
    p = tmp_path / "WhatsApp Chat with Test.txt"
    p.write_bytes(b"31/12/2023, 10:00 - Ana: caf\xe9\n31/12/2023, 10:01 - Bo: ok\n")
    recs = read_file(tmp_path, p.name)
    assert [m.text for m in of(recs, Message)] == ["caf\ufffd", "ok"]
    assert any("not valid utf-8" in x.reason for x in of(recs, Problem))


def test_bad_byte_offset_is_the_file_offset(tmp_path: Path) -> None:
    good = b"31/12/2023, 10:00 - Ana: " + b"x" * 20_000 + b"\n"  # past the text layer's 8 KiB read chunk
    p = tmp_path / "WhatsApp Chat with Test.txt"
    p.write_bytes(good + b"31/12/2023, 10:01 - Bo: caf\xe9\n")
    recs = read_file(tmp_path, p.name)
    (prob,) = [x for x in of(recs, Problem) if "not valid utf-8" in x.reason]
    assert f"offset {len(good) + 27}" in prob.reason
    assert [m.text for m in of(recs, Message)][1] == "caf\ufffd"


@pytest.mark.parametrize("enc", ["utf-16", "utf-16-le"])
def test_utf16(tmp_path: Path, enc: str) -> None:
    p = tmp_path / "WhatsApp Chat with Test.txt"
    p.write_bytes("31/12/2023, 10:00 - Ana: hola ñ\n31/12/2023, 10:01 - Bo: ok\n".encode(enc))
    assert FMT.claim(Candidate(tmp_path, p.name, 10)) > 0
    assert [m.text for m in of(read_file(tmp_path, p.name), Message)] == ["hola ñ", "ok"]


def test_huge_lines_are_bounded(tmp_path: Path) -> None:
    big = "x" * 200_000
    text = f"31/12/2023, 10:00 - Ana: {big}\n" + ("y" * 1000 + "\n") * 100 + "31/12/2023, 10:01 - Bo: ok\n"
    write_text(tmp_path, text)
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    msgs = of(recs, Message)
    assert len(msgs) == 2 and len(msgs[0].text) <= 64 * 1024 + 1 and msgs[1].text == "ok"
    reasons = [p.reason for p in of(recs, Problem)]
    assert any("line longer" in r for r in reasons) and any("message longer" in r for r in reasons)


def test_iter_lines_cuts() -> None:
    lines = list(_iter_lines(io.StringIO("a" * 70_000 + "\nb\n")))
    assert [(len(x), c) for x, c in lines] == [(64 * 1024, True), (2, False)]


def _readline_lines(fh: Any, cap: int) -> list[tuple[str, bool]]:
    """The reader's former line splitter (readline with a cap), kept as the reference for the block reader."""
    out = []
    while line := fh.readline(cap):
        if len(line) == cap and line[-1] != "\n":
            while (rest := fh.readline(cap)) and rest[-1] != "\n":
                pass
            out.append((line, True))
        else:
            out.append((line, False))
    return out


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a\nb",  # no final newline
        "a\r\nb\rc\n",  # CRLF and CR read as newlines
        "x\u2028y\x0cz\x1cw\x85v\n",  # str.splitlines would break at these; the file does not
        "1" * 49 + "\n" + "2" * 50 + "\n" + "3" * 51 + "\n4",  # one short of the cap, at it, past it
        "5" * 50,  # at the cap, no newline
        "6" * 300 + "\n" + "7" * 130 + "\n\n8\n",  # over-long lines across block boundaries
        ("ab\n" * 40) + "9" * 500,  # ends inside an over-long line
    ],
)
def test_block_reader_splits_like_readline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    from ringtrace.sources.whatsapp import export

    monkeypatch.setattr(export, "LINE_CAP", 50)
    monkeypatch.setattr(export, "BLOCK", 64)  # many blocks: lines and cuts fall across their edges
    f = tmp_path / "t.txt"
    f.write_bytes(text.encode())
    with f.open("r", encoding="utf-8", newline=None) as fh:
        want = _readline_lines(fh, 50)
    with f.open("r", encoding="utf-8", newline=None) as fh:
        assert list(_iter_lines(fh)) == want


@pytest.mark.parametrize("block", [7, 64, 333])
@pytest.mark.parametrize("ios", [False, True])
def test_messages_of_many_lines_across_block_edges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int,
                                                   ios: bool) -> None:
    """Messages of many lines across small read blocks, stray lines before the first message and after system
    lines, impossible timestamps inside a message, messages over a (small) MSG_CAP, blank lines, a line that
    looks like a timestamp but starts with a space, and no final newline: every message and problem read."""
    from ringtrace.sources.whatsapp import export

    monkeypatch.setattr(export, "BLOCK", block)
    monkeypatch.setattr(export, "MSG_CAP", 120)
    ts = (lambda m, s: f"[31/12/2023, 10:{m:02d}:{s:02d}] ") if ios else (lambda m, s: f"31/12/2023, 10:{m:02d} - ")
    lines = ["stray line", "", "another"]
    for i in range(40):
        lines.append(f"{ts(i, i % 60)}{('Ana', 'Bo', 'Cy')[i % 3]}: text {i}")
        if i % 4 == 1:
            lines += [f"continued {i} " + "x" * (i * 3), "", f" more {i}"]
        if i % 9 == 2:
            lines.append("31/13/2023, 10:01 - Bo: an impossible date" if not ios else "[31/12/2023, 10:61:00] x")
        if i % 11 == 3:
            lines += [f"{ts(i, 0)}Ana created group \"G\"", "after a system line"]
        if i % 7 == 5:
            lines.append(" 31/12/2023, 10:00 - Bo: a leading space")
    write_text(tmp_path, "\n".join(lines) + f"\n{ts(59, 59)}Ana: last, no newline")
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    msgs = of(recs, Message)
    assert [m.text.split("\n", 1)[0] for m in msgs] == [f"text {i}" for i in range(40)] + ["last, no newline"]
    assert all(len(m.text) <= 120 + 1 for m in msgs) and any("\n" in m.text for m in msgs)
    assert [m.prov.line for m in msgs] == [i + 1 for i, ln in enumerate(lines) if ": text " in ln[:40]
                                           and not ln.startswith(" ")] + [len(lines) + 1]
    reasons = [p.reason for p in of(recs, Problem)]
    assert any("message longer" in r for r in reasons) and any("not a valid" in r for r in reasons)
    assert any("before the first" in r for r in reasons)


def test_seconds_across_dst_and_impossible_seconds(tmp_path: Path) -> None:
    # the UTC start of each local hour is cached and minutes/seconds added: Madrid springs forward on 31 March
    text = "[31/03/2024, 01:59:59] Ana: a\n[31/03/2024, 03:00:01] Ana: b\n[31/03/2024, 03:10:75] Ana: c\n"
    recs = read_file(tmp_path, write_text(tmp_path, text).name, ReadOptions(timezone="Europe/Madrid"))
    assert [(m.at, m.text) for m in of(recs, Message)] == [
        (datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC), "a"),
        (datetime(2024, 3, 31, 1, 0, 1, tzinfo=UTC), "b\n[31/03/2024, 03:10:75] Ana: c"),
    ]
    (p,) = [p for p in of(recs, Problem) if "not a valid" in p.reason]
    assert p.prov.line == 3


def test_bad_timezone_and_bad_date(tmp_path: Path) -> None:
    write_text(tmp_path, "31/12/2023, 10:00 - Ana: a\n31/13/2023, 10:01 - Bo: b\n")
    with pytest.raises(FormatError, match="timezone"):
        read_file(tmp_path, "WhatsApp Chat with Test.txt", ReadOptions(timezone="Mars/Base"))
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt")
    assert [m.text for m in of(recs, Message)] == ["a\n31/13/2023, 10:01 - Bo: b"]
    assert any("not a valid" in p.reason for p in of(recs, Problem))


def test_orphan_lines_before_first_message(tmp_path: Path) -> None:
    write_text(tmp_path, "31/12/2023, 10:00 - Ana: a\n", fname="a.txt")
    (tmp_path / "a.txt").write_text("stray\n31/12/2023, 10:00 - Ana: a\n31/12/2023, 10:00 - Ana: b\n")
    recs = read_file(tmp_path, "a.txt")
    assert len(of(recs, Message)) == 2
    assert any("before the first" in p.reason for p in of(recs, Problem))


# ---- locale data ---------------------------------------------------------------------------------------


def test_every_locale_renders_and_parses_its_own_forms() -> None:
    for code in load_locales():
        for kind in ["created", "added", "joined_link", "left", "removed", "subject", "icon", "description"]:
            for ao in (False, True):
                text = render_system(code, kind, "Ana", "Bo", value="New", old="Old", actor_owner=ao)
                assert text is not None, (code, kind)
                hit = match_system(text)
                assert hit is not None and hit[0].kind == kind, (code, kind, text)
        assert load_locales()[code].source


def test_match_system_is_the_first_phrase_whose_pattern_matches() -> None:
    """The required-text filter skips only patterns that cannot match: on every phrase written out (straight,
    curly and guillemet quotes, NBSP and narrow NBSP for spaces, names holding quotes and system words), and cut
    short or run on, the phrase and fields are those of trying every pattern in order."""
    from ringtrace.sources.whatsapp.export_locale import all_phrases, anchor_rx

    def every_pattern(text: str) -> tuple[object, dict[str, str]] | None:
        if not anchor_rx().search(text):  # no phrase's words at all: not a known system line
            return None
        for p in all_phrases():
            m = p.rx.match(text)
            if m:
                return p, {k: v for k, v in m.groupdict().items() if v is not None}
        return None

    names = [("Ana", "Bo"), ('"Zé" Lu', "Bo's added"), ("O\u2019Neil", "«Kim»")]
    texts = []
    for p in all_phrases():
        for actor, target in names:
            t = p.tpl.format(actor=actor, target=target, value="Tuin \"x\"", old="Oud", any=". Tap")
            texts += [t, t.replace(" ", "\u00a0"), t.replace(" ", "\u202f", 2), t.replace('"', "\u201c"),
                      t.replace("'", "\u2019"), t[:-3], t + " x", t[2:]]
    assert len(texts) > 40_000
    hits = 0
    for t in texts:
        want = every_pattern(t)
        assert match_system(t) == want, t
        hits += want is not None
    assert hits > len(texts) // 2


def test_local_time_across_dst_change(tmp_path: Path) -> None:
    # Europe/Madrid springs forward at 02:00 local on 31 March 2024 (UTC+1 -> UTC+2)
    write_text(tmp_path, "31/03/2024, 01:30 - Ana: a\n31/03/2024, 03:30 - Ana: b\n")
    recs = read_file(tmp_path, "WhatsApp Chat with Test.txt", ReadOptions(timezone="Europe/Madrid"))
    assert [m.at for m in of(recs, Message)] == [
        datetime(2024, 3, 31, 0, 30, tzinfo=UTC),
        datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
    ]


# ---- notices are not messages (issue 13 item 2) --------------------------------------------------------

LRM_ = "\u200e"


@pytest.mark.parametrize(
    ("body", "kind", "actor"),
    [
        ("Ana: This message was deleted", EventKind.MESSAGE_DELETED, "Ana"),
        ("Ana: This message was deleted.", EventKind.MESSAGE_DELETED, "Ana"),
        ("You: You deleted this message", EventKind.MESSAGE_DELETED, "You"),
        (f"Ana: {LRM_}You deleted this message.", EventKind.MESSAGE_DELETED, "You"),
        ("Ana: Waiting for this message. This may take a while.", EventKind.MESSAGE_WAITING, "Ana"),
        (f"Ana: {LRM_}Missed voice call", EventKind.MISSED_CALL, "Ana"),
        ("Ana: Missed video call", EventKind.MISSED_CALL, "Ana"),
        ("Ana: Llamada de voz perdida", EventKind.MISSED_CALL, "Ana"),
        ("Ana: Diese Nachricht wurde gelöscht", EventKind.MESSAGE_DELETED, "Ana"),
        ("Ana turned on disappearing messages. New messages will disappear from this chat 7 days after "
         "they're sent.", EventKind.EPHEMERAL_SETTING, "Ana"),
    ],
)
def test_notices_are_events_not_messages(tmp_path: Path, body: str, kind: str, actor: str) -> None:
    text = f"12/03/24, 10:00 - Ana: hola\n12/03/24, 10:01 - {body}\n12/03/24, 10:02 - Ana: ok\n"
    recs = read_file(tmp_path, write_text(tmp_path, text).name)
    msgs = of(recs, Message)
    assert [m.text for m in msgs] == ["hola", "ok"]
    (ev,) = [e for e in of(recs, GroupEvent) if e.kind == kind]
    assert ev.actor == name(actor) and ev.at == datetime(2024, 3, 12, 10, 1, tzinfo=UTC)


@pytest.mark.parametrize("ios", [False, True])
def test_chat_name_before_encryption_notice_is_no_person(tmp_path: Path, ios: bool) -> None:
    """Old exports print 'Club Jardín: Messages to this group are now secured ...' (no LRM): an
    encryption notice, and no account or name is made from the chat's name."""
    notice = "Messages to this group are now secured with end-to-end encryption. Tap for more info."
    stamp = "[12/03/2024, 10:00:00] " if ios else "12/03/24, 10:00 - "
    stamp2 = "[12/03/2024, 10:01:00] " if ios else "12/03/24, 10:01 - "
    text = f"{stamp}Club Jardín: {notice}\n{stamp2}Ana: hola\n{stamp2}Ben: hi\n{stamp2}Carl: hey\n"
    recs = read_file(tmp_path, write_text(tmp_path, text, fname="WhatsApp Chat - Club Jardín/_chat.txt").as_posix()
                     .split(str(tmp_path) + "/", 1)[1])
    assert [e.kind for e in of(recs, GroupEvent)] == [EventKind.ENCRYPTION_NOTICE]
    assert {m.sender for m in of(recs, Message)} == {name("Ana"), name("Ben"), name("Carl")}
    assert not [n for n in of(recs, NameSeen) if n.name == "Club Jardín"]


@pytest.mark.parametrize(
    ("line", "kind", "actor", "target"),
    [
        ("31-12-2023 10:00 - Jan heeft de groep \"Tuin\" aangemaakt", EventKind.CREATED, "Jan", None),
        ("31-12-2023 10:00 - Jij hebt Mia toegevoegd", EventKind.ADDED, "You", "Mia"),
        ("31-12-2023 10:00 - Je bent nu een beheerder", EventKind.PROMOTED, None, "You"),
        ("31-12-2023 10:00 - Mia heeft de groep verlaten", EventKind.LEFT, "Mia", None),
        ("31-12-2023 10:00 - Mia is deelnemer geworden via de uitnodigingslink van deze groep",
         EventKind.JOINED_LINK, "Mia", None),
    ],
)
def test_dutch_system_lines(tmp_path: Path, line: str, kind: str, actor: str | None, target: str | None) -> None:
    text = line + "\n31-12-2023 10:01 - Jan: hallo\n31-12-2023 10:02 - Mia: Dit bericht is verwijderd\n"
    recs = read_file(tmp_path, write_text(tmp_path, text, fname="WhatsApp-chat met Tuin.txt").name)
    evs = [e for e in of(recs, GroupEvent) if e.kind != EventKind.MESSAGE_DELETED]
    assert [(e.kind, e.actor, e.target) for e in evs] == [
        (kind, name(actor) if actor else None, name(target) if target else None)
    ]
    assert [m.text for m in of(recs, Message)] == ["hallo"]
    assert not [p for p in of(recs, Problem) if "not recognised" in p.reason or "unknown locale" in p.reason]


def test_name_colon_text_without_space(tmp_path: Path) -> None:
    """'Ana:hola' (no space after the colon) is a message when Ana sends ordinary messages elsewhere in the
    file; an empty body ('Ben:') is an empty message; an unknown line is still named by number."""
    text = ("12/03/24, 10:00 - Ana: hola\n12/03/24, 10:01 - Ana:sin espacio\n12/03/24, 10:02 - Ben:\n"
            "12/03/24, 10:03 - Ben: ok\n12/03/24, 10:04 - Zor blik\n")
    recs = read_file(tmp_path, write_text(tmp_path, text).name)
    assert [(m.sender, m.text) for m in of(recs, Message)] == [
        (name("Ana"), "hola"), (name("Ana"), "sin espacio"), (name("Ben"), ""), (name("Ben"), "ok")
    ]
    (p,) = [p for p in of(recs, Problem) if "not recognised" in p.reason or "unknown locale" in p.reason]
    assert p.reason.endswith("lines 5")


@pytest.mark.parametrize(
    ("line", "kind", "actor", "target"),
    [
        ("You were added", EventKind.ADDED, None, "+34600111222"),
        ("You're no longer an admin", EventKind.DEMOTED, None, "+34600111222"),
        ('You created group "Tuin"', EventKind.CREATED, "+34600111222", None),
        ("Ana added you", EventKind.ADDED, "Ana", "+34600111222"),
    ],
)
def test_second_person_forms_are_the_owner(tmp_path: Path, line: str, kind: str, actor: str | None,
                                           target: str | None) -> None:
    text = f"12/03/24, 10:00 - {line}\n12/03/24, 10:01 - Ana: hola\n12/03/24, 10:02 - Ben: ok\n"
    recs = read_file(tmp_path, write_text(tmp_path, text).name, ReadOptions(owner="+34600111222"))

    def key(v: str | None) -> AccountKey | None:
        return None if v is None else phone(v) if v.startswith("+") else name(v)

    assert [(e.kind, e.actor, e.target) for e in of(recs, GroupEvent)] == [(kind, key(actor), key(target))]


# ---- every locale, every layout (fixtures from the synthetic writer) ------------------------------------

NEW_LOCALES = sorted(set(load_locales()) - {"en", "es", "pt", "it", "de", "fr", "nl"})


@pytest.mark.parametrize("variant", ["android", "ios"])
@pytest.mark.parametrize("locale", NEW_LOCALES)
def test_round_trip_every_locale(tmp_path: Path, locale: str, variant: str) -> None:
    """The locales with no hand-made style print their CLDR short date/time (Vietnamese: time first; Swedish
    and Hungarian: year first; Arabic/Persian/Urdu day periods); system lines in the locale's own words."""
    assert len(load_locales()) >= 20
    check_round_trip(tmp_path, locale, variant)


# ---- names that regexes cannot cut: RTL locales, run-together fields (the Persian round-trip bug) ------------

HARD_NAMES = {
    "Ana B (work)": name("Ana B (work)"),  # a parenthesis and spaces: the Persian "removed" bug
    "\u202a+49 1512 3456789\u202c": phone("+4915123456789"),  # Android wraps numbers in LRE ... PDF
    "\u0639\u0644\u06cc \u06f2": name("\u0639\u0644\u06cc \u06f2"),  # Persian digit in a name
    "\u200f\u0631\u0636\u0627 (\u06a9\u0627\u0631)\u200f": name("\u0631\u0636\u0627 (\u06a9\u0627\u0631)"),
}
HARD_PAIRS = [(0, 2), (1, 3), (3, 1), (2, 0), (1, 0)]


def export_with_system_line(tmp_path: Path, code: str, line: str, senders: list[str]) -> list[Any]:
    msgs = "".join(f"14/03/2024, 10:0{i} - {n}: hola\n" for i, n in enumerate(senders))
    loc = load_locales()[code]
    fname = (loc.title_prefixes[0] if loc.title_prefixes else "WhatsApp Chat with ") + "Test.txt"
    write_text(tmp_path, msgs + f"14/03/2024, 10:09 - {line}\n", fname=fname)
    return read_file(tmp_path, fname, ReadOptions(owner="+34600111222"))


@pytest.mark.parametrize("code", ["fa", "ar", "ur", "he", "tr", "es"])
def test_every_phrase_keeps_whole_names(tmp_path: Path, code: str) -> None:
    """Every third-person phrase of the RTL locales (and Turkish "{actor}, {target}", Spanish "con {actor}{any}"),
    filled with names holding spaces, parentheses, Persian digits, RLM marks and bidi-wrapped phone numbers,
    reads back with the whole names in their roles: Persian "{actor} {target} را حذف کرد" has nothing but a
    space between the two, "{actor}{any}" nothing at all."""
    names = list(HARD_NAMES)
    n = 0
    for ph in load_locales()[code].phrases:
        if ph.actor_owner or ph.target_owner or ("{actor}" not in ph.tpl and "{target}" not in ph.tpl):
            continue
        for ia, it in HARD_PAIRS:
            n += 1
            new_number = "\u202a+49 1512 3456780\u202c"
            line = ph.tpl.format(actor=names[ia], target=names[it], any="" if ph.tpl.endswith("{any}") else "x",
                                 value=new_number if ph.kind == "number_changed" else "Tuin", old="Oud")
            recs = export_with_system_line(tmp_path / str(n), code, line, names)
            assert [p.reason for p in of(recs, Problem) if p.severity != "info"] == [], line
            (ev,) = of(recs, GroupEvent)
            want = (ph.kind, HARD_NAMES[names[ia]] if "{actor}" in ph.tpl else None,
                    HARD_NAMES[names[it]] if "{target}" in ph.tpl else None)
            assert (ev.kind, ev.actor, ev.target) == want, (line, ph.tpl)
            if ph.kind == "number_changed" and "{value}" in ph.tpl:
                assert ev.value == "+49 1512 3456780", line
    assert n >= 50


def test_run_together_names_settled_by_earlier_system_lines(tmp_path: Path) -> None:
    """'Dee' never writes but was added earlier: that line's clear boundary names her, so the Persian removal
    splits before her even though the remover's own name has spaces."""
    lines = ["Dee \u062a\u0648\u0633\u0637 Ana B (work) \u0627\u0636\u0627\u0641\u0647 \u0634\u062f",
             "Ana B (work) Dee \u0631\u0627 \u062d\u0630\u0641 \u06a9\u0631\u062f"]
    text = "".join(f"14/03/2024, 10:0{i} - {ln}\n" for i, ln in enumerate(lines)) + "14/03/2024, 10:05 - Bo: hi\n"
    fname = load_locales()["fa"].title_prefixes[0] + "Test.txt"
    recs = read_file(tmp_path, write_text(tmp_path, text, fname=fname).name)
    assert [(e.kind, e.actor, e.target) for e in of(recs, GroupEvent)] == [
        (EventKind.ADDED, name("Ana B (work)"), name("Dee")),
        (EventKind.REMOVED, name("Ana B (work)"), name("Dee")),
    ]
    assert [p for p in of(recs, Problem) if p.severity != "info"] == []


def test_run_together_names_nobody_knows_are_a_named_guess(tmp_path: Path) -> None:
    line = "Ana Bell Dee Lima \u0631\u0627 \u062d\u0630\u0641 \u06a9\u0631\u062f"
    recs = export_with_system_line(tmp_path, "fa", line, ["Bo"])
    (ev,) = of(recs, GroupEvent)
    assert ev.kind == EventKind.REMOVED
    (p,) = [p for p in of(recs, Problem) if "guessed" in p.reason]
    assert p.severity == "warning" and p.prov.line == 2 and "'Ana' / 'Bell Dee Lima'" in p.reason


ARABIC_DIGITS = "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
STYLE_VARIANTS = [
    ("en", writer.Style(date="M/d/yy", time="h:mm a", ampm_space=writer.NNBSP)),  # US Android, NNBSP before PM
    ("en", writer.Style(date="dd.MM.yy", time="HH:mm", close=" \u2013 ")),  # en dash separator
    ("en", writer.Style(date="y-MM-dd", time="HH:mm", joiner=" ", close=": ")),  # "2024-03-09 10:00: Ana: hi"
    ("en", writer.Style(date="dd/MM/y", time="HH:mm:ss", bracket=True, close="] - ")),
    ("en", writer.Style(date="d/M/yy", time="HH:mm", time_first=True)),  # "10:00, 9/3/24 - "
    ("en", writer.Style(date="d/M/yy", time="HH:mm:ss", time_first=True, bracket=True, close="] ")),
    ("en", writer.Style(date="y. MM. dd.", time="H:mm", joiner=" ")),  # Hungarian-style ". " separators
    ("en", writer.Style(date="dd MM y", time="HH.mm", joiner=" ")),  # space-separated date, "." in the time
    ("en", writer.Style(date="dd/MM/y", time="ah:mm", am="\u5348\u524d", pm="\u5348\u5f8c", joiner=" ")),  # 午後3:45
    ("es", writer.Style(date="d/M/yy", time="h:mm a", am="a.\u00a0m.", pm="p.\u00a0m.", ampm_space=writer.NNBSP)),
    ("tr", writer.Style(date="d.MM.y", time="h:mm a", joiner=" ", am="\u00d6\u00d6", pm="\u00d6S")),
    ("ar", writer.Style(date="d/M/y", time="h:mm a", joiner="\u060c ", am="\u0635", pm="\u0645",
                        digits=ARABIC_DIGITS, mark="\u200f")),
    ("ar", writer.Style(date="d/M/y", time="h:mm:ss a", joiner="\u060c ", am="\u0635", pm="\u0645",
                        digits=ARABIC_DIGITS, mark="\u200f", bracket=True, close="] ")),
]


@pytest.mark.parametrize("variant", ["android", "ios"])
@pytest.mark.parametrize(("locale", "style"), STYLE_VARIANTS)
def test_round_trip_every_layout(tmp_path: Path, locale: str, style: writer.Style, variant: str) -> None:
    check_round_trip(tmp_path, locale, variant, style)


def test_empty_body_and_direction_marks(tmp_path: Path) -> None:
    text = (
        "\u200e[09/03/2024, 10:00:00] \u202a+34 612 34 56 78\u202c: \n"
        "[09/03/2024, 10:00:05] Ana:\n"
        "[09/03/2024, 10:00:09] \u200fAna\u200f: \u200fhola\n"
        "[13/03/2024, 10:01:00] Ana: ok\n"
    )
    recs = read_file(tmp_path, write_text(tmp_path, text).name)
    msgs = of(recs, Message)
    assert [m.text for m in msgs] == ["", "", "hola", "ok"]
    assert msgs[0].sender == phone("+34612345678")
    assert {m.sender for m in msgs[1:]} == {name("Ana")}


def test_second_person_forms_of_every_locale() -> None:
    """Every owner form in the data ("You were added", "X added you", "You created group ...") reads back as
    the same kind with the owner in the same role, whatever the language."""
    n = 0
    for code, loc in load_locales().items():
        for ph in loc.phrases:
            if not (ph.actor_owner or ph.target_owner):
                continue
            text = ph.tpl.format(actor="Ana", target="Bo", value="Tuin", old="Oud", any="")
            hit = match_system(text)
            assert hit is not None, (code, text)
            assert (hit[0].kind, hit[0].actor_owner, hit[0].target_owner) == (
                ph.kind, ph.actor_owner, ph.target_owner), (code, text, hit[0].locale, hit[0].tpl)
            n += 1
    assert n > 300


def test_every_phrase_names_its_source() -> None:
    import json

    from ringtrace.sources.whatsapp.export_locale import DATA_FILE

    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))["locales"]
    for code, d in data.items():
        assert d["source"], code
        for e in [*d["system"], *d["notices"]]:
            assert e["src"], (code, e)


def test_urdu_you_in_plain_letters_is_the_owner(tmp_path: Path) -> None:
    """The Urdu data spells "You" in Arabic presentation forms; an export prints the plain letters."""
    # "آپ نے گروپ چھوڑ دیا" (You left the group), matched by the third-person "{actor} نے گروپ چھوڑ دیا"
    line = "\u0622\u067e \u0646\u06d2 \u06af\u0631\u0648\u067e \u0686\u06be\u0648\u0691 \u062f\u06cc\u0627"
    recs = export_with_system_line(tmp_path, "ur", line, ["Ana"])
    (ev,) = of(recs, GroupEvent)
    assert (ev.kind, ev.actor) == (EventKind.LEFT, phone("+34600111222"))
