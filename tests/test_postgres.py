"""A team's case on PostgreSQL: the same migrations, the same pipeline, the same export as on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_analysis_worker_reads_a_postgres_case(pg_url: str, tiny_operation: Path, tmp_path: Path,
                                               monkeypatch: Any) -> None:
    """The analysis worker opens the team's database by its URL (password and all) and reads its share there:
    the same analysis as one process on SQLite, and no note of a failed worker."""
    import json

    from sqlalchemy import select

    from ringtrace.analysis import groups
    from ringtrace.stages import analyze
    from ringtrace.store import schema as S

    lite = Case.init(tmp_path / "lite")
    ingest_operation(lite, tiny_operation)
    ringtrace.run(lite)
    monkeypatch.setattr(analyze, "WORKER_MIN_MESSAGES", 0)
    monkeypatch.setattr(groups, "SPLIT_MIN_EXPORT_MESSAGES", 0)
    halves: list[Any] = []
    split = analyze._split
    monkeypatch.setattr(analyze, "_split", lambda con, jobs: halves.append(split(con, jobs)) or halves[-1])
    pg = Case.init(tmp_path / "pg", db_url=pg_url)
    try:
        ingest_operation(pg, tiny_operation)
        ringtrace.run(pg)
        assert halves and halves[0][1]  # the worker had groups to read
        assert _essence(build_export(pg)) == _essence(build_export(lite))
        with pg.engine.connect() as con:
            (detail,) = con.execute(select(S.audit_log.c.detail).where(S.audit_log.c.action == "stage.analyze")).one()
        notes = (json.loads(detail) if isinstance(detail, str) else detail)["notes"]
        assert not [n for n in notes if n.get("kind") == "analysis worker"], notes
    finally:
        with pg.engine.begin() as con:
            con.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        pg.close()


def test_message_search_on_postgres_uses_full_text_search(pg_url: str, tiny_operation: Path, tmp_path: Path) -> None:
    """On PostgreSQL, words in messages are found by the store's own full-text search (GIN index on
    to_tsvector('simple', text), migration 0006), not by the SQLite side file; the web's search page shows them."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from ringtrace.dissemination import precomputed, textsearch
    from ringtrace.store import schema as S
    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings
    from tests.web.helpers import PASSWORD, fast_hasher, login

    pg = Case.init(tmp_path / "pg", db_url=pg_url, name="Operation Team")
    try:
        ingest_operation(pg, tiny_operation)
        ringtrace.run(pg)
        with pg.engine.connect() as con:
            idx = con.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_text_tsv'")
                              ).scalar()
            assert idx and "gin" in idx.lower() and "to_tsvector" in idx
            texts = con.execute(select(S.messages.c.id, S.messages.c.text).where(S.messages.c.text.is_not(None))
                                .order_by(S.messages.c.id)).all()
            from collections import Counter

            seen = Counter(w.casefold() for _, t in texts for w in set(t.split()) if len(w) > 5 and w.isalpha())
            mid, word = next((i, w) for i, t in texts for w in t.split()
                             if len(w) > 5 and w.isalpha() and seen[w.casefold()] <= 20)
            fp = precomputed.fingerprint(con)
            ids = textsearch.message_ids(con, pg.path, fp, word, limit=10_000)
            assert mid in ids
            assert all(word.casefold() in (t or "").casefold() for i, t in texts if i in ids)
            # the query's expression is the index's own (the tiny case is small: the planner may still scan)
            con.execute(text("SET enable_seqscan = off"))
            stmt = textsearch.pg_query([word])
            plan = "\n".join(r[0] for r in con.execute(
                text("EXPLAIN " + str(stmt.compile(con, compile_kwargs={"literal_binds": True})))))
            assert "ix_messages_text_tsv" in plan, plan
            con.execute(text("RESET enable_seqscan"))
            # hostile queries: syntax is plain words, nothing fails, huge input is cut
            for q in ["!!! & | <-> :* '\"", "a" * 100_000, "x' OR 1=1 --", "\x00" + word]:
                assert isinstance(textsearch.message_ids(con, pg.path, fp, q), list)
            assert mid in textsearch.message_ids(con, pg.path, fp, f"{word} & !{word}", limit=10_000)  # no NOT
        assert not (pg.path / textsearch.INDEX_NAME).exists()  # no SQLite side file for a PostgreSQL case
        app = create_app(WebSettings(home=tmp_path / "home", secure_cookies=False), hasher=fast_hasher())
        app.state.web.store.add_user("ivy", PASSWORD, "investigator")
        app.state.web.store.grant("ivy", pg.path, "test")
        with TestClient(app) as c:
            assert login(c, "ivy").status_code == 303
            html = c.get("/cases/1/search", params={"q": word}).text
            assert "Messages" in html and f"#m{mid}" in html
        app.state.web.cases.close()
        app.state.web.store.close()
        assert not (pg.path / textsearch.INDEX_NAME).exists()
    finally:
        with pg.engine.begin() as con:
            con.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        pg.close()
