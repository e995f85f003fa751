"""The evidence vault: content-addressed, read-only copies of every evidence file.

``objects/ab/<sha256>`` holds each distinct content once (mode 0444). ``trees/<source sha256>/...`` rebuilds each
exhibit's folder layout with hard links to the objects (copies where links are not possible), so parsers can
find siblings by path while the store keeps one copy. ``verify`` re-hashes everything.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Digests:
    sha256: str
    sha1: str
    md5: str
    size: int


def digest_stream(fh: IO[bytes], sink: IO[bytes] | None = None, limit: int | None = None) -> Digests:
    """One read feeds every digest (and an optional copy)."""
    s256, s1, m5 = hashlib.sha256(), hashlib.sha1(), hashlib.md5()  # noqa: S324 - forensic digests, not security
    size = 0
    while True:
        chunk = fh.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if limit is not None and size > limit:
            raise ValueError(f"larger than the {limit}-byte limit")
        s256.update(chunk)
        s1.update(chunk)
        m5.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return Digests(s256.hexdigest(), s1.hexdigest(), m5.hexdigest(), size)


def digest_file(path: Path) -> Digests:
    with path.open("rb") as fh:
        return digest_stream(fh)


class Vault:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.trees = root / "trees"
        self.tmp = root / "tmp"
        for p in (self.objects, self.trees, self.tmp):
            p.mkdir(parents=True, exist_ok=True)

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.object_path(sha256).exists()

    def put_stream(self, fh: IO[bytes], limit: int | None = None,
                   keep: Callable[[Digests], bool] | None = None) -> Digests:
        """Copy a stream into the vault, hashing as it goes; the object is renamed into place only when whole, and
        only when ``keep`` (if given) says so once the digests are known: one read both hashes and keeps."""
        fd, tmpname = tempfile.mkstemp(dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                d = digest_stream(fh, out, limit)
            dest = self.object_path(d.sha256)
            if dest.exists() or (keep is not None and not keep(d)):
                os.unlink(tmpname)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmpname, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
                os.replace(tmpname, dest)
            return d
        except BaseException:
            if os.path.exists(tmpname):
                os.unlink(tmpname)
            raise

    def put_file(self, path: Path, limit: int | None = None,
                 keep: Callable[[Digests], bool] | None = None) -> Digests:
        with path.open("rb") as fh:
            return self.put_stream(fh, limit, keep)

    def put_bytes(self, data: bytes) -> Digests:
        import io

        return self.put_stream(io.BytesIO(data))

    def tree(self, key: str) -> Path:
        return self.trees / key

    def link_into_tree(self, key: str, relpath: str, sha256: str) -> Path:
        dest = self.tree(key) / relpath
        if dest.exists():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = self.object_path(sha256)
        try:
            os.link(src, dest)
        except OSError:
            shutil.copyfile(src, dest)
            os.chmod(dest, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        return dest

    def iter_objects(self) -> Iterator[tuple[str, Path]]:
        for sub in sorted(self.objects.iterdir()):
            if sub.is_dir():
                for obj in sorted(sub.iterdir()):
                    yield obj.name, obj
