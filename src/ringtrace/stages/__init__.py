"""The stages of a case: intake, parse, hash, match, analyze, views; ``stages.run`` alone knows their order.

Every stage function takes a typed :class:`ringtrace.case.Case` and reports progress through a ``Progress``
callback ``(stage, done, total)``.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def noop_progress(stage: str, done: int, total: int) -> None:
    """The default progress callback: says nothing."""
