"""The hash stage: every distinct content that looks like an image or a video, hashed once.

Skips content already hashed and commits in batches, so a crash loses at most one batch of work; the work is
mapped over a ``compute`` executor.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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


def _hash_job(item: tuple[str, str]) -> tuple[str, MediaHashes]:
    from ringtrace.media.hashing import hash_file

    sha, path = item
    return sha, hash_file(Path(path))


def pending_media(case: Case) -> Iterator[tuple[str, str]]:
    """Distinct contents not yet hashed that look like images or videos (by their first bytes)."""
    from ringtrace.media.images import sniff

    with case.engine.connect() as con:
        done = {r[0] for r in con.execute(select(S.media.c.sha256))}
        for sha, path, head in iter_content_heads(case, con, done, 4096):
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
    batch: list[dict[str, Any]] = []
    try:
        for sha, h in ex.map(_hash_job, work, chunksize=8):
            if h.sha256 != sha:  # the vault object no longer has the content it was filed under
                with case.begin() as con:
                    con.execute(S.problems.insert().values(
                        stage="hash", file=f"vault object {sha}", reason=f"content hashes to {h.sha256}: altered",
                        severity="error", at=datetime.now(UTC)))
                continue
            batch.append(_media_row(h))
            done += 1
            if len(batch) >= HASH_BATCH:
                _insert_media(case, batch)
                batch = []
            progress("hash", done, len(work))
        _insert_media(case, batch)
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


def _insert_media(case: Case, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with case.begin() as con:
        existing = {r[0] for r in con.execute(select(S.media.c.sha256)
                                              .where(S.media.c.sha256.in_([r["sha256"] for r in rows])))}
        rows = [r for r in rows if r["sha256"] not in existing]
        if rows:
            con.execute(S.media.insert(), rows)
