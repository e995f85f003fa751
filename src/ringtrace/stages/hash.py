"""The hash stage: every distinct content that looks like an image or a video, hashed once.

Skips content already hashed and commits in batches, so a crash loses at most one batch of work; the work is
mapped over a ``compute`` executor. ``ingest_many`` hashes what it keeps while its workers would otherwise wait
(``media_chunk_job``, ``store_hashes``): then this stage finds that done, and completes what a crash left.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ringtrace.case import Case, iter_content_heads
from ringtrace.compute import Executor, make_executor
from ringtrace.stages import Progress, noop_progress
from ringtrace.store import schema as S

if TYPE_CHECKING:
    from ringtrace.media.hashing import MediaHashes

HASH_BATCH = 500  # media rows committed together: a crash loses at most one batch of hashing work
HEAD_BYTES = 4096  # the first bytes sniffed to tell images and videos from the rest


def _hash_job(item: tuple[str, str]) -> tuple[str, MediaHashes]:
    from ringtrace.media.hashing import hash_file

    sha, path = item
    return sha, hash_file(Path(path))


def media_chunk_job(items: list[tuple[str, str]]) -> list[tuple[str, MediaHashes | None]]:
    """Runs in a worker: of each (content, where it is kept), its hashes if its first bytes say image or video (as
    ``pending_media`` chooses), else None (not media, or not readable there: left to the hash stage)."""
    from ringtrace.media.images import sniff

    out: list[tuple[str, MediaHashes | None]] = []
    for sha, path in items:
        try:
            with open(path, "rb") as fh:
                head = fh.read(HEAD_BYTES)
        except OSError:
            out.append((sha, None))
            continue
        out.append(_hash_job((sha, path)) if sniff(head)[0] in ("image", "video") else (sha, None))
    return out


def pending_media(case: Case) -> Iterator[tuple[str, str]]:
    """Distinct contents not yet hashed that look like images or videos (by their first bytes)."""
    from ringtrace.media.images import sniff

    with case.engine.connect() as con:
        done = {r[0] for r in con.execute(select(S.media.c.sha256))}
        for sha, path, head in iter_content_heads(case, con, done, HEAD_BYTES):
            if sniff(head)[0] in ("image", "video"):
                yield sha, str(path)


def hash_stage(case: Case, executor: Executor | None = None, progress: Progress = noop_progress) -> int:
    work = list(pending_media(case))
    if not work:
        return 0
    own = executor is None
    # a pool pays off only with enough work; RINGTRACE_EXECUTOR (serial, local[:N], dask[:ADDRESS]) overrides
    ex = executor or make_executor(os.environ.get("RINGTRACE_EXECUTOR") or ("local" if len(work) > 64 else "serial"))
    done = 0
    batch: list[tuple[str, MediaHashes]] = []
    try:
        for item in ex.map(_hash_job, work, chunksize=8):
            batch.append(item)
            if len(batch) >= HASH_BATCH:
                done += store_hashes(case, batch)
                batch = []
            progress("hash", done + len(batch), len(work))
        done += store_hashes(case, batch)
    finally:
        if own:
            ex.close()
    case.log("stage.hash", {"hashed": done})
    return done


def _media_row(h: MediaHashes) -> dict[str, Any]:
    return {
        "sha256": h.sha256, "md5": h.md5, "sha1": h.sha1, "size": h.size, "kind": h.kind, "mime": h.mime,
        "width": h.width, "height": h.height, "pdq": h.pdq, "pdq_quality": h.pdq_quality,
        "pdq_dihedral": ",".join(h.pdq_dihedral) if h.pdq_dihedral else None,
        "video_frames": [list(f) for f in h.video_frames] if h.video_frames else None, "error": h.error,
    }


def store_hashes(case: Case, hashed: list[tuple[str, MediaHashes]]) -> int:
    """Hashes of contents into the media table (one transaction; contents already there are left as they are); a
    vault object whose bytes no longer hash to the content it was filed under is a problem, not a media row.
    Returns how many were media rows."""
    rows: list[dict[str, Any]] = []
    altered: list[dict[str, Any]] = []
    for sha, h in hashed:
        if h.sha256 != sha:  # the vault object no longer has the content it was filed under
            altered.append({"stage": "hash", "file": f"vault object {sha}",
                            "reason": f"content hashes to {h.sha256}: altered", "severity": "error",
                            "at": datetime.now(UTC)})
        else:
            rows.append(_media_row(h))
    if not rows and not altered:
        return 0
    with case.begin() as con:
        for a in altered:
            con.execute(S.problems.insert().values(**a))
        if rows:
            existing = {r[0] for r in con.execute(select(S.media.c.sha256)
                                                  .where(S.media.c.sha256.in_([r["sha256"] for r in rows])))}
            new = [r for r in rows if r["sha256"] not in existing]
            if new:
                con.execute(S.media.insert(), new)
    return len(rows)


class IdleHashing:
    """The hash stage's work done while an ingest's pool would idle: contents added as they are kept are hashed by
    ``ex``'s workers, a thread handing out ``workers - 1`` chunks (at least one) of ``chunk`` contents at a time,
    and only while ``idle()`` says no unit of evidence could be handed to the pool now (the pool takes work in
    order: a unit handed out after a map waits for at most that map). One worker's worth is left free: the
    writer, this process, is the ingest's critical path and needs a core of its own (with every worker hashing
    it shared one: ingests were slower on the loaded 2-core VM). Once the ingest is over (``finish``) every
    worker hashes. Results wait, ``cap`` at most, until the writer stores them (``store``, outside its own
    transactions); what is not done when the ingest stops is the hash stage's. A failure here only stops this
    work: the hash stage meets it again, and says so."""

    def __init__(self, case: Case, ex: Executor, idle: Callable[[], bool], chunk: int = 16, cap: int = 4096) -> None:
        self.case = case
        self.ex = ex
        self.idle = idle
        self.chunk = chunk
        self.cap = cap
        self.workers = int(getattr(ex, "workers", 2))
        with case.engine.connect() as con:
            self.seen = {r[0] for r in con.execute(select(S.media.c.sha256))}  # hashed, or handed out here
        self.items: deque[tuple[str, str]] = deque()
        self.results: list[tuple[str, MediaHashes]] = []
        self.busy = False  # a map is in the pool
        self.finishing = False  # no more contents come: hash the rest whether the pool is idle or not
        self.stopped = False
        self.error: BaseException | None = None
        self.hashed = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="ringtrace-idle-hash", daemon=True)
        self._thread.start()

    def add(self, shas: Iterable[str]) -> None:
        """Contents now kept in the vault (their objects are read there; one that is not is the hash stage's)."""
        new = []
        for s in shas:
            if s not in self.seen:
                self.seen.add(s)
                new.append((s, str(self.case.vault.object_path(s))))
        with self._cond:
            self.items.extend(new)
            self._cond.notify_all()

    def store(self) -> int:
        """The hashes done so far into the media table; how many."""
        with self._cond:
            done, self.results = self.results, []
            self._cond.notify_all()
        n = store_hashes(self.case, done)
        self.hashed += n
        return n

    def finish(self) -> int:
        """Hash what is left (the ingest is over: its pool is free), store it; how many were stored in all."""
        with self._cond:
            self.finishing = True
            self._cond.notify_all()
        while True:
            with self._cond:
                while (self.items or self.busy) and self.error is None and len(self.results) < self.cap:
                    self._cond.wait(0.5)
                left = bool(self.items or self.busy) and self.error is None
            self.store()
            if not left:
                break
        self.close()
        return self.hashed

    def close(self) -> None:
        """Stop handing out work (a map in the pool is waited for); what is not stored is left to the hash stage."""
        with self._cond:
            self.stopped = True
            self._cond.notify_all()
        self._thread.join()

    def _ready(self) -> bool:
        return bool(self.items) and len(self.results) < self.cap and (self.finishing or self.idle())

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self.stopped and not self._ready():
                    self._cond.wait(0.05)  # ``idle`` changes without telling: look again soon
                if self.stopped:
                    return
                per_map = self.workers if self.finishing else max(1, self.workers - 1)
                chunks = [[self.items.popleft() for _ in range(min(self.chunk, len(self.items)))]
                          for _ in range(min(per_map, -(-len(self.items) // self.chunk)))]
                self.busy = True
            try:
                done = [(s, h) for part in self.ex.map(media_chunk_job, chunks, chunksize=1)
                        for s, h in part if h is not None]
            except BaseException as e:  # noqa: BLE001 - the hash stage does this work again and reports it
                with self._cond:
                    self.error, self.busy = e, False
                    self._cond.notify_all()
                return
            with self._cond:
                self.results.extend(done)
                self.busy = False
                self._cond.notify_all()
