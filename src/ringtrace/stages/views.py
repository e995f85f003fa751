"""The views stage, last in ``run``: the read views a case's pages need (``dissemination.precomputed``) and, on
SQLite, the message-word index (``dissemination.textsearch``), computed once per case version so the first person
to open a page after a run does not wait for them. The index is SQLite's work alone and is built in a thread while
the Python views are computed, joined before anything is stamped.

The views are computed from the case as it is when the stage starts; if anything changed it meanwhile (another
writer's decision), they are not stamped and the readers compute them again. Library calls that record what they
computed (``analysis.series``) are collected into the stage's single ``stage.views`` audit entry.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ringtrace.case import Case
from ringtrace.dissemination import precomputed, textsearch
from ringtrace.dissemination.export import build_export
from ringtrace.stages import Progress, noop_progress


class _Collecting(Case):
    """The case as the views see it: their audit entries are gathered, to be written as one."""

    def __init__(self, case: Case) -> None:
        super().__init__(case.path, case.engine, case.vault, case.actor)
        self.entries: list[dict[str, Any]] = []

    def log(self, action: str, detail: dict[str, Any], con: Connection | None = None) -> None:
        self.entries.append({"action": action, **detail})


def _index_in_thread(case: Case, fp: str) -> tuple[Path, Future[float]] | None:
    """On SQLite, the message-word index built in a thread (SQLite's C code, the GIL released) while the Python
    views are computed; the future gives its seconds. PostgreSQL searches its own GIN index (migration 0006)."""
    if case.engine.dialect.name != "sqlite":
        return None
    with case.engine.connect() as con:
        case_db = textsearch.database_file(con)
    tmp = textsearch.index_path(case.path).with_name(".web-search.next.sqlite")

    def build() -> float:
        t = time.perf_counter()
        textsearch.build_index(case_db, tmp, fp)
        return time.perf_counter() - t

    pool = ThreadPoolExecutor(1, thread_name_prefix="views-index")
    job = pool.submit(build)
    pool.shutdown(wait=False)  # no more jobs; the one submitted runs on
    return tmp, job


def views_stage(case: Case, progress: Progress | None = None) -> dict[str, Any]:
    """Compute and store every view; returns what the audit entry says (views, seconds, stamped or not)."""
    prog = progress or noop_progress
    t0 = time.perf_counter()
    before = precomputed.fingerprint(case)
    quiet = _Collecting(case)
    seconds: dict[str, float] = {}
    values: dict[str, Any] = {}
    total = len(precomputed.VIEWS) + 2
    prog("views", 0, total)
    index = _index_in_thread(case, before)
    try:
        t = time.perf_counter()
        doc = build_export(quiet)
        values["export"] = doc
        seconds["export"] = time.perf_counter() - t
        for i, (name, make) in enumerate(precomputed.VIEWS.items(), start=1):
            prog("views", i, total)
            t = time.perf_counter()
            values[name] = make(quiet, doc)
            seconds[name] = time.perf_counter() - t
        if index is not None:
            prog("views", total - 1, total)
            seconds["search_index"] = index[1].result()  # joined before the stamp; its error is the stage's
    except BaseException:
        if index is not None:
            wait([index[1]])  # a view failed: the index is not stamped either (and its file not left behind)
            index[0].unlink(missing_ok=True)
        raise
    index_tmp = index[0] if index is not None else None
    detail: dict[str, Any] = {"views": sorted(values), "seconds": {k: round(v, 2) for k, v in seconds.items()},
                              "search_index": "sqlite fts5" if index is not None else "postgresql gin",
                              "computed": quiet.entries[:20]}
    with case.begin() as con:
        unchanged = precomputed.fingerprint(con) == before
        detail["stamped"] = unchanged
        detail["total_seconds"] = round(time.perf_counter() - t0, 2)
        case.log("stage.views", detail, con)
        after = precomputed.fingerprint(con)
    # stamped only after the entry is committed: a fingerprint read inside a transaction that then rolled back
    # could later name a different state
    if unchanged:
        precomputed.write(case.path, after, values, seconds)
        if index_tmp is not None:
            textsearch.restamp(index_tmp, after)
            index_tmp.replace(textsearch.index_path(case.path))
    elif index_tmp is not None:
        index_tmp.unlink(missing_ok=True)
    prog("views", total, total)
    return detail
