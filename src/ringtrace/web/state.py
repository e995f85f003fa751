"""The app's shared state and rendering, apart from the routes (so routes and the app import it, not each other).

``WebState`` is what ``create_app`` builds and hangs on ``app.state.web``; ``render`` turns a template and a context
into a response. Templates autoescape everything: evidence is hostile, and no template uses ``|safe``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from ringtrace import __version__
from ringtrace.web.auth import FailureLimiter
from ringtrace.web.data import CaseCache
from ringtrace.web.decisions import DECIDERS, Jobs
from ringtrace.web.settings import WebSettings
from ringtrace.web.users import WebStore

HERE = Path(__file__).parent


@dataclass
class WebState:
    settings: WebSettings
    store: WebStore
    cases: CaseCache
    templates: Jinja2Templates
    user_limiter: FailureLimiter
    address_limiter: FailureLimiter
    jobs: Jobs = field(default_factory=Jobs)  # background re-analyses (web.decisions)


def _short(s: object, n: int = 12) -> str:
    if isinstance(s, str):
        return (s[:n] + "…") if len(s) > n else s
    return str(s) if s else ""


def _when(s: object) -> str:
    return str(s).replace("T", " ").replace("Z", "")[:19] if s else "—"


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # evidence is hostile: every value is escaped, and no template uses |safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["short"] = _short
    env.filters["when"] = _when
    env.globals["version"] = __version__
    env.globals["deciders"] = DECIDERS  # roles shown the decision forms (the routes check the role again)
    return Jinja2Templates(env=env)


def state(request: Request) -> WebState:
    st: WebState = request.app.state.web
    return st


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    ctx = {"entry": None, "viewer": None, **ctx}
    return state(request).templates.TemplateResponse(request, name, ctx, status_code=status)


def safe_next(nxt: str | None) -> str | None:
    """Only local paths: no scheme, no host, no protocol-relative ``//`` (open-redirect guard)."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt or len(nxt) > 500:
        return None
    return nxt


def set_cookie(resp: Response, key: str, value: str, settings: WebSettings, max_age: int) -> None:
    resp.set_cookie(key, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                    secure=settings.secure_cookies)


def case_log(st: WebState, path: Path, user: str, action: str, detail: dict[str, Any]) -> None:
    """An entry in a case's own audit chain, written by the web for ``user``."""
    from ringtrace.case import CaseError

    try:
        st.cases.case(path, f"web:{user}").log(action, detail)
    except CaseError:
        pass  # the case folder went away; the web audit still has the entry


MIN_REASON_CHARS = 12
MIN_REASON_WORDS = 2


def reason_is_given(reason: str) -> bool:
    """A reason recorded for seeing media or for a decision must say something: a few words, not 'check'."""
    words = [w for w in reason.split() if sum(ch.isalpha() for ch in w) >= 3]
    return len(" ".join(reason.split())) >= MIN_REASON_CHARS and len(words) >= MIN_REASON_WORDS
