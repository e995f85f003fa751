"""``ringtrace web users add`` / ``grant`` on a fresh home, then the user can log in and read the case."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from ringtrace.cli import app as ringtrace_app
from tests.web.helpers import case_audit


def _app() -> typer.Typer:
    """The whole ``ringtrace`` app: the ``web`` group is one of its areas."""
    return ringtrace_app


def test_users_add_and_grant(tmp_path: Path, web_case: Path) -> None:
    home = tmp_path / "home"
    r = CliRunner()
    app = _app()
    res = r.invoke(app, ["web", "users", "add", "--home", str(home), "kim", "--role", "supervisor",
                         "--password-stdin"], input="a long enough secret\n")
    assert res.exit_code == 0, res.output
    res = r.invoke(app, ["web", "users", "add", "--home", str(home), "kim", "--role", "supervisor",
                         "--password-stdin"], input="a long enough secret\n")
    assert res.exit_code == 2 and "already exists" in res.output
    res = r.invoke(app, ["web", "users", "add", "--home", str(home), "lee", "--role", "boss", "--password-stdin"],
                   input="a long enough secret\n")
    assert res.exit_code == 2 and "unknown role" in res.output
    res = r.invoke(app, ["web", "users", "add", "--home", str(home), "lee", "--role", "investigator",
                         "--password-stdin"], input="short\n")
    assert res.exit_code == 2 and "at least 10" in res.output
    res = r.invoke(app, ["web", "grant", "--home", str(home), "kim", str(tmp_path)])
    assert res.exit_code == 2 and "not a ringtrace case" in res.output
    res = r.invoke(app, ["web", "grant", "--home", str(home), "nobody", str(web_case)])
    assert res.exit_code == 2 and "no user" in res.output
    before = len(case_audit(web_case, "web.grant"))
    res = r.invoke(app, ["web", "grant", "--home", str(home), "kim", str(web_case)])
    assert res.exit_code == 0 and "kim may now read case 1" in res.output
    assert len(case_audit(web_case, "web.grant")) == before + 1
    res = r.invoke(app, ["web", "users", "list", "--home", str(home)])
    assert "kim\tsupervisor\tactive" in res.output

    from fastapi.testclient import TestClient

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings
    from tests.web.helpers import login

    with TestClient(create_app(WebSettings(home=home, secure_cookies=False))) as c:
        assert login(c, "kim", "a long enough secret").status_code == 303
        assert c.get("/cases/1").status_code == 200
    res = r.invoke(app, ["web", "users", "disable", "--home", str(home), "kim"])
    assert res.exit_code == 0
    res = r.invoke(app, ["web", "users", "list", "--home", str(home)])
    assert "kim\tsupervisor\tdisabled" in res.output


def test_serve_refuses_a_bad_signing_key_or_scheme_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("hello", encoding="utf-8")
    res = CliRunner().invoke(_app(), ["web", "serve", "--home", str(tmp_path / "h"), "--signing-key", str(bad)])
    assert res.exit_code == 2 and "not a readable unencrypted PEM private key" in res.output
    res = CliRunner().invoke(_app(), ["web", "serve", "--home", str(tmp_path / "h"), "--category-scheme", str(bad)])
    assert res.exit_code == 2 and "category scheme" in res.output
