"""One-pass MD5 + SHA-1 + SHA-256 of a byte stream, in bounded memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ringtrace.media.limits import MiB


class MultiDigest:
    """Feeds every chunk to the three hashers (hashlib releases the GIL on large buffers)."""

    __slots__ = ("_md5", "_sha1", "_sha256", "size")

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        self._md5.update(chunk)
        self._sha1.update(chunk)
        self._sha256.update(chunk)
        self.size += len(chunk)

    def hexdigests(self) -> tuple[str, str, str]:
        return self._md5.hexdigest(), self._sha1.hexdigest(), self._sha256.hexdigest()


def digest_file(path: Path, chunk_bytes: int = MiB) -> tuple[int, str, str, str]:
    """(size, md5, sha1, sha256) of a file, read once in ``chunk_bytes`` pieces."""
    md = MultiDigest()
    buf = bytearray(chunk_bytes)
    view = memoryview(buf)
    with open(path, "rb") as fh:
        while n := fh.readinto(buf):
            md.update(view[:n])
    return (md.size, *md.hexdigests())
