"""Helpers shared by the web tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

if TYPE_CHECKING:
    import httpx
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

LoggedIn = Callable[..., "TestClient"]  # the logged_in fixture: a user name in, a logged-in client out

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)><a href=\"javascript:alert(2)\">open</a>"
PASSWORD = "correct horse battery"


def fast_hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only: cheap argon2id


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no csrf field in page"
    return m.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> httpx.Response:
    tok = csrf_of(client.get("/login").text)
    r: httpx.Response = client.post("/login", data={"username": name, "password": password, "csrf": tok,
                                                    "next": ""}, follow_redirects=False)
    return r


def case_audit(path: Path, action: str) -> list[dict[str, Any]]:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(path) as case, case.engine.connect() as con:
        return [{**r._mapping, "detail": json.loads(r.detail)}
                for r in con.execute(select(S.audit_log).where(S.audit_log.c.action == action))]
