"""Scoring what was read from synthetic notes against what was written on them (recall and precision per kind).

The ground truth is ``synth.formats.notes``'s: each line's entities with their normalised values. An entity read
counts when the same kind and value is on the same page and line (ages as numbers, places by town name, e-mails
and usernames lower-case), so a wrong value is both a miss and a false find.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ringtrace.indicators.note_entities import NoteEntity

_KIND = {"person": "name"}  # the generator's word for what extraction calls a name


@dataclass
class Score:
    true: Counter[str] = field(default_factory=Counter)
    false: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)

    @property
    def precision(self) -> float:
        t, f = sum(self.true.values()), sum(self.false.values())
        return t / (t + f) if t + f else 1.0

    @property
    def recall(self) -> float:
        t, m = sum(self.true.values()), sum(self.missed.values())
        return t / (t + m) if t + m else 1.0

    def by_kind(self) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for k in sorted(set(self.true) | set(self.false) | set(self.missed)):
            t, f, m = self.true[k], self.false[k], self.missed[k]
            out[k] = (t / (t + f) if t + f else 1.0, t / (t + m) if t + m else 1.0)
        return out


def _truth_value(kind: str, value: Any) -> str:
    if kind == "place":
        return str(value["town"])
    if kind in ("email", "username"):
        return str(value).lower()
    return str(value)


def _read_value(e: NoteEntity) -> str:
    return str(int(e.value)) if e.kind == "age" else e.value


def score(pages: Iterable[Any], found: Iterable[NoteEntity], into: Score | None = None, by_line: bool = True
          ) -> Score:
    """``pages``: the generator's NotePage list, page n (1-based) being the n-th; ``found``: what was read, with
    ``line.page`` and ``line.line_no`` counted the same way. ``by_line=False`` compares whole pages (OCR may split
    or join lines, so its line numbers need not be the writer's)."""
    s = into or Score()
    have: dict[tuple[int, int], set[tuple[str, str]]] = {}
    for e in found:
        have.setdefault((e.line.page, e.line.line_no if by_line else 0), set()).add((e.kind, _read_value(e)))
    want: dict[tuple[int, int], set[tuple[str, str]]] = {}
    for pn, page in enumerate(pages, start=1):
        for ln, line in enumerate(page.lines, start=1):
            want.setdefault((pn, ln if by_line else 0), set()).update(
                (_KIND.get(x.kind, x.kind), _truth_value(x.kind, x.value)) for x in line.entities)
    for key in set(want) | set(have):
        w, h = want.get(key, set()), have.get(key, set())
        for k, _ in w & h:
            s.true[k] += 1
        for k, _ in h - w:
            s.false[k] += 1
        for k, _ in w - h:
            s.missed[k] += 1
    return s
