"""Render a Telegram ``DeviceView`` as a Telegram Desktop JSON export.

``view.variant``: ``full`` (default; one ``Telegram Desktop/DataExport_<date>/result.json`` with
``personal_information`` of the owner, contacts and every chat) or ``single`` (one
``Telegram Desktop/ChatExport_<date>[ (n)]/result.json`` per group, as "Export chat history" writes it).
Adding ``legacy`` (e.g. ``full-legacy``) writes the pre-2021 shape: no ``date_unixtime`` and bare numeric
``from_id``, so readers must fall back to the local ``date`` and the examiner's timezone.

What the format cannot carry is left out, as the real exporter does: admin promotions/demotions and
description changes have no service message; the basic group id before a migration is not printed.
Media with ``present=False`` get tdesktop's "(File not included ...)" marker instead of a path.
"""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from ringtrace.model import EventKind
from ringtrace.synth.view import DeviceView, VEvent, VGroup, VMedia, VMessage, VPerson

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
ABOUT = "Here is the data you requested. Remember: Telegram is ad free, it doesn't collect your data."


def tg_id(person: VPerson) -> int:
    """The person's Telegram id; a stable stand-in derived from the phone when the view has none."""
    if person.tg_id is not None:
        return person.tg_id
    return 100_000_000 + int(person.digits[-9:]) % 900_000_000


def _phone_display(e164: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def _text_value(text: str | None) -> tuple[Any, list[dict[str, str]]]:
    """(``text``, ``text_entities``) as tdesktop writes them: a bare string, or a list when links occur."""
    if not text:
        return "", []
    parts: list[Any] = []
    entities: list[dict[str, str]] = []
    for i, word in enumerate(text.split(" ")):
        sep = " " if i else ""
        if word.startswith(("http://", "https://")):
            if sep:
                parts.append(sep)
                entities.append({"type": "plain", "text": sep})
            parts.append({"type": "link", "text": word})
            entities.append({"type": "link", "text": word})
        else:
            chunk = sep + word
            if parts and isinstance(parts[-1], str):
                parts[-1] += chunk
                entities[-1]["text"] += chunk
            else:
                parts.append(chunk)
                entities.append({"type": "plain", "text": chunk})
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0], entities
    return parts, entities


class _Writer:
    def __init__(self, view: DeviceView, seed: int) -> None:
        self.view = view
        self.tz = ZoneInfo(view.timezone)
        self.legacy = "legacy" in view.variant
        self.rng = random.Random(seed)
        self.files: dict[str, bytes] = {}  # export-relative path -> content
        self.photo_n = 0
        # tdesktop prints people by the name the exporting account sees: a saved contact's name, else theirs
        self.shown = {p.phone: name for p, name in view.contacts}

    def name(self, person: VPerson) -> str:
        return self.shown.get(person.phone, person.name)

    def peer(self, person: VPerson) -> Any:
        return tg_id(person) if self.legacy else f"user{tg_id(person)}"

    def stamp(self, at: datetime) -> dict[str, Any]:
        local = at.astimezone(self.tz).replace(tzinfo=None)
        out: dict[str, Any] = {"date": local.strftime("%Y-%m-%dT%H:%M:%S")}
        if not self.legacy:
            out["date_unixtime"] = str(int(at.astimezone(UTC).timestamp()))
        return out

    def media(self, msg: dict[str, Any], m: VMedia, at: datetime, folder: str) -> None:
        if m.kind == "image":
            self.photo_n += 1
            stamp = at.astimezone(self.tz).strftime("%d-%m-%Y_%H-%M-%S")
            rel = f"{folder}photos/photo_{self.photo_n}@{stamp}.jpg"
            msg["photo"] = rel if m.present else NOT_INCLUDED
            size = _image_size(m.data)
            if size:
                msg["width"], msg["height"] = size
        else:
            sub = "video_files" if m.kind == "video" else "files"
            rel = f"{folder}{sub}/{m.filename}"
            msg["file"] = rel if m.present else NOT_INCLUDED
            if m.kind == "video":
                msg["media_type"] = "video_file"
            msg["mime_type"] = m.mime
        if m.present:
            self.files[rel] = m.data

    def message(self, vm: VMessage, folder: str) -> dict[str, Any]:
        msg: dict[str, Any] = {"id": int(vm.key), "type": "message", **self.stamp(vm.at)}
        msg["from"] = self.name(vm.sender)
        msg["from_id"] = self.peer(vm.sender)
        if vm.forwarded:
            msg["forwarded_from"] = None  # hidden origin: tdesktop writes null
        if vm.media is not None:
            self.media(msg, vm.media, vm.at, folder)
        text, entities = _text_value(vm.text)
        msg["text"] = text
        msg["text_entities"] = entities
        return msg

    def service(self, ev: VEvent, group: VGroup) -> dict[str, Any] | None:
        actor = ev.actor or ev.target
        msg: dict[str, Any] = {"id": int(ev.key), "type": "service", **self.stamp(ev.at)}
        if actor is not None:
            msg["actor"] = self.name(actor)
            msg["actor_id"] = self.peer(actor)
        k = ev.kind
        if k == EventKind.CREATED:
            msg["action"] = "create_group"
            msg["title"] = ev.value or group.subject
            msg["members"] = [self.name(ev.target)] if ev.target else []
        elif k == EventKind.ADDED and ev.target:
            msg.update(action="invite_members", members=[self.name(ev.target)])
        elif k == EventKind.JOINED and actor:
            msg.update(action="invite_members", members=[self.name(actor)])
        elif k == EventKind.JOINED_LINK:
            msg.update(action="join_group_by_link", inviter=self.name(ev.inviter or group.creator))
        elif k == EventKind.REMOVED and ev.target:
            msg.update(action="remove_members", members=[self.name(ev.target)])
        elif k == EventKind.LEFT:
            who = ev.target or ev.actor
            if who is None:
                return None
            msg.update(actor=self.name(who), actor_id=self.peer(who), action="remove_members",
                       members=[self.name(who)])
        elif k == EventKind.OTHER and ev.value == "pin_message":
            pinned = [int(m.key) for m in group.messages if m.at <= ev.at]
            msg.update(action="pin_message", message_id=pinned[-1] if pinned else int(ev.key) - 1)
        elif k == EventKind.SUBJECT:
            msg.update(action="edit_group_title", title=ev.value or "")
        elif k == EventKind.ICON:
            msg["action"] = "edit_group_photo"
        elif k == EventKind.MIGRATED:
            msg["action"] = "migrate_to_supergroup"
        else:
            return None  # no service message for this in Telegram exports
        if actor is None and k != EventKind.LEFT:
            return None
        return msg

    def chat(self, group: VGroup, folder: str) -> dict[str, Any]:
        migrated = any(e.kind == EventKind.MIGRATED for e in group.events)
        items: list[tuple[datetime, int, dict[str, Any]]] = []
        for ev in group.events:
            svc = self.service(ev, group)
            if svc is not None:
                items.append((ev.at, svc["id"], svc))
        for vm in group.messages:
            items.append((vm.at, int(vm.key), self.message(vm, folder)))
        items.sort(key=lambda t: (t[0], t[1]))
        return {
            "name": group.subject,
            "type": "private_supergroup" if migrated else "private_group",
            "id": int(group.key),
            "messages": [m for _, _, m in items],
        }

    def direct(self, peer: VPerson, messages: list[VMessage], folder: str) -> dict[str, Any]:
        items = sorted(messages, key=lambda m: (m.at, int(m.key)))
        return {
            "name": self.name(peer),
            "type": "personal_chat",
            "id": tg_id(peer),
            "messages": [self.message(m, folder) for m in items],
        }

    def personal(self) -> dict[str, Any]:
        o = self.view.owner
        first, _, last = o.name.partition(" ")
        info: dict[str, Any] = {
            "user_id": tg_id(o),
            "first_name": first,
            "last_name": last,
            "phone_number": _phone_display(o.phone),
        }
        if o.username:
            info["username"] = f"@{o.username}"
        return info

    def contacts(self) -> list[dict[str, Any]]:
        out = []
        for person, name in self.view.contacts:
            first, _, last = name.partition(" ")
            entry = {
                "user_id": tg_id(person),
                "first_name": first,
                "last_name": last,
                "phone_number": _phone_display(person.phone),
            }
            out.append({**entry, **self.stamp(self.export_time())})
        return out

    def export_time(self) -> datetime:
        times = [m.at for g in self.view.groups for m in g.messages]
        times += [e.at for g in self.view.groups for e in g.events]
        times += [m.at for d in self.view.directs for m in d.messages]
        return max(times) if times else datetime(2024, 1, 1, tzinfo=UTC)


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # noqa: BLE001 - not an image Pillow knows: the exporter then omits width/height
        return None


def _dump(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _write_files(base: Path, files: dict[str, bytes], written: list[Path]) -> None:
    for rel in sorted(files):
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])
        written.append(path)


def write(view: DeviceView, out: Path, seed: int) -> list[Path]:
    """Write the export under ``out``; returns every file written (result.json first per export)."""
    if view.platform != "telegram":
        raise ValueError(f"telegram_export writes Telegram views, not {view.platform!r}")
    w = _Writer(view, seed)
    day = w.export_time().astimezone(w.tz).strftime("%Y-%m-%d")
    root = out / "Telegram Desktop"
    written: list[Path] = []
    if view.variant.startswith("single"):
        for n, group in enumerate(sorted(view.groups, key=lambda g: g.key)):
            w.files = {}
            base = root / (f"ChatExport_{day}" + (f" ({n})" if n else ""))
            doc = w.chat(group, "")
            base.mkdir(parents=True, exist_ok=True)
            (base / "result.json").write_bytes(_dump(doc))
            written.append(base / "result.json")
            _write_files(base, w.files, written)
        return written
    chats = []
    n = 0
    for group in view.groups:
        n += 1
        chats.append(w.chat(group, f"chats/chat_{n:02d}/"))
    for d in view.directs:
        n += 1
        chats.append(w.direct(d.peer, d.messages, f"chats/chat_{n:02d}/"))
    doc = {
        "about": ABOUT,
        "personal_information": w.personal(),
        "contacts": {"about": "This is your contact list.", "list": w.contacts()},
        "chats": {"about": "This page lists all chats from this export.", "list": chats},
    }
    base = root / f"DataExport_{day}"
    base.mkdir(parents=True, exist_ok=True)
    (base / "result.json").write_bytes(_dump(doc))
    written.append(base / "result.json")
    _write_files(base, w.files, written)
    return written
