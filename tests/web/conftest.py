"""A tiny synthetic case (built once) with hostile strings planted in it, and a fresh web home per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

import ringtrace
from tests.web.helpers import HOSTILE, PASSWORD, fast_hasher, login


@pytest.fixture(scope="session")
def web_case(tiny_operation: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ringtrace.case import Case
    from ringtrace.demo import ingest_operation
    from ringtrace.store import schema as S

    path = tmp_path_factory.mktemp("webcase") / "case"
    case = Case.init(path, name="Operation <b>Tiny</b>", actor="tester")
    ingest_operation(case, tiny_operation)
    ringtrace.run(case)
    # Evidence is hostile: plant markup in a group name, a person's name and a problem's file name.
    with case.begin() as con:
        g = con.execute(select(S.groups).order_by(S.groups.c.label)).first()
        detail = dict(g.detail or {})
        detail["names"] = [*detail.get("names", []), {"name": HOSTILE, "at": "2030-01-01T00:00:00+00:00"}]
        con.execute(update(S.groups).where(S.groups.c.id == g.id).values(detail=detail))
        pa = con.execute(select(S.person_accounts).order_by(S.person_accounts.c.person_id)).first()
        src = con.execute(select(S.sources.c.id)).scalar()
        con.execute(insert(S.names_seen).values(account_id=pa.account_id, name=HOSTILE, kind="push_name",
                                                source_id=src, prov_file="x"))
        # and in a message of that group's chat: markup and a javascript: link, shown in the chat viewer
        # (every device's copy of the chat's last message, so the folded message carries it whichever copy leads)
        for chat in con.execute(select(S.group_chats.c.chat_id).where(S.group_chats.c.group_id == g.id)).scalars():
            last = con.execute(select(S.messages.c.id, S.messages.c.text).where(S.messages.c.chat_id == chat)
                               .order_by(S.messages.c.at.desc(), S.messages.c.id.desc())).first()
            if last is not None:
                con.execute(update(S.messages).where(S.messages.c.id == last.id)
                            .values(text=f"{last.text or ''} javascript:alert(3) {HOSTILE}"))
    case.close()
    return path


@pytest.fixture(scope="session")
def case_facts(web_case: Path) -> dict[str, str]:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(web_case) as case, case.engine.connect() as con:
        g = con.execute(select(S.groups.c.label).order_by(S.groups.c.label)).scalar()
        pid = con.execute(select(S.person_accounts.c.person_id).order_by(S.person_accounts.c.person_id)).scalar()
        p = con.execute(select(S.persons.c.label).where(S.persons.c.id == pid)).scalar()
        img = con.execute(select(S.media.c.sha256).where(S.media.c.kind == "image").order_by(S.media.c.sha256)
                          ).scalar()
    return {"group": g, "person": p, "image": img}


@pytest.fixture
def app(tmp_path: Path, web_case: Path):  # type: ignore[no-untyped-def]
    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    a = create_app(WebSettings(home=tmp_path / "home", secure_cookies=False),
                   hasher=fast_hasher())
    st = a.state.web
    st.store.add_user("ivy", PASSWORD, "investigator")
    st.store.add_user("sam", PASSWORD, "supervisor")
    st.store.add_user("ada", PASSWORD, "admin")
    st.store.add_user("noel", PASSWORD, "investigator")  # no grant
    st.store.grant("ivy", web_case, "test")
    st.store.grant("sam", web_case, "test")
    yield a
    st.cases.close()
    st.store.close()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def logged_in(client):  # type: ignore[no-untyped-def]
    def _as(name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        client.cookies.clear()
        r = login(client, name, password)
        assert r.status_code == 303, r.text
        return client
    return _as

