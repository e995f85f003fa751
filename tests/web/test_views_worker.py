"""The views stage computes the views that read the case alone in a worker process beside the export
(``stages.views``): the stored file is the one the one-process path stores, and the worker's failure is the stage's,
with nothing stamped and no half-built index left behind."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ringtrace.dissemination import precomputed as P


def _copy(web_case: Path, to: Path) -> Path:
    shutil.copytree(web_case, to)
    return to


def _bodies(case_path: Path) -> list[tuple[str, bytes]]:
    db = sqlite3.connect(P.path_of(case_path))
    try:
        return [(str(n), bytes(b)) for n, b in db.execute("SELECT name, body FROM views ORDER BY rowid")]
    finally:
        db.close()


def _last_entry(case: Any) -> dict[str, Any]:
    from ringtrace.store import schema as S

    with case.engine.connect() as con:
        d = con.execute(select(S.audit_log.c.detail).where(S.audit_log.c.action == "stage.views")
                        .order_by(S.audit_log.c.seq.desc()).limit(1)).scalar()
    return dict(d if isinstance(d, dict) else json.loads(d))


def test_worker_stores_the_same_views_as_one_process(web_case: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export
    from ringtrace.stages import views as stage

    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(stage, "_in_worker", _spy_in_worker(stage, calls))
    out: dict[bool, tuple[list[tuple[str, bytes]], dict[str, Any]]] = {}
    for worker in (True, False):
        with Case.open(_copy(web_case, tmp_path / f"w{worker}"), actor="tester") as case:
            # the export's generated_at is the only thing that moves between two builds: fixed for the comparison
            monkeypatch.setattr(stage, "build_export", lambda c: {**build_export(c), "generated_at": "fixed"})
            detail = stage.views_stage(case, worker=worker)
            assert detail["stamped"]
            out[worker] = _bodies(case.path), _last_entry(case)
    assert calls == [tuple(n for n in P.VIEWS if n in P.CASE_ONLY)]  # the worker path did run in a worker
    assert [n for n, _ in out[True][0]] == ["export", *P.VIEWS]
    assert out[True][0] == out[False][0]  # byte for byte, every view
    assert out[True][1]["computed"] == out[False][1]["computed"]
    assert any(e["action"] == "analysis.series" for e in out[True][1]["computed"])  # the worker's entries came back
    assert out[True][1]["views"] == out[False][1]["views"]
    assert list(out[True][1]["seconds"]) == list(out[False][1]["seconds"])
    assert multiprocessing.active_children() == []


def _spy_in_worker(stage: Any, calls: list[tuple[str, ...]]) -> Any:
    real = stage._in_worker

    def spy(case: Any, names: tuple[str, ...]) -> Any:
        calls.append(names)
        return real(case, names)

    return spy


def _broken(*_a: Any) -> Any:
    raise RuntimeError("broken series")


@pytest.mark.parametrize("how", ["view", "database"])
def test_a_worker_error_fails_the_stage_and_leaves_nothing(web_case: Path, tmp_path: Path, how: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """``view``: a view raising in the worker (forked, to carry the patched view there); ``database``: a spawned
    worker that cannot open its database. Either way the stage raises, stamps nothing, joins the index thread and
    removes its file, and the worker process is gone."""
    from ringtrace.case import Case
    from ringtrace.dissemination import textsearch
    from ringtrace.stages import views as stage

    if how == "view":
        monkeypatch.setattr(stage, "START_METHOD", "fork")
        monkeypatch.setitem(P.VIEWS, "series", _broken)
        match = "broken series"
    else:
        missing = tmp_path / "no-such-dir" / "case.sqlite"
        monkeypatch.setattr(stage, "_worker_url", lambda case: f"sqlite:///{missing}")
        match = "unable to open database"
    with Case.open(_copy(web_case, tmp_path / "case"), actor="tester") as case:
        case.log("override.country", {"subject": "P0001", "country": "ES", "by": "tester"})
        fp = P.fingerprint(case)
        before = sorted(p.name for p in case.path.iterdir())
        with pytest.raises(Exception, match=match):
            stage.views_stage(case)
        assert P.Stored.open(case.path, fp) is None
        assert textsearch._stamp(textsearch.index_path(case.path)) != fp
        assert sorted(p.name for p in case.path.iterdir()) == before
    assert multiprocessing.active_children() == []


def test_the_worker_refuses_to_write(web_case: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.stages.views import _Reading

    with Case.open(web_case) as case:
        ro = _Reading(case)
        ro.log("analysis.series", {"series": 1})  # collected, not written
        assert ro.entries == [{"action": "analysis.series", "series": 1}]
        with pytest.raises(RuntimeError, match="only reads"), ro.begin():
            pass


def test_a_worker_started_ahead_serves_the_stage_with_the_same_views(web_case: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``prestart`` (``run`` calls it before notes): the stage takes that worker, not a new one, and stores the
    views a worker started by the stage stores; none is left running."""
    from ringtrace.case import Case
    from ringtrace.dissemination.export import build_export
    from ringtrace.stages import views as stage

    monkeypatch.setattr(stage, "build_export", lambda c: {**build_export(c), "generated_at": "fixed"})
    bodies = []
    for ahead in (True, False):
        with Case.open(_copy(web_case, tmp_path / f"a{ahead}"), actor="tester") as case:
            if ahead:
                stage.prestart(case)
                started = stage._STARTED[str(case.path)]
                stage.prestart(case)  # once per case
                assert stage._STARTED[str(case.path)] is started
            made: list[object] = []
            real = stage.ProcessPoolExecutor
            monkeypatch.setattr(stage, "ProcessPoolExecutor", lambda *a, **k: made.append(1) or real(*a, **k))
            assert stage.views_stage(case)["stamped"]
            monkeypatch.setattr(stage, "ProcessPoolExecutor", real)
            assert made == ([] if ahead else [1]) and str(case.path) not in stage._STARTED
            bodies.append(_bodies(case.path))
    assert bodies[0] == bodies[1]
    assert multiprocessing.active_children() == []


def test_run_leaves_no_worker_started_ahead_when_a_step_fails(web_case: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import ringtrace.stages.run as run_mod
    from ringtrace.case import Case
    from ringtrace.stages import views as stage

    def failing_notes(*_a: Any, **_k: Any) -> None:
        assert str(case.path) in stage._STARTED  # started before notes ran
        raise RuntimeError("notes failed")

    monkeypatch.setattr(run_mod, "notes_stage", failing_notes)
    with Case.open(_copy(web_case, tmp_path / "case"), actor="tester") as case:
        with pytest.raises(RuntimeError, match="notes failed"):
            run_mod.run(case)
        assert str(case.path) not in stage._STARTED
    assert multiprocessing.active_children() == []


def test_one_process_views_reap_a_worker_started_ahead(web_case: Path, tmp_path: Path) -> None:
    from ringtrace.case import Case
    from ringtrace.stages import views as stage

    with Case.open(_copy(web_case, tmp_path / "case"), actor="tester") as case:
        stage.prestart(case)
        assert stage.views_stage(case, worker=False)["stamped"]
        assert str(case.path) not in stage._STARTED
    assert multiprocessing.active_children() == []
