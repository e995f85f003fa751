"""Settings of one web deployment. Everything has a safe default; only ``home`` is required."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ringtrace.matching.hashsets import CategoryScheme


@dataclass(frozen=True)
class WebSettings:
    home: Path  # holds web.sqlite (users, case registry, grants, sessions, web audit)
    secure_cookies: bool = True  # the Secure cookie flag; turn off only for plain-HTTP localhost use and tests
    session_hours: float = 8.0  # absolute session lifetime
    # Failed-login limits: at most this many failures per user name, and per client address, in the window.
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    failure_window_s: float = 300.0
    rate_table_size: int = 10_000  # bound on tracked names/addresses (oldest forgotten first)
    thumb_max_side: int = 160
    thumb_blur_radius: float = 8.0
    page_size: int = 100  # rows per page on long lists
    # Media categorisation in the UI: Project VIC's categories unless a scheme file (CategoryScheme JSON) is given.
    category_scheme_file: Path | None = None
    # Ed25519 private key (``ringtrace keys new``) that packages made in the web app are signed with, as
    # ``ringtrace package make --key`` signs them; without it the web app makes no package.
    signing_key: Path | None = None
    # The marking on every page of a package's report (None: RINGTRACE_CLASSIFICATION, else the default marking).
    classification: str | None = None

    def category_scheme(self) -> CategoryScheme:
        from ringtrace.matching.hashsets import CategoryScheme

        return CategoryScheme.from_json(self.category_scheme_file) if self.category_scheme_file else CategoryScheme()
