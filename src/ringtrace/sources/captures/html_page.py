"""Saved HTML pages ("Save page as": ``page.html`` + ``page_files/``; SingleFile; wget mirrors).

Claimed by content (a doctype or an ``<html>``/``<head>`` tag at the top, after an optional comment). The
page's address comes from the "saved from url" mark browsers add, or SingleFile's comment. Images in the
``_files`` folder are ordinary files of the exhibit and are left to the media stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from ringtrace.indicators.capture import MAX_PAGE_BYTES, looks_binary, looks_html, page_records
from ringtrace.model import Prov as _Prov
from ringtrace.model import ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register

_SAVED_FROM = re.compile(rb"<!--\s{0,4}saved from url=\(\d{1,6}\)\s{0,4}([^\s>]{1,4096})\s{0,4}-->", re.I)
_SINGLEFILE_URL = re.compile(rb"^\s{0,8}url:\s{0,8}(\S{1,4096})\s*$", re.M)
_SINGLEFILE_DATE = re.compile(rb"^\s{0,8}saved date:\s{0,8}([^\r\n]{1,100})$", re.M)


def _singlefile_date(raw: bytes) -> datetime | None:
    text = raw.decode("ascii", errors="replace").strip()
    for fmt in ("%a %b %d %Y %H:%M:%S GMT%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text.split(" (")[0], fmt).astimezone(UTC)
        except ValueError:
            continue
    return None


@register
class HtmlPageFormat(SourceFormat):
    name = "html-page"
    description = "Saved HTML pages (browser 'save as', SingleFile)"

    def claim(self, candidate: Candidate) -> int:
        head = candidate.head
        if looks_binary(head):
            return 0
        lowered = head[:2048].lstrip().lower()
        if lowered.startswith(b"<!--") and (_SAVED_FROM.match(lowered) or b"singlefile" in lowered[:512]):
            return 80
        return 40 if looks_html(head) else 0  # generic HTML: app exports (Telegram HTML) should outbid

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        file = unit.primary
        try:
            with unit.path.open("rb") as fh:
                body = fh.read(MAX_PAGE_BYTES + 1)
        except OSError as e:
            raise FormatError(f"{file}: cannot read saved page: {e}") from e
        head = body[:8192]
        uri: str | None = None
        at: datetime | None = None
        m = _SAVED_FROM.search(head)
        if m:
            uri = m.group(1).decode("utf-8", errors="replace")
        elif b"SingleFile" in head:
            mu = _SINGLEFILE_URL.search(head)
            uri = mu.group(1).decode("utf-8", errors="replace") if mu else None
            md = _SINGLEFILE_DATE.search(head)
            at = _singlefile_date(md.group(1)) if md else None
        yield from page_records(
            body[:MAX_PAGE_BYTES],
            file=file,
            prov=_Prov(file),
            uri=uri,
            captured_at=at,
            record_id=None,
            content_type=None,
            options=options,
            truncated=len(body) > MAX_PAGE_BYTES,
        )
