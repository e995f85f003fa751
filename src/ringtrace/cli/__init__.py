"""The command line: a thin face over the library. Every command opens the case, calls one library function,
and prints what it did and what to run next.

The app and the helpers every command shares live in ``_app``; each area module below adds its commands to it
when imported: ``case``, ``evidence``, ``hashsets``, ``notes``, ``analysis``, ``victims``, ``dissemination``,
``web``."""

from __future__ import annotations

from ringtrace.cli import analysis, case, dissemination, evidence, hashsets, notes, victims, web
from ringtrace.cli._app import app

__all__ = ["analysis", "app", "case", "dissemination", "evidence", "hashsets", "main", "notes", "victims", "web"]


def main() -> None:
    """The ``ringtrace`` entry point. A case held by another writer is said plainly, not as a traceback."""
    from ringtrace.cli._app import err
    from ringtrace.lock import CaseLocked
    from ringtrace.textsafe import shown

    try:
        app(standalone_mode=True)
    except CaseLocked as e:
        err.print(f"[red]error:[/red] {shown(str(e))}", soft_wrap=True)
        raise SystemExit(3) from None


if __name__ == "__main__":
    main()
