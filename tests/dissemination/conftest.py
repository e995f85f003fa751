"""One synthetic 'tiny' operation, ingested and analysed once per session, with hostile strings planted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

import ringtrace
from ringtrace.case import Case
from ringtrace.store import schema as S

HOSTILE_GROUP = "<script>alert(1)</script>"
HOSTILE_NAME = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="session")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ringtrace.demo import ingest_operation
    from ringtrace.synth.operation import write_operation

    root = tmp_path_factory.mktemp("dissem")
    write_operation(root / "op", seed=3, scale="tiny")
    case = Case.init(root / "case", name="Dissemination test", actor="pytest")
    ingest_operation(case, root / "op")
    ringtrace.run(case)
    with case.begin() as con:
        g = con.execute(select(S.groups).order_by(S.groups.c.id).limit(1)).one()
        detail = dict(g.detail or {})
        detail["names"] = [*detail.get("names", []), {"at": "2030-01-01T00:00:00Z", "name": HOSTILE_GROUP}]
        con.execute(update(S.groups).where(S.groups.c.id == g.id).values(detail=detail))
        acc = con.execute(select(S.person_accounts.c.account_id).limit(1)).scalar()
        src = con.execute(select(S.sources.c.id).limit(1)).scalar()
        con.execute(S.names_seen.insert().values(account_id=acc, name=HOSTILE_NAME, kind="push_name",
                                                 source_id=src, prov_file="planted by test"))
        con.execute(S.problems.insert().values(source_id=src, stage="parse", file="<b>bad.db</b>",
                                               reason="planted <i>problem</i>", severity="error",
                                               at=datetime.now(UTC)))
    case.close()
    return root / "case"


@pytest.fixture()
def case(case_dir: Path) -> Case:
    c = Case.open(case_dir, actor="pytest")
    yield c
    c.close()
