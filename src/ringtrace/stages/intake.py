"""Evidence intake: record a source (chain of custody), keep it in the vault, then parse it.

A source is a file, a folder, a zip or a tar. Every file read is hashed (SHA-256, SHA-1, MD5) and, unless
``reference`` mode is asked for, copied into the content-addressed vault; the exhibit's layout is rebuilt
under ``vault/trees/<source sha256>`` so parsers can find siblings by path. The original is only ever read.

Containers are hostile: member names with ``..``, absolute paths, drive letters or NUL, links, and members that
would blow past the size or count limits are refused with a problem that names the container and the member;
the rest is taken. A zip found inside an exhibit is opened too (to a bounded depth), its members under
``<name>.zip!/``; so is a zip ingested directly, so that an export's name (which carries the chat title) is kept.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, cast

from sqlalchemy import select

from ringtrace._version import TOOL
from ringtrace.case import Case
from ringtrace.store import new_id
from ringtrace.store.schema import problems, source_files, sources
from ringtrace.vault import digest_file

if TYPE_CHECKING:
    from ringtrace.stages.parse import ParseResult

MAX_MEMBERS = 2_000_000
MAX_TOTAL_BYTES = 2 * 1024**4  # 2 TiB of expanded content per source
MAX_RATIO = 200  # compression ratio above which a big member is treated as a bomb
NESTED_ZIP_DEPTH = 2
SNIFF_ZIP = b"PK\x03\x04"


class IntakeError(Exception):
    pass


@dataclass
class StagedFile:
    relpath: str
    size: int
    sha256: str
    sha1: str
    md5: str


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
    parts = [p for p in PurePosixPath(n).parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def _container_kind(path: Path) -> str:
    if path.is_dir():
        return "folder"
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == SNIFF_ZIP and zipfile.is_zipfile(path):
        return "zip"
    try:
        if tarfile.is_tarfile(path):
            return "tar"
    except (OSError, tarfile.TarError):
        pass
    return "file"


class _Stager:
    """Puts members into the vault and the exhibit tree, keeping count and the problems met."""

    def __init__(self, case: Case, tree_key: str, reference_root: Path | None, origin: str) -> None:
        self.case = case
        self.tree_key = tree_key
        self.reference_root = reference_root  # files stay where they are (reference mode)
        self.origin = origin
        self.files: list[StagedFile] = []
        self.problems: list[tuple[str, str]] = []
        self.total = 0

    def refuse(self, where: str, reason: str) -> None:
        self.problems.append((where, reason))

    def _budget(self, where: str, size: int) -> bool:
        if len(self.files) >= MAX_MEMBERS:
            self.refuse(where, f"more than {MAX_MEMBERS} files: the rest are not taken")
            return False
        if self.total + size > MAX_TOTAL_BYTES:
            self.refuse(where, "the source's expanded size limit is reached")
            return False
        return True

    def add_stream(self, relpath: str, fh: IO[bytes], declared_size: int, depth: int) -> None:
        if not self._budget(relpath, declared_size):
            return
        try:
            d = self.case.vault.put_stream(fh, limit=max(declared_size, 0) + 1 if declared_size >= 0 else None)
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, tarfile.TarError) as e:
            self.refuse(relpath, f"could not be read: {e}")
            return
        self.total += d.size
        self.case.vault.link_into_tree(self.tree_key, relpath, d.sha256)
        self.files.append(StagedFile(relpath, d.size, d.sha256, d.sha1, d.md5))
        if depth < NESTED_ZIP_DEPTH and relpath.lower().endswith(".zip"):
            obj = self.case.vault.object_path(d.sha256)
            if zipfile.is_zipfile(obj):
                self.add_zip(obj, relpath + "!", depth + 1)

    def add_path(self, relpath: str, path: Path, depth: int = 0) -> None:
        if self.reference_root is not None:
            try:
                d = digest_file(path)
            except OSError as e:
                self.refuse(relpath, f"could not be read: {e}")
                return
            self.total += d.size
            self.files.append(StagedFile(relpath, d.size, d.sha256, d.sha1, d.md5))
            return
        try:
            with path.open("rb") as fh:
                self.add_stream(relpath, fh, -1, depth)
        except OSError as e:
            self.refuse(relpath, f"could not be opened: {e}")

    def add_folder(self, root: Path) -> None:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            for fn in sorted(filenames):
                p = Path(dirpath) / fn
                rel = p.relative_to(root).as_posix()
                try:
                    st = p.lstat()
                except OSError as e:
                    self.refuse(rel, f"could not be read: {e}")
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.refuse(rel, "not a regular file (link or device): not followed")
                    continue
                self.add_path(rel, p)

    def add_zip(self, path: Path, prefix: str, depth: int = 0) -> None:
        where = prefix.rstrip("!") or path.name
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            self.refuse(where, f"not a readable zip: {e}")
            return
        with zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                name = safe_member_name(info.filename)
                if name is None:
                    self.refuse(f"{where}:{info.filename!r}", "unsafe member path (absolute or '..'): refused")
                    continue
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

    def add_tar(self, path: Path, prefix: str) -> None:
        try:
            tf = tarfile.open(path)
        except (tarfile.TarError, OSError) as e:
            self.refuse(path.name, f"not a readable tar: {e}")
            return
        with tf:
            try:
                for m in tf:
                    name = safe_member_name(m.name)
                    if name is None:
                        self.refuse(f"{path.name}:{m.name!r}", "unsafe member path (absolute or '..'): refused")
                        continue
                    if not m.isreg():
                        if not m.isdir():
                            self.refuse(f"{path.name}:{name}", "not a regular file (link or device): refused")
                        continue
                    fh = tf.extractfile(m)
                    if fh is None:
                        continue
                    rel = f"{prefix}/{name}" if prefix else name
                    self.add_stream(rel, cast(IO[bytes], _Bounded(fh, m.size)), m.size, 0)
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


def _manifest_digest(files: list[StagedFile]) -> tuple[str, str]:
    s, m = hashlib.sha256(), hashlib.md5()  # noqa: S324 - forensic digest
    for f in sorted(files, key=lambda f: f.relpath):
        line = f"{f.sha256}  {f.relpath}\n".encode()
        s.update(line)
        m.update(line)
    return s.hexdigest(), m.hexdigest()


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
) -> IntakeResult:
    """Record, keep and parse one source. Ingesting the same source again adds nothing."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not path.exists():
        raise IntakeError(f"{path}: no such file or folder")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise IntakeError(f"{timezone!r} is not a time zone name (use an IANA name like Europe/Madrid)") from e
    kind = _container_kind(path)
    # identity of the source: the container's own digest, or the manifest of a folder
    if kind == "folder":
        container_sha = None
    else:
        d = digest_file(path)
        container_sha, container_md5, size = d.sha256, d.md5, d.size
        existing = _existing(case, container_sha)
        if existing is not None:
            return IntakeResult(existing[0], existing[1], added=False)

    tree_key = container_sha or hashlib.sha256(str(path.resolve()).encode()).hexdigest()
    ref_root = path if (reference and kind in ("folder", "file")) else None
    stager = _Stager(case, tree_key, ref_root, str(path))
    if kind == "folder":
        stager.add_folder(path)
    elif kind in ("zip", "tar"):
        if not reference:  # the container itself is evidence too: keep it whole beside its members
            case.vault.put_file(path)
        if kind == "zip":
            stager.add_zip(path, path.name + "!")
        else:
            stager.add_tar(path, "")
    else:
        stager.add_path(path.name, path)

    if kind == "folder":
        container_sha, container_md5 = _manifest_digest(stager.files)
        size = sum(f.size for f in stager.files)
        existing = _existing(case, container_sha)
        if existing is not None:
            shutil.rmtree(case.vault.tree(tree_key), ignore_errors=True)  # staged again for nothing: drop it
            return IntakeResult(existing[0], existing[1], added=False)
        # the tree was built under a path-derived key; name it by content like every other source
        final = case.vault.tree(container_sha)
        if not final.exists() and case.vault.tree(tree_key).exists():
            os.replace(case.vault.tree(tree_key), final)
        tree_key = container_sha

    now = datetime.now(UTC)
    with case.begin() as con:
        n = con.execute(select(sources.c.id).order_by(sources.c.id.desc()).limit(1)).scalar() or 0
        exhibit = exhibit or f"EX-{n + 1:03d}"
        sid = new_id(con.execute(
            sources.insert().values(
                exhibit=exhibit, kind=kind, original_path=str(path.resolve()), sha256=container_sha,
                md5=container_md5, size=size, file_count=len(stager.files),
                mode="reference" if ref_root is not None else "vault", examiner=examiner or case.actor,
                timezone=timezone, owner=owner, region=region, seizure_country=seizure_country,
                format_hint=format, tool=TOOL, ingested_at=now, status="staged",
            )
        ))
        if stager.files:
            con.execute(
                source_files.insert(),
                [
                    {"source_id": sid, "relpath": f.relpath, "size": f.size, "sha256": f.sha256, "md5": f.md5,
                     "sha1": f.sha1, "embedded": False}
                    for f in stager.files
                ],
            )
        for where, reason in stager.problems:
            con.execute(problems.insert().values(source_id=sid, stage="intake", file=where, reason=reason,
                                                 severity="error", at=now))
        case.log("source.ingest", {
            "source_id": sid, "exhibit": exhibit, "path": str(path.resolve()), "kind": kind,
            "sha256": container_sha, "md5": container_md5, "size": size, "files": len(stager.files),
            "mode": "reference" if ref_root is not None else "vault", "examiner": examiner or case.actor,
            "timezone": timezone, "owner": owner, "tool": TOOL, "refused": len(stager.problems),
        }, con)
    result = IntakeResult(sid, exhibit, added=True, files=len(stager.files),
                          problems=[f"{w}: {r}" for w, r in stager.problems])
    if parse:
        from ringtrace.stages.parse import parse_source

        result.parse = parse_source(case, sid, secrets={"key": key} if key else None)
    return result


def _existing(case: Case, sha256: str) -> tuple[int, str] | None:
    with case.engine.connect() as con:
        row = con.execute(select(sources.c.id, sources.c.exhibit).where(sources.c.sha256 == sha256)).first()
    return (row.id, row.exhibit) if row else None
