"""What can still be read of an EWF (E01) image libewf cannot read: its chunks, found one after another in its
``sectors`` sections without the ``table`` sections that index them.

An E01 cut short (a copy that stopped, a segment truncated) loses its ``table`` and ``table2`` sections, which an
acquisition writes after the chunks they index, so libewf opens the image (its ``volume`` section is at the start)
but cannot find even chunk 0. The chunks are still there, in media order: each is either zlib-compressed (its
own Adler-32 at its end) or stored as it is followed by its Adler-32. Walking them front to back, every chunk
verified by its checksum, gives the media up to the first chunk missing or damaged: the readable part. Files
whose data lies in it are recovered; reads past it fail, naming the byte.

Only what the format says is trusted: the section descriptors (type, next offset, size), the ``volume`` (or
``disk``) section's chunk size and sector count, and each chunk's own checksum. Bounded: at most the chunk count
the volume section declares, each chunk at most its declared size; nothing is written anywhere (the image stays
in place, chunks are decompressed as they are read). EWF2 (Ex01) images are not salvaged.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
FILE_HEADER = 13
DESCRIPTOR = 76
MAX_SECTIONS = 1_000_000
MAX_CHUNK = 64 * 1024**2  # a chunk larger than this is not an EWF chunk (EnCase writes 32 KiB)
CACHE = 8  # chunks kept decompressed


class SalvageError(Exception):
    """Nothing can be salvaged: the message says why."""


@dataclass
class SalvageReport:
    chunks_found: int
    chunks_declared: int
    readable: int  # bytes of the media, from byte 0, that can be read
    media_size: int
    stopped: str  # why the walk stopped


class SalvagedEwf:
    """The readable part of an EWF-E01 image, read chunk by chunk from its segment files (never copied)."""

    def __init__(self, segments: list[Path]) -> None:
        if not segments:
            raise SalvageError("no segment files")
        self._files = [p.open("rb") for p in segments]
        self._maps: list[mmap.mmap | None] = []
        try:
            for fh in self._files:
                size = Path(fh.name).stat().st_size
                self._maps.append(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None)
            self._scan(segments)
        except BaseException:
            self.close()
            raise
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self.lenient = False

    def close(self) -> None:
        for m in getattr(self, "_maps", []):
            if m is not None:
                m.close()
        for fh in self._files:
            fh.close()

    # ---- the walk ----------------------------------------------------------------------------------------

    def _scan(self, segments: list[Path]) -> None:
        self.chunk_size = 0
        self.media_size = 0
        declared = 0
        self._seg = array("H")
        self._pos = array("Q")
        self._len = array("I")
        self._packed = array("b")
        stopped = ""
        for si, (path, mm) in enumerate(zip(segments, self._maps, strict=True)):
            if mm is None or mm[:8] != SIGNATURE:
                what = "is empty" if mm is None else "is not an EWF-E01 segment (EWF2/Ex01 is not salvaged)"
                stopped = f"segment {path.name} {what}"
                break
            off, seen = FILE_HEADER, 0
            while off + DESCRIPTOR <= len(mm) and seen < MAX_SECTIONS:
                seen += 1
                kind = bytes(mm[off:off + 16]).rstrip(b"\x00")
                nxt, size = struct.unpack_from("<QQ", mm, off + 16)
                if zlib.adler32(mm[off:off + 72]) != struct.unpack_from("<I", mm, off + 72)[0]:
                    stopped = f"segment {path.name}: section descriptor at byte {off} is damaged"
                    break
                if kind in (b"volume", b"disk") and not self.chunk_size:
                    if off + DESCRIPTOR + 24 > len(mm):
                        stopped = f"segment {path.name}: its volume section is cut"
                        break
                    declared, per_chunk, bps, sectors = struct.unpack_from("<IIIQ", mm, off + DESCRIPTOR + 4)
                    self.chunk_size = per_chunk * bps
                    self.media_size = sectors * bps
                    if not 0 < self.chunk_size <= MAX_CHUNK or not self.media_size:
                        raise SalvageError(f"its volume section declares chunks of {self.chunk_size} bytes and "
                                           f"{self.media_size} bytes of media: not an image to salvage")
                elif kind == b"sectors":
                    if not self.chunk_size:
                        raise SalvageError("chunks come before any volume section: the chunk size is unknown")
                    end = min(off + size, len(mm)) if size else len(mm)
                    why = self._chunks(si, mm, off + DESCRIPTOR, end, declared)
                    if why:
                        stopped = f"segment {path.name}: {why}"
                        break
                if kind in (b"done", b"next") or nxt <= off:
                    break
                if nxt + DESCRIPTOR > len(mm):
                    stopped = (f"segment {path.name} ends at byte {len(mm)}, before its next section (at byte "
                               f"{nxt}): the file is cut short")
                    break
                off = nxt
            if stopped or len(self._pos) >= declared > 0:
                break
        if not self.chunk_size:
            raise SalvageError(stopped or "no volume section: the chunk size and media size are unknown")
        self.readable = min(len(self._pos) * self.chunk_size, self.media_size)
        self.report = SalvageReport(len(self._pos), declared, self.readable, self.media_size,
                                    stopped or "every declared chunk found")

    def _chunks(self, si: int, mm: mmap.mmap, pos: int, end: int, declared: int) -> str:
        """Chunks from ``pos`` to ``end`` of one sectors section; why the walk stops early (else "")."""
        cs = self.chunk_size
        while pos < end:
            k = len(self._pos)
            if declared and k >= declared:
                return ""
            want = min(cs, self.media_size - k * cs)
            if want <= 0:
                return ""
            if pos + want + 4 <= end and zlib.adler32(mm[pos:pos + want]) == struct.unpack_from(
                    "<I", mm, pos + want)[0]:
                self._add(si, pos, want, False)
                pos += want + 4
                continue
            d = zlib.decompressobj()
            window = mm[pos:min(end, pos + cs + 1024)]
            try:
                out = d.decompress(window, want + 1)
            except zlib.error:
                out = b""
            if d.eof and len(out) == want:
                used = len(window) - len(d.unused_data)
                self._add(si, pos, used, True)
                pos += used
                continue
            cut = pos + want + 4 > end or not d.eof and len(window) < cs + 1024
            return (f"chunk {k} (media byte {k * cs}) is cut off at the end of the file" if cut else
                    f"chunk {k} (media byte {k * cs}) at file byte {pos} fails its checksum: damaged")
        return ""

    def _add(self, si: int, pos: int, length: int, packed: bool) -> None:
        self._seg.append(si)
        self._pos.append(pos)
        self._len.append(length)
        self._packed.append(1 if packed else 0)

    # ---- reading -----------------------------------------------------------------------------------------

    def chunk(self, k: int) -> bytes:
        got = self._cache.get(k)
        if got is not None:
            self._cache.move_to_end(k)
            return got
        mm = self._maps[self._seg[k]]
        assert mm is not None
        raw = mm[self._pos[k]:self._pos[k] + self._len[k]]
        data = zlib.decompress(raw) if self._packed[k] else bytes(raw)
        self._cache[k] = data
        if len(self._cache) > CACHE:
            self._cache.popitem(last=False)
        return data

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes of the media at ``offset``; OSError where they pass the readable part (``lenient``: the
        part past it reads as zeros, for probing a partition table's backup copies, never for a file)."""
        if offset < 0 or size < 0:
            raise OSError(f"bad read of {size} bytes at {offset}")
        if offset + size > self.readable:
            if offset >= self.media_size:
                return b""
            if self.lenient:
                keep = max(0, self.readable - offset)
                head = self.read(offset, keep) if keep else b""
                return head + bytes(min(size, self.media_size - offset) - keep)
            raise OSError(f"media byte {max(offset, self.readable)} lies past the readable part of the damaged "
                          f"image (it ends at byte {self.readable} of {self.media_size})")
        out = bytearray()
        cs = self.chunk_size
        while size > 0:
            k, inside = divmod(offset, cs)
            piece = self.chunk(k)[inside:inside + size]
            out += piece
            offset += len(piece)
            size -= len(piece)
        return bytes(out)


def tsk_image(salvaged: SalvagedEwf) -> Any:
    """The salvaged media as a pytsk3 image (its declared size; reads past the readable part fail)."""
    import pytsk3

    class _Img(pytsk3.Img_Info):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

        def close(self) -> None:
            pass

        def read(self, offset: int, size: int) -> bytes:
            return salvaged.read(offset, size)

        def get_size(self) -> int:
            return salvaged.media_size

    return _Img()
