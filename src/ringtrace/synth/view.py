"""What one seized device (or one export) holds, in neutral form.

The synthetic operation (``synth.world``) decides who is in which group and who said what; for each seized
device it cuts a ``DeviceView``: the groups the owner was in, the events and messages the owner's phone saw
while a member. A format writer (``synth.formats.<format>``) renders a view in the real file format, with that
format's awkwardness (owner missing from participant tables, LIDs, WAL-only rows, missing media files ...).

Tests build their fixtures the same way: make a small view by hand, write it, parse it back, compare.
All times are timezone-aware UTC; writers convert to local time where the format stores local time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class VPerson:
    phone: str  # E.164, e.g. "+34612345678"
    name: str  # the name the person set (push name / Telegram first name)
    lid: str | None = None  # WhatsApp LID digits (without "@lid"), if the person has one
    tg_id: int | None = None
    username: str | None = None

    @property
    def digits(self) -> str:
        return self.phone.lstrip("+")

    @property
    def jid(self) -> str:
        return f"{self.digits}@s.whatsapp.net"


@dataclass(frozen=True)
class VMedia:
    filename: str  # e.g. "IMG-20240105-WA0003.jpg"
    data: bytes  # file content (benign generated image or video)
    mime: str = "image/jpeg"
    kind: str = "image"  # image | video
    present: bool = True  # False: the device holds the hash in its database but not the file

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class VMessage:
    key: str  # stable message id (WhatsApp key_id / Telegram message id as text); the same across devices
    sender: VPerson
    at: datetime
    text: str | None = None
    media: VMedia | None = None
    forwarded: bool = False
    in_wal: bool = False  # writer hint: put this row only in the -wal file (Android)


@dataclass(frozen=True)
class VEvent:
    """A group system event. ``kind`` is a ``ringtrace.model.EventKind`` value."""

    key: str
    kind: str
    at: datetime
    actor: VPerson | None = None  # who did it (creator, admin who added/removed, the joiner for joined_link)
    target: VPerson | None = None  # to whom (added/removed/promoted person); None for subject changes
    value: str | None = None  # new subject for "subject"
    old: str | None = None  # the subject a rename replaced (WhatsApp records it with the rename)
    inviter: VPerson | None = None  # Telegram link join: the admin whose link it was


@dataclass
class VGroup:
    platform: str  # whatsapp | telegram
    key: str  # WhatsApp group JID ("...@g.us") or Telegram chat id as text
    subject: str  # name at extraction time
    created_at: datetime
    creator: VPerson
    participants: list[tuple[VPerson, str]] = field(default_factory=list)  # current, with role; owner included
    past: list[tuple[VPerson, datetime]] = field(default_factory=list)  # left/removed, with when
    events: list[VEvent] = field(default_factory=list)  # as this device saw them, in time order
    messages: list[VMessage] = field(default_factory=list)  # as this device saw them, in time order
    invite_code: str | None = None  # current invite code, if the owner was admin (WhatsApp stores it then)
    # notices (kinds encryption_notice, security_code, ephemeral_setting, message_deleted, message_waiting,
    # missed_call): rows a database keeps among the messages; never messages, never membership
    notices: list[VEvent] = field(default_factory=list)


@dataclass(frozen=True)
class VPost:
    """A message in a chat that is not a person's number (status, broadcast list, newsletter, WhatsApp)."""

    key: str
    sender: VPerson | None  # None where the chat names no sender (a newsletter, WhatsApp's own account)
    at: datetime
    text: str


@dataclass
class VChat:
    jid: str  # status@broadcast, <digits>@broadcast, <digits>@newsletter, 0@s.whatsapp.net
    kind: str  # the ChatKind a reader must give it
    posts: list[VPost] = field(default_factory=list)


@dataclass
class VDirect:
    peer: VPerson
    messages: list[VMessage] = field(default_factory=list)


@dataclass(frozen=True)
class VCall:
    """A row of the phone's call log. ``result`` is WhatsApp's call_result code (5 connected, 2 unanswered or
    missed ...); a group call names its group and each participant with their own result."""

    key: str  # call id
    peer: VPerson  # the other party of a 1:1 call; the caller (incoming) or first callee (outgoing) of a group call
    from_me: bool
    at: datetime
    video: bool
    duration: int  # seconds, 0 unless connected
    result: int
    group_key: str | None = None
    participants: tuple[tuple[VPerson, int], ...] = ()


@dataclass
class DeviceView:
    owner: VPerson
    platform: str  # whatsapp | telegram
    groups: list[VGroup] = field(default_factory=list)
    directs: list[VDirect] = field(default_factory=list)
    contacts: list[tuple[VPerson, str]] = field(default_factory=list)  # address-book name the owner gave
    timezone: str = "UTC"  # the device's / exporter's local zone (exports print local time)
    locale: str = "en"  # export language: en es pt it de fr
    variant: str = ""  # writer-specific variant (e.g. "legacy", "current", "mixed"; "android", "ios")
    lid_mapped: bool = True  # whether the device holds the LID -> phone map
    owner_recorded: bool = True  # False: no preferences file names the owner (the database must tell)
    others: list[VChat] = field(default_factory=list)  # chats whose JID is not a person's number
    calls: list[VCall] = field(default_factory=list)  # the phone's call log
