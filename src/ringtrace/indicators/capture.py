"""Shared by the capture formats (WARC, MHTML, saved HTML, ACHE, text dumps): one captured body in, ``Page``,
``Indicator`` and ``Problem`` records out.

Bodies are bounded by the caller (read at most ``MAX_PAGE_BYTES + 1``); charset trouble never stops a page:
we try the declared charset, then UTF-8, then fall back with ``errors='replace'`` and record a warning.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from ringtrace.indicators.extract import Found, extract_indicators
from ringtrace.indicators.normalize import html_text
from ringtrace.model import Indicator, Page, Problem, Prov, ReadOptions, Record

MAX_PAGE_BYTES = 20 * 1024 * 1024  # page text beyond this is cut (with a Problem)
MAX_MEDIA_BYTES = 50 * 1024 * 1024  # embedded images beyond this are skipped (with a Problem)

_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s{0,3}=\s{0,3}[\"']?([A-Za-z0-9_.:-]{1,40})", re.I)
_XML_ENCODING = re.compile(rb"<\?xml[^>]{0,100}?encoding\s{0,3}=\s{0,3}[\"']([A-Za-z0-9_.:-]{1,40})", re.I)
_CT_CHARSET = re.compile(r"charset\s{0,3}=\s{0,3}[\"']?([A-Za-z0-9_.:-]{1,40})", re.I)
_HTML_START = re.compile(
    rb"^\s{0,512}(?:<!--.{0,2000}?-->\s{0,64})?<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_LANG_REGION = re.compile(r"^[A-Za-z]{2,3}[-_]([A-Za-z]{2})\b")

MAX_RESOURCES = 500  # image/media URLs kept per page
MAX_RESOURCE_URL = 4096
# a page without ``<img``/``<source``/``<video`` or ``url(`` (any case) has no resources: spelled out so the regex
# engine can scan fast (re.I has no fast scan); 'İ', 'ı' and 'ſ' are what re.I also takes for i and s
_RESOURCE_TAG_HINT = re.compile(
    r"<(?:[iI\u0130\u0131][mM][gG]|[sS\u017f][oO][uU][rR][cC][eE]|[vV][iI\u0130\u0131][dD][eE][oO])\b"
)
_RESOURCE_URL_HINT = re.compile(r"[uU][rR][lL]\s{0,3}\(")
_CSS_URL = re.compile(r"url\s{0,3}\(\s{0,3}['\"]?([^'\"()\s]{1,4096})['\"]?\s{0,3}\)", re.I)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,15}):")
_RESOURCE_SELECTOR = "img, source, video, [style]"


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CT_CHARSET.search(content_type)
    return m.group(1) if m else None


def sniff_charset(body: bytes) -> str | None:
    head = body[:4096]
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return m.group(1).decode("ascii") if m else None


def looks_binary(body: bytes) -> bool:
    """True for bodies that are not text in any charset we would decode (NULs, many control bytes)."""
    head = body[:8192]
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    ctrl = len(head) - len(head.translate(None, _CONTROL_BYTES))  # counted in C, not byte by byte
    return ctrl > len(head) // 10


_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])


def looks_html(body: bytes, content_type: str | None = None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    return bool(_HTML_START.match(body[:4096].lstrip(codecs.BOM_UTF8)))


def _charsets(declared: str | None, body: bytes) -> Iterator[str | None]:
    """The charsets to try, in order; the body is sniffed only when the declared one did not do."""
    yield declared
    yield sniff_charset(body)
    yield "utf-8"


def decode_body(body: bytes, declared: str | None, file: str, prov: Prov) -> tuple[str, list[Problem]]:
    """Text of a body. Declared charset first (HTTP header or meta), then UTF-8; else replace errors."""
    problems: list[Problem] = []
    tried: list[str] = []
    for cs in _charsets(declared, body):
        if not cs or cs.lower() in tried:
            continue
        tried.append(cs.lower())
        try:
            codecs.lookup(cs)
        except LookupError:
            problems.append(Problem(file, f"unknown charset {cs!r}; ignored", prov, "warning"))
            continue
        try:
            text = body.decode(cs)
        except UnicodeDecodeError as e:
            if cs == declared:
                problems.append(
                    Problem(
                        file,
                        f"body is not valid {cs} as declared ({e.reason} at byte {e.start})",
                        prov,
                        "warning",
                    )
                )
            continue
        return text.lstrip("\ufeff"), problems
    fallback = declared if declared and declared.lower() in tried and declared.lower() != "utf-8" else "utf-8"
    problems.append(Problem(file, f"body decoded as {fallback} with replacement characters", prov, "warning"))
    try:
        return body.decode(fallback, errors="replace"), problems
    except LookupError:
        return body.decode("utf-8", errors="replace"), problems


def region_for(language: str | None, options: ReadOptions) -> str | None:
    """Phone region for national numbers: the examiner's --region, else a region in the page's declared
    language tag (``es-MX``); else None (then only '+' international numbers are taken)."""
    if options.region:
        return options.region.upper()
    if language:
        m = _LANG_REGION.match(language.strip())
        if m:
            return m.group(1).upper()
    return None


def indicator_from(found: Found, prov: Prov, page_uri: str | None, at: datetime | None) -> Indicator:
    return Indicator(
        kind=found.kind,
        value=found.value,
        raw=found.raw[:500],
        context=found.context,
        prov=prov,
        page_uri=page_uri,
        platform=found.platform,
        code=found.code,
        secret=found.secret,
        at=at,
    )


def _absolute(value: str, base: str | None) -> str | None:
    value = value.strip()
    if not value or len(value) > MAX_RESOURCE_URL:
        return None
    m = _SCHEME.match(value)
    if m:
        # inline data and scripts are not resources fetched from anywhere
        return value if m.group(1).lower() in ("http", "https", "ftp", "file") else None
    if not base:
        return value  # relative, and nothing to resolve it against: kept as written
    try:
        return urljoin(base, value)
    except ValueError:
        return None


def _may_have_resources(doc: str) -> bool:
    """The hints: an image/media tag or ``url(``; "url" in the lower-cased copy is necessary for the second (and
    found in C: the pattern's character classes scan slowly)."""
    if _RESOURCE_TAG_HINT.search(doc):
        return True
    return "url" in doc.lower() and _RESOURCE_URL_HINT.search(doc) is not None


def page_resources(doc: str, base_uri: str | None) -> tuple[str, ...]:
    """Absolute URLs of the images and media an HTML page references: ``img src``/``srcset``, ``source``,
    ``video poster`` and CSS ``url()`` in style attributes; resolved against ``<base href>`` or the page URI;
    at most ``MAX_RESOURCES``, in document order, without repeats. Nothing is fetched."""
    if not _may_have_resources(doc):
        return ()  # most pages hold no image tags: skip the second parse
    tree = LexborHTMLParser(doc)
    base = base_uri
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        href = base_node.attributes.get("href") or ""
        base = _absolute(href, base_uri) or base_uri
    out: dict[str, None] = {}

    def add(value: str | None) -> None:
        if value and len(out) < MAX_RESOURCES:
            url = _absolute(value, base)
            if url:
                out.setdefault(url, None)

    for node in tree.css(_RESOURCE_SELECTOR):
        if len(out) >= MAX_RESOURCES:
            break
        attrs = node.attributes
        tag = node.tag
        if tag in ("img", "source"):
            add(attrs.get("src"))
            srcset = attrs.get("srcset") or ""
            for cand in srcset[:MAX_RESOURCE_URL * 4].split(","):
                parts = cand.split()
                add(parts[0] if parts else None)
        elif tag == "video":
            add(attrs.get("poster"))
            add(attrs.get("src"))
        style = attrs.get("style") or ""
        if "url" in style.lower():
            for m in _CSS_URL.finditer(style[: MAX_RESOURCE_URL * 8]):
                add(m.group(1))
    return tuple(out)


class LineIndex:
    """1-based line numbers for offsets of one text."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._first = first_line

    def line(self, offset: int) -> int:
        return bisect_right(self._starts, offset) - 1 + self._first


def page_records(
    body: bytes,
    *,
    file: str,
    prov: Prov,
    uri: str | None,
    captured_at: datetime | None,
    record_id: str | None,
    content_type: str | None,
    options: ReadOptions,
    truncated: bool = False,
    title: str | None = None,
    text_lines: bool = False,
) -> Iterator[Record]:
    """Page + indicators of one captured body. ``truncated``: the caller cut the body at MAX_PAGE_BYTES."""
    if truncated:
        yield Problem(
            file, f"page text cut at {MAX_PAGE_BYTES} bytes; the rest was not searched", prov, "warning"
        )
    if looks_binary(body):
        yield Page(uri, captured_at, record_id, title, prov, content_type, None)
        yield Problem(
            file, f"body of {uri or record_id or 'page'} is binary, not text; not searched", prov, "warning"
        )
        return
    text, problems = decode_body(body, charset_from_content_type(content_type), file, prov)
    yield from problems
    language: str | None = None
    resources: tuple[str, ...] = ()
    is_html = looks_html(body, content_type)
    if is_html:
        ht = html_text(text, base_uri=uri)
        search, visible_end = ht.text, ht.visible_end
        title = title or ht.title
        language = ht.language
        resources = page_resources(text, uri)
    else:
        search, visible_end = text, len(text)
    mime = content_type.split(";")[0].strip().lower() if content_type else ("text/html" if is_html else None)
    yield Page(uri, captured_at, record_id, title, prov, mime, language, resources)
    lines = LineIndex(search) if text_lines and not is_html else None
    seen: set[tuple[str, str]] = set()
    for f in extract_indicators(search, region=region_for(language, options)):
        key = (f.kind, f.value)
        # attributes and scripts repeat what the visible text shows (<a href=X>X</a>): count them once
        if f.start >= visible_end and key in seen:
            continue
        seen.add(key)
        p = Prov(prov.file, prov.table, prov.row, lines.line(f.start)) if lines else prov
        yield indicator_from(f, p, uri, captured_at)
