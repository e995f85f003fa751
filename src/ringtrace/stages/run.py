"""The order of the stages, known here alone: parse (per pending source) -> hash (per distinct content) ->
text (documents and pictures of paper, per distinct content) -> match (all media x all hash sets) -> analyze
(whole case) -> notes (what the text says, tied to the persons).

Each stage is idempotent (parse one transaction per source, hash skips what is done and commits in batches,
text records every content it read together with its lines, match and analyze recompute their tables as a
whole), so ``run`` does whatever is pending and a crashed run is resumed by running again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.compute import Executor
from ringtrace.lock import writes_case
from ringtrace.stages import Progress, noop_progress
from ringtrace.stages.analyze import analyze_stage
from ringtrace.stages.hash import hash_stage
from ringtrace.stages.match import match_stage
from ringtrace.stages.notes import notes_stage
from ringtrace.stages.parse import parse_sources
from ringtrace.stages.text import TextStageResult, text_stage
from ringtrace.store import schema as S


@dataclass
class RunResult:
    parsed: list[int] = field(default_factory=list)
    hashed: int = 0
    text: TextStageResult = field(default_factory=TextStageResult)
    matches: int = 0
    analyzed: bool = False


@writes_case
def run(case: Case, executor: Executor | None = None, progress: Progress = noop_progress) -> RunResult:
    """Run every pending stage in order and say what was done."""
    res = RunResult()
    with case.engine.connect() as con:
        pending = [r[0] for r in con.execute(select(S.sources.c.id).where(S.sources.c.status != "parsed")
                                             .order_by(S.sources.c.id))]
    parse_sources(case, pending, executor, progress)  # units read in workers, written here one source at a time
    res.parsed.extend(pending)
    res.hashed = hash_stage(case, executor, progress)
    res.text = text_stage(case, executor, progress)
    res.matches = match_stage(case, progress)
    analyze_stage(case, progress)
    notes_stage(case, progress)  # needs the persons: what notes say is tied to them
    res.analyzed = True
    return res
