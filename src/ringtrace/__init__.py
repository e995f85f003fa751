"""ringtrace: from the first lead to the per-country referral.

The public library API is small: open a case, ingest evidence, run the stages, verify, export.

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> import ringtrace
    >>> from ringtrace.synth.operation import write_operation
    >>> work = Path(tempfile.mkdtemp())
    >>> _ = write_operation(work / "op", seed=3, scale="tiny")       # a benign synthetic operation
    >>> exhibits = json.loads((work / "op" / "operation.json").read_text())["exhibits"]
    >>> case = ringtrace.Case.init(work / "case", name="doctest", actor="examiner")
    >>> for ex in exhibits:
    ...     r = ringtrace.ingest(case, work / "op" / ex["path"], exhibit=ex["exhibit"],
    ...                          timezone=ex.get("timezone", "UTC"), owner=ex.get("owner"), parse=False)
    >>> res = ringtrace.run(case, executor="serial")                  # parse, hash, match, analyze, views
    >>> len(res.parsed) == len(exhibits), res.hashed > 0, res.analyzed
    (True, True, True)
    >>> ringtrace.verify(case).ok
    True
    >>> out = ringtrace.export(case, work / "export.json")
    >>> doc = json.loads(out.read_text())
    >>> doc["case"], len(doc["persons"]) > 0, len(doc["groups"]) > 0
    ('doctest', True, True)
    >>> case.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ringtrace._version import TOOL, __version__

if TYPE_CHECKING:
    from ringtrace.audit import AuditHead
    from ringtrace.case import Case
    from ringtrace.compute import Executor
    from ringtrace.stages import Progress
    from ringtrace.stages.intake import IntakeResult
    from ringtrace.stages.run import RunResult
    from ringtrace.verification import VerifyReport

__all__ = ["TOOL", "Case", "__version__", "export", "ingest", "run", "verify"]

ExportFormat = Literal["json", "case", "vics", "graphml"]


def __getattr__(name: str) -> Any:
    # ``ringtrace.Case`` without paying for SQLAlchemy on ``import ringtrace``
    if name == "Case":
        from ringtrace.case import Case

        return Case
    raise AttributeError(f"module 'ringtrace' has no attribute {name!r}")


def ingest(case: Case, path: str | Path, *, exhibit: str | None = None, format: str | None = None,
           timezone: str = "UTC", examiner: str | None = None, owner: str | None = None,
           region: str | None = None, seizure_country: str | None = None, reference: bool = False,
           parse: bool = True, key: str | None = None, password: str | None = None) -> IntakeResult:
    """Record one source (chain of custody), keep it in the vault and, unless ``parse=False``, parse it.
    Ingesting the same source again adds nothing. ``key`` / ``password``: an encrypted backup's (memory only)."""
    from ringtrace.stages.intake import ingest as _ingest

    return _ingest(case, Path(path), exhibit=exhibit, format=format, timezone=timezone, examiner=examiner,
                   owner=owner, region=region, seizure_country=seizure_country, reference=reference, parse=parse,
                   key=key, password=password)


def run(case: Case, executor: Executor | str | None = None, progress: Progress | None = None) -> RunResult:
    """Run whatever stages are pending (parse, hash, match, analyze, then the read views). ``executor`` is an
    executor or a spec (``serial``, ``local[:N]``, ``dask[:ADDRESS]``); one made here from a spec is closed here."""
    from ringtrace.compute import make_executor
    from ringtrace.stages import noop_progress
    from ringtrace.stages.run import run as _run

    ex = make_executor(executor) if isinstance(executor, str) else executor
    try:
        return _run(case, ex, progress or noop_progress)
    finally:
        if isinstance(executor, str) and ex is not None:
            ex.close()


def verify(case: Case, *, anchor: AuditHead | str | None = None, deep: bool = False) -> VerifyReport:
    """Re-hash every vault object, staged tree and reference-mode file, walk the audit chain and hold it against
    its head (and ``anchor``, a ``SEQ:HASH`` head taken earlier), recompute every source's parse seal; ``deep``
    re-parses every source from the vault and compares record by record (docs/integrity.md)."""
    from ringtrace.audit import AuditHead as _Head
    from ringtrace.verification import verify as _verify

    head = _Head.parse(anchor) if isinstance(anchor, str) else anchor
    return _verify(case, anchor=head, deep=deep)


def export(case: Case, out: str | Path, format: ExportFormat = "json", *,
           with_messages: bool | None = None) -> Path:
    """Export the case: ``json`` (contract v1, docs/export.md), ``case`` (CASE/UCO JSON-LD), ``vics`` (Project
    VIC VICS JSON) or ``graphml``, as ``ringtrace export`` does. ``with_messages`` (every message and event)
    defaults to the format's own default: off for JSON, on for CASE/UCO. Returns the file written."""
    p = Path(out)
    if format == "json":
        from ringtrace.dissemination.export import write_export

        return write_export(case, p, with_messages=bool(with_messages))
    if format == "case":
        from ringtrace.dissemination.caseuco import write_case_export

        return write_case_export(case, p, with_messages=True if with_messages is None else with_messages)
    if format == "vics":
        from ringtrace.matching.sets import export_vics

        export_vics(case, p)
        return p
    if format == "graphml":
        from ringtrace.analysis.graph import export_graphml

        return export_graphml(case, p)
    raise ValueError(f"unknown export format {format!r}: use json, case, vics or graphml")
