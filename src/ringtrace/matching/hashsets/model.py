"""Records every hash-list reader yields, and the category scheme that normalises list categories.

Readers stream: they yield one ``HashEntry`` per list row, or a ``HashListProblem`` for a row that could not
be used (the rest of the list is still read). A list that cannot be read at all (wrong top-level structure,
truncated JSON, unreadable XML) raises ``HashListError`` naming the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_HEX = re.compile(r"[0-9a-fA-F]+")
MAX_FIELD_CHARS = 4096  # bound every text value kept from a hostile list


class HashListError(Exception):
    """A hash list that cannot be read at all. The message names the file and the reason."""

    def __init__(self, file: Path | str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = str(file)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class HashListProblem:
    """One row of a list that could not be used (bad hex, wrong length, missing every digest)."""

    file: str
    reason: str
    line: int | None = None  # 1-based line (text formats)
    position: str | None = None  # JSON path / XML element number, where lines mean little


@dataclass(frozen=True, slots=True)
class HashEntry:
    """One known item from a hash list. Hex digests are lower case; absent ones are None."""

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    photodna: str | None = None  # opaque (base64/hex as the list gives it), kept, never matched on
    category: str | None = None  # normalised by the CategoryScheme
    raw_category: str | None = None  # exactly what the list said
    series: str | None = None
    victim_identified: bool | None = None
    offender_identified: bool | None = None
    media_type: str | None = None
    raw_id: str | None = None  # the list's own id (MediaID, Image ID ...)
    source: str | None = None  # the list file
    line: int | None = None
    position: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # tags/metadata kept as text (threatexchange tags, MediaSize ...)

    def digests(self) -> dict[str, str]:
        return {k: v for k in HEX_LENGTHS if (v := getattr(self, k)) is not None}


def check_hex(kind: str, value: object) -> str:
    """Lower-case ``value`` if it is valid hex of the right length for ``kind``; else raise ValueError."""
    if not isinstance(value, str):
        raise ValueError(f"{kind} is not text: {type(value).__name__}")
    v = value.strip()
    want = HEX_LENGTHS[kind]
    if len(v) != want or not _HEX.fullmatch(v):
        raise ValueError(f"{kind} is not {want} hex characters: {clip(v, 80)!r}")
    return v.lower()


def clip(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    s = str(value)
    return s if len(s) <= limit else s[:limit] + "…"


def parse_bool(value: object) -> bool | None:
    """Lists write flags as true/false, 1/0, yes/no, Y/N; anything else is unknown (None)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in {"true", "1", "yes", "y", "t"}:
            return True
        if v in {"false", "0", "no", "n", "f"}:
            return False
    return None


# VICS 2.0 "Default"/US category numbers as used in Project VIC lists (0 non-pertinent ... 5 unassessed,
# 6 and higher exist in some regional models). Labels are ours; the raw number is always kept alongside.
DEFAULT_CATEGORIES: dict[str, str] = {
    "0": "not-pertinent",
    "1": "csam-a",  # VICS category 1: CSAM (child abuse material)
    "2": "csam-b",  # VICS category 2: child exploitive / age-difficult
    "3": "other-pertinent",  # VICS 3: family/non-abusive child imagery that may identify victims
    "4": "adult",
    "5": "uncategorised",
    "": "uncategorised",
}


@dataclass(slots=True)
class CategoryScheme:
    """Maps a list's raw category (number or text, compared case-insensitively) to a normalised label.

    ``mapping`` keys are raw values; ``default`` is used for values not in the mapping (None keeps the raw
    text as the label). Load a country scheme from JSON: ``{"name": "uk-caid", "mapping": {"1": "cat-a"},
    "default": "uncategorised"}``.
    """

    name: str = "vics-default"
    mapping: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CATEGORIES))
    default: str | None = "uncategorised"

    def __post_init__(self) -> None:
        self.mapping = {str(k).strip().lower(): str(v) for k, v in self.mapping.items()}

    def normalise(self, raw: object) -> str | None:
        if raw is None:
            return self.mapping.get("", self.default)
        key = str(raw).strip().lower()
        if key.endswith(".0") and key[:-2].isdigit():  # 1.0 from spreadsheets
            key = key[:-2]
        if key in self.mapping:
            return self.mapping[key]
        return self.default if self.default is not None else clip(raw, 200)

    @classmethod
    def from_json(cls, path: Path) -> CategoryScheme:
        try:
            with path.open("rb") as fh:
                data = json.loads(fh.read(1 << 20))  # a scheme is tiny; bound the read
        except (OSError, ValueError) as e:
            raise HashListError(path, f"cannot read category scheme: {e}") from e
        if not isinstance(data, dict) or not isinstance(data.get("mapping"), dict):
            raise HashListError(path, 'category scheme must be an object with a "mapping" object')
        default = data.get("default", "uncategorised")
        return cls(
            name=str(data.get("name", path.stem)),
            mapping={str(k): str(v) for k, v in data["mapping"].items()},
            default=None if default is None else str(default),
        )
