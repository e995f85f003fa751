"""Home, login and logout."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.web import auth
from ringtrace.web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Forbidden, client_address
from ringtrace.web.deps import ViewerDep
from ringtrace.web.state import render, safe_next, set_cookie, state

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(v: ViewerDep) -> Response:
    return RedirectResponse("/admin" if v.user.role == "admin" else "/cases", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return login_again(request, next, None, 200)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(""), password: str = Form(""), csrf: str = Form(""),
          next: str = Form("")) -> Response:
    st = state(request)
    store, settings = st.store, st.settings
    addr = client_address(request)
    name = username.strip()[:100]
    if not auth.same(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
        store.log("login.csrf_refused", None, addr, detail={"user": name})
        raise Forbidden("the login form's security token is missing or stale; reload the page")
    if st.user_limiter.blocked("u:" + name.lower()) or st.address_limiter.blocked("a:" + addr):
        store.log("login.rate_limited", None, addr, detail={"user": name})
        return login_again(request, next, "Too many failed attempts. Wait a few minutes.", 429)
    user = store.check_password(name, password[:1024])
    if user is None:
        st.user_limiter.fail("u:" + name.lower())
        st.address_limiter.fail("a:" + addr)
        store.log("login.failed", None, addr, detail={"user": name})
        return login_again(request, next, "Wrong user name or password.", 401)
    st.user_limiter.clear("u:" + name.lower())
    token, _ = store.new_session(user, timedelta(hours=settings.session_hours), addr)
    store.log("login", user.name, addr, detail={"role": user.role})
    dest = safe_next(next) or ("/admin" if user.role == "admin" else "/cases")
    resp = RedirectResponse(dest, status_code=303)
    set_cookie(resp, SESSION_COOKIE, token, settings, max_age=int(settings.session_hours * 3600))
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/", httponly=True, samesite="strict",
                       secure=settings.secure_cookies)
    return resp


@router.post("/logout")
def logout(request: Request, v: ViewerDep, csrf: str = Form("")) -> Response:
    auth.check_csrf(v, csrf)
    st = state(request)
    st.store.end_session(v.token)
    st.store.log("logout", v.user.name, client_address(request))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


def login_again(request: Request, nxt: str | None, error: str | None, status: int) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    resp = render(request, "login.html", {"csrf": token, "next": safe_next(nxt) or "", "error": error,
                                          "viewer": None}, status)
    set_cookie(resp, LOGIN_CSRF_COOKIE, token, state(request).settings, max_age=3600)
    return resp
