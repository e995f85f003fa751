"""iTunes/Finder iOS backups: the synthetic backup reads as the plain ChatStorage device view does, through the
manifest and through real intake of a folder, plain or encrypted with a password; hostile manifests, damaged
encrypted backups and missing or wrong passwords are named problems, and the password is stored nowhere."""

from __future__ import annotations

import hashlib
import json
import os
import plistlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_whatsapp_android import OWNER, make_view, read_all, unit_for

import ringtrace
from ringtrace.model import DeviceOwner, Group, GroupEvent, MediaFile, Message, Participant, Problem, ReadOptions
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


PASSWORD = "Lakeside-Ferry-27"  # invented


def encrypted_backup(tmp_path: Path, **kw: Any) -> Path:
    out = tmp_path / "enc"
    ios_backup.write(make_view("ios"), out, seed=5, password=PASSWORD, **kw)
    return out


def errors(recs: list[Any]) -> list[Problem]:
    return [r for r in recs if isinstance(r, Problem) and r.severity == "error"]


def test_the_library_decrypts_the_synthetic_encrypted_backup(tmp_path: Path) -> None:
    """The writer follows Apple's scheme independently of the reader: iphone_backup_decrypt's own front door must
    give back the plain backup's ChatStorage byte for byte, and refuse a wrong password."""
    ibd = pytest.importorskip("iphone_backup_decrypt")
    out = encrypted_backup(tmp_path)
    plain = backup(tmp_path)
    h = fid(WA_DOMAIN, "ChatStorage.sqlite")
    assert (out / h[:2] / h).read_bytes() != (plain / h[:2] / h).read_bytes()  # really ciphertext
    assert not (out / "Manifest.db").read_bytes().startswith(b"SQLite")
    eb = ibd.EncryptedBackup(backup_directory=str(out), passphrase=PASSWORD)
    assert eb.extract_file_as_bytes("ChatStorage.sqlite", domain_like=WA_DOMAIN) == (plain / h[:2] / h).read_bytes()
    with pytest.raises(ibd.exceptions.IncorrectPassphraseError):
        ibd.EncryptedBackup(backup_directory=str(out), passphrase="wrong").test_decryption()


def test_encrypted_backup_gives_the_same_facts_as_the_plain_one(tmp_path: Path) -> None:
    pytest.importorskip("iphone_backup_decrypt")
    want_recs = read_all(backup(tmp_path), "Manifest.db", "ios-backup")
    out = encrypted_backup(tmp_path)
    recs = read_all(out, "Manifest.db", "ios-backup", extra={"password": PASSWORD})
    assert facts(recs) == facts(want_recs) and len(facts(recs)["messages"]) == 9
    assert errors(recs) == []
    h = fid(WA_DOMAIN, "ChatStorage.sqlite")
    assert {m.prov.file for m in recs if isinstance(m, Message)} == {f"{h[:2]}/{h}"}  # the exhibit's own file
    # the decrypted attachment is an embedded file named after its hashed file and its domain path
    (mf,) = [r for r in recs if isinstance(r, MediaFile)]
    (ref,) = [r for m in recs if isinstance(m, Message) for r in m.media if r.path]
    assert ref.path == mf.path and mf.path.split("#")[1].startswith(f"{WA_DOMAIN}/Message/Media/")
    hashed = mf.path.split("#")[0]
    assert (out / hashed).is_file() and mf.prov.file == hashed
    assert mf.content is not None and hashlib.sha256(mf.content).hexdigest() == ref.sha256
    (plain_ref,) = [r for m in want_recs if isinstance(m, Message) for r in m.media if r.path]
    assert ref.sha256 == plain_ref.sha256
    told = [p.reason for p in recs if isinstance(p, Problem)]
    assert any("decrypted with the examiner's password" in r for r in told)
    assert not any(PASSWORD in r for r in told)


def test_encrypted_backup_without_or_with_a_wrong_password(tmp_path: Path) -> None:
    out = encrypted_backup(tmp_path)
    fmt = IOSBackup()
    assert fmt.claim(Candidate(out, "Manifest.db", (out / "Manifest.db").stat().st_size)) == 90
    recs = read_all(out, "Manifest.db", "ios-backup")
    (p,) = errors(recs)
    assert p.file == "Manifest.db" and "password needed" in p.reason
    assert not [m for m in recs if isinstance(m, Message)]
    # the device is named all the same: Info.plist is not encrypted
    assert [o for o in recs if isinstance(o, DeviceOwner) and o.account.value == OWNER.phone]
    pytest.importorskip("iphone_backup_decrypt")
    recs = read_all(out, "Manifest.db", "ios-backup", extra={"password": "Lakeside-Ferry-28"})
    (p,) = errors(recs)
    assert p.file == "Manifest.db" and "wrong password" in p.reason and "Lakeside" not in p.reason
    assert not [m for m in recs if isinstance(m, Message)]


def test_damaged_encrypted_backups_are_named(tmp_path: Path) -> None:
    pytest.importorskip("iphone_backup_decrypt")
    out = encrypted_backup(tmp_path)
    extra = {"password": PASSWORD}
    # a ChatStorage whose ciphertext was cut: its hashed file is named, the rest (device) is still read
    h = fid(WA_DOMAIN, "ChatStorage.sqlite")
    data = (out / h[:2] / h).read_bytes()
    (out / h[:2] / h).write_bytes(data[:-7])
    recs = read_all(out, "Manifest.db", "ios-backup", extra=extra)
    (p,) = errors(recs)
    assert p.file == f"{h[:2]}/{h}" and "does not decrypt" in p.reason and "ChatStorage.sqlite" in p.reason
    (out / h[:2] / h).write_bytes(data)
    # a keybag cut short, or one asking for absurd iteration counts (a hostile backup), is refused by name
    mp = plistlib.loads((out / "Manifest.plist").read_bytes())
    for keybag in (mp["BackupKeyBag"][:60], mp["BackupKeyBag"].replace(b"DPIC\x00\x00\x00\x04\x00\x00\x07\xd0",
                                                                       b"DPIC\x00\x00\x00\x04\x7f\xff\xff\xff")):
        bad = dict(mp, BackupKeyBag=keybag)
        (out / "Manifest.plist").write_bytes(plistlib.dumps(bad, fmt=plistlib.FMT_BINARY))
        recs = read_all(out, "Manifest.db", "ios-backup", extra=extra)
        (p,) = errors(recs)
        assert p.file == "Manifest.db" and ("keybag" in p.reason or "wrong password" in p.reason), p.reason
    # a Manifest.db that is not what its ManifestKey opens
    (out / "Manifest.plist").write_bytes(plistlib.dumps(mp, fmt=plistlib.FMT_BINARY))
    (out / "Manifest.db").write_bytes(os.urandom(4096))
    (p,) = errors(read_all(out, "Manifest.db", "ios-backup", extra=extra))
    assert p.file == "Manifest.db" and "Manifest.db" in p.reason


def test_ingest_with_a_password_file_stores_no_password(tmp_path: Path) -> None:
    pytest.importorskip("iphone_backup_decrypt")
    from sqlalchemy import select
    from typer.testing import CliRunner

    from ringtrace.case import Case
    from ringtrace.cli import app
    from ringtrace.store import schema as S

    out = encrypted_backup(tmp_path)
    pw = tmp_path / "password.txt"
    pw.write_text(PASSWORD + "\n")
    case_dir = tmp_path / "case"
    Case.init(case_dir).close()
    res = CliRunner().invoke(app, ["ingest", str(case_dir), str(out), "--exhibit", "EX-IOS-ENC",
                                   "--password-file", str(pw)])
    assert res.exit_code == 0, res.output
    case = Case.open(case_dir)
    try:
        with case.engine.connect() as con:
            assert len(con.execute(select(S.messages)).all()) == 9
            (m,) = con.execute(select(S.message_media).where(S.message_media.c.relpath.is_not(None))).all()
            (f,) = con.execute(select(S.source_files).where(S.source_files.c.relpath == m.relpath)).all()
            assert f.embedded and f.sha256 == m.sha256 and not m.declared_only
            assert [p.reason for p in con.execute(select(S.problems).where(S.problems.c.severity == "error"))] == []
            (ingest,) = [a for a in con.execute(select(S.audit_log)) if a.action == "source.ingest"]
            detail = json.loads(ingest.detail) if isinstance(ingest.detail, str) else ingest.detail
            assert detail["password_given"] is True
        ringtrace.run(case)
        assert ringtrace.verify(case).findings == []
    finally:
        case.close()
    # the password is nowhere in the case: database, audit, logs, vault
    for f in case_dir.rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f
    # a wrong password file is a named problem of the source, not a failed intake
    pw.write_text("not it\n")
    res = CliRunner().invoke(app, ["reparse", str(case_dir), "EX-IOS-ENC", "--password-file", str(pw)])
    assert res.exit_code == 0, res.output
    case = Case.open(case_dir)
    try:
        with case.engine.connect() as con:
            reasons = [p.reason for p in con.execute(select(S.problems).where(S.problems.c.severity == "error"))]
        assert len(reasons) == 1 and "wrong password" in reasons[0]
    finally:
        case.close()
    res = CliRunner().invoke(app, ["reparse", str(case_dir), "EX-IOS-ENC", "--password-file", str(tmp_path / "no")])
    assert res.exit_code != 0 and "password-file" in res.output
    # asked for (not echoed) instead of read from a file: the backup opens again, the errors go
    res = CliRunner().invoke(app, ["reparse", str(case_dir), "EX-IOS-ENC", "--ask-password"], input=PASSWORD + "\n")
    assert res.exit_code == 0 and PASSWORD not in res.output, res.output
    case = Case.open(case_dir)
    try:
        with case.engine.connect() as con:
            assert con.execute(select(S.problems).where(S.problems.c.severity == "error")).all() == []
            assert len(con.execute(select(S.messages)).all()) == 9
            (reparse, *_) = [a for a in con.execute(select(S.audit_log).order_by(S.audit_log.c.seq.desc()))
                             if a.action == "source.reparse"]
            detail = json.loads(reparse.detail) if isinstance(reparse.detail, str) else reparse.detail
            assert detail["password_given"] is True
    finally:
        case.close()
