"""PDQ hashing on decoded pixels, plus hash helpers (hex form, Hamming distance).

Two entry points: ``pdq_from_rgb`` wraps the ``pdqhash`` package (Meta's C++ hashing core) on an RGB uint8
array; ``pdq_from_luma`` is the same algorithm written as matrix products on a float luma plane, with the
reference's 512x512 Lanczos pre-resize folded into the same matrices. Everything between the pixels and the
64x64 buffer PDQ hashes is linear (Lanczos resize, Jarosz box passes, decimation), so it collapses into one
64xH and one 64xW matrix per image size: no 512x512 intermediate image, no per-pixel C loop, and one DCT
gives all 8 dihedral hashes. Pixel preparation (mode handling, draft decode) lives in
:mod:`ringtrace.media.images`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pdqhash

# Order of pdqhash.compute_dihedral's output (original first), named like Meta's reference.
DIHEDRAL_NAMES: tuple[str, ...] = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
)

HASH_HEX_LEN = 64


@dataclass(frozen=True, slots=True)
class PdqResult:
    hash: str  # 64 hex chars, bit 0 of the bit vector is the high bit of the first nibble
    quality: int  # 0..100
    dihedral: tuple[str, ...]  # 8 hashes in DIHEDRAL_NAMES order, or () when not asked for


def bits_to_hex(bits: npt.ArrayLike) -> str:
    """256-entry 0/1 vector (pdqhash output) -> 64 hex chars, the form the C++ reference prints."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hamming(a: str, b: str) -> int:
    """Hamming distance of two hex PDQ hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def is_pdq_hex(value: str) -> bool:
    if len(value) != HASH_HEX_LEN:
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


def pdq_from_rgb(rgb: npt.NDArray[np.uint8], dihedral: bool = True) -> PdqResult:
    """Hash an H x W x 3 uint8 RGB array. Images under 5 px a side give quality 0 (reference behaviour)."""
    arr = np.ascontiguousarray(rgb, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB array, got shape {arr.shape}")
    if dihedral:
        vectors, quality = pdqhash.compute_dihedral(arr)
        hexes = tuple(bits_to_hex(v) for v in vectors)
        return PdqResult(hexes[0], int(quality), hexes)
    vector, quality = pdqhash.compute(arr)
    return PdqResult(bits_to_hex(vector), int(quality), ())


PDQ_PRESIZE = 512  # the reference (ImageMagick) resizes anything bigger to 512x512 before hashing
_MIN_HASHABLE_DIM = 5  # the reference gives quality 0 and an all-zero hash below this
_LANCZOS_SUPPORT = 3.0
_ROW_BLOCK = 1024
BANDED_MAX = 2048  # planes with more rows than this go through _ROW_BLOCK dense blocks


def _lanczos(x: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    out = np.sinc(x) * np.sinc(x / _LANCZOS_SUPPORT)
    return np.where(np.abs(x) < _LANCZOS_SUPPORT, out, 0.0)


def _lanczos_matrix(n_in: int, n_out: int, extent: float | None = None) -> npt.NDArray[np.float64]:
    """n_out x n_in resampling matrix with Pillow's Lanczos coefficients (Image.resize, LANCZOS), in full
    precision: same taps and normalisation, without Pillow's 8-bit rounding and clipping between passes.
    ``extent``: how many input samples the output spans, when not all ``n_in`` (a JPEG DCT-scaled decode of a
    side that is not a multiple of the scale: its last sample's block runs past the image, libjpeg rounds up)."""
    scale = (n_in if extent is None else extent) / n_out
    fscale = max(scale, 1.0)
    support = _LANCZOS_SUPPORT * fscale
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        center = (o + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = _lanczos((np.arange(lo, hi) - center + 0.5) / fscale)
        total = w.sum()
        m[o, lo:hi] = w / total if total != 0.0 else w
    return m


def draft_scale(n_full: int, n: int) -> int:
    """The JPEG DCT scale (1, 2, 4 or 8) whose decode of ``n_full`` samples gives ``n`` (libjpeg rounds up)."""
    for scale in (1, 2, 4, 8):
        if -(-n_full // scale) == n:
            return scale
    raise ValueError(f"{n} samples are no JPEG DCT scale (1/1 .. 1/8) of {n_full}")


def _box_matrix(n: int, window: int) -> npt.NDArray[np.float64]:
    """One pass of the reference's box1DFloat as an n x n matrix: the mean of the window clipped at the edges
    (window w covers w - (w+2)//2 samples before and (w+2)//2 - 1 after)."""
    half = (window + 2) // 2
    before, after = window - half, half - 1
    m = np.zeros((n, n))
    for o in range(n):
        lo, hi = max(o - before, 0), min(o + after + 1, n)
        m[o, lo:hi] = 1.0 / (hi - lo)
    return m


@lru_cache(maxsize=8)
def _blur_matrix(size: int) -> npt.NDArray[np.float64]:
    """64 x size: the reference's two Jarosz box passes on ``size`` samples and the decimation to 64 centres.
    Every pre-resized axis shares the one for 512, so it is built once a process, not once an image size."""
    if size == 64:
        m = np.eye(64)  # the reference skips the blur when handed exactly 64x64
    else:
        window = (size + 2 * 64 - 1) // (2 * 64)
        rows = [int(((i + 0.5) * size) / 64) for i in range(64)]
        m = _box_matrix(size, window)[rows] @ _box_matrix(size, window)  # only the 64 rows kept
    m.flags.writeable = False
    return m


class _ByteBoundedCache:
    """LRU cache of per-axis matrices bounded by the bytes it holds, not by a count: photos come in many sizes
    (132 distinct sizes in the medium operation), but only one axis length keys a matrix, and a 64 x n float32
    matrix is 256 n bytes, so a count bound either thrashes on real size mixes or has no memory bound."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[tuple[Any, ...], tuple[npt.NDArray[Any], ...]] = OrderedDict()

    def get(
        self, key: tuple[Any, ...], build: Callable[[], tuple[npt.NDArray[Any], ...]]
    ) -> tuple[npt.NDArray[Any], ...]:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        value = build()
        size = sum(a.nbytes for a in value)
        if size <= self.max_bytes:
            self._items[key] = value
            self.nbytes += size
            while self.nbytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self.nbytes -= sum(a.nbytes for a in old)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = self.hits = self.misses = 0


MATRIX_CACHE_BYTES = 64 * 1024 * 1024  # per process: ~2,000 axis lengths of 4000 px photos (both forms)
_CACHE = _ByteBoundedCache(MATRIX_CACHE_BYTES)


def _needs_presize(n: int, presize: bool) -> bool:
    return n != PDQ_PRESIZE and (presize or n > PDQ_PRESIZE)


def _axis_matrix(n: int, presize: bool, full: int) -> npt.NDArray[np.float32]:
    """64 x n matrix taking one axis of an n-sample luma plane to PDQ's 64 samples: Lanczos to 512 when the
    reference would pre-resize (n > 512, or ``presize``: the other side is over 512), then two Jarosz box
    passes and the decimation to 64 centres. ``full``: the plane is a JPEG DCT-scaled decode of an axis of
    ``full`` samples (``n`` when it is no such decode), resampled over the span of the image it covers, like the
    reference resamples the image."""
    return _CACHE.get((n, presize, full), lambda: (_build_axis_matrix(n, presize, full),))[0]


def _build_axis_matrix(n: int, presize: bool, full: int) -> npt.NDArray[np.float32]:
    size = PDQ_PRESIZE if _needs_presize(full, presize) else full
    m = _blur_matrix(size)
    if full != n:  # a DCT-scaled decode: it spans full / scale of its samples, resampled to size from there
        m = m @ _lanczos_matrix(n, size, extent=full / draft_scale(full, n))
    elif size != n:
        m = m @ _lanczos_matrix(n, size)
    return np.ascontiguousarray(m, dtype=np.float32)


_GROUP = 4  # output rows per small product


def _banded(n: int, presize: bool, full: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """_axis_matrix(n, presize, full) cut into 16 groups of 4 output rows, each with only the input rows it touches (the
    matrix is banded: ~10-25 taps a row): (16 x B row indices, 16 x 4 x B weights), B the widest band."""
    idx, w = _CACHE.get(("banded", n, presize, full), lambda: _build_banded(n, presize, full))
    return idx, w


def _build_banded(n: int, presize: bool, full: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    m = _axis_matrix(n, presize, full)
    spans = []
    for g in range(0, 64, _GROUP):
        nz = np.flatnonzero(np.any(m[g : g + _GROUP] != 0.0, axis=0))
        spans.append((int(nz[0]), int(nz[-1]) + 1))
    width = max(hi - lo for lo, hi in spans)
    idx = np.empty((len(spans), width), dtype=np.intp)
    w = np.zeros((len(spans), _GROUP, width), dtype=np.float32)
    for k, (lo, _hi) in enumerate(spans):
        start = min(lo, n - width)
        idx[k] = np.arange(start, start + width)
        w[k] = m[k * _GROUP : (k + 1) * _GROUP, start : start + width]
    return idx, w


def _apply_axis(
    n: int, x: npt.NDArray[np.floating] | npt.NDArray[np.uint8], presize: bool, full: int
) -> npt.NDArray[np.float32]:
    """_axis_matrix(n, presize, full) @ x for an n x k array. As a batch of 16 small banded products rather than
    one dense 64 x n product: ~20x fewer multiply-adds, and each product stays under OpenBLAS's threading threshold,
    so no BLAS thread pool spins up (one big GEMM went multi-threaded and ran 5x slower on a loaded 2-core
    VM, and would oversubscribe under the pipeline's process pool). Huge planes go in dense row blocks so no
    full float copy of them is made."""
    if n > BANDED_MAX:
        m = _axis_matrix(n, presize, full)
        acc = np.zeros((64, x.shape[1]), dtype=np.float32)
        for start in range(0, n, _ROW_BLOCK):
            acc += m[:, start : start + _ROW_BLOCK] @ np.asarray(x[start : start + _ROW_BLOCK], dtype=np.float32)
        return acc
    idx, w = _banded(n, presize, full)
    gathered = np.asarray(x[idx], dtype=np.float32)  # 16 x B x k
    out: npt.NDArray[np.float32] = np.matmul(w, gathered).reshape(64, x.shape[1])
    return out


def _dct_matrix() -> npt.NDArray[np.float32]:
    i = np.arange(1, 17, dtype=np.float64)[:, None]
    j = np.arange(64, dtype=np.float64)[None, :]
    dct: npt.NDArray[np.float32] = (np.sqrt(2.0 / 64) * np.cos((np.pi / 2.0 / 64) * i * (2 * j + 1))).astype(np.float32)
    return dct


_DCT = _dct_matrix()
_ODD = (np.arange(16) & 1).astype(bool)
_SIGN_J = np.where(_ODD, 1.0, -1.0).astype(np.float32)[None, :]  # + on odd columns
_SIGN_I = _SIGN_J.T
_SIGN_IJ = np.where((np.arange(16)[:, None] + np.arange(16)[None, :]) & 1, -1.0, 1.0).astype(np.float32)


def _bits_hex(b: npt.NDArray[np.floating]) -> str:
    # Reference: bit i*16+j set when B[i][j] > torben median (the lower median: 128th of 256 values);
    # pdqhash prints bit 255 first.
    flat = b.ravel()
    median = np.partition(flat, 127)[127]
    return np.packbits((flat > median)[::-1]).tobytes().hex()


def pdq_from_luma(
    luma: npt.NDArray[np.floating] | npt.NDArray[np.uint8],
    dihedral: bool = True,
    presize: bool = False,
    source: tuple[int, int] | None = None,
) -> PdqResult:
    """Hash an H x W luma plane (0..255 floats, Y = .299R + .587G + .114B) the way the C++ reference hashes
    the image: 512x512 Lanczos pre-resize when bigger, Jarosz tent filter, 64x64 -> 16x16 DCT, median bits.
    Agrees with ``pdq_from_rgb`` (pdqhash) bit for bit up to float rounding on images it can take.
    ``presize``: the plane is a reduced decode (JPEG draft) of an image over 512 px, so it is resampled to 512
    on each axis like the reference resizes the full image, even when the reduced plane is under 512.
    ``source``: (rows, cols) of the image when ``luma`` is its JPEG DCT-scaled decode (1/1 .. 1/8 a side,
    rounded up like libjpeg): each axis is then resampled over the span of the image its samples cover, which
    keeps the geometry of a side that is not a multiple of the scale (its last block runs past the image)."""
    if luma.ndim != 2:
        raise ValueError(f"expected an HxW luma array, got shape {luma.shape}")
    rows, cols = luma.shape
    if rows < _MIN_HASHABLE_DIM or cols < _MIN_HASHABLE_DIM:
        zero = "0" * HASH_HEX_LEN
        return PdqResult(zero, 0, (zero,) * 8 if dihedral else ())
    # The reference's 64x64 buffer = left @ luma @ right, left = _axis_matrix(rows), right = its cols twin.
    full_rows, full_cols = (rows, cols) if source is None else source
    acc = _apply_axis(rows, luma, presize, full_rows)  # 64 x cols
    a = _apply_axis(cols, acc.T, presize, full_cols).T
    quality = _quality(a)
    b = _DCT @ a @ _DCT.T
    first = _bits_hex(b)
    if not dihedral:
        return PdqResult(first, quality, ())
    hexes = (
        first,
        _bits_hex((b * _SIGN_J).T),  # rotate90
        _bits_hex(b * _SIGN_IJ),  # rotate180
        _bits_hex((b * _SIGN_I).T),  # rotate270
        _bits_hex(b * _SIGN_I),  # flipx
        _bits_hex(b * _SIGN_J),  # flipy
        _bits_hex(b.T),  # flipplus1
        _bits_hex((b * _SIGN_IJ).T),  # flipminus1
    )
    return PdqResult(first, quality, hexes)


def _quality(a: npt.NDArray[np.floating]) -> int:
    """pdqImageDomainQualityMetric: truncated gradients in percent of 255, summed, /90, capped at 100."""
    hundred, full = np.float32(100), np.float32(255)
    dv = np.trunc((a[:-1, :] - a[1:, :]) * hundred / full)
    dh = np.trunc((a[:, :-1] - a[:, 1:]) * hundred / full)
    total = int(np.abs(dv).sum(dtype=np.int64) + np.abs(dh).sum(dtype=np.int64))
    return min(total // 90, 100)


def hex_to_words(hashes: list[str]) -> npt.NDArray[np.uint64]:
    """N hex hashes -> N x 4 uint64 array, for vectorised Hamming distances."""
    if not hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), dtype=">u8")
    return raw.reshape(-1, 4).astype(np.uint64)


def any_within(
    query: npt.NDArray[np.uint64], target: npt.NDArray[np.uint64], distance: int, block: int = 512
) -> npt.NDArray[np.bool_]:
    """For each query row: is some target row within ``distance`` bits? Blocked to bound memory."""
    out = np.zeros(len(query), dtype=bool)
    if len(query) == 0 or len(target) == 0:
        return out
    for start in range(0, len(query), block):
        q = query[start : start + block]
        dist = np.bitwise_count(q[:, None, :] ^ target[None, :, :]).sum(axis=2)
        out[start : start + block] = (dist <= distance).any(axis=1)
    return out
