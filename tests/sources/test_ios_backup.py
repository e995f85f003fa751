"""iTunes/Finder iOS backups: the synthetic backup reads as the plain ChatStorage device view does, through the
manifest and through real intake of a folder; hostile manifests and encrypted backups are named problems."""

from __future__ import annotations

import hashlib
import os
import plistlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_whatsapp_android import OWNER, make_view, read_all, unit_for

import ringtrace
from ringtrace.model import DeviceOwner, Group, GroupEvent, Message, Participant, Problem, ReadOptions
from ringtrace.sources.backups.ios import WA_DOMAIN, IOSBackup
from ringtrace.sources.base import Candidate, FormatError
from ringtrace.stages.parse import recognise
from ringtrace.synth.formats import ios_backup, whatsapp_ios

CHAT_DB = f"{WA_DOMAIN}/ChatStorage.sqlite"


def backup(tmp_path: Path, **kw: Any) -> Path:
    out = tmp_path / "backup"
    ios_backup.write(make_view("ios"), out, seed=5, **kw)
    return out


def fid(domain: str, rel: str) -> str:
    return hashlib.sha1(f"{domain}-{rel}".encode()).hexdigest()  # noqa: S324


def facts(recs: list[Any]) -> dict[str, Any]:
    """What the records say, without where they came from (file names differ by design)."""
    msgs = sorted(
        (m.msg_key, m.sender, m.at, m.text, m.from_owner, m.chat,
         tuple((r.sha256, r.name, r.size, r.declared_only, r.path is None) for r in m.media))
        for m in recs if isinstance(m, Message)
    )
    return {
        "messages": msgs,
        "groups": sorted((g.chat.key, g.name, g.created_at, g.creator) for g in recs if isinstance(g, Group)),
        "participants": sorted((p.chat.key, p.account.value, p.role, p.current)
                               for p in recs if isinstance(p, Participant)),
        "events": sorted(((e.kind, e.at, e.actor.value if e.actor else "", e.target.value if e.target else "",
                           e.value or "") for e in recs if isinstance(e, GroupEvent)), key=str),
        "wa_owner": [o.account for o in recs if isinstance(o, DeviceOwner) and o.account.platform == "whatsapp"],
    }


def test_hashed_names_are_sha1_of_domain_and_path(tmp_path: Path) -> None:
    out = backup(tmp_path)
    h = fid(WA_DOMAIN, "ChatStorage.sqlite")
    assert (out / h[:2] / h).read_bytes().startswith(b"SQLite format 3\x00")
    con = sqlite3.connect(out / "Manifest.db")
    try:
        (dom, rel, flags), = con.execute("SELECT domain, relativePath, flags FROM Files WHERE fileID = ?", (h,))
    finally:
        con.close()
    assert (dom, rel, flags) == (WA_DOMAIN, "ChatStorage.sqlite", 1)


def test_backup_gives_the_same_facts_as_the_plain_device_view(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    whatsapp_ios.write(make_view("ios"), plain, seed=5)
    want = facts(read_all(plain, CHAT_DB, "whatsapp-ios"))
    out = backup(tmp_path)
    recs = read_all(out, "Manifest.db", "ios-backup")
    got = facts(recs)
    assert got == want and len(got["messages"]) == 9 and got["wa_owner"]
    # provenance: records point at the hashed backup file, media at their own hashed file
    h = fid(WA_DOMAIN, "ChatStorage.sqlite")
    assert {m.prov.file for m in recs if isinstance(m, Message)} == {f"{h[:2]}/{h}"}
    (present,) = [r for m in recs if isinstance(m, Message) for r in m.media if r.path]
    assert present.path is not None and (out / present.path).is_file()
    assert hashlib.sha256((out / present.path).read_bytes()).hexdigest() == present.sha256
    mapping = [p for p in recs if isinstance(p, Problem) and p.file == present.path]
    assert mapping and f"= {WA_DOMAIN}/Message/Media/" in mapping[0].reason and mapping[0].severity == "info"
    assert not [p for p in recs if isinstance(p, Problem) and p.severity != "info"]


def test_info_plist_device_is_the_backups_owner_record(tmp_path: Path) -> None:
    recs = read_all(backup(tmp_path, device_name="Testgerät A"), "Manifest.db", "ios-backup")
    (own,) = [o for o in recs if isinstance(o, DeviceOwner) and o.account.platform == "phone"]
    assert own.account.value == OWNER.phone and own.prov.file == "Info.plist"
    assert "Testgerät A" in own.basis and "IMEI 35" in own.basis
    recs = read_all(backup(tmp_path / "b", phone_number=False), "Manifest.db", "ios-backup")
    assert not [o for o in recs if isinstance(o, DeviceOwner) and o.account.platform == "phone"]
    (note,) = [p for p in recs if isinstance(p, Problem) and "no phone number" in p.reason]
    assert note.file == "Info.plist" and "IMEI 35" in note.reason


def test_luhn_imei_is_valid() -> None:
    import random

    imei = ios_backup.luhn_imei(random.Random(1))
    digits = [int(c) for c in imei]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if 2 * d > 9 else 2 * d) for i, d in enumerate(reversed(digits)))
    assert len(imei) == 15 and total % 10 == 0


def test_recognition_claims_the_hashed_files(tmp_path: Path) -> None:
    out = backup(tmp_path)
    files = [(p.relative_to(out).as_posix(), p.stat().st_size) for p in out.rglob("*") if p.is_file()]
    (unit,) = recognise(out, files)
    assert unit.format == "ios-backup" and unit.primary == "Manifest.db"
    assert set(unit.members) | {unit.primary} == {f for f, _ in files}


def test_ingest_of_a_backup_folder(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    out = backup(tmp_path)
    case = Case.init(tmp_path / "case")
    try:
        ringtrace.ingest(case, out, exhibit="EX-IOS-BK")
        with case.engine.connect() as con:
            assert con.execute(select(func.count()).select_from(S.messages)).scalar() == 9
            media = con.execute(select(S.message_media).where(S.message_media.c.relpath.is_not(None))).all()
            errors = [p.reason for p in con.execute(select(S.problems).where(S.problems.c.severity != "info"))]
        assert errors == []
        (m,) = media
        assert hashlib.sha256((out / m.relpath).read_bytes()).hexdigest() == m.sha256
        ringtrace.run(case)
        assert ringtrace.verify(case).findings == []
    finally:
        case.close()


# ---- hostile input ------------------------------------------------------------------------------------------


def _add_rows(out: Path, rows: list[tuple[str, str, str, int]]) -> None:
    con = sqlite3.connect(out / "Manifest.db")
    try:
        con.executemany("INSERT INTO Files (fileID, domain, relativePath, flags) VALUES (?,?,?,?)", rows)
        con.commit()
    finally:
        con.close()


def test_manifest_pointing_outside_and_missing_files_are_named(tmp_path: Path) -> None:
    out = backup(tmp_path)
    (tmp_path / "secret.txt").write_text("not evidence")
    ghost = fid(WA_DOMAIN, "Message/Media/ghost.jpg")
    link = fid("HomeDomain", "Library/link.txt")
    (out / link[:2]).mkdir(exist_ok=True)
    os.symlink(tmp_path / "secret.txt", out / link[:2] / link)
    _add_rows(out, [("../../secret.txt", "HomeDomain", "Library/x", 1),
                    (ghost, WA_DOMAIN, "Message/Media/ghost.jpg", 1),
                    (link, "HomeDomain", "Library/link.txt", 1),
                    (fid("HomeDomain", "up"), "HomeDomain", "../../etc/passwd", 1)])
    recs = read_all(out, "Manifest.db", "ios-backup")
    probs = [p for p in recs if isinstance(p, Problem)]
    outside = [p for p in probs if "outside the backup" in p.reason]
    assert len(outside) == 2 and all(p.file == "Manifest.db" and p.severity == "error" for p in outside)
    missing = [p.reason for p in probs if "missing from the exhibit" in p.reason]
    assert any(ghost in r for r in missing) and any(link in r for r in missing)
    assert len([m for m in recs if isinstance(m, Message)]) == 9  # the rest is still read


def test_truncated_manifest_is_a_named_error(tmp_path: Path) -> None:
    out = backup(tmp_path)
    data = (out / "Manifest.db").read_bytes()
    (out / "Manifest.db").write_bytes(data[: len(data) // 3])
    fmt = IOSBackup()
    assert fmt.claim(Candidate(out, "Manifest.db", (out / "Manifest.db").stat().st_size)) > 0
    with pytest.raises(FormatError, match="Manifest.db"):
        list(fmt.read(unit_for(out, "Manifest.db", "ios-backup"), ReadOptions()))


def test_missing_chat_storage_and_junk_manifest(tmp_path: Path) -> None:
    out = backup(tmp_path)
    h = fid(WA_DOMAIN, "ChatStorage.sqlite")
    (out / h[:2] / h).write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)  # truncated database
    recs = read_all(out, "Manifest.db", "ios-backup")
    bad = [p for p in recs if isinstance(p, Problem) and p.severity == "error"]
    assert bad and f"{h[:2]}/{h}" in bad[0].reason and "ChatStorage.sqlite" in bad[0].reason
    (out / "Manifest.db").write_bytes(b"not a database at all")
    fmt = IOSBackup()
    assert fmt.claim(Candidate(out, "Manifest.db", 21)) > 0
    with pytest.raises(FormatError, match="Manifest.db"):
        list(fmt.read(unit_for(out, "Manifest.db", "ios-backup"), ReadOptions()))
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "Manifest.db").write_bytes(b"junk")
    assert fmt.claim(Candidate(lone, "Manifest.db", 4)) == 0  # no Manifest.plist: not a backup


def test_encrypted_backup_needs_the_password(tmp_path: Path) -> None:
    out = backup(tmp_path)
    (out / "Manifest.db").write_bytes(os.urandom(4096))
    mp = plistlib.loads((out / "Manifest.plist").read_bytes())
    mp["IsEncrypted"] = True
    (out / "Manifest.plist").write_bytes(plistlib.dumps(mp))
    fmt = IOSBackup()
    assert fmt.claim(Candidate(out, "Manifest.db", 4096)) == 90
    recs = read_all(out, "Manifest.db", "ios-backup")
    (p,) = [r for r in recs if isinstance(r, Problem) and r.severity == "error"]
    assert p.file == "Manifest.db" and "password needed" in p.reason
    assert not [m for m in recs if isinstance(m, Message)]
    recs = read_all(out, "Manifest.db", "ios-backup", extra={"key": "hunter2"})
    (p,) = [r for r in recs if isinstance(r, Problem) and r.severity == "error"]
    assert "not built in" in p.reason and "hunter2" not in p.reason
