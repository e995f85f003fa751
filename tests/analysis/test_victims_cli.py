"""``ringtrace victims`` (a purpose is required; the read is audited) and ``ringtrace named``."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from ringtrace.cli import app
from ringtrace.stages.notes import notes_stage
from ringtrace.store import schema as S

from .test_note_links import _case


def test_victims_and_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = _case(tmp_path)
    notes_stage(case)
    path = str(tmp_path / "c")
    case.close()
    r = CliRunner().invoke(app, ["notes", "victims", path])
    assert r.exit_code != 0 and "purpose" in r.output
    r = CliRunner().invoke(app, ["notes", "victims", path, "--purpose", "victim identification, task 7"])
    assert r.exit_code == 0, r.output
    assert "Alba Pym" in r.output and "Gala Drayle" in r.output and "3 possible victims" in r.output
    r = CliRunner().invoke(app, ["notes", "named", path, "P0001"])
    assert r.exit_code == 0 and "612 345 678" in r.output and "token-sort" in r.output
    from ringtrace.case import Case

    with Case.open(path) as c, c.engine.connect() as con:
        d = con.execute(select(S.audit_log.c.detail).where(S.audit_log.c.action == "victims.view")).scalar()
    assert "victim identification, task 7" in d
