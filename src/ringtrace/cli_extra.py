"""Commands of the later pipeline stages (analysis, leads, dissemination), registered on the main app when those
modules are present; kept apart so that cli.py stays the thin core."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
