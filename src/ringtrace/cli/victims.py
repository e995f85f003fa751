"""What seized notes say, in the ``notes`` group: ``notes victims`` (possible victims, audited with a purpose) and
``notes named`` (where notes name a person of the case, as suggested ties with their basis)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ringtrace.analysis.victims import note_mentions, read_victims
from ringtrace.cli._app import CaseArg, console, fail, open_case
from ringtrace.cli.notes import notes_app
from ringtrace.textsafe import shown


@notes_app.command("victims")
def victims(case: CaseArg,
            purpose: Annotated[str, typer.Option(help="Why you read them (recorded in the audit trail).")],
            country: Annotated[str | None, typer.Option(help="Only this country.")] = None) -> None:
    """Possible victims: people named in notes who tie to nobody of the case (the most sensitive data; audited)."""
    if len(purpose.strip()) < 3:
        fail("--purpose must say why you read the possible victims")
    c = open_case(case)
    rows = read_victims(c, purpose=purpose, country=country)
    t = Table("ref", "name as written", "age", "place", "country", "dates", "where written", "why listed")
    for r in rows:
        t.add_row(r.label, shown(r.name), "-" if r.age is None else str(r.age),
                  shown(r.place or "-") + (f" ({r.place_country})" if r.place_country else ""), r.country or "-",
                  ", ".join(r.dates) or "-", f"{r.sha256[:12]} p{r.page} l{r.line_no} {', '.join(r.exhibits)}",
                  shown(r.basis))
    console.print(t)
    console.print(f"{len(rows)} possible victims; this read is recorded in the case's audit trail.")


@notes_app.command("named")
def named(case: CaseArg, person: Annotated[str, typer.Argument(help="Person label, e.g. P0012.")]) -> None:
    """Where seized notes name this person: numbers that match exactly, names that match closely (suggestions)."""
    c = open_case(case)
    rows = note_mentions(c, person.strip().upper())
    t = Table("score", "on the note", "line", "where", "basis")
    for r in rows:
        t.add_row(f"{r['score']:.0f}", shown(r["raw"]), shown(r["text"] or ""),
                  f"{r['sha256'][:12]} p{r['page']} l{r['line_no']} ({r['origin']})", shown(r["basis"]))
    console.print(t)
    if not rows:
        console.print(f"no note names {shown(person)}")
