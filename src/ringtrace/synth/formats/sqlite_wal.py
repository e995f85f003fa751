"""Make a SQLite write-ahead log reproducible: SQLite salts each WAL with random numbers, so two runs of the same
writer differ. ``fix_salts`` rewrites the salts to fixed values and recomputes every checksum, following the WAL
file format (https://www.sqlite.org/fileformat2.html#walformat): the file stays a valid WAL that SQLite replays."""

from __future__ import annotations

import struct
from pathlib import Path

HEADER = 32
FRAME_HEADER = 24


def _checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack((">" if big_endian else "<") + f"{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def fix_salts(path: Path, salt1: int = 0x52494E47, salt2: int = 0x54524143) -> None:
    buf = bytearray(path.read_bytes())
    if len(buf) < HEADER:
        return
    magic, _version, page_size = struct.unpack(">III", buf[:12])
    if magic not in (0x377F0682, 0x377F0683):
        raise ValueError(f"{path}: not a SQLite WAL file")
    big = magic & 1 == 1
    struct.pack_into(">II", buf, 16, salt1, salt2)
    s0, s1 = _checksum(bytes(buf[:24]), 0, 0, big)
    struct.pack_into(">II", buf, 24, s0, s1)
    off = HEADER
    while off + FRAME_HEADER + page_size <= len(buf):
        struct.pack_into(">II", buf, off + 8, salt1, salt2)
        s0, s1 = _checksum(bytes(buf[off:off + 8]), s0, s1, big)
        s0, s1 = _checksum(bytes(buf[off + FRAME_HEADER:off + FRAME_HEADER + page_size]), s0, s1, big)
        struct.pack_into(">II", buf, off + 16, s0, s1)
        off += FRAME_HEADER + page_size
    path.write_bytes(bytes(buf))
