"""Build small cases in code: source rows inserted by hand, records written through RecordWriter."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ringtrace.case import Case
from ringtrace.model import (
    AccountKey,
    AccountLink,
    ChatRef,
    DeviceOwner,
    Group,
    GroupEvent,
    MediaRef,
    Message,
    NameSeen,
    Participant,
    Prov,
)
from ringtrace.store import schema as S
from ringtrace.store.writer import RecordWriter

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
P = Prov("test.db", "t", "1")


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def wa(phone: str) -> AccountKey:
    return AccountKey("whatsapp", "phone", phone)


def lid(v: str) -> AccountKey:
    return AccountKey("whatsapp", "lid", f"{v}@lid")


def tg(v: str) -> AccountKey:
    return AccountKey("telegram", "tg_id", v)


def tgp(phone: str) -> AccountKey:
    return AccountKey("telegram", "phone", phone)


def xname(name: str) -> AccountKey:
    return AccountKey("whatsapp", "export_name", name)


def gchat(key: str, platform: str = "whatsapp") -> ChatRef:
    return ChatRef(platform, "group", key)


def sha(n: int | str) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def add_source(case: Case, exhibit: str, region: str | None = None, seizure: str | None = None,
               owner: str | None = None) -> int:
    with case.begin() as con:
        return int(con.execute(S.sources.insert().values(
            exhibit=exhibit, kind="file", original_path=f"/evidence/{exhibit}", sha256=sha(exhibit),
            md5="0" * 32, size=1, file_count=1, mode="vault", timezone="UTC", owner=owner, region=region,
            seizure_country=seizure, tool="test", ingested_at=datetime(2026, 1, 1, tzinfo=UTC),
            status="parsed")).inserted_primary_key[0])


def write(case: Case, source_id: int, records: list[Any]) -> None:
    with case.begin() as con:
        w = RecordWriter(con, source_id, "parse")
        for r in records:
            w.add(r, "test.db")
        w.flush()


def add_media(case: Case, digest: str, pdq: str | None = None, md5: str | None = None) -> None:
    with case.begin() as con:
        con.execute(S.media.insert().values(sha256=digest, md5=md5 or digest[:32], sha1=digest[:40], size=10,
                                            kind="image", pdq=pdq))


def mark_known(case: Case, digest: str) -> None:
    with case.begin() as con:
        hs = con.execute(select_hashset()).scalar()
        if hs is None:
            hs = con.execute(S.hashsets.insert().values(
                name="list", format="test", file_sha256="0" * 64, original_path="/l",
                imported_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0]
        e = con.execute(S.hash_entries.insert().values(hashset_id=hs, sha256=digest)).inserted_primary_key[0]
        con.execute(S.matches.insert().values(media_sha256=digest, entry_id=e, hashset_id=hs, method="sha256"))


def select_hashset() -> Any:
    from sqlalchemy import select

    return select(S.hashsets.c.id).limit(1)


def msg(chat: ChatRef, key: str | None, sender: AccountKey | None, at: datetime, text: str | None = None,
        media: str | None = None, precision: int = 1, forwarded: bool = False) -> Message:
    return Message(chat, key, sender, at, text, P, media=(MediaRef(sha256=media),) if media else (),
                   time_precision_s=precision, forwarded=forwarded)


def ev(chat: ChatRef, kind: str, at: datetime, actor: AccountKey | None, target: AccountKey | None = None,
       value: str | None = None) -> GroupEvent:
    return GroupEvent(chat, kind, at, actor, target, None, P, value=value)


def part(chat: ChatRef, who: AccountKey, role: str = "member", current: bool = True,
         at: datetime | None = None) -> Participant:
    return Participant(chat, who, role, current, P, at)


def grp(chat: ChatRef, name: str, created: datetime | None = None, creator: AccountKey | None = None,
        code: str | None = None) -> Group:
    return Group(chat, name, created, creator, P, invite_code=code)


def link(a: AccountKey, b: AccountKey, basis: str = "jid_map") -> AccountLink:
    return AccountLink(a, b, basis, P)


def owner(a: AccountKey) -> DeviceOwner:
    return DeviceOwner(a, "test", P)


def name(a: AccountKey, n: str) -> NameSeen:
    return NameSeen(a, n, "push_name", P)


def new_case(tmp: Path, name_: str = "c") -> Case:
    return Case.init(tmp / name_, actor="tester")
