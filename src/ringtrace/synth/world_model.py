"""The synthetic world's objects (people, media, groups with their events and messages, seized devices) and
its clock, apart from how ``world`` simulates them, so that ``realev`` can add to a world without importing the
simulation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ringtrace.synth.view import VPerson

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SEIZURE = datetime(2025, 10, 14, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Scale:
    groups: int
    telegram_groups: int
    persons: int
    devices: int
    base_images: int
    messages: int
    pages: int
    media_rate: float = 0.1


@dataclass
class Person:
    pid: str
    country: str
    v: VPerson


@dataclass
class MediaItem:
    mid: str
    family: int  # base image seed
    transform: str | None
    vseed: int
    known: bool  # its family is on the hash list

    _data: bytes | None = None

    def data(self) -> bytes:
        if self._data is None:
            from ringtrace.synth.images import variant_bytes

            self._data = variant_bytes(self.family, self.transform, self.vseed)
        return self._data


@dataclass
class Msg:
    key: str
    gid: str
    sender: str  # pid
    at: datetime
    text: str | None
    media: str | None  # mid
    forwarded: bool


@dataclass
class Ev:
    key: str
    gid: str
    kind: str
    at: datetime
    actor: str | None
    target: str | None
    value: str | None = None
    old: str | None = None  # for a rename: the subject it replaced
    inviter: str | None = None  # Telegram link join: who created the link (pid); the export prints the name


@dataclass
class Grp:
    gid: str
    platform: str
    key: str
    created_at: datetime
    creator: str
    subjects: list[tuple[datetime, str]] = field(default_factory=list)
    intervals: dict[str, list[list[datetime | None]]] = field(default_factory=dict)  # pid -> [[from, to|None]]
    via: dict[str, list[str | None]] = field(default_factory=dict)  # pid -> per interval: invite code or None
    admins: set[str] = field(default_factory=set)
    codes: list[tuple[datetime, str]] = field(default_factory=list)  # invite code current from
    events: list[Ev] = field(default_factory=list)
    messages: list[Msg] = field(default_factory=list)
    # notices shown in the chat (encryption, security code, deleted, waiting, missed call, disappearing
    # messages): typed events that are never messages and never make anyone a member
    notices: list[Ev] = field(default_factory=list)
    link_owner: dict[str, str] = field(default_factory=dict)  # Telegram invite code -> the admin who made it
    lurkers: set[str] = field(default_factory=set)  # Telegram members who never post (known by name only)

    def is_member(self, pid: str, at: datetime) -> bool:
        return any(f is not None and f <= at and (t is None or at < t) for f, t in self.intervals.get(pid, []))

    def members_at(self, at: datetime) -> list[str]:
        return sorted(p for p in self.intervals if self.is_member(p, at))

    def code_at(self, at: datetime) -> str | None:
        cur = None
        for t, c in self.codes:
            if t <= at:
                cur = c
        return cur


@dataclass
class Device:
    did: str
    exhibit: str
    owner: str
    fmt: str  # writer name: whatsapp_android | whatsapp_ios | whatsapp_export | telegram_export | media_folder
    variant: str
    window_from: datetime
    seized_at: datetime
    country: str
    locale: str
    timezone: str
    lid_mapped: bool = True
    # False: the extraction holds no preferences file and the examiner gives no --owner, so the owner must be
    # inferred from the database (``owner_trace`` names the trace the world left for it)
    owner_recorded: bool = True
    owner_trace: str | None = None
    # chats whose JID is not a person's number (status@broadcast, broadcast lists, newsletters, WhatsApp's own
    # account): kept as what they are, never made into groups or people
    other_chats: list[OtherChat] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)  # the phone's call log (Android databases keep one)


@dataclass
class Call:
    key: str
    peer: str  # pid
    from_me: bool
    at: datetime
    video: bool
    duration: int
    result: int  # WhatsApp call_result: 5 connected, 2 not answered (outgoing) / missed (incoming)
    group: str | None = None  # gid of a group call
    participants: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class OtherChat:
    jid: str
    kind: str  # ChatKind value the reader must give it: broadcast | channel | direct
    messages: list[Msg] = field(default_factory=list)  # sender "" where the chat names none (newsletter)


@dataclass
class World:
    seed: int
    scale: Scale
    persons: dict[str, Person]
    groups: dict[str, Grp]
    media: dict[str, MediaItem]
    devices: list[Device]
    known_families: set[int]

    def person(self, pid: str) -> VPerson:
        return self.persons[pid].v
