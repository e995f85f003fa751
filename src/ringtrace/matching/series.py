"""Unknown series: group unmatched media by PDQ similarity and rank the groups for victim identification.

``cluster_pdq`` is single-linkage clustering: two items are in one series when a chain of pairs, each within
``threshold`` bits, joins them. Pairs come from the exact ``PDQIndex`` (no O(N^2) scan for large N); the
connected components are found with vectorised min-label propagation plus pointer jumping (no Python loop
per item or per pair).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .pdq_index import DEFAULT_MAX_DISTANCE, PDQIndex


def connected_components(n: int, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Component labels 0..K-1 (numbered by first appearance) for ``n`` nodes joined by edges a[i]-b[i]."""
    labels = np.arange(n, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    while True:
        la, lb = labels[a], labels[b]
        m = np.minimum(la, lb)
        changed = bool(np.any(la != lb))
        np.minimum.at(labels, a, m)
        np.minimum.at(labels, b, m)
        np.minimum.at(labels, la, m)  # hook the old roots too, so long chains collapse fast
        np.minimum.at(labels, lb, m)
        while True:  # pointer jumping to the root
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt
        if not changed:
            break
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    # Renumber by first appearance so labels are stable for a given input order.
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inv]


def cluster_pdq(hashes: npt.NDArray[np.uint8], threshold: int = DEFAULT_MAX_DISTANCE) -> npt.NDArray[np.int64]:
    """Series label per row of an (N, 32) uint8 PDQ array (single linkage within ``threshold`` bits)."""
    arr = np.ascontiguousarray(hashes, dtype=np.uint8)
    n = arr.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    index = PDQIndex(arr)
    qr, er, _ = index.search_arrays(arr, threshold)
    keep = qr < er  # each undirected pair once, no self pairs
    return connected_components(n, qr[keep], er[keep])


@dataclass(frozen=True, slots=True)
class Holders:
    """Who holds one media item: device (exhibit) ids, person ids, group ids."""

    devices: frozenset[str] = frozenset()
    persons: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Series:
    label: int
    members: tuple[int, ...]  # item indices
    devices: frozenset[str] = field(default_factory=frozenset)
    persons: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def size(self) -> int:
        return len(self.members)

    def rank_key(self) -> tuple[int, int, int, int]:
        return (len(self.devices), len(self.persons), len(self.groups), self.size)


def rank_series(
    clusters: Sequence[int] | npt.NDArray[np.integer],
    holders: Sequence[Holders | None] | Mapping[int, Holders],
    *,
    min_size: int = 2,
) -> list[Series]:
    """Series (clusters of at least ``min_size`` items) ranked by (#devices, #persons, #groups, size),
    largest first, ties by label: the victim-identification queue. ``holders[i]`` describes item ``i``."""
    labels = np.asarray(clusters, dtype=np.int64)
    members: dict[int, list[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        members.setdefault(lab, []).append(i)
    out: list[Series] = []
    for lab, items in members.items():
        if len(items) < min_size:
            continue
        dev: set[str] = set()
        per: set[str] = set()
        grp: set[str] = set()
        for i in items:
            h = holders.get(i) if isinstance(holders, Mapping) else (holders[i] if i < len(holders) else None)
            if h is None:
                continue
            dev |= h.devices
            per |= h.persons
            grp |= h.groups
        out.append(Series(lab, tuple(items), frozenset(dev), frozenset(per), frozenset(grp)))
    out.sort(key=lambda s: (tuple(-x for x in s.rank_key()), s.label))
    return out
