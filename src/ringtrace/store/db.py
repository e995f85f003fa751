"""Engines and migrations. SQLite by default (one file in the case folder); PostgreSQL by URL."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).with_name("migrations")
WRITE_OPTION = "ringtrace_writer"  # execution option: this connection's transactions write (SQLite: BEGIN IMMEDIATE)


def make_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con: Any, _rec: Any) -> None:
            # the driver's own implicit BEGIN is turned off so that ours (below) decides the transaction's kind
            dbapi_con.isolation_level = None
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(con: Any) -> None:
            # A writer (Case.begin) takes the write lock when it starts, so reading the audit chain's last entry and
            # appending the next one cannot interleave with another writer's; readers stay deferred (WAL snapshots).
            con.exec_driver_sql("BEGIN IMMEDIATE" if con.get_execution_options().get(WRITE_OPTION) else "BEGIN")

    return engine


def url_for_another_process(engine: Engine) -> str | None:
    """The URL a second process opens the same database by (password included); None when it cannot (SQLite in
    memory)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:"
                                               or "mode=memory" in str(url)):
        return None
    return url.render_as_string(hide_password=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_ALEMBIC = threading.Lock()  # Alembic's command API keeps module-level state: one migration run at a time


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema revision (nothing to do, and no Alembic run, when it is current)."""
    if current_revision(engine) == head_revision():
        return
    cfg = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with _ALEMBIC, engine.begin() as con:
        cfg.attributes["connection"] = con
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


def head_revision() -> str | None:
    cfg = alembic_config("sqlite://")
    return ScriptDirectory.from_config(cfg).get_current_head()
