"""The JSON export (contract v1, docs/export.md) as types: one TypedDict an object of ``export_schema.json``.

``tests/dissemination/test_export_types.py`` holds these and the schema together: every TypedDict's keys are the
schema object's properties, and a key is ``NotRequired`` exactly when the schema does not require it."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class Source(TypedDict):
    id: int
    exhibit: str
    kind: Literal["file", "folder", "zip", "tar", "disk"]
    path: str
    sha256: str
    md5: NotRequired[str]
    size: int
    files: NotRequired[int]
    mode: NotRequired[Literal["vault", "reference", "in-place"]]
    formats: NotRequired[list[str]]
    timezone: NotRequired[str]
    owner: NotRequired[str | None]
    seizure_country: NotRequired[str | None]
    examiner: NotRequired[str | None]
    ingested_at: NotRequired[str | None]


class Account(TypedDict):
    platform: str
    kind: str
    value: str


class Person(TypedDict):
    id: str
    phones: list[str]
    accounts: list[Account]
    names: list[str]
    country: str | None
    country_basis: str | None
    country_confidence: NotRequired[float | None]


class GroupName(TypedDict):
    at: str | None
    name: str


# "from" is a keyword: the functional form is the only way to spell this key.
Interval = TypedDict("Interval", {"from": str | None, "to": str | None})


class Member(TypedDict):
    person: str
    intervals: list[Interval]
    joined_via: NotRequired[list[str]]
    joined_via_invite_link: list[str] | bool | None


class Group(TypedDict):
    id: str
    platform: str
    identifiers: list[str]
    names: list[GroupName]
    created_at: str | None
    creator: str | None
    admins: list[str]
    members: list[Member]
    invite_codes: list[str]
    message_count: int
    media_count: int
    sources: list[str]
    conflicts: NotRequired[list[Any]]


class DiskPlace(TypedDict):
    partition: str
    fs_type: str
    fs_path: str
    inode: int | None
    deleted: bool
    media_offset: int | None
    mtime: str | None
    atime: str | None
    ctime: str | None
    crtime: str | None


class MediaFile(TypedDict):
    source: str
    path: str
    place: NotRequired[DiskPlace]  # a file found in a disk image: where it lies there


class Match(TypedDict):
    hashset: str | None
    entry: str
    method: Literal["md5", "sha1", "sha256", "pdq", "vpdq"]
    distance: int
    category: str | None
    series: NotRequired[str | None]


class FirstShared(TypedDict):
    person: str | None
    group: str | None
    at: str | None


class Media(TypedDict):
    sha256: str
    md5: str | None
    sha1: str | None
    pdq: str | None
    pdq_quality: int | None
    kind: str
    size: NotRequired[int | None]
    error: NotRequired[str | None]
    files: list[MediaFile]
    matches: list[Match]
    # None for media no message carried; the schema (type object) would refuse such an export: see the report
    first_shared: FirstShared | None
    shared_by: list[str]
    shared_in: list[str]


class Sighting(TypedDict):
    source: str | None
    location: str
    page: NotRequired[str | None]
    at: str | None
    context: str


class InviteLink(TypedDict):
    platform: str | None
    code: str | None
    url: str
    group: str | None
    secret: NotRequired[str]
    seen: list[Sighting]


class Indicator(TypedDict):
    kind: str
    value: str
    seen: list[Sighting]


class Chat(TypedDict):
    kind: str
    group: str | None
    key: str


class Event(TypedDict):
    kind: str
    raw_code: str | None
    target: str | None
    value: str | None


class Message(TypedDict):
    chat: Chat
    sender: str | None
    at: str | None
    kind: Literal["message", "event"]
    event: NotRequired[Event]
    text: str | None
    media: list[str]
    forwarded: bool
    source: str | None
    location: str


class ExportDoc(TypedDict):
    export_version: Literal[1]
    case: str
    generated_at: str | None
    tool: str
    sources: list[Source]
    persons: list[Person]
    groups: list[Group]
    media: list[Media]
    invite_links: list[InviteLink]
    indicators: list[Indicator]
    messages: NotRequired[list[Message]]
