"""Android phone backups on PCs: ``adb backup`` files (plain, compressed or not, encrypted with a password) read
as the extraction they hold, with every record naming the backup and its member; a WhatsApp folder copied to a
PC (crypt15 + Media) read with the examiner's key; damaged and hostile backups are named problems."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from test_whatsapp_android import DB, make_view, read_all

import ringtrace
from ringtrace.model import DeviceOwner, MediaFile, Message, Problem, ReadOptions
from ringtrace.sources.backups.android import AndroidBackup, android_path
from ringtrace.sources.base import Candidate, FormatError, Unit
from ringtrace.synth.formats import android_backup, whatsapp_android

PASSWORD = "Harbour-Lantern-41"  # invented
ROOT_KEY = bytes(range(32))  # an invented end-to-end backup key


def facts(recs: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((m.msg_key, m.sender, m.at, m.text, m.from_owner, m.chat,
                   tuple((r.sha256, r.name, r.declared_only, r.path is None) for r in m.media))
                  for m in recs if isinstance(m, Message))


@pytest.fixture(scope="module")
def plain_facts(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    tree = tmp_path_factory.mktemp("plain")
    whatsapp_android.write(make_view("current"), tree, seed=7)
    return facts(read_all(tree, DB, "whatsapp-android"))


def ab(tmp_path: Path, **kw: Any) -> Path:
    return android_backup.write_ab(make_view("current"), tmp_path / "ex" / "phone.ab", seed=7, **kw)


@pytest.mark.parametrize("kw", [{}, {"compressed": False}, {"version": 1}])
def test_plain_backup_reads_as_the_extraction_it_holds(tmp_path: Path, plain_facts: list[Any],
                                                       kw: dict[str, Any]) -> None:
    path = ab(tmp_path, **kw)
    assert AndroidBackup().claim(Candidate(path.parent, path.name, path.stat().st_size)) == 95
    recs = read_all(path.parent, path.name, "android-backup")
    assert facts(recs) == plain_facts and len(plain_facts) == 9
    assert {m.prov.file for m in recs if isinstance(m, Message)} == {"phone.ab#apps/com.whatsapp/db/msgstore.db"}
    (own,) = [o for o in recs if isinstance(o, DeviceOwner)]
    assert own.prov.file == "phone.ab#apps/com.whatsapp/sp/com.whatsapp_preferences_light.xml"
    (mf,) = [r for r in recs if isinstance(r, MediaFile)]
    assert mf.path == "phone.ab#shared/0/WhatsApp/Media/WhatsApp Images/IMG-20240301-WA0001.jpg"
    (ref,) = [r for m in recs if isinstance(m, Message) for r in m.media if r.path]
    assert ref.path == mf.path and mf.content and hashlib.sha256(mf.content).hexdigest() == ref.sha256
    assert not [p for p in recs if isinstance(p, Problem) and p.severity != "info"]


@pytest.mark.parametrize("version", [5, 1])
def test_encrypted_backup_needs_the_password(tmp_path: Path, plain_facts: list[Any], version: int) -> None:
    path = ab(tmp_path, password=PASSWORD, version=version)
    recs = read_all(path.parent, path.name, "android-backup")
    (p,) = [r for r in recs if isinstance(r, Problem)]
    assert p.file == "phone.ab" and p.severity == "error" and "password needed" in p.reason
    unit = Unit(path.parent, path.name, "android-backup")
    with pytest.raises(FormatError, match="phone.ab: wrong password") as e:
        list(AndroidBackup().read(unit, ReadOptions(extra={"password": "Harbour-Lantern-42"})))
    assert "Harbour" not in str(e.value)
    recs = read_all(path.parent, path.name, "android-backup", extra={"password": PASSWORD})
    assert facts(recs) == plain_facts
    told = [r.reason for r in recs if isinstance(r, Problem)]
    assert any("decrypted with the examiner's password" in r for r in told) and not any(PASSWORD in r for r in told)


def test_android_paths() -> None:
    assert android_path("apps/com.whatsapp/db/msgstore.db") == "data/data/com.whatsapp/databases/msgstore.db"
    assert android_path("apps/com.whatsapp/sp/a.xml") == "data/data/com.whatsapp/shared_prefs/a.xml"
    assert android_path("apps/com.whatsapp/r/app_x/y") == "data/data/com.whatsapp/app_x/y"
    assert android_path("apps/com.whatsapp/ef/z.txt") == "data/media/0/Android/data/com.whatsapp/z.txt"
    assert android_path("shared/0/WhatsApp/Media/a.jpg") == "data/media/0/WhatsApp/Media/a.jpg"
    assert android_path("apps/com.whatsapp/zz/a") is None and android_path("other/x") is None


def _hostile_ab(members: list[tarfile.TarInfo], data: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for m in members:
            tf.addfile(m, io.BytesIO(data.get(m.name, b"")) if m.isreg() else None)
    return b"ANDROID BACKUP\n5\n1\nnone\n" + zlib.compress(buf.getvalue())


def test_hostile_and_damaged_backups_are_named(tmp_path: Path, plain_facts: list[Any]) -> None:
    ex = tmp_path / "ex"
    ex.mkdir()

    def info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> tarfile.TarInfo:
        t = tarfile.TarInfo(name)
        t.type, t.size, t.linkname = kind, size, link
        return t

    (ex / "evil.ab").write_bytes(_hostile_ab(
        [info("../../etc/passwd", size=3), info("apps/com.x/f/link", tarfile.SYMTYPE, link="/etc/shadow"),
         info("apps/com.x/f/ok.txt", size=2), info("apps/com.x/f/ok.txt", size=2)],
        {"../../etc/passwd": b"bad", "apps/com.x/f/ok.txt": b"hi"}))
    recs = read_all(ex, "evil.ab", "android-backup")
    why = [p.reason for p in recs if isinstance(p, Problem) and p.severity == "warning"]
    assert any("'../../etc/passwd'" in r and "unsafe" in r for r in why)
    assert any("link" in r and "not a regular file" in r for r in why)
    assert any("a second member" in r for r in why)
    assert not (tmp_path / "etc").exists()
    # cut short: what was read before the cut is kept, the cut is named
    full = ab(tmp_path).read_bytes()
    (ex / "cut.ab").write_bytes(full[: len(full) * 2 // 3])
    recs = read_all(ex, "cut.ab", "android-backup")
    bad = [p for p in recs if isinstance(p, Problem) and p.severity == "error"]
    assert bad and all(p.file == "cut.ab" for p in bad), [p.reason for p in recs if isinstance(p, Problem)]
    for content, match in ((b"ANDROID BACKUP\n9\n1\nnone\n", "version"), (b"ANDROID BACKUP\n5\n7\nnone\n", "compr"),
                           (b"ANDROID BACKUP\n5\n1\nAES-256\n00\n", "cut short")):
        (ex / "h.ab").write_bytes(content)
        with pytest.raises(FormatError, match=f"h.ab: .*{match}"):
            list(AndroidBackup().read(Unit(ex, "h.ab", "android-backup"), ReadOptions()))
    # an encrypted header asking for absurd rounds is refused before any key derivation
    enc = ab(tmp_path / "r", password=PASSWORD).read_bytes().split(b"\n")
    enc[6] = b"2000000000"
    (ex / "r.ab").write_bytes(b"\n".join(enc))
    with pytest.raises(FormatError, match="hostile"):
        list(AndroidBackup().read(Unit(ex, "r.ab", "android-backup"), ReadOptions(extra={"password": PASSWORD})))


def test_whatsapp_folder_on_a_pc_with_its_key(tmp_path: Path, plain_facts: list[Any]) -> None:
    pc = tmp_path / "pc" / "Users" / "lucia" / "Documents"
    android_backup.write_whatsapp_folder(make_view("current"), pc, seed=7, root_key=ROOT_KEY)
    recs = read_all(pc, "WhatsApp/Databases/msgstore.db.crypt15", "whatsapp-crypt", extra={"key": ROOT_KEY.hex()},
                    owner="+34612345678")
    assert facts(recs) == plain_facts
    (ref,) = [r for m in recs if isinstance(m, Message) for r in m.media if r.path]
    assert ref.path == "WhatsApp/Media/WhatsApp Images/IMG-20240301-WA0001.jpg"


def test_ingest_of_a_pc_folder_with_both_backups(tmp_path: Path) -> None:
    """A PC folder holding an encrypted .ab and a WhatsApp folder, found by content among other files."""
    from sqlalchemy import select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    pc = tmp_path / "pc"
    android_backup.write_ab(make_view("current"), pc / "Backups" / "2024-06-01.bin", seed=7, password=PASSWORD)
    android_backup.write_whatsapp_folder(make_view("current"), pc / "Phone copy", seed=7, root_key=ROOT_KEY)
    (pc / "notes.txt").write_text("shopping: bread, milk\n")
    case = Case.init(tmp_path / "case")
    try:
        r = ringtrace.ingest(case, pc, exhibit="EX-PC-1", key=ROOT_KEY.hex(), password=PASSWORD,
                             owner="+34612345678")
        assert r.parse is not None
        assert sorted(f for f, _ in r.parse.units) == ["android-backup", "whatsapp-crypt"]
        with case.engine.connect() as con:
            files = {m.prov_file for m in con.execute(select(S.messages))}
            assert files == {"Backups/2024-06-01.bin#apps/com.whatsapp/db/msgstore.db",
                             "Phone copy/WhatsApp/Databases/msgstore.db.crypt15"}
            media = con.execute(select(S.message_media).where(S.message_media.c.relpath.is_not(None))).all()
            assert len(media) == 2 and len({m.sha256 for m in media}) == 1 and not any(m.declared_only for m in media)
            (emb,) = con.execute(select(S.source_files).where(S.source_files.c.embedded.is_(True))).all()
            assert emb.relpath.startswith("Backups/2024-06-01.bin#shared/0/WhatsApp/Media/")
            assert [p.reason for p in con.execute(select(S.problems).where(S.problems.c.severity == "error"))] == []
        ringtrace.run(case)
        assert ringtrace.verify(case).findings == []
    finally:
        case.close()
    for f in (tmp_path / "case").rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f
