"""Telegram Desktop JSON exports (``result.json``): the full account export and the single-chat export.

Structure (tdesktop ``export_output_json.cpp``): a full export is an object with ``about``,
``personal_information``, ``contacts.list``, ``chats.list[]`` and ``left_chats.list[]``; a single-chat
export is one chat object ``{name, type, id, messages[]}`` at the top. Each message has ``id``, ``type``
(``message`` | ``service`` | ``unsupported``), ``date`` (the exporting computer's LOCAL time,
``YYYY-MM-DDTHH:MM:SS``) and, since 2021, ``date_unixtime`` (exact, a string). Senders are
``from``/``from_id`` (``user123``, ``channel123``, ``chat123``; older exports wrote a bare number); service
messages carry ``actor``/``actor_id`` and ``action``.

Choices made here (documented because they are not obvious):

* Users are ``AccountKey('telegram', 'tg_id', digits)``. A channel or group posting as itself
  (``channel123`` / ``chat123``) is ``AccountKey('telegram', 'tg_channel' | 'tg_chat', digits)``: it is a
  peer, not a person, and must never collide with a user id of the same digits.
* Telegram phones are ``AccountKey('telegram', 'phone', '+E164')``; the lead unifies phones across apps.
* Service messages name the people added/removed only by display name, never by id, so targets are
  ``AccountKey('telegram', 'export_name', name)`` plus a ``NameSeen``: an analyst or other evidence ties them
  to a real account. ``invite_members`` whose only member is the actor is a self-join (``joined``) and
  ``remove_members`` of the actor is ``left``.
* Group keys are the bare chat ids the export prints (``id``). tdesktop merges a basic group's history into
  the supergroup it migrated to and prints those old messages with shifted (negative) ids, and the old basic
  group's id appears nowhere. ``migrate_to_supergroup`` therefore yields ``migrated`` with ``value`` = the id
  of the chat it sits in when that chat is a supergroup (the new id), else ``None``.
* Media paths are relative to the folder of ``result.json``; they are resolved inside the exhibit and refused
  when they would leave it. ``(File not included ...)`` markers give a ``MediaRef`` without a path and an
  ``info`` Problem.

The file is read as a stream (ijson), never whole, so multi-GB exports are fine; a truncated or corrupt file
keeps every record read before the fault and ends with a Problem naming the byte offset.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ijson

from ringtrace.identifiers import ExportName, Phone, TelegramChannel, TelegramChat, TelegramId, Username
from ringtrace.model import (
    AccountKey,
    AccountLink,
    ChatKind,
    ChatRef,
    DeviceOwner,
    EventKind,
    Group,
    GroupEvent,
    MediaFile,
    MediaRef,
    Message,
    NameSeen,
    Problem,
    Prov,
    ReadOptions,
    Record,
)
from ringtrace.phones import to_e164
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register

PLATFORM = "telegram"
KIND_TG_ID = TelegramId.kind
KIND_CHANNEL = TelegramChannel.kind
KIND_CHAT = TelegramChat.kind
KIND_PHONE = Phone.kind
KIND_USERNAME = Username.kind
KIND_EXPORT_NAME = ExportName.kind

GROUP_TYPES = {"private_group", "private_supergroup", "public_supergroup"}
SUPERGROUP_TYPES = {"private_supergroup", "public_supergroup"}
CHANNEL_TYPES = {"public_channel", "private_channel"}
DIRECT_TYPES = {"personal_chat", "bot_chat", "saved_messages"}
CHAT_TYPES = GROUP_TYPES | CHANNEL_TYPES | DIRECT_TYPES | {"replies"}

#: Sub-folders tdesktop writes media into (beside result.json, or under chats/chat_NNN/ in full exports).
MEDIA_DIRS = (
    "photos",
    "files",
    "video_files",
    "voice_messages",
    "round_video_messages",
    "stickers",
    "contacts",
    "profile_pictures",
    "stories",
)
_MEDIA_MEMBER_RE = re.compile(r"^(?:(?:left_)?chats/chat_\w+/)?(?:" + "|".join(MEDIA_DIRS) + ")/")

_MISSING_FILE_RE = re.compile(
    r"^(?:(?P<name>.*) )?\((?:File|Photo) (?:not included|exceeds maximum size|unavailable)[^)]*\)$", re.S
)
_PEER_RE = re.compile(r"^(user|channel|chat)?(\d{1,20})$")

READ_CHUNK = 16 * 1024
MAX_BUFFERED_MESSAGES = 20_000  # messages held while a chat's header is still unknown (odd key order)
HASH_CHUNK = 1024 * 1024

# action -> event kind. Actions not listed are UNKNOWN (kept, and reported).
_ACTIONS: dict[str, str] = {
    "create_group": EventKind.CREATED,
    "create_channel": EventKind.CREATED,
    "invite_members": EventKind.ADDED,
    "remove_members": EventKind.REMOVED,
    "join_group_by_link": EventKind.JOINED_LINK,
    "join_group_by_request": EventKind.JOINED,
    "migrate_to_supergroup": EventKind.MIGRATED,
    "migrate_from_group": EventKind.OTHER,  # the supergroup side of a migration; carries the old title only
    "edit_group_title": EventKind.SUBJECT,
    "edit_group_photo": EventKind.ICON,
    "delete_group_photo": EventKind.ICON,
    "pin_message": EventKind.OTHER,
    "phone_call": EventKind.CALL,  # discard_reason "missed": MISSED_CALL (``_service``)
    "group_call": EventKind.CALL,
    "group_call_scheduled": EventKind.OTHER,
    "invite_to_group_call": EventKind.OTHER,
    "clear_history": EventKind.OTHER,
    "score_in_game": EventKind.OTHER,
    "send_payment": EventKind.OTHER,
    "take_screenshot": EventKind.OTHER,
    "joined_telegram": EventKind.OTHER,
    "set_messages_ttl": EventKind.EPHEMERAL_SETTING,  # auto-delete timer: Telegram's disappearing messages
    "edit_chat_theme": EventKind.OTHER,
    "topic_created": EventKind.OTHER,
    "topic_edit": EventKind.OTHER,
    "allow_sending_messages": EventKind.OTHER,
    "attach_menu_bot_allowed": EventKind.OTHER,
    "send_passport_values": EventKind.OTHER,
    "proximity_reached": EventKind.OTHER,
    "requested_phone_number": EventKind.OTHER,
    "send_webview_data": EventKind.OTHER,
    "send_premium_gift": EventKind.OTHER,
    "suggest_profile_photo": EventKind.OTHER,
    "requested_peer": EventKind.OTHER,
    "set_chat_wallpaper": EventKind.OTHER,
    "set_same_chat_wallpaper": EventKind.OTHER,
    "boost_apply": EventKind.OTHER,
}


class _Skip(Exception):  # noqa: N818 - internal control flow: one message/entry cannot be used
    """One JSON item is unusable; the reason goes into a Problem and the stream goes on."""


# ---- small helpers (public: other Telegram formats may reuse them) ---------------------------------------


def peer_account(value: object) -> AccountKey | None:
    """``user123`` / ``channel123`` / ``chat123`` / legacy bare number -> AccountKey; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return AccountKey(PLATFORM, KIND_TG_ID, str(value)) if value > 0 else None
    if not isinstance(value, str):
        return None
    m = _PEER_RE.match(value.strip())
    if not m:
        return None
    kind = {None: KIND_TG_ID, "user": KIND_TG_ID, "channel": KIND_CHANNEL, "chat": KIND_CHAT}[m.group(1)]
    return AccountKey(PLATFORM, kind, str(int(m.group(2))))


def phone_e164(raw: object, region: str | None = None) -> str | None:
    """A phone as Telegram prints it (``+34 612 345 678``, or digits without the plus) -> E.164, or None."""
    return to_e164(raw, region)


def flatten_text(value: object) -> str | None:
    """``text`` as a string, or a list of strings and entity objects -> plain text. ``text_link`` entities
    keep their target: ``label (https://...)``. Raises TypeError for anything else."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if not isinstance(value, list):
        raise TypeError(f"text is {type(value).__name__}, not a string or list")
    parts: list[str] = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            text = part.get("text")
            text = text if isinstance(text, str) else ""
            href = part.get("href")
            if isinstance(href, str) and href and href != text:
                parts.append(f"{text} ({href})" if text else href)
            else:
                parts.append(text)
        else:
            raise TypeError(f"text part is {type(part).__name__}")
    return "".join(parts) or None


def _json_error_reason(exc: BaseException) -> str:
    """First line of an ijson/yajl message; the rest quotes evidence bytes, which we do not echo."""
    msg = exc.args[0] if exc.args else str(exc)
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return str(msg).strip().splitlines()[0] if str(msg).strip() else type(exc).__name__


class _CountingReader:
    """A binary reader that counts bytes handed to the parser (for error offsets) and skips a UTF-8 BOM."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.pos = 0
        self.last_chunk_start = 0
        head = fh.read(3)
        if head == b"\xef\xbb\xbf":
            self.pos = 3
            self._pending = b""
        else:
            self._pending = head

    def read(self, n: int = -1) -> bytes:
        if n == 0:
            return b""  # ijson probes with read(0) to tell bytes from text
        n = READ_CHUNK if n is None or n < 0 else n
        data = self._pending + self._fh.read(max(0, n - len(self._pending)))
        self._pending = b""
        self.last_chunk_start = self.pos
        self.pos += len(data)
        return data


# ---- recognition ---------------------------------------------------------------------------------------


FULL_SECTIONS = frozenset({"personal_information", "chats", "left_chats", "contacts", "frequent_contacts"})


def sniff(head: bytes) -> str | None:
    """'full', 'single' or None, from the first bytes of a file (tolerates the head ending mid-document).

    By content, in any key order (tools that re-save an export sort or drop keys): a full export is an
    object with ``about`` first and an account section, or with an account section in tdesktop's own
    shape (``chats.list`` / ``left_chats.list`` / ``contacts.list`` arrays, ``personal_information.user_id``);
    a single chat is an object with ``type`` (a chat type), ``id`` and ``messages``."""
    data = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if not data.lstrip()[:1] == b"{":
        return None
    keys: list[str] = []
    chat_type: object = None
    shaped = False  # a section of the full export seen in its own shape
    try:
        for prefix, event, value in ijson.parse(_BytesReader(data)):
            if prefix == "" and event == "map_key":
                keys.append(str(value))
            elif prefix == "type" and event == "string":
                chat_type = value
            elif (
                (prefix in ("chats.list", "left_chats.list", "contacts.list") and event == "start_array")
                or (prefix == "personal_information" and event == "map_key" and value == "user_id")
            ):
                shaped = True
                break
            elif prefix == "messages" and {"type", "id"} <= set(keys):
                break  # seen enough
            if len(keys) > 12:
                break
    except ijson.JSONError:
        pass  # the head was cut mid-value: judge by what came before
    sections = FULL_SECTIONS & set(keys)
    if sections and (shaped or keys[0] == "about"):
        return "full"
    if {"type", "id", "messages"} <= set(keys) and chat_type in CHAT_TYPES:
        return "single"
    return None


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        n = len(self._data) if n is None or n < 0 else n
        chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk


# ---- the reader ----------------------------------------------------------------------------------------


@dataclass
class _Chat:
    index: int
    base: str  # ijson prefix of the chat object ("" for a single-chat export)
    pointer: str  # JSON pointer of the chat object, for Prov
    name: object = None
    type: object = None
    id: object = None
    ref: ChatRef | None = None
    header_problem: bool = False
    buffered: list[tuple[int, Any]] = field(default_factory=list)
    msg_count: int = 0
    created_at: datetime | None = None
    creator: AccountKey | None = None


class _ExportReader:
    def __init__(self, unit: Unit, options: ReadOptions) -> None:
        self.unit = unit
        self.file = unit.primary
        self.dir = posixpath.dirname(unit.primary)
        self.options = options
        self.region = options.region
        self.tz: ZoneInfo
        self.tz_problem: str | None = None
        try:
            self.tz = ZoneInfo(options.timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.tz = ZoneInfo("UTC")
            self.tz_problem = f"unknown timezone {options.timezone!r}; local export times read as UTC"
        self.owner: AccountKey | None = None
        if options.owner:
            m = re.match(r"^user(\d+)$", options.owner.strip())
            if m:
                self.owner = AccountKey(PLATFORM, KIND_TG_ID, m.group(1))
        self.names_seen: set[tuple[AccountKey, str, str]] = set()
        self.chat: _Chat | None = None
        self.chat_index = {"chats": -1, "left_chats": -1}
        self.contact_index = 0
        self.root_resolved = unit.root.resolve()

    # -- entry point
    def run(self) -> Iterator[Record]:
        if self.tz_problem:
            yield Problem(self.file, self.tz_problem, severity="warning")
        try:
            fh = self.unit.path.open("rb")
        except OSError as exc:
            raise FormatError(f"{self.file}: cannot open: {exc.strerror or exc}") from exc
        with fh:
            reader = _CountingReader(fh)
            try:
                yield from self._stream(reader)
            except (ijson.JSONError, UnicodeDecodeError) as exc:
                reason = _json_error_reason(exc)
                # The chat being read when the fault came still gets its Group record.
                if self.chat is not None:
                    yield from self._flush_buffer(self.chat)
                    yield from self._end_chat(self.chat)
                    self.chat = None
                if "premature EOF" in reason:
                    what = f"truncated JSON: the file ends at byte {reader.pos} in the middle of the document"
                else:
                    what = f"invalid JSON ({reason}) between bytes {reader.last_chunk_start} and {reader.pos}"
                yield Problem(self.file, f"{what}; records read before it are kept", Prov(self.file))

    def _stream(self, reader: _CountingReader) -> Iterator[Record]:
        builder: ijson.ObjectBuilder | None = None
        depth = 0
        target = ""
        for prefix, event, value in ijson.parse(reader, use_float=True):
            if builder is not None:
                builder.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if depth == 0:
                    obj = builder.value
                    builder = None
                    yield from self._item(target, obj)
                continue
            if event in ("start_map", "start_array") and self._wants(prefix):
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth = 1
                target = prefix
                continue
            if event in ("string", "number", "null", "boolean") and self._wants(prefix):
                yield from self._item(prefix, value)
                continue
            # chat boundaries
            if prefix in ("chats.list.item", "left_chats.list.item"):
                section = prefix.split(".", 1)[0]
                if event == "start_map":
                    self.chat_index[section] += 1
                    i = self.chat_index[section]
                    self.chat = _Chat(i, prefix, f"/{section}/list/{i}")
                elif event == "end_map" and self.chat is not None:
                    yield from self._flush_buffer(self.chat)
                    yield from self._end_chat(self.chat)
                    self.chat = None
            elif prefix == "" and event == "map_key" and value in ("name", "type", "id", "messages"):
                if self.chat is None:  # single-chat export: the top-level object is the chat
                    self.chat = _Chat(0, "", "")
            elif prefix == "" and event == "end_map" and self.chat is not None and self.chat.base == "":
                yield from self._flush_buffer(self.chat)
                yield from self._end_chat(self.chat)
                self.chat = None

    def _wants(self, prefix: str) -> bool:
        if prefix in ("personal_information", "contacts.list.item"):
            return True
        chat = self.chat
        if chat is None:
            return False
        base = f"{chat.base}." if chat.base else ""
        return prefix in (f"{base}name", f"{base}type", f"{base}id", f"{base}messages.item")

    def _item(self, prefix: str, obj: Any) -> Iterator[Record]:
        if prefix == "personal_information":
            yield from self._personal(obj)
            return
        if prefix == "contacts.list.item":
            yield from self._contact(obj, self.contact_index)
            self.contact_index += 1
            return
        chat = self.chat
        assert chat is not None
        leaf = prefix[len(chat.base) + 1 :] if chat.base else prefix
        if leaf == "messages.item":
            index = chat.msg_count
            chat.msg_count += 1
            if chat.ref is None:
                if chat.header_problem:
                    return  # already reported: this chat cannot be keyed
                if len(chat.buffered) >= MAX_BUFFERED_MESSAGES:
                    chat.header_problem = True
                    chat.buffered.clear()
                    yield Problem(
                        self.file,
                        f"chat {chat.pointer or '/'}: no usable type/id before its messages; skipped",
                        Prov(self.file, chat.pointer or "/"),
                    )
                    return
                chat.buffered.append((index, obj))
                return
            yield from self._message(chat, index, obj)
            return
        if leaf == "name":
            chat.name = obj
        elif leaf == "type":
            chat.type = obj
        elif leaf == "id":
            chat.id = obj
        if chat.ref is None and chat.type is not None and chat.id is not None:
            yield from self._start_chat(chat)

    # -- account-level sections
    def _personal(self, obj: Any) -> Iterator[Record]:
        prov = Prov(self.file, "/personal_information")
        if not isinstance(obj, dict):
            yield Problem(self.file, "personal_information is not an object", prov)
            return
        uid = peer_account(obj.get("user_id"))
        if uid is None or uid.kind != KIND_TG_ID:
            yield Problem(self.file, "personal_information has no usable user_id", prov, "warning")
            return
        self.owner = uid
        yield DeviceOwner(uid, "personal_information", prov)
        name = _full_name(obj.get("first_name"), obj.get("last_name"))
        if name:
            yield from self._name(uid, name, "profile", prov)
        raw_phone = obj.get("phone_number")
        if raw_phone not in (None, ""):
            e164 = phone_e164(raw_phone, self.region)
            if e164:
                yield AccountLink(uid, AccountKey(PLATFORM, KIND_PHONE, e164), "personal_information", prov)
            else:
                yield Problem(
                    self.file, "personal_information phone_number is not a valid number", prov, "warning"
                )
        username = obj.get("username")
        if isinstance(username, str) and username.strip("@ "):
            handle = username.strip().lstrip("@").lower()
            yield AccountLink(uid, AccountKey(PLATFORM, KIND_USERNAME, handle), "personal_information", prov)

    def _contact(self, obj: Any, index: int) -> Iterator[Record]:
        prov = Prov(self.file, f"/contacts/list/{index}")
        if not isinstance(obj, dict):
            yield Problem(self.file, "contact entry is not an object", prov)
            return
        name = _full_name(obj.get("first_name"), obj.get("last_name"))
        uid = peer_account(obj.get("user_id")) if obj.get("user_id") not in (None, 0, "") else None
        raw_phone = obj.get("phone_number")
        e164 = phone_e164(raw_phone, self.region) if raw_phone not in (None, "") else None
        if raw_phone not in (None, "") and e164 is None:
            yield Problem(self.file, "contact phone_number is not a valid number", prov, "warning")
        phone_key = AccountKey(PLATFORM, KIND_PHONE, e164) if e164 else None
        if uid is not None and phone_key is not None:
            yield AccountLink(uid, phone_key, "telegram contact phone", prov)
        account = uid or phone_key
        if account is not None and name:
            yield from self._name(account, name, "contact_name", prov)

    # -- chats
    def _start_chat(self, chat: _Chat) -> Iterator[Record]:
        prov = Prov(self.file, chat.pointer or "/")
        ctype = chat.type
        cid = chat.id
        if isinstance(cid, str) and cid.strip().lstrip("-").isdigit():
            cid = int(cid)
        if not isinstance(ctype, str) or not isinstance(cid, int) or isinstance(cid, bool):
            chat.header_problem = True
            yield Problem(
                self.file, f"chat {chat.pointer or '/'}: type/id of the wrong JSON type; skipped", prov
            )
            chat.buffered.clear()
            return
        key = str(cid)
        if ctype in DIRECT_TYPES:
            peer = AccountKey(PLATFORM, KIND_TG_ID, key)
            chat.ref = ChatRef(PLATFORM, ChatKind.DIRECT, key, peer)
            if isinstance(chat.name, str) and chat.name and ctype != "saved_messages":
                yield from self._name(peer, chat.name, "telegram_name", prov)
        elif ctype in CHANNEL_TYPES:
            chat.ref = ChatRef(PLATFORM, ChatKind.CHANNEL, key)
        else:
            if ctype not in GROUP_TYPES:
                yield Problem(
                    self.file,
                    f"chat {chat.pointer or '/'}: unknown chat type {ctype!r}; read as a group",
                    prov,
                    "warning",
                )
            chat.ref = ChatRef(PLATFORM, ChatKind.GROUP, key)
        yield from self._flush_buffer(chat)

    def _flush_buffer(self, chat: _Chat) -> Iterator[Record]:
        if chat.ref is None:
            if chat.buffered and not chat.header_problem:
                yield Problem(
                    self.file,
                    f"chat {chat.pointer or '/'}: no type/id; {len(chat.buffered)} messages skipped",
                    Prov(self.file, chat.pointer or "/"),
                )
            chat.buffered.clear()
            return
        pending, chat.buffered = chat.buffered, []
        for index, obj in pending:
            yield from self._message(chat, index, obj)

    def _end_chat(self, chat: _Chat) -> Iterator[Record]:
        if chat.ref is None or chat.ref.kind == ChatKind.DIRECT:
            return
        name = chat.name if isinstance(chat.name, str) else None
        yield Group(chat.ref, name, chat.created_at, chat.creator, Prov(self.file, chat.pointer or "/"))

    # -- messages
    def _message(self, chat: _Chat, index: int, obj: Any) -> Iterator[Record]:
        pointer = f"{chat.pointer}/messages/{index}"
        prov = Prov(self.file, pointer)
        try:
            yield from self._message_inner(chat, obj, pointer)
        except _Skip as exc:
            yield Problem(self.file, f"message {pointer}: {exc}", prov)

    def _message_inner(self, chat: _Chat, obj: Any, pointer: str) -> Iterator[Record]:
        assert chat.ref is not None
        if not isinstance(obj, dict):
            raise _Skip(f"not an object ({type(obj).__name__})")
        mid = obj.get("id")
        if isinstance(mid, bool) or not isinstance(mid, int):
            raise _Skip("id missing or not a number")
        prov = Prov(self.file, pointer, str(mid))
        mtype = obj.get("type")
        if mtype == "unsupported":
            yield Problem(
                self.file, f"message {pointer}: unsupported by the exporter (no content)", prov, "info"
            )
            return
        if mtype not in ("message", "service"):
            raise _Skip(f"unknown message type {str(mtype)[:40]!r}")
        at = self._time(obj)
        if mtype == "service":
            yield from self._service(chat, obj, mid, at, prov)
            return
        if at is None:
            raise _Skip("no usable date")
        sender = None
        if "from_id" in obj:
            sender = peer_account(obj.get("from_id"))
            if sender is None:
                yield Problem(self.file, f"message {pointer}: unusable from_id", prov, "warning")
        if sender is not None and isinstance(obj.get("from"), str) and obj["from"]:
            yield from self._name(sender, obj["from"], "telegram_name", prov)
        raw = obj.get("text") if "text" in obj else obj.get("text_entities")
        try:
            text = flatten_text(raw)
        except TypeError as exc:
            yield Problem(self.file, f"message {pointer}: {exc}; text dropped", prov, "warning")
            text = None
        media: list[MediaRef] = []
        for fld in ("photo", "file"):
            if fld in obj:
                ref = yield from self._media(obj, fld, pointer, prov)
                if ref is not None:
                    media.append(ref)
        raw_type = obj.get("media_type") if isinstance(obj.get("media_type"), str) else None
        if raw_type is None:
            raw_type = "photo" if "photo" in obj else ("file" if "file" in obj else "message")
        yield Message(
            chat=chat.ref,
            msg_key=str(mid),
            sender=sender,
            at=at,
            text=text,
            prov=prov,
            media=tuple(media),
            forwarded="forwarded_from" in obj,
            from_owner=sender is not None and sender == self.owner,
            raw_type=raw_type,
        )

    def _service(
        self, chat: _Chat, obj: dict[str, Any], mid: int, at: datetime | None, prov: Prov
    ) -> Iterator[Record]:
        ref = chat.ref
        assert ref is not None
        where = prov.table
        actor = peer_account(obj.get("actor_id")) if "actor_id" in obj else None
        if "actor_id" in obj and actor is None:
            yield Problem(self.file, f"message {where}: unusable actor_id", prov, "warning")
        actor_name = obj.get("actor") if isinstance(obj.get("actor"), str) else None
        if actor is not None and actor_name:
            yield from self._name(actor, actor_name, "telegram_name", prov)
        action = obj.get("action")
        if action is None:
            action = "custom_action" if "information_text" in obj else None
        if not isinstance(action, str):
            raise _Skip("service message without an action")
        kind = _ACTIONS.get(action)
        if action == "custom_action":
            kind = EventKind.OTHER
        if kind is None:
            kind = EventKind.UNKNOWN
            yield Problem(
                self.file, f"message {where}: unknown service action {action[:60]!r}", prov, "warning"
            )
        key = str(mid)

        def event(
            kind: str,
            target: AccountKey | None = None,
            value: str | None = None,
            who: AccountKey | None = actor,
        ) -> GroupEvent:
            return GroupEvent(ref, kind, at, who, target, action, prov, value, key)

        if action in ("create_group", "create_channel"):
            title = obj.get("title") if isinstance(obj.get("title"), str) else None
            if chat.created_at is None:
                chat.created_at, chat.creator = at, actor
            yield event(EventKind.CREATED, value=title)
            if action == "create_group":
                for target in (yield from self._members(obj, prov)):
                    yield event(EventKind.ADDED, target=target)
            return
        if action in ("invite_members", "remove_members"):
            members = yield from self._members(obj, prov)
            raw_names = obj.get("members")
            names: list[Any] = raw_names if isinstance(raw_names, list) else []
            for name, target in zip(names, members, strict=False):
                if actor is not None and actor_name is not None and name == actor_name:
                    # "X added X" is how a supergroup logs a self-join; "X removed X" is leaving.
                    self_kind = EventKind.JOINED if action == "invite_members" else EventKind.LEFT
                    yield event(self_kind, target=actor)
                else:
                    yield event(kind, target=target)
            if not members:
                yield event(kind)
            return
        if action == "join_group_by_link":
            # ``inviter`` names who made the link (often just "Group"), not the link: the event's value is
            # reserved for invite codes, so the inviter is kept as a name seen, with this row's provenance
            inviter = obj.get("inviter") if isinstance(obj.get("inviter"), str) else None
            if inviter and inviter != "Group":
                yield NameSeen(AccountKey(PLATFORM, KIND_EXPORT_NAME, inviter), inviter,
                               "link_inviter", prov)
            yield event(EventKind.JOINED_LINK, target=actor)
            return
        if action == "join_group_by_request":
            yield event(EventKind.JOINED, target=actor)
            return
        if action == "migrate_to_supergroup":
            new_id = ref.key if chat.type in SUPERGROUP_TYPES else None
            yield event(EventKind.MIGRATED, value=new_id)
            return
        if action == "phone_call":
            # tdesktop writes discard_reason (missed, busy, hangup, disconnect) and duration_seconds; the caller is
            # the actor, the callee the chat's other party
            reason = obj.get("discard_reason") if isinstance(obj.get("discard_reason"), str) else None
            secs = obj.get("duration_seconds")
            what = [x for x in (reason, f"{secs} s" if isinstance(secs, int) and not isinstance(secs, bool) else None)
                    if x]
            callee = (self.owner if actor != self.owner else ref.peer) if ref.kind == ChatKind.DIRECT else None
            yield event(EventKind.MISSED_CALL if reason == "missed" else EventKind.CALL, target=callee,
                        value=", ".join(what) or None)
            return
        if action == "set_messages_ttl":
            period = obj.get("period") if "period" in obj else obj.get("period_seconds")
            yield event(kind, value=f"{period} s" if isinstance(period, int) and not isinstance(period, bool) else None)
            return
        value: str | None = None
        for fld in ("title", "message_id", "information_text", "duration_seconds"):
            v = obj.get(fld)
            if isinstance(v, str | int) and not isinstance(v, bool):
                value = str(v)
                break
        yield event(kind, value=value)

    def _members(self, obj: dict[str, Any], prov: Prov) -> Generator[Record, None, list[AccountKey | None]]:
        raw = obj.get("members", [])
        out: list[AccountKey | None] = []
        if not isinstance(raw, list):
            yield Problem(self.file, f"message {prov.table}: members is not a list", prov, "warning")
            return out
        for item in raw:
            if isinstance(item, str) and item:
                acct = AccountKey(PLATFORM, KIND_EXPORT_NAME, item)
                yield from self._name(acct, item, "export_sender", prov)
                out.append(acct)
            elif item is None or item == "":
                out.append(None)  # a deleted account: tdesktop writes null
            else:
                yield Problem(self.file, f"message {prov.table}: member entry is not a name", prov, "warning")
                out.append(None)
        return out

    def _media(
        self, obj: dict[str, Any], fld: str, pointer: str, prov: Prov
    ) -> Generator[Record, None, MediaRef | None]:
        raw = obj.get(fld)
        mime = obj.get("mime_type") if isinstance(obj.get("mime_type"), str) else None
        if fld == "photo" and mime is None:
            mime = "image/jpeg"
        if not isinstance(raw, str) or not raw:
            yield Problem(self.file, f"message {pointer}: {fld} is not a path", prov, "warning")
            return None
        m = _MISSING_FILE_RE.match(raw)
        if m:
            yield Problem(self.file, f"message {pointer}: {fld} not in the export ({raw[:80]})", prov, "info")
            return MediaRef(path=None, name=m.group("name") or None, mime=mime)
        name = posixpath.basename(raw.replace("\\", "/")) or None
        rel = self._resolve(raw)
        if rel is None:
            yield Problem(self.file, f"message {pointer}: {fld} path leaves the export folder; ignored", prov)
            return MediaRef(path=None, name=name, mime=mime)
        path = self.unit.root / rel
        try:
            if not path.is_file() or not path.resolve().is_relative_to(self.root_resolved):
                yield Problem(self.file, f"message {pointer}: {fld} file {rel} is missing", prov, "warning")
                return MediaRef(path=None, name=name, mime=mime)
            digest, size = _sha256(path)
        except OSError as exc:
            yield Problem(self.file, f"message {pointer}: {fld} file {rel} unreadable: {exc.strerror}", prov)
            return MediaRef(path=None, name=name, mime=mime)
        return MediaRef(path=rel, sha256=digest, name=name, size=size, mime=mime)

    def _resolve(self, raw: str) -> str | None:
        rel = raw.replace("\\", "/")
        if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel):
            return None
        joined = posixpath.normpath(posixpath.join(self.dir, rel)) if self.dir else posixpath.normpath(rel)
        if joined == ".." or joined.startswith("../") or joined.startswith("/"):
            return None
        return joined

    def _time(self, obj: dict[str, Any]) -> datetime | None:
        unix = obj.get("date_unixtime")
        if isinstance(unix, str | int) and not isinstance(unix, bool):
            try:
                return datetime.fromtimestamp(int(unix), UTC)
            except (ValueError, OverflowError, OSError):
                pass
        date = obj.get("date")
        if isinstance(date, str):
            try:
                local = datetime.fromisoformat(date)
            except ValueError:
                return None
            if local.tzinfo is None:
                local = local.replace(tzinfo=self.tz)
            return local.astimezone(UTC)
        return None

    def _name(self, account: AccountKey, name: str, kind: str, prov: Prov) -> Iterator[Record]:
        key = (account, name, kind)
        if key in self.names_seen:
            return
        self.names_seen.add(key)
        yield NameSeen(account, name, kind, prov)


def _full_name(first: object, last: object) -> str:
    parts = [p.strip() for p in (first, last) if isinstance(p, str) and p.strip()]
    return " ".join(parts)


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


@register
class TelegramDesktopExport(SourceFormat):
    """Telegram Desktop 'Export Telegram data' / 'Export chat history' in JSON (``result.json``)."""

    name: ClassVar[str] = "telegram-desktop"
    description: ClassVar[str] = "Telegram Desktop JSON export (full account or single chat), with its media"

    def claim(self, candidate: Candidate) -> int:
        kind = sniff(candidate.head)
        if kind is None:
            return 0
        bonus = 5 if candidate.name == "result.json" else 0
        return (90 if kind == "full" else 85) + bonus

    def members(self, candidate: Candidate, all_relpaths: list[str]) -> list[str]:
        base = posixpath.dirname(candidate.relpath)
        prefix = f"{base}/" if base else ""
        out = []
        for rel in all_relpaths:
            if rel == candidate.relpath or not rel.startswith(prefix):
                continue
            if _MEDIA_MEMBER_RE.match(rel[len(prefix) :]):
                out.append(rel)
        return out

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        yield from _ExportReader(unit, options).run()
        for rel in unit.members:
            path = unit.root / rel
            try:
                size = path.stat().st_size
            except OSError as exc:
                yield Problem(rel, f"media file unreadable: {exc.strerror}", Prov(rel), "warning")
                continue
            yield MediaFile(rel, Prov(rel), size)
