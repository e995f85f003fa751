"""The command line: a thin face over the library. Every command opens the case, calls one library function,
and prints what it did and what to run next."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ringtrace import __version__
from ringtrace.textsafe import shown

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  help="ringtrace: from captured leads and seized phones to per-country referrals.")
hashsets_app = typer.Typer(no_args_is_help=True, help="Known-material hash lists: import, list, remove, export.")
app.add_typer(hashsets_app, name="hashsets")
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

CaseArg = Annotated[Path, typer.Argument(help="The case folder.")]


def _fail(msg: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {shown(msg)}", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _progress() -> Iterator[Any]:
    with Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as prog:
        tasks: dict[str, Any] = {}

        def cb(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = prog.add_task(stage, total=total)
            prog.update(tasks[stage], completed=done, total=total)

        yield cb


def _open(case: Path) -> Any:
    from ringtrace.case import Case, CaseError

    try:
        return Case.open(case)
    except CaseError as e:
        _fail(str(e))


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"ringtrace {__version__}")


@app.command()
def init(case: CaseArg, name: Annotated[str | None, typer.Option(help="Case name.")] = None,
         db_url: Annotated[str | None, typer.Option(help="Database URL (default: SQLite in the case).")] = None
         ) -> None:
    """Create a case folder (database under migrations, evidence vault, audit log)."""
    from ringtrace.case import Case, CaseError

    try:
        c = Case.init(case, name=name, db_url=db_url)
    except CaseError as e:
        _fail(str(e))
    console.print(f"Case [bold]{shown(c.name)}[/bold] created in {shown(str(case))}.")
    console.print(f"Next: ringtrace ingest {shown(str(case))} EVIDENCE --exhibit EX-001")


@app.command()
def ingest(
    case: CaseArg,
    path: Annotated[Path, typer.Argument(help="A file, folder, zip or tar.")],
    exhibit: Annotated[str | None, typer.Option(help="Exhibit number, e.g. EX-001.")] = None,
    format: Annotated[str | None, typer.Option(help="Force a format (default: recognised from content).")] = None,
    timezone: Annotated[str, typer.Option(help="Local time zone of exports in this source (IANA).")] = "UTC",
    examiner: Annotated[str | None, typer.Option(help="Who ingests.")] = None,
    owner: Annotated[str | None, typer.Option(help="The device/export owner's number (E.164).")] = None,
    region: Annotated[str | None, typer.Option(help="Default phone region (ISO alpha-2).")] = None,
    seizure_country: Annotated[str | None, typer.Option(help="Country where the device was seized.")] = None,
    reference: Annotated[bool, typer.Option(help="Record and verify in place instead of copying.")] = False,
    key: Annotated[str | None, typer.Option(
        help="Key for encrypted WhatsApp backups: a key file's path (preferred) or the 64 hex digits. Used in "
             "memory only, never stored; only its fingerprint is recorded.")] = None,
) -> None:
    """Record a source (chain of custody), keep it in the vault and parse it."""
    from ringtrace.intake import IntakeError

    c = _open(case)
    try:
        r = c.ingest(path, exhibit=exhibit, format=format, timezone=timezone, examiner=examiner, owner=owner,
                     region=region, seizure_country=seizure_country, reference=reference,
                     key=str(Path(key).expanduser().resolve()) if key and Path(key).expanduser().is_file() else key)
    except IntakeError as e:
        _fail(str(e))
    if not r.added:
        console.print(f"{shown(str(path))} is already in the case as {r.exhibit}: nothing added.")
        return
    console.print(f"{r.exhibit}: {r.files} files recorded from {shown(str(path))}.")
    for p in r.problems:
        err.print(f"[yellow]refused:[/yellow] {shown(p)}")
    if r.parse is not None:
        for fmt, primary in r.parse.units:
            console.print(f"  read {shown(primary)} as {fmt}")
        if r.parse.problems:
            err.print(f"[yellow]{r.parse.problems} problems recorded[/yellow]: ringtrace problems {shown(str(case))}")
    console.print(f"Next: ringtrace run {shown(str(case))}")


@app.command()
def run(case: CaseArg,
        executor: Annotated[str | None, typer.Option(help="serial, local[:N] or dask[:ADDRESS].")] = None) -> None:
    """Run whatever stages are pending: parse, hash, match, analyze."""
    from ringtrace.compute import make_executor

    c = _open(case)
    ex = make_executor(executor) if executor else None
    with _progress() as cb:
        res = c.run(executor=ex, progress=cb)
    if ex is not None:
        ex.close()
    console.print(f"parsed {len(res.parsed)} sources, hashed {res.hashed} media, {res.matches} matches, analysis "
                  "done.")
    console.print(f"Next: ringtrace report {shown(str(case))}  |  ringtrace export {shown(str(case))} --out x.json")


@app.command()
def verify(case: CaseArg) -> None:
    """Re-hash every vault object and walk the audit chain; exit 1 and name what was altered or is missing."""
    c = _open(case)
    rep = c.verify()
    console.print(f"checked {rep.objects_checked} vault objects, {rep.files_checked} reference files, "
                  f"{rep.audit_entries} audit entries")
    if rep.ok:
        console.print("[green]intact[/green]")
        return
    for f in rep.findings:
        err.print(f"[red]{shown(f)}[/red]")
    raise typer.Exit(1)


@app.command()
def problems(case: CaseArg) -> None:
    """List the problems met in the evidence (files that could not be read, and why)."""
    from sqlalchemy import select

    from ringtrace.store.schema import problems as P
    from ringtrace.store.schema import sources as S

    c = _open(case)
    t = Table("exhibit", "stage", "severity", "file", "reason")
    with c.engine.connect() as con:
        ex = {r.id: r.exhibit for r in con.execute(select(S.c.id, S.c.exhibit))}
        for r in con.execute(select(P).order_by(P.c.id)):
            t.add_row(ex.get(r.source_id, "-"), r.stage, r.severity, shown(r.file), shown(r.reason))
    console.print(t)


@app.command()
def export(
    case: CaseArg,
    out: Annotated[Path, typer.Option(help="Output file.")],
    format: Annotated[str, typer.Option(help="json | case (CASE/UCO JSON-LD) | vics | graphml")] = "json",
    with_messages: Annotated[bool, typer.Option(help="Include every message and event.")] = False,
) -> None:
    """Export the case (JSON contract v1, docs/export.md)."""
    c = _open(case)
    if format == "json":
        from ringtrace.dissemination.export import write_export

        write_export(c, out, with_messages=with_messages)
    elif format == "vics":
        from ringtrace.matching.stage import export_vics

        export_vics(c, out)
    elif format == "case":
        from ringtrace.dissemination.caseuco import write_case_export

        write_case_export(c, out)
    elif format == "graphml":
        from ringtrace.analysis.graph import export_graphml

        export_graphml(c, out)
    else:
        _fail(f"unknown export format {format!r}")
    console.print(f"wrote {shown(str(out))}")


@app.command()
def report(case: CaseArg, out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
           pdf: Annotated[bool, typer.Option(help="Also render report.pdf.")] = False) -> None:
    """Write the case report (HTML; PDF with --pdf). It shows no media content."""
    from ringtrace.dissemination.report import write_report

    c = _open(case)
    paths = write_report(c, out or (case / "report"), pdf=pdf)
    for p in paths:
        console.print(f"wrote {shown(str(p))}")


@app.command("hash")
def hash_cmd(paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
             as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of CSV.")] = False) -> None:
    """Hash media: path,md5,sha1,sha256,pdq,quality (one read of each file)."""
    import csv

    from ringtrace.media.hashing import hash_paths, to_csv_row, to_json

    w = csv.writer(sys.stdout)
    if not as_json:
        w.writerow(["path", "md5", "sha1", "sha256", "pdq", "quality"])
    for p, h in hash_paths(paths):
        if as_json:
            sys.stdout.write(json.dumps(to_json(p, h)) + "\n")
        else:
            w.writerow(to_csv_row(p, h))


@hashsets_app.command("import")
def hashsets_import(
    case: CaseArg, file: Annotated[Path, typer.Argument(help="Hash list file.")],
    name: Annotated[str | None, typer.Option(help="Name for the list (default: file name).")] = None,
    format: Annotated[str | None, typer.Option(help="vics | icse | ncmec | plain | pdq (default: sniffed).")] = None,
    category_scheme: Annotated[Path | None, typer.Option(help="JSON category mapping.")] = None,
    pdq_distance: Annotated[int, typer.Option(help="PDQ match distance for this list.")] = 31,
) -> None:
    """Import a hash list (Project VIC VICS JSON, Interpol ICSE CSV, NCMEC XML, plain)."""
    from ringtrace.matching.stage import HashsetError, import_hashset

    c = _open(case)
    try:
        res = import_hashset(c, file, name=name, format=format, scheme_path=category_scheme,
                             pdq_distance=pdq_distance)
    except HashsetError as e:
        _fail(str(e))
    console.print(f"imported {res.entries} entries into hash set {shown(res.name)} ({res.format}); "
                  f"{len(res.problems)} lines refused")
    for p in res.problems[:20]:
        err.print(f"[yellow]{shown(p)}[/yellow]")
    console.print(f"Next: ringtrace run {shown(str(case))}")


@hashsets_app.command("list")
def hashsets_list(case: CaseArg) -> None:
    """List the hash sets in the case."""
    from sqlalchemy import select

    from ringtrace.store.schema import hashsets

    c = _open(case)
    t = Table("name", "format", "entries", "pdq distance", "imported", "file sha256")
    with c.engine.connect() as con:
        for r in con.execute(select(hashsets).order_by(hashsets.c.name)):
            t.add_row(shown(r.name), r.format, str(r.entry_count), str(r.pdq_distance), str(r.imported_at)[:19],
                      r.file_sha256[:16] + "…")
    console.print(t)


@hashsets_app.command("remove")
def hashsets_remove(case: CaseArg, name: str) -> None:
    """Remove a hash set and its matches."""
    from ringtrace.matching.stage import HashsetError, remove_hashset

    c = _open(case)
    try:
        remove_hashset(c, name)
    except HashsetError as e:
        _fail(str(e))
    console.print(f"removed {shown(name)}")


@app.command()
def synth(out: Annotated[Path, typer.Argument(help="Output folder.")],
          seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 1,
          scale: Annotated[str, typer.Option(help="tiny | small | medium | large")] = "small") -> None:
    """Write a synthetic operation (benign, invented) in the real evidence formats, with ground-truth.json."""
    from ringtrace.synth.operation import write_operation

    with _progress() as cb:
        op = write_operation(out, seed=seed, scale=scale, progress=cb)
    console.print(f"wrote {len(op.manifest['exhibits'])} exhibits to {shown(str(out))} "
                  f"(ground truth: {shown(str(out / 'ground-truth.json'))})")


@app.command()
def demo(out: Annotated[Path, typer.Argument(help="Working folder.")] = Path("demo"),
         seed: int = 1, scale: str = "small") -> None:
    """Synthesise an operation, then init, ingest, run, export and report: the whole pipeline."""
    from ringtrace.demo import run_demo

    with _progress() as cb:
        res = run_demo(out, seed=seed, scale=scale, progress=cb, say=lambda s: console.print(s))
    console.print()
    console.print(f"[bold]Report:[/bold]  {shown(str(res.report))}")
    console.print(f"[bold]Export:[/bold]  {shown(str(res.export))}")
    console.print(f"[bold]Case:[/bold]    {shown(str(res.case))}")
    console.print("Next: ringtrace verify " + shown(str(res.case)) + "  |  ringtrace problems "
                  + shown(str(res.case)))


def main() -> None:
    from ringtrace import cli_extra

    cli_extra.register(app)
    app()


if __name__ == "__main__":
    main()
