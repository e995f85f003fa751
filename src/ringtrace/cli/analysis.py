"""Commands of the later pipeline stages (analysis, leads, dissemination), registered on the main app when those
modules are present; kept apart so that cli.py stays the thin core. Library modules are imported inside each
command, so a missing stage gives a clear error for that command only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ringtrace.textsafe import shown

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)
CaseArg = Annotated[Path, typer.Argument(help="The case folder.")]


class _DefaultGroup(typer.core.TyperGroup):
    """A group whose first word may be a case folder: ``package CASE ...`` runs the group's default command while
    ``package verify DIR`` still reaches the subcommand."""

    default_cmd = ""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_cmd, *args]
        return super().parse_args(ctx, args)


class _PackageGroup(_DefaultGroup):
    default_cmd = "make"


class _StatusGroup(_DefaultGroup):
    default_cmd = "show"


def _fail(msg: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {shown(msg)}", soft_wrap=True)
    raise typer.Exit(code)


def _open(case: Path) -> Any:
    from ringtrace.case import Case, CaseError

    try:
        return Case.open(case)
    except CaseError as e:
        _fail(str(e))


def _need(module: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        _fail(f"{what} is not available in this installation ({module}: {e})")


# ---- dissemination -----------------------------------------------------------------------------------------


def keys_new(out: Annotated[Path, typer.Option(help="Folder for NAME.key (0600) and NAME.pub.")],
             name: Annotated[str, typer.Option(help="Agency or unit name (file name).")] = "agency") -> None:
    """Create an Ed25519 key pair to sign referral packages."""
    from ringtrace.dissemination.signing import SigningError, new_keypair

    try:
        priv, pub = new_keypair(out, name)
    except SigningError as e:
        _fail(str(e))
    console.print(f"private key {shown(str(priv))} (keep it secret; mode 0600)")
    console.print(f"public key  {shown(str(pub))} (give it to recipients to verify packages)")


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
) -> None:
    """Write a per-country referral package (need to know: nobody else identified)."""
    from ringtrace.dissemination.package import PackageError, make_package
    from ringtrace.dissemination.signing import SigningError

    c = _open(case)
    try:
        r = make_package(c, country, out, zip=zip, key=key, pdf=pdf, context=context, recipient=recipient,
                         include_media=include_media, media_password=media_password, recipient_key=recipient_key)
    except (PackageError, SigningError) as e:
        _fail(str(e))
    console.print(f"package {r.country} v{r.version}: {len(r.targets)} persons, {len(r.files)} files in "
                  f"{shown(str(r.path))}" + (f", zip {shown(str(r.zip))}" if r.zip else ""))
    console.print(f"manifest sha256 {r.manifest_sha256} ({'signed' if r.signed else 'UNSIGNED'})")
    for w in r.warnings:
        err.print(f"[yellow]warning:[/yellow] {shown(w)}")


def package_verify(folder: Annotated[Path, typer.Argument(help="Unpacked package folder.")],
                   key: Annotated[Path | None, typer.Option(help="The sender's public key (PEM).")] = None) -> None:
    """Check a package against its manifest and signature; exit 1 on any finding."""
    from ringtrace.dissemination.signing import SigningError, verify_package

    try:
        findings = verify_package(folder, key)
    except SigningError as e:
        _fail(str(e))
    if not findings:
        console.print("[green]intact: every file matches the signed manifest[/green]")
        return
    for f in findings:
        err.print(f"[red]{shown(f)}[/red]")
    raise typer.Exit(1)


def status_board(case: CaseArg, country: Annotated[str | None, typer.Option(help="Only this country.")] = None
                 ) -> None:
    """Action-day board: each person's status per country, and the package versions sent."""
    from ringtrace.dissemination.status import board, packages_sent

    c = _open(case)
    rows = board(c, country)
    with c.engine.connect() as con:
        sent = packages_sent(con)
    by_c: dict[str, list[Any]] = {}
    for r in rows:
        by_c.setdefault(r.country or "-", []).append(r)
    for cc, rs in by_c.items():
        pk = sent.get(cc, [])
        last = f"package v{pk[-1].get('version')} sent" if pk else "no package sent"
        t = Table("person", "status", "by", "when", "note", title=f"{cc}: {len(rs)} persons, {last}")
        for r in rs:
            t.add_row(r.person, r.status, shown(r.by or ""), str(r.at or "")[:19], shown(r.note or ""))
        console.print(t)


def status_set(case: CaseArg, person: Annotated[str, typer.Argument(help="Person label, e.g. P0012.")],
               status: Annotated[str, typer.Argument(help="identified | referred | warrant | arrested | "
                                                          "'devices seized' | 'devices ingested'")],
               by: Annotated[str, typer.Option(help="Who reports it.")],
               note: Annotated[str | None, typer.Option(help="Free note.")] = None) -> None:
    """Set a person's action-day status (audited)."""
    from ringtrace.dissemination.status import StatusError, set_status

    c = _open(case)
    try:
        set_status(c, person, status, by, note)
    except StatusError as e:
        _fail(str(e))
    console.print(f"{shown(person)}: {shown(status)}")


# ---- analysis (library by the analysis stage; imported lazily) ---------------------------------------------


def suspects(case: CaseArg, country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
             top: Annotated[int, typer.Option(help="How many to show.")] = 30) -> None:
    """Suspects ranked by conduct, with the reasons."""
    from ringtrace.dissemination.package import suspects_for

    c = _open(case)
    rows, why = suspects_for(c, country)
    if rows is None:
        _fail(why or "suspect ranking not available")
        return
    t = Table("rank", "person", "country", "score", "reasons")
    for i, s in enumerate(rows[:top], 1):
        t.add_row(str(i), s["person"], s["country"] or "-", str(s["score"]), shown("\n".join(s["reasons"])))
    console.print(t)


def alias(case: CaseArg, a: Annotated[str, typer.Argument(help="platform:kind:value")],
          b: Annotated[str, typer.Argument(help="platform:kind:value")],
          by: Annotated[str, typer.Option(help="Who decided.")], reason: Annotated[str, typer.Option()] = "") -> None:
    """Record that two accounts are one person (applied at the next run)."""
    mod = _need("ringtrace.analysis.persons", "account aliasing")
    c = _open(case)
    try:
        mod.add_alias(c, a, b, by, reason)
    except ValueError as e:
        _fail(str(e))
    console.print(f"alias recorded: {shown(a)} = {shown(b)}. Next: ringtrace run {shown(str(case))}")


def country(case: CaseArg, subject: Annotated[str, typer.Argument(help="P0012 or platform:kind:value")],
            code: Annotated[str, typer.Argument(help="ISO 3166 alpha-2")],
            by: Annotated[str, typer.Option(help="Who decided.")], reason: Annotated[str, typer.Option()] = "") -> None:
    """Override the country a person is attributed to (audited)."""
    mod = _need("ringtrace.analysis.countries", "country overrides")
    c = _open(case)
    try:
        mod.set_country(c, subject, code, by, reason)
    except ValueError as e:
        _fail(str(e))
    console.print(f"{shown(subject)} -> {shown(code.upper())}")


def deconflict_cmd(case: CaseArg, others: Annotated[list[Path], typer.Argument(help="Other case folders.")]) -> None:
    """Identifiers and media this case shares with other cases."""
    mod = _need("ringtrace.analysis.deconflict", "deconfliction")
    c = _open(case)
    res = mod.deconflict(c, [_open(o) for o in others])
    t = Table("kind", "value", "here", "there")
    for o in [*res.identifiers, *res.media]:
        d = vars(o)
        vals = list(d.values())
        t.add_row(*(shown(str(v)) for v in vals[:4]))
    console.print(t)


def _read_key(path: Path) -> bytes:
    try:
        raw = path.read_bytes().strip()
    except OSError as e:
        _fail(f"{path}: cannot read the agreed key: {e}")
        raise
    try:
        return bytes.fromhex(raw.decode("ascii"))
    except ValueError:
        return raw


def digests_export(case: CaseArg, key_file: Annotated[Path, typer.Option(help="The key both agencies agreed.")],
                   out: Annotated[Path, typer.Option(help="JSON lines of keyed digests (no raw values).")]) -> None:
    """Write HMAC digests of every identifier and media hash, to compare with another agency without sharing data."""
    mod = _need("ringtrace.analysis.deconflict", "deconfliction")
    c = _open(case)
    try:
        n = mod.export_keyed_digests(c, _read_key(key_file), out)
    except mod.DeconflictError as e:
        _fail(str(e))
    console.print(f"wrote {n} keyed digests to {shown(str(out))}: give this file, not the case, to the other agency")


def digests_compare(case: CaseArg, mine: Annotated[Path, typer.Argument(help="Our digests file.")],
                    theirs: Annotated[Path, typer.Argument(help="Their digests file.")],
                    key_file: Annotated[Path, typer.Option(help="The key both agencies agreed.")]) -> None:
    """Show only what both digest files hold, mapped back to our own identifiers and labels."""
    mod = _need("ringtrace.analysis.deconflict", "deconfliction")
    c = _open(case)
    t = Table("kind", "ours", "held by (our labels)")
    rows = mod.compare_keyed(mine, theirs, case=c, key=_read_key(key_file))
    for o in rows:
        t.add_row(o.kind, shown(o.mine or o.digest[:16] + "…"), ", ".join(o.labels))
    console.print(t)
    console.print(f"{len(rows)} overlaps; nothing else of either case is revealed")


def series(case: CaseArg, threshold: Annotated[int, typer.Option(help="PDQ distance that links two items.")] = 31,
           top: Annotated[int, typer.Option(help="How many series to show.")] = 30) -> None:
    """The victim-identification queue: unknown media clustered into series across devices (hashes only)."""
    from ringtrace.matching.stage import unknown_series

    c = _open(case)
    rows = unknown_series(c, threshold=threshold)
    t = Table("rank", "items", "devices", "persons", "groups", "first items (sha256)")
    for r in rows[:top]:
        t.add_row(str(r.rank), str(r.size), ", ".join(r.devices), ", ".join(r.persons[:8]), ", ".join(r.groups),
                  "\n".join(m[:16] + "…" for m in r.media[:3]))
    console.print(t)
    console.print(f"{len(rows)} series of unknown media; no media content is shown here.")


def leads(case: CaseArg,
          keywords: Annotated[Path | None, typer.Option(help="Keyword list: one term a line, optional TAB weight.")]
          = None,
          top: Annotated[int, typer.Option(help="How many pages and links to show.")] = 20) -> None:
    """Captured pages and invite links ranked by what supports them, each with its reasons."""
    from ringtrace.analysis.leads import KeywordError, lead_story, rank_leads

    c = _open(case)
    try:
        rep = rank_leads(c, keywords)
    except KeywordError as e:
        _fail(str(e))
        return
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


def register(app: typer.Typer) -> None:
    keys_app = typer.Typer(no_args_is_help=True, help="Signing keys for referral packages.")
    keys_app.command("new")(keys_new)
    app.add_typer(keys_app, name="keys")
    pkg_app = typer.Typer(cls=_PackageGroup, no_args_is_help=True,
                          help="Per-country referral packages: 'package CASE --country ES --out DIR' makes one "
                               "(same as 'package make'); 'package verify DIR --key PUB' checks one.")
    pkg_app.command("make")(package_make)
    pkg_app.command("verify")(package_verify)
    app.add_typer(pkg_app, name="package")
    st_app = typer.Typer(cls=_StatusGroup, no_args_is_help=True,
                         help="Action-day board: 'status CASE [--country XX]' shows it; "
                              "'status set CASE P0012 arrested --by NAME' records a change.")
    st_app.command("show")(status_board)
    st_app.command("set")(status_set)
    app.add_typer(st_app, name="status")
    app.command()(suspects)
    app.command()(alias)
    app.command()(country)
    app.command("deconflict")(deconflict_cmd)
    app.command()(series)
    app.command()(leads)
    dg_app = typer.Typer(no_args_is_help=True, help="Privacy-preserving deconfliction through keyed digests.")
    dg_app.command("export")(digests_export)
    dg_app.command("compare")(digests_compare)
    app.add_typer(dg_app, name="digests")
    from ringtrace.web.cli import register as register_web

    register_web(app)
