"""Small helpers shared by the analysis modules: union-find and time normalisation (identifiers and phones:
:mod:`ringtrace.identifiers`, :mod:`ringtrace.phones`)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)

CHUNK = 2000  # rows fetched per round trip when streaming big tables


class UnionFind(Generic[K]):
    """Disjoint sets; the smallest key (by the caller's order of ``add``) is not special, roots are arbitrary."""

    def __init__(self, items: Iterable[K] = ()) -> None:
        self.parent: dict[K, K] = {}
        for i in items:
            self.parent[i] = i

    def add(self, x: K) -> None:
        self.parent.setdefault(x, x)

    def find(self, x: K) -> K:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression keeps later finds cheap
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: K, b: K) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[rb] = ra
        return True

    def groups(self) -> dict[K, list[K]]:
        out: dict[K, list[K]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return out


def utc(dt: Any) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; everything stored is UTC."""
    if dt is None:
        return None
    d: datetime = datetime.fromisoformat(dt) if isinstance(dt, str) else dt
    if d.tzinfo is None:
        return d.replace(tzinfo=UTC)
    return d.astimezone(UTC)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()
