from __future__ import annotations

import numpy as np
import pytest
from _matching_synth import families, flip

from ringtrace.matching.pdq_index import (
    PDQIndex,
    array_to_hex,
    brute_force_search,
    filter_by_quality,
    hex_to_array,
    quality_mask,
)


def _mixed(seed: int, n_fam: int = 150, per: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    db, _ = families(rng, n_fam, per, maxflip=14)
    db = np.concatenate([db, rng.integers(0, 256, size=(400, 32), dtype=np.uint8)])
    near = np.stack([flip(rng, db[int(i)], int(rng.integers(0, 40))) for i in rng.integers(0, len(db), 200)])
    q = np.concatenate([near, rng.integers(0, 256, size=(100, 32), dtype=np.uint8)])
    return db, q


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("chunk_bits", [None, 12, 16, 22])
@pytest.mark.parametrize("dist", [0, 8, 31, 45])
def test_recall_equals_brute_force(seed: int, chunk_bits: int | None, dist: int) -> None:
    db, q = _mixed(seed)
    ix = PDQIndex(db, chunk_bits=chunk_bits, threads=2)
    got = ix.search(q, dist, batch=64)
    assert got == brute_force_search(q, db, dist)
    if dist >= 31:
        assert len(got) > 200  # the near queries do match: the test is not vacuous


def test_mih_path_is_taken_for_large_lists_and_exact() -> None:
    rng = np.random.default_rng(7)
    db, _ = families(rng, 2000, 10, maxflip=10)
    ix = PDQIndex(db)
    assert ix._use_mih(31)  # the multi-index path, not the scan fallback
    q = np.stack([flip(rng, db[i], 20) for i in range(0, len(db), 97)])
    assert ix.search(q, 31) == brute_force_search(q, db, 31)


def test_distance_256_is_not_zero() -> None:
    db = np.zeros((1, 32), dtype=np.uint8)
    q = np.full((1, 32), 255, dtype=np.uint8)
    ix = PDQIndex(db)
    assert ix.search(q, 255) == []
    assert ix.search(q, 256) == [(0, 0, 256)]


def test_hex_roundtrip_and_bad_hex() -> None:
    h = ["0f" * 32, "a1" * 32]
    assert array_to_hex(hex_to_array(h)) == h
    with pytest.raises(ValueError, match="not 64 hex"):
        hex_to_array(["abc"])
    with pytest.raises(ValueError, match="not hex"):
        hex_to_array(["zz" * 32])
    with pytest.raises(ValueError, match="shape"):
        PDQIndex(np.zeros((3, 31), dtype=np.uint8))


def test_ids_and_hex_input() -> None:
    ix = PDQIndex(["00" * 32, "ff" * 32], ids=[10, 20])
    assert [(q, int(ix.ids[e]), d) for q, e, d in ix.search(["00" * 31 + "01"], 31)] == [(0, 10, 1)]


def test_dihedral_keeps_best_variant(rng: np.random.Generator) -> None:
    db = rng.integers(0, 256, size=(50, 32), dtype=np.uint8)
    ix = PDQIndex(db)
    items = []
    for target in (3, 17):
        variants = [rng.integers(0, 256, size=32, dtype=np.uint8) for _ in range(8)]
        variants[5] = flip(rng, db[target], 4)  # e.g. the rotated image's hash is close
        variants[2] = flip(rng, db[target], 20)
        items.append(array_to_hex(np.stack(variants)))
    got = ix.search_dihedral(items, 31)
    assert got == [(0, 3, 4, 5), (1, 17, 4, 5)]
    arr = np.stack([hex_to_array(v) for v in items])
    assert ix.search_dihedral(arr, 31) == got


def test_dihedral_rejects_ragged() -> None:
    ix = PDQIndex(np.zeros((1, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="same number"):
        ix.search_dihedral([["00" * 32] * 8, ["00" * 32] * 7])


def test_quality_filter() -> None:
    h = np.arange(3 * 32, dtype=np.uint8).reshape(3, 32)
    kept, rows = filter_by_quality(h, [49, 50, 100])
    assert rows.tolist() == [1, 2]
    assert (kept == h[1:]).all()
    assert quality_mask([0, 49, 50]).tolist() == [False, False, True]
    with pytest.raises(ValueError, match="quality"):
        filter_by_quality(h, [100])


def test_empty_inputs() -> None:
    ix = PDQIndex(np.zeros((0, 32), dtype=np.uint8))
    assert ix.search(np.zeros((2, 32), dtype=np.uint8)) == []
    assert PDQIndex(np.zeros((2, 32), dtype=np.uint8)).search(np.zeros((0, 32), dtype=np.uint8)) == []
    with pytest.raises(ValueError, match="max_distance"):
        ix.search(np.zeros((1, 32), dtype=np.uint8), 300)
