"""The case model: the records every source yields.

Sources (parsers) know nothing of the store. They read evidence and yield these small frozen records; the
ingest stage stores them, attaching the source (exhibit) id. Every record carries a ``Prov``: the file inside
the exhibit and the table/row or line it came from, so every derived fact can be traced back to evidence.

Identity is by ``AccountKey`` (platform, kind, value) only; display names are ``NameSeen`` evidence, never
identity. See docs/model.md for the full description.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any


class Platform(StrEnum):
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    SIGNAL = "signal"
    DISCORD = "discord"
    SESSION = "session"
    PHONE = "phone"  # a bare phone number, not yet tied to an app
    EMAIL = "email"


class AccountKind(StrEnum):
    PHONE = "phone"  # E.164, e.g. +34612345678
    JID = "jid"  # WhatsApp phone JID, e.g. 34612345678@s.whatsapp.net
    LID = "lid"  # WhatsApp LID, e.g. 123456789012345@lid
    TG_ID = "tg_id"  # Telegram numeric user id, e.g. user123456789 -> "123456789"
    USERNAME = "username"  # public @username
    EMAIL = "email"
    TG_CHANNEL = "tg_channel"  # a Telegram channel posting as itself
    TG_CHAT = "tg_chat"  # a Telegram group posting as itself (anonymous admin)
    # A sender known only by the name an export printed ("~ Ana", "Tío Pepe"). Value is "<label>" scoped by
    # the source at store time; resolved to a real account only by other evidence or an analyst's alias.
    EXPORT_NAME = "export_name"


@dataclass(frozen=True, slots=True)
class AccountKey:
    platform: str
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class Prov:
    """Where a record came from inside one exhibit."""

    file: str  # path relative to the exhibit root (posix separators)
    table: str | None = None  # SQLite table, JSON pointer, WARC record id ...
    row: str | None = None  # primary key / rowid / index, as text
    line: int | None = None  # 1-based line in a text file

    def locator(self) -> str:
        parts = [self.file]
        if self.table:
            parts.append(self.table)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ":".join(parts)


class ChatKind(StrEnum):
    GROUP = "group"
    DIRECT = "direct"  # one-to-one
    BROADCAST = "broadcast"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A conversation. For groups, ``key`` is the platform group id (WhatsApp ``...@g.us``, Telegram chat id);
    for direct chats, ``key`` is the peer account's value and ``peer`` names it."""

    platform: str
    kind: str  # ChatKind
    key: str
    peer: AccountKey | None = None


class EventKind(StrEnum):
    CREATED = "created"
    ADDED = "added"
    JOINED_LINK = "joined_link"  # joined through an invite link
    JOINED = "joined"  # joined, path unknown
    LEFT = "left"
    REMOVED = "removed"
    PROMOTED = "promoted"
    DEMOTED = "demoted"
    SUBJECT = "subject"  # name change; ``value`` holds the new name
    ICON = "icon"
    DESCRIPTION = "description"
    INVITE_LINK_RESET = "invite_link_reset"
    NUMBER_CHANGED = "number_changed"
    MIGRATED = "migrated"  # Telegram group -> supergroup; ``value`` holds the new id
    SECURITY_CODE = "security_code"
    ENCRYPTION_NOTICE = "encryption_notice"
    # notices printed where a message was or would be: never a message from a person
    MESSAGE_DELETED = "message_deleted"  # "This message was deleted" / "You deleted this message"; actor: sender
    MESSAGE_WAITING = "message_waiting"  # "Waiting for this message": the device never got the text
    MISSED_CALL = "missed_call"  # "Missed voice call" / "Missed video call"; actor: the caller
    CALL = "call"  # a call that was not missed (connected, declined, unanswered); actor: caller, target: callee
    EPHEMERAL_SETTING = "ephemeral_setting"  # disappearing messages turned on/off or their timer changed
    OTHER = "other"
    UNKNOWN = "unknown"  # raw code not in the code table: kept and reported, never dropped


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A media attachment as the source describes it. Any of the fields may be missing: a database may hold
    the hash of a file that was never downloaded, an export only a file name."""

    path: str | None = None  # path inside the exhibit, when the file is there
    sha256: str | None = None  # hex, from the file itself or declared by the app (file_hash)
    name: str | None = None
    size: int | None = None
    mime: str | None = None
    declared_only: bool = False  # sha256 came from the app's database, not from reading a file


# ---- records ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    key: AccountKey
    prov: Prov


@dataclass(frozen=True, slots=True)
class AccountLink:
    """Two identifiers of the same account, on strong evidence (LID->JID map, Telegram id with its phone)."""

    a: AccountKey
    b: AccountKey
    basis: str  # e.g. "jid_map", "telegram contact phone", "personal_information"
    prov: Prov


@dataclass(frozen=True, slots=True)
class NameSeen:
    account: AccountKey
    name: str
    kind: str  # push_name | contact_name | export_sender | profile | telegram_name
    prov: Prov


@dataclass(frozen=True, slots=True)
class DeviceOwner:
    """The account whose device or export this is."""

    account: AccountKey
    basis: str  # e.g. "shared_prefs me", "--owner", "personal_information"
    prov: Prov


@dataclass(frozen=True, slots=True)
class Group:
    chat: ChatRef
    name: str | None
    created_at: datetime | None
    creator: AccountKey | None
    prov: Prov
    invite_code: str | None = None  # the group's current invite code, when the device stored it


@dataclass(frozen=True, slots=True)
class Participant:
    """A participant-table snapshot (who the device believed was in the group at extraction time)."""

    chat: ChatRef
    account: AccountKey
    role: str  # member | admin | superadmin
    current: bool  # False for past-participant tables
    prov: Prov
    at: datetime | None = None  # e.g. when a past participant left


@dataclass(frozen=True, slots=True)
class GroupEvent:
    chat: ChatRef
    kind: str  # EventKind
    at: datetime | None
    actor: AccountKey | None
    target: AccountKey | None
    raw_code: str | None  # the format's own code, always kept
    prov: Prov
    value: str | None = None  # new subject, invite code, migrated-to id ...
    msg_key: str | None = None
    old_value: str | None = None  # the subject before a rename, where the source records it


@dataclass(frozen=True, slots=True)
class Message:
    chat: ChatRef
    msg_key: str | None  # the format's stable message id when it has one (WhatsApp key_id, Telegram id)
    sender: AccountKey | None  # None only when the source cannot say
    at: datetime  # UTC, timezone-aware
    text: str | None
    prov: Prov
    media: tuple[MediaRef, ...] = ()
    forwarded: bool = False
    from_owner: bool = False
    raw_type: str | None = None
    time_precision_s: int = 1  # exports print minutes: 60


@dataclass(frozen=True, slots=True)
class Page:
    """A captured web page (WARC record, MHTML, saved HTML, text dump)."""

    uri: str | None
    captured_at: datetime | None
    record_id: str | None
    title: str | None
    prov: Prov
    content_type: str | None = None
    language: str | None = None
    # absolute URLs of the images/media the page references (img src/srcset, source, video poster, CSS
    # url() in style attributes), bounded; an embedded MediaFile whose origin_uri is here belongs to the page
    resources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Indicator:
    """An indicator seen in evidence: invite link, phone, e-mail, onion address, URL."""

    kind: str  # whatsapp_invite | telegram_invite | signal_group | discord_invite | phone | email | onion | url ...
    value: str  # normalised
    raw: str
    context: str
    prov: Prov
    page_uri: str | None = None
    platform: str | None = None
    code: str | None = None  # invite code (case-sensitive)
    secret: str | None = None  # e.g. a Signal group key: stored, shown masked
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A media file found in the exhibit (attachment folder, capture resource, media folder)."""

    path: str  # path inside the exhibit
    prov: Prov
    size: int | None = None
    content: bytes | None = None  # for media embedded in a container (WARC, MHTML); bounded by the reader
    origin_uri: str | None = None  # the URL it was captured from (WARC-Target-URI, MHTML Content-Location)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the evidence that could not be read fully. Recorded, reported, never fatal to the run."""

    file: str
    reason: str
    prov: Prov | None = None
    severity: str = "error"  # error | warning | info


def _quick_init(cls: type) -> None:
    """Give a frozen slotted dataclass an ``__init__`` that stores each field through its slot descriptor.

    The one ``dataclass(frozen=True)`` writes calls ``object.__setattr__(self, "name", value)`` per field (a
    name lookup each time); setting the slot directly does the same store, about twice as fast, and readers
    build millions of these records. Signature, defaults, equality, hashing and immutability are unchanged
    (the generated ``__setattr__`` still refuses assignment after construction)."""
    params, body = [], []
    env: dict[str, object] = {}
    for f in fields(cls):
        assert f.default_factory is MISSING and f.init, f"{cls.__name__}.{f.name}: plain fields only"
        env[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is MISSING:
            params.append(f.name)
        else:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})")
    assert not hasattr(cls, "__post_init__"), cls.__name__
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n", env)  # noqa: S102
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]


Record = (
    Account
    | AccountLink
    | NameSeen
    | DeviceOwner
    | Group
    | Participant
    | GroupEvent
    | Message
    | Page
    | Indicator
    | MediaFile
    | Problem
)


@dataclass(slots=True)
class ReadOptions:
    """What the examiner told us at intake."""

    timezone: str = "UTC"  # IANA name; exports' local times are converted with it
    owner: str | None = None  # the owner's phone (E.164) or handle, when given with --owner
    region: str | None = None  # default phone region (ISO alpha-2) for national numbers
    extra: dict[str, str] = field(default_factory=dict)


for _cls in (AccountKey, Prov, ChatRef, MediaRef, Account, AccountLink, NameSeen, DeviceOwner, Group, Participant,
             GroupEvent, Message, Page, Indicator, MediaFile, Problem):
    _quick_init(_cls)


def _twin(cls: type) -> Any:
    """A constructor for a hot loop: a plain slotted class with ``cls``'s slots whose ``__init__`` (same parameters
    and defaults) stores each field with an ordinary attribute store and then sets ``self.__class__ = cls``.

    A frozen dataclass's ``__setattr__`` refuses assignment, so its own ``__init__`` has to call a setter per
    field (``_quick_init``); the twin has no ``__setattr__`` of its own, and CPython stores its slots with the
    specialised fast store (about half the cost of ``_quick_init`` for ``Message``). The object it returns *is*
    a ``cls`` (the same layout: same slots, no ``__dict__``), equal to, hashing and pickling as one built by
    ``cls(...)``, and frozen from then on. Call it only; it is not a type to test against (``isinstance``)."""
    slots = tuple(f.name for f in fields(cls))
    assert cls.__slots__ == slots, cls.__name__  # type: ignore[attr-defined]
    params, body = [], []
    env: dict[str, object] = {"_cls": cls}
    for f in fields(cls):
        if f.default is MISSING:
            params.append(f.name)
        else:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    self.{f.name} = {f.name}")
    body.append("    self.__class__ = _cls")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n", env)  # noqa: S102
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": slots, "__init__": env["__init__"],
                                               "__module__": cls.__module__})
    return twin


# Fast constructors for the readers' hot loops (millions of records): same signature and result as the class.
if TYPE_CHECKING:
    new_message = Message
    new_prov = Prov
    new_media_ref = MediaRef
    new_account = Account
else:
    new_message = _twin(Message)
    new_prov = _twin(Prov)
    new_media_ref = _twin(MediaRef)
    new_account = _twin(Account)
