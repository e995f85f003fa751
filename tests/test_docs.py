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


def _command_paths(cmd: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command of the click tree as its words after ``ringtrace`` (groups and their subcommands)."""
    out: list[tuple[str, ...]] = []
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        if getattr(sub, "hidden", False):
            continue
        out.append((*prefix, name))
        out.extend(_command_paths(sub, (*prefix, name)))
    return out


def test_every_command_is_documented() -> None:
    """Each ``ringtrace`` command and subcommand appears as ``ringtrace WORDS`` in the README or docs/*.md; a group
    with a default subcommand (``package CASE``) counts the default as shown when the group is."""
    from typer.main import get_command

    from ringtrace.cli import app

    root = get_command(app)
    paths = _command_paths(root)
    assert ("web", "users", "add") in paths and ("version",) in paths, paths
    text = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    words = re.sub(r"\s+", " ", text)
    missing = []
    for path in paths:
        shown = re.search(r"\bringtrace " + re.escape(" ".join(path)) + r"\b", words)
        if not shown and len(path) > 1:
            parent = root
            for w in path[:-1]:
                parent = parent.commands[w]  # type: ignore[attr-defined]
            if getattr(parent, "default_cmd", "") == path[-1]:
                shown = re.search(r"\bringtrace " + re.escape(" ".join(path[:-1])) + r" [A-Z/.~]", words)
        if not shown:
            missing.append("ringtrace " + " ".join(path))
    assert not missing, f"commands documented nowhere in README.md or docs/*.md: {missing}"
