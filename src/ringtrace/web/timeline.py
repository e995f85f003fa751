"""Every dated event of a case as one list: messages per day and chat, group events (creation, joins, link joins,
leaves, removals, promotions, renames), first shares of known material and dated link or indicator sightings.
Filters: person, group, kind, dates (UTC days). Each entry links to its page and keeps its exhibit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ringtrace.case import Case
from ringtrace.web.data import CaseData


@dataclass(frozen=True)
class Filters:
    person: str = ""
    group: str = ""
    kind: str = ""
    since: str = ""  # YYYY-MM-DD
    until: str = ""


def _day(raw: str | None) -> str:
    if not raw or len(raw) != 10:
        return ""
    try:
        datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        return ""
    return raw


def filters(person: str | None, group: str | None, kind: str | None, since: str | None,
            until: str | None) -> Filters:
    return Filters((person or "").strip()[:20], (group or "").strip()[:20], (kind or "").strip()[:40],
                   _day(since), _day(until))


def timeline(data: CaseData, case: Case, f: Filters) -> tuple[list[dict[str, Any]], list[str]]:
    """The entries in time order (undated last) and every kind present (for the filter's choices).

    The unfiltered list, with its per-day message aggregates, is the case version's stored ``timeline`` view
    (``readmodel.timeline_entries``, computed by ``ringtrace run``); a request only filters it."""
    tl = data.view("timeline", case)
    entries: list[dict[str, Any]] = tl["entries"]
    if not (f.kind or f.group or f.person or f.since or f.until):
        return entries, list(tl["kinds"])
    keep = [x for x in entries
            if (not f.kind or x["kind"] == f.kind) and (not f.group or x["group"] == f.group)
            and (not f.person or f.person in x["persons"])
            and (not f.since or (x["day"] and x["day"] >= f.since))
            and (not f.until or (x["day"] and x["day"] <= f.until))]
    return keep, list(tl["kinds"])


def per_day(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chart's series: for each UTC day with entries, how many entries and how many message copies."""
    days: dict[str, dict[str, Any]] = {}
    for x in items:
        if not x["day"]:
            continue
        d = days.setdefault(x["day"], {"day": x["day"], "entries": 0, "messages": 0, "events": 0})
        d["entries"] += 1
        if x["kind"] == "messages":
            d["messages"] += int(x.get("count", 0))
        else:
            d["events"] += 1
    return [days[k] for k in sorted(days)]
