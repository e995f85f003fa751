"""Field-name normalisation shared by the VICS, ICSE and XML readers (lists spell columns many ways)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .model import CategoryScheme, HashEntry, HashListProblem, check_hex, clip, parse_bool

_NON_ALNUM = re.compile(r"[^a-z0-9]")

# normalised field name -> HashEntry attribute
FIELD_ALIASES: dict[str, str] = {
    "md5": "md5",
    "md5hash": "md5",
    "hashmd5": "md5",
    "md5value": "md5",
    "sha1": "sha1",
    "sha1hash": "sha1",
    "hashsha1": "sha1",
    "sha1value": "sha1",
    "sha256": "sha256",
    "sha256hash": "sha256",
    "hashsha256": "sha256",
    "sha256value": "sha256",
    "pdq": "pdq",
    "pdqhash": "pdq",
    "photodna": "photodna",
    "photodnahash": "photodna",
    "pdna": "photodna",
    "category": "category",
    "cat": "category",
    "classification": "category",
    "grading": "category",
    "series": "series",
    "seriesname": "series",
    "victimidentified": "victim_identified",
    "victimid": "victim_identified",
    "offenderidentified": "offender_identified",
    "offenderid": "offender_identified",
    "mediatype": "media_type",
    "mimetype": "media_type",
    "type": "media_type",
    "mediaid": "raw_id",
    "imageid": "raw_id",
    "id": "raw_id",
    "fileid": "raw_id",
}
HEX_FIELDS = ("md5", "sha1", "sha256", "pdq")


def norm_name(name: str) -> str:
    """'Victim identified' / 'victim_identified' / 'VictimIdentified' -> 'victimidentified'."""
    if "}" in name:  # XML namespace
        name = name.rsplit("}", 1)[1]
    return _NON_ALNUM.sub("", name.lower())


def build_entry(
    fields: Mapping[str, object],
    scheme: CategoryScheme,
    file: Path,
    *,
    line: int | None = None,
    position: str | None = None,
) -> list[HashEntry | HashListProblem]:
    """Turn a row (raw field name -> value) into an entry, plus a problem per unusable digest.

    A row with no usable digest at all yields only problems; unknown fields are kept as text in ``extra``.
    """
    out: list[HashEntry | HashListProblem] = []
    values: dict[str, object] = {}
    extra: list[tuple[str, str]] = []
    for raw_name, value in fields.items():
        attr = FIELD_ALIASES.get(norm_name(raw_name))
        if attr is None:
            if value is not None and not isinstance(value, dict | list):
                extra.append((clip(raw_name, 100), clip(value, 500)))
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        values.setdefault(attr, value)
    kw: dict[str, object] = {}
    for kind in HEX_FIELDS:
        if kind in values:
            try:
                kw[kind] = check_hex(kind, values[kind])
            except ValueError as e:
                out.append(HashListProblem(str(file), str(e), line=line, position=position))
    if not kw:
        if not out:
            out.append(HashListProblem(str(file), "no MD5, SHA-1, SHA-256 or PDQ value", line, position))
        return out
    raw_cat = values.get("category")
    kw["raw_category"] = None if raw_cat is None else clip(raw_cat, 200)
    kw["category"] = scheme.normalise(raw_cat)
    for attr in ("photodna", "series", "media_type", "raw_id"):
        if attr in values:
            kw[attr] = clip(values[attr], 4096 if attr == "photodna" else 500)
    for attr in ("victim_identified", "offender_identified"):
        if attr in values:
            kw[attr] = parse_bool(values[attr])
    out.append(
        HashEntry(**kw, source=str(file), line=line, position=position, extra=tuple(extra))  # type: ignore[arg-type]
    )
    return out
