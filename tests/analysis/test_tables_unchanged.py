"""The analyze stage writes the same tables as the code it replaced (issue 14: analysis memory and speed).

The bench's world (two overlapping devices and a chat export of every WhatsApp group: keyed groups on the short
cut, export-merged groups on the general fold, export names resolved) is analysed twice, and every analysis
table and the stage's audit entry are compared with the digests main's code (a88dc97) gave for the same data.
A change of output that is meant must say so by updating these digests, with the reason in its commit.
"""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from ringtrace.case import Case
from ringtrace.stages.analyze import analyze_stage

BENCH = Path(__file__).parents[2] / "bench"
MAIN_A88DC97: dict[str, Any] = {
    "persons": [62, "221fc70e72b77ff157b81401909dde9ffcbef56c280758e4866cd0c87383f1d9"],
    "person_accounts": [118, "1f18af369d99b8ec7827850fe9b9789e85cc5a50294dc706559840ea8de17989"],
    "groups": [6, "959810835c7eb53631b1a0cfc5488663735233668b2ea65274079b9850c3119c"],
    "group_chats": [11, "1e2c2509e190c4948254c1500bf94e15776c7ae5d02d2bd8f1f11b59149b19ef"],
    "memberships": [169, "bb5470a47eed7ea96e63b1e8234adbca4ccafea272fd7efa2ea95f7c531ac771"],
    "labels": [129, "f9a47f4b4cc01a250fa833347d777ed118eadb15ce859a8fc15cb8032e3c1238"],
    "overrides": [0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    "audit stage.analyze": "d0758fa1ca1ea779fbe9f7192690bed597543de15dadb0b591e393fdc2c6c006",
}


def _bench(name: str) -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


def test_tables_are_main_s(tmp_path: Path) -> None:
    world, compare = _bench("bench_analysis"), _bench("compare_analysis")
    case = Case.init(tmp_path / "case", actor="bench")
    world.write_world(case, 3000, export=True)
    first = analyze_stage(case)
    assert first.exports_merged == 5 and first.names_resolved == 56 and first.duplicates > 3000
    analyze_stage(case)  # a re-analysis writes the same
    case.close()
    assert compare.table_digests(tmp_path / "case") == MAIN_A88DC97


def test_groups_read_in_a_worker_give_the_same_tables(tmp_path: Path, monkeypatch: Any) -> None:
    """A big case reads half of its groups' timelines in a spawned worker: the same tables as one process."""
    from ringtrace.stages import analyze

    world, compare = _bench("bench_analysis"), _bench("compare_analysis")
    case = Case.init(tmp_path / "case", actor="bench")
    world.write_world(case, 3000, export=True)
    monkeypatch.setattr(analyze, "WORKER_MIN_MESSAGES", 0)
    halves: list[tuple[list[int], list[int]]] = []
    split = analyze._split
    monkeypatch.setattr(analyze, "_split", lambda con, jobs: halves.append(split(con, jobs)) or halves[-1])
    summary = analyze_stage(case)
    case.close()
    assert len(halves) == 1 and halves[0][0] and halves[0][1]  # both processes had groups to read
    assert not [n for n in summary.notes if n["kind"] == "analysis worker"]
    assert compare.table_digests(tmp_path / "case") == MAIN_A88DC97


def test_export_matching_cut_in_two_spans_gives_the_same_tables(tmp_path: Path, monkeypatch: Any) -> None:
    """The export matching cut at a gap in the export messages' times, the later span read by the worker (and,
    when the worker fails, here after the earlier one): the same tables, export names resolved the same way."""
    from ringtrace.analysis import groups
    from ringtrace.stages import analyze
    from ringtrace.store import db

    world, compare = _bench("bench_analysis"), _bench("compare_analysis")
    case = Case.init(tmp_path / "case", actor="bench")
    world.write_world(case, 3000, export=True)
    case.close()
    monkeypatch.setattr(analyze, "WORKER_MIN_MESSAGES", 0)
    monkeypatch.setattr(groups, "SPLIT_MIN_EXPORT_MESSAGES", 0)
    cuts: list[Any] = []
    gap = groups._time_gap
    monkeypatch.setattr(groups, "_time_gap", lambda *a: cuts.append(gap(*a)) or cuts[-1])
    for copy, url in (("worker", None), ("failed", f"sqlite:///{tmp_path / 'not-the-case.sqlite'}")):
        shutil.copytree(tmp_path / "case", tmp_path / copy)
        if url is not None:
            monkeypatch.setattr(db, "url_for_another_process", lambda engine, url=url: url)
        c = Case.open(tmp_path / copy, actor="bench")
        summary = analyze_stage(c)
        c.close()
        assert cuts[-1] is not None and cuts[-1][1] - cuts[-1][0] > timedelta(seconds=120)  # a cut was made
        assert summary.exports_merged == 5 and summary.names_resolved == 56
        failures = [n for n in summary.notes if n["kind"] == "analysis worker"]
        got = compare.table_digests(tmp_path / copy)
        if url is None:
            assert not failures and got == MAIN_A88DC97
        else:
            assert failures and "its export span read here" in failures[0]["detail"]
            got.pop("audit stage.analyze")
            assert got == {k: v for k, v in MAIN_A88DC97.items() if k != "audit stage.analyze"}


def test_a_failed_worker_leaves_its_groups_to_the_stage(tmp_path: Path, monkeypatch: Any) -> None:
    from ringtrace.stages import analyze
    from ringtrace.store import db

    world, compare = _bench("bench_analysis"), _bench("compare_analysis")
    case = Case.init(tmp_path / "case", actor="bench")
    world.write_world(case, 3000, export=True)
    monkeypatch.setattr(analyze, "WORKER_MIN_MESSAGES", 0)
    elsewhere = tmp_path / "not-the-case.sqlite"  # the worker opens a database without the case's tables
    monkeypatch.setattr(db, "url_for_another_process", lambda engine: f"sqlite:///{elsewhere}")
    summary = analyze_stage(case)
    case.close()
    (note,) = [n for n in summary.notes if n["kind"] == "analysis worker"]
    assert "OperationalError" in note["detail"] and "no such table" in note["detail"]
    got = compare.table_digests(tmp_path / "case")
    assert got.pop("audit stage.analyze") != MAIN_A88DC97["audit stage.analyze"]  # it holds the note
    assert got == {k: v for k, v in MAIN_A88DC97.items() if k != "audit stage.analyze"}
