"""Small helpers shared by the analysis modules: union-find, time normalisation, account strings, phones."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import phonenumbers

K = TypeVar("K", bound=Hashable)

CHUNK = 2000  # rows fetched per round trip when streaming big tables


class UnionFind(Generic[K]):
    """Disjoint sets; the smallest key (by the caller's order of ``add``) is not special, roots are arbitrary."""

    def __init__(self, items: Iterable[K] = ()) -> None:
        self.parent: dict[K, K] = {}
        for i in items:
            self.parent[i] = i

    def add(self, x: K) -> None:
        self.parent.setdefault(x, x)

    def find(self, x: K) -> K:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression keeps later finds cheap
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: K, b: K) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[rb] = ra
        return True

    def groups(self) -> dict[K, list[K]]:
        out: dict[K, list[K]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return out


def utc(dt: Any) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; everything stored is UTC."""
    if dt is None:
        return None
    if isinstance(dt, str):
        dt = datetime.fromisoformat(dt)
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def account_str(platform: str, kind: str, value: str) -> str:
    return f"{platform}:{kind}:{value}"


PHONE_KINDS = ("phone", "jid")


def phone_digits_of(kind: str, value: str) -> str | None:
    """The raw phone text of a phone-like account (a JID carries the number before '@')."""
    if kind == "phone":
        return value
    if kind == "jid":
        user = value.split("@", 1)[0].split(":", 1)[0]
        return "+" + user if user.isdigit() else None
    return None


def normalize_phone(raw: str, default_region: str | None) -> str | None:
    """E.164 for a phone written internationally or, with the device's region, nationally; None if not a
    number at all. Invalid-but-parseable numbers keep their digits so identical values still meet."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        if raw.startswith("+") or raw.startswith("00"):
            n = phonenumbers.parse("+" + raw.lstrip("+0") if raw.startswith("00") else raw, None)
        elif default_region:
            n = phonenumbers.parse(raw, default_region.upper())
        else:
            return None
    except phonenumbers.NumberParseException:
        digits = "".join(c for c in raw if c.isdigit())
        return "+" + digits if raw.startswith("+") and 5 <= len(digits) <= 15 else None
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


def region_of_phone(e164: str | None) -> str | None:
    """ISO region of a valid geographic number, else None."""
    if not e164:
        return None
    try:
        n = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(n):
        return None
    r = phonenumbers.region_code_for_number(n)
    return r if r and r != "001" and r != "ZZ" else None
