"""Intake of a disk image: open and verify it in place, then stream every file of every file system out of it.

The image is identified by the SHA-256 of its media (the disk's bytes, whatever container holds them: the same
disk as an E01 and as a dd image is one source). An EWF image's own stored MD5/SHA-1 are held to the computed ones;
a mismatch is a named problem (the image was altered or damaged since acquisition) and the files are read all the
same. Each file's bytes go through the intake's stager (vault, exhibit tree, nested zips) when
ringtrace.disk.storing says they may be needed; every file, kept or not, becomes a ``disk_files`` row.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringtrace.disk.image import DiskImage, DiskImageError, open_image
from ringtrace.disk.sniff import image_type
from ringtrace.disk.storing import worth_storing
from ringtrace.vault import Digests, digest_file, digest_stream

if TYPE_CHECKING:
    from ringtrace.disk.walk import FoundFile, Place
    from ringtrace.stages.intake import _Stager

HEAD = 64 * 1024


class DiskExtraMissing(Exception):
    """dfVFS / pytsk3 are not installed: the examiner is told how to get them."""


@dataclass
class DiskIntake:
    """What intake learned of one image before and while its files were taken."""

    path: Path
    image_type: str
    image: DiskImage | None
    digests: Digests
    media_size: int
    verification: str  # match | mismatch | none-stored | unreadable | salvaged (a damaged E01 read by its chunks)
    problems: list[tuple[str, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # disk_files rows (source_id added at insert)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    inventoried_only: int = 0  # files recorded without their bytes (they count toward the file limit too)

    def image_row(self, source_id: int, copied: bool) -> dict[str, Any]:
        img = self.image
        return {"source_id": source_id, "image_type": self.image_type, "segments": self.segments,
                "media_size": self.media_size, "sha256": self.digests.sha256, "sha1": self.digests.sha1,
                "md5": self.digests.md5, "stored_md5": img.stored_md5 if img else None,
                "stored_sha1": img.stored_sha1 if img else None, "verification": self.verification,
                "volumes": self.volumes, "copied": copied}


def open_disk(path: Path) -> DiskIntake | None:
    """Open and verify the image; None when it only looked like a raw image (dfVFS finds no volume in it: it is
    taken as a plain file). An image that cannot be opened at all is still recorded, by its file's digests, with
    the reason as a problem."""
    sniffed = image_type(path) or "RAW"
    try:
        img = open_image(path)
    except DiskImageError as e:
        if "install ringtrace with the 'disk' extra" in str(e):
            raise DiskExtraMissing(str(e)) from e
        if sniffed == "RAW":
            return None
        d = digest_file(path)
        return DiskIntake(path, sniffed, None, d, d.size, "unreadable", [(path.name, str(e))],
                          segments=[{"name": path.name, "size": d.size}])
    if img.image_type == "RAW" and not img.volumes:
        return None
    digests, media_error = img.media_digests()
    problems = list(img.problems)
    if media_error is not None:
        problems.append((path.name, f"{img.image_type} image is damaged or cut short: {media_error}; the digests "
                                    f"recorded are of the {digests.size} bytes read, and what can be read is kept"))
    verification = "none-stored"
    stored = [("MD5", img.stored_md5, digests.md5), ("SHA-1", img.stored_sha1, digests.sha1)]
    if any(s for _, s, _ in stored):
        bad = [(n, s, c) for n, s, c in stored if s and s != c]
        verification = "mismatch" if bad or media_error else "match"
        for n, s, c in bad:
            problems.append((path.name, f"the image's stored {n} {s} does not match the {n} computed over its media "
                                        f"now, {c}: the image was altered or damaged after acquisition"))
    elif media_error:  # a salvaged E01 (read chunk by chunk) is damaged, not unreadable: its files are read
        verification = "salvaged" if img.salvage is not None else "unreadable"
    segs = [{"name": s.name, "size": _size(s)} for s in img.segments]
    return DiskIntake(path, img.image_type, img, digests, img.media_size, verification, problems, segments=segs)


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return -1


def copy_segments(stager: _Stager, disk: DiskIntake) -> None:
    """The examiner asked for the image itself in the vault: every segment file, content-addressed."""
    img = disk.image
    for seg, rec in zip(img.segments if img else [disk.path], disk.segments, strict=False):
        rec["sha256"] = stager.case.vault.put_file(seg).sha256


def stage_disk(stager: _Stager, disk: DiskIntake) -> None:
    """Every file of every volume: hashed, recorded with its place, kept in the vault when it may be needed."""
    from ringtrace.disk.walk import FoundFile, WalkStats, open_fs_info, walk

    img = disk.image
    if img is None:
        return
    names: set[str] = set()  # every relpath given so far, kept or not: each file of the image has its own
    stopped = False
    for vol in img.volumes:
        summary: dict[str, Any] = {"partition": vol.partition, "offset": vol.offset, "size": vol.size,
                                   "fs_type": vol.fs_type}
        if img.salvage is not None:  # its files come from a damaged image's readable part
            summary["salvaged"] = True
        disk.volumes.append(summary)
        if stopped:
            summary["problem"] = "not read: the source's file limit was reached"
            continue
        try:
            info, fs_type = open_fs_info(vol)
        except Exception as e:  # noqa: BLE001 - dfVFS/pytsk3 raise OSError, IOError, BackEndError ...
            reason = f"file system ({vol.fs_type}) cannot be opened: {e}"
            summary["problem"] = reason
            stager.refuse(f"{img.path.name}:{vol.partition}", reason)
            continue
        summary["fs_type"] = fs_type
        stats = WalkStats()
        lim = stager.limits
        try:
            for item in walk(vol, info, fs_type, lim.max_depth, lim.max_dir_entries, stats):
                if not isinstance(item, FoundFile):
                    stager.refuse(f"{img.path.name}:{item.where}", item.reason)
                    continue
                if len(stager.files) + disk.inventoried_only >= lim.max_members:
                    stager.refuse(f"{img.path.name}:{vol.partition}{item.place.fs_path}",
                                  f"more than {lim.max_members} files: the rest of the image is not taken")
                    stopped = True
                    break
                _take(stager, disk, img, item, names)
        except Exception as e:  # noqa: BLE001 - a damaged file system ends its walk; what was read is kept
            stager.refuse(f"{img.path.name}:{vol.partition}", f"the walk of the {fs_type} file system stopped after "
                                                              f"{stats.files} files: {e}")
        summary.update(files=stats.files, deleted=stats.deleted, folders=stats.folders,
                       metadata_files_skipped=stats.metadata_skipped)


def _tree_name(place: Place, taken: Callable[[str], bool]) -> str:
    """``<partition>/<path>``; a deleted file whose name is taken gets ``~deleted-<inode>`` before its extension."""
    parts = [p if p != ".." else "_.." for p in place.fs_path.replace("\\", "/").split("/") if p not in ("", ".")]
    rel = "/".join([place.partition, *parts]) if parts else f"{place.partition}/unnamed"
    if not taken(rel):
        return rel
    head, _, name = rel.rpartition("/")
    stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    tag = f"~deleted-{place.inode}" if place.deleted else f"~{place.inode}"
    n, cand = 0, ""
    while not cand or taken(cand):
        suffix = tag if n == 0 else f"{tag}-{n}"
        cand = f"{head}/{stem}{suffix}{dot}{ext}" if head else f"{stem}{suffix}{dot}{ext}"
        n += 1
    return cand


def _take(stager: _Stager, disk: DiskIntake, img: DiskImage, found: FoundFile, names: set[str]) -> None:
    place = found.place
    where = f"{img.path.name}:{place.partition}{place.fs_path}"
    rel = _tree_name(place, lambda r: r in names or r in stager.dirs or r in stager.by_name)
    stream = _EntryStream(found)
    try:
        head = stream.read(HEAD)
    except OSError as e:
        stager.refuse(where, f"could not be read (inode {place.inode}): {e}")
        return
    body = io.BufferedReader(_Chained(head, stream), buffer_size=1024**2)
    stored = worth_storing(head, found.size, stager.limits.store_unknown_bytes)
    if stored:
        before = len(stager.files)
        stager.add_stream(rel, body, found.size, 0)
        if len(stager.files) == before:
            return  # refused by name (limits, unreadable): the stager said why
        staged = stager.files[before]  # a zip's members follow it
        rel, d = staged.relpath, Digests(staged.sha256, staged.sha1, staged.md5, staged.size)
    else:
        if not stager._budget(where, found.size):
            return
        try:
            d = digest_stream(body, limit=found.size + 1)
        except (OSError, ValueError) as e:
            stager.refuse(where, f"could not be read (inode {place.inode}): {e}")
            return
        stager.total += d.size
        disk.inventoried_only += 1
    names.add(rel)
    disk.rows.append({
        "relpath": rel, "partition": place.partition, "fs_type": place.fs_type, "fs_path": place.fs_path,
        "inode": place.inode, "size": d.size, "sha256": d.sha256, "sha1": d.sha1, "md5": d.md5,
        "mtime": place.mtime, "atime": place.atime, "ctime": place.ctime, "crtime": place.crtime,
        "deleted": place.deleted, "stored": stored, "media_offset": place.media_offset,
    })


class _EntryStream(io.RawIOBase):
    """A file of the image read front to back; a read that comes back short of the declared size is an error
    naming the byte (a damaged or truncated image), not a silently shorter file."""

    def __init__(self, found: FoundFile) -> None:
        self.found = found
        self.pos = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        left = self.found.size - self.pos
        if left <= 0:
            return b""
        n = left if n < 0 else min(n, left)
        data = self.found.read(self.pos, n)
        if not data:
            raise OSError(f"the file system gives no data at byte {self.pos} of {self.found.size}")
        self.pos += len(data)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


class _Chained(io.RawIOBase):
    """The head already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: io.RawIOBase) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(b))
        b[:len(data)] = data
        return len(data)
