"""Files written into an exFAT volume without mounting it, for the synthetic test data only.

``mkfs.exfat`` (exfatprogs) makes an empty file system and no Debian tool fills one without mounting it, so this
writer adds files and folders itself, per Microsoft's exFAT file system specification: it reads the boot sector
(FAT, cluster heap, root folder), the root folder's allocation-bitmap and up-case-table entries, then for every
file and folder

- takes clusters from the allocation bitmap: contiguous and marked ``NoFatChain`` (as Windows writes a file in
  one piece), or, for a file asked ``fragmented``, every other free cluster linked by a FAT chain;
- writes its data, and its directory entry set in its parent folder: a File entry (attributes, created /
  modified / accessed times in UTC), a Stream Extension entry (name length, ``NameHash`` over the up-cased name,
  first cluster, valid data length and data length) and File Name entries of 15 UTF-16 characters, with the
  set's ``SetChecksum``;
- a deleted file is written whole, then deleted as exFAT does it: the ``InUse`` bit of each entry of its set
  cleared and its clusters freed in the bitmap, the data left where it was.

The boot sector's ``PercentInUse`` and volume serial number (from ``serial``, so the same input gives the same
bytes) are set and both boot regions' checksums recomputed. The result passes ``fsck.exfat -n``; The Sleuth Kit
lists it, deleted files included. Bounded: names of at most 255 characters, folders of at most 256 MiB of entries.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

ENTRY = 32
EOC = 0xFFFFFFFF
ATTR_DIRECTORY, ATTR_ARCHIVE = 0x10, 0x20
MAX_NAME = 255
MAX_DIR_BYTES = 256 * 1024**2


class ExfatError(ValueError):
    """The volume is not an exFAT file system this writer can fill, or the files do not fit."""


class ExfatFileLike(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def deleted(self) -> bool: ...
    @property
    def mtime(self) -> int | None: ...
    @property
    def crtime(self) -> int | None: ...
    @property
    def fragmented(self) -> bool: ...


@dataclass
class _Geometry:
    bps: int  # bytes per sector
    cluster: int  # bytes per cluster
    fat_offset: int  # bytes
    heap_offset: int  # bytes
    clusters: int  # cluster count
    root: int  # first cluster of the root folder


@dataclass
class _Node:
    name: str
    folder: bool
    data: bytes = b""
    deleted: bool = False
    mtime: int = 0
    crtime: int = 0
    fragmented: bool = False
    children: dict[str, _Node] = field(default_factory=dict)
    clusters: list[int] = field(default_factory=list)
    size: int = 0  # data length (folders: their clusters' bytes)


def _geometry(img: bytearray) -> _Geometry:
    if img[3:11] != b"EXFAT   ":
        raise ExfatError("not an exFAT volume (no 'EXFAT' in its boot sector)")
    bps = 1 << img[108]
    cluster = bps << img[109]
    fat_off, _fat_len, heap, count, root = struct.unpack_from("<IIIII", img, 80)
    if img[110] != 1:
        raise ExfatError("an exFAT volume with two FATs (TexFAT) is not written by this writer")
    return _Geometry(bps, cluster, fat_off * bps, heap * bps, count, root)


def _checksum16(data: bytes, skip: tuple[int, ...] = ()) -> int:
    c = 0
    for i, b in enumerate(data):
        if i in skip:
            continue
        c = (((c & 1) << 15) | (c >> 1)) + b & 0xFFFF
    return c


def boot_checksum(region: bytes, bps: int) -> int:
    """The checksum of a boot region's first 11 sectors (VolumeFlags and PercentInUse left out)."""
    c = 0
    for i, b in enumerate(region[:11 * bps]):
        if i in (106, 107, 112):
            continue
        c = (((c & 1) << 31) | (c >> 1)) + b & 0xFFFFFFFF
    return c


def name_hash(name: str, upcase: dict[int, int]) -> int:
    h = 0
    raw = name.encode("utf-16-le")
    units = struct.unpack(f"<{len(raw) // 2}H", raw)
    for u in units:
        up = upcase.get(u, u)
        for b in (up & 0xFF, up >> 8):
            h = (((h & 1) << 15) | (h >> 1)) + b & 0xFFFF
    return h


def _timestamp(t: int) -> tuple[int, int]:
    """An exFAT timestamp (DOS date and time, 2-second steps) and its 10 ms increment, for ``t`` in UTC."""
    d = datetime.fromtimestamp(t, UTC)
    if not 1980 <= d.year <= 2107:
        raise ExfatError(f"time {t} is outside exFAT's years 1980-2107")
    ts = (d.second // 2) | d.minute << 5 | d.hour << 11 | d.day << 16 | d.month << 21 | (d.year - 1980) << 25
    return ts, (d.second % 2) * 100


class _Volume:
    def __init__(self, img: bytearray) -> None:
        self.img = img
        self.g = _geometry(img)
        self.bitmap_cluster, self.bitmap_len, self.upcase = self._root_tables()
        off = self._at(self.bitmap_cluster)
        self.bitmap = bytearray(img[off:off + self.bitmap_len])
        self.cursor = 2

    def _at(self, cluster: int) -> int:
        if not 2 <= cluster < self.g.clusters + 2:
            raise ExfatError(f"cluster {cluster} is outside the cluster heap")
        return self.g.heap_offset + (cluster - 2) * self.g.cluster

    def fat(self, cluster: int) -> int:
        return int(struct.unpack_from("<I", self.img, self.g.fat_offset + 4 * cluster)[0])

    def set_fat(self, cluster: int, value: int) -> None:
        struct.pack_into("<I", self.img, self.g.fat_offset + 4 * cluster, value)

    def chain(self, first: int) -> list[int]:
        out, c = [first], first
        while (c := self.fat(c)) not in (0, EOC) and len(out) <= self.g.clusters:
            out.append(c)
        return out

    def _root_tables(self) -> tuple[int, int, dict[int, int]]:
        bitmap: tuple[int, int] | None = None
        upcase: dict[int, int] | None = None
        for c in self.chain(self.g.root):
            off = self._at(c)
            for e in range(off, off + self.g.cluster, ENTRY):
                kind = self.img[e]
                if kind == 0x81:
                    first, length = struct.unpack_from("<IQ", self.img, e + 20)
                    bitmap = (first, length)
                elif kind == 0x82:
                    first, length = struct.unpack_from("<IQ", self.img, e + 20)
                    upcase = _read_upcase(bytes(self.img[self._at(first):self._at(first) + length]))
        if bitmap is None or upcase is None:
            raise ExfatError("the root folder has no allocation bitmap or no up-case table")
        return bitmap[0], bitmap[1], upcase

    def used(self, cluster: int) -> bool:
        i = cluster - 2
        return bool(self.bitmap[i // 8] >> (i % 8) & 1)

    def mark(self, cluster: int, used: bool) -> None:
        i = cluster - 2
        if used:
            self.bitmap[i // 8] |= 1 << (i % 8)
        else:
            self.bitmap[i // 8] &= ~(1 << (i % 8)) & 0xFF

    def allocate(self, n: int, fragmented: bool = False) -> list[int]:
        """``n`` free clusters: the first run of ``n`` contiguous ones, or (fragmented) every other free one."""
        out: list[int] = []
        last = self.g.clusters + 2
        if fragmented:
            c = self.cursor
            while len(out) < n and c < last:
                if not self.used(c):
                    out.append(c)
                    c += 1  # the next free cluster is left for later files
                c += 1
        else:
            start = self.cursor
            while start + n <= last:
                run = next((k for k in range(n) if self.used(start + k)), None)
                if run is None:
                    out = list(range(start, start + n))
                    break
                start += run + 1
        if len(out) < n:
            raise ExfatError(f"no room for {n} clusters of {self.g.cluster} bytes on the volume")
        for c in out:
            self.mark(c, True)
        if not fragmented:
            self.cursor = out[-1] + 1
        return out

    def write(self, clusters: list[int], data: bytes) -> None:
        cs = self.g.cluster
        for k, c in enumerate(clusters):
            piece = data[k * cs:(k + 1) * cs]
            off = self._at(c)
            self.img[off:off + cs] = piece.ljust(cs, b"\x00")

    def link(self, clusters: list[int]) -> None:
        for a, b in zip(clusters, clusters[1:], strict=False):
            self.set_fat(a, b)
        if clusters:
            self.set_fat(clusters[-1], EOC)

    def append_root(self, entries: bytes) -> None:
        """The entry sets after the root folder's last entry in use, its FAT chain grown when they do not fit."""
        chain = self.chain(self.g.root)
        raw = bytearray(b"".join(bytes(self.img[self._at(c):self._at(c) + self.g.cluster]) for c in chain))
        end = next((i for i in range(0, len(raw), ENTRY) if raw[i] == 0), len(raw))
        need = end + len(entries)
        while need > len(raw):
            (more,) = self.allocate(1)
            self.set_fat(chain[-1], more)
            self.set_fat(more, EOC)
            chain.append(more)
            raw += bytes(self.g.cluster)
        raw[end:end + len(entries)] = entries
        self.write(chain, bytes(raw))

    def finish(self, serial: int | None) -> None:
        off = self._at(self.bitmap_cluster)
        self.img[off:off + len(self.bitmap)] = self.bitmap
        used = sum(bin(b).count("1") for b in self.bitmap)
        bps = self.g.bps
        self.img[112] = min(100, used * 100 // max(1, self.g.clusters))
        if serial is not None:
            struct.pack_into("<I", self.img, 100, serial & 0xFFFFFFFF)
        main = bytes(self.img[:11 * bps])
        check = struct.pack("<I", boot_checksum(main, bps)) * (bps // 4)
        self.img[11 * bps:12 * bps] = check
        self.img[12 * bps:24 * bps] = self.img[:12 * bps]  # the backup boot region is the main one's copy


def _read_upcase(raw: bytes) -> dict[int, int]:
    """The up-case table (compressed form: 0xFFFF then a count of characters mapped to themselves)."""
    table: dict[int, int] = {}
    units = struct.unpack(f"<{len(raw) // 2}H", raw[: len(raw) // 2 * 2])
    i, ch = 0, 0
    while i < len(units) and ch < 0x10000:
        if units[i] == 0xFFFF and i + 1 < len(units):
            ch += units[i + 1]
            i += 2
            continue
        if units[i] != ch:
            table[ch] = units[i]
        ch += 1
        i += 1
    return table


def entry_set(node: _Node, upcase: dict[int, int]) -> bytes:
    """The File, Stream Extension and File Name entries of ``node``, with their SetChecksum."""
    name16 = node.name.encode("utf-16-le")
    n = len(name16) // 2
    if not 1 <= n <= MAX_NAME:
        raise ExfatError(f"name {node.name[:40]!r}: exFAT names have 1 to {MAX_NAME} characters")
    names = math.ceil(n / 15)
    created, c10 = _timestamp(node.crtime)
    modified, m10 = _timestamp(node.mtime)
    attrs = ATTR_DIRECTORY if node.folder else ATTR_ARCHIVE
    primary = bytearray(ENTRY)
    struct.pack_into("<BBHH", primary, 0, 0x85, 1 + names, 0, attrs)
    struct.pack_into("<IIIBBBBB", primary, 8, created, modified, modified, c10, m10, 0x80, 0x80, 0x80)
    stream = bytearray(ENTRY)
    contiguous = not node.fragmented
    flags = (1 if node.clusters else 0) | (2 if contiguous and node.clusters else 0)
    first = node.clusters[0] if node.clusters else 0
    struct.pack_into("<BBBBH", stream, 0, 0xC0, flags, 0, n, name_hash(node.name, upcase))
    struct.pack_into("<Q", stream, 8, node.size)  # valid data length: all of it was written
    struct.pack_into("<IQ", stream, 20, first, node.size)
    parts = [bytes(primary), bytes(stream)]
    for k in range(names):
        e = bytearray(ENTRY)
        e[0] = 0xC1
        chunk = name16[k * 30:(k + 1) * 30]
        e[2:2 + len(chunk)] = chunk
        parts.append(bytes(e))
    raw = bytearray(b"".join(parts))
    struct.pack_into("<H", raw, 2, _checksum16(bytes(raw), (2, 3)))
    if node.deleted:  # the InUse bit of every entry of the set cleared: the set stays, marked free
        for i in range(0, len(raw), ENTRY):
            raw[i] &= 0x7F
    return bytes(raw)


def fill(image: Path, files: Sequence[ExfatFileLike], at: int, serial: int | None = None, offset: int = 0) -> None:
    """Write ``files`` (paths '/'-separated from the root; folders made as needed, with time ``at``) into the
    exFAT volume at byte ``offset`` of ``image``, in path order; deleted ones are then deleted."""
    with image.open("rb") as fh:
        fh.seek(offset)
        head = fh.read(512)
        size = struct.unpack_from("<Q", head, 72)[0] << head[108] if head[3:11] == b"EXFAT   " else 0
        if not size:
            raise ExfatError(f"{image}: no exFAT volume at byte {offset}")
        fh.seek(offset)
        img = bytearray(fh.read(size))
    vol = _Volume(img)
    root = _Node("", True, mtime=at, crtime=at)
    for f in sorted(files, key=lambda f: f.path):
        parts = [p for p in f.path.split("/") if p]
        if not parts:
            raise ExfatError(f"file path {f.path!r} names no file")
        node = root
        for p in parts[:-1]:
            nxt = node.children.setdefault(p, _Node(p, True, mtime=at, crtime=at))
            if not nxt.folder:
                raise ExfatError(f"{f.path}: {p} is a file, not a folder")
            node = nxt
        if parts[-1] in node.children:
            raise ExfatError(f"{f.path}: written twice")
        m = f.mtime if f.mtime is not None else at
        node.children[parts[-1]] = _Node(parts[-1], False, f.data, f.deleted, m, f.crtime if f.crtime is not None
                                         else m, bool(getattr(f, "fragmented", False)))
    cs = vol.g.cluster

    def place(node: _Node) -> None:  # data first, in path order, then the folder's own clusters
        for child in node.children.values():
            if child.folder:
                place(child)
            elif child.data:
                child.size = len(child.data)
                child.clusters = vol.allocate(math.ceil(child.size / cs), child.fragmented)
                vol.write(child.clusters, child.data)
                if child.fragmented:
                    vol.link(child.clusters)
        if node is root:
            return
        entries = b"".join(entry_set(c, vol.upcase) for c in node.children.values())
        if len(entries) > MAX_DIR_BYTES:
            raise ExfatError(f"folder {node.name!r}: more entries than {MAX_DIR_BYTES} bytes")
        node.clusters = vol.allocate(max(1, math.ceil(len(entries) / cs)))
        node.size = len(node.clusters) * cs
        vol.write(node.clusters, entries)

    place(root)
    vol.append_root(b"".join(entry_set(c, vol.upcase) for c in root.children.values()))

    def free_deleted(node: _Node) -> None:
        for child in node.children.values():
            if child.folder:
                free_deleted(child)
            elif child.deleted:
                for c in child.clusters:
                    vol.mark(c, False)
                    if child.fragmented:
                        vol.set_fat(c, 0)

    free_deleted(root)
    vol.finish(serial)
    with image.open("r+b") as out:
        out.seek(offset)
        out.write(img)
