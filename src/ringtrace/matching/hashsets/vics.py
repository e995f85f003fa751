"""Project VIC VICS JSON hash lists (data model 1.3 and 2.0), stream-parsed with ijson.

Shapes handled (checked against public readers and writers of the format found with the search tool: IPED's
``HashDBTool.java`` recognises ``"odata.metadata": ".../ProjectVic/DataModels/1.3.xml#Media"`` and
``"@odata.context": ".../VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"``; Griffeye
export scripts write the 2.0 Cases form ``{"@odata.context": "...2.0.xml/US/$metadata#Cases", "value":
[{"CaseID": ..., "Media": [...]}]}``; a published structure dump of a 2.0 Media list shows ``MediaID`` (int),
``Category`` (int), ``MD5``/``SHA1`` (upper-case hex), ``MediaSize``, ``DateUpdated``, ``IsPrecategorized``):

- 1.3:  ``{"odata.metadata": "...1.3.xml#Media", "value": [ {Media}, ... ]}``
- 2.0 Media form: ``{"@odata.context": "...2.0.xml/<region>/$metadata#Media", "value": [ {Media}, ... ]}``
- 2.0 Cases form: ``{"@odata.context": "...#Cases", "value": [ {"CaseID": ..., "Media": [ {Media} ]} ]}``

Media fields used: MD5, SHA1, SHA256, PDQ, PhotoDNA, Category, Series, VictimIdentified, OffenderIdentified,
MediaID, MimeType/MediaType. Any other field (IsPrecategorized, MediaSize, MediaFiles, DateUpdated ...) is
tolerated; scalar ones are kept in ``HashEntry.extra``. Only one Media object is held in memory at a time, so
a list of 10 million items reads in bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from ._fields import build_entry
from .model import CategoryScheme, HashEntry, HashListError, HashListProblem

MARKERS = ("odata.metadata", "@odata.context")


def looks_like_vics(head: str) -> bool:
    h = head.lstrip("\ufeff \t\r\n")
    return h.startswith("{") and any(f'"{m}"' in h for m in MARKERS)


class _Builder:
    """Minimal ijson object builder (ijson.ObjectBuilder without Decimal surprises or nesting limits)."""

    def __init__(self) -> None:
        self.stack: list[Any] = []
        self.key: list[str | None] = []
        self.value: Any = None

    def event(self, ev: str, val: Any) -> None:
        if ev in ("start_map", "start_array"):
            obj: Any = {} if ev == "start_map" else []
            self._put(obj)
            self.stack.append(obj)
            self.key.append(None)
        elif ev in ("end_map", "end_array"):
            self.stack.pop()
            self.key.pop()
        elif ev == "map_key":
            self.key[-1] = val
        else:
            self._put(val)

    def _put(self, v: Any) -> None:
        if not self.stack:
            self.value = v
        elif isinstance(self.stack[-1], list):
            self.stack[-1].append(v)
        else:
            self.stack[-1][self.key[-1]] = v


def read_vics(path: Path, scheme: CategoryScheme) -> Iterator[HashEntry | HashListProblem]:
    try:
        fh = path.open("rb")
    except OSError as e:
        raise HashListError(path, f"cannot open: {e}") from e
    with fh:
        yield from _read(fh, path, scheme)


def _read(fh: Any, path: Path, scheme: CategoryScheme) -> Iterator[HashEntry | HashListProblem]:
    seen_value = False
    item_no = -1  # index in the top-level value array
    media_no = -1  # index in the current case's Media array
    outer: _Builder | None = None  # a value[] item: a Media, or a Case whose Media we stream separately
    inner: _Builder | None = None  # a Media inside a Case
    first = True
    try:
        for prefix, ev, val in ijson.parse(fh, use_float=True):
            if first:
                first = False
                if ev != "start_map":
                    raise HashListError(path, f"not a VICS JSON list: top level is {ev!r}, expected an object")
                continue
            if prefix == "value" and ev == "start_array":
                seen_value = True
                continue
            if prefix == "value" and ev not in ("start_array", "end_array"):
                raise HashListError(path, f'not a VICS JSON list: "value" is {ev!r}, expected an array')
            if not prefix.startswith("value.item"):
                continue
            if prefix == "value.item" and ev == "start_map" and outer is None:
                item_no += 1
                media_no = -1
                outer = _Builder()
                outer.event(ev, val)
                continue
            if outer is None:  # a scalar or array directly in value[]
                if prefix == "value.item":
                    item_no += 1
                    pos = f"value[{item_no}]"
                    yield HashListProblem(str(path), f"{pos} is not an object", position=pos)
                continue
            if prefix.startswith("value.item.Media.item") or prefix.startswith("value.item.media.item"):
                if inner is None:
                    media_no += 1
                    inner = _Builder()
                inner.event(ev, val)
                if not inner.stack:
                    pos = f"value[{item_no}].Media[{media_no}]"
                    if isinstance(inner.value, dict):
                        yield from build_entry(inner.value, scheme, path, position=pos)
                    else:
                        yield HashListProblem(str(path), f"{pos} is not an object", position=pos)
                    inner = None
                continue
            if prefix in ("value.item.Media", "value.item.media"):
                if ev == "start_array":
                    outer.event("null", None)  # keep "Media" as a marker only; its items stream above
                continue
            outer.event(ev, val)
            if not outer.stack:
                obj = outer.value
                outer = None
                if isinstance(obj, dict) and not any(k.lower() == "media" for k in obj):
                    yield from build_entry(obj, scheme, path, position=f"value[{item_no}]")
    except ijson.JSONError as e:
        raise HashListError(path, f"malformed or truncated JSON: {e}") from e
    if first:
        raise HashListError(path, "empty file")
    if not seen_value:
        raise HashListError(path, 'not a VICS JSON list: no "value" array at the top level')
