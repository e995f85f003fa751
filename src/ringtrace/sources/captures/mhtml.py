"""MHTML captures (RFC 2557 ``multipart/related``), as Hunchly and Chromium ("Saved by Blink") write them.

Parsed with the standard library's ``email`` parser (policy ``default``), which undoes quoted-printable and
base64 transfer encodings. HTML and text parts become pages; image and video parts become ``MediaFile``s
(``path = "<file>#<part index>"``). The file is read whole, so it is bounded (``MAX_MHTML_BYTES``).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from ringtrace.indicators.capture import MAX_MEDIA_BYTES, MAX_PAGE_BYTES, page_records
from ringtrace.model import MediaFile, Problem, Prov, ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register

MAX_MHTML_BYTES = 512 * 1024 * 1024
_MULTIPART = re.compile(rb"^content-type:\s{0,8}multipart/related", re.I | re.M)
_MIME_VERSION = re.compile(rb"^mime-version:\s{0,8}1\.0", re.I | re.M)
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,64}:", re.M)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@register
class MhtmlFormat(SourceFormat):
    name = "mhtml"
    description = "MHTML page captures (Hunchly, Chromium 'Saved by Blink')"

    def claim(self, candidate: Candidate) -> int:
        head = candidate.head[:16384]
        # headers first: the top of the file must look like a MIME header block
        if not _HEADER_LINE.match(head.lstrip()):
            return 0
        header_block = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        if _MIME_VERSION.search(header_block) and _MULTIPART.search(header_block):
            return 90
        return 0

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        file = unit.primary
        try:
            size = unit.path.stat().st_size
            if size > MAX_MHTML_BYTES:
                raise FormatError(
                    f"{file}: MHTML file of {size} bytes is over the {MAX_MHTML_BYTES} byte limit"
                )
            with unit.path.open("rb") as fh:
                msg = BytesParser(policy=policy.default).parse(fh)
        except OSError as e:
            raise FormatError(f"{file}: cannot read MHTML: {e}") from e
        if not isinstance(msg, EmailMessage) or not msg.is_multipart():
            raise FormatError(f"{file}: not a multipart MHTML document")
        for d in msg.defects:
            yield Problem(file, f"MHTML header defect: {type(d).__name__}", Prov(file, "mhtml"), "warning")
        top_uri = str(msg.get("Snapshot-Content-Location") or "") or None
        at = _date(str(msg.get("Date") or "") or None)
        title = str(msg.get("Subject") or "") or None
        first_page = True
        for index, part in enumerate(msg.walk()):
            if part.is_multipart():
                continue
            prov = Prov(file, "mhtml part", str(index))
            ctype = part.get_content_type()
            loc = str(part.get("Content-Location") or "") or None
            try:
                payload = part.get_payload(decode=True)
            except (ValueError, LookupError, AssertionError) as e:
                yield Problem(file, f"cannot decode part {index} ({ctype}): {e}", prov)
                continue
            if not isinstance(payload, bytes):
                yield Problem(file, f"part {index} ({ctype}) has no payload", prov, "warning")
                continue
            for d in getattr(part, "defects", []):
                yield Problem(file, f"part {index}: {type(d).__name__}", prov, "warning")
            if ctype.startswith(("image/", "video/")):
                if len(payload) > MAX_MEDIA_BYTES:
                    yield Problem(
                        file, f"part {index} ({ctype}) over {MAX_MEDIA_BYTES} bytes; skipped", prov, "warning"
                    )
                    continue
                yield MediaFile(path=f"{file}#{index}", prov=prov, size=len(payload), content=payload,
                                origin_uri=loc)
                continue
            if not (ctype.startswith("text/") or "xml" in ctype):
                continue
            if ctype == "text/css":
                continue
            charset = part.get_content_charset()
            full_type = ctype + (f"; charset={charset}" if charset else "")
            yield from page_records(
                payload[:MAX_PAGE_BYTES],
                file=file,
                prov=prov,
                uri=loc or top_uri,
                captured_at=at,
                record_id=str(part.get("Content-ID") or "") or None,
                content_type=full_type,
                options=options,
                truncated=len(payload) > MAX_PAGE_BYTES,
                title=title if first_page else None,
            )
            first_page = False
