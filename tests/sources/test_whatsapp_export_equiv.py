"""The WhatsApp export reader against main's reader frozen before its speed work (tests/sources/reference/):
generated exports of every layout, full of what the fast paths must not get wrong (direction marks inside
timestamps and names, ": " inside names, notices, attachments, system lines of every locale, "Name:text",
impossible dates, cut lines, CR/U+2028 breaks), read by both: the records must be identical, field for field.
(Every read of test_whatsapp_export.py is compared with the reference as well.)"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from ringtrace.model import ReadOptions
from ringtrace.sources.base import FormatError, Unit
from ringtrace.sources.whatsapp import export as export_module
from ringtrace.sources.whatsapp.export import MARKS, Entry, WhatsAppExport
from ringtrace.sources.whatsapp.export_locale import load_locales

NEW = WhatsAppExport()


def _load_reference() -> Any:
    path = Path(__file__).with_name("reference") / "whatsapp_export_main.py"
    spec = importlib.util.spec_from_file_location("_whatsapp_export_reference_equiv", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


REF_MOD = _load_reference()
REF = REF_MOD.WhatsAppExport()

SENDERS = [
    "Ana B", "Bo", "\u202a+34 612 34 56 78\u202c", "~\u202fCy", "\u200eDee\u200e", "Ed: the boss", "Fi (work)",
    "You", "\u0639\u0644\u06cc", "+49 1512 3456789", "Garden Club", "Zoë",
]
TEXTS = [
    "hi", "message with some ordinary text", "", " ", "a: b", "\u200ehidden", "This message was deleted",
    "\u200eThis message was deleted", "You deleted this message", "Missed voice call", "Waiting for this message",
    "<Media omitted>", "\u200e<attached: 00000012-PHOTO-2024-03-09-10-00-00.jpg>",
    "IMG-20240309-WA0001.jpg (file attached)",
    "photo.jpg (file attached)\nwith a caption", "\u200eimage omitted", "Messages and calls are end-to-end encrypted.",
    "Your security code with Bo changed. Tap to learn more.", "ok\u2028odd break",
    "\u202b\u0645\u0631\u062d\u0628\u0627\u202c",
    "x" * 300, "<attached: >", "(file attached)", "12/31/23, 11:59 PM - not a stamp inside",
]


def _system_lines() -> list[str]:
    out = []
    for loc in load_locales().values():
        for ph in loc.phrases[:6]:
            out.append(ph.tpl.format(actor="Ana B", target="Bo", value="Tuin", old="Oud", any=""))
    return out


SYSTEM = _system_lines()


def _stamp(rng: random.Random, ios: bool, us: bool, day: int, minute: int) -> str:
    d, mo = day % 28 + 1, (day // 28) % 12 + 1
    h, mi = divmod(minute % 1440, 60)
    mark = rng.choice(["", "", "", "", "\u200e", "\u200f", "\ufeff"])
    if rng.random() < 0.03:  # impossible
        mi, d = rng.choice([(61, d), (mi, 32), (mi, 0)])
    sec = (rng.randint(0, 59) if rng.random() > 0.02 else 61) if ios else None
    secs = f":{sec:02d}" if sec is not None else ""
    if us:
        hh = h % 12 or 12
        ap = rng.choice(["PM", "PM", "p.\u00a0m.", "pm"]) if h >= 12 else "AM"
        sp = rng.choice([" ", "\u202f"])
        date_s, time_s = f"{mo}/{d}/{23 + day // 400}", f"{hh}:{mi:02d}{secs}{sp}{ap}"
    else:
        date_s, time_s = f"{d:02d}/{mo:02d}/2023", f"{h:02d}:{mi:02d}{secs}"
    if ios:
        return f"{mark}[{date_s}, {time_s}{mark}] "
    return f"{mark}{date_s}, {time_s} - "


def make_export(seed: int, ios: bool, us: bool, n: int = 400) -> str:
    rng = random.Random(seed)
    senders = rng.sample(SENDERS, rng.randint(1, 6))
    lines: list[str] = []
    day, minute = rng.randint(0, 300), rng.randint(0, 1000)
    if rng.random() < 0.3:
        lines += ["stray before the first stamp", ""]
    for _ in range(n):
        minute += rng.randint(0, 4)
        if minute >= 1440:
            minute, day = minute - 1440, day + 1
        ts = _stamp(rng, ios, us, day, minute)
        r = rng.random()
        if r < 0.62:
            lines.append(f"{ts}{rng.choice(senders)}: {rng.choice(TEXTS)}")
        elif r < 0.72:
            lines.append(rng.choice(["a continuation", "", "  indented", "\u200ecommented", "31/12/2023 nope",
                                     "[not a stamp]", rng.choice(TEXTS)]))
        elif r < 0.8:
            line = rng.choice(SYSTEM)
            if ios and rng.random() < 0.6:
                line = f"{rng.choice(senders)}: \u200e{line}"
            lines.append(f"{ts}{line}")
        elif r < 0.84:
            lines.append(f"{ts}{rng.choice(senders)}:{rng.choice(TEXTS)}")  # "Name:text"
        elif r < 0.87:
            lines.append(f"{ts}{rng.choice(senders)}:")
        elif r < 0.9:
            lines.append(f"{ts}{rng.choice(MARKS)}{rng.choice(senders)}: {rng.choice(TEXTS)}")
        elif r < 0.93:
            lines.append(" " + f"{ts}{rng.choice(senders)}: leading space")
        elif r < 0.95:
            lines.append(f"{ts}{rng.choice(TEXTS)}")  # no sender
        elif r < 0.97:
            lines.append(f"{ts}{rng.choice(senders)}: {'y' * rng.randint(100, 3000)}")
        else:
            lines.append(f"{ts}{rng.choice(senders)}: {rng.choice(TEXTS)}\r{rng.choice(TEXTS)}")
    end = rng.choice(["\n", "", "\r\n"])
    text = ("\r\n" if rng.random() < 0.15 else "\n").join(lines) + end
    if rng.random() < 0.1:
        text += ts[:8]  # cut mid-stamp
    return text


def read_both(root: Path, relpath: str, options: ReadOptions) -> tuple[list[Any], list[Any]]:
    out = []
    for fmt in (NEW, REF):
        unit = Unit(root=root, primary=relpath, format=NEW.name, members=[])
        try:
            out.append([repr(r) for r in fmt.read(unit, options)])
        except FormatError as e:
            out.append([f"FormatError {e}"])
    return out[0], out[1]


@pytest.mark.parametrize("ios", [False, True])
@pytest.mark.parametrize("us", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_generated_exports_read_as_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int,
                                                 ios: bool, us: bool) -> None:
    if seed % 3 == 2:  # small caps and blocks: cut lines, cut messages, block edges inside lines
        for mod in (export_module, REF_MOD):
            monkeypatch.setattr(mod, "BLOCK", 97)
            monkeypatch.setattr(mod, "LINE_CAP", 1000)
            monkeypatch.setattr(mod, "MSG_CAP", 700)
        # pass 1 keeps entries for the first lines only: pass 2 matches the rest again
        monkeypatch.setattr(export_module, "ENTRY_CAP", 150)
    text = make_export(seed * 4 + ios * 2 + us, ios, us)
    fname = "_chat.txt" if ios else "WhatsApp Chat with Bench.txt"
    folder = tmp_path / ("WhatsApp Chat - Bench.zip!" if ios else "x")
    folder.mkdir()
    (folder / fname).write_bytes(text.encode("utf-8" if seed % 4 else "utf-16"))
    opts = ReadOptions(timezone="Europe/Madrid", owner="+34600111222" if seed % 2 else None, region="ES")
    new, ref = read_both(tmp_path, f"{folder.name}/{fname}", opts)
    assert len(new) == len(ref)
    for i, (a, b) in enumerate(zip(new, ref, strict=True)):
        assert a == b, f"record {i} differs"
    assert len(new) > 50


def test_bench_export_reads_as_the_reference(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    try:
        import bench_whatsapp_export as bench
    finally:
        sys.path.pop(0)
    for ios in (False, True):
        name = f"WhatsApp Chat with Bench{int(ios)}.txt"
        bench.make(tmp_path / name, 3000, ios)
        new, ref = read_both(tmp_path, name, bench.OPTIONS)
        assert new == ref and len(new) > 2700


def test_entry_layout_holds_every_field_at_its_limit() -> None:
    """Each field of pass 1's entry at its largest value comes back whole, alone and with the others at theirs,
    and the fullest entry is a non-negative item of the array("q") pass 1 keeps."""
    from array import array

    top = (Entry.HOURS - 1, Entry.STEPS - 1, Entry.SENDERS - 1, Entry.OFF_MAX, True)
    assert Entry.unpack(Entry.pack(*top)) == top
    assert array("q", [Entry.pack(*top)])[0] == Entry.pack(*top) > 0
    assert Entry.HOUR_AT + Entry.HOUR_BITS <= 63
    for i in range(5):
        one = tuple(v if j == i else 0 for j, v in enumerate(top))
        assert Entry.unpack(Entry.pack(*one)) == tuple(bool(v) if j == 4 else v for j, v in enumerate(one))
    assert Entry.unpack(Entry.pack(1, 2, 3, 4, False)) == (1, 2, 3, 4, False)
    # the readers' own caps stay within the fields: a line's text starts before OFF_MAX, sender numbers fit
    assert export_module.LINE_CAP <= Entry.OFF_MAX
    assert export_module.ENTRY_CAP * 8 <= 64 << 20  # 8 bytes an entry: the kept entries stay under 64 MB


@pytest.mark.parametrize("ios", [False, True])
def test_pass1_entries_are_pack_of_each_lines_parts(tmp_path: Path, ios: bool) -> None:
    """Pass 1 writes its entries inline: each one is ``Entry.pack`` of its line's parts found again by the file's
    own regex (hour key, minutes and sender numbers, where the text starts, whether a newline follows it)."""
    fname = "_chat.txt" if ios else "WhatsApp Chat with Bench.txt"
    (tmp_path / fname).write_text(make_export(11 + ios, ios, False, 900), encoding="utf-8")
    unit = Unit(root=tmp_path, primary=fname, format=NEW.name, members=[])
    reader = export_module._Reader(unit, ReadOptions(timezone="Europe/Madrid", region="ES"))
    p1 = reader.pass1()
    assert p1.stats.locked is not None
    rx = export_module._line_regex(p1.stats.locked)
    with reader.open() as fh:
        lines = [line for batch, _cut in export_module._line_batches(fh) for line in batch]
    assert len(p1.lines) == len(lines)
    made = 0
    for line, ent in zip(lines, p1.lines, strict=True):
        if not ent:
            continue
        m = rx.match(line)
        assert m is not None
        t0, t1 = m.span("txt")
        parts = (p1.hour_keys[m.group("dk", "th", "ap")], p1.step_keys[m.group("ms")], p1.plain_senders[m["snd"]],
                 t0, t1 < len(line))
        assert ent == Entry.pack(*parts) and Entry.unpack(ent) == parts
        made += 1
    assert made > 200


@pytest.mark.parametrize("limit", ["OFF_MAX", "SENDERS", "HOURS", "STEPS", "ENTRY_CAP=0", "ENTRY_CAP=all"])
@pytest.mark.parametrize("ios", [False, True])
def test_entry_limits_read_as_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str,
                                            ios: bool) -> None:
    """Pass 1 at each limit of the entry (a text starting past the largest offset, the last sender, hour or
    minutes number taken, the entry cap reached at the first line or exactly at the last): lines left without an
    entry are matched again by pass 2, and the records stay the reference's."""
    n = 900
    if limit == "OFF_MAX":
        monkeypatch.setattr(Entry, "OFF_MAX", 30)  # texts start at 27-43 here: some lines get no entry
    elif limit == "ENTRY_CAP=0":
        monkeypatch.setattr(export_module, "ENTRY_CAP", 0)
    elif limit == "ENTRY_CAP=all":
        text = make_export(7 + ios, ios, False, n)
        monkeypatch.setattr(export_module, "ENTRY_CAP", len(text.splitlines()) + 1)
    else:
        monkeypatch.setattr(Entry, limit, 2)  # two numbers, taken by the first two keys
    text = make_export(7 + ios, ios, False, n)
    fname = "_chat.txt" if ios else "WhatsApp Chat with Bench.txt"
    (tmp_path / fname).write_text(text, encoding="utf-8")
    opts = ReadOptions(timezone="Europe/Madrid", owner=None, region="ES")
    new, ref = read_both(tmp_path, fname, opts)
    assert new == ref and len(new) > 400
