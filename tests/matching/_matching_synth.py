from __future__ import annotations

import numpy as np


def families(rng: np.random.Generator, nfam: int, per: int, maxflip: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic PDQ-like hashes: random 256-bit roots, each with ``per`` members a few bits away."""
    roots = rng.integers(0, 256, size=(nfam, 32), dtype=np.uint8)
    fam = np.repeat(np.arange(nfam), per)
    bits = np.unpackbits(roots[fam], axis=1)
    for i in range(len(fam)):
        k = int(rng.integers(0, maxflip + 1))
        pos = rng.choice(256, size=k, replace=False)
        bits[i, pos] ^= 1
    return np.packbits(bits, axis=1), fam


def flip(rng: np.random.Generator, h: np.ndarray, k: int) -> np.ndarray:
    bits = np.unpackbits(h.copy())
    bits[rng.choice(256, size=k, replace=False)] ^= 1
    return np.packbits(bits)
