"""Admin pages: users, the case registry and grants (no case data)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.web import auth
from ringtrace.web.auth import Viewer, client_address
from ringtrace.web.deps import ViewerDep
from ringtrace.web.state import case_log, render, state
from ringtrace.web.users import ROLES, WebStoreError

router = APIRouter()


def admin_viewer(v: ViewerDep) -> Viewer:
    auth.require_role(v, "admin")
    return v


AdminDep = Annotated[Viewer, Depends(admin_viewer)]


def admin_post(v: AdminDep, csrf: str = Form("")) -> Viewer:
    auth.check_csrf(v, csrf)
    return v


AdminPostDep = Annotated[Viewer, Depends(admin_post)]


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, v: AdminDep, msg: str | None = None) -> Response:
    state(request).store.log("view", v.user.name, client_address(request), target="/admin")
    return admin_page(request, v, msg[:200] if msg else None, None)


@router.post("/admin/users", response_class=HTMLResponse)
def admin_add_user(request: Request, v: AdminPostDep, name: str = Form(""), role: str = Form(""),
                   password: str = Form("")) -> Response:
    store = state(request).store
    try:
        store.add_user(name, password, role)
    except WebStoreError as e:
        return admin_page(request, v, None, str(e), 400)
    store.log("admin.user_add", v.user.name, client_address(request), target=name, detail={"role": role})
    return RedirectResponse("/admin?msg=" + quote(f"user {name} added"), status_code=303)


@router.post("/admin/users/{name}/disabled", response_class=HTMLResponse)
def admin_disable(request: Request, name: str, v: AdminPostDep, disabled: str = Form("")) -> Response:
    store = state(request).store
    flag = disabled == "1"
    if name == v.user.name and flag:
        return admin_page(request, v, None, "you cannot disable yourself", 400)
    try:
        store.set_disabled(name, flag)
    except WebStoreError as e:
        return admin_page(request, v, None, str(e), 400)
    store.log("admin.user_disabled" if flag else "admin.user_enabled", v.user.name, client_address(request),
              target=name)
    return RedirectResponse("/admin?msg=" + quote(f"user {name} {'disabled' if flag else 'enabled'}"),
                            status_code=303)


@router.post("/admin/grants", response_class=HTMLResponse)
def admin_grant(request: Request, v: AdminPostDep, name: str = Form(""), case_path: str = Form("")) -> Response:
    st = state(request)
    try:
        entry = st.store.grant(name, Path(case_path), by=v.user.name)
    except WebStoreError as e:
        return admin_page(request, v, None, str(e), 400)
    st.store.log("admin.grant", v.user.name, client_address(request), case_id=entry.id, target=name)
    case_log(st, entry.path, v.user.name, "web.grant", {"user": name, "by": v.user.name})
    return RedirectResponse("/admin?msg=" + quote(f"{name} may now read case {entry.id}"), status_code=303)


@router.post("/admin/grants/revoke", response_class=HTMLResponse)
def admin_revoke(request: Request, v: AdminPostDep, name: str = Form(""), case_id: int = Form(0)) -> Response:
    st = state(request)
    if st.store.revoke(name, case_id):
        st.store.log("admin.revoke", v.user.name, client_address(request), case_id=case_id, target=name)
        entry = next((c for c in st.store.list_cases() if c.id == case_id), None)
        if entry is not None:
            case_log(st, entry.path, v.user.name, "web.revoke", {"user": name, "by": v.user.name})
    return RedirectResponse("/admin?msg=" + quote(f"grant of case {case_id} to {name} removed"), status_code=303)


def admin_page(request: Request, v: Viewer, msg: str | None, error: str | None, status: int = 200) -> HTMLResponse:
    store = state(request).store
    return render(request, "admin.html", {"viewer": v, "users": store.list_users(), "cases": store.list_cases(),
                                          "grants": store.all_grants(), "roles": ROLES, "msg": msg,
                                          "error": error}, status)
