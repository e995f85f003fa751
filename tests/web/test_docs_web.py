"""docs/web.md shows only commands that exist, and its route table is exactly the app's routes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer.main import get_command
from typer.testing import CliRunner

from tests.web.test_cli import _app

DOC = Path(__file__).resolve().parents[2] / "docs" / "web.md"


def test_web_doc_commands_exist():
    text = DOC.read_text(encoding="utf-8")
    used = re.findall(r"ringtrace web ([a-z]+)(?: ([a-z]+))?", text)
    assert used
    root = get_command(_app()).commands["web"]  # type: ignore[attr-defined]
    for cmd, sub in used:
        assert cmd in root.commands, cmd
        if sub and hasattr(root.commands[cmd], "commands"):
            assert sub in root.commands[cmd].commands, f"{cmd} {sub}"
    assert CliRunner().invoke(_app(), ["web", "serve", "--help"]).exit_code == 0
    serve = {p.opts[0] for p in root.commands["serve"].params if getattr(p, "opts", None)}
    for opt in re.findall(r"`(--[a-z-]+)", text.split("## Roles", 1)[0]):
        assert opt in serve, opt


def _routes(routes: list[Any]) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, routers included into routers too (FastAPI keeps those nested)."""
    for r in routes:
        if hasattr(r, "path"):
            for m in sorted(getattr(r, "methods", None) or ()):
                yield m, r.path.replace("{cid}", "{id}")
        elif hasattr(r, "original_router"):
            yield from _routes(r.original_router.routes)


def app_routes() -> list[tuple[str, str]]:
    from ringtrace.web.routes import ROUTERS

    out: list[tuple[str, str]] = []
    for router in ROUTERS:
        out += [x for x in _routes(router.routes) if x not in out]
    return out


def test_route_table_is_the_apps_routes():
    """To regenerate: print ``| {m} | `{p}` |`` for ``app_routes()`` under the doc's ``## Routes`` table."""
    table = DOC.read_text(encoding="utf-8").split("## Routes", 1)[1]
    documented = re.findall(r"^\| (GET|POST) \| `([^`]+)` \|$", table, re.M)
    assert sorted(documented) == sorted(app_routes())
