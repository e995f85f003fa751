"""The hash stage's work done by an ingest's idle workers (``stages.hash.IdleHashing``): the media rows and the
problems of altered vault objects are those of the hash stage, and what it leaves undone the hash stage does."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.compute import make_executor
from ringtrace.stages.hash import IdleHashing, hash_stage
from ringtrace.stages.intake import ingest
from ringtrace.store import schema as S


def _recorded(where: Path, op: Path) -> tuple[Case, list[str]]:
    """The operation's exhibits recorded (not parsed), one image's vault object altered; every content kept."""
    case = Case.init(where, actor="t")
    for ex in json.loads((op / "operation.json").read_text(encoding="utf-8"))["exhibits"]:
        ingest(case, op / ex["path"], exhibit=ex["exhibit"], parse=False)
    with case.engine.connect() as con:
        shas = sorted({r[0] for r in con.execute(select(S.source_files.c.sha256))})
    jpeg = next(s for s in shas if case.vault.object_path(s).read_bytes()[:3] == b"\xff\xd8\xff")
    obj = case.vault.object_path(jpeg)
    os.chmod(obj, 0o644)
    obj.write_bytes(b"\xff\xd8\xff" + b"not the picture it was" * 10)  # still sniffs as an image
    return case, shas


def _hashed(case: Case) -> tuple[list[Any], list[Any]]:
    with case.engine.connect() as con:
        # an error names the vault object read: the same in both cases but for the case's folder
        vault = str(case.vault.root)
        media = [tuple(v.replace(vault, "<vault>") if isinstance(v, str) else v for v in r)
                 for r in con.execute(select(S.media).order_by(S.media.c.sha256))]
        problems = [tuple(r) for r in con.execute(select(S.problems.c.stage, S.problems.c.file, S.problems.c.reason)
                                                  .where(S.problems.c.stage == "hash").order_by(S.problems.c.id))]
    return media, problems


def _idle(case: Case, shas: list[str], finish: bool) -> int:
    ex = make_executor("local:2")
    ex.start()  # before the thread, as ingest_many does
    try:
        idle = IdleHashing(case, ex, lambda: True, chunk=3)
        idle.add(shas[: len(shas) // 2])
        idle.add(shas)  # contents given again are hashed once
        if finish:
            return idle.finish()
        idle.close()  # the ingest stopped: nothing more is stored
        return idle.hashed
    finally:
        ex.close()


def test_idle_hashing_stores_the_hash_stage_rows_and_problems(tmp_path: Path, tiny_operation: Path) -> None:
    staged, shas = _recorded(tmp_path / "stage", tiny_operation)
    idle, _ = _recorded(tmp_path / "idle", tiny_operation)
    try:
        assert hash_stage(staged, make_executor("serial")) > 0
        want = _hashed(staged)
        assert want[0] and len(want[1]) == 1 and "altered" in want[1][0][2]
        assert _idle(idle, shas, finish=True) == len(want[0])
        assert _hashed(idle) == want
    finally:
        staged.close()
        idle.close()


def test_what_idle_hashing_left_undone_the_hash_stage_completes(tmp_path: Path, tiny_operation: Path) -> None:
    staged, shas = _recorded(tmp_path / "stage", tiny_operation)
    stopped, _ = _recorded(tmp_path / "stopped", tiny_operation)
    try:
        hash_stage(staged, make_executor("serial"))
        _idle(stopped, shas, finish=False)
        with stopped.engine.connect() as con:
            assert len(list(con.execute(select(S.media.c.sha256)))) < len(_hashed(staged)[0])
        hash_stage(stopped, make_executor("serial"))
        assert _hashed(stopped) == _hashed(staged)
    finally:
        staged.close()
        stopped.close()


def test_unit_stream_is_full_while_both_windows_wait_for_the_writer() -> None:
    """``UnitStream.full`` (when ingest_many lets the idle workers hash although units wait): both windows are in the
    pool and units still queue behind them; once the writer has taken a window, the next is handed out."""
    from collections.abc import Callable, Iterable, Iterator

    from ringtrace.stages.parse import UnitStream

    class Recording:  # an executor that only records what it is handed
        workers = 2
        handed: list[object] = []

        def map(self, fn: Callable[[Any], Any], items: Iterable[Any], chunksize: int = 1) -> Iterator[Any]:
            items = list(items)
            self.handed.extend(items)
            return iter(items)

    ex = Recording()
    stream = UnitStream(ex, 2, case=None)  # type: ignore[arg-type]  # no source is prepared: jobs given as is
    assert not stream.full
    stream.jobs.extend(range(7))
    stream._fill()
    assert stream.full and list(stream.jobs) == [4, 5, 6] and ex.handed == [0, 1, 2, 3]
    assert [stream.take(), stream.take()] == [0, 1]
    assert stream.full and list(stream.jobs) == [4, 5, 6]  # the first window is only taken with its last unit
    assert stream.take() == 2  # the next window is handed out once the writer moves past the first
    assert stream.full and list(stream.jobs) == [6] and ex.handed == [0, 1, 2, 3, 4, 5]
    assert [stream.take() for _ in range(4)] == [3, 4, 5, 6]
    assert not stream.full and not stream.jobs
