"""Reading what the notes stage found: possible victims (audited on every read) and what notes say of a person.

Possible victims are the most sensitive data of a case, so every read names who read them and why in the audit
chain, whichever face (CLI, web) asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ringtrace.case import Case
from ringtrace.store import schema as S


@dataclass(frozen=True)
class VictimRow:
    label: str
    name: str
    age: int | None
    place: str | None
    place_country: str | None
    country: str | None
    country_basis: str
    dates: list[str]
    sha256: str
    page: int
    line_no: int
    basis: str
    exhibits: list[str]  # exhibits holding the note


def read_victims(case: Case, *, purpose: str, country: str | None = None) -> list[VictimRow]:
    """Every possible victim (of ``country`` only, when given); the read is audited with its purpose."""
    pv = S.possible_victims
    q = select(pv).order_by(pv.c.id)
    if country:
        q = q.where(pv.c.country == country.upper())
    with case.engine.connect() as con:
        rows = con.execute(q).all()
        holders: dict[str, list[str]] = {}
        shas = {r.sha256 for r in rows}
        if shas:
            for f in con.execute(select(S.source_files.c.sha256, S.sources.c.exhibit)
                                 .join(S.sources, S.sources.c.id == S.source_files.c.source_id)
                                 .where(S.source_files.c.sha256.in_(shas)).order_by(S.sources.c.id)):
                ex = holders.setdefault(f.sha256, [])
                if f.exhibit not in ex:
                    ex.append(f.exhibit)
    out = [VictimRow(r.label, r.name, r.age, r.place, r.place_country, r.country, r.country_basis,
                     list(r.dates or []), r.sha256, r.page, r.line_no, r.basis, holders.get(r.sha256, []))
           for r in rows]
    case.log("victims.view", {"purpose": purpose[:200], "country": country, "count": len(out)})
    return out


def note_mentions(case: Case, person_label: str) -> list[dict[str, Any]]:
    """Where notes name this person (suggested ties: number exactly, name by fuzzy match), with the line."""
    e, lk, tl = S.note_entities, S.note_links, S.text_lines
    q = (select(lk.c.basis, lk.c.score, lk.c.matched, e.c.kind, e.c.value, e.c.raw, e.c.sha256, e.c.page,
                e.c.line_no, e.c.origin, tl.c.text)
         .join(e, e.c.id == lk.c.entity_id).outerjoin(tl, tl.c.id == e.c.text_line_id)
         .where(lk.c.person_label == person_label).order_by(lk.c.score.desc(), e.c.sha256, e.c.page, e.c.line_no))
    with case.engine.connect() as con:
        return [dict(r._mapping) for r in con.execute(q)]
