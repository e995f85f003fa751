"""``ringtrace demo``: the whole pipeline on a synthetic operation, as an investigator would run it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ringtrace.case import Case
from ringtrace.compute import Executor
from ringtrace.stages import noop_progress

Say = Callable[[str], None]
MARK = ".ringtrace-demo"  # written in every case folder the demo makes: only such a folder is ever deleted


class DemoError(ValueError):
    """A demo option or folder the demo refuses, before it changes anything."""


@dataclass
class DemoResult:
    operation: Path
    case: Path
    report: Path
    export: Path


def ingest_operation(case: Case, op_dir: Path, progress: Callable[[str, int, int], None] | None = None,
                     say: Say | None = None, executor: Executor | None = None) -> None:
    """Ingest every exhibit of a synthetic operation with what investigators know at intake, and its lists;
    the exhibits are parsed together through ``executor`` (default: as ``parse_sources`` chooses)."""
    from ringtrace.matching.sets import import_hashset
    from ringtrace.stages.intake import ExhibitSpec, ingest_many

    manifest = json.loads((op_dir / "operation.json").read_text(encoding="utf-8"))
    exhibits = manifest["exhibits"]
    # recorded one after another by a thread while the recorded ones are parsed in worker processes (one writer)
    specs = [ExhibitSpec(op_dir / ex["path"], exhibit=ex["exhibit"], timezone=ex.get("timezone", "UTC"),
                         owner=ex.get("owner"), region=ex.get("region"), seizure_country=ex.get("seizure_country"))
             for ex in exhibits]
    results = ingest_many(case, specs, examiner="demo", executor=executor,
                          progress=progress if progress else noop_progress)
    for ex in exhibits:
        if ex.get("paper"):  # photos and scans of notes: every picture is OCR'd, in the languages they are in
            from ringtrace.documents.settings import configure

            configure(case, ex["exhibit"], paper=True, langs=ex.get("languages"))
    if say:
        for ex, r in zip(exhibits, results, strict=True):
            formats = ", ".join(sorted({f for f, _ in r.parse.units})) if r.parse else "already in the case"
            what = formats or "no app data to parse: its files are hashed and read"
            say(f"  {ex['exhibit']}: {r.files} files ({what})")
    for hl in manifest.get("hashlists", []):
        res = import_hashset(case, op_dir / hl["path"], name=hl["name"], format=hl.get("format"))
        if say:
            say(f"  hash list {res.name}: {res.entries} entries")


def run_demo(out: Path, seed: int = 1, scale: str = "small", progress: Callable[[str, int, int], None] | None = None,
             say: Say | None = None) -> DemoResult:
    from ringtrace.dissemination.export import write_export
    from ringtrace.dissemination.report import write_report
    from ringtrace.stages.run import run
    from ringtrace.synth.operation import write_operation
    from ringtrace.synth.world import SCALES

    say = say or (lambda s: None)
    if scale not in SCALES:
        raise DemoError(f"--scale {scale[:40]!r} is not a demo scale (one of: {', '.join(sorted(SCALES))})")
    op_dir, case_dir = out / "operation", out / "case"
    if case_dir.is_symlink() or (case_dir.exists() and not (case_dir / MARK).is_file()):
        raise DemoError(f"{case_dir} exists and was not made by the demo: not deleted (choose another folder)")
    if case_dir.exists():
        shutil.rmtree(case_dir)
    say(f"1. synthesising a {scale} operation (seed {seed}) in {op_dir}")
    write_operation(op_dir, seed=seed, scale=scale, progress=progress)
    say(f"2. opening case {case_dir}")
    case = Case.init(case_dir, name=f"Synthetic operation {seed}", actor="demo")
    (case_dir / MARK).write_text("made by ringtrace demo; deleted by the next demo run in this folder\n",
                                 encoding="utf-8")
    say("3. ingesting exhibits (hashed, kept in the vault, parsed)")
    ingest_operation(case, op_dir, progress, say)
    say("4. running the pipeline: hash media, match known material, analyse the network")
    res = run(case, progress=progress) if progress else run(case)
    say(f"   {res.media} media hashed ({res.hashed} by this run, the rest while ingesting), {res.matches} matches")
    export = write_export(case, out / "export.json")
    reports = write_report(case, out / "report")
    case.close()
    return DemoResult(op_dir, case_dir, reports[0], export)
