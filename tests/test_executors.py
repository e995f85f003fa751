"""The same case whatever runs the work: serial, a local process pool or a Dask cluster of worker processes
give identical records, seals and exports (timing lives in bench/, not here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import ringtrace
from ringtrace.case import Case
from ringtrace.compute import Executor, make_executor
from ringtrace.dissemination.export import build_export
from ringtrace.seal import seal_source
from ringtrace.stages.intake import ingest
from ringtrace.store import schema as S
from ringtrace.synth.operation import write_operation


@pytest.fixture(scope="module")
def operation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exec-op")
    write_operation(out, seed=4, scale="tiny")
    return out


VOLATILE = {"generated_at", "ingested_at"}  # wall-clock times of this run, not derived from the evidence


def _strip(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def _run_case(op: Path, where: Path, executor: Executor) -> tuple[dict[str, Any], dict[int, Any]]:
    """Ingest every exhibit without parsing, then let ``run`` parse (and hash) through ``executor``."""
    case = Case.init(where, actor="exec")
    try:
        manifest = json.loads((op / "operation.json").read_text(encoding="utf-8"))
        for ex in manifest["exhibits"]:
            ingest(case, op / ex["path"], exhibit=ex["exhibit"], timezone=ex.get("timezone", "UTC"),
                   owner=ex.get("owner"), region=ex.get("region"), seizure_country=ex.get("seizure_country"),
                   examiner="exec", parse=False)
        res = ringtrace.run(case, executor=executor)
        assert len(res.parsed) == len(manifest["exhibits"])
        with case.engine.connect() as con:
            sids = [r[0] for r in con.execute(select(S.sources.c.id).order_by(S.sources.c.id))]
            seals = {sid: seal_source(con, sid).as_detail() for sid in sids}
        return _strip(build_export(case, with_messages=True)), seals
    finally:
        case.close()


@pytest.fixture(scope="module")
def serial(operation: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[int, Any]]:
    return _run_case(operation, tmp_path_factory.mktemp("serial") / "case", make_executor("serial"))


def test_serial_parse_has_work_to_compare(serial: tuple[dict[str, Any], dict[int, Any]]) -> None:
    export, seals = serial
    assert len(seals) > 1  # several exhibits, so a pool really parses them side by side
    assert sum(sum(s["counts"].values()) for s in seals.values()) > 0
    assert export["sources"]


def test_local_pool_gives_the_serial_case(operation: Path, tmp_path: Path,
                                          serial: tuple[dict[str, Any], dict[int, Any]]) -> None:
    ex = make_executor("local:2")
    try:
        got = _run_case(operation, tmp_path / "case", ex)
    finally:
        ex.close()
    assert got[1] == serial[1]
    assert got[0] == serial[0]


def test_dask_cluster_of_processes_gives_the_serial_case(operation: Path, tmp_path: Path,
                                                         serial: tuple[dict[str, Any], dict[int, Any]]) -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    cluster_cls: Any = LocalCluster  # distributed ships no complete annotations
    with cluster_cls(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        ex = make_executor(f"dask:{cluster.scheduler_address}")
        try:
            got = _run_case(operation, tmp_path / "case", ex)
        finally:
            ex.close()
    assert got[1] == serial[1]
    assert got[0] == serial[0]


def _specs(op: Path) -> list[Any]:
    from ringtrace.stages.intake import ExhibitSpec

    manifest = json.loads((op / "operation.json").read_text(encoding="utf-8"))
    return [ExhibitSpec(op / ex["path"], exhibit=ex["exhibit"], timezone=ex.get("timezone", "UTC"),
                        owner=ex.get("owner"), region=ex.get("region"), seizure_country=ex.get("seizure_country"))
            for ex in manifest["exhibits"]]


def _ingest_case(op: Path, where: Path, executor: Executor | None
                 ) -> tuple[dict[str, Any], dict[int, Any], dict[str, Any]]:
    """Ingest every exhibit and parse it at intake: one after another (``executor`` None: ``ingest`` with
    parse=True, the exhibit-by-exhibit way), or all recorded first and parsed together through ``executor``
    (``ingest_many``); then ``run`` the rest serially."""
    from ringtrace.stages.intake import ingest_many

    case = Case.init(where, actor="exec")
    try:
        specs = _specs(op)
        if executor is None:
            results = [ingest(case, s.path, exhibit=s.exhibit, timezone=s.timezone, owner=s.owner, region=s.region,
                              seizure_country=s.seizure_country, examiner="exec") for s in specs]
        else:
            results = ingest_many(case, specs, examiner="exec", executor=executor)
        assert all(r.added and r.parse is not None for r in results)
        done = ringtrace.run(case, executor=make_executor("serial"))
        assert done.parsed == []  # ingest parsed them all
        if executor is not None:  # ... and its workers hashed every image and video it kept, when idle
            assert done.hashed == 0
        with case.engine.connect() as con:
            sids = [r[0] for r in con.execute(select(S.sources.c.id).order_by(S.sources.c.id))]
            seals = {sid: seal_source(con, sid).as_detail() for sid in sids}
            recorded = [json.loads(d) for d in con.execute(select(S.audit_log.c.detail)
                                                           .where(S.audit_log.c.action == "stage.parse")).scalars()]
            # rows whose ids intake and parse both give (an embedded file, a problem), ids included
            rows = {t.name: [tuple(r) for r in con.execute(select(*[c for c in t.columns if c.name != "at"])
                                                          .order_by(t.c.id))]
                    for t in (S.source_files, S.problems, S.messages, S.accounts, S.chats)}
            # hashed while ingesting or by the hash stage, the media rows are the same (stored in another order)
            rows["media"] = [tuple(r) for r in con.execute(select(S.media).order_by(S.media.c.sha256))]
        assert done.media == len(rows["media"]) > 0  # what run says is in the case, wherever it was hashed
        # the seals the parse made from the rows it wrote are those read back from the database
        assert {d["source_id"]: d["seal"] for d in recorded} == seals
        return _strip(build_export(case, with_messages=True)), seals, rows
    finally:
        case.close()


@pytest.fixture(scope="module")
def exhibit_by_exhibit(operation: Path, tmp_path_factory: pytest.TempPathFactory
                       ) -> tuple[dict[str, Any], dict[int, Any], dict[str, Any]]:
    return _ingest_case(operation, tmp_path_factory.mktemp("one-by-one") / "case", None)


def test_ingest_of_many_exhibits_through_a_dask_cluster_of_processes_gives_the_same_case(
        operation: Path, tmp_path: Path, exhibit_by_exhibit: tuple[dict[str, Any], dict[int, Any], dict[str, Any]]
) -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    cluster_cls: Any = LocalCluster  # distributed ships no complete annotations
    with cluster_cls(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        ex = make_executor(f"dask:{cluster.scheduler_address}")
        try:
            got = _ingest_case(operation, tmp_path / "case", ex)
        finally:
            ex.close()
    assert got[1] == exhibit_by_exhibit[1]
    assert got[0] == exhibit_by_exhibit[0]


def test_ingest_of_many_exhibits_in_workers_gives_the_exhibit_by_exhibit_case(
        operation: Path, tmp_path: Path, serial: tuple[dict[str, Any], dict[int, Any]],
        exhibit_by_exhibit: tuple[dict[str, Any], dict[int, Any], dict[str, Any]]) -> None:
    one_by_one = exhibit_by_exhibit
    ex = make_executor("local:2")
    try:
        together = _ingest_case(operation, tmp_path / "together" / "case", ex)
    finally:
        ex.close()
    assert len(together[1]) > 1 and together[1] == one_by_one[1]
    assert together[0] == one_by_one[0]
    assert together[2] == one_by_one[2]
    assert together[0] == serial[0]  # and the case that ingest without parsing, then run, gives


def test_ingest_many_parses_what_it_recorded_before_a_refused_source(operation: Path, tmp_path: Path) -> None:
    from ringtrace.stages.intake import ExhibitSpec, IntakeError, ingest_many

    good = _specs(operation)[:2]
    case = Case.init(tmp_path / "case", actor="exec")
    try:
        with pytest.raises(IntakeError, match="no such file"):
            ingest_many(case, [*good, ExhibitSpec(tmp_path / "missing")], executor=make_executor("serial"))
        with case.engine.connect() as con:
            status = [r[0] for r in con.execute(select(S.sources.c.status).order_by(S.sources.c.id))]
        assert status == ["parsed", "parsed"]
    finally:
        case.close()


def test_ingest_many_takes_a_source_given_twice_once(operation: Path, tmp_path: Path) -> None:
    """Sources are recorded ahead of the database: the same folder given again, and a copy of it elsewhere, are
    still recognised as the source stored a moment before (as an exhibit by exhibit ingest does)."""
    import shutil

    from ringtrace.stages.hash import hash_stage
    from ringtrace.stages.intake import ExhibitSpec, ingest_many

    specs = _specs(operation)[:3]
    copy = tmp_path / "copy"
    shutil.copytree(specs[0].path, copy)
    given = [*specs, ExhibitSpec(specs[0].path), ExhibitSpec(copy, exhibit="EX-COPY")]

    def run(where: Path, together: bool) -> tuple[list[tuple[int, str, bool]], dict[str, Any]]:
        case = Case.init(where, actor="exec")
        try:
            if together:
                results = ingest_many(case, given, executor=make_executor("local:2"))
            else:
                results = [ingest(case, s.path, exhibit=s.exhibit, timezone=s.timezone, owner=s.owner,
                                  region=s.region, seizure_country=s.seizure_country) for s in given]
            hash_stage(case)  # what ingest_many hashed while its workers idled, ingest leaves to this stage
            return [(r.source_id, r.exhibit, r.added) for r in results], _strip(build_export(case,
                                                                                             with_messages=True))
        finally:
            case.close()

    together = run(tmp_path / "together" / "case", True)
    assert [a for _, _, a in together[0]] == [True, True, True, False, False]
    assert together[0][3][:2] == together[0][4][:2] == together[0][0][:2]
    assert together == run(tmp_path / "one-by-one" / "case", False)


def test_ingest_many_refuses_an_exhibit_number_given_twice(operation: Path, tmp_path: Path) -> None:
    from ringtrace.stages.intake import ExhibitSpec, IntakeError, ingest_many

    a, b, c = _specs(operation)[:3]
    case = Case.init(tmp_path / "case", actor="exec")
    try:
        with pytest.raises(IntakeError, match="already used"):
            ingest_many(case, [a, b, ExhibitSpec(c.path, exhibit=a.exhibit), c], executor=make_executor("local:2"))
        with case.engine.connect() as con:
            rows = [(r.exhibit, r.status) for r in con.execute(select(S.sources.c.exhibit, S.sources.c.status)
                                                                 .order_by(S.sources.c.id))]
        assert rows == [(a.exhibit, "parsed"), (b.exhibit, "parsed")]  # the refused one and those after: not taken
    finally:
        case.close()
