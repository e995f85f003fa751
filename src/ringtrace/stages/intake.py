"""Evidence intake: record a source (chain of custody), keep it in the vault, then parse it.

A source is a file, a folder, a zip, a tar or a disk image (``disk``: see ringtrace.disk). Every file read is
hashed (SHA-256, SHA-1, MD5) and, unless ``reference`` mode is asked for, copied into the content-addressed vault;
the exhibit's layout is rebuilt under ``vault/trees/<source sha256>`` so parsers can find siblings by path.
The original is only ever read.

Containers are hostile: member names with ``..``, absolute paths, drive letters or NUL, links, and members that
would blow past the size or count limits are refused with a problem that names the container and the member;
the rest is taken. A zip found inside an exhibit is opened too (to a bounded depth), its members under
``<name>.zip!/``; so is a zip ingested directly, so that an export's name (which carries the chat title) is kept.

A disk image is recorded and verified where it lies (mode ``in-place``: its media hashed and held to what an EWF
image stored at acquisition; copied into the vault only when asked) and its files are streamed out of it: each is
hashed and recorded in ``disk_files`` with its place (partition, path, inode or MFT record, MACB times, deleted),
and those formats or hashing may need are kept in the vault and the exhibit tree (``<partition>/<path>``) like a
zip's members, where formats find them by content (ringtrace.disk.storing says which).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
import threading
import zipfile
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, func, select

from ringtrace._version import TOOL
from ringtrace.case import Case
from ringtrace.lock import writes_case
from ringtrace.sources.base import HEAD_BYTES
from ringtrace.stages import Progress, noop_progress
from ringtrace.store import new_id
from ringtrace.store.schema import problems, source_files, sources
from ringtrace.store.writer import driver_rows
from ringtrace.vault import Digests, digest_file

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ringtrace.compute import Executor
    from ringtrace.stages.parse import ParseResult

MAX_MEMBERS = 2_000_000
MAX_TOTAL_BYTES = 2 * 1024**4  # 2 TiB of expanded content per source
MAX_RATIO = 200  # compression ratio above which a big member is treated as a bomb
NESTED_ZIP_DEPTH = 2
SNIFF_ZIP = b"PK\x03\x04"
HEADS_BUDGET = 64 * 1024**2  # bytes of heads one source's staging keeps for recognition; past it, files are read
READ_THREADS = 4  # files of a folder read (copied into the vault and hashed) at once; 0: one by one here
# ... when they are this big on average: hashing and I/O release the GIL, but for small files (a phone's thumbnails
# and photos) the work is mostly Python and handing it to threads costs more CPU than it saves (measured)
THREADED_MEAN_BYTES = 256 * 1024
_Read = tuple[Digests, None] | tuple[None, str]  # a file's digests once in the vault, or why it could not be read


class IntakeError(Exception):
    pass


@dataclass(frozen=True)
class IntakeLimits:
    """How much a source may expand. A container (zip or tar) may expand to ``max_ratio`` times its own size, but
    always to at least ``ratio_floor_bytes``; a whole source to at most ``max_total_bytes`` and ``max_members``
    files. Past a limit the member that crosses it and every later one are refused by name; what came before stays."""

    max_members: int = MAX_MEMBERS
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_ratio: float = MAX_RATIO
    ratio_floor_bytes: int = 256 * 1024**2
    nested_zip_depth: int = NESTED_ZIP_DEPTH
    max_depth: int = 128  # folders deep inside a disk image's file system
    max_dir_entries: int = 1_000_000  # entries of one folder of a disk image
    store_unknown_bytes: int = 64 * 1024**2  # a disk image's unrecognised file above this is inventoried, not kept


def display_name(name: str) -> tuple[str, bytes | None]:
    """A member or file name as stored and shown, and its raw bytes when it is not valid UTF-8.

    Names read from the file system or a tar carry undecodable bytes as surrogates (``surrogateescape``); they
    are shown and stored with each such byte written ``\\xNN``, stably, and the raw bytes are kept for the
    problem that names them."""
    try:
        name.encode("utf-8")
        return name, None
    except UnicodeEncodeError:
        try:
            raw = name.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = name.encode("utf-8", "surrogatepass")
        return raw.decode("utf-8", "backslashreplace"), raw


@dataclass
class StagedFile:
    relpath: str
    size: int
    sha256: str
    sha1: str
    md5: str
    # the content's first HEAD_BYTES, read while it was kept, when this staging put it in the exhibit tree:
    # recognition uses it instead of reading the file again (dropped once the source's units are recognised)
    head: bytes | None = field(default=None, repr=False, compare=False)


@dataclass
class IntakeResult:
    source_id: int
    exhibit: str
    added: bool  # False when the same source was already in the case
    files: int = 0
    problems: list[str] = field(default_factory=list)
    parse: ParseResult | None = None


def safe_member_name(name: str) -> str | None:
    """The member's path as a clean relative posix path, or None when it must be refused."""
    if not name or "\x00" in name:
        return None
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return None
    # PurePosixPath(n).parts of a relative path, without a Path for each of a zip's members
    parts = [p for p in n.split("/") if p and p != "."]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _container_kind(path: Path) -> str:
    from ringtrace.disk.sniff import image_type

    if path.is_dir():
        return "folder"
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == SNIFF_ZIP and zipfile.is_zipfile(path):
        return "zip"
    if image_type(path) is not None:
        return "disk"
    try:
        if tarfile.is_tarfile(path):
            return "tar"
    except (OSError, tarfile.TarError):
        pass
    return "file"


class _Stager:
    """Puts members into the vault and the exhibit tree, keeping count and the problems met."""

    def __init__(self, case: Case, tree_key: str, reference_root: Path | None, origin: str,
                 limits: IntakeLimits | None = None) -> None:
        self.case = case
        self.tree_key = tree_key
        self.reference_root = reference_root  # files stay where they are (reference mode)
        self.origin = origin
        self.limits = limits or IntakeLimits()
        self.files: list[StagedFile] = []
        self.problems: list[tuple[str, str]] = []
        self.total = 0
        self.by_name: dict[str, int] = {}  # relpath -> index in files
        self.dirs: set[str] = set()  # folders implied by the staged relpaths
        self.cancel: threading.Event | None = None  # set: stop between files (ingest_many's caller has failed)
        self.heads_left = HEADS_BUDGET if reference_root is None else 0  # bytes of heads still to keep

    def refuse(self, where: str, reason: str) -> None:
        self.problems.append((where, reason))

    def _budget(self, where: str, size: int) -> bool:
        lim = self.limits
        if len(self.files) >= lim.max_members:
            self.refuse(where, f"more than {lim.max_members} files: the rest are not taken")
            return False
        if self.total + max(size, 0) > lim.max_total_bytes:
            self.refuse(where, f"the source's expanded size limit ({lim.max_total_bytes} bytes) is reached: refused")
            return False
        return True

    def _container_budget(self, container_size: int) -> int:
        lim = self.limits
        return int(max(lim.ratio_floor_bytes, lim.max_ratio * max(container_size, 1)))

    def _free_name(self, relpath: str) -> str:
        """Where a member may go in the exhibit tree: a name already taken by an earlier file is handed to the
        later one (the earlier moves to a suffixed name); a name that is a folder of earlier members, or that
        lies under an earlier file, gets a suffixed name of its own. Each case is one named problem."""
        if relpath in self.by_name:
            i = self.by_name.pop(relpath)
            moved = self._unused(relpath)
            old = self.files[i]
            tree = self.case.vault.tree(self.tree_key)
            if self.reference_root is None and (tree / relpath).exists():
                (tree / moved).parent.mkdir(parents=True, exist_ok=True)
                os.replace(tree / relpath, tree / moved)
            old.relpath = moved
            self.by_name[moved] = i
            self.refuse(relpath, f"two members with this name: the later one keeps it, the earlier is kept as {moved}")
            return relpath
        if relpath in self.dirs:
            alt = self._unused(relpath)
            self.refuse(relpath, f"a file with the name of a folder of earlier members: kept as {alt}")
            return alt
        # each folder above it, shortest first ("/".join of the first k parts is the text before the k-th "/")
        i = relpath.find("/")
        while i >= 0:
            head = relpath[:i]
            if head in self.by_name:
                alt = self._unused(head) + relpath[i:]
                self.refuse(relpath, f"lies under {head}, which is an earlier file, not a folder: kept as {alt}")
                return self._free_name(alt) if alt in self.by_name or alt in self.dirs else alt
            i = relpath.find("/", i + 1)
        return relpath

    def _unused(self, relpath: str) -> str:
        n = 1
        while f"{relpath}~{n}" in self.by_name or f"{relpath}~{n}" in self.dirs:
            n += 1
        return f"{relpath}~{n}"

    def _record(self, f: StagedFile) -> None:
        self.by_name[f.relpath] = len(self.files)
        self.files.append(f)
        # its folders, longest first: once one is known, so are those above it (each was added with its own)
        rel, dirs = f.relpath, self.dirs
        i = rel.rfind("/")
        while i >= 0:
            head = rel[:i]
            if head in dirs:
                break
            dirs.add(head)
            i = rel.rfind("/", 0, i)

    def add_stream(self, relpath: str, fh: IO[bytes], declared_size: int, depth: int) -> None:
        if not self._budget(relpath, declared_size):
            return
        try:
            d, head = self.case.vault.put_stream_head(fh, HEAD_BYTES if self.heads_left > 0 else 0,
                                                      limit=max(declared_size, 0) + 1 if declared_size >= 0 else None)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, tarfile.TarError) as e:
            self.refuse(relpath, f"could not be read: {e}")
            return
        self.place(relpath, d, depth, head if self.heads_left > 0 else None)

    def place(self, relpath: str, d: Digests, depth: int, head: bytes | None = None) -> None:
        """A content now in the vault takes its place in the exhibit tree and the file list (a zip is opened);
        ``head``: its first bytes, kept for recognition when this call links it into the tree."""
        self.total += d.size
        relpath = self._free_name(relpath)
        linked = False
        try:
            linked = self.case.vault.link_into_tree(self.tree_key, relpath, d.sha256)
        except OSError as e:  # recorded all the same: the object is in the vault and must not be orphaned
            self.refuse(relpath, f"kept in the vault but not placed in the exhibit tree: {e}")
        f = StagedFile(relpath, d.size, d.sha256, d.sha1, d.md5)
        if linked and head is not None:
            f.head = head
            self.heads_left -= len(head)
        self._record(f)
        if relpath.lower().endswith(".zip"):
            obj = self.case.vault.object_path(d.sha256)
            if zipfile.is_zipfile(obj):
                if depth < self.limits.nested_zip_depth:
                    self.add_zip(obj, relpath + "!", depth + 1)
                else:
                    self.refuse(relpath, f"a zip nested deeper than {self.limits.nested_zip_depth} levels: "
                                         "kept whole, not opened")

    def add_path(self, relpath: str, path: Path | str, depth: int = 0, size_hint: int = -1) -> None:
        """One file of a folder (``size_hint``: its size when listed, to size the read)."""
        if self.reference_root is not None:
            try:
                d = digest_file(Path(path))
            except OSError as e:
                self.refuse(relpath, f"could not be read: {e}")
                return
            self.total += d.size
            self._record(StagedFile(relpath, d.size, d.sha256, d.sha1, d.md5))
            return
        # by descriptor, not a buffered file object: the same reads as add_stream's, for a fraction of the CPU
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
        except OSError as e:
            self.refuse(relpath, f"could not be opened: {e}")
            return
        try:
            self._add_fd(relpath, fd, depth, size_hint)
        except OSError as e:  # as ever: what fails past the read while the file is open
            self.refuse(relpath, f"could not be opened: {e}")
        finally:
            os.close(fd)

    def _add_fd(self, relpath: str, fd: int, depth: int, size_hint: int) -> None:
        """``add_stream`` of a file open at ``fd``."""
        if not self._budget(relpath, -1):
            return
        take = HEAD_BYTES if self.heads_left > 0 else 0
        try:
            d, head = self.case.vault.put_fd_head(fd, take, size_hint)
        except (OSError, ValueError) as e:
            self.refuse(relpath, f"could not be read: {e}")
            return
        self.place(relpath, d, depth, head if take else None)

    def add_folder(self, root: Path) -> None:
        """Every regular file under ``root``, in a stable order (names sorted, folder by folder). The files are
        read (copied into the vault, or only hashed in reference mode) by a few threads at once, since hashing and
        file I/O release the GIL; what each read gives is placed, and every refusal recorded, in walk order, so the
        file list and the problems are those of a one-file-at-a-time intake. Paths are strings (no Path for each
        of tens of thousands of files)."""
        events: list[tuple[str, str, int]] = []  # (relpath, file to read, size listed) or (where, why refused, -1)
        listed = 0  # bytes of the files listed
        base = os.fspath(root)
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            prefix = dirpath[len(base):].lstrip("/")
            prefix = prefix + "/" if prefix else ""
            dirnames.sort()
            for dn in list(dirnames):
                if os.path.islink(os.path.join(dirpath, dn)):  # os.walk lists it as a folder and never enters it
                    rel, _ = display_name(prefix + dn)
                    events.append((rel, "symbolic link to a folder: not followed", -1))
                    dirnames.remove(dn)
            for fn in sorted(filenames):
                p = os.path.join(dirpath, fn)
                rel, raw = display_name(prefix + fn)
                if raw is not None:
                    events.append((rel, f"file name is not valid UTF-8 (raw bytes {raw.hex()}): kept as {rel}", -1))
                try:
                    st = os.lstat(p)
                except OSError as e:
                    events.append((rel, f"could not be read: {e}", -1))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    events.append((rel, "not a regular file (link or device): not followed", -1))
                    continue
                events.append((rel, p, st.st_size))
                listed += st.st_size
        self._take_files(events, listed)

    def _take_files(self, events: list[tuple[str, str, int]], listed: int) -> None:
        """``events``: (relpath, path of a file to read, its listed size) or (where, why it is refused, -1)."""
        n = sum(1 for _, _, size in events if size >= 0)
        lim = self.limits
        # a budget can only refuse a file once the files before it used it up: when the listed files (with room
        # for growth) fit, none can be refused by it and they are read side by side; else one by one, as ever
        parallel = (READ_THREADS > 0 and n > 1 and listed >= n * THREADED_MEAN_BYTES
                    and len(self.files) + n < lim.max_members
                    and self.total + 2 * listed + 2**20 * n < lim.max_total_bytes)
        if not parallel:
            check = self.cancel
            for where, x, size in events:
                if check is not None and check.is_set():
                    self._check_cancel()
                if size >= 0:
                    self.add_path(where, x, 0, size)
                else:
                    self.refuse(where, x)
            return
        from concurrent.futures import ThreadPoolExecutor

        reference = self.reference_root is not None
        reading = self._read_reference if reference else self._read_into_vault
        with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="ringtrace-intake") as pool:
            pending: deque[tuple[str, str | Future[_Read]]] = deque()
            it = iter(events)
            reads = 0  # files being read now
            while True:
                while reads < 8 * READ_THREADS:
                    ev = next(it, None)
                    if ev is None:
                        break
                    where, x, size = ev
                    if size >= 0:
                        pending.append((where, pool.submit(reading, x)))
                        reads += 1
                    else:
                        pending.append((where, x))
                if not pending:
                    break
                self._check_cancel()
                where, y = pending.popleft()
                if isinstance(y, str):
                    self.refuse(where, y)
                    continue
                reads -= 1
                d, error = y.result()
                if reference:  # as add_path: no budget in reference mode
                    if d is None:
                        self.refuse(where, str(error))
                    else:
                        self.total += d.size
                        self._record(StagedFile(where, d.size, d.sha256, d.sha1, d.md5))
                elif d is None and str(error).startswith("could not be opened"):
                    self.refuse(where, str(error))  # add_path: the open comes before the budget
                elif self._budget(where, -1):
                    if d is None:
                        self.refuse(where, str(error))
                    else:
                        self.place(where, d, 0)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise IntakeError(f"{self.origin}: recording stopped (the ingest it belongs to failed)")

    def _read_into_vault(self, path: str) -> _Read:
        """A thread's work: one file copied into the vault and hashed, or why it could not be."""
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as e:
            return None, f"could not be opened: {e}"
        try:
            with fh:
                return self.case.vault.put_stream(fh), None
        except (OSError, ValueError) as e:
            return None, f"could not be read: {e}"

    @staticmethod
    def _read_reference(path: str) -> _Read:
        try:
            return digest_file(Path(path)), None
        except OSError as e:
            return None, f"could not be read: {e}"

    def add_zip(self, path: Path, prefix: str, depth: int = 0) -> None:
        where = prefix.rstrip("!") or path.name
        patched_fh: _ClearUtf8Flag | None = None
        try:
            zf = zipfile.ZipFile(path)
        except UnicodeDecodeError:  # a name flagged UTF-8 that is not: read the names as raw bytes instead
            try:
                patched_fh = _ClearUtf8Flag(path)
                zf = zipfile.ZipFile(cast(IO[bytes], patched_fh), metadata_encoding="cp437")
            except (zipfile.BadZipFile, OSError, ValueError) as e:  # UnicodeDecodeError is a ValueError
                if patched_fh is not None:
                    patched_fh.close()
                self.refuse(where, f"not a readable zip (a member name is marked UTF-8 and is not): {e}")
                return
        except (zipfile.BadZipFile, OSError) as e:
            self.refuse(where, f"not a readable zip: {e}")
            return
        budget, expanded = self._container_budget(path.stat().st_size), 0
        with zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            flagged: dict[int, bool] = {}
            if patched_fh is not None:
                flagged = dict(zip((id(i) for i in zf.infolist()), patched_fh.flagged, strict=False))
            for k, info in enumerate(members):
                raw_name = info.orig_filename
                if flagged.get(id(info)):  # read as cp437, one character a byte: back to the bytes, then UTF-8
                    raw_name = info.orig_filename.encode("cp437").decode("utf-8", "surrogateescape")
                if "\x00" in raw_name:
                    self.refuse(f"{where}:{raw_name!r}", "NUL inside the member name: refused")
                    continue
                clean = safe_member_name(raw_name)
                if clean is None:
                    self.refuse(f"{where}:{display_name(raw_name)[0]!r}", "unsafe member path (absolute or '..'): "
                                                                          "refused")
                    continue
                name, raw = display_name(clean)  # escaped after the path is cleaned: '\\' is no separator here
                if raw is not None:
                    self.refuse(f"{where}:{name}", f"member name is not valid UTF-8 (raw bytes {raw.hex()}): "
                                                   f"kept as {name}")
                if expanded + info.file_size > budget:
                    lim = self.limits
                    self.refuse(f"{where}:{name}", f"the zip would expand past {budget} bytes (its size x "
                                                   f"{lim.max_ratio:g}, at least {lim.ratio_floor_bytes}): "
                                                   f"this and {len(members) - k - 1} later members refused")
                    break
                expanded += info.file_size
                mode = (info.external_attr >> 16) & 0o170000
                if mode == stat.S_IFLNK:
                    self.refuse(f"{where}:{name}", "symbolic link inside the zip: refused")
                    continue
                if info.compress_size and info.file_size > 100 * 1024**2 and (
                    info.file_size / max(info.compress_size, 1) > MAX_RATIO
                ):
                    self.refuse(f"{where}:{name}", "compression ratio looks like a zip bomb: refused")
                    continue
                rel = f"{prefix}/{name}" if prefix else name
                try:
                    with zf.open(info) as fh:
                        self.add_stream(rel, cast(IO[bytes], _Bounded(fh, info.file_size)), info.file_size, depth)
                except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError) as e:
                    self.refuse(f"{where}:{name}", f"could not be read: {e}")
        if patched_fh is not None:  # a file object handed to ZipFile is not closed by it
            patched_fh.close()

    def add_tar(self, path: Path, prefix: str) -> None:
        try:
            tf = tarfile.open(path)
        except (tarfile.TarError, OSError) as e:
            self.refuse(path.name, f"not a readable tar: {e}")
            return
        budget, expanded = self._container_budget(path.stat().st_size), 0
        seen: set[str] = set()  # safe names of the regular members read so far (hard-link targets)
        with tf:
            try:
                for m in tf:
                    clean = safe_member_name(m.name)
                    if clean is None:
                        self.refuse(f"{path.name}:{display_name(m.name)[0]!r}",
                                    "unsafe member path (absolute or '..'): refused")
                        continue
                    name, raw = display_name(clean)
                    if raw is not None:
                        self.refuse(f"{path.name}:{name}", f"member name is not valid UTF-8 (raw bytes "
                                                           f"{raw.hex()}): kept as {name}")
                    if m.islnk():
                        target = safe_member_name(m.linkname)
                        if target is None or display_name(target)[0] not in seen:
                            self.refuse(f"{path.name}:{name}", "hard link to a member not earlier in the tar: refused")
                            continue
                        size = tf.getmember(m.linkname).size if m.size == 0 else m.size
                    elif not m.isreg():
                        if not m.isdir():
                            self.refuse(f"{path.name}:{name}", "not a regular file (link or device): refused")
                        continue
                    else:
                        size = m.size
                    if expanded + size > budget:
                        self.refuse(f"{path.name}:{name}", f"the tar would expand past {budget} bytes (its size x "
                                                           f"{self.limits.max_ratio:g}, at least "
                                                           f"{self.limits.ratio_floor_bytes}): this and later "
                                                           "members refused")
                        break
                    fh = tf.extractfile(m)
                    if fh is None:
                        continue
                    expanded += size
                    seen.add(name)
                    rel = f"{prefix}/{name}" if prefix else name
                    self.add_stream(rel, cast(IO[bytes], _Bounded(fh, size)), size, 0)
            except (tarfile.TarError, OSError, EOFError) as e:
                self.refuse(path.name, f"tar is damaged after {len(self.files)} files: {e}")


class _Bounded(io.RawIOBase):
    """Reads at most ``limit`` bytes: a member that expands past what its header declared is cut off."""

    def __init__(self, fh: IO[bytes], limit: int) -> None:
        self.fh = fh
        self.left = limit

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.fh.read(n)
        self.left -= len(data)
        return data


class _ClearUtf8Flag(io.RawIOBase):
    """The zip's bytes with the 'name is UTF-8' flag cleared in every central-directory entry, so that a name
    flagged UTF-8 that is not can still be read (as raw bytes: cp437 maps each byte to one character)."""

    def __init__(self, path: Path) -> None:
        self.fh = path.open("rb")
        self.patches: list[int] = []  # offsets of the flag's second byte in central-directory and local headers
        self.flagged: list[bool] = []  # per central-directory entry: was its name flagged UTF-8
        data_len = path.stat().st_size
        tail_len = min(data_len, 65_557)
        self.fh.seek(data_len - tail_len)
        tail = self.fh.read(tail_len)
        eocd = tail.rfind(b"PK\x05\x06")
        if eocd >= 0 and eocd + 22 <= len(tail):
            cd_size = int.from_bytes(tail[eocd + 12:eocd + 16], "little")
            cd_off = int.from_bytes(tail[eocd + 16:eocd + 20], "little")
            cd_off = data_len - tail_len + eocd - cd_size  # as zipfile does (archives with a prefix)
            self.fh.seek(cd_off)
            cd = self.fh.read(min(cd_size, 64 * 1024**2))
            pos = 0
            while pos + 46 <= len(cd) and cd[pos:pos + 4] == b"PK\x01\x02":
                self.flagged.append(bool(cd[pos + 9] & 0x08))
                self.patches.append(cd_off + pos + 9)
                local = int.from_bytes(cd[pos + 42:pos + 46], "little")
                self.fh.seek(local)
                if self.fh.read(4) == b"PK\x03\x04":  # only ever a flag byte of a real header is changed
                    self.patches.append(local + 7)
                n, x, c = (int.from_bytes(cd[pos + o:pos + o + 2], "little") for o in (28, 30, 32))
                pos += 46 + n + x + c
        self.fh.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fh.seek(offset, whence)

    def tell(self) -> int:
        return self.fh.tell()

    def read(self, n: int = -1) -> bytes:
        start = self.fh.tell()
        data = bytearray(self.fh.read(n))
        for p in self.patches:
            if start <= p < start + len(data):
                data[p - start] &= ~0x08 & 0xFF
        return bytes(data)

    def close(self) -> None:
        self.fh.close()
        super().close()


def _manifest_digest(files: list[StagedFile]) -> tuple[str, str]:
    s, m = hashlib.sha256(), hashlib.md5()  # noqa: S324 - forensic digest
    for f in sorted(files, key=lambda f: f.relpath):
        line = f"{f.sha256}  {f.relpath}\n".encode()
        s.update(line)
        m.update(line)
    return s.hexdigest(), m.hexdigest()


@dataclass
class _Batch:
    """What the sources staged so far in one ``ingest_many`` claim before they are in the database."""

    shas: set[str] = field(default_factory=set)  # identities of the new sources
    exhibits: dict[str, tuple[str, str]] = field(default_factory=dict)  # explicit number -> (kind, original path)


@dataclass
class _Staged:
    """A source checked and recorded (its files in the vault and its exhibit tree), not yet in the database."""

    path: Path
    exhibit: str | None
    kind: str
    timezone: str
    owner: str | None
    region: str | None
    seizure_country: str | None
    format: str | None
    copy_image: bool
    password_given: bool
    container_sha: str = ""
    container_md5: str = ""
    size: int = 0
    mode: str = "vault"
    stager: _Stager | None = None
    disk: Any = None
    already: bool = False  # the same source is in the case, or staged before in this batch: nothing to add
    fresh_tree: str | None = None  # the exhibit tree this staging made (dropped if the source is refused after)
    prepared: Any = None  # what parsing needs (parse._Prepared), when asked for at staging


def _stage(case: Case, path: Path, exhibit: str | None = None, format: str | None = None, timezone: str = "UTC",
           owner: str | None = None, region: str | None = None, seizure_country: str | None = None,
           reference: bool = False, key: str | None = None, limits: IntakeLimits | None = None,
           copy_image: bool = False, password: str | None = None, batch: _Batch | None = None,
           cancel: threading.Event | None = None) -> _Staged:
    """Check every option (IntakeError with the reason) and record the source into the vault: what ``ingest``
    does before it writes to the database. ``batch``: the sources staged before this one and not yet stored."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not path.exists():
        raise IntakeError(f"{path}: no such file or folder")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise IntakeError(f"{timezone!r} is not a time zone name (use an IANA name like Europe/Madrid)") from e
    region = _check_country(region, "--region")
    seizure_country = _check_country(seizure_country, "--seizure-country")
    owner = _check_owner(owner, region)
    _check_format(format)
    _check_key(key)
    if password is not None and not password:
        raise IntakeError("--password: an empty password cannot open a backup")
    if exhibit is not None:
        _check_exhibit_name(exhibit)
    kind = _container_kind(path)
    disk = None
    if kind == "disk":
        from ringtrace.stages.intake_disk import DiskExtraMissing, open_disk

        try:
            disk = open_disk(path)
        except DiskExtraMissing as e:
            raise IntakeError(f"{path}: looks like a disk image, but {e}") from e
        kind = "disk" if disk is not None else "file"
    st = _Staged(path, exhibit, kind, timezone, owner, region, seizure_country, format, copy_image,
                 password is not None, disk=disk)

    def known(sha: str) -> bool:
        return _existing(case, sha) is not None or (batch is not None and sha in batch.shas)

    def check_exhibit() -> None:
        if exhibit is None:
            return
        _check_exhibit_free(case, exhibit, path)
        earlier = batch.exhibits.get(exhibit) if batch is not None else None
        if earlier is not None and not (kind == "folder" and earlier == ("folder", str(path.resolve()))):
            raise IntakeError(f"exhibit number {exhibit} is already used in this case (by {earlier[1]}): "
                              "give another with --exhibit")

    refused: list[IntakeError] = []

    def keep(d: Digests) -> bool:
        """Whether the container just hashed is kept: not when the source is known, or its number is taken."""
        if known(d.sha256):
            return False
        try:
            check_exhibit()
        except IntakeError as e:
            refused.append(e)
            return False
        return True

    # identity of the source: the container's own digest, the disk's media, or the manifest of a folder
    ref_root = path if (reference and kind in ("folder", "file")) else None
    kept: Digests | None = None  # a file or container copied into the vault by the very read that hashed it
    hashed: Digests | None = None  # or only hashed (reference mode)
    if kind == "folder":
        pass
    elif disk is not None:
        st.container_sha, st.container_md5, st.size = disk.digests.sha256, disk.digests.md5, disk.media_size
    elif reference:
        hashed = digest_file(path)
        st.container_sha, st.container_md5, st.size = hashed.sha256, hashed.md5, hashed.size
    else:  # the container itself is evidence too: kept whole (beside its members), unless already in the case
        kept = case.vault.put_file(path, keep=keep)
        st.container_sha, st.container_md5, st.size = kept.sha256, kept.md5, kept.size
    if kind != "folder" and known(st.container_sha):
        st.already = True
        return st
    if refused:
        raise refused[0]
    check_exhibit()

    tree_key = st.container_sha or hashlib.sha256(str(path.resolve()).encode()).hexdigest()
    fresh = not case.vault.tree(tree_key).exists()
    stager = st.stager = _Stager(case, tree_key, ref_root, str(path), limits)
    stager.cancel = cancel
    if kind == "folder":
        stager.add_folder(path)
    elif disk is not None:
        from ringtrace.stages.intake_disk import copy_segments, stage_disk

        stager.problems.extend(disk.problems)
        if copy_image:
            copy_segments(stager, disk)
        stage_disk(stager, disk)
    elif kind == "zip":
        stager.add_zip(path, path.name + "!")
    elif kind == "tar":
        stager.add_tar(path, "")
    elif kept is not None:  # a single file, read once: hashed and kept above
        if stager._budget(path.name, -1):
            stager.place(path.name, kept, 0)
    elif hashed is not None:  # a single file in reference mode: hashed above, left where it is
        stager.total += hashed.size
        stager._record(StagedFile(path.name, hashed.size, hashed.sha256, hashed.sha1, hashed.md5))

    if kind == "folder":
        st.container_sha, st.container_md5 = _manifest_digest(stager.files)
        st.size = sum(f.size for f in stager.files)
        if known(st.container_sha):
            shutil.rmtree(case.vault.tree(tree_key), ignore_errors=True)  # staged again for nothing: drop it
            st.already = True
            return st
        # the tree was built under a path-derived key; name it by content like every other source
        final = case.vault.tree(st.container_sha)
        fresh = not final.exists()
        if fresh and case.vault.tree(tree_key).exists():
            os.replace(case.vault.tree(tree_key), final)
        tree_key = st.container_sha
    st.fresh_tree = tree_key if fresh else None
    st.mode = "reference" if ref_root is not None else "vault"
    if disk is not None:  # the image stays where it lies unless a copy was asked for; its files are in the vault
        st.mode = "vault" if copy_image else "in-place"
    if batch is not None:
        batch.shas.add(st.container_sha)
        if exhibit is not None:
            batch.exhibits[exhibit] = (kind, str(path.resolve()))
    return st


def _heads(st: _Staged) -> dict[str, bytes]:
    """The heads staging kept of the files it put in a tree it made (an earlier tree's files are read, as ever),
    by relpath; then dropped from the staged files (up to HEADS_BUDGET bytes of memory)."""
    heads: dict[str, bytes] = {}
    if st.stager is None:
        return heads
    keep = st.fresh_tree is not None and st.mode != "reference"
    for f in st.stager.files:
        if keep and f.head is not None:
            heads[f.relpath] = f.head
        f.head = None
    return heads


def _commit(case: Case, st: _Staged, examiner: str | None) -> IntakeResult:
    """The staged source into the database (one transaction), or the source already there."""
    existing = _existing(case, st.container_sha)
    if st.already or existing is not None:
        if existing is None:
            raise IntakeError(f"{st.path}: staged as a copy of an earlier source that is not in the case")
        return IntakeResult(existing[0], existing[1], added=False)
    if st.exhibit is not None:
        try:  # numbers given to the sources stored since this one was staged (EX-nnn when none was given)
            _check_exhibit_free(case, st.exhibit, st.path)
        except IntakeError:
            if st.fresh_tree is not None:
                shutil.rmtree(case.vault.tree(st.fresh_tree), ignore_errors=True)
            raise
    stager, disk, path = st.stager, st.disk, st.path
    assert stager is not None
    kind, mode, size = st.kind, st.mode, st.size
    container_sha, container_md5, copy_image = st.container_sha, st.container_md5, st.copy_image
    now = datetime.now(UTC)
    with case.begin() as con:
        n = con.execute(select(sources.c.id).order_by(sources.c.id.desc()).limit(1)).scalar() or 0
        exhibit = st.exhibit or f"EX-{n + 1:03d}"
        sid = new_id(con.execute(
            sources.insert().values(
                exhibit=exhibit, kind=kind, original_path=str(path.resolve()), sha256=container_sha,
                md5=container_md5, size=size, file_count=len(stager.files),
                mode=mode, examiner=examiner or case.actor,
                timezone=st.timezone, owner=st.owner, region=st.region, seizure_country=st.seizure_country,
                format_hint=st.format, tool=TOOL, ingested_at=now, status="staged",
            )
        ))
        if stager.files:
            _insert_files(con, sid, stager.files)
        for where, reason in stager.problems:
            con.execute(problems.insert().values(source_id=sid, stage="intake", file=where, reason=reason,
                                                 severity="error", at=now))
        detail: dict[str, object] = {
            "source_id": sid, "exhibit": exhibit, "path": str(path.resolve()), "kind": kind,
            "sha256": container_sha, "md5": container_md5, "size": size, "files": len(stager.files),
            "mode": mode, "examiner": examiner or case.actor,
            "timezone": st.timezone, "owner": st.owner, "tool": TOOL, "refused": len(stager.problems),
            **({"password_given": True} if st.password_given else {}),
        }
        if disk is not None:
            from ringtrace.store.schema import disk_files, disk_images

            con.execute(disk_images.insert().values(**disk.image_row(sid, copy_image)))
            if disk.rows:
                con.execute(disk_files.insert(), [{**r, "source_id": sid} for r in disk.rows])
            detail["disk"] = {"image_type": disk.image_type, "segments": disk.segments, "sha1": disk.digests.sha1,
                              "stored_md5": disk.image.stored_md5 if disk.image else None,
                              "stored_sha1": disk.image.stored_sha1 if disk.image else None,
                              "verification": disk.verification, "files_found": len(disk.rows),
                              "files_kept": len(stager.files),
                              "deleted": sum(1 for r in disk.rows if r["deleted"])}
        case.log("source.ingest", detail, con)
    return IntakeResult(sid, exhibit, added=True, files=len(disk.rows) if disk is not None else len(stager.files),
                        problems=[f"{w}: {r}" for w, r in stager.problems])


def _insert_files(con: Connection, sid: int, files: list[StagedFile]) -> None:
    """A source's inventory: on SQLite by the driver's executemany (SQLAlchemy's dict executemany cost a medium
    ingest's writer ~4 s for 69k rows), the stored values the same (texts and integers as they are, ``embedded``
    0 as SQLAlchemy binds False); elsewhere through SQLAlchemy."""
    if driver_rows(con.dialect):
        cur = con.connection.cursor()
        try:
            cur.executemany('INSERT INTO "source_files" ("source_id", "relpath", "size", "sha256", "md5", "sha1", '
                            '"embedded") VALUES (?, ?, ?, ?, ?, ?, 0)',
                            [(sid, f.relpath, f.size, f.sha256, f.md5, f.sha1) for f in files])
        finally:
            cur.close()
        return
    con.execute(source_files.insert(), [{"source_id": sid, "relpath": f.relpath, "size": f.size, "sha256": f.sha256,
                                         "md5": f.md5, "sha1": f.sha1, "embedded": False} for f in files])


@writes_case
def ingest(
    case: Case,
    path: Path,
    exhibit: str | None = None,
    format: str | None = None,
    timezone: str = "UTC",
    examiner: str | None = None,
    owner: str | None = None,
    region: str | None = None,
    seizure_country: str | None = None,
    reference: bool = False,
    parse: bool = True,
    key: str | None = None,
    limits: IntakeLimits | None = None,
    copy_image: bool = False,
    password: str | None = None,
) -> IntakeResult:
    """Record, keep and parse one source. Ingesting the same source again adds nothing.

    A disk image is always read in place (``reference`` changes nothing for it); ``copy_image`` also keeps its
    segment files in the vault. ``key`` (an encrypted WhatsApp backup's key) and ``password`` (an encrypted iOS or
    Android backup's) reach the readers in memory only; the audit records that one was given, never what it is.
    Every option is checked before anything is stored; a bad one raises IntakeError with the reason."""
    st = _stage(case, path, exhibit=exhibit, format=format, timezone=timezone, owner=owner, region=region,
                seizure_country=seizure_country, reference=reference, key=key, limits=limits, copy_image=copy_image,
                password=password)
    result = _commit(case, st, examiner)
    if parse and result.added:
        from ringtrace.stages.parse import parse_source

        result.parse = parse_source(case, result.source_id, secrets=backup_secrets(key, password))
        if result.parse is not None and hasattr(result.parse, "problems"):
            result.parse.problems = _stored_problems(case, result.source_id, "parse")  # what is stored
    return result


def backup_secrets(key: str | None, password: str | None) -> dict[str, str] | None:
    """What the readers get in memory to open encrypted backups (ReadOptions.extra), or None."""
    secrets = {k: v for k, v in (("key", key), ("password", password)) if v}
    return secrets or None


@dataclass
class ExhibitSpec:
    """One source to ingest with what the investigators know of it at intake (``ingest``'s options)."""

    path: Path
    exhibit: str | None = None
    timezone: str = "UTC"
    owner: str | None = None
    region: str | None = None
    seizure_country: str | None = None
    format: str | None = None
    reference: bool = False
    copy_image: bool = False


@writes_case
def ingest_many(case: Case, specs: Sequence[ExhibitSpec], examiner: str | None = None,
                executor: Executor | None = None, progress: Progress = noop_progress) -> list[IntakeResult]:
    """Record, keep and parse several sources, each checked and recorded exactly as ``ingest`` does, in a pipeline:
    a thread records the sources one after another into the vault (a folder's files a few at a time) and
    recognises their units; those units are read at once through ``executor`` (worker processes; a local pool by
    default, see ``parse_sources``) while this process stores each recorded source and writes the records of the
    ones read, alone and in source then unit order, so the case is the one an exhibit by exhibit ingest gives.
    Whenever no unit waits for them, the workers hash the images and videos kept so far (the hash stage's work:
    ``hash.IdleHashing``), stored between the sources' transactions. Should one source be refused (IntakeError),
    those before it are still parsed before the error is raised."""
    import queue

    from ringtrace.compute import SerialExecutor, make_executor
    from ringtrace.model import ReadOptions
    from ringtrace.stages.hash import IdleHashing
    from ringtrace.stages.parse import UnitStream, prepare_staged

    if len(specs) <= 1:  # nothing to overlap: as before, recorded then parsed as parse_sources chooses
        return _ingest_then_parse(case, specs, examiner, executor, progress)
    own = executor is None
    ex = executor or make_executor(os.environ.get("RINGTRACE_EXECUTOR") or "local")
    serial = isinstance(ex, SerialExecutor)
    batch = _Batch()
    staged: queue.Queue[tuple[str, _Staged | BaseException | None]] = queue.Queue()
    cancel = threading.Event()

    def record_all() -> None:  # the recording thread: no database writes here, only reads
        try:
            for sp in specs:
                if cancel.is_set():
                    return
                st = _stage(case, sp.path, exhibit=sp.exhibit, format=sp.format, timezone=sp.timezone, owner=sp.owner,
                            region=sp.region, seizure_country=sp.seizure_country, reference=sp.reference,
                            copy_image=sp.copy_image, batch=batch, cancel=cancel)
                if not st.already and st.stager is not None:
                    root = (case.vault.tree(st.container_sha) if st.mode != "reference"
                            else (st.path if st.kind == "folder" else st.path.parent))
                    st.prepared = prepare_staged(root, [(f.relpath, f.size) for f in st.stager.files],
                                                 ReadOptions(timezone=st.timezone or "UTC", owner=st.owner,
                                                             region=st.region),
                                                 st.format, str(st.path.resolve()), _heads(st))
                staged.put(("staged", st))
            staged.put(("end", None))
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread, which raises it
            staged.put(("error", e))

    stream = UnitStream(ex, 2 * int(getattr(ex, "workers", 2)), case)
    waiting: deque[_Staged] = deque()  # recorded, units handed to the stream, not yet stored
    failure: list[BaseException] = []
    finished = False

    def take(block: bool) -> None:
        """Sources the thread has recorded since: their units go to the workers at once. Waiting for one (no
        transaction open), the contents hashed meanwhile are stored."""
        nonlocal finished
        while not finished:
            try:
                what, item = staged.get(block=block, timeout=0.5 if block and hashing is not None else None)
            except queue.Empty:
                if block and hashing is not None:
                    hashing.store()
                    continue
                return
            block = False
            if what == "staged":
                assert isinstance(item, _Staged)
                waiting.append(item)
                if item.prepared is not None and not serial:
                    stream.add(item.prepared)
            else:
                finished = True
                if isinstance(item, BaseException):
                    failure.append(item)

    stream.feed = lambda: take(False)
    thread = threading.Thread(target=record_all, name="ringtrace-record", daemon=True)
    results: list[IntakeResult] = []
    progress("ingest", 0, len(specs))
    ex.start()  # workers forked before the recording thread runs: none inherits a lock it holds
    # what the workers hash while no unit can be handed to them (the hash stage's work, done before it runs); that
    # includes while both windows wait for the writer, which is then the bottleneck (without hashing there the
    # workers idled: 1.75 -> 1.83 busy cores on medium)
    hashing = None if serial else IdleHashing(case, ex, lambda: stream.none_to_hand_out)
    thread.start()
    try:
        while True:
            take(block=not waiting)
            if not waiting:
                break
            # store the next source recorded (no write transaction is open here), then write its records, and only
            # then store the one after it: the rows of both (intake's, then the parse's, embedded files and problems
            # among them) take their ids in the order of an exhibit by exhibit ingest, however far the recording
            # thread has got; meanwhile the workers read the units of the sources recorded since
            st = waiting.popleft()
            try:
                r = _commit(case, st, examiner)
            except IntakeError as e:
                failure.append(e)
                cancel.set()
                waiting.clear()
                finished = True
                break
            results.append(r)
            progress("ingest", len(results), len(specs))
            if hashing is not None and r.added and st.mode != "reference" and st.stager is not None:
                hashing.add(f.sha256 for f in st.stager.files)  # kept in the vault
            if r.added and st.prepared is not None:
                prep = st.prepared
                prep.source_id, prep.exhibit = r.source_id, r.exhibit
                if serial:
                    from ringtrace.stages.parse import _stream_unit, _write_source

                    r.parse = _write_source(case, prep, (_stream_unit(u, prep.opts) for u in prep.units), progress)
                else:
                    r.parse = stream.write(case, prep, progress)
                r.parse.problems = _stored_problems(case, r.source_id, "parse")  # what is stored
                if hashing is not None:
                    hashing.add(_embedded_contents(case, r.source_id))  # found inside containers, kept by the parse
                    hashing.store()
                take(False)
            if finished and not waiting:
                break
        if hashing is not None and not failure:
            n = hashing.finish()
            if n:
                case.log("stage.hash", {"hashed": n, "during": "ingest"})
    finally:
        cancel.set()
        thread.join()
        if hashing is not None:
            hashing.close()
        if own:
            ex.close()
    if failure:
        raise failure[0]
    return results


def _ingest_then_parse(case: Case, specs: Sequence[ExhibitSpec], examiner: str | None, executor: Executor | None,
                       progress: Progress) -> list[IntakeResult]:
    from ringtrace.stages.parse import parse_sources

    results: list[IntakeResult] = []
    try:
        for i, sp in enumerate(specs):
            progress("ingest", i, len(specs))
            results.append(ingest(case, sp.path, exhibit=sp.exhibit, format=sp.format, timezone=sp.timezone,
                                  examiner=examiner, owner=sp.owner, region=sp.region,
                                  seizure_country=sp.seizure_country, reference=sp.reference,
                                  copy_image=sp.copy_image, parse=False))
        progress("ingest", len(specs), len(specs))
    finally:
        added = [r for r in results if r.added]
        for r, parsed in zip(added, parse_sources(case, [r.source_id for r in added], executor, progress),
                             strict=True):
            r.parse = parsed
            parsed.problems = _stored_problems(case, r.source_id, "parse")  # what is stored, not what was written
    return results


def _embedded_contents(case: Case, source_id: int) -> list[str]:
    with case.engine.connect() as con:
        return [r[0] for r in con.execute(select(source_files.c.sha256).where(source_files.c.source_id == source_id)
                                          .where(source_files.c.embedded.is_(True)))]


def _stored_problems(case: Case, source_id: int, stage: str) -> int:
    with case.engine.connect() as con:
        return int(con.execute(select(func.count()).select_from(problems)
                               .where(problems.c.source_id == source_id).where(problems.c.stage == stage)).scalar()
                   or 0)


def _check_country(code: str | None, option: str) -> str | None:
    """An ISO 3166 alpha-2 code (any case) as upper case, or IntakeError."""
    import phonenumbers

    if code is None:
        return None
    c = code.strip().upper()
    if len(c) != 2 or not c.isascii() or not c.isalpha() or c not in phonenumbers.SUPPORTED_REGIONS:
        raise IntakeError(f"{option} {code[:40]!r} is not an ISO 3166 alpha-2 country code (like ES, IT, GB)")
    return c


def _check_owner(owner: str | None, region: str | None) -> str | None:
    """The device owner's number as E.164, or IntakeError."""
    from ringtrace.phones import to_e164

    if owner is None:
        return None
    e164 = to_e164(owner, region, bare_digits_international=region is None)
    if e164 is None:
        raise IntakeError(f"--owner {owner[:40]!r} is not a valid phone number (give it in E.164, like +34612345678"
                          ", or national with --region)")
    return e164


def _check_format(format: str | None) -> None:
    if format is None:
        return
    from ringtrace.sources.base import canonical_format, registry

    known = sorted(registry())
    if canonical_format(format) not in known:  # old ids are still accepted
        raise IntakeError(f"--format {format[:40]!r} is not a known source format (known: {', '.join(known)})")


def _check_key(key: str | None) -> None:
    """A key that cannot be loaded (no such file, wrong size or content) is refused now, not at parse time."""
    if key is None:
        return
    from ringtrace.sources.whatsapp.crypt import CryptError, load_key

    try:
        load_key(key)
    except CryptError as e:
        raise IntakeError(f"--key: {e}") from e


def _check_exhibit_name(exhibit: str) -> None:
    if not exhibit.strip() or len(exhibit) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in exhibit):
        raise IntakeError(f"exhibit number {exhibit[:64]!r} must be 1 to 64 printable characters")


def _check_exhibit_free(case: Case, exhibit: str, path: Path) -> None:
    """Exhibit numbers are unique per case; a folder ingested again under its own number is let through (it is
    recognised by its manifest once staged)."""
    with case.engine.connect() as con:
        row = con.execute(select(sources.c.kind, sources.c.original_path).where(sources.c.exhibit == exhibit)).first()
    if row is None or (row.kind == "folder" and row.original_path == str(path.resolve())):
        return
    raise IntakeError(f"exhibit number {exhibit} is already used in this case (by {row.original_path}): "
                      "give another with --exhibit")


def _existing(case: Case, sha256: str) -> tuple[int, str] | None:
    with case.engine.connect() as con:
        row = con.execute(select(sources.c.id, sources.c.exhibit).where(sources.c.sha256 == sha256)).first()
    return (row.id, row.exhibit) if row else None
