"""``run``'s text, match and analyze as one step: text's OCR in the executor's workers while match and analyze
run in the main process, its results stored after. The case is the one the stages give one after another; a
crash in analyze with OCR in flight leaves a case the next run completes; a failed OCR job is a named problem."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import ringtrace
from ringtrace.case import Case
from ringtrace.compute import Executor, make_executor
from ringtrace.demo import ingest_operation
from ringtrace.dissemination.export import build_export
from ringtrace.documents.settings import configure
from ringtrace.stages import noop_progress
from ringtrace.stages import run as run_mod
from ringtrace.stages import text as text_mod
from ringtrace.store import schema as S

pytest.importorskip("pytesseract", reason="the documents extra is not installed (pip install 'ringtrace[documents]')")
pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None,
                                reason="tesseract is not installed (apt-get install tesseract-ocr)")

VOLATILE = {"generated_at", "ingested_at", "at", "at_noted", "imported_at"}  # when this run happened


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three small scans of typed notes: OCR'd in a worker each."""
    from ringtrace.synth.formats.notes import RenderStyle, compose_page, encode, render_page_image

    out = tmp_path_factory.mktemp("paper")
    for i in range(3):
        page = compose_page(random.Random(10 + i), "GB", set(), n_lines=3)
        st = RenderStyle(medium="scan", turn=0, skew=0.5, size=30, page_px=(900, 600), noise=3.0)
        (out / f"scan_{i}.png").write_bytes(encode(render_page_image(page, st, seed=i), "scan"))
    return out


def _case(where: Path, op: Path, paper: Path, langs: str = "eng") -> Case:
    case = Case.init(where, actor="overlap")
    ingest_operation(case, op)
    ringtrace.ingest(case, paper, exhibit="EX-PAPER", examiner="overlap")
    configure(case, "EX-PAPER", paper=True, langs=langs)
    return case


def _one_after_another(case: Case, ex: Executor) -> None:
    """The order before the overlap: every stage done before the next starts."""
    from ringtrace.stages.analyze import analyze_stage
    from ringtrace.stages.match import match_stage
    from ringtrace.stages.text import text_stage

    res = run_mod.RunResult()
    run_mod._parse(case, ex, noop_progress, res)
    run_mod._hash(case, ex, noop_progress, res)
    text_stage(case, ex)
    match_stage(case)
    analyze_stage(case)
    run_mod._notes(case, ex, noop_progress, res)
    run_mod._views(case, ex, noop_progress, res)


def _strip(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def _tables(case: Case) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in rowid order (ids included), wall-clock columns and the audit log aside; the case's
    own folder, which a media error names, as one word."""
    con = sqlite3.connect(case.path / "case.sqlite")
    here = str(case.path)
    con.create_function("here", 1, lambda v: v.replace(here, "CASE") if isinstance(v, str) else v,
                        deterministic=True)
    try:
        out = {}
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
            if t in ("audit_log", "alembic_version", "case_info") or t.startswith("messages_fts"):
                continue
            cols = ", ".join(f'here("{r[1]}")' for r in con.execute(f'PRAGMA table_info("{t}")')
                             if r[1] not in VOLATILE)
            order = "sha256" if t == "media" else "rowid"  # media rows are stored as their hashing finished
            out[t] = con.execute(f'SELECT {cols} FROM "{t}" ORDER BY {order}').fetchall()
        return out
    finally:
        con.close()


def _whole(case: Case) -> tuple[dict[str, list[tuple[Any, ...]]], str]:
    """The tables and the export with every message (as JSON, the case's folder as one word)."""
    export = json.dumps(_strip(build_export(case, with_messages=True)), default=str, ensure_ascii=False)
    return _tables(case), export.replace(json.dumps(str(case.path))[1:-1], "CASE")


@pytest.fixture(scope="module")
def reference(tiny_operation: Path, paper: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[dict[str, list[tuple[Any, ...]]], str]:
    case = _case(tmp_path_factory.mktemp("seq") / "case", tiny_operation, paper)
    try:
        _one_after_another(case, make_executor("serial"))
        return _whole(case)
    finally:
        case.close()


class _Recording:
    """A local pool of 2 that says when work is handed to it."""

    def __init__(self, events: list[str]) -> None:
        self._ex = make_executor("local:2")
        self.name = self._ex.name
        self.events = events

    def map(self, fn: Any, items: Any, chunksize: int = 16) -> Iterator[Any]:
        work = list(items)
        self.events.append(f"map {len(work)} {getattr(work[0], 'method', '?') if work else ''}")
        return self._ex.map(fn, work, chunksize=chunksize)

    def start(self) -> None:
        self._ex.start()

    def close(self) -> None:
        self._ex.close()


def _spy_stages(monkeypatch: pytest.MonkeyPatch, events: list[str], crash_in_analyze: bool = False) -> None:
    real_match, real_analyze, real_store = run_mod.match_stage, run_mod.analyze_stage, text_mod._store

    def match(case: Case, progress: Any = None) -> int:
        events.append("match")
        return real_match(case, progress)

    def analyze(case: Case, progress: Any = None) -> Any:
        with case.engine.connect() as con:  # OCR handed out, nothing of it stored yet
            ocr = con.execute(select(func.count()).select_from(S.text_reads)
                              .where(S.text_reads.c.method == "ocr")).scalar()
        events.append(f"analyze (ocr stored: {ocr})")
        if crash_in_analyze:
            raise RuntimeError("power cut in analyze")
        return real_analyze(case, progress)

    def store(case: Case, results: list[Any], res: Any) -> None:
        if results:
            events.append(f"store {results[0].method}")
        real_store(case, results, res)

    monkeypatch.setattr(run_mod, "match_stage", match)
    monkeypatch.setattr(run_mod, "analyze_stage", analyze)
    monkeypatch.setattr(text_mod, "_store", store)


def test_ocr_runs_beside_match_and_analyze_and_the_case_is_the_one_after_another(
        tiny_operation: Path, paper: Path, tmp_path: Path, reference: tuple[Any, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert [s.name for s in run_mod.STEPS] == ["parse", "hash", "text+match+analyze", "notes", "views"]
    case = _case(tmp_path / "case", tiny_operation, paper)
    events: list[str] = []
    ex = _Recording(events)
    _spy_stages(monkeypatch, events)
    try:
        ringtrace.run(case, executor=ex)
        got = _whole(case)
    finally:
        ex.close()
        case.close()
    # the OCR jobs handed to the pool before match, stored only once analyze is done
    ocr_at = events.index("map 3 ocr")
    assert events[ocr_at + 1:ocr_at + 4] == ["match", "analyze (ocr stored: 0)", "store ocr"], events
    tables, export = got
    assert sum(1 for r in tables["text_reads"] if "ocr" in r and "read" in r) == 3
    assert tables["text_lines"] and tables["persons"] and tables["memberships"]  # something to compare
    differ = [t for t in reference[0] if reference[0][t] != tables.get(t)]
    assert not differ and tables.keys() == reference[0].keys()
    assert export == reference[1]


def test_a_crash_in_analyze_with_ocr_in_flight_is_completed_by_the_next_run(
        tiny_operation: Path, paper: Path, tmp_path: Path, reference: tuple[Any, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case(tmp_path / "case", tiny_operation, paper)
    events: list[str] = []
    ex = _Recording(events)
    try:
        with monkeypatch.context() as m:
            _spy_stages(m, events, crash_in_analyze=True)
            with pytest.raises(RuntimeError, match="power cut"):
                ringtrace.run(case, executor=ex)
        assert "map 3 ocr" in events and "store ocr" not in events
        with case.engine.connect() as con:  # nothing of the OCR stored; the documents read before it are
            assert con.execute(select(func.count()).select_from(S.text_reads)
                               .where(S.text_reads.c.method == "ocr")).scalar() == 0
            assert con.execute(select(func.count()).select_from(S.persons)).scalar() == 0
        res = ringtrace.run(case, executor=ex)  # the same pool: what was in flight did not jam it
        assert res.text.pictures == 3
        tables, export = _whole(case)
    finally:
        ex.close()
        case.close()
    differ = [t for t in reference[0] if reference[0][t] != tables.get(t)]
    assert not differ and export == reference[1]


def test_a_failed_ocr_job_in_flight_is_a_named_problem(tiny_operation: Path, paper: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import ringtrace.media.ocr as ocr

    with monkeypatch.context() as m:  # language data set while Tesseract was elsewhere, not installed here
        m.setattr(ocr, "tesseract_path", lambda: None)
        case = _case(tmp_path / "case", tiny_operation, paper, langs="zzz")
    ex = make_executor("local:2")
    try:
        res = ringtrace.run(case, executor=ex)
        with case.engine.connect() as con:
            probs = [(p.stage, p.file, p.reason) for p in con.execute(
                select(S.problems).where(S.problems.c.stage == "text").order_by(S.problems.c.id))]
            reads = {r.status for r in con.execute(select(S.text_reads.c.status)
                                                   .where(S.text_reads.c.method == "ocr"))}
            persons = con.execute(select(func.count()).select_from(S.persons)).scalar()
    finally:
        ex.close()
        case.close()
    assert res.text.failed == 3 and reads == {"failed"} and persons  # the run went on: analysis done
    assert sorted(f for _, f, _ in probs) == ["scan_0.png", "scan_1.png", "scan_2.png"]
    assert all("picture not read" in r and "zzz" in r for _, _, r in probs)
