"""Shared fixtures: cases and synthetic operations built in code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RINGTRACE_EXECUTOR", "serial")


@pytest.fixture
def case(tmp_path: Path):
    from ringtrace.case import Case

    c = Case.init(tmp_path / "case", name="test case", actor="tester")
    yield c
    c.close()


@pytest.fixture(scope="session")
def tiny_operation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ringtrace.synth.operation import write_operation

    out = tmp_path_factory.mktemp("op")
    write_operation(out, seed=3, scale="tiny")
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster on loopback, started from the installed server binaries (.ci/run installs
    Debian's postgresql). Skips, saying why, where there is none."""
    import glob
    import shutil
    import subprocess

    if os.environ.get("RINGTRACE_TEST_PG_URL"):
        yield os.environ["RINGTRACE_TEST_PG_URL"]
        return
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install 'ringtrace[postgres]')")
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin): apt-get install postgresql")
    bindir = Path(bins[-1]).parent
    import tempfile

    # not under pytest's private (0700) temp root: the server may run as another user
    top = Path(tempfile.mkdtemp(prefix="ringtrace-pg-"))
    data = top / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        prefix = ["runuser", "-u", "postgres", "--"]
        os.chmod(top, 0o777)
    port = _free_port()
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True)
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log"), "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def pg_url(pg_cluster: str):
    """A database of its own for each test on the session's cluster, so that no test sees another's case."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_cluster, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.execute(text(f"CREATE DATABASE {name}"))
        yield pg_cluster.rsplit("/", 1)[0] + "/" + name
        with admin.connect() as con:
            con.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()
