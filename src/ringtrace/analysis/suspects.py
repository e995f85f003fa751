"""The suspect ranking as the report, the packages and the CLI show it: one row a person, with readable reasons.

An analysis query (over ``priorities.rank_suspects``), kept here so that dissemination modules read it from the
analysis side instead of from each other."""

from __future__ import annotations

from typing import TypedDict

from ringtrace.analysis.priorities import rank_suspects
from ringtrace.case import Case


class SuspectRow(TypedDict):
    """One ranked person: label, attributed country, score, and one reason a scoring component."""

    person: str
    country: str | None
    score: float
    reasons: list[str]


def suspects_for(case: Case, country: str | None = None) -> list[SuspectRow]:
    """Persons by descending score (``country`` keeps only those attributed to it), each with its reasons as
    ``"component (+points): why"``."""
    return [{"person": s.label, "country": s.country, "score": s.score,
             "reasons": [f"{name} (+{pts}): {why}" for name, pts, why in s.components]}
            for s in rank_suspects(case, country=country)]
