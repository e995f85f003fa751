"""Messages read from several devices, folded for a report or a graph: one row per message, every copy cited."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ringtrace.dissemination.export_types import Message

_EVENT_KEYS = ("kind", "target", "value")
_NO_EVENT = json.dumps(dict.fromkeys(_EVENT_KEYS), sort_keys=True)  # a message's: most rows, one string


def message_key(m: Mapping[str, Any]) -> tuple[Any, ...]:
    ev = m.get("event")
    return (m["chat"].get("group") or m["chat"].get("key"), m["at"], m.get("sender"), m["kind"], m.get("text"),
            tuple(m.get("media", [])),
            json.dumps({k: ev.get(k) for k in _EVENT_KEYS}, sort_keys=True) if ev else _NO_EVENT)



def dedup_messages(msgs: Iterable[Message]) -> list[dict[str, Any]]:
    """The same message read from several devices: one row, every source kept."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for m in msgs:
        k = message_key(m)
        if k in seen:
            cites = seen[k]["sources"]
            cite = {"source": m["source"], "location": m["location"]}
            if cite not in cites:
                cites.append(cite)
            continue
        seen[k] = dict(m, sources=[{"source": m["source"], "location": m["location"]}])
    return list(seen.values())
