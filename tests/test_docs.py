"""Docs that tests keep honest: the export example validates, and every command the README shows exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from ringtrace.dissemination.export import SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[1]


def test_export_example_validates_against_schema() -> None:
    text = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert blocks, "docs/export.md has no JSON example"
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for block in blocks:
        jsonschema.validate(json.loads(block), schema)


def test_schema_rejects_a_broken_export() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    text = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    doc = json.loads(re.findall(r"```json\n(.*?)```", text, re.S)[0])
    doc["persons"][0]["phones"] = ["0034 612"]  # not E.164
    try:
        jsonschema.validate(doc, schema)
    except jsonschema.ValidationError:
        return
    raise AssertionError("schema accepted a non-E.164 phone")


def test_readme_commands_exist() -> None:
    from typer.main import get_command

    from ringtrace.cli import app

    root = get_command(app)
    readme = "\n".join(re.findall(r"```\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S))
    used = re.findall(r"^\s*(?:\$ )?ringtrace ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", readme, re.M)
    assert used, "README shows no ringtrace command"
    for cmd, sub in used:
        assert cmd in root.commands, f"README shows 'ringtrace {cmd}', which does not exist"  # type: ignore[attr-defined]
        group = root.commands[cmd]  # type: ignore[attr-defined]
        if sub and hasattr(group, "commands") and not getattr(group, "default_cmd", ""):
            assert sub in group.commands, f"README shows 'ringtrace {cmd} {sub}', which does not exist"
