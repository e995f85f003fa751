"""Exact PDQ range search: every list hash within ``max_distance`` bits of a query, none missed.

Method: multi-index hashing (Norouzi et al., "Fast search in Hamming space with multi-index hashing", 2012).
The 256 bits are split into ``k`` contiguous chunks. By pigeonhole, a hash within Hamming distance ``d`` of
the query differs in at most ``floor(d / k)`` bits in at least one chunk, so probing every chunk table with
all keys within ``floor(d / k)`` of the query's chunk finds every true match (exact recall, no approximation);
each candidate is then verified on the full 256 bits. Chunk tables are a dense offsets array (``2**bits + 1``
int32) over a permutation of the rows sorted by the chunk key, so a probe is two array reads. Chunk width is
picked from the list size (about log2 N bits) so a bucket holds about one row; when the probe count would cost
more than scanning (small lists, large radii) the search falls back to a blocked brute-force scan.

Everything is numpy (no compiled extension); query batches run on a small thread pool because numpy releases
the GIL in the heavy array operations. Memory for N rows: 32 N (hashes) + 4 N per chunk (permutation) +
4 * 2**bits per chunk (offsets) -> about 1.3 GB for 10 million rows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

PDQ_BITS = 256
PDQ_BYTES = 32
PDQ_QUALITY_MIN = 50  # PDQ reference: hashes of quality < 50 are too featureless to match on
DEFAULT_MAX_DISTANCE = 31  # PDQ reference "confident match" threshold

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]


def hex_to_array(hashes: Iterable[str]) -> U8:
    """64-hex PDQ strings -> (N, 32) uint8. Raises ValueError naming the first bad value."""
    items = list(hashes)
    out = np.empty((len(items), PDQ_BYTES), dtype=np.uint8)
    for i, h in enumerate(items):
        if len(h) != 64:
            raise ValueError(f"PDQ hash {i} is not 64 hex characters: {h[:80]!r}")
        try:
            out[i] = np.frombuffer(bytes.fromhex(h), dtype=np.uint8)
        except ValueError as e:
            raise ValueError(f"PDQ hash {i} is not hex: {h[:80]!r}") from e
    return out


def array_to_hex(arr: U8) -> list[str]:
    return [bytes(row).hex() for row in np.asarray(arr, dtype=np.uint8)]


def quality_mask(
    quality: Sequence[int] | npt.NDArray[np.integer], minimum: int = PDQ_QUALITY_MIN
) -> npt.NDArray[np.bool_]:
    """True where a hash is good enough to match (quality >= 50 by default)."""
    return np.asarray(quality) >= minimum


def filter_by_quality(
    hashes: U8, quality: Sequence[int] | npt.NDArray[np.integer], minimum: int = PDQ_QUALITY_MIN
) -> tuple[U8, npt.NDArray[np.int64]]:
    """Drop hashes with quality below ``minimum``; returns the kept rows and their original row numbers."""
    arr = _as_hash_array(hashes)
    mask = quality_mask(quality, minimum)
    if mask.shape != (arr.shape[0],):
        raise ValueError(f"quality has {mask.shape[0]} values for {arr.shape[0]} hashes")
    keep = np.nonzero(mask)[0].astype(np.int64)
    return arr[keep], keep


def _as_hash_array(hashes: U8 | Sequence[str]) -> U8:
    if isinstance(hashes, np.ndarray):
        arr = np.ascontiguousarray(hashes, dtype=np.uint8)
    else:
        arr = hex_to_array(hashes)
    if arr.ndim != 2 or arr.shape[1] != PDQ_BYTES:
        raise ValueError(f"PDQ hashes must have shape (N, 32) uint8, got {arr.shape}")
    return arr


def _words(arr: U8) -> U64:
    """(N, 32) uint8 -> (N, 4) uint64 big-endian words, so bit 0 is the first hex digit's high bit."""
    return arr.view(">u8").astype(np.uint64)


def _chunk_bounds(nchunks: int) -> list[tuple[int, int]]:
    base, extra = divmod(PDQ_BITS, nchunks)
    bounds = []
    start = 0
    for i in range(nchunks):
        width = base + (1 if i < extra else 0)
        bounds.append((start, width))
        start += width
    return bounds


def _extract(words: U64, start: int, width: int) -> npt.NDArray[np.uint32]:
    """Bits [start, start+width) of each row (width <= 32), as uint32."""
    w0, off = divmod(start, 64)
    end = off + width
    mask = np.uint64((1 << width) - 1)
    if end <= 64:
        v = (words[:, w0] >> np.uint64(64 - end)) & mask
    else:
        lo_bits = end - 64
        hi = words[:, w0] << np.uint64(lo_bits)
        lo = words[:, w0 + 1] >> np.uint64(64 - lo_bits)
        v = (hi | lo) & mask
    return v.astype(np.uint32)


def _flip_masks(width: int, radius: int) -> npt.NDArray[np.uint32]:
    masks = [0]
    for r in range(1, radius + 1):
        for bits in combinations(range(width), r):
            m = 0
            for b in bits:
                m |= 1 << b
            masks.append(m)
    return np.asarray(masks, dtype=np.uint32)


_ALL_64 = np.uint32(0x40404040)


def _distances(q_words: U64, d_words: U64) -> npt.NDArray[np.int32]:
    """Row-wise Hamming distance of two (T, 4) uint64 arrays (``q_words`` is overwritten)."""
    np.bitwise_xor(q_words, d_words, out=q_words)
    # Four per-word popcounts (bytes, each <= 64) summed with one multiply: byte 3 of y * 0x01010101 is
    # b0+b1+b2+b3 mod 256 (lower partial sums cannot carry into it); 256 (all bits differ) wraps to 0.
    y = np.bitwise_count(q_words).view(np.uint32).ravel()
    s = ((y * np.uint32(0x01010101)) >> np.uint32(24)).astype(np.int32)
    s[y == _ALL_64] = 256
    return s


def _pair_distances(
    qw: U64, q_rows: npt.NDArray[np.int64], dw: U64, d_rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int32]:
    # np.take is several times faster than 2-D fancy indexing for row gathers.
    return _distances(np.take(qw, q_rows, axis=0), np.take(dw, d_rows, axis=0))


def brute_force_search(
    queries: U8, entries: U8, max_distance: int = DEFAULT_MAX_DISTANCE, block: int = 1 << 22
) -> list[tuple[int, int, int]]:
    """Reference exact scan, blocked so memory stays bounded. Sorted (query row, entry row, distance)."""
    qw = _words(_as_hash_array(queries))
    dw = _words(_as_hash_array(entries))
    out: list[tuple[int, int, int]] = []
    if len(qw) == 0 or len(dw) == 0:
        return out
    dstep = min(len(dw), block)
    qstep = max(1, block // dstep)
    for qs in range(0, len(qw), qstep):
        qb = qw[qs : qs + qstep]
        for ds in range(0, len(dw), dstep):
            db = dw[ds : ds + dstep]
            y = np.bitwise_count(qb[:, None, :] ^ db[None, :, :]).view(np.uint32)[..., 0]
            x = ((y * np.uint32(0x01010101)) >> np.uint32(24)).astype(np.int32)  # see _distances
            x[y == _ALL_64] = 256
            qi, di = np.nonzero(x <= max_distance)
            out.extend(zip((qi + qs).tolist(), (di + ds).tolist(), x[qi, di].tolist(), strict=True))
    out.sort()
    return out


class PDQIndex:
    """Exact Hamming range index over PDQ hashes.

    ``hashes``: (N, 32) uint8 array or a list of 64-hex strings. ``ids``: the caller's id for each row
    (defaults to the row number); results carry row numbers, ``ids[row]`` maps back.
    """

    def __init__(
        self,
        hashes: U8 | Sequence[str],
        ids: Sequence[int] | npt.NDArray[np.integer] | None = None,
        *,
        chunk_bits: int | None = None,
        threads: int | None = None,
    ) -> None:
        arr = _as_hash_array(hashes)
        self._n: int = int(arr.shape[0])
        self._words: U64 = np.ascontiguousarray(_words(arr))
        self.ids: npt.NDArray[np.int64] = (
            np.arange(self._n, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        )
        if self.ids.shape != (self._n,):
            raise ValueError(f"{len(self.ids)} ids for {self._n} hashes")
        self.threads = threads or min(2, os.cpu_count() or 1)
        if chunk_bits is None:
            # About one row per 4 buckets (measured best on 1 M clustered rows: candidate checks cost more
            # than probes); capped at 24 bits (64 MiB offsets per chunk), floored at 8.
            chunk_bits = int(min(24, max(8, round(math.log2(max(self._n, 2))) + 2)))
        self.nchunks = max(1, math.ceil(PDQ_BITS / chunk_bits))
        self.bounds = _chunk_bounds(self.nchunks)
        self._offsets: list[npt.NDArray[Any]] = []  # int32 while N < 2**31 (half the memory)
        self._perms: list[npt.NDArray[np.int32]] = []
        idx_dtype = np.int32 if self._n < 2**31 else np.int64
        for start, width in self.bounds:
            key = _extract(self._words, start, width)
            perm = np.argsort(key, kind="stable").astype(np.int32)
            counts = np.bincount(key, minlength=1 << width)
            offsets = np.zeros((1 << width) + 1, dtype=idx_dtype)
            np.cumsum(counts, out=offsets[1:])
            self._perms.append(perm)
            self._offsets.append(offsets)
            del key, counts

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        tables = sum(p.nbytes for p in self._perms) + sum(o.nbytes for o in self._offsets)
        return int(self._words.nbytes + tables)

    # -- search ------------------------------------------------------------------------------------------

    def _use_mih(self, max_distance: int) -> bool:
        radius = max_distance // self.nchunks
        probes = sum(len_combs(w, radius) for _, w in self.bounds)
        expected_candidates = sum(len_combs(w, radius) * self._n / (1 << w) for _, w in self.bounds)
        # Rough cost model (measured): a probe ~ 1 unit, a candidate check ~ 3, a scanned row ~ 0.5.
        return bool(probes + 3 * expected_candidates < 0.5 * self._n)

    def search(
        self, queries: U8 | Sequence[str], max_distance: int = DEFAULT_MAX_DISTANCE, *, batch: int = 512
    ) -> list[tuple[int, int, int]]:
        """All (query row, entry row, distance) with distance <= max_distance, sorted. Exact."""
        if not 0 <= max_distance <= PDQ_BITS:
            raise ValueError(f"max_distance must be in 0..256, got {max_distance}")
        q = _as_hash_array(queries)
        if len(q) == 0 or self._n == 0:
            return []
        qr, er, dist = self.search_arrays(q, max_distance, batch=batch)
        return list(zip(qr.tolist(), er.tolist(), dist.tolist(), strict=True))

    def search_arrays(
        self, queries: U8, max_distance: int = DEFAULT_MAX_DISTANCE, *, batch: int = 512
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """Like :meth:`search` but returns three arrays (query rows, entry rows, distances), sorted."""
        q = _as_hash_array(queries)
        qw = _words(q)
        if len(q) == 0 or self._n == 0:
            e = np.empty(0, dtype=np.int64)
            return e, e.copy(), np.empty(0, dtype=np.int32)
        if self._use_mih(max_distance):
            work = self._mih_batch
        else:
            work = self._scan_batch
            batch = max(1, (1 << 22) // max(1, self._n))
        starts = list(range(0, len(qw), batch))
        if self.threads > 1 and len(starts) > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                parts = list(pool.map(lambda s: work(qw[s : s + batch], s, max_distance), starts))
        else:
            parts = [work(qw[s : s + batch], s, max_distance) for s in starts]
        qr = np.concatenate([p[0] for p in parts])
        er = np.concatenate([p[1] for p in parts])
        dist = np.concatenate([p[2] for p in parts])
        order = np.lexsort((er, qr))
        return qr[order], er[order], dist[order]

    def _scan_batch(
        self, qw: U64, q0: int, max_distance: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        y = np.bitwise_count(qw[:, None, :] ^ self._words[None, :, :]).view(np.uint32)[..., 0]
        x = ((y * np.uint32(0x01010101)) >> np.uint32(24)).astype(np.int32)  # see _distances
        x[y == _ALL_64] = 256
        qi, ei = np.nonzero(x <= max_distance)
        return (qi + q0).astype(np.int64), ei.astype(np.int64), x[qi, ei]

    def _mih_batch(
        self, qw: U64, q0: int, max_distance: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        radius = max_distance // self.nchunks
        qrows: list[npt.NDArray[np.int64]] = []
        erows: list[npt.NDArray[np.int64]] = []
        for (start, width), offsets, perm in zip(self.bounds, self._offsets, self._perms, strict=True):
            masks = _flip_masks_cached(width, radius)
            keys = _extract(qw, start, width)
            probes = (keys[:, None] ^ masks[None, :]).ravel()
            lo = np.take(offsets, probes)
            counts = np.take(offsets, probes + 1) - lo
            hit = np.nonzero(counts)[0]
            if len(hit) == 0:
                continue
            lo = np.asarray(lo[hit], dtype=np.int64)
            counts = np.asarray(counts[hit], dtype=np.int64)
            qid = hit // len(masks)
            total = int(counts.sum())
            # Expand each [lo, lo+count) range into positions without a Python loop.
            ends = np.cumsum(counts)
            pos = np.arange(total, dtype=np.int64) + np.repeat(lo - (ends - counts), counts)
            cand_q = np.repeat(qid, counts)
            cand_e = np.take(perm, pos).astype(np.int64)
            d = _pair_distances(qw, cand_q, self._words, cand_e)
            ok = d <= max_distance
            qrows.append(cand_q[ok])
            erows.append(cand_e[ok])
        if not qrows:
            e = np.empty(0, dtype=np.int64)
            return e, e.copy(), np.empty(0, dtype=np.int32)
        # A true match may be found through several chunks: keep each (query, entry) once.
        pair = np.unique(np.concatenate(qrows) * self._n + np.concatenate(erows))
        qi = pair // self._n
        ei = pair % self._n
        d = _pair_distances(qw, qi, self._words, ei)
        return qi + q0, ei, d

    # -- dihedral ----------------------------------------------------------------------------------------

    def search_dihedral(
        self,
        query_hashes: Sequence[Sequence[str]] | U8,
        max_distance: int = DEFAULT_MAX_DISTANCE,
        *,
        batch: int = 512,
    ) -> list[tuple[int, int, int, int]]:
        """Search all 8 dihedral variants of each item (PDQ's rotations/flips: a list of 8 hex per item, or an
        (M, 8, 32) uint8 array). Returns (item, entry row, best distance, variant giving it) per matched
        (item, entry), sorted by item then entry; ties keep the lowest variant number."""
        if isinstance(query_hashes, np.ndarray):
            arr = np.ascontiguousarray(query_hashes, dtype=np.uint8)
            if arr.ndim != 3 or arr.shape[2] != PDQ_BYTES:
                raise ValueError(f"dihedral queries must have shape (M, V, 32), got {arr.shape}")
        else:
            rows = [list(v) for v in query_hashes]
            nv = {len(v) for v in rows}
            if len(nv) > 1:
                raise ValueError(f"every item needs the same number of variants, got {sorted(nv)}")
            flat = hex_to_array([h for v in rows for h in v])
            arr = flat.reshape(len(rows), nv.pop() if nv else 8, PDQ_BYTES)
        m, nvar = arr.shape[0], arr.shape[1]
        if m == 0:
            return []
        qr, er, dist = self.search_arrays(arr.reshape(m * nvar, PDQ_BYTES), max_distance, batch=batch)
        item = qr // nvar
        variant = qr % nvar
        # Best distance per (item, entry): sort by (item, entry, distance, variant), keep first of each pair.
        order = np.lexsort((variant, dist, er, item))
        item, er, dist, variant = item[order], er[order], dist[order], variant[order]
        first = np.ones(len(item), dtype=bool)
        first[1:] = (item[1:] != item[:-1]) | (er[1:] != er[:-1])
        cols = (item[first], er[first], dist[first], variant[first])
        return list(zip(*(c.tolist() for c in cols), strict=True))


_MASK_CACHE: dict[tuple[int, int], npt.NDArray[np.uint32]] = {}


def _flip_masks_cached(width: int, radius: int) -> npt.NDArray[np.uint32]:
    key = (width, radius)
    m = _MASK_CACHE.get(key)
    if m is None:
        m = _flip_masks(width, min(radius, width))
        _MASK_CACHE[key] = m
    return m


def len_combs(width: int, radius: int) -> int:
    """Number of keys within ``radius`` bits of a ``width``-bit key."""
    return sum(math.comb(width, r) for r in range(0, min(radius, width) + 1))
