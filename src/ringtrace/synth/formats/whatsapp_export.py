"""Synthetic WhatsApp "Export chat" files: one export per group and per direct chat of a ``DeviceView``.

``view.variant``: ``android`` (default) writes ``WhatsApp Chat with <name>.txt`` with the attachments beside
it, in a folder of the same name; ``ios`` writes ``WhatsApp Chat - <name>.zip`` holding ``_chat.txt`` and the
attachments (deterministic zip: fixed member times, sorted names). ``view.locale`` picks the language and a
date/time style typical of it; ``view.timezone`` the local zone the export prints. Senders appear as the
owner's address-book name when the person is a contact, else as the phone number (Android) or ``~ push name``
(iOS); the owner appears under their own name; system lines use the owner-"You" forms. The phrases come from
the parser's locale data, so writer and parser agree by construction.
"""

from __future__ import annotations

import random
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers

from ringtrace.sources.whatsapp import export_locale as L
from ringtrace.synth.view import DeviceView, VEvent, VMessage, VPerson

LRM = "\u200e"
NNBSP = "\u202f"


def _ampm(h: int, am: str, pm: str) -> tuple[int, str]:
    return (h % 12 or 12), (pm if h >= 12 else am)


# Per locale: (android prefix, ios prefix). Styles seen in real exports of those locales.
def _fmt_en_android(t: datetime) -> str:
    h, ap = _ampm(t.hour, "AM", "PM")
    return f"{t.month}/{t.day}/{t.year % 100:02d}, {h}:{t.minute:02d}{NNBSP}{ap} - "


def _fmt_en_ios(t: datetime) -> str:
    h, ap = _ampm(t.hour, "AM", "PM")
    return f"[{t.month}/{t.day}/{t.year % 100:02d}, {h}:{t.minute:02d}:{t.second:02d}{NNBSP}{ap}] "


def _fmt_es_android(t: datetime) -> str:
    h, ap = _ampm(t.hour, "a.\u00a0m.", "p.\u00a0m.")
    return f"{t.day}/{t.month}/{t.year}, {h}:{t.minute:02d}{NNBSP}{ap} - "


def _fmt_es_ios(t: datetime) -> str:
    return f"[{t.day}/{t.month}/{t.year % 100:02d}, {t.hour}:{t.minute:02d}:{t.second:02d}] "


def _fmt_pt_android(t: datetime) -> str:  # pt-BR Android prints no comma after the date
    return f"{t.day:02d}/{t.month:02d}/{t.year} {t.hour:02d}:{t.minute:02d} - "


def _fmt_pt_ios(t: datetime) -> str:
    return f"[{t.day:02d}/{t.month:02d}/{t.year} {t.hour:02d}:{t.minute:02d}:{t.second:02d}] "


def _fmt_it_android(t: datetime) -> str:
    return f"{t.day:02d}/{t.month:02d}/{t.year % 100:02d}, {t.hour:02d}:{t.minute:02d} - "


def _fmt_it_ios(t: datetime) -> str:
    return f"[{t.day:02d}/{t.month:02d}/{t.year % 100:02d}, {t.hour:02d}:{t.minute:02d}:{t.second:02d}] "


def _fmt_de_android(t: datetime) -> str:
    return f"{t.day:02d}.{t.month:02d}.{t.year % 100:02d}, {t.hour:02d}:{t.minute:02d} - "


def _fmt_de_ios(t: datetime) -> str:
    return f"[{t.day:02d}.{t.month:02d}.{t.year % 100:02d}, {t.hour:02d}:{t.minute:02d}:{t.second:02d}] "


def _fmt_fr_android(t: datetime) -> str:
    return f"{t.day:02d}/{t.month:02d}/{t.year} {t.hour:02d}:{t.minute:02d} - "


def _fmt_fr_ios(t: datetime) -> str:
    return f"[{t.day:02d}/{t.month:02d}/{t.year} {t.hour:02d}:{t.minute:02d}:{t.second:02d}] "


def _fmt_nl_android(t: datetime) -> str:  # Dutch: day-month-year with hyphens, no comma
    return f"{t.day:02d}-{t.month:02d}-{t.year} {t.hour:02d}:{t.minute:02d} - "


def _fmt_nl_ios(t: datetime) -> str:
    return f"[{t.day:02d}-{t.month:02d}-{t.year} {t.hour:02d}:{t.minute:02d}:{t.second:02d}] "


@dataclass(frozen=True)
class Style:
    """One export layout, for fixtures of every variant WhatsApp has printed.

    ``date``/``time`` are CLDR-like patterns (d dd M MM yy y, H HH h hh mm ss a); ``time_first`` prints the time
    before the date (Vietnamese); ``close`` is what follows the stamp (" - ", " – ", ": ", "] ", "] - ");
    ``bracket`` opens with "["; ``digits`` maps 0-9 to another script (Arabic-Indic); ``mark`` goes after
    each date field (RLM in Arabic dates); ``ampm_space`` is the space before a day period (NNBSP on iOS)."""

    date: str = "dd/MM/y"
    time: str = "HH:mm"
    joiner: str = ", "
    time_first: bool = False
    bracket: bool = False
    close: str = " - "
    am: str = "AM"
    pm: str = "PM"
    ampm_space: str = " "
    digits: str = "0123456789"
    mark: str = ""

    def stamp(self, t: datetime) -> str:
        d, tm = _cldr(self.date, t, self), _cldr(self.time, t, self)
        body = f"{tm}{self.joiner}{d}" if self.time_first else f"{d}{self.joiner}{tm}"
        body = body.translate(str.maketrans("0123456789", self.digits))
        return ("[" if self.bracket else "") + body + self.close


_TOKEN = re.compile(r"dd|d|MM|M|yy|y|HH|H|hh|h|mm|ss|a|'[^']*'")


def _cldr(pattern: str, t: datetime, st: Style) -> str:
    h12 = t.hour % 12 or 12
    mark = st.mark

    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        return {
            "dd": f"{t.day:02d}" + mark,
            "d": f"{t.day}" + mark,
            "MM": f"{t.month:02d}" + mark,
            "M": f"{t.month}" + mark,
            "yy": f"{t.year % 100:02d}",
            "y": f"{t.year}",
            "HH": f"{t.hour:02d}",
            "H": f"{t.hour}",
            "hh": f"{h12:02d}",
            "h": f"{h12}",
            "mm": f"{t.minute:02d}",
            "ss": f"{t.second:02d}",
            "a": st.pm if t.hour >= 12 else st.am,
        }.get(tok, tok.strip("'"))

    out = _TOKEN.sub(sub, pattern)
    return out.replace(" " + (st.pm if t.hour >= 12 else st.am), st.ampm_space + (st.pm if t.hour >= 12 else st.am))


def locale_style(loc: L.Locale, ios: bool) -> Style:
    """A locale's layout from its CLDR short date/time patterns (the data file's ``cldr_short``)."""
    c = loc.cldr_short
    date, time = c.get("date", "dd/MM/y"), c.get("time", "HH:mm")
    dt = c.get("datetime", "{1}, {0}")
    time_first = dt.index("{0}") < dt.index("{1}")
    joiner = dt.replace("{0}", "").replace("{1}", "") or " "
    if ios and ":ss" not in time:
        time = time.replace("mm", "mm:ss", 1) if ":mm" in time else time.replace("mm", "mm.ss", 1)
    return Style(
        date=date.replace("\u200f", ""),
        time=time.replace("\u202f", " ").replace(" น.", ""),  # Thai exports print no "น." (whats_json fixture)
        joiner=joiner,
        time_first=time_first,
        bracket=ios,
        close="] " if ios else " - ",
        am=c.get("am", "AM"),
        pm=c.get("pm", "PM"),
        ampm_space=NNBSP if ios else " ",
    )


STYLES: dict[str, dict[str, Callable[[datetime], str]]] = {
    "en": {"android": _fmt_en_android, "ios": _fmt_en_ios},
    "es": {"android": _fmt_es_android, "ios": _fmt_es_ios},
    "pt": {"android": _fmt_pt_android, "ios": _fmt_pt_ios},
    "it": {"android": _fmt_it_android, "ios": _fmt_it_ios},
    "de": {"android": _fmt_de_android, "ios": _fmt_de_ios},
    "fr": {"android": _fmt_fr_android, "ios": _fmt_fr_ios},
    "nl": {"android": _fmt_nl_android, "ios": _fmt_nl_ios},
}
_IOS_KIND = {"image": "PHOTO", "video": "VIDEO", "audio": "AUDIO", "sticker": "STICKER"}
_UNSAFE = re.compile(r'[/\\:*?"<>|\x00-\x1f]')


@dataclass
class _Ctx:
    view: DeviceView
    ios: bool
    loc: L.Locale
    zone: ZoneInfo
    contacts: dict[str, str]
    rng: random.Random
    style: Style | None = None

    def local(self, at: datetime) -> datetime:
        t = at.astimezone(self.zone)
        keep_seconds = self.ios if self.style is None else ":ss" in self.style.time or ".ss" in self.style.time
        return t if keep_seconds else t.replace(second=0)

    def stamp(self, at: datetime) -> str:
        if self.style is not None:
            return self.style.stamp(self.local(at))
        fmt = STYLES.get(self.loc.code, {}).get("ios" if self.ios else "android")
        if fmt is None:
            return locale_style(self.loc, self.ios).stamp(self.local(at))
        return fmt(self.local(at))

    def label(self, p: VPerson) -> str:
        if p.phone == self.view.owner.phone:
            return p.name
        if p.phone in self.contacts:
            return self.contacts[p.phone]
        if self.ios:
            return f"~{NNBSP}{p.name}"
        return f"\u202a{_intl(p.phone)}\u202c"

    def is_owner(self, p: VPerson | None) -> bool:
        return p is not None and p.phone == self.view.owner.phone


def _intl(phone: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(phone, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return phone


def write(view: DeviceView, out: Path, seed: int, style: Style | None = None) -> list[Path]:
    """Write one export per chat of ``view`` under ``out``; returns the files written. ``style`` overrides the
    locale's usual layout (fixtures for every layout variant)."""
    locales = L.load_locales()
    if view.locale not in locales:
        raise ValueError(f"no WhatsApp export locale {view.locale!r} (have {', '.join(locales)})")
    ctx = _Ctx(
        view=view,
        ios=view.variant == "ios",
        loc=locales[view.locale],
        zone=ZoneInfo(view.timezone),
        contacts={p.phone: name for p, name in view.contacts},
        rng=random.Random(seed),
        style=style,
    )
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used: set[str] = set()
    for g in view.groups:
        if g.platform == "whatsapp":
            written += _write_chat(ctx, out, g.subject, g.events, g.messages, g.subject, used, is_group=True)
    for d in view.directs:
        title = ctx.contacts.get(d.peer.phone) or _intl(d.peer.phone)
        written += _write_chat(ctx, out, title, [], d.messages, None, used, is_group=False)
    return written


def _write_chat(
    ctx: _Ctx,
    out: Path,
    title: str,
    events: list[VEvent],
    messages: list[VMessage],
    subject: str | None,
    used: set[str],
    is_group: bool,
) -> list[Path]:
    prefixes = ctx.loc.title_prefixes or L.load_locales()["en"].title_prefixes  # no localised name known
    ios_prefix = next((p for p in prefixes if p.endswith(" - ")), prefixes[-1])
    stem = (ios_prefix if ctx.ios else prefixes[0]) + _UNSAFE.sub("_", title)
    base, n = stem, 1
    while stem in used:  # two chats with one name: WhatsApp adds " (1)"
        stem = f"{base} ({n})"
        n += 1
    used.add(stem)

    items: list[tuple[datetime, int, int, VEvent | VMessage]] = [
        (e.at, 0, i, e) for i, e in enumerate(events)
    ]
    items += [(m.at, 1, i, m) for i, m in enumerate(messages)]
    items.sort(key=lambda x: x[:3])
    if not items:
        return []

    lines: list[str] = []
    files: dict[str, bytes] = {}
    sys_sender = title  # iOS prints system lines under the chat's name
    first_at = items[0][0]
    enc = L.render_system(ctx.loc.code, "encryption_notice", None, None)
    if enc:
        lines.append(_sys_line(ctx, first_at, sys_sender, enc))
    current = subject
    if is_group:
        created = next((e for e in events if e.kind == "created"), None)
        current = (created.value if created and created.value else None) or subject
    seq = ctx.rng.randint(1, 40)
    for at, _k, _i, item in items:
        if isinstance(item, VEvent):
            text, current = _event_text(ctx, item, current)
            if text is not None:
                lines.append(_sys_line(ctx, at, sys_sender, text))
            continue
        body = _message_body(ctx, item, seq, files)
        seq += 1
        lines.append(ctx.stamp(at) + ctx.label(item.sender) + ": " + body)
    chat_txt = ("\n".join(lines) + "\n").encode("utf-8")

    if ctx.ios:
        zpath = out / f"{stem}.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            for name, data in [("_chat.txt", chat_txt), *sorted(files.items())]:
                zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o644 << 16
                zf.writestr(zi, data)
        return [zpath]
    folder = out / stem
    folder.mkdir(parents=True, exist_ok=True)
    txt = folder / f"{stem}.txt"
    txt.write_bytes(chat_txt)
    paths = [txt]
    for name, data in sorted(files.items()):
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


def _sys_line(ctx: _Ctx, at: datetime, sender: str, text: str) -> str:
    if ctx.ios:
        return f"{LRM}{ctx.stamp(at)}{sender}: {LRM}{text}"
    return ctx.stamp(at) + text


def _event_text(ctx: _Ctx, e: VEvent, current: str | None) -> tuple[str | None, str | None]:
    actor = ctx.label(e.actor) if e.actor else None
    target = ctx.label(e.target) if e.target else None
    ao, to = ctx.is_owner(e.actor), ctx.is_owner(e.target)
    code = ctx.loc.code
    if e.kind == "created":
        name = e.value or current
        return L.render_system(code, "created", actor, None, value=name, actor_owner=ao), name
    if e.kind == "subject":
        text = L.render_system(code, "subject", actor, None, value=e.value, old=e.old or current, actor_owner=ao)
        return text, e.value
    return L.render_system(
        code, e.kind, actor, target, value=e.value, actor_owner=ao, target_owner=to
    ), current


def _message_body(ctx: _Ctx, m: VMessage, seq: int, files: dict[str, bytes]) -> str:
    text = m.text or ""
    if m.media is None:
        return text
    media = m.media
    if not media.present:
        if ctx.ios:
            omitted = {"image": 0, "video": 1, "audio": 2, "sticker": 3}.get(media.kind, 0)
            words = ctx.loc.ios_omitted if len(ctx.loc.ios_omitted) > 3 else L.load_locales()["en"].ios_omitted
            head = LRM + words[omitted]
        else:
            head = (ctx.loc.media_omitted or L.load_locales()["en"].media_omitted)[0]
    elif ctx.ios:
        ext = media.filename.rsplit(".", 1)[-1] if "." in media.filename else "bin"
        t = ctx.local(m.at)
        name = f"{seq:08d}-{_IOS_KIND.get(media.kind, 'DOCUMENT')}-{t:%Y-%m-%d-%H-%M-%S}.{ext}"
        files[name] = media.data
        if ctx.loc.ios_attached:
            head = f"{LRM}<{ctx.loc.ios_attached[0]}: {name}>"
        elif ctx.loc.ios_attached_after:  # Turkish "<NAME eklendi>"
            head = f"{LRM}<{name} {ctx.loc.ios_attached_after[0]}>"
        else:
            head = f"{LRM}<{L.load_locales()['en'].ios_attached[0]}: {name}>"
    else:
        name = media.filename
        files[name] = media.data
        head = f"{name} {(ctx.loc.file_attached or L.load_locales()['en'].file_attached)[0]}"
    return head + ("\n" + text if text else "")
