"""The web home's own database (``web.sqlite``): users, the case registry, grants, sessions and the web audit.

It is separate from every case database: one web home serves many cases, and who may log in is not evidence.
Session tokens are stored only as SHA-256 hashes, passwords only as argon2id hashes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)

ROLES = ("investigator", "supervisor", "admin")

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("pw_hash", Text, nullable=False),  # argon2id, PHC string
    Column("role", String(20), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", String(40), nullable=False),
)

cases = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False, unique=True),  # resolved absolute folder
    Column("name", Text, nullable=False),
    Column("added_at", String(40), nullable=False),
)

grants = Table(
    "grants", metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("granted_by", String(100), nullable=False),
    Column("granted_at", String(40), nullable=False),
    UniqueConstraint("user_id", "case_id"),
)

# Possible victims (people named in notes who are not suspects) are the most sensitive data of a case: reading them
# takes a grant of its own, per user and case, on top of the case grant and whatever the role.
victim_grants = Table(
    "victim_grants", metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("granted_by", String(100), nullable=False),
    Column("granted_at", String(40), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie value; the token is not stored
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),  # per-session token for every form
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("address", String(100)),
)

web_audit = Table(
    "web_audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("user", String(100)),  # None for anonymous (e.g. a failed login names the attempted user in detail)
    Column("action", String(50), nullable=False),
    Column("case_id", Integer),
    Column("target", Text),
    Column("detail", Text, nullable=False),  # JSON
    Column("address", String(100)),
)


class WebStoreError(Exception):
    pass


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    disabled: bool


@dataclass(frozen=True)
class CaseEntry:
    id: int
    path: Path
    name: str


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class WebStore:
    """All reads and writes of ``web.sqlite``. Thread-safe through SQLAlchemy's pool (one connection a call)."""

    def __init__(self, home: Path, hasher: PasswordHasher | None = None) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.engine: Engine = create_engine(f"sqlite:///{(home / 'web.sqlite').resolve()}")

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_con: Any, _rec: Any) -> None:
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        metadata.create_all(self.engine)
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile by default
        self._dummy = self.hasher.hash(secrets.token_hex(16))  # equalises timing for unknown user names

    def close(self) -> None:
        self.engine.dispose()

    # ---- users -------------------------------------------------------------------------------------------------
    def add_user(self, name: str, password: str, role: str) -> User:
        name = name.strip()
        if role not in ROLES:
            raise WebStoreError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if not name or len(name) > 100 or any(c.isspace() for c in name):
            raise WebStoreError("user name must be 1-100 characters without spaces")
        if len(password) < 10:
            raise WebStoreError("password must be at least 10 characters")
        with self.engine.begin() as con:
            if con.execute(select(users.c.id).where(users.c.name == name)).first():
                raise WebStoreError(f"user {name!r} already exists")
            uid = con.execute(insert(users).values(name=name, pw_hash=self.hasher.hash(password), role=role,
                                                   disabled=False, created_at=iso(now()))).inserted_primary_key
        assert uid is not None
        return User(int(uid[0]), name, role, False)

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 10:
            raise WebStoreError("password must be at least 10 characters")
        with self.engine.begin() as con:
            n = con.execute(update(users).where(users.c.name == name)
                            .values(pw_hash=self.hasher.hash(password))).rowcount
            if not n:
                raise WebStoreError(f"no user {name!r}")
            con.execute(delete(sessions).where(sessions.c.user_id.in_(select(users.c.id)
                                                                      .where(users.c.name == name))))

    def set_disabled(self, name: str, disabled: bool) -> None:
        with self.engine.begin() as con:
            n = con.execute(update(users).where(users.c.name == name).values(disabled=disabled)).rowcount
            if not n:
                raise WebStoreError(f"no user {name!r}")
            if disabled:
                con.execute(delete(sessions).where(sessions.c.user_id.in_(select(users.c.id)
                                                                          .where(users.c.name == name))))

    def user(self, name: str) -> User | None:
        with self.engine.connect() as con:
            r = con.execute(select(users).where(users.c.name == name)).first()
        return User(r.id, r.name, r.role, bool(r.disabled)) if r else None

    def list_users(self) -> list[User]:
        with self.engine.connect() as con:
            return [User(r.id, r.name, r.role, bool(r.disabled))
                    for r in con.execute(select(users).order_by(users.c.name))]

    def check_password(self, name: str, password: str) -> User | None:
        """The user when the password is right and the account enabled; None otherwise (same work either way)."""
        with self.engine.connect() as con:
            r = con.execute(select(users).where(users.c.name == name)).first()
        stored = r.pw_hash if r else self._dummy
        try:
            self.hasher.verify(stored, password)
            ok = r is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok or r is None or r.disabled:
            return None
        if self.hasher.check_needs_rehash(r.pw_hash):
            with self.engine.begin() as con:
                con.execute(update(users).where(users.c.id == r.id).values(pw_hash=self.hasher.hash(password)))
        return User(r.id, r.name, r.role, False)

    # ---- cases and grants --------------------------------------------------------------------------------------
    def register_case(self, path: Path, name: str | None = None) -> CaseEntry:
        from ringtrace.case import CASE_FILE

        p = path.resolve()
        if not (p / CASE_FILE).exists():
            raise WebStoreError(f"{path} is not a ringtrace case (no {CASE_FILE})")
        if name is None:
            try:
                name = str(json.loads((p / CASE_FILE).read_text(encoding="utf-8")).get("name") or p.name)
            except (OSError, ValueError):
                name = p.name
        with self.engine.begin() as con:
            r = con.execute(select(cases).where(cases.c.path == str(p))).first()
            if r:
                return CaseEntry(r.id, Path(r.path), r.name)
            cid = con.execute(insert(cases).values(path=str(p), name=name, added_at=iso(now()))).inserted_primary_key
        assert cid is not None
        return CaseEntry(int(cid[0]), p, name)

    def list_cases(self) -> list[CaseEntry]:
        with self.engine.connect() as con:
            return [CaseEntry(r.id, Path(r.path), r.name) for r in con.execute(select(cases).order_by(cases.c.id))]

    def grant(self, user_name: str, case_path: Path, by: str) -> CaseEntry:
        u = self.user(user_name)
        if u is None:
            raise WebStoreError(f"no user {user_name!r}")
        entry = self.register_case(case_path)
        with self.engine.begin() as con:
            if not con.execute(select(grants).where(grants.c.user_id == u.id)
                               .where(grants.c.case_id == entry.id)).first():
                con.execute(insert(grants).values(user_id=u.id, case_id=entry.id, granted_by=by,
                                                  granted_at=iso(now())))
        return entry

    def revoke(self, user_name: str, case_id: int) -> bool:
        u = self.user(user_name)
        if u is None:
            return False
        with self.engine.begin() as con:
            return bool(con.execute(delete(grants).where(grants.c.user_id == u.id)
                                    .where(grants.c.case_id == case_id)).rowcount)

    def grant_victims(self, user_name: str, case_path: Path, by: str) -> CaseEntry:
        """Let a user who may read the case also read its possible victims."""
        u = self.user(user_name)
        if u is None:
            raise WebStoreError(f"no user {user_name!r}")
        entry = self.register_case(case_path)
        if self.granted_case(u, entry.id) is None:
            raise WebStoreError(f"{user_name} holds no grant for case {entry.id}: grant the case first")
        with self.engine.begin() as con:
            if not con.execute(select(victim_grants).where(victim_grants.c.user_id == u.id)
                               .where(victim_grants.c.case_id == entry.id)).first():
                con.execute(insert(victim_grants).values(user_id=u.id, case_id=entry.id, granted_by=by,
                                                         granted_at=iso(now())))
        return entry

    def revoke_victims(self, user_name: str, case_id: int) -> bool:
        u = self.user(user_name)
        if u is None:
            return False
        with self.engine.begin() as con:
            return bool(con.execute(delete(victim_grants).where(victim_grants.c.user_id == u.id)
                                    .where(victim_grants.c.case_id == case_id)).rowcount)

    def may_see_victims(self, user: User, case_id: int) -> bool:
        if self.granted_case(user, case_id) is None:
            return False
        with self.engine.connect() as con:
            return con.execute(select(victim_grants).where(victim_grants.c.user_id == user.id)
                               .where(victim_grants.c.case_id == case_id)).first() is not None

    def granted_cases(self, user: User) -> list[CaseEntry]:
        q = (select(cases).join(grants, grants.c.case_id == cases.c.id).where(grants.c.user_id == user.id)
             .order_by(cases.c.id))
        with self.engine.connect() as con:
            return [CaseEntry(r.id, Path(r.path), r.name) for r in con.execute(q)]

    def granted_case(self, user: User, case_id: int) -> CaseEntry | None:
        """The case when this user holds a grant for it; None both when it is not granted and when it does not
        exist, so that callers answer 404 alike."""
        q = (select(cases).join(grants, grants.c.case_id == cases.c.id).where(grants.c.user_id == user.id)
             .where(cases.c.id == case_id))
        with self.engine.connect() as con:
            r = con.execute(q).first()
        return CaseEntry(r.id, Path(r.path), r.name) if r else None

    def all_grants(self) -> list[tuple[str, int, str]]:
        q = (select(users.c.name, cases.c.id, cases.c.name.label("case_name"))
             .join(grants, grants.c.user_id == users.c.id).join(cases, cases.c.id == grants.c.case_id)
             .order_by(users.c.name, cases.c.id))
        with self.engine.connect() as con:
            return [(r.name, r.id, r.case_name) for r in con.execute(q)]

    # ---- sessions ----------------------------------------------------------------------------------------------
    def new_session(self, user: User, ttl: timedelta, address: str | None) -> tuple[str, str]:
        """A fresh (token, csrf) pair; only the token's hash is kept."""
        token = secrets.token_urlsafe(32)  # 256 bits
        csrf = secrets.token_urlsafe(32)
        t = now()
        with self.engine.begin() as con:
            con.execute(delete(sessions).where(sessions.c.expires_at < iso(t)))  # sweep expired ones
            con.execute(insert(sessions).values(token_hash=token_hash(token), user_id=user.id, csrf=csrf,
                                                created_at=iso(t), expires_at=iso(t + ttl), address=address))
        return token, csrf

    def session_user(self, token: str) -> tuple[User, str] | None:
        """(user, csrf token) for a live session of an enabled user."""
        q = (select(users, sessions.c.csrf, sessions.c.expires_at)
             .join(users, users.c.id == sessions.c.user_id).where(sessions.c.token_hash == token_hash(token)))
        with self.engine.connect() as con:
            r = con.execute(q).first()
        if r is None or r.disabled or r.expires_at < iso(now()):
            return None
        return User(r.id, r.name, r.role, False), r.csrf

    def end_session(self, token: str) -> None:
        with self.engine.begin() as con:
            con.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))

    # ---- audit -------------------------------------------------------------------------------------------------
    def log(self, action: str, user: str | None, address: str | None, case_id: int | None = None,
            target: str | None = None, detail: dict[str, Any] | None = None) -> None:
        with self.engine.begin() as con:
            con.execute(insert(web_audit).values(
                at=datetime.now(UTC).isoformat(timespec="microseconds"), user=user, action=action, case_id=case_id,
                target=target, detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str),
                address=address))

    def audit_rows(self, case_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
        q = select(web_audit).order_by(web_audit.c.id.desc()).limit(limit)
        if case_id is not None:
            q = q.where(web_audit.c.case_id == case_id)
        with self.engine.connect() as con:
            return [dict(r._mapping) for r in con.execute(q)]

    def audit_count(self, action: str | None = None) -> int:
        q = select(func.count()).select_from(web_audit)
        if action:
            q = q.where(web_audit.c.action == action)
        with self.engine.connect() as con:
            return int(con.execute(q).scalar() or 0)
