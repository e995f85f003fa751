"""Known-material commands: the ``hashsets`` group (import, list, remove) and the unknown-media ``series`` queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from ringtrace.cli._app import CaseArg, app, console, err, fail, open_case
from ringtrace.matching.sets import HashsetError, import_hashset, remove_hashset, unknown_series
from ringtrace.store.schema import hashsets
from ringtrace.textsafe import shown

hashsets_app = typer.Typer(no_args_is_help=True, help="Known-material hash lists: import, list, remove, export.")
app.add_typer(hashsets_app, name="hashsets")


@hashsets_app.command("import")
def hashsets_import(
    case: CaseArg, file: Annotated[Path, typer.Argument(help="Hash list file.")],
    name: Annotated[str | None, typer.Option(help="Name for the list (default: file name).")] = None,
    format: Annotated[str | None, typer.Option(help="vics | icse | ncmec | plain | pdq (default: sniffed).")] = None,
    category_scheme: Annotated[Path | None, typer.Option(help="JSON category mapping.")] = None,
    pdq_distance: Annotated[int, typer.Option(help="PDQ match distance for this list.")] = 31,
) -> None:
    """Import a hash list (Project VIC VICS JSON, Interpol ICSE CSV, NCMEC XML, plain)."""
    c = open_case(case)
    try:
        res = import_hashset(c, file, name=name, format=format, scheme_path=category_scheme,
                             pdq_distance=pdq_distance)
    except HashsetError as e:
        fail(str(e))
    console.print(f"imported {res.entries} entries into hash set {shown(res.name)} ({res.format}); "
                  f"{len(res.problems)} lines refused")
    for p in res.problems[:20]:
        err.print(f"[yellow]{shown(p)}[/yellow]")
    console.print(f"Next: ringtrace run {shown(str(case))}")


@hashsets_app.command("list")
def hashsets_list(case: CaseArg) -> None:
    """List the hash sets in the case."""
    c = open_case(case)
    t = Table("name", "format", "entries", "pdq distance", "imported", "file sha256")
    with c.engine.connect() as con:
        for r in con.execute(select(hashsets).order_by(hashsets.c.name)):
            t.add_row(shown(r.name), r.format, str(r.entry_count), str(r.pdq_distance), str(r.imported_at)[:19],
                      r.file_sha256[:16] + "…")
    console.print(t)


@hashsets_app.command("remove")
def hashsets_remove(case: CaseArg, name: str) -> None:
    """Remove a hash set and its matches."""
    c = open_case(case)
    try:
        remove_hashset(c, name)
    except HashsetError as e:
        fail(str(e))
    console.print(f"removed {shown(name)}")


@app.command()
def series(case: CaseArg, threshold: Annotated[int, typer.Option(help="PDQ distance that links two items.")] = 31,
           top: Annotated[int, typer.Option(help="How many series to show.")] = 30) -> None:
    """The victim-identification queue: unknown media clustered into series across devices (hashes only)."""
    c = open_case(case)
    rows = unknown_series(c, threshold=threshold)
    t = Table("rank", "items", "devices", "persons", "groups", "first items (sha256)")
    for r in rows[:top]:
        t.add_row(str(r.rank), str(r.size), ", ".join(r.devices), ", ".join(r.persons[:8]), ", ".join(r.groups),
                  "\n".join(m[:16] + "…" for m in r.media[:3]))
    console.print(t)
    console.print(f"{len(rows)} series of unknown media; no media content is shown here.")
