"""An examiner's transcription of a picture of paper (or of a document page): kept as ``origin=transcription``
lines with the examiner as ``by``, beside the OCR lines (never replacing them), audited, keyed by the content's
sha256 so it stays linked to the picture wherever the picture was found.

A new transcription of a page by the same examiner replaces that examiner's earlier one (the audit keeps the
sha256 of both texts and the reason); other examiners' transcriptions stay. Lines number as everywhere: the
page's non-blank lines, 1-based.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from ringtrace.case import Case
from ringtrace.documents.limits import DEFAULT_DOC_LIMITS
from ringtrace.documents.lines import number_lines
from ringtrace.lock import writes_case
from ringtrace.store import schema as S

MAX_TRANSCRIPTION_CHARS = 1_000_000
_HEX = re.compile(r"[0-9a-f]{6,64}")


class TranscriptionError(Exception):
    """A transcription that cannot be stored; the message says why."""


@dataclass
class Transcribed:
    sha256: str
    page: int
    lines: int
    replaced: int


def resolve_content(con: Connection, ref: str) -> str:
    """The sha256 of the one content ``ref`` names: a full sha256 or a unique prefix of at least 6 hex digits."""
    ref = ref.strip().lower()
    if not _HEX.fullmatch(ref):
        raise TranscriptionError(f"{ref!r} is not a sha256 or a prefix of one (6 to 64 hex digits)")
    found = [r[0] for r in con.execute(select(S.source_files.c.sha256).distinct()
                                       .where(S.source_files.c.sha256.startswith(ref)).limit(3))]
    if not found:
        raise TranscriptionError(f"no content of this case has a sha256 starting {ref}")
    if len(found) > 1:
        raise TranscriptionError(f"{ref} is the start of more than one content's sha256: give more digits")
    return str(found[0])


@writes_case
def transcribe(case: Case, ref: str, text: str, examiner: str | None = None, page: int = 1,
               reason: str | None = None) -> Transcribed:
    """Store ``text`` as ``examiner``'s transcription of page ``page`` of the content ``ref`` names."""
    who = (examiner or case.actor or "").strip()
    if not who:
        raise TranscriptionError("a transcription needs the examiner's name")
    if page < 1:
        raise TranscriptionError(f"page {page}: pages count from 1")
    if len(text) > MAX_TRANSCRIPTION_CHARS:
        raise TranscriptionError(f"{len(text)} characters: more than {MAX_TRANSCRIPTION_CHARS} in one transcription")
    lines = number_lines([text.replace("\r\n", "\n").split("\n")], DEFAULT_DOC_LIMITS.max_line_chars)
    if not lines:
        raise TranscriptionError("the transcription is empty")
    now = datetime.now(UTC)
    with case.begin() as con:
        sha = resolve_content(con, ref)
        mine = ((S.text_lines.c.sha256 == sha) & (S.text_lines.c.origin == "transcription")
                & (S.text_lines.c.page == page) & (S.text_lines.c.by == who))
        old = [r.text for r in con.execute(select(S.text_lines.c.text).where(mine).order_by(S.text_lines.c.line_no))]
        con.execute(delete(S.text_lines).where(mine))
        con.execute(S.text_lines.insert(), [
            {"sha256": sha, "origin": "transcription", "page": page, "line_no": ln.line_no, "text": ln.text,
             "by": who, "at": now} for ln in lines])
        case.log("notes.transcribe", {
            "sha256": sha, "page": page, "examiner": who, "lines": len(lines),
            "text_sha256": hashlib.sha256("\n".join(ln.text for ln in lines).encode()).hexdigest(),
            "replaced_lines": len(old),
            "replaced_sha256": hashlib.sha256("\n".join(old).encode()).hexdigest() if old else None,
            "reason": reason}, con)
    return Transcribed(sha, page, len(lines), len(old))


def lines_of(con: Connection, sha: str) -> list[dict[str, object]]:
    """Every stored line of a content, transcriptions last, in page and line order."""
    order = {"text": 0, "ocr": 1, "transcription": 2}
    rows = con.execute(select(S.text_lines).where(S.text_lines.c.sha256 == sha)
                       .order_by(S.text_lines.c.page, S.text_lines.c.line_no, S.text_lines.c.id)).mappings()
    out = [dict(r) for r in rows]
    out.sort(key=lambda r: (order.get(str(r["origin"]), 9), str(r["by"]), int(str(r["page"])),
                            int(str(r["line_no"]))))
    return out
