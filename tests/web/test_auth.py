"""Login, sessions, CSRF, rate limiting, roles and per-case access."""

from __future__ import annotations

from ringtrace.web.auth import FailureLimiter
from tests.web.helpers import PASSWORD, csrf_of, fast_hasher, login

CASE_ROUTES = ["/cases", "/cases/1", "/cases/1/groups", "/cases/1/groups/G0001", "/cases/1/persons",
               "/cases/1/persons/P0001", "/cases/1/suspects", "/cases/1/leads", "/cases/1/media",
               "/cases/1/audit", "/admin", "/"]


def test_login_required_everywhere(client):
    for url in CASE_ROUTES:
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303, url
        assert r.headers["location"].startswith("/login"), url
    r = client.post("/cases/1/media/" + "a" * 64 + "/preview", data={"csrf": "x", "reason": "because"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.post("/logout", data={"csrf": "x"}, follow_redirects=False).status_code == 303


def test_login_sets_strict_httponly_cookie_and_logout_ends_session(client, app):
    r = login(client, "ivy")
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("rt_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    page = client.get("/cases")
    assert page.status_code == 200
    token = client.cookies.get("rt_session")
    assert len(app.state.web.store.audit_rows()) >= 2
    # the token itself is not stored, only its hash
    import sqlite3
    db = sqlite3.connect(app.state.web.settings.home / "web.sqlite")
    assert not db.execute("SELECT 1 FROM sessions WHERE token_hash = ?", (token,)).fetchall()
    assert client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    client.cookies.set("rt_session", token)  # replaying the old cookie does not work
    assert client.get("/cases", follow_redirects=False).status_code == 303
    actions = [r["action"] for r in app.state.web.store.audit_rows()]
    assert "login" in actions and "logout" in actions


def test_secure_cookie_flag_configurable(tmp_path):
    from fastapi.testclient import TestClient

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    a = create_app(WebSettings(home=tmp_path / "h"))  # default: Secure on
    a.state.web.store.add_user("zed", PASSWORD, "investigator")
    with TestClient(a, base_url="https://testserver") as c:
        r = login(c, "zed")
        cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("rt_session=")][0]
        assert "Secure" in cookie


def test_wrong_password_fails_and_is_audited(client, app):
    r = login(client, "ivy", "not the password")
    assert r.status_code == 401
    assert "Wrong user name or password" in r.text
    assert "rt_session" not in client.cookies
    rows = [x for x in app.state.web.store.audit_rows() if x["action"] == "login.failed"]
    assert len(rows) == 1 and '"ivy"' in rows[0]["detail"] and rows[0]["address"]
    assert login(client, "nobody-here", "whatever12345").status_code == 401  # unknown user: same answer


def test_rate_limit_kicks_in_even_for_the_right_password(client, app):
    for _ in range(5):
        assert login(client, "ivy", "wrong password!").status_code == 401
    r = login(client, "ivy")
    assert r.status_code == 429
    assert app.state.web.store.audit_count("login.rate_limited") == 1
    # another user from the same address is still below the address limit
    assert login(client, "sam").status_code == 303


def test_rate_limit_per_address(tmp_path):
    from fastapi.testclient import TestClient

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    a = create_app(WebSettings(home=tmp_path / "h", secure_cookies=False, max_failures_per_address=3),
                   hasher=fast_hasher())
    with TestClient(a) as c:
        for i in range(3):
            assert login(c, f"user{i}", "wrong password!").status_code == 401
        assert login(c, "user9", "wrong password!").status_code == 429


def test_limiter_is_bounded():
    lim = FailureLimiter(max_failures=2, window_s=60, max_keys=10)
    for i in range(1000):
        lim.fail(f"k{i}")
    assert len(lim) == 10
    lim.fail("k999")
    assert lim.blocked("k999") and not lim.blocked("k0")


def test_csrf_missing_or_wrong_is_403(client, logged_in):
    tok = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "ivy", "password": PASSWORD, "next": ""}, follow_redirects=False)
    assert r.status_code == 403
    client.cookies.clear()
    r = client.post("/login", data={"username": "ivy", "password": PASSWORD, "csrf": tok})
    assert r.status_code == 403  # cookie half of the double submit missing
    c = logged_in("ivy")
    assert c.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert c.post("/logout", data={"csrf": "forged"}, follow_redirects=False).status_code == 403


def test_open_redirect_refused(client):
    tok = csrf_of(client.get("/login?next=//evil.example/x").text)
    r = client.post("/login", data={"username": "ivy", "password": PASSWORD, "csrf": tok,
                                    "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/cases"


def test_next_after_login(client):
    r = client.get("/cases/1/groups", follow_redirects=False)
    assert r.headers["location"] == "/login?next=/cases/1/groups"
    tok = csrf_of(client.get(r.headers["location"]).text)
    r = client.post("/login", data={"username": "ivy", "password": PASSWORD, "csrf": tok, "next": "/cases/1/groups"},
                    follow_redirects=False)
    assert r.headers["location"] == "/cases/1/groups"


def test_user_without_grant_gets_404_like_a_missing_case(logged_in, case_facts, app):
    c = logged_in("noel")
    assert "No case has been granted" in c.get("/cases").text
    granted_but_not_mine = c.get("/cases/1")
    missing = c.get("/cases/999")
    assert granted_but_not_mine.status_code == missing.status_code == 404
    assert granted_but_not_mine.text == missing.text
    for url in ["/cases/1/groups", "/cases/1/media", "/cases/1/audit", f"/cases/1/persons/{case_facts['person']}"]:
        assert c.get(url).status_code == 404, url
    page = c.get("/cases")
    r = c.post(f"/cases/1/media/{case_facts['image']}/preview", data={"csrf": csrf_of(page.text),
                                                                       "reason": "curious about it"})
    assert r.status_code == 404
    denied = [x for x in app.state.web.store.audit_rows() if x["action"] == "denied"]
    assert {x["case_id"] for x in denied} == {1, 999} and all(x["user"] == "noel" for x in denied)


def test_admin_without_grant_sees_no_case_data(logged_in, case_facts):
    c = logged_in("ada")
    admin = c.get("/admin")
    assert admin.status_code == 200
    assert "ivy" in admin.text and "noel" in admin.text
    assert case_facts["person"] not in admin.text and case_facts["group"] not in admin.text
    assert c.get("/cases/1").status_code == 404
    assert c.get("/cases/1/persons").status_code == 404
    assert "No case has been granted" in c.get("/cases").text


def test_non_admin_cannot_administer(logged_in):
    c = logged_in("sam")
    page = c.get("/cases")
    assert c.get("/admin").status_code == 403
    r = c.post("/admin/users", data={"csrf": csrf_of(page.text), "name": "mal", "role": "admin",
                                     "password": "x" * 12})
    assert r.status_code == 403


def test_admin_manages_users_and_grants(logged_in, app, web_case):
    c = logged_in("ada")
    tok = csrf_of(c.get("/admin").text)
    assert c.post("/admin/users", data={"name": "newbie", "role": "investigator", "password": "x" * 12}
                  ).status_code == 403  # no csrf
    r = c.post("/admin/users", data={"csrf": tok, "name": "newbie", "role": "investigator", "password": "x" * 12})
    assert r.status_code == 200 and "user newbie added" in r.text
    r = c.post("/admin/users", data={"csrf": tok, "name": "bad", "role": "god", "password": "x" * 12})
    assert r.status_code == 400 and "unknown role" in r.text
    r = c.post("/admin/grants", data={"csrf": tok, "name": "newbie", "case_path": str(web_case.parent)})
    assert r.status_code == 400 and "not a ringtrace case" in r.text
    r = c.post("/admin/grants", data={"csrf": tok, "name": "newbie", "case_path": str(web_case)})
    assert r.status_code == 200 and "newbie may now read case 1" in r.text
    c2 = logged_in("newbie", "x" * 12)
    assert c2.get("/cases/1").status_code == 200
    c = logged_in("ada")
    tok = csrf_of(c.get("/admin").text)
    c.post("/admin/grants/revoke", data={"csrf": tok, "name": "newbie", "case_id": "1"})
    c.post("/admin/users/newbie/disabled", data={"csrf": tok, "disabled": "1"})
    assert login(c, "newbie", "x" * 12).status_code == 401


def test_disabled_user_loses_session(logged_in, app):
    c = logged_in("ivy")
    assert c.get("/cases").status_code == 200
    app.state.web.store.set_disabled("ivy", True)
    assert c.get("/cases", follow_redirects=False).status_code == 303


def test_only_supervisors_see_the_audit_trail(logged_in):
    c = logged_in("ivy")
    assert c.get("/cases/1/audit").status_code == 403
    assert "Audit trail" not in c.get("/cases/1").text
    c = logged_in("sam")
    r = c.get("/cases/1/audit")
    assert r.status_code == 200 and "chain verifies" in r.text and "web.view" in r.text


def test_security_headers(client, logged_in):
    for r in (client.get("/login"), logged_in("ivy").get("/cases/1")):
        h = r.headers
        assert h["content-security-policy"].startswith("default-src 'self'; img-src 'self' data:; script-src 'self'")
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert h["cache-control"] == "no-store"
