"""Exact digest look-up (MD5 / SHA-1 / SHA-256) over sorted fixed-width byte arrays.

A Python dict of 10 million hex strings costs well over 1 GB; a sorted ``S16``/``S20``/``S32`` numpy array
plus an int64 id array costs 24-40 bytes a row and is searched with ``np.searchsorted`` (vectorised for many
queries at once). Duplicate digests in a list are kept: a look-up returns every id that carries the digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

_WIDTH = {"md5": 16, "sha1": 20, "sha256": 32}


class _Sorted:
    def __init__(self, width: int, digests: list[bytes], ids: list[int]) -> None:
        keys = np.array(digests, dtype=f"S{width}") if digests else np.empty(0, dtype=f"S{width}")
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ids = np.asarray(ids, dtype=np.int64)[order]
        self.width = width

    def lookup_many(self, digests: Sequence[bytes]) -> list[list[int]]:
        q = np.array(digests, dtype=f"S{self.width}") if digests else np.empty(0, dtype=f"S{self.width}")
        lo = np.searchsorted(self.keys, q, side="left")
        hi = np.searchsorted(self.keys, q, side="right")
        return [self.ids[a:b].tolist() for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]


def _to_bytes(kind: str, hexdigest: str) -> bytes | None:
    """Hex -> raw bytes; None for a value that is not a digest of that kind (it then matches nothing)."""
    try:
        raw = bytes.fromhex(hexdigest)
    except (ValueError, TypeError):
        return None
    return raw if len(raw) == _WIDTH[kind] else None


class ExactIndex:
    """From (kind, hex digest, id) triples, kind in md5/sha1/sha256; bad digests are skipped and counted."""

    def __init__(self, rows: Iterable[tuple[str, str, int]]) -> None:
        buf: dict[str, tuple[list[bytes], list[int]]] = {k: ([], []) for k in _WIDTH}
        self.skipped = 0
        for kind, hexdigest, ident in rows:
            b = _to_bytes(kind, hexdigest) if kind in _WIDTH else None
            if b is None:
                self.skipped += 1
                continue
            buf[kind][0].append(b)
            buf[kind][1].append(int(ident))
        self._tables = {k: _Sorted(_WIDTH[k], d, i) for k, (d, i) in buf.items()}

    @classmethod
    def from_entries(cls, entries: Iterable[object], start_id: int = 0) -> ExactIndex:
        """From HashEntry-like objects (md5/sha1/sha256 attributes); ids are the running entry number."""

        def rows() -> Iterable[tuple[str, str, int]]:
            for i, e in enumerate(entries, start=start_id):
                for kind in _WIDTH:
                    v = getattr(e, kind, None)
                    if v:
                        yield kind, v, i

        return cls(rows())

    def __len__(self) -> int:
        return sum(len(t.keys) for t in self._tables.values())

    @property
    def nbytes(self) -> int:
        return sum(t.keys.nbytes + t.ids.nbytes for t in self._tables.values())

    def lookup(self, kind: str, hexdigests: Sequence[str]) -> list[list[int]]:
        """For each digest, the ids of list rows carrying it ([] when unknown or not a valid digest)."""
        table = self._tables[kind]
        raw = [_to_bytes(kind, h) for h in hexdigests]
        # A malformed query digest is searched as b"" and its hits (if any) are dropped below.
        found = table.lookup_many([b if b is not None else b"" for b in raw])
        return [hits if b is not None else [] for b, hits in zip(raw, found, strict=True)]

    def lookup_md5(self, hexdigests: Sequence[str]) -> list[list[int]]:
        return self.lookup("md5", hexdigests)

    def lookup_sha1(self, hexdigests: Sequence[str]) -> list[list[int]]:
        return self.lookup("sha1", hexdigests)

    def lookup_sha256(self, hexdigests: Sequence[str]) -> list[list[int]]:
        return self.lookup("sha256", hexdigests)

    def ids_for(self, kind: str) -> npt.NDArray[np.int64]:
        return self._tables[kind].ids
