"""WhatsApp's numeric codes (group actions, message types) as one versioned DATA table.

The table lives in ``codes.tsv`` beside this module: columns schema (android-legacy,
android-current, ios), field (action_type, media_size, ZGROUPEVENTTYPE, message_type, ZMESSAGETYPE ...),
code, event_kind (a ``ringtrace.model.EventKind`` value), description and source (the public project that
documented the code, with disagreements noted). Codes not in the table map to ``EventKind.UNKNOWN``: parsers
keep the raw code and report it, never drop the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ringtrace.model import EventKind

TABLE_FILE = "codes.tsv"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    schema: str
    field: str
    code: int
    kind: str  # EventKind value
    description: str
    source: str
    known: bool = True


@dataclass(frozen=True)
class CodeTable:
    version: str
    rows: dict[tuple[str, str, int], CodeInfo]
    # first row per (schema, field, kind): what writers emit for a kind
    preferred: dict[tuple[str, str, str], int]


@lru_cache(maxsize=1)
def table() -> CodeTable:
    text = resources.files("ringtrace.sources.whatsapp").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    version = "unversioned"
    rows: dict[tuple[str, str, int], CodeInfo] = {}
    preferred: dict[tuple[str, str, str], int] = {}
    valid = {k.value for k in EventKind}
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            if "version:" in line:
                version = line.split("version:", 1)[1].strip()
            continue
        if not header_seen:
            header_seen = True  # the column header line
            continue
        parts = line.split("\t")
        if len(parts) != 6:
            raise ValueError(f"{TABLE_FILE} line {lineno}: expected 6 tab-separated columns")
        schema, field, code_s, kind, desc, source = parts
        if kind not in valid:
            raise ValueError(f"{TABLE_FILE} line {lineno}: {kind!r} is not an EventKind")
        code = int(code_s)
        key = (schema, field, code)
        if key in rows:
            raise ValueError(f"{TABLE_FILE} line {lineno}: duplicate code {key}")
        rows[key] = CodeInfo(schema, field, code, kind, desc, source)
        preferred.setdefault((schema, field, kind), code)
    return CodeTable(version, rows, preferred)


def version() -> str:
    return table().version


def lookup(schema: str, field: str, code: int | str | None) -> CodeInfo:
    """The table's entry, or an UNKNOWN CodeInfo (known=False) for codes the table lacks."""
    try:
        c = int(code) if code is not None else -1
    except (TypeError, ValueError):
        c = -1
    info = table().rows.get((schema, field, c))
    if info is None:
        return CodeInfo(schema, field, c, EventKind.UNKNOWN.value, "not in code table", "", known=False)
    return info


def code_for(schema: str, field: str, kind: str) -> int | None:
    """The code a writer should store for ``kind`` (the first listed), or None if the table has none."""
    return table().preferred.get((schema, field, kind))


#: Event kinds a message-table row may stand for: a notice printed where a message was or would be.
MESSAGE_ROW_NOTICES = frozenset({EventKind.MISSED_CALL.value, EventKind.MESSAGE_WAITING.value,
                                 EventKind.MESSAGE_DELETED.value})


def notice_codes(schema: str, field: str) -> dict[int, str]:
    """The message-type codes of ``schema``/``field`` whose rows are notices, not messages: code -> kind."""
    return {c: info.kind for (s, f, c), info in table().rows.items()
            if s == schema and f == field and info.kind in MESSAGE_ROW_NOTICES}
