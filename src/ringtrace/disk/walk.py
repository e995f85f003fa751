"""Every file of one file system in a disk image, live and deleted, with its place, read through The Sleuth Kit.

dfVFS opens the volume; The Sleuth Kit (pytsk3, over dfVFS's TSK back-end) walks it, because dfVFS's own
directory listing leaves out unallocated names (dfvfs/vfs/tsk_directory.py: "Ignore file entries marked as
unallocated") and a deleted file is exactly what an examiner must see. The Sleuth Kit reads what the file system
still holds: NTFS MFT records no longer in use (listed under its virtual ``$OrphanFiles`` folder when no name
points at them any more), ext4 inodes whose block map survives deletion, FAT entries (first character lost, shown
as ``_``) whose clusters it reads contiguously. Whether those clusters were since reused cannot be known from the
file system: the file is marked deleted and its content is what the clusters hold now.

NTFS alternate data streams (named ``$DATA`` attributes: a browser's ``Zone.Identifier`` on a download, data
hidden beside a file) are files of their own, yielded after their file as ``path:stream`` with the file's MFT
record and times and the stream's own size and first data run; at most ``MAX_STREAMS`` per file (more is a named
problem).

Bounds: the walk stops at ``max_depth`` folders deep, enters every folder once (a folder entry pointing back at
an ancestor, a loop, is a named problem, not an endless walk) and lists at most ``max_dir_entries`` per folder.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ringtrace.disk.image import Volume

READ_CHUNK = 1024**2
MAX_STREAMS = 64  # named data streams read per file


@dataclass(frozen=True)
class Place:
    """Where a file lies in the image."""

    partition: str
    fs_type: str
    fs_path: str  # as it stands in the file system, '/'-separated from its root; undecodable bytes as \\xNN
    inode: int | None  # inode, MFT record number or (FAT) directory-entry address as The Sleuth Kit gives it
    deleted: bool
    mtime: datetime | None
    atime: datetime | None
    ctime: datetime | None
    crtime: datetime | None
    media_offset: int | None  # byte offset in the media of the first data run; None for resident data


@dataclass
class FoundFile:
    place: Place
    size: int
    entry: Any  # the pytsk3 File: read it (``read``) before the walk goes on
    stream: tuple[int, int] | None = None  # (attribute type, id) of a named data stream; None: the file's data

    def read(self, offset: int, length: int) -> bytes:
        try:
            if self.stream is None:
                return bytes(self.entry.read_random(offset, length))
            return bytes(self.entry.read_random(offset, length, self.stream[0], self.stream[1]))
        except RuntimeError as e:  # pytsk3 wraps an image read that failed (a salvaged E01 past its readable part)
            raise OSError(str(e)) from e


@dataclass(frozen=True)
class WalkProblem:
    where: str
    reason: str


@dataclass
class WalkStats:
    files: int = 0
    deleted: int = 0
    folders: int = 0
    metadata_skipped: int = 0  # the file system's own files ($MFT ...), The Sleuth Kit's virtual $MBR/$FAT1 ...
    streams: int = 0  # NTFS named data streams (each also counted in ``files``)
    nameless: int = 0  # deleted names whose metadata is gone: nothing to read


def open_fs_info(volume: Volume) -> tuple[Any, str]:
    """The Sleuth Kit's view of a volume (pytsk3.FS_Info) and its file-system type name (NTFS, Ext4, FAT32 ...)."""
    import pytsk3

    if volume.tsk_fs is not None:  # a damaged E01's, opened over its salvaged chunks (disk.image._salvage)
        return volume.tsk_fs, _fs_type_name(pytsk3, int(volume.tsk_fs.info.ftype))
    from dfvfs.path import factory
    from dfvfs.resolver import resolver

    spec = factory.Factory.NewPathSpec("TSK", location="/", parent=volume.path_spec.parent)
    fs = resolver.Resolver.OpenFileSystem(spec)
    info = fs.GetFsInfo()
    return info, _fs_type_name(pytsk3, int(info.info.ftype))


def _fs_type_name(pytsk3: Any, ftype: int) -> str:
    names = {"TSK_FS_TYPE_NTFS": "NTFS", "TSK_FS_TYPE_FAT12": "FAT12", "TSK_FS_TYPE_FAT16": "FAT16",
             "TSK_FS_TYPE_FAT32": "FAT32", "TSK_FS_TYPE_EXFAT": "exFAT", "TSK_FS_TYPE_EXT2": "Ext2",
             "TSK_FS_TYPE_EXT3": "Ext3", "TSK_FS_TYPE_EXT4": "Ext4", "TSK_FS_TYPE_HFS": "HFS+",
             "TSK_FS_TYPE_ISO9660": "ISO9660", "TSK_FS_TYPE_YAFFS2": "YAFFS2", "TSK_FS_TYPE_UFS1": "UFS1",
             "TSK_FS_TYPE_UFS2": "UFS2", "TSK_FS_TYPE_APFS": "APFS"}
    for attr, name in names.items():
        if int(getattr(pytsk3, attr, -1)) == ftype:
            return name
    return f"tsk-{ftype:#x}"


#: file systems that keep a writer's wall-clock time (DOS date and time) and no zone; The Sleuth Kit reads those
#: fields as the host's local time (mktime), so they are turned back into the fields and recorded as UTC
WALL_CLOCK_FS = frozenset({"FAT12", "FAT16", "FAT32", "exFAT"})


def _time(sec: int, nano: int = 0, wall_clock: bool = False) -> datetime | None:
    if not sec or sec < 0:
        return None
    try:
        if wall_clock:  # the fields The Sleuth Kit read as local time, whatever the host's zone
            sec = calendar.timegm(time.localtime(sec))
        return datetime.fromtimestamp(sec + nano / 1e9, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _name(raw: bytes) -> str:
    """A directory entry's name as shown and stored: UTF-8, each undecodable byte written \\xNN."""
    return raw.decode("utf-8", "backslashreplace")


def walk(volume: Volume, fs_info: Any, fs_type: str, max_depth: int = 128, max_dir_entries: int = 1_000_000,
         stats: WalkStats | None = None) -> Iterator[FoundFile | WalkProblem]:
    """Yield every regular file (live first, then deleted, folder by folder) and a WalkProblem for each folder
    that cannot be read, each loop and each bound reached. The consumer reads a FoundFile before asking for the
    next one."""
    import pytsk3

    st = stats if stats is not None else WalkStats()
    block = int(fs_info.info.block_size)
    root_inum = int(fs_info.info.root_inum)
    entered: set[int] = {root_inum}
    deleted_seen: set[int] = set()
    stack: list[tuple[int, str, int]] = [(root_inum, "", 0)]
    where_root = f"{volume.partition} ({fs_type})"
    wall = fs_type in WALL_CLOCK_FS
    while stack:
        inum, path, depth = stack.pop()
        try:
            directory = fs_info.open_dir(inode=inum)
        except OSError as err:
            yield WalkProblem(f"{where_root}:/{path}", f"folder (inode {inum}) cannot be read: {err}")
            continue
        st.folders += 1
        entries: list[tuple[bool, str, Any]] = []
        try:
            for e in directory:
                if len(entries) >= max_dir_entries:
                    yield WalkProblem(f"{where_root}:/{path}", f"more than {max_dir_entries} entries in one "
                                                              "folder: the rest are not read")
                    break
                info = e.info
                if info is None or info.name is None:
                    continue
                name = _name(bytes(info.name.name))
                if name in (".", "..", ""):
                    continue
                meta = info.meta
                name_unalloc = bool(int(info.name.flags) & int(pytsk3.TSK_FS_NAME_FLAG_UNALLOC))
                if meta is None:
                    # an NTFS MFT record no longer in use is not loaded with its name (under $OrphanFiles or the
                    # folder that still lists it): opened by its record number it still gives its data
                    e = _open_unused(fs_info, info.name)
                    if e is None:
                        st.nameless += 1 if name_unalloc else 0
                        continue
                    meta = e.info.meta
                meta_unalloc = bool(int(meta.flags) & int(pytsk3.TSK_FS_META_FLAG_UNALLOC))
                entries.append((name_unalloc or meta_unalloc, name, e))
        except OSError as err:
            yield WalkProblem(f"{where_root}:/{path}", f"folder listing is damaged after {len(entries)} entries: "
                                                       f"{err}")
        entries.sort(key=lambda t: (t[0], t[1]))  # live before deleted: a live file keeps its name
        subdirs: list[tuple[int, str, int]] = []
        for deleted, name, e in entries:
            meta = e.info.meta
            child = f"{path}/{name}" if path else name
            addr = int(meta.addr)
            if not path and (name.startswith("$") and name != "$OrphanFiles"
                             or fs_type == "exFAT" and name.endswith(" (Volume Label Entry)")):
                st.metadata_skipped += 1  # $MFT, $LogFile, $Extend ... and TSK's virtual $MBR, $FAT1, $FAT2,
                continue  # exFAT's $ALLOC_BITMAP, $UPCASE_TABLE and its volume label as a virtual file
            mtype = int(meta.type)
            if mtype == int(pytsk3.TSK_FS_META_TYPE_DIR):
                if addr in entered:
                    if not deleted:  # a deleted entry may name a folder reused since: not a loop of the live tree
                        yield WalkProblem(f"{where_root}:/{child}", f"folder loop: this entry points back at folder "
                                                                    f"inode {addr}, already walked: not entered again")
                    continue
                if depth + 1 > max_depth:
                    yield WalkProblem(f"{where_root}:/{child}", f"folders nested deeper than {max_depth}: not entered")
                    continue
                entered.add(addr)
                subdirs.append((addr, child, depth + 1))
                continue
            if mtype != int(pytsk3.TSK_FS_META_TYPE_REG):
                continue  # links, devices, sockets: nothing of theirs to read
            if deleted:
                if addr in deleted_seen:  # the same unused record under its old folder and under $OrphanFiles
                    continue
                deleted_seen.add(addr)
            st.files += 1
            st.deleted += 1 if deleted else 0
            place = Place(
                partition=volume.partition, fs_type=fs_type, fs_path="/" + child, inode=addr, deleted=deleted,
                mtime=_time(int(meta.mtime), int(getattr(meta, "mtime_nano", 0) or 0), wall),
                atime=_time(int(meta.atime), int(getattr(meta, "atime_nano", 0) or 0), wall),
                ctime=_time(int(meta.ctime), int(getattr(meta, "ctime_nano", 0) or 0), wall),
                crtime=_time(int(meta.crtime), int(getattr(meta, "crtime_nano", 0) or 0), wall),
                media_offset=_first_run(pytsk3, e, block, volume.offset),
            )
            streams = _named_streams(pytsk3, e, block, volume.offset) if fs_type == "NTFS" else []
            yield FoundFile(place, max(int(meta.size), 0), e)
            for k, (sname, size, stream, offset) in enumerate(streams):
                if k >= MAX_STREAMS:
                    yield WalkProblem(f"{where_root}:/{child}", f"more than {MAX_STREAMS} named data streams: only the "
                                                                f"first {MAX_STREAMS} read")
                    break
                st.files += 1
                st.streams += 1
                st.deleted += 1 if deleted else 0
                yield FoundFile(replace(place, fs_path=f"/{child}:{sname}", media_offset=offset), size, e, stream)
        stack.extend(reversed(subdirs))  # depth first, folders in name order


def _open_unused(fs_info: Any, name: Any) -> Any | None:
    """The file entry of a name whose metadata The Sleuth Kit did not load with the listing, opened by its
    metadata address (an NTFS MFT record marked not in use still holds its attributes); None when that fails."""
    addr = int(getattr(name, "meta_addr", 0) or 0)
    if addr <= 0:
        return None
    try:
        e = fs_info.open_meta(inode=addr)
    except OSError:
        return None
    return e if e.info is not None and e.info.meta is not None else None


def _first_run(pytsk3: Any, entry: Any, block: int, volume_offset: int) -> int | None:
    """The media offset of the first data run of the file's unnamed data attribute (None when resident)."""
    data_types = {int(pytsk3.TSK_FS_ATTR_TYPE_DEFAULT), int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)}
    try:
        for attr in entry:
            ainfo = attr.info
            if int(ainfo.type) not in data_types or ainfo.name:
                continue
            return _attr_first_run(pytsk3, attr, block, volume_offset)
    except (OSError, RuntimeError):
        return None
    return None


def _attr_first_run(pytsk3: Any, attr: Any, block: int, volume_offset: int) -> int | None:
    if not int(attr.info.flags) & int(pytsk3.TSK_FS_ATTR_NONRES):
        return None
    for run in attr:
        if int(run.len) > 0 and not int(run.flags) & int(pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE):
            return volume_offset + int(run.addr) * block
    return None


def _named_streams(pytsk3: Any, entry: Any, block: int, volume_offset: int,
                   ) -> list[tuple[str, int, tuple[int, int], int | None]]:
    """An NTFS file's named ``$DATA`` attributes (alternate data streams): (name, size, (type, id), media offset
    of the first run), in attribute order. A damaged attribute list gives the streams read before it."""
    ntfs_data = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
    found: list[tuple[str, int, tuple[int, int], int | None]] = []
    try:
        for attr in entry:
            ainfo = attr.info
            if int(ainfo.type) != ntfs_data or not ainfo.name:
                continue
            name = _name(bytes(ainfo.name)).replace("/", "\\x2f")
            if not name or name == "$I30":
                continue
            try:
                offset = _attr_first_run(pytsk3, attr, block, volume_offset)
            except (OSError, RuntimeError):
                offset = None
            found.append((name, max(int(ainfo.size), 0), (ntfs_data, int(ainfo.id)), offset))
            if len(found) > MAX_STREAMS:
                break
    except (OSError, RuntimeError):
        pass
    return found
