"""Case commands: create a case, check its integrity, list its problems, and the synthetic demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from ringtrace import __version__
from ringtrace.audit import AuditHead
from ringtrace.case import Case, CaseError
from ringtrace.cli._app import CaseArg, app, console, err, fail, open_case, progress
from ringtrace.demo import DemoError, run_demo
from ringtrace.store.schema import problems as P
from ringtrace.store.schema import sources as S
from ringtrace.synth.operation import write_operation
from ringtrace.textsafe import shown
from ringtrace.vaultcheck import find_orphans, remove_orphans
from ringtrace.verification import verify as verify_case


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"ringtrace {__version__}")


@app.command()
def init(case: CaseArg, name: Annotated[str | None, typer.Option(help="Case name.")] = None,
         db_url: Annotated[str | None, typer.Option(help="Database URL (default: SQLite in the case).")] = None
         ) -> None:
    """Create a case folder (database under migrations, evidence vault, audit log)."""
    try:
        c = Case.init(case, name=name, db_url=db_url)
    except CaseError as e:
        fail(str(e))
    console.print(f"Case [bold]{shown(c.name)}[/bold] created in {shown(str(case))}.")
    console.print(f"Next: ringtrace ingest {shown(str(case))} EVIDENCE --exhibit EX-001")


@app.command()
def verify(case: CaseArg,
           anchor: Annotated[str | None, typer.Option(
               help="An audit head SEQ:HASH taken earlier (printed in reports and package manifests) that the log "
                    "must still hold.")] = None,
           deep: Annotated[bool, typer.Option(
               help="Also re-parse every source from the vault into a scratch database and compare record by "
                    "record.")] = False) -> None:
    """Re-hash the vault, staged trees and reference files, check the audit chain against its head and every
    source's parse seal; exit 1 and name what was altered, planted or is missing (docs/integrity.md)."""
    try:
        head = AuditHead.parse(anchor) if anchor else None
    except ValueError as e:
        fail(str(e))
    c = open_case(case)
    rep = verify_case(c, anchor=head, deep=deep)
    console.print(f"checked {rep.objects_checked} vault objects, {rep.tree_files_checked} staged files, "
                  f"{rep.files_checked} reference files, {rep.audit_entries} audit entries, {rep.seals_checked} "
                  f"parse seals" + (f", {rep.sources_reparsed} sources re-parsed" if deep else ""))
    if rep.head is not None:
        console.print(f"audit head {rep.head}")
    for n in rep.notes:
        console.print(f"note: {shown(n)}")
    if rep.ok:
        console.print("[green]intact[/green]")
        return
    for f in rep.findings:
        err.print(f"[red]{shown(f)}[/red]")
    raise typer.Exit(1)


vault_app = typer.Typer(help="The evidence vault: orphans left by interrupted ingests.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")


@vault_app.command("gc")
def vault_gc(case: CaseArg,
             dry_run: Annotated[bool, typer.Option(help="List what would be removed, remove nothing.")] = False
             ) -> None:
    """Remove vault objects, staged trees and temporary files that no record names (audited)."""
    c = open_case(case)
    found = find_orphans(c) if dry_run else remove_orphans(c)
    for line in found.describe():
        console.print(shown(line))
    verb = "would remove" if dry_run else "removed"
    console.print(f"{verb} {len(found.objects)} objects ({found.bytes:,} bytes), {len(found.trees)} trees, "
                  f"{len(found.temporary)} temporary files")


@app.command()
def problems(case: CaseArg) -> None:
    """List the problems met in the evidence (files that could not be read, and why)."""
    c = open_case(case)
    t = Table("exhibit", "stage", "severity", "file", "reason")
    with c.engine.connect() as con:
        ex = {r.id: r.exhibit for r in con.execute(select(S.c.id, S.c.exhibit))}
        for r in con.execute(select(P).order_by(P.c.id)):
            t.add_row(ex.get(r.source_id, "-"), r.stage, r.severity, shown(r.file), shown(r.reason))
    console.print(t)


@app.command()
def synth(out: Annotated[Path, typer.Argument(help="Output folder.")],
          seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 1,
          scale: Annotated[str, typer.Option(help="tiny | small | medium | large")] = "small") -> None:
    """Write a synthetic operation (benign, invented) in the real evidence formats, with ground-truth.json."""
    with progress() as cb:
        op = write_operation(out, seed=seed, scale=scale, progress=cb)
    console.print(f"wrote {len(op.manifest['exhibits'])} exhibits to {shown(str(out))} "
                  f"(ground truth: {shown(str(out / 'ground-truth.json'))})")


@app.command()
def demo(out: Annotated[Path, typer.Argument(help="Working folder.")] = Path("demo"),
         seed: int = 1, scale: str = "small") -> None:
    """Synthesise an operation, then init, ingest, run, export and report: the whole pipeline."""
    try:
        with progress() as cb:
            res = run_demo(out, seed=seed, scale=scale, progress=cb, say=lambda s: console.print(s))
    except DemoError as e:
        fail(str(e))
    console.print()
    console.print(f"[bold]Report:[/bold]  {shown(str(res.report))}")
    console.print(f"[bold]Export:[/bold]  {shown(str(res.export))}")
    console.print(f"[bold]Case:[/bold]    {shown(str(res.case))}")
    console.print("Next: ringtrace verify " + shown(str(res.case)) + "  |  ringtrace problems "
                  + shown(str(res.case)))
