"""ACHE focused-crawler output, JSON-lines (``FILES`` data format, ``TargetModelJson``).

One JSON object per line: ``url``, ``redirected_url``, ``content`` (the body, base64 as Jackson writes
``byte[]``), ``content_type``, ``response_headers``, ``fetch_time`` (epoch milliseconds), ``crawler_id``;
older files carry the body as text in ``response_body``. camelCase spellings are accepted too. Lines are read
bounded; a bad line gives a Problem and the next line is read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ringtrace.indicators.capture import MAX_PAGE_BYTES, page_records
from ringtrace.model import Problem, Prov, ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register

MAX_LINE_BYTES = MAX_PAGE_BYTES * 4 // 3 + 64 * 1024  # a base64 body of a full-size page, plus fields
_BODY_KEYS = ("content", "response_body", "responseBody")
_TIME_KEYS = ("fetch_time", "fetchTime")
_TYPE_KEYS = ("content_type", "contentType")


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in obj:
            return obj[k]
    return None


def _is_ache(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("url"), str)
        and any(k in obj for k in _BODY_KEYS)
        and any(k in obj for k in _TIME_KEYS + _TYPE_KEYS + ("crawler_id", "response_headers"))
    )


def _fetch_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and 0 < value < 10**14:
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, tz=UTC)
    return None


def _body(obj: dict[str, Any]) -> bytes | None:
    if "content" in obj and isinstance(obj["content"], str):
        try:
            return base64.b64decode(obj["content"], validate=True)
        except (binascii.Error, ValueError):
            return obj["content"].encode("utf-8", errors="replace")  # some tools write text
    for k in ("response_body", "responseBody"):
        if isinstance(obj.get(k), str):
            return str(obj[k]).encode("utf-8", errors="replace")
    return None


@register
class AcheFormat(SourceFormat):
    name = "ache"
    description = "ACHE crawler JSON-lines (FILES data format)"

    def claim(self, candidate: Candidate) -> int:
        head = candidate.head.lstrip()
        if not head.startswith(b"{"):
            return 0
        first = head.split(b"\n", 1)[0]
        try:
            obj = json.loads(first)
        except ValueError:
            # first line longer than the head: check the field names we can see
            seen = first[:4096]
            return 60 if b'"url"' in seen and (b'"fetch_time"' in seen or b'"content_type"' in seen) else 0
        return 90 if _is_ache(obj) else 0

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        file = unit.primary
        try:
            fh = unit.path.open("rb")
        except OSError as e:
            raise FormatError(f"{file}: cannot open ACHE file: {e}") from e
        with fh:
            lineno = 0
            while True:
                line = fh.readline(MAX_LINE_BYTES + 1)
                if not line:
                    break
                lineno += 1
                prov = Prov(file, "ache", str(lineno), lineno)
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    yield Problem(file, f"line {lineno} longer than {MAX_LINE_BYTES} bytes; skipped", prov)
                    while line and not line.endswith(b"\n"):  # skip the rest of the line, bounded reads
                        line = fh.readline(1 << 20)
                    continue
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    yield Problem(file, f"line {lineno} is not JSON: {e}", prov)
                    continue
                if not _is_ache(obj):
                    yield Problem(file, f"line {lineno} is not an ACHE page record", prov, "warning")
                    continue
                body = _body(obj)
                if body is None:
                    yield Problem(file, f"line {lineno}: no page body", prov, "warning")
                    continue
                url = obj.get("redirected_url") or obj.get("url")
                ctype = _first(obj, _TYPE_KEYS)
                yield from page_records(
                    body[:MAX_PAGE_BYTES],
                    file=file,
                    prov=prov,
                    uri=str(url),
                    captured_at=_fetch_time(_first(obj, _TIME_KEYS)),
                    record_id=str(lineno),
                    content_type=ctype if isinstance(ctype, str) else None,
                    options=options,
                    truncated=len(body) > MAX_PAGE_BYTES,
                )
