"""docs/web.md shows only commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

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
