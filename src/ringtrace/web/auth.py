"""Who is asking: sessions from the cookie, CSRF checks on every form, login rate limiting, role and grant checks.

Failures are exceptions that the app turns into responses: ``LoginRequired`` (redirect to the login page),
``Forbidden`` (403), ``NotFound`` (404, also for cases that exist but are not granted, so existence is not
revealed).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from ringtrace.web.users import CaseEntry, User

if TYPE_CHECKING:
    from ringtrace.web.state import WebState

SESSION_COOKIE = "rt_session"
LOGIN_CSRF_COOKIE = "rt_login_csrf"  # double-submit token for the login form (there is no session yet)


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


class RateLimited(Exception):
    pass


@dataclass(frozen=True)
class Viewer:
    user: User
    csrf: str
    token: str


def client_address(request: Request) -> str:
    # The direct peer only: X-Forwarded-For is client-controlled unless a trusted proxy strips it.
    return request.client.host if request.client else "unknown"


def state(request: Request) -> WebState:
    st: WebState = request.app.state.web
    return st


def viewer(request: Request) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        raise LoginRequired()
    found = state(request).store.session_user(token)
    if found is None:
        raise LoginRequired()
    return Viewer(found[0], found[1], token)


def require_role(v: Viewer, *roles: str) -> None:
    if v.user.role not in roles:
        raise Forbidden(f"this page needs the role {' or '.join(roles)}")


def granted(request: Request, v: Viewer, case_id: int) -> CaseEntry:
    st = state(request)
    entry = st.store.granted_case(v.user, case_id)
    if entry is None:
        # recorded in the web audit only: the case (if it exists) gets nothing, so nothing is revealed
        st.store.log("denied", v.user.name, client_address(request), case_id=case_id, target=request.url.path)
        raise NotFound()
    return entry


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def check_csrf(v: Viewer, submitted: str | None) -> None:
    if not same(v.csrf, submitted):
        raise Forbidden("the form's security token is missing or stale; reload the page and try again")


class FailureLimiter:
    """Failed logins per key in a sliding window, in a bounded table (least recently touched key dropped first)."""

    def __init__(self, max_failures: int, window_s: float, max_keys: int) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, key: str, t: float) -> deque[float] | None:
        q = self._hits.get(key)
        if q is None:
            return None
        while q and q[0] <= t - self.window_s:
            q.popleft()
        if not q:
            del self._hits[key]
            return None
        return q

    def blocked(self, key: str) -> bool:
        with self._lock:
            q = self._live(key, time.monotonic())
            return q is not None and len(q) >= self.max_failures

    def fail(self, key: str) -> None:
        t = time.monotonic()
        with self._lock:
            q = self._live(key, t)
            if q is None:
                q = self._hits[key] = deque(maxlen=self.max_failures)
            q.append(t)
            self._hits.move_to_end(key)
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def __len__(self) -> int:
        return len(self._hits)
