"""Analysis commands: run the pending stages, and the investigator's queries and decisions over the analysis
(suspects, aliases, country overrides, deconfliction with other cases, keyed digests, leads)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ringtrace.analysis.countries import set_country
from ringtrace.analysis.deconflict import DeconflictError, compare_keyed, deconflict, export_keyed_digests
from ringtrace.analysis.leads import KeywordError, lead_story, rank_leads
from ringtrace.analysis.persons import add_alias
from ringtrace.analysis.suspects import suspects_for
from ringtrace.cli._app import CaseArg, app, console, fail, open_case, progress
from ringtrace.compute import make_executor
from ringtrace.stages.run import run as run_stages
from ringtrace.textsafe import shown

digests_app = typer.Typer(no_args_is_help=True, help="Privacy-preserving deconfliction through keyed digests.")
app.add_typer(digests_app, name="digests")


@app.command()
def run(case: CaseArg,
        executor: Annotated[str | None, typer.Option(help="serial, local[:N] or dask[:ADDRESS].")] = None) -> None:
    """Run whatever stages are pending: parse, hash, text (documents, OCR), match, analyze, notes, then the views
    the web reads."""
    c = open_case(case)
    ex = make_executor(executor) if executor else None
    with progress() as cb:
        res = run_stages(c, executor=ex, progress=cb)
    if ex is not None:
        ex.close()
    console.print(f"parsed {len(res.parsed)} sources, hashed {res.hashed} media ({res.media} in the case), "
                  f"read {res.text.documents} "
                  f"documents and {res.text.pictures} pictures of paper ({res.text.lines} lines), {res.matches} "
                  "matches, analysis done" + (f", {len(res.views)} views stored for the web." if res.views else "."))
    console.print(f"Next: ringtrace report {shown(str(case))}  |  ringtrace export {shown(str(case))} --out x.json")


@app.command()
def suspects(case: CaseArg, country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
             top: Annotated[int, typer.Option(help="How many to show.")] = 30) -> None:
    """Suspects ranked by conduct, with the reasons."""
    c = open_case(case)
    rows = suspects_for(c, country)
    t = Table("rank", "person", "country", "score", "reasons")
    for i, s in enumerate(rows[:top], 1):
        t.add_row(str(i), s["person"], s["country"] or "-", str(s["score"]), shown("\n".join(s["reasons"])))
    console.print(t)


@app.command()
def alias(case: CaseArg, a: Annotated[str, typer.Argument(help="platform:kind:value")],
          b: Annotated[str, typer.Argument(help="platform:kind:value")],
          by: Annotated[str, typer.Option(help="Who decided.")], reason: Annotated[str, typer.Option()] = "") -> None:
    """Record that two accounts are one person (applied at the next run)."""
    c = open_case(case)
    try:
        add_alias(c, a, b, by, reason)
    except ValueError as e:
        fail(str(e))
    console.print(f"alias recorded: {shown(a)} = {shown(b)}. Next: ringtrace run {shown(str(case))}")


@app.command()
def country(case: CaseArg, subject: Annotated[str, typer.Argument(help="P0012 or platform:kind:value")],
            code: Annotated[str, typer.Argument(help="ISO 3166 alpha-2")],
            by: Annotated[str, typer.Option(help="Who decided.")], reason: Annotated[str, typer.Option()] = "") -> None:
    """Override the country a person is attributed to (audited)."""
    c = open_case(case)
    try:
        set_country(c, subject, code, by, reason)
    except ValueError as e:
        fail(str(e))
    console.print(f"{shown(subject)} -> {shown(code.upper())}")


@app.command("deconflict")
def deconflict_cmd(case: CaseArg, others: Annotated[list[Path], typer.Argument(help="Other case folders.")]) -> None:
    """Identifiers and media this case shares with other cases."""
    c = open_case(case)
    res = deconflict(c, [open_case(o) for o in others])
    t = Table("kind", "value", "here", "there")
    for o in [*res.identifiers, *res.media]:
        there = "; ".join(f"{name}: {', '.join(labels)}" for name, labels in sorted(o.theirs.items()))
        t.add_row(shown(o.kind), shown(o.value), shown(", ".join(o.mine)), shown(there))
    console.print(t)


def _read_key(path: Path) -> bytes:
    try:
        raw = path.read_bytes().strip()
    except OSError as e:
        fail(f"{path}: cannot read the agreed key: {e}")
    try:
        return bytes.fromhex(raw.decode("ascii"))
    except ValueError:
        return raw


@digests_app.command("export")
def digests_export(case: CaseArg, key_file: Annotated[Path, typer.Option(help="The key both agencies agreed.")],
                   out: Annotated[Path, typer.Option(help="JSON lines of keyed digests (no raw values).")]) -> None:
    """Write HMAC digests of every identifier and media hash, to compare with another agency without sharing data."""
    c = open_case(case)
    try:
        n = export_keyed_digests(c, _read_key(key_file), out)
    except DeconflictError as e:
        fail(str(e))
    console.print(f"wrote {n} keyed digests to {shown(str(out))}: give this file, not the case, to the other agency")


@digests_app.command("compare")
def digests_compare(case: CaseArg, mine: Annotated[Path, typer.Argument(help="Our digests file.")],
                    theirs: Annotated[Path, typer.Argument(help="Their digests file.")],
                    key_file: Annotated[Path, typer.Option(help="The key both agencies agreed.")]) -> None:
    """Show only what both digest files hold, mapped back to our own identifiers and labels."""
    c = open_case(case)
    t = Table("kind", "ours", "held by (our labels)")
    rows = compare_keyed(mine, theirs, case=c, key=_read_key(key_file))
    for o in rows:
        t.add_row(o.kind, shown(o.mine or o.digest[:16] + "…"), ", ".join(o.labels))
    console.print(t)
    console.print(f"{len(rows)} overlaps; nothing else of either case is revealed")


STORY_VISITS = 10  # visits printed under a story line


@app.command()
def leads(case: CaseArg,
          keywords: Annotated[Path | None, typer.Option(help="Keyword list: one term a line, optional TAB weight.")]
          = None,
          top: Annotated[int, typer.Option(help="How many pages and links to show.")] = 20) -> None:
    """Captured pages and invite links ranked by what supports them, each with its reasons."""
    c = open_case(case)
    try:
        rep = rank_leads(c, keywords)
    except KeywordError as e:
        fail(str(e))
    t = Table("rank", "invite link", "group", "score", "pages", "first seen", "reasons", title="Invite links")
    for i, link in enumerate(rep.links[:top], 1):
        t.add_row(str(i), shown(link.url), link.group or "-", f"{link.score:g}", str(len(link.pages)),
                  str(link.first_seen)[:16] if link.first_seen else "-",
                  shown("\n".join(f"{name} +{pts:g}: {why}" for name, pts, why in link.components)))
    console.print(t)
    t = Table("rank", "page", "exhibit", "score", "known images", "reasons", title="Captured pages")
    for i, page in enumerate(rep.pages[:top], 1):
        t.add_row(str(i), shown(page.uri or page.location), page.source or "-", f"{page.score:g}",
                  str(len(page.known)), shown("\n".join(f"{name} +{pts:g}: {why}" for name, pts, why in
                                                          page.components)))
    console.print(t)
    for story in lead_story(c, rep)[:5]:
        joined = ", ".join(j["person"] for j in story.joined[:10]) or "nobody recorded"
        console.print(f"[bold]{shown(story.url)}[/bold] on {len(story.pages)} pages -> {story.group} -> "
                      f"joined through it: {shown(joined)}")
        # what the seized devices' browsers say: who opened the advertising page or the link, when, from where
        for v in story.visits[:STORY_VISITS]:
            console.print(f"  visit: {shown(v['url'] or '?')}: {shown(v['text'])}", soft_wrap=True)
        if len(story.visits) > STORY_VISITS:
            more = len(story.visits) - STORY_VISITS
            console.print(f"  and {more} more visits (the web app's lead page lists them all)")
