"""The order of the stages, known here alone: parse (per pending source) -> hash (per distinct content) ->
text (documents and pictures of paper, per distinct content) -> match (all media x all hash sets) -> analyze
(whole case) -> notes (what the text says, tied to the persons) -> views (what the pages read, per case version).

Each stage is idempotent (parse one transaction per source, hash skips what is done and commits in batches,
text records every content it read together with its lines, match and analyze recompute their tables as a
whole), so ``run`` does whatever is pending and a crashed run is resumed by running again.

``STEPS`` is that order as named steps: ``run`` goes through them, and so does whatever must see each stage on
its own (bench/bench_pipeline.py times each), so the order is never written down twice. Text, match and analyze
are one step: text's OCR runs in the executor's workers while match and analyze run here (neither reads what the
text stage writes: text_lines, text_reads, its problems), and what the OCR read is stored once analyze's
transaction is over, one writer at a time. Only notes (and views) read it, after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ringtrace.case import Case
from ringtrace.compute import Executor
from ringtrace.lock import writes_case
from ringtrace.stages import Progress, noop_progress
from ringtrace.stages.analyze import analyze_stage
from ringtrace.stages.hash import hash_stage
from ringtrace.stages.match import match_stage
from ringtrace.stages.notes import notes_stage
from ringtrace.stages.parse import parse_sources
from ringtrace.stages.text import TextStageResult, start_text
from ringtrace.stages.views import discard_started, views_stage
from ringtrace.stages.views import prestart as prestart_views
from ringtrace.store import schema as S


@dataclass
class RunResult:
    parsed: list[int] = field(default_factory=list)
    hashed: int = 0  # by this run's hash stage
    media: int = 0  # hashed in the case in all (ingest_many hashes while it reads: see stages.hash.IdleHashing)
    text: TextStageResult = field(default_factory=TextStageResult)
    matches: int = 0
    analyzed: bool = False
    views: list[str] = field(default_factory=list)  # the read views stored for this version of the case


def _parse(case: Case, executor: Executor | None, progress: Progress, res: RunResult) -> None:
    with case.engine.connect() as con:
        pending = [r[0] for r in con.execute(select(S.sources.c.id).where(S.sources.c.status != "parsed")
                                             .order_by(S.sources.c.id))]
    parse_sources(case, pending, executor, progress)  # units read in workers, written here one source at a time
    res.parsed.extend(pending)


def _hash(case: Case, executor: Executor | None, progress: Progress, res: RunResult) -> None:
    res.hashed = hash_stage(case, executor, progress)  # what ingest_many hashed already is skipped
    with case.engine.connect() as con:
        res.media = con.execute(select(func.count()).select_from(S.media)).scalar_one()


def _text_match_analyze(case: Case, executor: Executor | None, progress: Progress, res: RunResult) -> None:
    """Text's documents read and stored, its OCR handed to the workers; match and analyze here meanwhile; then
    the OCR's results stored (a crash before that: the next run OCRs those contents again, nothing is lost)."""
    flight = start_text(case, executor, progress)
    try:
        res.matches = match_stage(case, progress)
        analyze_stage(case, progress)
    except BaseException:
        flight.abandon()
        raise
    res.text = flight.finish()


def _notes(case: Case, executor: Executor | None, progress: Progress, res: RunResult) -> None:
    prestart_views(case)  # the views worker's start-up on the core notes leave idle
    notes_stage(case, progress)  # needs the persons: what notes say is tied to them
    res.analyzed = True


def _views(case: Case, executor: Executor | None, progress: Progress, res: RunResult) -> None:
    views = views_stage(case, progress)
    res.views = list(views["views"]) if views["stamped"] else []


@dataclass(frozen=True)
class Step:
    """One stage of ``run``: its name and what it does to the case (what it did goes into the ``RunResult``)."""

    name: str
    run: Callable[[Case, Executor | None, Progress, RunResult], None]
    note: str = ""  # how the step runs, where a timing of it needs saying (bench/bench_pipeline.py prints it)


STEPS: tuple[Step, ...] = (
    Step("parse", _parse), Step("hash", _hash),
    Step("text+match+analyze", _text_match_analyze,
         "text's OCR in the workers while match and analyze run in the main process: timed as one step"),
    Step("notes", _notes), Step("views", _views),
)


@writes_case
def run(case: Case, executor: Executor | None = None, progress: Progress = noop_progress) -> RunResult:
    """Run every pending stage in order and say what was done."""
    res = RunResult()
    try:
        for step in STEPS:
            step.run(case, executor, progress, res)
    finally:
        discard_started(case)  # a views worker started ahead that no views stage took (a step failed)
    return res
