"""The case, its vault, intake, the audit chain and verify."""

from __future__ import annotations

import io
import os
import sqlite3
import stat
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, Table, select

import ringtrace
from ringtrace.case import Case, CaseError
from ringtrace.stages.intake import IntakeError, safe_member_name
from ringtrace.store import db
from ringtrace.store import schema as S


def _rows(case: Case, table: Table) -> list[Row[Any]]:
    with case.engine.connect() as con:
        return list(con.execute(select(table)))


def test_init_creates_migrated_case_and_refuses_twice(tmp_path: Path) -> None:
    c = Case.init(tmp_path / "c", name="Op Test")
    assert db.current_revision(c.engine) == db.head_revision()
    assert c.name == "Op Test"
    assert (tmp_path / "c" / "vault" / "objects").is_dir()
    with pytest.raises(CaseError, match="already a case"):
        Case.init(tmp_path / "c")
    with pytest.raises(CaseError, match="not a ringtrace case"):
        Case.open(tmp_path / "nowhere")


def test_migrations_match_schema(case: Case) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with case.engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), S.metadata)
    assert diff == []


def test_ingest_records_custody_and_is_idempotent(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    (ev / "sub").mkdir(parents=True)
    (ev / "a.txt").write_text("hello")
    (ev / "sub" / "b.bin").write_bytes(b"\x00\x01" * 100)
    r1 = ringtrace.ingest(case, ev, exhibit="EX-001", examiner="Examiner A", timezone="Europe/Madrid")
    r2 = ringtrace.ingest(case, ev, exhibit="EX-009")
    assert r1.added and not r2.added and r2.exhibit == "EX-001"
    srcs = _rows(case, S.sources)
    assert len(srcs) == 1
    s = srcs[0]
    assert (s.exhibit, s.kind, s.examiner, s.timezone, s.file_count, s.mode) == (
        "EX-001", "folder", "Examiner A", "Europe/Madrid", 2, "vault")
    files = {f.relpath: f for f in _rows(case, S.source_files)}
    assert set(files) == {"a.txt", "sub/b.bin"}
    assert files["a.txt"].sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    obj = case.vault.object_path(files["a.txt"].sha256)
    assert obj.read_text() == "hello"
    assert not os.stat(obj).st_mode & stat.S_IWUSR  # vault objects are read-only
    actions = [r.action for r in _rows(case, S.audit_log)]
    assert actions.count("source.ingest") == 1 and "stage.parse" in actions


def test_original_is_never_modified(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "db.sqlite"
    con = sqlite3.connect(ev)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    before = ev.read_bytes(), os.stat(ev).st_mtime_ns
    ringtrace.ingest(case, ev)
    assert (ev.read_bytes(), os.stat(ev).st_mtime_ns) == before


def test_zip_with_traversal_and_links_is_refused_member_by_member(case: Case, tmp_path: Path) -> None:
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../etc/passwd", "x")
        zf.writestr("/abs/path.txt", "x")
        zf.writestr("ok/keep.txt", "kept")
        link = zipfile.ZipInfo("ok/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/shadow")
    r = ringtrace.ingest(case, z, exhibit="EX-Z")
    assert r.files == 1
    joined = "\n".join(r.problems)
    assert "'../../etc/passwd'" in joined and "unsafe member path" in joined
    assert "'/abs/path.txt'" in joined
    assert "symbolic link" in joined
    assert all(p.startswith("evil.zip") for p in r.problems)  # each names the container
    probs = _rows(case, S.problems)
    assert len([p for p in probs if p.stage == "intake"]) == 3
    assert not (tmp_path / "etc").exists()
    files = [f.relpath for f in _rows(case, S.source_files)]
    assert files == ["evil.zip!/ok/keep.txt"]


def test_tar_members_and_nested_zip(case: Case, tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("_chat.txt", "x")
    t = tmp_path / "ffs.tar"
    with tarfile.open(t, "w") as tf:
        for name, data in [("data/a.txt", b"a"), ("exports/WhatsApp Chat - G.zip", inner.getvalue()),
                           ("../escape.txt", b"no")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    r = ringtrace.ingest(case, t)
    rel = sorted(f.relpath for f in _rows(case, S.source_files))
    assert rel == ["data/a.txt", "exports/WhatsApp Chat - G.zip", "exports/WhatsApp Chat - G.zip!/_chat.txt"]
    assert any("unsafe member path" in p for p in r.problems)


def test_safe_member_name() -> None:
    assert safe_member_name("a/./b//c.txt") == "a/b/c.txt"
    assert safe_member_name("a\\..\\b") is None
    assert safe_member_name("C:/x") is None
    assert safe_member_name("x\x00y") is None


def test_safe_member_name_as_purepath_cleans() -> None:
    """The string cleaning gives what the PurePosixPath one gave, on every mix of the hostile pieces."""
    import itertools
    from pathlib import PurePosixPath

    def reference(name: str) -> str | None:
        if not name or "\x00" in name:
            return None
        n = name.replace("\\", "/")
        if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
            return None
        parts = [p for p in PurePosixPath(n).parts if p not in ("", ".")]
        if not parts or any(p == ".." for p in parts):
            return None
        return "/".join(parts)

    pieces = ["a", ".", "..", "", "/", "\\", "...", ".a", "a.", " ", "\x00", "C:", "//", "~"]
    names = ["".join(c) for k in range(1, 5) for c in itertools.product(pieces, repeat=k)]
    answers = [(safe_member_name(n), reference(n)) for n in names]
    wrong = [n for n, (got, want) in zip(names, answers, strict=True) if got != want]
    assert not wrong, wrong[:5]
    assert {a is None for a, _ in answers} == {True, False}


def test_bad_timezone_and_missing_path(case: Case, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(IntakeError, match="not a time zone"):
        ringtrace.ingest(case, tmp_path / "f.txt", timezone="Mars/Olympus")
    with pytest.raises(IntakeError, match="no such file"):
        ringtrace.ingest(case, tmp_path / "missing")


def test_reference_mode_verifies_in_place(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "big"
    ev.mkdir()
    (ev / "image.dd").write_bytes(b"disk" * 1000)
    ringtrace.ingest(case, ev, reference=True)
    assert not list(case.vault.objects.iterdir())  # nothing copied
    assert ringtrace.verify(case).ok
    (ev / "image.dd").write_bytes(b"DISK" * 1000)
    rep = ringtrace.verify(case)
    assert not rep.ok and "altered" in rep.findings[0] and "image.dd" in rep.findings[0]


def test_verify_names_flipped_vault_byte_and_missing_object(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "one.txt").write_text("first evidence file")
    (ev / "two.txt").write_text("second evidence file")
    ringtrace.ingest(case, ev, exhibit="EX-042")
    assert ringtrace.verify(case).ok
    files = {f.relpath: f.sha256 for f in _rows(case, S.source_files)}
    obj = case.vault.object_path(files["one.txt"])
    os.chmod(obj, 0o644)
    data = bytearray(obj.read_bytes())
    data[3] ^= 0x01
    obj.write_bytes(bytes(data))
    case.vault.object_path(files["two.txt"]).unlink()
    rep = ringtrace.verify(case)
    assert not rep.ok
    text = "\n".join(rep.findings)
    assert f"altered: vault object {files['one.txt']} (EX-042:one.txt)" in text
    assert f"missing: vault object {files['two.txt']} (EX-042:two.txt)" in text


def test_audit_is_append_only_and_edits_are_named(case: Case, tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("x")
    ringtrace.ingest(case, tmp_path / "x.txt")
    raw = sqlite3.connect(case.path / "case.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE audit_log SET actor='mallory' WHERE seq=2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM audit_log WHERE seq=2")
    # someone with raw access drops the guard and edits a row: the chain still tells
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute("UPDATE audit_log SET detail=replace(detail, 'x.txt', 'y.txt') WHERE seq=2")
    raw.commit()
    raw.close()
    rep = ringtrace.verify(case)
    assert not rep.ok
    assert any(f.startswith("audit log entry 2 was altered") for f in rep.findings)


def test_cli_verify_exit_code(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ringtrace.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["init", str(tmp_path / "c"), "--name", "Cli"])
    assert res.exit_code == 0, res.output
    (tmp_path / "e.txt").write_text("evidence")
    res = runner.invoke(app, ["ingest", str(tmp_path / "c"), str(tmp_path / "e.txt"), "--exhibit", "EX-7"])
    assert res.exit_code == 0 and "EX-7" in res.output
    assert runner.invoke(app, ["verify", str(tmp_path / "c")]).exit_code == 0
    for obj in (tmp_path / "c" / "vault" / "objects").rglob("*"):
        if obj.is_file():
            os.chmod(obj, 0o644)
            obj.write_bytes(b"tampered")
    res = runner.invoke(app, ["verify", str(tmp_path / "c")])
    assert res.exit_code == 1
