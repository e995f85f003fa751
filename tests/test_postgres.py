"""A team's case on PostgreSQL: the same migrations, the same pipeline, the same export as on SQLite."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

import ringtrace
from ringtrace.case import Case
from ringtrace.demo import ingest_operation
from ringtrace.dissemination.export import build_export


def _essence(doc: dict) -> dict:
    return {
        "persons": sorted((tuple(p["phones"]), p["country"]) for p in doc["persons"]),
        "groups": sorted((tuple(g["identifiers"]), len(g["members"]), g["message_count"]) for g in doc["groups"]),
        "matched": sorted(m["sha256"] for m in doc["media"] if m["matches"]),
        "links": sorted((link["platform"], link["code"]) for link in doc["invite_links"]),
    }


def test_pipeline_on_postgres_matches_sqlite(pg_url: str, tiny_operation: Path, tmp_path: Path) -> None:
    lite = Case.init(tmp_path / "lite")
    ingest_operation(lite, tiny_operation)
    ringtrace.run(lite)
    pg = Case.init(tmp_path / "pg", db_url=pg_url)
    try:
        ingest_operation(pg, tiny_operation)
        ringtrace.run(pg)
        assert _essence(build_export(pg)) == _essence(build_export(lite))
        assert ringtrace.verify(pg).ok
        reopened = Case.open(tmp_path / "pg")  # the URL is remembered in the case folder
        assert reopened.engine.dialect.name == "postgresql"
        reopened.close()
        with pg.engine.begin() as con:  # the audit log refuses edits in PostgreSQL too
            try:
                con.execute(text("UPDATE audit_log SET actor='x'"))
            except Exception as e:  # noqa: BLE001
                assert "append-only" in str(e)
            else:
                raise AssertionError("audit_log accepted an UPDATE")
    finally:
        with pg.engine.begin() as con:
            con.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        pg.close()
