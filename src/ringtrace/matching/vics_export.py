"""Write results back as a Project VIC VICS JSON 2.0 list (Media form) that VICS tools can import.

Written item by item (no whole document in memory). Keys follow the VICS 2.0 Media entity as seen in public
VICS files (MediaID, Category, MD5, SHA1, MediaSize, IsPrecategorized, VictimIdentified, OffenderIdentified,
IsDistributed, Series, MimeType, MediaFiles); our readers accept them back (round trip tested). The Media
form has no case object, so the case name goes into the Cases form only (``form="cases"``: one case whose
``CaseNumber`` is ``case_name`` and whose ``Media`` holds the items).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata"

# accepted input key (ours or VICS's, compared lower-case without "_") -> VICS field
_KEYS = {
    "mediaid": "MediaID",
    "md5": "MD5",
    "sha1": "SHA1",
    "sha256": "SHA256",
    "pdq": "PDQ",
    "photodna": "PhotoDNA",
    "category": "Category",
    "mediasize": "MediaSize",
    "size": "MediaSize",
    "isdistributed": "IsDistributed",
    "isprecategorized": "IsPrecategorized",
    "victimidentified": "VictimIdentified",
    "offenderidentified": "OffenderIdentified",
    "series": "Series",
    "mimetype": "MimeType",
    "mediatype": "MimeType",
    "mediafiles": "MediaFiles",
    "comments": "Comments",
    "tags": "Tags",
}
_HEX_UPPER = {"MD5", "SHA1", "SHA256"}  # VICS lists write these upper case


def _media(item: Mapping[str, Any], n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in item.items():
        name = _KEYS.get(k.replace("_", "").lower())
        if name is None or v is None:
            continue
        if name in _HEX_UPPER and isinstance(v, str):
            v = v.upper()
        if name == "Category" and isinstance(v, str) and v.isdigit():
            v = int(v)
        out[name] = v
    out.setdefault("MediaID", n)
    return {"MediaID": out.pop("MediaID"), **out}


def write_vics_json(
    media: Iterable[Mapping[str, Any]],
    out: Path,
    case_name: str,
    *,
    form: Literal["media", "cases"] = "media",
) -> int:
    """Write ``media`` (dicts with md5/sha1/sha256/category/media_size/is_distributed ... keys) to ``out``.
    Returns the number of items written. The file is written to a temporary name and renamed at the end."""
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        if form == "media":
            fh.write('{"@odata.context": ' + json.dumps(CONTEXT + "#Media") + ', "value": [\n')
        else:
            case = {"CaseNumber": case_name, "SourceApplicationName": "ringtrace"}
            head = json.dumps(case)[:-1]
            fh.write('{"@odata.context": ' + json.dumps(CONTEXT + "#Cases") + ', "value": [' + head)
            fh.write(', "Media": [\n')
        for n, item in enumerate(media, start=1):
            if n > 1:
                fh.write(",\n")
            fh.write(json.dumps(_media(item, n), ensure_ascii=False))
        fh.write("\n]}" if form == "media" else "\n]}]}")
        fh.write("\n")
    os.replace(tmp, out)
    return n
