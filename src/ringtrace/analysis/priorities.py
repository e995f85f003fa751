"""An explainable priority score per person: every point comes with its name and its reason.

The weights are deliberately simple and shown in full so an analyst can argue with them; they rank, they do
not decide. Creating or running groups and being the first to share known material weigh most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ringtrace.analysis.roles import all_conduct
from ringtrace.store import schema as S

WEIGHTS = {
    "creator": 10.0,  # per group created
    "admin": 5.0,  # per group administered (not created)
    "first_sharer_known": 8.0,  # per known item this person was first in the case to share
    "known_volume": 1.0,  # per known item sent (capped)
    "known_volume_cap": 40.0,
    "message_volume": 2.0,  # times log10(1 + messages)
    "bridge": 3.0,  # per group beyond the first
    "invite_from_capture": 4.0,  # per join through a link that a captured page advertised
}


@dataclass
class Suspect:
    label: str
    score: float
    components: list[tuple[str, float, str]] = field(default_factory=list)
    country: str | None = None


def score_conduct(c: dict[str, Any]) -> Suspect:
    comp: list[tuple[str, float, str]] = []
    if c["creator_of"]:
        comp.append(("creator", WEIGHTS["creator"] * len(c["creator_of"]),
                     f"created {len(c['creator_of'])} group(s): {', '.join(c['creator_of'])}"))
    if c["admin_of"]:
        comp.append(("admin", WEIGHTS["admin"] * len(c["admin_of"]),
                     f"admin of {len(c['admin_of'])} group(s): {', '.join(c['admin_of'])}"))
    if c["first_shared_known"]:
        comp.append(("first sharer of known material", WEIGHTS["first_sharer_known"] * c["first_shared_known"],
                     f"first in the case to share {c['first_shared_known']} known item(s)"))
    if c["known_sent"]:
        pts = min(WEIGHTS["known_volume_cap"], WEIGHTS["known_volume"] * c["known_sent"])
        comp.append(("known-material volume", pts, f"sent {c['known_sent']} message(s) with known material"
                     + (" (capped)" if pts == WEIGHTS["known_volume_cap"] else "")))
    if c["messages"]:
        pts = round(WEIGHTS["message_volume"] * math.log10(1 + c["messages"]), 2)
        comp.append(("message volume", pts, f"{c['messages']} message(s) sent; 2 x log10(1 + n)"))
    if len(c["groups"]) > 1:
        comp.append(("bridging groups", WEIGHTS["bridge"] * (len(c["groups"]) - 1),
                     f"member of {len(c['groups'])} groups: {', '.join(g['group'] for g in c['groups'])}"))
    adv = [j for j in c["invite_joins"] if j["advertised"]]
    if adv:
        where = "; ".join(f"{j['group']} via {j['code']} (advertised at {_places(j['advertised'])})" for j in adv)
        comp.append(("joined via a link from a captured page", WEIGHTS["invite_from_capture"] * len(adv), where))
    return Suspect(c["person"], round(sum(p for _, p, _ in comp), 2), comp, c.get("country"))


def _places(ads: list[dict[str, Any]]) -> str:
    return ", ".join(sorted({a["page_uri"] or f"source {a['source_id']}" for a in ads}))


def rank_suspects(case: Any, country: str | None = None) -> list[Suspect]:
    """Persons by descending score (ties by label); ``country`` keeps only people attributed to it."""
    with case.engine.connect() as con:
        if not con.execute(select(S.persons.c.id).limit(1)).first():
            return []
        conduct = all_conduct(con)
    out = [score_conduct(c) for c in conduct.values()]
    if country:
        out = [s for s in out if (s.country or "").upper() == country.upper()]
    out.sort(key=lambda s: (-s.score, s.label))
    return out
