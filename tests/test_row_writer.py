"""The record writer's rows made apart from the database (ringtrace.store.rows) give the rows and the seal that
reading them back gives: ids in record order across batches, a message's media named by the files inventoried when
it was read, a seal made from the rows equal to the one read back from the database (or read back where a value's
stored form is not certain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.model import (
    AccountKey,
    ChatRef,
    GroupEvent,
    Indicator,
    MediaFile,
    MediaRef,
    Message,
    NameSeen,
    Page,
    Participant,
    Problem,
    Prov,
)
from ringtrace.seal import seal_source
from ringtrace.store import schema as S
from ringtrace.store.rows import BATCH
from ringtrace.store.writer import RecordWriter

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _source(case: Case) -> int:
    with case.begin() as con:
        return int(con.execute(S.sources.insert().values(
            exhibit="EX-1", kind="file", original_path="/evidence/x", sha256="a" * 64, md5="0" * 32, size=1,
            file_count=1, mode="vault", timezone="UTC", tool="test", ingested_at=T0, status="staged",
        )).inserted_primary_key[0])


def _write(case: Case, sid: int, units: list[tuple[str, list[Any]]]) -> dict[str, Any]:
    with case.begin() as con:
        w = RecordWriter(con, sid, "parse", store_embedded=case.vault.put_bytes)
        for primary, records in units:
            for r in records:
                w.add(r, primary)
        w.flush()
        return {"made": w.seal().as_detail(), "read": seal_source(con, sid).as_detail(), "lines": w.lines}


def _records(n: int) -> list[Any]:
    """Messages with and without media (more than a batch of each), names of an export, events, pages, problems,
    an embedded file inventoried after the message that names it, times with and without microseconds."""
    chat = ChatRef("whatsapp", "group", "g1@g.us")
    direct = ChatRef("whatsapp", "direct", "+34600000001", peer=AccountKey("whatsapp", "phone", "+34600000001"))
    export = ChatRef("whatsapp", "group", "export:Garden Club")
    out: list[Any] = []
    for i in range(n):
        sender = AccountKey("whatsapp", "export_name", f"Ana {i % 7}") if i % 3 else AccountKey(
            "whatsapp", "phone", f"+3460000{i % 50:04d}")
        media = (MediaRef(path="media/late.jpg", name="late.jpg", size=3),
                 MediaRef(sha256="B" * 64, declared_only=True)) if i % 4 == 0 else ()
        p = Prov("msgstore.db", "message", str(i))
        at = T0 + timedelta(seconds=i, microseconds=i % 2)
        out.append(Message((chat, direct, export)[i % 3], f"k{i}", sender, at, f"text {i} \u00e9\u4e2d", p,
                           media=media, forwarded=bool(i % 5 == 0)))
        if i == 10:
            out.append(MediaFile(path="media/late.jpg", prov=p, size=3, content=b"abc", origin_uri="https://x.test/a"))
    out += [NameSeen(AccountKey("whatsapp", "export_name", "Ana 1"), "Ana", "export_sender", Prov("chat.txt", line=3)),
            Participant(chat, AccountKey("whatsapp", "phone", "+34600000002"), "admin", True, Prov("msgstore.db")),
            GroupEvent(chat, "subject", T0, None, None, "27", Prov("msgstore.db", "t", "9"), value="New"),
            Page("https://x.test/", T0, "r1", "A page", Prov("cap.warc", "r1"), resources=("https://x.test/i.png",)),
            Page(None, None, None, None, Prov("cap.warc", "r2")),
            Indicator("whatsapp_invite", "https://chat.whatsapp.com/AbC", "AbC", "join", Prov("cap.warc", "r1")),
            Problem("msgstore.db", "a row could not be read", Prov("msgstore.db", "message", "77"), "warning")]
    return out


def test_rows_and_seal_made_apart_are_those_read_back(tmp_path: Path) -> None:
    case = Case.init(tmp_path / "case", actor="t")
    sid = _source(case)
    recs = _records(3 * BATCH + 17)
    got = _write(case, sid, [("msgstore.db", recs[: len(recs) // 2]), ("chat.txt", recs[len(recs) // 2:])])
    assert got["lines"] is not None  # made from the rows, not read back
    assert got["made"] == got["read"]
    with case.engine.connect() as con:
        keys = [r[0] for r in con.execute(select(S.messages.c.msg_key).order_by(S.messages.c.id))]
        media = con.execute(select(S.message_media.c.sha256, S.message_media.c.relpath)
                            .where(S.message_media.c.relpath.is_not(None)).order_by(S.message_media.c.id)).all()
        scoped = con.execute(select(S.accounts.c.value).where(S.accounts.c.kind == "export_name")).scalars().all()
    # messages with media go in a batch of their own, flushed first: the first batch's media messages take the
    # first ids, then the plain ones queued with them (as the writer has always done); within each kind, record order
    assert len(keys) == 3 * BATCH + 17 and len(set(keys)) == len(keys)
    assert keys[0] == "k0" and keys[1] == "k4" and int(keys[-1][1:]) % 4 != 0
    # the file inventoried after message k0..k8 named it: those keep no digest; later ones get the file's
    assert media[0].sha256 is None and media[-1].sha256 is not None
    assert all(v.startswith(f"S{sid}:") for v in scoped)


def test_a_value_not_certain_is_sealed_from_the_database(tmp_path: Path) -> None:
    case = Case.init(tmp_path / "case", actor="t")
    sid = _source(case)
    chat = ChatRef("whatsapp", "group", "g1@g.us")
    odd = Message(chat, 12345, None, T0, "key given as a number", Prov("x.db", "m", "1"))  # type: ignore[arg-type]
    got = _write(case, sid, [("x.db", [odd])])
    assert got["lines"] is None
    assert got["made"] == got["read"]
