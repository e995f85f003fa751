"""Media hashing entry points: one read of each file feeds MD5, SHA-1, SHA-256 and, for images and videos
(recognised by content, never by extension), the decoder that computes PDQ / vPDQ-compatible hashes.

Every failure is recorded in ``MediaHashes.error`` with the reason; digests are kept whenever the bytes
could be read. Functions here are top-level and take picklable arguments so they run under process pools.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from ringtrace.media.digests import MultiDigest
from ringtrace.media.images import DecodeRefused, open_checked, pdq_luma, sniff, strict_decoding
from ringtrace.media.limits import DEFAULT_LIMITS, Limits
from ringtrace.media.pdq import PDQ_PRESIZE, pdq_from_luma
from ringtrace.media.video import VideoFrameHash, VideoRefused, video_signature, vpdq_match

__all__ = [
    "CSV_HEADER",
    "MATCH_MIN_QUALITY",
    "Limits",
    "MediaHashes",
    "hash_bytes",
    "hash_file",
    "hash_many",
    "hash_paths",
    "to_csv_row",
    "to_json",
    "usable_for_matching",
    "vpdq_match",
]

# PDQ hashes under this quality are unreliable (Meta's guidance) and never used for matching.
MATCH_MIN_QUALITY = 50

_SNIFF_BYTES = 4096
_MEDIA_EXTS = {
    ".jpg", ".jpeg", ".jpe", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif", ".avif",
    ".mp4", ".m4v", ".mov", ".3gp", ".3g2", ".mkv", ".webm", ".avi",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MediaHashes:
    size: int
    md5: str | None  # None only when the file could not be read (see error)
    sha1: str | None
    sha256: str | None
    kind: str  # 'image' | 'video' | 'other', from magic bytes
    mime: str
    width: int | None = None
    height: int | None = None
    pdq: str | None = None  # 64 hex chars
    pdq_quality: int | None = None
    pdq_dihedral: tuple[
        str, ...
    ] = ()  # 8 hashes: original, rot90, rot180, rot270, flipx, flipy, flip+1, flip-1
    video_frames: tuple[VideoFrameHash, ...] = field(default_factory=tuple)  # (seconds, pdq hex, quality)
    error: str | None = None


def usable_for_matching(h: MediaHashes) -> bool:
    """True when the (image) PDQ hash is good enough to match on (quality >= MATCH_MIN_QUALITY)."""
    return h.pdq is not None and h.pdq_quality is not None and h.pdq_quality >= MATCH_MIN_QUALITY


_BLAS_LIMITED: dict[int, bool] = {}  # pid -> limit in force; keyed by pid because forked children inherit it


def limit_blas_in_worker() -> bool:
    """In a worker process (a pool's child), cap BLAS at one thread, once: every core already runs a hashing
    worker, and OpenBLAS threads inside each oversubscribe them (the medium operation's hash stage took 30 s
    instead of 8 s). The main process is left alone, its other numpy work keeps its threads. True when the
    limit is in force in this process."""
    pid = os.getpid()
    done = _BLAS_LIMITED.get(pid)
    if done is None:
        done = multiprocessing.parent_process() is not None
        if done:
            threadpool_limits(limits=1, user_api="blas")
        _BLAS_LIMITED[pid] = done
    return done


def hash_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> MediaHashes:
    """Hash one file: digests always (if readable), PDQ for images, per-second PDQ for videos."""
    limit_blas_in_worker()
    path = Path(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # (what Path.is_file says, without a second stat)
            return _unreadable(0, f"{path}: not a regular file")
        if st.st_size > limits.max_file_bytes:
            return _unreadable(st.st_size, f"{path}: {st.st_size} bytes over limit {limits.max_file_bytes}")
        md = MultiDigest()
        keep: bytearray | None = None
        kind, mime = "other", "application/octet-stream"
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            kind, mime = sniff(head)
            md.update(head)
            if kind != "other" and st.st_size <= limits.max_decode_bytes:
                keep = bytearray(head)
            while chunk := fh.read(limits.chunk_bytes):
                md.update(chunk)
                if keep is not None:
                    keep += chunk
                    if len(keep) > limits.max_decode_bytes:  # file grew while read: stop buffering
                        keep = None
                if md.size > limits.max_file_bytes:
                    return _unreadable(md.size, f"{path}: grew past limit {limits.max_file_bytes} while read")
    except OSError as exc:
        return _unreadable(0, f"{path}: unreadable: {exc.strerror or exc}")
    md5, sha1, sha256 = md.hexdigests()
    base = MediaHashes(size=md.size, md5=md5, sha1=sha1, sha256=sha256, kind=kind, mime=mime)
    data = bytes(keep) if keep is not None else None
    return _decode(base, data, path, path.suffix.lower(), limits)


def hash_bytes(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> MediaHashes:
    """Same as hash_file for bytes already in memory (``name`` is only used in messages and the ext hint)."""
    if len(data) > limits.max_file_bytes:
        return _unreadable(len(data), f"{name}: {len(data)} bytes over limit {limits.max_file_bytes}")
    md = MultiDigest()
    view = memoryview(data)
    for start in range(0, len(data), limits.chunk_bytes):
        md.update(view[start : start + limits.chunk_bytes])
    md5, sha1, sha256 = md.hexdigests()
    kind, mime = sniff(bytes(view[:_SNIFF_BYTES]))
    base = MediaHashes(size=len(data), md5=md5, sha1=sha1, sha256=sha256, kind=kind, mime=mime)
    keep = data if len(data) <= limits.max_decode_bytes else None
    return _decode(base, keep, None, Path(name).suffix.lower(), limits)


def _unreadable(size: int, reason: str) -> MediaHashes:
    return MediaHashes(size=size, md5=None, sha1=None, sha256=None, kind="other",
                       mime="application/octet-stream", error=reason)  # fmt: skip


def _decode(
    base: MediaHashes, data: bytes | None, path: Path | None, ext: str, limits: Limits
) -> MediaHashes:
    label = str(path) if path is not None else "input"
    if base.kind == "other":
        if ext in _MEDIA_EXTS:
            reason = f"{label}: name ends {ext} but content is not a recognised image or video"
            if base.size == 0:
                reason = f"{label}: empty file"
            return replace(base, error=reason)
        return base
    if base.kind == "image":
        if data is None:
            return replace(base, error=f"{label}: image of {base.size} bytes over decode limit "
                                        f"{limits.max_decode_bytes}; digests only")  # fmt: skip
        with strict_decoding():
            try:
                img = open_checked(data, limits)
                width, height = img.size
            except DecodeRefused as exc:
                return replace(base, error=f"{label}: {exc}")
            try:
                presize = width > PDQ_PRESIZE or height > PDQ_PRESIZE
                # a big JPEG's plane is its DCT-scaled decode: resampled over the span of the image it covers
                drafted_from = (height, width) if presize and img.format == "JPEG" else None
                res = pdq_from_luma(pdq_luma(img, limits), dihedral=True, presize=presize, source=drafted_from)
            except (DecodeRefused, ValueError) as exc:  # ValueError: a plane no DCT scale of the header's size
                return replace(base, width=width, height=height, error=f"{label}: {exc}")
            finally:
                img.close()
        return replace(base, width=width, height=height, pdq=res.hash, pdq_quality=res.quality,
                        pdq_dihedral=res.dihedral)  # fmt: skip
    # video
    if not limits.video_decode:
        return base
    source: bytes | Path | None = data if data is not None else path
    if source is None:
        return replace(
            base, error=f"{label}: video over decode limit {limits.max_decode_bytes}; digests only"
        )
    try:
        frames, width, height = video_signature(source, limits)
    except VideoRefused as exc:
        return replace(base, width=exc.width or None, height=exc.height or None, video_frames=exc.frames,
                        error=f"{label}: {exc}")  # fmt: skip
    return replace(base, width=width, height=height, video_frames=frames)


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths in a stable order. Directory symlinks are not followed (evidence may link
    outside the exhibit); named files are taken as given."""
    for p in paths:
        p = Path(p)
        if p.is_dir() and not p.is_symlink():
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs.sort()
                for name in sorted(files):
                    f = Path(root) / name
                    if not f.is_symlink():
                        yield f
        else:
            yield p


def hash_paths(paths: Iterable[Path], limits: Limits = DEFAULT_LIMITS) -> Iterator[tuple[Path, MediaHashes]]:
    """Hash files and (recursively) directories, one file at a time."""
    for f in iter_files(paths):
        yield f, hash_file(f, limits)


def hash_many(
    paths: Iterable[Path],
    workers: int = 1,
    limits: Limits = DEFAULT_LIMITS,
    executor: Executor | None = None,
    chunksize: int = 4,
) -> Iterator[tuple[Path, MediaHashes]]:
    """Batch form of hash_paths, results in input order. Uses ``executor`` if given (e.g. the pipeline's
    compute pool), else a private process pool of ``workers`` (1: in this process)."""
    files = list(iter_files(paths))
    fn: Callable[..., MediaHashes] = hash_file
    if executor is not None:
        yield from zip(
            files, executor.map(fn, files, [limits] * len(files), chunksize=chunksize), strict=True
        )
        return
    if workers <= 1 or len(files) <= 1:
        for f in files:
            yield f, hash_file(f, limits)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from zip(files, pool.map(fn, files, [limits] * len(files), chunksize=chunksize), strict=True)


CSV_HEADER = ["path", "md5", "sha1", "sha256", "pdq", "quality"]


def to_csv_row(path: Path | str, h: MediaHashes) -> list[str]:
    """Row for ``ringtrace hash``: path,md5,sha1,sha256,pdq,quality (empty cells where absent)."""
    return [str(path), h.md5 or "", h.sha1 or "", h.sha256 or "", h.pdq or "",
            "" if h.pdq_quality is None else str(h.pdq_quality)]  # fmt: skip


def to_json(path: Path | str, h: MediaHashes) -> dict[str, Any]:
    """JSON-ready dict (tuples as lists) with the path first."""
    out: dict[str, Any] = {"path": str(path)}
    d = asdict(h)
    d["pdq_dihedral"] = list(h.pdq_dihedral)
    d["video_frames"] = [{"seconds": t, "pdq": p, "quality": q} for t, p, q in h.video_frames]
    d["usable_for_matching"] = usable_for_matching(h)
    out.update(d)
    return out
