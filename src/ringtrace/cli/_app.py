"""The Typer app every area module adds its commands to, and the helpers they share (consoles, the case argument,
failing with a clear message, opening a case, progress bars, a group whose first word may be a case folder)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from typer._click.core import Context  # the click that Typer vendors (what TyperGroup.parse_args takes)

from ringtrace.case import Case, CaseError
from ringtrace.textsafe import shown

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  help="ringtrace: from captured leads and seized phones to per-country referrals.")


def _console(stderr: bool = False) -> Console:
    """No emoji codes (``:phone:`` in an account key is text), no highlighting, and when the output is not a
    terminal (a file, a pipe) no width to cut values at: whole values are printed."""
    c = Console(stderr=stderr, highlight=False, emoji=False)
    if not c.is_terminal:
        c = Console(stderr=stderr, highlight=False, emoji=False, width=100_000)
    return c


console = _console()
err = _console(stderr=True)
lock_wait = {"seconds": 0.0}  # set by the top-level --wait option


@app.callback()
def _options(wait: Annotated[float, typer.Option(
        "--wait", help="Seconds a writing command waits for another writer holding the case (default: fail at "
                       "once, saying who holds it).")] = 0.0) -> None:
    lock_wait["seconds"] = max(0.0, wait)

CaseArg = Annotated[Path, typer.Argument(help="The case folder.")]

ProgressCallback = Callable[[str, int, int], None]


def fail(msg: str, code: int = 2) -> NoReturn:
    """Print ``error: MSG`` (escaped) on stderr and leave with ``code``."""
    err.print(f"[red]error:[/red] {shown(msg)}", soft_wrap=True)
    raise typer.Exit(code)


def open_case(case: Path) -> Case:
    """Open a case folder, or fail naming the folder and the reason."""
    try:
        c = Case.open(case)
    except CaseError as e:
        fail(str(e))
    c.lock_wait = lock_wait["seconds"]
    return c


@contextmanager
def progress() -> Iterator[ProgressCallback]:
    """A progress callback ``cb(stage, done, total)`` drawing one bar per stage on stderr (only on a terminal)."""
    with Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as prog:
        tasks: dict[str, TaskID] = {}

        def cb(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = prog.add_task(stage, total=total)
            prog.update(tasks[stage], completed=done, total=total)

        yield cb


class DefaultGroup(typer.core.TyperGroup):
    """A group whose first word may be a case folder: ``package CASE ...`` runs the group's default command while
    ``package verify DIR`` still reaches the subcommand."""

    default_cmd = ""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_cmd, *args]
        return super().parse_args(ctx, args)
