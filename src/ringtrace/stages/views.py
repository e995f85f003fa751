"""The views stage, last in ``run``: the read views a case's pages need (``dissemination.precomputed``) and, on
SQLite, the message-word index (``dissemination.textsearch``), computed once per case version so the first person
to open a page after a run does not wait for them. The index is SQLite's work alone and is built in a thread while
the Python views are computed, joined before anything is stamped.

The views that read the case alone (``precomputed.CASE_ONLY``: suspects, series, leads, network, senders) are
computed in one worker process (spawned: it imports the library afresh and opens the case's database itself, only
reading it) while this process builds the export document and the views made from it; the worker sends back the
stored form of its views (``precomputed.pack``) and the audit entries they recorded, so the file written is the
one the one-process path writes. A database the worker cannot open (SQLite in memory) is served in one process.

The views are computed from the case as it is when the stage starts; if anything changed it meanwhile (another
writer's decision), they are not stamped and the readers compute them again. Library calls that record what they
computed (``analysis.series``) are collected into the stage's single ``stage.views`` audit entry.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ringtrace.case import Case
from ringtrace.dissemination import precomputed, textsearch
from ringtrace.dissemination.export import build_export
from ringtrace.stages import Progress, noop_progress
from ringtrace.store.db import url_for_another_process

# how the worker is started: spawn, so it holds nothing of this process (threads, open database handles); the
# tests set "fork" to carry a patched view into it
START_METHOD = "spawn"


class _Collecting(Case):
    """The case as the views see it: their audit entries are gathered, to be written as one."""

    def __init__(self, case: Case) -> None:
        super().__init__(case.path, case.engine, case.vault, case.actor)
        self.entries: list[dict[str, Any]] = []

    def log(self, action: str, detail: dict[str, Any], con: Connection | None = None) -> None:
        self.entries.append({"action": action, **detail})


class _Reading(_Collecting):
    """The worker's case: it only reads (a write transaction is refused; audit entries are collected)."""

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        raise RuntimeError("the views worker only reads the case")
        yield  # pragma: no cover  (makes this a generator for contextmanager)


# name -> (packed value, seconds, audit entries it recorded)
Computed = dict[str, tuple[bytes, float, list[dict[str, Any]]]]


def _compute(quiet: _Collecting, names: tuple[str, ...], doc: Any) -> Computed:
    out: Computed = {}
    for name in names:
        n = len(quiet.entries)
        t = time.perf_counter()
        value = precomputed.VIEWS[name](quiet, doc)
        sec = time.perf_counter() - t
        out[name] = (precomputed.pack(value, plain=name in precomputed.PLAIN), sec, quiet.entries[n:])
    return out


def _case_only_views(path: str, url: str, actor: str, names: tuple[str, ...]) -> Computed:
    """In the worker: the views of ``names`` (none reads the export document), from the database at ``url``."""
    from ringtrace.store import db
    from ringtrace.vault import Vault

    p = Path(path)
    engine = db.make_engine(url)  # no migration: the stage's process opened (and upgraded) the case already
    try:
        return _compute(_Reading(Case(p, engine, Vault(p / "vault"), actor)), names, None)
    finally:
        engine.dispose()


def _worker_url(case: Case) -> str | None:
    return url_for_another_process(case.engine)


# case folder -> its views worker, started ahead by ``prestart`` and not yet taken by the stage
_STARTED: dict[str, ProcessPoolExecutor] = {}


def _warm() -> None:
    """In a worker started ahead: what the case-only views import, imported (the job then starts at once)."""
    from ringtrace.analysis import graph, leads, priorities  # noqa: F401
    from ringtrace.dissemination import readmodel  # noqa: F401
    from ringtrace.matching import sets  # noqa: F401
    from ringtrace.store import db  # noqa: F401


def prestart(case: Case) -> None:
    """Start the views worker now, its interpreter and imports (~0.6 s) done while the caller goes on: ``run``
    starts it before notes, which keeps one core busy and leaves the other idle. The stage takes it; it reads
    nothing of the case before the stage hands it its job. ``discard_started`` shuts down one the stage did not take
    (``run`` stopped before it)."""
    key = str(case.path)
    if key in _STARTED or _worker_url(case) is None:
        return
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(START_METHOD))
    pool.submit(_warm)
    _STARTED[key] = pool


def discard_started(case: Case) -> None:
    """The worker ``prestart`` started for this case, if no stage took it, shut down and reaped."""
    pool = _STARTED.pop(str(case.path), None)
    if pool is not None:
        pool.shutdown(wait=True)


def _in_worker(case: Case, names: tuple[str, ...]) -> tuple[ProcessPoolExecutor, Future[Computed]] | None:
    url = _worker_url(case)
    if url is None or not names:
        discard_started(case)
        return None
    pool = _STARTED.pop(str(case.path), None) or ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context(START_METHOD))
    job = pool.submit(_case_only_views, str(case.path), url, case.actor, names)
    return pool, job


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


def views_stage(case: Case, progress: Progress | None = None, *, worker: bool = True) -> dict[str, Any]:
    """Compute and store every view; returns what the audit entry says (views, seconds, stamped or not).
    ``worker=False`` computes every view in this process (the same file, more wall time)."""
    prog = progress or noop_progress
    t0 = time.perf_counter()
    before = precomputed.fingerprint(case)
    quiet = _Collecting(case)
    total = len(precomputed.VIEWS) + 2
    prog("views", 0, total)
    if not worker:
        discard_started(case)
    beside = _in_worker(case, tuple(n for n in precomputed.VIEWS if n in precomputed.CASE_ONLY)) if worker else None
    here = tuple(n for n in precomputed.VIEWS if beside is None or n not in precomputed.CASE_ONLY)
    index = _index_in_thread(case, before)
    done: Computed = {}
    try:
        try:
            t = time.perf_counter()
            n = len(quiet.entries)
            doc = build_export(quiet)
            export_s, export_entries = time.perf_counter() - t, quiet.entries[n:]
            for i, name in enumerate(here, start=1):
                prog("views", i, total)
                done.update(_compute(quiet, (name,), doc))
            # packed after the views made from it, as the one-process path always did
            done["export"] = (precomputed.pack(doc, plain=True), export_s, export_entries)
            if beside is not None:
                done.update(beside[1].result())  # the worker's error is the stage's, as it would be here
                prog("views", total - 2, total)
            if index is not None:
                prog("views", total - 1, total)
                seconds_index = index[1].result()  # joined before the stamp; its error is the stage's
        finally:
            if beside is not None:
                beside[0].shutdown(wait=True, cancel_futures=True)  # the worker reaped, whatever happened
    except BaseException:
        if index is not None:
            wait([index[1]])  # a view failed: the index is not stamped either (and its file not left behind)
            index[0].unlink(missing_ok=True)
        raise
    names = ["export", *precomputed.VIEWS]  # the one-process order: the same file, the same audit entry
    seconds = {k: done[k][1] for k in names}
    if index is not None:
        seconds["search_index"] = seconds_index
    entries = [e for k in names for e in done[k][2]]
    index_tmp = index[0] if index is not None else None
    detail: dict[str, Any] = {"views": sorted(names), "seconds": {k: round(v, 2) for k, v in seconds.items()},
                              "search_index": "sqlite fts5" if index is not None else "postgresql gin",
                              "computed": entries[:20]}
    with case.begin() as con:
        unchanged = precomputed.fingerprint(con) == before
        detail["stamped"] = unchanged
        detail["total_seconds"] = round(time.perf_counter() - t0, 2)
        case.log("stage.views", detail, con)
        after = precomputed.fingerprint(con)
    # stamped only after the entry is committed: a fingerprint read inside a transaction that then rolled back
    # could later name a different state
    if unchanged:
        precomputed.write_packed(case.path, after, {k: done[k][0] for k in names}, seconds)
        if index_tmp is not None:
            textsearch.restamp(index_tmp, after)
            index_tmp.replace(textsearch.index_path(case.path))
    elif index_tmp is not None:
        index_tmp.unlink(missing_ok=True)
    prog("views", total, total)
    return detail
