"""Issue 12 through the command line: verify's new checks, vault gc, reparse, the case lock, and output that shows
evidence whole and inert (items 6-8, 10, 12, 14)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from ringtrace.case import Case
from ringtrace.cli import app
from ringtrace.demo import ingest_operation
from ringtrace.lock import case_lock
from ringtrace.store import schema as S

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.output


@pytest.fixture
def case_dir(tiny_operation: Path, tmp_path: Path) -> Path:
    d = tmp_path / "case"
    c = Case.init(d, name="CLI integrity case")
    ingest_operation(c, tiny_operation)
    c.close()
    code, out = _run("run", str(d))
    assert code == 0, out
    return d


def test_verify_prints_the_head_and_catches_an_edited_message_and_a_wrong_anchor(case_dir: Path) -> None:
    code, out = _run("verify", str(case_dir))
    assert code == 0 and "intact" in out and "parse seals" in out
    head = next(line.split()[-1] for line in out.splitlines() if line.startswith("audit head "))
    assert _run("verify", str(case_dir), "--anchor", head)[0] == 0
    code, out = _run("verify", str(case_dir), "--anchor", head.split(":")[0] + ":" + "0" * 64)
    assert code == 1 and "rewritten" in out
    assert _run("verify", str(case_dir), "--anchor", "not-a-head")[0] == 2
    with Case.open(case_dir) as c, c.begin() as con:
        mid = con.execute(select(S.messages.c.id).order_by(S.messages.c.id).limit(1)).scalar_one()
        con.execute(update(S.messages).where(S.messages.c.id == mid).values(text="edited after the parse"))
    code, out = _run("verify", str(case_dir), "--deep")
    assert code == 1 and "records derived from" in out and "edited after the parse" in out


def test_vault_gc_removes_orphans_and_says_so(case_dir: Path) -> None:
    with Case.open(case_dir) as c:
        orphan = c.vault.put_bytes(b"left by an ingest killed part-way")
    code, out = _run("verify", str(case_dir))
    assert code == 0 and f"orphan: vault object {orphan.sha256}" in out
    code, out = _run("vault", "gc", str(case_dir), "--dry-run")
    assert code == 0 and "would remove 1 objects" in out
    code, out = _run("vault", "gc", str(case_dir))
    assert code == 0 and "removed 1 objects" in out
    assert "orphan:" not in _run("verify", str(case_dir))[1]


def test_reparse_refuses_an_unknown_exhibit_or_format_and_reparses_a_source(case_dir: Path) -> None:
    code, out = _run("reparse", str(case_dir), "EX-999")
    assert code == 2 and "no exhibit" in out
    code, out = _run("reparse", str(case_dir), "EX-001", "--format", "foo")
    assert code == 2 and "not a known source format" in out
    code, out = _run("reparse", str(case_dir), "EX-001", "--key", str(case_dir / "no-such.key"))
    assert code == 2 and "--key" in out
    code, out = _run("reparse", str(case_dir), "EX-001")
    assert code == 0 and "parsed again" in out
    assert _run("run", str(case_dir))[0] == 0
    code, out = _run("verify", str(case_dir))
    assert code == 0, out
    with Case.open(case_dir) as c, c.engine.connect() as con:
        acts = [r[0] for r in con.execute(select(S.audit_log.c.action).order_by(S.audit_log.c.seq))]
    assert "source.reparse" in acts


def test_demo_with_a_bad_scale_is_refused_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "d" / "case").mkdir(parents=True)
    (tmp_path / "d" / "case" / "keep.txt").write_text("not the demo's")
    code, out = _run("demo", str(tmp_path / "d"), "--scale", "huge")
    assert code == 2 and "error:" in out and "Traceback" not in out
    assert (tmp_path / "d" / "case" / "keep.txt").exists()


def test_alias_output_keeps_colons_and_tables_are_not_cut(case_dir: Path) -> None:
    with Case.open(case_dir) as c, c.engine.connect() as con:
        accts = [f"{r.platform}:{r.kind}:{r.value}" for r in con.execute(
            select(S.accounts).where(S.accounts.c.kind == "phone").order_by(S.accounts.c.id).limit(2))]
    code, out = _run("alias", str(case_dir), accts[0], accts[1], "--by", "A. Examiner", "--reason", "same person")
    assert code == 0 and accts[0] in out and accts[1] in out and "\N{BLACK TELEPHONE}" not in out
    code, out = _run("suspects", str(case_dir))
    assert code == 0 and "\N{HORIZONTAL ELLIPSIS}" not in out  # no value cut to fit 80 columns


def test_deconflict_prints_rows_in_words(case_dir: Path, tiny_operation: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    c = Case.init(other, name="other agency")
    ingest_operation(c, tiny_operation)
    c.close()
    assert _run("run", str(other))[0] == 0
    code, out = _run("deconflict", str(case_dir), str(other))
    assert code == 0 and "other agency:" in out
    assert "{'" not in out and "['" not in out


def test_control_characters_in_evidence_are_made_visible_in_csv_and_reports() -> None:
    from ringtrace.dissemination.package import _cell
    from ringtrace.dissemination.report import _env

    assert "\x1b" not in _cell("\x1b[2Jcleared") and "\\x1b[2Jcleared" in _cell("\x1b[2Jcleared")
    html = _env().from_string("<p>{{ x }}</p>").render(x="\x1b]0;title\x07<b>")
    assert "\x1b" not in html and "\x07" not in html and "\\x1b" in html and "&lt;b&gt;" in html


def _hold(path: str, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    with case_lock(Path(path), command="ringtrace run other-examiner"):
        ready.set()
        time.sleep(60)


def test_a_second_writer_gets_a_plain_message_naming_the_holder(case_dir: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    p = ctx.Process(target=_hold, args=(str(case_dir), ready))
    p.start()
    assert ready.wait(10)
    try:
        res = subprocess.run([sys.executable, "-c", "from ringtrace.cli import main; main()", "run", str(case_dir)],
                             capture_output=True, text=True, timeout=120)
    finally:
        os.kill(p.pid, 9)
        p.join()
    assert res.returncode == 3, res.stderr
    assert "is being written by pid" in res.stderr and "ringtrace run other-examiner" in res.stderr
    assert "Traceback" not in res.stderr
