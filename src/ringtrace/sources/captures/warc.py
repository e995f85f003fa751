"""WARC captures (ISO 28500): plain, per-record gzip, or whole-file gzip, read with warcio.

Well-formed records (the common case) are parsed by ``_fast_records`` without warcio's per-line reader; from the
first record it cannot take exactly as warcio would, warcio reads the rest of the file as before.

Hostile-input handling: gzip members are decompressed by our own reader (``_GzipStream``) so a corrupt member
is skipped (resync at the next gzip magic) and a truncated last member ends the file with a Problem; a
malformed record makes warcio fail, and we resync on the next ``WARC/1.`` line. Either way every record read
before and after the damage is kept. Payloads are read bounded (page text, media size limits).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataException
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from ringtrace.indicators.capture import MAX_MEDIA_BYTES, MAX_PAGE_BYTES, indicator_from, page_records
from ringtrace.indicators.extract import extract_indicators
from ringtrace.model import MediaFile, Page, Problem, Prov, ReadOptions, Record
from ringtrace.sources.base import Candidate, FormatError, SourceFormat, Unit, register

GZIP_MAGIC = b"\x1f\x8b\x08"
MAX_RESYNCS = 10_000
_MEMBER_BUFFER = 8 * 1024 * 1024  # per-record members are held whole (so a corrupt one can be dropped)
_READ_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    ValueError,
    ChunkedDataException,
    ArchiveLoadFailed,
    StatusAndHeadersParserException,
)
_MEDIA_PREFIXES = ("image/", "video/")
_TEXT_HINTS = ("html", "text/", "xml", "json", "javascript")


def parse_warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class _GzipStream:
    """A read-only stream of the decompressed content of a (multi-member) gzip file that survives damage."""

    def __init__(self, raw: IO[bytes], file: str) -> None:
        self.raw = raw
        self.file = file
        self.problems: list[Problem] = []
        self._out = bytearray()
        self._member = bytearray()  # output of the current member not yet released
        self._released = False  # part of the current member already went out (streaming a big member)
        self._d = zlib.decompressobj(31)
        self._member_start = 0
        self._pending = b""
        self._pending_pos = 0  # raw offset of _pending[0]
        self._eof = False
        self._pos = 0
        self._resyncs = 0

    def tell(self) -> int:
        return self._pos

    def _resync(self, after: int) -> None:
        """Continue at the next gzip magic after raw offset ``after``."""
        self._resyncs += 1
        self._d = zlib.decompressobj(31)
        self._member.clear()
        self._released = False
        self._pending = b""
        if self._resyncs > MAX_RESYNCS:
            self._eof = True
            return
        pos = after
        self.raw.seek(pos)
        tail = b""
        while True:
            chunk = self.raw.read(1 << 20)
            if not chunk:
                self._eof = True
                return
            buf = tail + chunk
            i = buf.find(GZIP_MAGIC)
            if i >= 0:
                start = pos - len(tail) + i
                self._member_start = start
                self._pending = buf[i:]
                self._pending_pos = start
                return
            tail = buf[-2:]
            pos += len(chunk)

    def _fill(self) -> None:
        if not self._pending:
            self._pending_pos = self.raw.tell()
            self._pending = self.raw.read(1 << 16)
            if not self._pending:
                if self._member or self._released or self._d.unconsumed_tail:
                    self.problems.append(
                        Problem(
                            self.file,
                            f"truncated gzip member at offset {self._member_start}; "
                            f"kept what could be decompressed",
                            Prov(self.file, "warc"),
                        )
                    )
                    self._out += self._member
                    self._member.clear()
                self._eof = True
                return
        data = self._pending
        try:
            chunk = self._d.decompress(data)
        except zlib.error as e:
            self.problems.append(
                Problem(
                    self.file,
                    f"corrupt gzip member at offset {self._member_start} ({e}); skipped to the next member",
                    Prov(self.file, "warc"),
                )
            )
            if self._released:
                self._out += b"\r\n\r\n"
            self._resync(self._member_start + 1)
            return
        self._member += chunk
        if self._d.eof:
            unused = self._d.unused_data
            consumed = len(data) - len(unused)
            self._out += self._member
            self._member.clear()
            self._released = False
            self._member_start = self._pending_pos + consumed
            self._pending = unused
            self._pending_pos = self._member_start
            self._d = zlib.decompressobj(31)
            # skip padding between members (some writers add NULs)
            if self._pending and not self._pending.startswith(b"\x1f"):
                self._resync(self._member_start)
        else:
            self._pending = b""
            if len(self._member) > _MEMBER_BUFFER:
                self._out += self._member
                self._member.clear()
                self._released = True

    def read(self, n: int = -1) -> bytes:
        want = n if n is not None and n >= 0 else 1 << 30
        while len(self._out) < want and not self._eof:
            self._fill()
        out = bytes(self._out[:want])
        del self._out[:want]
        self._pos += len(out)
        return out


class _Pushback:
    """A stream with data pushed back in front, and a forward scan to the next ``WARC/1.`` line."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.front = b""
        self._pos = 0

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if self.front:
            if n is None or n < 0:
                out = self.front + self.inner.read()
                self.front = b""
            else:
                out, self.front = self.front[:n], self.front[n:]
        else:
            out = self.inner.read(n)
        self._pos += len(out)
        return bytes(out)

    def push(self, data: bytes) -> None:
        self.front = data + self.front

    def unread(self, data: bytes) -> None:
        """Give back data read but not used: the next read starts with it, and ``tell`` is where it starts."""
        self.push(data)
        self._pos -= len(data)

    def skip_to_record(self) -> bool:
        """Drop bytes up to the next line starting with ``WARC/1.``; False at end of data."""
        buf = self.front[1:] if self.front else b""  # always advance past the failed position
        self.front = b""
        while True:
            i = buf.find(b"\nWARC/1.")
            if i >= 0:
                self.front = buf[i + 1 :]
                return True
            more = self.inner.read(1 << 20)
            if not more:
                return False
            buf = buf[-8:] + more


# ---- the fast path -----------------------------------------------------------------------------------------
#
# ``_fast_records`` takes a record only when warcio would read it the same way and nothing in it needs warcio's
# general machinery: a "WARC/1.0" or "WARC/1.1" status line; header lines in ASCII, each ended by CRLF with no other
# CR or LF, none blank or starting with a blank (no continuation lines), each with a colon; a Content-Length of
# digits; the block (at most _FAST_MAX_BLOCK bytes) followed by a blank line; HTTP headers (response, request and
# revisit records with an http(s) target) of the same form ending in a blank line, with no Content-Encoding and no
# Transfer-Encoding (what warcio decodes); a target URI without '<' or spaces (which warcio rewrites). Header
# values are what warcio's parser gives for such lines (the name up to the first colon without trailing blanks,
# the value without surrounding whitespace), looked up the way warcio does (first of that name, any case).

_FAST_CHUNK = 1 << 20
_FAST_MAX_HEAD = 64 * 1024
_FAST_MAX_BLOCK = 8 * 1024 * 1024  # larger blocks are streamed by warcio
_WARC_STATUS = (b"WARC/1.0\r\n", b"WARC/1.1\r\n")
_HTTP_RECORDS = ("response", "request", "revisit")
_BLANK_BYTES = b" \t\n\r\x0b\x0c"  # what bytes.rstrip() strips: warcio's test for a blank line


class _Headers:
    """Header lookup as warcio's ``StatusAndHeaders.get_header``: the first value of a name, in any case."""

    __slots__ = ("_first",)

    def __init__(self, first: dict[str, str]) -> None:
        self._first = first

    def get_header(self, name: str, default_value: str | None = None) -> str | None:
        return self._first.get(name.lower(), default_value)


class _FastRecord:
    __slots__ = ("rec_type", "rec_headers", "http_headers", "_payload")

    def __init__(self, rec_type: str | None, rec_headers: _Headers, http_headers: _Headers | None,
                 payload: bytes) -> None:
        self.rec_type = rec_type
        self.rec_headers = rec_headers
        self.http_headers = http_headers
        self._payload = payload

    def content_stream(self) -> io.BytesIO:
        return io.BytesIO(self._payload)


def _header_lines(head: bytes) -> dict[str, str] | None:
    """Name (lower case) -> first value of CRLF-separated header lines; None unless every line is plain."""
    if not head.isascii() or head.count(b"\n") != head.count(b"\r\n") or head.count(b"\r") != head.count(b"\n"):
        return None
    first: dict[str, str] = {}
    for line in head.decode("ascii").split("\r\n"):
        if not line or line[0].isspace() or ":" not in line:
            return None
        name, _, value = line.rstrip().partition(":")
        first.setdefault(name.rstrip(" \t").lower(), value.lstrip())
    return first


_NEED_MORE = -1
_NOT_FAST = -2


def _parse_fast(buf: bytes, pos: int, at_eof: bool) -> tuple[_FastRecord | None, int]:
    """The record at ``buf[pos:]`` and where the next one starts; or (None, _NEED_MORE) when the buffer ends
    inside it, (None, _NOT_FAST) when it is not one for the fast path."""
    if not buf.startswith(_WARC_STATUS, pos):
        return None, (_NEED_MORE if len(buf) - pos < 10 and not at_eof else _NOT_FAST)
    hend = buf.find(b"\r\n\r\n", pos + 8, pos + _FAST_MAX_HEAD)
    if hend < 0:
        return None, (_NEED_MORE if len(buf) - pos < _FAST_MAX_HEAD and not at_eof else _NOT_FAST)
    rec_first = _header_lines(buf[pos + 10 : hend])
    if rec_first is None:
        return None, _NOT_FAST
    length_text = rec_first.get("content-length")
    if length_text is None or not (length_text.isascii() and length_text.isdigit()):
        return None, _NOT_FAST
    length = int(length_text)
    if length > _FAST_MAX_BLOCK:
        return None, _NOT_FAST
    uri = rec_first.get("warc-target-uri")
    if uri is not None and (uri.startswith("<") or " " in uri):
        return None, _NOT_FAST
    bstart = hend + 4
    bend = bstart + length
    # warcio reads on to the end of the block and then every blank line; the first line after the block must be
    # blank (else warcio counts it into the record, with a warning)
    p = bend
    while True:
        if p - bend > _FAST_MAX_HEAD:
            return None, _NOT_FAST  # a flood of blank lines: warcio streams through it
        nl = buf.find(b"\n", p, p + _FAST_MAX_HEAD)
        if nl < 0:
            if len(buf) - p >= _FAST_MAX_HEAD:
                return None, _NOT_FAST  # a line too long to buffer: warcio streams through it
            if not at_eof:
                return None, _NEED_MORE
            if p == len(buf) and p > bend:
                break
            return None, _NOT_FAST
        if buf[p : nl + 1].rstrip(_BLANK_BYTES):
            if p == bend:
                return None, _NOT_FAST
            break
        p = nl + 1
    rec_type = rec_first.get("warc-type")
    http: _Headers | None = None
    payload_start = bstart
    if length and rec_type in _HTTP_RECORDS:
        if uri is None:
            return None, _NOT_FAST
        if uri.startswith(("http:", "https:")):
            sl_end = buf.find(b"\r\n", bstart, bend)
            hh_end = buf.find(b"\r\n\r\n", bstart, bend)
            if sl_end <= bstart or hh_end < 0:
                return None, _NOT_FAST
            status = buf[bstart:sl_end]
            if not status.isascii() or b"\n" in status or b"\r" in status or not status.rstrip():
                return None, _NOT_FAST
            if hh_end == sl_end:
                http_first: dict[str, str] | None = {}
            else:
                http_first = _header_lines(buf[sl_end + 2 : hh_end])
            if http_first is None or "content-encoding" in http_first or "transfer-encoding" in http_first:
                return None, _NOT_FAST
            http = _Headers(http_first)
            payload_start = hh_end + 4
    return _FastRecord(rec_type, _Headers(rec_first), http, buf[payload_start:bend]), p


def _fast_records(src: _Pushback) -> Iterator[_FastRecord]:
    """The records at the start of ``src`` that the fast path takes; at the first it does not, the data from
    there on is given back to ``src`` (for warcio)."""
    buf = b""
    pos = 0
    at_eof = False
    while True:
        rec, nxt = _parse_fast(buf, pos, at_eof)
        if rec is not None:
            yield rec
            pos = nxt
            continue
        if nxt == _NEED_MORE and not at_eof:
            more = src.read(_FAST_CHUNK)
            at_eof = not more
            buf = buf[pos:] + more
            pos = 0
            continue
        if pos < len(buf):
            src.unread(buf[pos:])
        return


class _RecordUnparsable(ValueError):
    """warcio failed on a record in a way it does not report as a format error (a bug of its own)."""


def _parsed(it: ArchiveIterator) -> Iterator[Any]:
    """warcio's records; its AttributeError or TypeError on a record it cannot take (a response with an HTTP
    payload but no WARC-Target-URI) turned into an error this reader handles like any malformed record. Only the
    iteration is guarded, so a bug of ours in handling a record still shows as one."""
    records = iter(it)
    while True:
        try:
            rec = next(records)
        except StopIteration:
            return
        except (AttributeError, TypeError) as e:
            raise _RecordUnparsable(f"warcio cannot parse this record ({type(e).__name__}: {e})") from e
        yield rec


@register
class WarcFormat(SourceFormat):
    name = "warc"
    description = "WARC web captures (plain or gzip), read with warcio"

    def claim(self, candidate: Candidate) -> int:
        head = candidate.head
        if head.startswith(b"WARC/1."):
            return 100
        if head.startswith(GZIP_MAGIC):
            try:
                inner = zlib.decompressobj(31).decompress(head, 64)
            except zlib.error:
                return 0
            return 100 if inner.startswith(b"WARC/1.") else 0
        return 0

    def read(self, unit: Unit, options: ReadOptions) -> Iterator[Record]:
        file = unit.primary
        try:
            fh = unit.path.open("rb")
        except OSError as e:
            raise FormatError(f"{file}: cannot open WARC file: {e}") from e
        with fh:
            gz = fh.read(3) == GZIP_MAGIC
            fh.seek(0)
            gzs = _GzipStream(fh, file) if gz else None
            src = _Pushback(gzs if gzs is not None else fh)
            fast_any = False
            for fast_rec in _fast_records(src):
                fast_any = True
                yield from self._record(fast_rec, file, options)
                if gzs is not None:
                    yield from gzs.problems
                    gzs.problems.clear()
            resyncs = 0
            while True:
                it = ArchiveIterator(src, check_digests=False, ensure_http_headers=False)
                if fast_any and resyncs == 0:
                    # as the one iterator that would have read the records before has it: WARC, not gzip
                    it.known_format = "warc"
                    it.reader.set_decomp(None)
                try:
                    for rec in _parsed(it):
                        yield from self._record(rec, file, options)
                        if gzs is not None:
                            yield from gzs.problems
                            gzs.problems.clear()
                    break
                except _READ_ERRORS as e:
                    yield Problem(
                        file,
                        f"malformed WARC record near offset {src.tell()}: "
                        f"{str(e).strip()[:200]}; skipped to the next record",
                        Prov(file, "warc"),
                    )
                    reader = it.reader
                    if reader is not None and reader.buff is not None:
                        src.push(reader.buff.read())
                    resyncs += 1
                    if resyncs > MAX_RESYNCS or not src.skip_to_record():
                        break
            if gzs is not None:
                yield from gzs.problems

    def _record(self, rec: Any, file: str, options: ReadOptions) -> Iterator[Record]:
        rtype = rec.rec_type
        h = rec.rec_headers
        rid = h.get_header("WARC-Record-ID")
        uri = h.get_header("WARC-Target-URI")
        at = parse_warc_date(h.get_header("WARC-Date"))
        prov = Prov(file, "warc", rid)
        if rtype in ("warcinfo", "request"):
            return
        if rtype == "revisit":
            yield Page(uri, at, rid, None, prov)
            ref = h.get_header("WARC-Refers-To-Target-URI") or h.get_header("WARC-Payload-Digest") or "?"
            yield Problem(
                file, f"revisit record for {uri}: no payload stored (refers to {ref})", prov, "info"
            )
            return
        if rtype not in ("response", "resource", "metadata", "conversion"):
            return
        if rtype == "response" and rec.http_headers is not None:
            ctype = rec.http_headers.get_header("Content-Type")
        else:
            ctype = h.get_header("Content-Type")
        mime = (ctype or "").split(";")[0].strip().lower()
        if rtype == "response" and "application/http" in mime:
            mime = ""
        limit = MAX_MEDIA_BYTES if mime.startswith(_MEDIA_PREFIXES) else MAX_PAGE_BYTES
        try:
            body = rec.content_stream().read(limit + 1)
        except _READ_ERRORS as e:
            yield Problem(file, f"cannot read payload of {uri}: {e}", prov)
            return
        if mime.startswith(_MEDIA_PREFIXES):
            if len(body) > MAX_MEDIA_BYTES:
                yield Problem(
                    file, f"media {uri} larger than {MAX_MEDIA_BYTES} bytes; skipped", prov, "warning"
                )
                return
            yield MediaFile(path=f"{file}#{rid}", prov=prov, size=len(body), content=body, origin_uri=uri)
            return
        if rtype == "metadata":
            text = body[:MAX_PAGE_BYTES].decode("utf-8", errors="replace")
            for f in extract_indicators(text, region=options.region):
                yield indicator_from(f, prov, uri, at)
            return
        if mime and not any(t in mime for t in _TEXT_HINTS):
            return  # pdf, fonts, archives ...: not a page
        yield from page_records(
            body[:MAX_PAGE_BYTES],
            file=file,
            prov=prov,
            uri=uri,
            captured_at=at,
            record_id=rid,
            content_type=ctype,
            options=options,
            truncated=len(body) > MAX_PAGE_BYTES,
        )
