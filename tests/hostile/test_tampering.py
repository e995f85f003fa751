"""What verify must catch beyond the vault objects: the audit head kept outside the table, staged trees, parse
seals, orphans; and the case lock that keeps two writers apart."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

import ringtrace
from ringtrace import audit
from ringtrace.audit import AuditHead
from ringtrace.case import Case
from ringtrace.lock import CaseLocked, case_lock, holder
from ringtrace.seal import describe_difference, seal_source, source_lines
from ringtrace.store import schema as S
from ringtrace.vaultcheck import check_trees, find_orphans, remove_orphans


def _built(tmp_path: Path, tiny_operation: Path) -> Case:
    from ringtrace.demo import ingest_operation

    case = Case.init(tmp_path / "case", name="t", actor="tester")
    ingest_operation(case, tiny_operation)
    ringtrace.run(case)
    return case


def test_audit_head_is_written_outside_the_table_after_each_commit(case: Case) -> None:
    head = audit.read_head(case.path)
    with case.engine.connect() as con:
        assert head == audit.current_head(con)
    case.log("test.entry", {"n": 1})
    after = audit.read_head(case.path)
    assert after is not None and head is not None and after.seq == head.seq + 1


def test_a_rolled_back_entry_does_not_move_the_head(case: Case) -> None:
    before = audit.read_head(case.path)
    with pytest.raises(RuntimeError), case.begin() as con:
        case.log("test.entry", {"n": 1}, con)
        raise RuntimeError("abort")
    assert audit.read_head(case.path) == before


def test_truncation_and_a_rewritten_chain_are_caught_against_the_head(case: Case) -> None:
    for i in range(3):
        case.log("test.entry", {"n": i})
    head = audit.read_head(case.path)
    assert head is not None
    with case.engine.connect() as con:
        assert audit.check_head(con, head, "the head file") == []
    # an attacker drops the triggers and deletes the last entries: the chain itself still verifies
    with case.begin() as con:
        con.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        con.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        for t in con.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'")).scalars().all():
            con.execute(text(f'DROP TRIGGER "{t}"'))
        con.execute(text(f"DELETE FROM audit_log WHERE seq > {head.seq - 2}"))
    with case.engine.connect() as con:
        assert audit.verify_chain(con) == []
        found = audit.check_head(con, head, "the head file")
    assert found and "truncated" in found[0]
    # a rewritten last entry (a fresh, self-consistent chain) differs from the head too
    with case.begin() as con:
        last = audit.current_head(con)
        assert last is not None
        con.execute(text(f"UPDATE audit_log SET hash = '{'f' * 64}' WHERE seq = {last.seq}"))
    with case.engine.connect() as con:
        found = audit.check_head(con, last, "an anchor")
    assert found and "rewritten" in found[0]


def test_audit_head_parses_from_its_printed_form() -> None:
    h = AuditHead(12, "a" * 64)
    assert AuditHead.parse(str(h)) == h
    with pytest.raises(ValueError):
        AuditHead.parse("12:nothex")


def test_seal_names_an_edited_deleted_or_planted_record(tmp_path: Path, tiny_operation: Path) -> None:
    case = _built(tmp_path, tiny_operation)
    with case.engine.connect() as con:
        sid = con.execute(select(S.messages.c.source_id).limit(1)).scalar_one()
        before = seal_source(con, sid)
        lines = source_lines(con, sid)
    with case.begin() as con:
        mid = con.execute(select(S.messages.c.id).where(S.messages.c.source_id == sid).limit(1)).scalar_one()
        con.execute(update(S.messages).where(S.messages.c.id == mid).values(text="planted words"))
    with case.engine.connect() as con:
        after = seal_source(con, sid)
        diff = describe_difference(lines, source_lines(con, sid))
    assert before.differing_tables(after) == ["message_media", "messages"] or \
        before.differing_tables(after) == ["messages"]
    assert any(d.startswith("messages: edited record at ") and "-> 'planted words'" in d for d in diff), diff
    case.close()


def test_replaced_tree_file_and_orphans_are_found_and_collected(tmp_path: Path, tiny_operation: Path) -> None:
    case = _built(tmp_path, tiny_operation)
    checked, findings = check_trees(case)
    assert checked > 0 and findings == []
    with case.engine.connect() as con:
        src = con.execute(select(S.sources).where(S.sources.c.mode == "vault").limit(1)).one()
        rel = con.execute(select(S.source_files.c.relpath).where(S.source_files.c.source_id == src.id)
                          .where(S.source_files.c.embedded.is_(False)).limit(1)).scalar_one()
    p = case.vault.tree(src.sha256) / rel
    p.unlink()
    p.write_bytes(b"replaced content")
    (case.vault.tree(src.sha256) / "planted.txt").write_bytes(b"x")
    _, findings = check_trees(case)
    assert any(f.startswith("altered:") and rel in f for f in findings)
    assert any(f.startswith("planted:") and "planted.txt" in f for f in findings)
    # orphans: an object and a temporary file that nothing records (as a kill -9 during ingest leaves)
    orphan = case.vault.put_bytes(b"copied, then the ingest was killed")
    (case.vault.tmp / "tmpabc").write_bytes(b"half a copy")
    found = find_orphans(case)
    assert [s for s, _ in found.objects] == [orphan.sha256] and found.temporary == ["tmpabc"]
    removed = remove_orphans(case)
    assert removed.objects == found.objects and not case.vault.has(orphan.sha256)
    assert not find_orphans(case)
    with case.engine.connect() as con:
        gc = con.execute(select(S.audit_log.c.detail).where(S.audit_log.c.action == "vault.gc")).scalar_one()
    assert orphan.sha256 in gc
    case.close()


def _hold(path: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    with case_lock(Path(path), command="ringtrace run test"):
        ready.set()
        time.sleep(seconds)


def test_a_second_writer_is_told_who_holds_the_case_and_a_dead_holder_frees_it(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    p = ctx.Process(target=_hold, args=(str(tmp_path), 30, ready))
    p.start()
    assert ready.wait(10)
    try:
        who = holder(tmp_path)
        assert who is not None and f"pid {p.pid}" in who and "ringtrace run test" in who
        with pytest.raises(CaseLocked, match=f"pid {p.pid}"), case_lock(tmp_path):
            pass
    finally:
        os.kill(p.pid, 9)  # killed: the kernel drops its lock, nothing stale is left behind
        p.join()
    with case_lock(tmp_path):
        with case_lock(tmp_path):  # re-entrant within one process
            pass
    assert holder(tmp_path) is None


def test_the_second_writer_can_wait(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    p = ctx.Process(target=_hold, args=(str(tmp_path), 1.0, ready))
    p.start()
    assert ready.wait(10)
    t = time.monotonic()
    with case_lock(tmp_path, wait=20):
        assert time.monotonic() - t > 0.3
    p.join()


# ---- verify, end to end ------------------------------------------------------------------------------------


def _drop_triggers(con) -> None:  # type: ignore[no-untyped-def]
    for t in con.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'")).scalars().all():
        con.execute(text(f'DROP TRIGGER "{t}"'))


@pytest.fixture
def built(tmp_path: Path, tiny_operation: Path):  # type: ignore[no-untyped-def]
    case = _built(tmp_path, tiny_operation)
    yield case
    case.close()


def test_verify_of_an_untouched_case_is_intact_and_checks_seals_and_trees(built: Case) -> None:
    rep = ringtrace.verify(built)
    assert rep.ok, rep.findings
    assert rep.seals_checked >= 5 and rep.tree_files_checked > 0 and rep.head is not None
    deep = ringtrace.verify(built, deep=True)
    assert deep.ok, deep.findings
    assert deep.sources_reparsed == rep.seals_checked


def test_verify_catches_deleted_last_audit_rows(built: Case) -> None:
    with built.begin() as con:
        _drop_triggers(con)
        con.execute(text("DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 3 FROM audit_log)"))
    rep = ringtrace.verify(built)
    assert any("truncated" in f for f in rep.findings), rep.findings


def test_verify_catches_a_wholly_deleted_audit_log(built: Case) -> None:
    with built.begin() as con:
        _drop_triggers(con)
        con.execute(text("DELETE FROM audit_log"))
    rep = ringtrace.verify(built)
    assert any("truncated" in f and "empty" in f for f in rep.findings), rep.findings


def test_verify_catches_deleted_source_rows(built: Case) -> None:
    with built.engine.connect() as con:  # the captures: a source whose rows sit in these four tables only
        src = con.execute(select(S.sources).where(S.sources.c.exhibit == "EX-CAP")).one()
    with built.begin() as con:
        con.execute(text("PRAGMA foreign_keys=OFF"))
        for t in ("problems", "indicators", "pages", "source_files"):
            con.execute(text(f"DELETE FROM {t} WHERE source_id = {src.id}"))
        con.execute(text(f"DELETE FROM sources WHERE id = {src.id}"))
    rep = ringtrace.verify(built)
    assert any(f.startswith("deleted: source") and src.exhibit in f for f in rep.findings), rep.findings


def test_verify_catches_deleted_source_files_rows(built: Case) -> None:
    with built.engine.connect() as con:
        sid, exhibit = con.execute(select(S.sources.c.id, S.sources.c.exhibit).order_by(S.sources.c.id)).first()
    with built.begin() as con:
        con.execute(text(f"DELETE FROM source_files WHERE id = (SELECT min(id) FROM source_files WHERE "
                         f"source_id = {sid})"))
    rep = ringtrace.verify(built)
    assert any(exhibit in f and "source_files" in f for f in rep.findings), rep.findings


def test_verify_names_the_source_of_an_edited_message_and_deep_names_the_record(built: Case) -> None:
    with built.engine.connect() as con:
        mid, sid = con.execute(select(S.messages.c.id, S.messages.c.source_id).order_by(S.messages.c.id)).first()
        exhibit = con.execute(select(S.sources.c.exhibit).where(S.sources.c.id == sid)).scalar_one()
    with built.begin() as con:
        con.execute(update(S.messages).where(S.messages.c.id == mid).values(text="an edited message"))
    rep = ringtrace.verify(built)
    assert any(f.startswith(f"altered: records derived from {exhibit}") and "messages" in f
               for f in rep.findings), rep.findings
    deep = ringtrace.verify(built, deep=True)
    assert any(f.startswith(f"{exhibit}: messages: edited record") and "'an edited message'" in f
               for f in deep.findings), deep.findings


def test_verify_catches_a_replaced_tree_file(built: Case) -> None:
    with built.engine.connect() as con:
        src = con.execute(select(S.sources).where(S.sources.c.mode == "vault").order_by(S.sources.c.id)).first()
        rel = con.execute(select(S.source_files.c.relpath).where(S.source_files.c.source_id == src.id)
                          .where(S.source_files.c.embedded.is_(False)).order_by(S.source_files.c.relpath)).first()[0]
    p = built.vault.tree(src.sha256) / rel
    p.unlink()
    p.write_bytes(b"not the evidence")
    rep = ringtrace.verify(built)
    assert any(f.startswith("altered:") and f"{src.exhibit}:{rel}" in f for f in rep.findings), rep.findings


def test_verify_against_an_anchor(built: Case) -> None:
    with built.engine.connect() as con:
        head = audit.current_head(con)
    assert head is not None
    assert ringtrace.verify(built, anchor=head).ok
    wrong = AuditHead(head.seq, "0" * 64)
    assert any("rewritten" in f for f in ringtrace.verify(built, anchor=wrong).findings)
    later = AuditHead(head.seq + 50, head.hash)
    assert any("truncated" in f for f in ringtrace.verify(built, anchor=later).findings)


def test_ingest_and_run_refuse_a_case_another_process_is_writing(tmp_path: Path, tiny_operation: Path) -> None:
    case = Case.init(tmp_path / "case", name="t", actor="tester")
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    p = ctx.Process(target=_hold, args=(str(case.path), 30, ready))
    p.start()
    assert ready.wait(10)
    try:
        exhibit = next(d for d in sorted((tiny_operation / "devices").iterdir()) if d.is_dir())
        with pytest.raises(CaseLocked, match="ringtrace run test"):
            ringtrace.ingest(case, exhibit, exhibit="EX-001")
        with pytest.raises(CaseLocked):
            ringtrace.run(case)
        with case.engine.connect() as con:
            assert con.execute(select(S.sources)).first() is None  # nothing stored by the refused writer
    finally:
        os.kill(p.pid, 9)
        p.join()
    ringtrace.ingest(case, exhibit, exhibit="EX-001")  # the holder died: the case is free again
    case.close()


def test_concurrent_audit_writers_never_collide_and_the_chain_holds(case: Case) -> None:
    """Two processes' worth of writers (a re-analysis and page views in the web app) append to one chain."""
    import threading

    errors: list[BaseException] = []

    def writer(n: int) -> None:
        c = Case.open(case.path, actor=f"writer{n}")
        try:
            for i in range(40):
                c.log("test.concurrent", {"writer": n, "i": i})
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with case.engine.connect() as con:
        assert audit.verify_chain(con) == []
        n = con.execute(select(S.audit_log.c.seq).where(S.audit_log.c.action == "test.concurrent")).all()
    assert len(n) == 120
