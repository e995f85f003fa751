"""Dissemination commands: export the case, write the report, signing keys, per-country referral packages and
the action-day status board."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ringtrace.analysis.graph import export_graphml
from ringtrace.cli._app import CaseArg, DefaultGroup, app, console, err, fail, open_case
from ringtrace.dissemination.caseuco import write_case_export
from ringtrace.dissemination.export import write_export
from ringtrace.dissemination.package import PackageError, make_package
from ringtrace.dissemination.report import write_report
from ringtrace.dissemination.signing import SigningError, new_keypair, verify_package
from ringtrace.dissemination.status import StatusError, StatusRow, board, packages_sent, set_status
from ringtrace.matching.sets import export_vics
from ringtrace.textsafe import shown


class _PackageGroup(DefaultGroup):
    default_cmd = "make"


class _StatusGroup(DefaultGroup):
    default_cmd = "show"


keys_app = typer.Typer(no_args_is_help=True, help="Signing keys for referral packages.")
app.add_typer(keys_app, name="keys")
package_app = typer.Typer(cls=_PackageGroup, no_args_is_help=True,
                          help="Per-country referral packages: 'package CASE --country ES --out DIR' makes one "
                               "(same as 'package make'); 'package verify DIR --key PUB' checks one.")
app.add_typer(package_app, name="package")
status_app = typer.Typer(cls=_StatusGroup, no_args_is_help=True,
                         help="Action-day board: 'status CASE [--country XX]' shows it; "
                              "'status set CASE P0012 arrested --by NAME' records a change.")
app.add_typer(status_app, name="status")


@app.command()
def export(
    case: CaseArg,
    out: Annotated[Path, typer.Option(help="Output file.")],
    format: Annotated[str, typer.Option(help="json | case (CASE/UCO JSON-LD) | vics | graphml")] = "json",
    with_messages: Annotated[bool, typer.Option(help="Include every message and event.")] = False,
) -> None:
    """Export the case (JSON contract v1, docs/export.md)."""
    c = open_case(case)
    if format == "json":
        write_export(c, out, with_messages=with_messages)
    elif format == "vics":
        export_vics(c, out)
    elif format == "case":
        write_case_export(c, out)
    elif format == "graphml":
        export_graphml(c, out)
    else:
        fail(f"unknown export format {format!r}")
    console.print(f"wrote {shown(str(out))}")


@app.command()
def report(case: CaseArg, out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
           pdf: Annotated[bool, typer.Option(help="Also render report.pdf.")] = False,
           classification: Annotated[str | None, typer.Option(
               help="Marking printed on every page (default: RINGTRACE_CLASSIFICATION, else "
                    "OFFICIAL-SENSITIVE: LAW ENFORCEMENT ONLY).")] = None) -> None:
    """Write the case report (HTML; PDF with --pdf). It shows no media content."""
    c = open_case(case)
    paths = write_report(c, out or (case / "report"), pdf=pdf, classification=classification)
    for p in paths:
        console.print(f"wrote {shown(str(p))}")


@keys_app.command("new")
def keys_new(out: Annotated[Path, typer.Option(help="Folder for NAME.key (0600) and NAME.pub.")],
             name: Annotated[str, typer.Option(help="Agency or unit name (file name).")] = "agency") -> None:
    """Create an Ed25519 key pair to sign referral packages."""
    try:
        priv, pub = new_keypair(out, name)
    except SigningError as e:
        fail(str(e))
    console.print(f"private key {shown(str(priv))} (keep it secret; mode 0600)")
    console.print(f"public key  {shown(str(pub))} (give it to recipients to verify packages)")


@package_app.command("make")
def package_make(
    case: CaseArg,
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2 country to refer to, e.g. ES.")],
    out: Annotated[Path, typer.Option(help="Folder; the package goes in OUT/<COUNTRY>-v<N>/.")],
    zip: Annotated[bool, typer.Option("--zip", help="Also write OUT/<COUNTRY>-v<N>.zip.")] = False,
    key: Annotated[Path | None, typer.Option(help="Ed25519 private key to sign the manifest.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Who the package is for (recorded).")] = None,
    context: Annotated[int, typer.Option(help="Messages of context around each of theirs.")] = 3,
    pdf: Annotated[bool, typer.Option(help="Render report.pdf (needs ringtrace[pdf]).")] = True,
    include_media: Annotated[bool, typer.Option(help="Add the matched media files, encrypted.")] = False,
    media_password: Annotated[str | None, typer.Option(help="Password for the media (scrypt + AES-GCM).",
                                                       envvar="RINGTRACE_MEDIA_PASSWORD")] = None,
    recipient_key: Annotated[Path | None, typer.Option(help="Recipient X25519 public key (PEM) for the media.")]
    = None,
    classification: Annotated[str | None, typer.Option(
        help="Marking printed on every page of the report (default: RINGTRACE_CLASSIFICATION).")] = None,
    victims: Annotated[bool, typer.Option("--victims", help="Add this country's possible victims (people named "
                                                             "in notes); another country's never go in.")] = False,
) -> None:
    """Write a per-country referral package (need to know: nobody else identified)."""
    c = open_case(case)
    try:
        r = make_package(c, country, out, zip=zip, key=key, pdf=pdf, context=context, recipient=recipient,
                         include_media=include_media, media_password=media_password, recipient_key=recipient_key,
                         classification=classification, include_victims=victims)
    except (PackageError, SigningError) as e:
        fail(str(e))
    console.print(f"package {r.country} v{r.version}: {len(r.targets)} persons, {len(r.files)} files in "
                  f"{shown(str(r.path))}" + (f", zip {shown(str(r.zip))}" if r.zip else ""))
    console.print(f"manifest sha256 {r.manifest_sha256} ({'signed' if r.signed else 'UNSIGNED'})")
    for w in r.warnings:
        err.print(f"[yellow]warning:[/yellow] {shown(w)}")


@package_app.command("verify")
def package_verify(folder: Annotated[Path, typer.Argument(help="Unpacked package folder.")],
                   key: Annotated[Path | None, typer.Option(help="The sender's public key (PEM).")] = None) -> None:
    """Check a package against its manifest and signature; exit 1 on any finding."""
    try:
        findings = verify_package(folder, key)
    except SigningError as e:
        fail(str(e))
    if not findings:
        console.print("[green]intact: every file matches the signed manifest[/green]")
        return
    for f in findings:
        err.print(f"[red]{shown(f)}[/red]")
    raise typer.Exit(1)


@status_app.command("show")
def status_board(case: CaseArg, country: Annotated[str | None, typer.Option(help="Only this country.")] = None
                 ) -> None:
    """Action-day board: each person's status per country, and the package versions sent."""
    c = open_case(case)
    rows = board(c, country)
    with c.engine.connect() as con:
        sent = packages_sent(con)
    by_c: dict[str, list[StatusRow]] = {}
    for r in rows:
        by_c.setdefault(r.country or "-", []).append(r)
    for cc, rs in by_c.items():
        pk = sent.get(cc, [])
        last = f"package v{pk[-1].get('version')} sent" if pk else "no package sent"
        t = Table("person", "status", "by", "when", "note", title=f"{cc}: {len(rs)} persons, {last}")
        for r in rs:
            t.add_row(r.person, r.status, shown(r.by or ""), str(r.at or "")[:19], shown(r.note or ""))
        console.print(t)


@status_app.command("set")
def status_set(case: CaseArg, person: Annotated[str, typer.Argument(help="Person label, e.g. P0012.")],
               status: Annotated[str, typer.Argument(help="identified | referred | warrant | arrested | "
                                                          "'devices seized' | 'devices ingested'")],
               by: Annotated[str, typer.Option(help="Who reports it.")],
               note: Annotated[str | None, typer.Option(help="Free note.")] = None) -> None:
    """Set a person's action-day status (audited)."""
    c = open_case(case)
    try:
        set_status(c, person, status, by, note)
    except StatusError as e:
        fail(str(e))
    console.print(f"{shown(person)}: {shown(status)}")
