"""Evidence commands: record and parse a source (chain of custody), and hash media files outside any case."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ringtrace.cli._app import CaseArg, app, console, err, fail, open_case
from ringtrace.media.hashing import hash_paths, to_csv_row, to_json
from ringtrace.stages.intake import ExhibitSpec, IntakeError, ingest_many
from ringtrace.stages.intake import ingest as ingest_source
from ringtrace.stages.reparse import ReparseError
from ringtrace.stages.reparse import reparse as reparse_source
from ringtrace.textsafe import shown

MAX_PASSWORD_FILE = 4096
PasswordFile = Annotated[Path | None, typer.Option(
    help="File whose first line is the password of an encrypted iOS (iTunes/Finder) or Android (adb) backup. "
         "Used in memory only, never stored; the audit records only that a password was given.")]
AskPassword = Annotated[bool, typer.Option(help="Ask for the backup password (not echoed) instead of reading a file.")]


def _password(path: Path | None, ask: bool) -> str | None:
    """The backup password from a file's first line or a prompt; never from the command line (process lists and
    shell histories keep those)."""
    if path is not None and ask:
        fail("give the backup password with --password-file or --ask-password, not both")
    if ask:
        return str(typer.prompt("Backup password", hide_input=True))
    if path is None:
        return None
    try:
        with path.expanduser().open("rb") as fh:
            raw = fh.read(MAX_PASSWORD_FILE + 1)
    except OSError as e:
        fail(f"--password-file {path}: cannot read it: {e.strerror or e}")
    if len(raw) > MAX_PASSWORD_FILE:
        fail(f"--password-file {path}: over {MAX_PASSWORD_FILE} bytes; not a password file")
    try:
        line = raw.decode("utf-8").splitlines()[0] if raw.strip() else ""
    except UnicodeDecodeError:
        fail(f"--password-file {path}: not UTF-8 text")
    if not line:
        fail(f"--password-file {path}: empty; its first line must be the password")
    return line


@app.command()
def ingest(
    case: CaseArg,
    paths: Annotated[list[Path], typer.Argument(
        help="A file, folder, zip, tar or disk image (E01, dd, VMDK, VHD/VHDX); several are recorded one after "
             "another, then parsed together in worker processes.")],
    exhibit: Annotated[str | None, typer.Option(help="Exhibit number, e.g. EX-001 (one path only).")] = None,
    format: Annotated[str | None, typer.Option(help="Force a format (default: recognised from content).")] = None,
    timezone: Annotated[str, typer.Option(help="Local time zone of exports in this source (IANA).")] = "UTC",
    examiner: Annotated[str | None, typer.Option(help="Who ingests.")] = None,
    owner: Annotated[str | None, typer.Option(help="The device/export owner's number (E.164).")] = None,
    region: Annotated[str | None, typer.Option(help="Default phone region (ISO alpha-2).")] = None,
    seizure_country: Annotated[str | None, typer.Option(help="Country where the device was seized.")] = None,
    reference: Annotated[bool, typer.Option(help="Record and verify in place instead of copying.")] = False,
    copy_image: Annotated[bool, typer.Option(help="A disk image: keep its segment files in the vault too (it is "
                                                   "always read and verified in place).")] = False,
    key: Annotated[str | None, typer.Option(
        help="Key for encrypted WhatsApp backups: a key file's path (preferred) or the 64 hex digits. Used in "
             "memory only, never stored; only its fingerprint is recorded (one path only).")] = None,
    password_file: PasswordFile = None,
    ask_password: AskPassword = False,
) -> None:
    """Record sources (chain of custody), keep them in the vault and parse them."""
    if len(paths) > 1 and (exhibit is not None or key is not None):
        fail(f"--{'exhibit' if exhibit is not None else 'key'} belongs to one source: give it with one path "
             f"(here {len(paths)}); each of several sources gets the next exhibit number")
    c = open_case(case)
    password = _password(password_file, ask_password)
    if len(paths) > 1 and password is not None:
        fail(f"a backup password belongs to one source: give it with one path (here {len(paths)})")
    try:
        if len(paths) == 1:
            keyed = str(Path(key).expanduser().resolve()) if key and Path(key).expanduser().is_file() else key
            results = [ingest_source(c, paths[0], exhibit=exhibit, format=format, timezone=timezone,
                                     examiner=examiner, owner=owner, region=region, seizure_country=seizure_country,
                                     reference=reference, copy_image=copy_image, key=keyed, password=password)]
        else:
            specs = [ExhibitSpec(p, timezone=timezone, owner=owner, region=region, seizure_country=seizure_country,
                                 format=format, reference=reference, copy_image=copy_image) for p in paths]
            results = ingest_many(c, specs, examiner=examiner)
    except IntakeError as e:
        fail(str(e))
    for path, r in zip(paths, results, strict=True):
        if not r.added:
            console.print(f"{shown(str(path))} is already in the case as {r.exhibit}: nothing added.")
            continue
        console.print(f"{r.exhibit}: {r.files} files recorded from {shown(str(path))}.")
        for p in r.problems:
            err.print(f"[yellow]refused:[/yellow] {shown(p)}")
        if r.parse is not None:
            for fmt, primary in r.parse.units:
                console.print(f"  read {shown(primary)} as {fmt}")
            if r.parse.problems:
                err.print(f"[yellow]{r.parse.problems} problems recorded[/yellow]: ringtrace problems "
                          f"{shown(str(case))}")
    if any(r.added for r in results):
        console.print(f"Next: ringtrace run {shown(str(case))}")


@app.command()
def reparse(
    case: CaseArg,
    exhibit: Annotated[str, typer.Argument(help="The exhibit number the source was ingested under.")],
    key: Annotated[str | None, typer.Option(
        help="Key for an encrypted WhatsApp backup: a key file's path or the 64 hex digits (memory only).")] = None,
    format: Annotated[str | None, typer.Option(help="Force a source format (see docs/extending.md).")] = None,
    password_file: PasswordFile = None,
    ask_password: AskPassword = False,
) -> None:
    """Parse one source again from the vault (after a parser fix, with a backup's key or password, or with
    another format); its old records are replaced and the new parse is sealed and audited."""
    c = open_case(case)
    keyed = str(Path(key).expanduser().resolve()) if key and Path(key).expanduser().is_file() else key
    password = _password(password_file, ask_password)
    try:
        res = reparse_source(c, exhibit, key=keyed, format=format, password=password)
    except ReparseError as e:
        fail(str(e))
    for fmt, primary in res.units:
        console.print(f"  read {shown(primary)} as {fmt}")
    if res.problems:
        err.print(f"[yellow]{res.problems} problems recorded[/yellow]: ringtrace problems {shown(str(case))}")
    console.print(f"{shown(exhibit)} parsed again. Next: ringtrace run {shown(str(case))}")


@app.command("hash")
def hash_cmd(paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
             as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of CSV.")] = False) -> None:
    """Hash media: path,md5,sha1,sha256,pdq,quality (one read of each file)."""
    w = csv.writer(sys.stdout)
    if not as_json:
        w.writerow(["path", "md5", "sha1", "sha256", "pdq", "quality"])
    for p, h in hash_paths(paths):
        if as_json:
            sys.stdout.write(json.dumps(to_json(p, h)) + "\n")
        else:
            w.writerow(to_csv_row(p, h))
