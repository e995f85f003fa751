"""The CLI as an investigator uses it on a small synthetic case: every command answers, none shows media content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ringtrace
from ringtrace.cli import app
from ringtrace.demo import ingest_operation

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def case_dir(tiny_operation: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ringtrace.case import Case

    d = tmp_path_factory.mktemp("cli") / "case"
    c = Case.init(d, name="CLI case")
    ingest_operation(c, tiny_operation)
    c.close()
    res = runner.invoke(app, ["run", str(d)])
    assert res.exit_code == 0, res.output
    return d


def _ok(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, (args, res.output)
    return res.output


def test_listing_commands(case_dir: Path) -> None:
    assert "synthetic-vics" in _ok("hashsets", "list", str(case_dir))
    assert "rank" in _ok("suspects", str(case_dir))
    assert "Invite links" in _ok("leads", str(case_dir))
    assert "series of unknown media" in _ok("series", str(case_dir))
    _ok("problems", str(case_dir))
    _ok("status", str(case_dir))


def test_exports(case_dir: Path, tmp_path: Path) -> None:
    _ok("export", str(case_dir), "--out", str(tmp_path / "e.json"))
    doc = json.loads((tmp_path / "e.json").read_text())
    assert doc["export_version"] == 1 and doc["groups"]
    _ok("export", str(case_dir), "--format", "vics", "--out", str(tmp_path / "v.json"))
    assert json.loads((tmp_path / "v.json").read_text())["value"]
    _ok("export", str(case_dir), "--format", "graphml", "--out", str(tmp_path / "g.graphml"))
    assert "<graphml" in (tmp_path / "g.graphml").read_text()


def test_hash_command_prints_digests_not_content(tiny_operation: Path) -> None:
    out = _ok("hash", str(tiny_operation / "captures"))
    lines = out.strip().splitlines()
    assert lines[0] == "path,md5,sha1,sha256,pdq,quality" and len(lines) > 5
    js = _ok("hash", "--json", str(tiny_operation / "devices" / "EX-001"))
    rows = [json.loads(x) for x in js.strip().splitlines()]
    assert any(r.get("pdq") for r in rows)


def test_errors_are_plain(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "not a ringtrace case" in res.output
    res = runner.invoke(app, ["hashsets", "import", str(tmp_path / "nothing"), str(tmp_path / "x.json")])
    assert res.exit_code == 2


def test_keyed_deconfliction_through_the_cli(case_dir: Path, tmp_path: Path) -> None:
    key = tmp_path / "agreed.key"
    key.write_text("00112233445566778899aabbccddeeff")
    _ok("digests", "export", str(case_dir), "--key-file", str(key), "--out", str(tmp_path / "a.jsonl"))
    text = (tmp_path / "a.jsonl").read_text()
    assert "+" not in text and "@" not in text  # digests only, no raw identifiers
    out = _ok("digests", "compare", str(case_dir), str(tmp_path / "a.jsonl"), str(tmp_path / "a.jsonl"),
              "--key-file", str(key))
    assert "overlaps" in out and "+" in out  # against itself everything overlaps, mapped back to our values


def test_hostile_text_cannot_drive_the_terminal() -> None:
    from ringtrace.textsafe import shown

    hostile = "Garden \x1b]0;owned\x07\x1b[2J[bold]club[/bold]\u202eevil"
    out = shown(hostile)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b" in out and "\\u202e" in out
    assert "\\[bold]" in out  # markup is shown as text, not applied
    assert shown("x" * 5000).endswith("(3000 more characters)")


def test_problems_table_shows_hostile_file_names_inertly(tmp_path: Path) -> None:
    from ringtrace.case import Case

    c = Case.init(tmp_path / "c")
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "WhatsApp Chat with \x1b[2J.txt").write_text("01/03/2025, 10:00 - +34 612 34 56 78: hi\n" * 3 + "tail")
    ringtrace.ingest(c, ev)
    c.close()
    res = runner.invoke(app, ["problems", str(tmp_path / "c")], color=True)
    assert res.exit_code == 0
    assert "\x1b[2J" not in res.output
    assert "\\x1b" in res.output  # the file is named, its escape shown as text


def test_ingest_of_several_paths_records_each_then_parses_them(tiny_operation: Path, tmp_path: Path) -> None:
    manifest = json.loads((tiny_operation / "operation.json").read_text(encoding="utf-8"))
    paths = [str(tiny_operation / ex["path"]) for ex in manifest["exhibits"][:3]]
    d = tmp_path / "case"
    _ok("init", str(d))
    out = _ok("ingest", str(d), *paths)
    assert [f"EX-00{i}:" in out for i in (1, 2, 3)] == [True, True, True] and out.count("  read ") >= 3
    from sqlalchemy import select

    from ringtrace.case import Case
    from ringtrace.store import schema as S

    c = Case.open(d)
    with c.engine.connect() as con:
        assert [r[0] for r in con.execute(select(S.sources.c.status))] == ["parsed"] * 3
    c.close()
    again = _ok("ingest", str(d), *paths)
    assert again.count("nothing added") == 3 and "Next:" not in again
    res = runner.invoke(app, ["ingest", str(d), *paths, "--exhibit", "EX-9"])
    assert res.exit_code != 0 and "one path" in res.output
