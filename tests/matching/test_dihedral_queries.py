"""``match.dihedral_queries`` (one ``bytes.fromhex`` of every stored value) gives what the per-hash parse gives,
and a malformed value still fails with the per-hash path's error."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ringtrace.matching.pdq_index import hex_to_array
from ringtrace.stages.match import dihedral_queries


def _stored(rng: random.Random) -> str:
    return ",".join(rng.randbytes(32).hex() for _ in range(8))


def test_same_arrays_as_the_per_hash_parse() -> None:
    rng = random.Random(7)
    stored = [_stored(rng) for _ in range(50)] + [_stored(rng).upper()]
    want = np.stack([hex_to_array(v.split(",")) for v in stored])
    got = dihedral_queries(stored)
    assert got.shape == (51, 8, 32) and got.dtype == np.uint8 and np.array_equal(got, want)


@pytest.mark.parametrize("bad", ["zz", " a", ","])
def test_a_malformed_value_fails_as_before(bad: str) -> None:
    rng = random.Random(8)
    stored = [_stored(rng) for _ in range(3)]
    stored[1] = bad + stored[1][len(bad):]  # same length, a bad character (a space: fromhex would skip it)
    with pytest.raises(ValueError, match="PDQ hash 0 is not"):
        np.stack([hex_to_array(v.split(",")) for v in stored])
    with pytest.raises(ValueError, match="PDQ hash 0 is not"):
        dihedral_queries(stored)
