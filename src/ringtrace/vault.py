"""The evidence vault: content-addressed, read-only copies of every evidence file.

``objects/ab/<sha256>`` holds each distinct content once (mode 0444). ``trees/<source sha256>/...`` rebuilds each
exhibit's folder layout with hard links to the objects (copies where links are not possible), so parsers can
find siblings by path while the store keeps one copy. ``verify`` re-hashes everything.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, cast

CHUNK = 1024 * 1024
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
# a temporary file's flags: created new (never an existing file or a link planted there), not inherited
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) \
    | getattr(os, "O_BINARY", 0)
_tmp_serial = itertools.count()  # temporary names: unique within the process (next() is atomic under the GIL)


class Readable(Protocol):
    """What ``digest_stream`` needs of a stream: a file, or a reader over a disk image's media."""

    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Digests:
    sha256: str
    sha1: str
    md5: str
    size: int


def digest_stream(fh: Readable, sink: IO[bytes] | None = None, limit: int | None = None) -> Digests:
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


def _digests(data: bytes) -> Digests:
    return Digests(hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest(),  # noqa: S324
                   hashlib.md5(data).hexdigest(), len(data))  # noqa: S324 - forensic digests, not security


def _read_upto(fh: IO[bytes], n: int) -> bytes:
    """``n`` bytes, fewer only at the end of the stream (a raw stream may return less at a time)."""
    data = fh.read(n)
    if len(data) >= n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = fh.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class _Joined(io.RawIOBase):
    """``head`` (already read), then the rest of ``fh``."""

    def __init__(self, head: bytes, fh: IO[bytes]) -> None:
        self.head = head
        self.fh = fh

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n < 0 or n >= len(self.head):
                out, self.head = self.head, b""
                return out
            out, self.head = self.head[:n], self.head[n:]
            return out
        return self.fh.read(n)


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
        self._dirs: set[str] = set()  # object folders known to exist
        self._tree_dirs: set[str] = set()  # exhibit-tree folders known to exist
        # as strings: intake places tens of thousands of files, and building Path objects for each was a good
        # part of the recording thread's CPU (which it takes from the writer: one GIL)
        self._objects = os.fspath(self.objects)
        self._trees = os.fspath(self.trees)
        self._tmp = os.fspath(self.tmp)

    def _object(self, sha256: str) -> str:
        return f"{self._objects}/{sha256[:2]}/{sha256}"

    def object_path(self, sha256: str) -> Path:
        return Path(self._object(sha256))

    def has(self, sha256: str) -> bool:
        return os.path.exists(self._object(sha256))

    def put_stream(self, fh: IO[bytes], limit: int | None = None,
                   keep: Callable[[Digests], bool] | None = None) -> Digests:
        """Copy a stream into the vault, hashing as it goes; the object is renamed into place only when whole, and
        only when ``keep`` (if given) says so once the digests are known: one read both hashes and keeps. A content
        of at most one chunk is hashed first and written only when the vault does not hold it yet (most of an
        operation's small files are copies of each other: no file is made for those)."""
        return self.put_stream_head(fh, 0, limit, keep)[0]

    def put_stream_head(self, fh: IO[bytes], head: int, limit: int | None = None,
                        keep: Callable[[Digests], bool] | None = None) -> tuple[Digests, bytes]:
        """``put_stream``, and the content's first ``head`` bytes (at most one chunk), read on the way: recognition
        needs them of every file, and reading them again from the vault was ~4 CPU s of a medium ingest."""
        first = _read_upto(fh, CHUNK)
        if len(first) < CHUNK or not (rest := _read_upto(fh, 1)):
            if limit is not None and len(first) > limit:
                raise ValueError(f"larger than the {limit}-byte limit")
            return self._put_small(first, keep), first[:head]
        return self._put_long(cast(IO[bytes], _Joined(first + rest, fh)), limit, keep), first[:head]

    def put_fd_head(self, fd: int, head: int, size_hint: int = -1) -> tuple[Digests, bytes]:
        """``put_stream_head`` of the file open at descriptor ``fd`` (the caller opens and closes it): intake's
        folder walk reads tens of thousands of small files, and a buffered file object for each cost more than
        their hashing. ``size_hint`` (the size the file was listed with) sizes the first read; the file is read
        to its end whatever it says."""
        first = os.read(fd, size_hint + 1 if 0 <= size_hint < CHUNK else CHUNK)
        if first and len(first) < CHUNK:
            parts = [first]
            got = len(first)
            while got < CHUNK:  # on to the end (an empty read), or one chunk
                more = os.read(fd, CHUNK - got)
                if not more:
                    break
                parts.append(more)
                got += len(more)
            if len(parts) > 1:
                first = b"".join(parts)
        if len(first) < CHUNK:
            return self._put_small(first, None), first[:head]
        with os.fdopen(fd, "rb", closefd=False) as fh:  # longer than one chunk (or just one): streamed as ever
            return self._put_long(cast(IO[bytes], _Joined(first, fh)), None, None), first[:head]

    def _put_small(self, data: bytes, keep: Callable[[Digests], bool] | None) -> Digests:
        """A content held whole in memory: hashed, and written only if the vault lacks it (and ``keep`` agrees)."""
        d = _digests(data)
        if not self.has(d.sha256) and (keep is None or keep(d)):
            self._place_bytes(d.sha256, data)
        return d

    def _put_long(self, fh: IO[bytes], limit: int | None, keep: Callable[[Digests], bool] | None) -> Digests:
        fd, tmpname = tempfile.mkstemp(dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                d = digest_stream(fh, out, limit)
            if self.has(d.sha256) or (keep is not None and not keep(d)):
                os.unlink(tmpname)
            else:
                os.chmod(tmpname, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
                self._into_place(tmpname, d.sha256)
            return d
        except BaseException:
            if os.path.exists(tmpname):
                os.unlink(tmpname)
            raise

    def _place(self, sha256: str, write: Callable[[IO[bytes]], object]) -> None:
        """A new object written whole to a temporary file, then renamed into place (read-only)."""
        fd, tmpname = tempfile.mkstemp(dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
            os.chmod(tmpname, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            self._into_place(tmpname, sha256)
        except BaseException:
            if os.path.exists(tmpname):
                os.unlink(tmpname)
            raise

    def _place_bytes(self, sha256: str, data: bytes) -> None:
        """``_place`` of a content held in memory, by descriptor: a temporary file named by process and serial
        (tempfile's random names cost more than the write of a small file), made read-only by its descriptor,
        then renamed into place; never left behind on an error."""
        fd, tmpname = self._tmp_file()
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fchmod(fd, _READ_ONLY)
            finally:
                os.close(fd)
            self._into_place(tmpname, sha256)
        except BaseException:
            if os.path.exists(tmpname):
                os.unlink(tmpname)
            raise

    def _tmp_file(self) -> tuple[int, str]:
        """A new temporary file in the vault's ``tmp``, open for writing: a name another process (or a crashed
        earlier one with the same pid) holds is passed over, as mkstemp does."""
        for _ in range(10_000):
            name = f"{self._tmp}/w{os.getpid()}.{next(_tmp_serial)}"
            try:
                return os.open(name, _TMP_FLAGS, 0o600), name
            except FileExistsError:
                continue
        raise FileExistsError(f"no free temporary name in {self._tmp}")

    def _into_place(self, tmpname: str, sha256: str) -> None:
        sub = sha256[:2]
        if sub not in self._dirs:
            os.makedirs(f"{self._objects}/{sub}", exist_ok=True)
            self._dirs.add(sub)
        try:
            os.replace(tmpname, self._object(sha256))
        except FileNotFoundError:  # its folder went away since (removed by hand): made again
            os.makedirs(f"{self._objects}/{sub}", exist_ok=True)
            os.replace(tmpname, self._object(sha256))

    def put_file(self, path: Path, limit: int | None = None,
                 keep: Callable[[Digests], bool] | None = None) -> Digests:
        with path.open("rb") as fh:
            return self.put_stream(fh, limit, keep)

    def put_bytes(self, data: bytes) -> Digests:
        import io

        return self.put_stream(io.BytesIO(data))

    def tree(self, key: str) -> Path:
        return self.trees / key

    def link_into_tree(self, key: str, relpath: str, sha256: str) -> bool:
        """The object at ``relpath`` in the exhibit tree ``key``: True when this call put it there, False when a
        file was there already (left as it is: its content may not be the object's)."""
        dest = f"{self._trees}/{key}/{relpath}"  # as os.path.join: key and relpath are relative
        parent = dest.rpartition("/")[0]
        if parent not in self._tree_dirs:
            os.makedirs(parent, exist_ok=True)
            self._tree_dirs.add(parent)
        src = self._object(sha256)
        try:
            os.link(src, dest)
            return True
        except FileExistsError:
            return False
        except OSError:  # its folder went away since (a tree renamed or dropped), or links are not possible here
            self._tree_dirs.discard(parent)
            os.makedirs(parent, exist_ok=True)
        if os.path.exists(dest):
            return False
        try:
            os.link(src, dest)
        except OSError:
            shutil.copyfile(src, dest)
            os.chmod(dest, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        return True

    def iter_objects(self) -> Iterator[tuple[str, Path]]:
        for sub in sorted(self.objects.iterdir()):
            if sub.is_dir():
                for obj in sorted(sub.iterdir()):
                    yield obj.name, obj
