"""PDQ hashing on decoded RGB pixels, plus hash helpers (hex form, Hamming distance).

Wraps the ``pdqhash`` package (Meta's C++ hashing core). Pixel preparation (mode handling, 512 px pre-resize)
lives in :mod:`ringtrace.media.images`; this module only hashes an RGB uint8 array.
"""

from __future__ import annotations

from dataclasses import dataclass

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
