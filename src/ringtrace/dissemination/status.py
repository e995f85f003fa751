"""Action-day board: where each suspect stands (identified -> referred -> warrant -> arrested -> devices seized ->
devices ingested), who said so and when.

Each change is a row in ``overrides`` (kind='status', subject=person label, value=status) plus an audit entry;
the newest row for a person is its status. Persons without a row are 'identified'. Packages sent are read from
``overrides`` kind='package' so the board can say which version went to the country.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from ringtrace.analysis.labels import successors
from ringtrace.lock import writes_case
from ringtrace.store import schema as S

STATUSES = ("identified", "referred", "warrant", "arrested", "devices seized", "devices ingested")


class StatusError(ValueError):
    pass


@dataclass
class StatusRow:
    person: str
    country: str | None
    status: str
    by: str | None
    at: datetime | None
    note: str | None


def normalize_status(s: str) -> str:
    v = " ".join(s.strip().lower().replace("_", " ").replace("-", " ").split())
    if v not in STATUSES:
        raise StatusError(f"{s!r} is not a status; use one of: {', '.join(STATUSES)}")
    return v


@writes_case
def set_status(case: Any, person: str, status: str, by: str, note: str | None = None) -> int:
    """Record a status for a person label (P0012); audited. Returns the override row id."""
    st = normalize_status(status)
    if not by.strip():
        raise StatusError("a status change must name who made it (--by)")
    with case.begin() as con:
        if con.execute(select(S.persons.c.id).where(S.persons.c.label == person)).scalar() is None:
            raise StatusError(f"no person {person!r} in this case")
        oid = con.execute(S.overrides.insert().values(kind="status", subject=person, value=st, reason=note, by=by,
                                                      at=datetime.now(UTC))).inserted_primary_key[0]
        case.log("status.set", {"override_id": oid, "person": person, "status": st, "by": by, "note": note}, con)
    return int(oid)


def current_statuses(con: Connection) -> dict[str, StatusRow]:
    out: dict[str, StatusRow] = {}
    country = {r.label: r.country for r in con.execute(select(S.persons.c.label, S.persons.c.country))}
    succ = successors(con)  # a status set on a label that was later merged follows the person
    for r in con.execute(select(S.overrides).where(S.overrides.c.kind == "status").order_by(S.overrides.c.id)):
        label = succ.get(r.subject, r.subject)
        note = r.reason
        if label != r.subject:
            note = f"{r.reason or ''} (set on {r.subject}, since merged into {label})".strip()
        out[label] = StatusRow(label, country.get(label), r.value, r.by, r.at, note)
    return out


def packages_sent(con: Connection) -> dict[str, list[dict[str, Any]]]:
    """Country -> the package versions recorded for it, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in con.execute(select(S.overrides).where(S.overrides.c.kind == "package").order_by(S.overrides.c.id)):
        try:
            v = json.loads(r.value)
        except ValueError:
            v = {"raw": r.value}
        v.update({"by": r.by, "at": r.at})
        out.setdefault(r.subject, []).append(v)
    return out


def board(case: Any, country: str | None = None) -> list[StatusRow]:
    """Every person (of one country, if given) with their current status, sorted by country then label."""
    with case.engine.connect() as con:
        cur = current_statuses(con)
        q = select(S.persons.c.label, S.persons.c.country).order_by(S.persons.c.country, S.persons.c.label)
        if country:
            q = q.where(S.persons.c.country == country.upper())
        rows = []
        for r in con.execute(q):
            s = cur.get(r.label)
            rows.append(s if s else StatusRow(r.label, r.country, "identified", None, None, None))
    return rows
