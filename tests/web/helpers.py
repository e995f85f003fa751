"""Helpers shared by the web tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"
PASSWORD = "correct horse battery"


def fast_hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only: cheap argon2id


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no csrf field in page"
    return m.group(1)


def login(client, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    tok = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password, "csrf": tok, "next": ""},
                       follow_redirects=False)


def case_audit(path: Path, action: str) -> list[dict]:
    from ringtrace.case import Case
    from ringtrace.store import schema as S

    with Case.open(path) as case, case.engine.connect() as con:
        return [{**r._mapping, "detail": json.loads(r.detail)}
                for r in con.execute(select(S.audit_log).where(S.audit_log.c.action == action))]
