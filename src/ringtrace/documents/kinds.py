"""What kind of document a content is, from its bytes alone (never its name): PDF, DOCX, ODT, RTF or plain text.

PDF: ``%PDF-`` in the first KiB (readers accept junk before it, so hostile files put some there).
DOCX: a zip holding ``[Content_Types].xml`` and ``word/document.xml`` (OOXML, ECMA-376 Part 2).
ODT: a zip whose first member ``mimetype`` says ``application/vnd.oasis.opendocument.text`` (ODF 1.2 Part 3,
section 3.3), also accepted anywhere in the member list.
RTF: ``{\\rtf`` at the start. Plain text: decodes as UTF-8/UTF-16 (BOM) or is printable single-byte text,
with no NUL and few control characters, and is not markup or JSON (those are some format's, or nobody's).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

DOCUMENT_KINDS = ("pdf", "docx", "odt", "rtf", "text")
ODT_MIME = b"application/vnd.oasis.opendocument.text"
ZIP_MAGIC = b"PK\x03\x04"


def document_kind(head: bytes, path: Path | None = None) -> str | None:
    """The document kind of a content whose first bytes are ``head`` (``path`` lets a zip's directory be read),
    or None. ``text`` is only a guess from the head; the caller decides where plain text counts."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(head, path)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"{\\rtf":
        return "rtf"
    return "text" if looks_like_text(head) else None


def _zip_kind(head: bytes, path: Path | None) -> str | None:
    if head[30:38] == b"mimetype" and head[38:38 + len(ODT_MIME)] == ODT_MIME:
        return "odt"
    if path is None:
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist()[:100_000])
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return "docx"
            if "mimetype" in names and "content.xml" in names:
                info = zf.getinfo("mimetype")
                if info.file_size <= 200 and zf.read(info).strip() == ODT_MIME:
                    return "odt"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, NotImplementedError):
        # a damaged zip (its directory cut off): the local headers in the head still name the parts, so the
        # document is recognised and its failure reported instead of it going unnoticed
        if b"word/document.xml" in head or b"[Content_Types].xml" in head and b"word/" in head:
            return "docx"
        return None
    return None


def decode_text(data: bytes) -> str:
    """Plain text as a reader would show it: a BOM decides (UTF-8, UTF-16), else UTF-8, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def looks_like_text(head: bytes) -> bool:
    if not head.strip():
        return False
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = head.decode("utf-16", errors="replace").encode("utf-8")
    elif b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the head
            text = head[: exc.start].decode("utf-8")
        else:
            text = head.decode("cp1252", errors="replace")
    body = text.lstrip("\ufeff \t\r\n")
    if not body or body[0] in "{[<":  # JSON, XML, HTML: structured data, not a document
        return False
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    odd = controls + text.count("\ufffd")
    letters = sum(1 for ch in text if ch.isalpha())
    return odd <= len(text) // 100 and letters >= max(1, len(text) // 5)
