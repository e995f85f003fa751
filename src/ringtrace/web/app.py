"""The web app: ``create_app(settings)`` gives a FastAPI application serving server-rendered pages.

Exposure rules live here and in ``views``: every page needs a session, every case route needs a grant (404
otherwise), every form carries a CSRF token, every view is written to the web audit and to the case's own audit
chain, and media content is only ever shown as a small blurred greyscale preview after a reasoned request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from argon2 import PasswordHasher
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ringtrace import __version__
from ringtrace.web import auth
from ringtrace.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    FailureLimiter,
    Forbidden,
    LoginRequired,
    NotFound,
    Viewer,
    client_address,
)
from ringtrace.web.data import CaseCache
from ringtrace.web.settings import WebSettings
from ringtrace.web.users import ROLES, WebStore, WebStoreError

HERE = Path(__file__).parent
CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@dataclass
class WebState:
    settings: WebSettings
    store: WebStore
    cases: CaseCache
    templates: Jinja2Templates
    user_limiter: FailureLimiter
    address_limiter: FailureLimiter


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # evidence is hostile: every value is escaped, and no template uses |safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["short"] = lambda s, n=12: (s[:n] + "…") if isinstance(s, str) and len(s) > n else (s or "")
    env.filters["when"] = lambda s: (s or "").replace("T", " ").replace("Z", "")[:19] if s else "—"
    env.globals["version"] = __version__
    return Jinja2Templates(env=env)


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    st = auth.state(request)
    ctx = {"entry": None, "viewer": None, **ctx}
    return st.templates.TemplateResponse(request, name, ctx, status_code=status)


def safe_next(nxt: str | None) -> str | None:
    """Only local paths: no scheme, no host, no protocol-relative ``//`` (open-redirect guard)."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt or len(nxt) > 500:
        return None
    return nxt


def create_app(settings: WebSettings, hasher: PasswordHasher | None = None) -> FastAPI:
    """The application; ``hasher`` overrides the argon2id parameters (tests use a cheap one)."""
    from ringtrace.web import views

    store = WebStore(settings.home, hasher)
    st = WebState(settings, store, CaseCache(), _templates(),
                  FailureLimiter(settings.max_failures_per_user, settings.failure_window_s, settings.rate_table_size),
                  FailureLimiter(settings.max_failures_per_address, settings.failure_window_s,
                                 settings.rate_table_size))
    app = FastAPI(title="ringtrace", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = st
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        resp: Response = await call_next(request)
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith("/static/"):
            resp.headers["Cache-Control"] = "no-store"  # case data never stays in a browser cache
        return resp

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        target = "/login"
        if request.method == "GET":
            target += "?next=" + quote(request.url.path, safe="/")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"title": "Not allowed", "message": str(exc) or "Not allowed.",
                                              "viewer": None}, 403)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return render(request, "error.html", {"title": "Not found", "message": "There is nothing here.",
                                              "viewer": None}, 404)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return render(request, "error.html", {"title": f"Error {exc.status_code}",
                                              "message": "There is nothing here." if exc.status_code == 404
                                              else "The request could not be served.", "viewer": None},
                      exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        v = auth.viewer(request)
        return RedirectResponse("/admin" if v.user.role == "admin" else "/cases", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        resp = render(request, "login.html", {"csrf": token, "next": safe_next(next) or "", "error": None,
                                              "viewer": None})
        _cookie(resp, LOGIN_CSRF_COOKIE, token, settings, max_age=3600)
        return resp

    @app.post("/login", response_class=HTMLResponse)
    def login(request: Request, username: str = Form(""), password: str = Form(""), csrf: str = Form(""),
              next: str = Form("")) -> Response:
        addr = client_address(request)
        name = username.strip()[:100]
        if not auth.same(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
            store.log("login.csrf_refused", None, addr, detail={"user": name})
            raise Forbidden("the login form's security token is missing or stale; reload the page")
        if st.user_limiter.blocked("u:" + name.lower()) or st.address_limiter.blocked("a:" + addr):
            store.log("login.rate_limited", None, addr, detail={"user": name})
            return _login_again(request, settings, next, "Too many failed attempts. Wait a few minutes.", 429)
        user = store.check_password(name, password[:1024])
        if user is None:
            st.user_limiter.fail("u:" + name.lower())
            st.address_limiter.fail("a:" + addr)
            store.log("login.failed", None, addr, detail={"user": name})
            return _login_again(request, settings, next, "Wrong user name or password.", 401)
        st.user_limiter.clear("u:" + name.lower())
        token, _ = store.new_session(user, timedelta(hours=settings.session_hours), addr)
        store.log("login", user.name, addr, detail={"role": user.role})
        dest = safe_next(next) or ("/admin" if user.role == "admin" else "/cases")
        resp = RedirectResponse(dest, status_code=303)
        _cookie(resp, SESSION_COOKIE, token, settings, max_age=int(settings.session_hours * 3600))
        resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=settings.secure_cookies)
        return resp

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        v = auth.viewer(request)
        auth.check_csrf(v, csrf)
        store.end_session(v.token)
        store.log("logout", v.user.name, client_address(request))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    # ---- admin: users, case registry, grants (no case data) ------------------------------------------------
    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request, msg: str | None = None) -> Response:
        v = auth.viewer(request)
        auth.require_role(v, "admin")
        store.log("view", v.user.name, client_address(request), target="/admin")
        return _admin_page(request, v, msg[:200] if msg else None, None)

    @app.post("/admin/users", response_class=HTMLResponse)
    def admin_add_user(request: Request, csrf: str = Form(""), name: str = Form(""), role: str = Form(""),
                       password: str = Form("")) -> Response:
        v = _admin_post(request, csrf)
        try:
            store.add_user(name, password, role)
        except WebStoreError as e:
            return _admin_page(request, v, None, str(e), 400)
        store.log("admin.user_add", v.user.name, client_address(request), target=name, detail={"role": role})
        return RedirectResponse("/admin?msg=" + quote(f"user {name} added"), status_code=303)

    @app.post("/admin/users/{name}/disabled", response_class=HTMLResponse)
    def admin_disable(request: Request, name: str, csrf: str = Form(""), disabled: str = Form("")) -> Response:
        v = _admin_post(request, csrf)
        flag = disabled == "1"
        if name == v.user.name and flag:
            return _admin_page(request, v, None, "you cannot disable yourself", 400)
        try:
            store.set_disabled(name, flag)
        except WebStoreError as e:
            return _admin_page(request, v, None, str(e), 400)
        store.log("admin.user_disabled" if flag else "admin.user_enabled", v.user.name, client_address(request),
                  target=name)
        return RedirectResponse("/admin?msg=" + quote(f"user {name} {'disabled' if flag else 'enabled'}"),
                                status_code=303)

    @app.post("/admin/grants", response_class=HTMLResponse)
    def admin_grant(request: Request, csrf: str = Form(""), name: str = Form(""),
                    case_path: str = Form("")) -> Response:
        v = _admin_post(request, csrf)
        try:
            entry = store.grant(name, Path(case_path), by=v.user.name)
        except WebStoreError as e:
            return _admin_page(request, v, None, str(e), 400)
        store.log("admin.grant", v.user.name, client_address(request), case_id=entry.id, target=name)
        _case_log(st, entry.path, v.user.name, "web.grant", {"user": name, "by": v.user.name})
        return RedirectResponse("/admin?msg=" + quote(f"{name} may now read case {entry.id}"), status_code=303)

    @app.post("/admin/grants/revoke", response_class=HTMLResponse)
    def admin_revoke(request: Request, csrf: str = Form(""), name: str = Form(""),
                     case_id: int = Form(0)) -> Response:
        v = _admin_post(request, csrf)
        if store.revoke(name, case_id):
            store.log("admin.revoke", v.user.name, client_address(request), case_id=case_id, target=name)
            entry = next((c for c in store.list_cases() if c.id == case_id), None)
            if entry is not None:
                _case_log(st, entry.path, v.user.name, "web.revoke", {"user": name, "by": v.user.name})
        return RedirectResponse("/admin?msg=" + quote(f"grant of case {case_id} to {name} removed"),
                                status_code=303)

    def _admin_post(request: Request, csrf: str) -> Viewer:
        v = auth.viewer(request)
        auth.require_role(v, "admin")
        auth.check_csrf(v, csrf)
        return v

    def _admin_page(request: Request, v: Viewer, msg: str | None, error: str | None,
                    status: int = 200) -> HTMLResponse:
        return render(request, "admin.html", {"viewer": v, "users": store.list_users(), "cases": store.list_cases(),
                                              "grants": store.all_grants(), "roles": ROLES, "msg": msg,
                                              "error": error}, status)

    views.register(app)
    return app


def _case_log(st: WebState, path: Path, user: str, action: str, detail: dict[str, Any]) -> None:
    from ringtrace.case import CaseError

    try:
        st.cases.case(path, f"web:{user}").log(action, detail)
    except CaseError:
        pass  # the case folder went away; the web audit still has the entry


def _cookie(resp: Response, key: str, value: str, settings: WebSettings, max_age: int) -> None:
    resp.set_cookie(key, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                    secure=settings.secure_cookies)


def _login_again(request: Request, settings: WebSettings, nxt: str, error: str, status: int) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    resp = render(request, "login.html", {"csrf": token, "next": safe_next(nxt) or "", "error": error,
                                          "viewer": None}, status)
    _cookie(resp, LOGIN_CSRF_COOKIE, token, settings, max_age=3600)
    return resp
