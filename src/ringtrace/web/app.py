"""The web app: ``create_app(settings)`` gives a FastAPI application serving server-rendered pages.

Exposure rules: every page needs a session, every case route needs a grant (404 otherwise), every form carries a
CSRF token, every view is written to the web audit and to the case's own audit chain (``web.deps``), and media
content is only ever shown as a small blurred greyscale preview after a reasoned request (``web.routes.media``).
The pages are ``APIRouter`` modules under ``web.routes``; state and rendering live in ``web.state``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ringtrace.web.auth import FailureLimiter, Forbidden, LoginRequired, NotFound
from ringtrace.web.data import CaseCache
from ringtrace.web.routes import ROUTERS
from ringtrace.web.settings import WebSettings
from ringtrace.web.state import HERE, WebState, make_templates, render
from ringtrace.web.users import WebStore

__all__ = ["WebState", "create_app", "render"]

CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(settings: WebSettings, hasher: PasswordHasher | None = None) -> FastAPI:
    """The application; ``hasher`` overrides the argon2id parameters (tests use a cheap one)."""
    store = WebStore(settings.home, hasher)
    st = WebState(settings, store, CaseCache(), make_templates(),
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

    for router in ROUTERS:
        app.include_router(router)
    return app
