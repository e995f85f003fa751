"""Issue 12 item 4 (iOS): a text column that is a generated column is named, not read as missing without a word."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.sources._helpers.sqlite_generated import generated_columns
from ringtrace.stages.intake import ingest
from ringtrace.store import schema as S


def _chatstorage(path: Path, generated: bool) -> None:
    con = sqlite3.connect(path)
    text = "ZTEXT VARCHAR GENERATED ALWAYS AS ('planted ' || ZSTANZAID) VIRTUAL" if generated else "ZTEXT VARCHAR"
    con.executescript(f"""
        CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, ZCONTACTJID VARCHAR, ZPARTNERNAME VARCHAR,
                                     ZSESSIONTYPE INTEGER);
        CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCHATSESSION INTEGER, ZMESSAGETYPE INTEGER,
                                 ZMESSAGEDATE TIMESTAMP, ZISFROMME INTEGER, ZFROMJID VARCHAR, ZSTANZAID VARCHAR,
                                 {text});
        INSERT INTO ZWACHATSESSION VALUES (1, '34612345678@s.whatsapp.net', 'Synthetic Person', 0);
        INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZMESSAGETYPE, ZMESSAGEDATE, ZISFROMME, ZFROMJID, ZSTANZAID)
            VALUES (1, 1, 0, 760000000.0, 0, '34612345678@s.whatsapp.net', 'ABC1');
    """)
    con.commit()
    con.close()


def test_generated_columns_are_found(tmp_path: Path) -> None:
    db = tmp_path / "g.sqlite"
    _chatstorage(db, generated=True)
    with sqlite3.connect(db) as con:
        assert generated_columns(con, "ZWAMESSAGE") == {"ZTEXT": "virtual"}
        assert generated_columns(con, "ZWACHATSESSION") == {}
        assert generated_columns(con, "NO_SUCH_TABLE") == {}


def test_ios_generated_text_column_is_named(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "iphone"
    ev.mkdir()
    _chatstorage(ev / "ChatStorage.sqlite", generated=True)
    r = ingest(case, ev)
    assert r.parse is not None
    with case.engine.connect() as con:
        probs = [f"{p.file}: {p.reason}" for p in con.execute(select(S.problems).where(S.problems.c.stage == "parse"))]
        texts = [m.text for m in con.execute(select(S.messages))]
    assert any("ZWAMESSAGE.ZTEXT is a virtual generated column" in p for p in probs)
    assert not any(t and "planted" in t for t in texts)


def test_ordinary_text_column_gives_no_such_problem(case: Case, tmp_path: Path) -> None:
    ev = tmp_path / "iphone"
    ev.mkdir()
    _chatstorage(ev / "ChatStorage.sqlite", generated=False)
    ingest(case, ev)
    with case.engine.connect() as con:
        probs = [p.reason for p in con.execute(select(S.problems))]
    assert not any("generated column" in p for p in probs)
