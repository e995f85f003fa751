"""Text lines out of documents, with well-kept readers: pypdf (PDF text layers), python-docx (DOCX), odfpy (ODT),
striprtf (RTF); plain text decoded as ``kinds.decode_text`` says.

Pages: PDF pages; DOCX explicit page breaks (``w:br w:type="page"``, ``w:pageBreakBefore``) and
``w:lastRenderedPageBreak`` (where Word last laid a page out); ODT paragraphs whose style breaks before a page and
``text:soft-page-break``; RTF ``\\page``; text form feeds. Table rows are one line, cells joined by a tab.

Hostile input: the file size, pages and characters are bounded (``DocLimits``); zip containers are checked on
their declared sizes before anything is inflated and their XML parts refused if they carry a DTD (entity
expansion); an encrypted PDF is read only if it opens with the empty user password (as viewers do), else it is
a named problem. Nothing in a document is followed: no links, no embedded objects, no external references.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringtrace.documents.kinds import decode_text
from ringtrace.documents.limits import DEFAULT_DOC_LIMITS, DocLimits
from ringtrace.documents.lines import TextLine, number_lines

if TYPE_CHECKING:
    from PIL import Image


class DocumentError(Exception):
    """A document that cannot be read at all; the message says why (the caller names the file)."""


@dataclass
class Extracted:
    lines: list[TextLine]
    pages: int  # pages the document has (may exceed those read)
    by: str  # the reader and its version
    problems: list[str] = field(default_factory=list)  # parts not read, while the rest was


def _by(package: str) -> str:
    try:
        return f"{package} {version(package)}"
    except PackageNotFoundError:
        return package


class _Budget:
    """Counts characters and pages as they are read; says what was cut."""

    def __init__(self, limits: DocLimits) -> None:
        self.limits = limits
        self.chars = 0
        self.problems: list[str] = []

    def take(self, text: str) -> str:
        room = self.limits.max_chars - self.chars
        if room <= 0:
            return ""
        if len(text) > room:
            self.problems.append(f"text cut at {self.limits.max_chars} characters")
            text = text[:room]
        self.chars += len(text)
        return text

    @property
    def full(self) -> bool:
        return self.chars >= self.limits.max_chars

    def pages(self, pages: list[list[str]]) -> list[list[str]]:
        if len(pages) > self.limits.max_pages:
            self.problems.append(f"{len(pages)} pages: only the first {self.limits.max_pages} read")
            return pages[: self.limits.max_pages]
        return pages


def extract_document(path: Path, kind: str, limits: DocLimits = DEFAULT_DOC_LIMITS) -> Extracted:
    """The text lines of the document at ``path`` of ``kind`` (see ``kinds.document_kind``)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"cannot be read: {exc.strerror or exc}") from exc
    if size > limits.max_file_bytes:
        raise DocumentError(f"{size} bytes: larger than the {limits.max_file_bytes}-byte limit for documents")
    budget = _Budget(limits)
    readers = {"pdf": _pdf, "docx": _docx, "odt": _odt, "rtf": _rtf, "text": _text}
    if kind not in readers:
        raise DocumentError(f"unknown document kind {kind!r}")
    pages, total, by = readers[kind](path, budget)
    pages = budget.pages(pages)
    return Extracted(number_lines(pages, limits.max_line_chars), total, by, budget.problems)


# ---- PDF ------------------------------------------------------------------------------------------------


def _pdf(path: Path, budget: _Budget) -> tuple[list[list[str]], int, str]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (NotImplementedError, PdfReadError, ValueError) as exc:
                raise DocumentError(f"encrypted PDF ({exc}): not read") from exc
            if not ok:
                raise DocumentError("encrypted PDF: it needs a password to open; not read")
        total = len(reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, FileNotDecryptedError, OSError, ValueError, KeyError, TypeError, AttributeError,
            RecursionError, IndexError) as exc:
        raise DocumentError(f"not a readable PDF: {type(exc).__name__}: {exc}") from exc
    pages: list[list[str]] = []
    for i in range(min(total, budget.limits.max_pages)):
        if budget.full:
            pages.append([])
            continue
        try:
            text = reader.pages[i].extract_text() or ""
        except Exception as exc:  # noqa: BLE001  # pypdf raises many kinds on hostile pages; one page, not the file
            budget.problems.append(f"page {i + 1}: text not read ({type(exc).__name__}: {exc})")
            text = ""
        pages.append(budget.take(text).splitlines())
    if total > budget.limits.max_pages:
        budget.problems.append(f"{total} pages: only the first {budget.limits.max_pages} read")
    return pages, total, _by("pypdf")


@dataclass(frozen=True)
class PagePhoto:
    """A picture embedded in a PDF page, large enough to be a photo or scan of paper."""

    page: int  # 1-based
    name: str  # the image XObject's name in the page's resources (``/Im3``)
    width: int
    height: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.width}x{self.height})"


def page_photos(path: Path, pages: list[int], limits: DocLimits = DEFAULT_DOC_LIMITS,
                ) -> tuple[list[PagePhoto], list[str]]:
    """The pictures on ``pages`` (1-based) of the PDF at ``path`` that may be photos of paper: image XObjects of
    the page's own resources at least ``min_photo_side`` on each side and ``min_photo_pixels`` in all, judged on
    their declared size (nothing is decoded here). At most ``max_pdf_photos``; one over ``max_ocr_pixels`` is
    left out. Returns them and the problems (what was left out and why)."""
    from pypdf import PdfReader

    problems: list[str] = []
    found: list[PagePhoto] = []
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return [], []
        total = len(reader.pages)
    except Exception as exc:  # noqa: BLE001  # the text layer opened it; a failure here leaves the photos unread
        return [], [f"pictures not listed: {type(exc).__name__}: {exc}"]
    for p in pages:
        if not 1 <= p <= min(total, limits.max_pages):
            continue
        try:
            res = reader.pages[p - 1].get("/Resources")
            xobjects = res.get_object().get("/XObject") if res is not None else None
            items = list(xobjects.get_object().items()) if xobjects is not None else []
        except Exception as exc:  # noqa: BLE001  # a hostile page's resources: that page's pictures unread
            problems.append(f"page {p}: pictures not listed ({type(exc).__name__}: {exc})")
            continue
        for name, ref in items[:1000]:
            try:
                obj = ref.get_object()
                if obj.get("/Subtype") != "/Image":
                    continue
                w, h = int(obj.get("/Width", 0)), int(obj.get("/Height", 0))
            except Exception:  # noqa: BLE001, S112  # a broken picture object is no photo of paper
                continue
            if min(w, h) < limits.min_photo_side or w * h < limits.min_photo_pixels:
                continue
            if w * h > limits.max_ocr_pixels:
                problems.append(f"page {p}: picture {name} of {w}x{h} pixels is larger than the "
                                f"{limits.max_ocr_pixels}-pixel OCR limit: not read")
                continue
            if len(found) >= limits.max_pdf_photos:
                problems.append(f"more than {limits.max_pdf_photos} photos on pages with text: only the first "
                                f"{limits.max_pdf_photos} read")
                return found, problems
            found.append(PagePhoto(p, str(name), w, h))
    return found, problems


def photo_image(path: Path, photo: PagePhoto) -> Image.Image:
    """The picture ``photo`` decoded (pypdf's filters, Pillow), as RGB; DocumentError says why not."""
    from PIL import Image as PILImage
    from pypdf import PdfReader

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        page = reader.pages[photo.page - 1]
        xobj: Any = page["/Resources"].get_object()["/XObject"].get_object()[photo.name].get_object()  # type: ignore[index]
        w, h = int(xobj["/Width"]), int(xobj["/Height"])
        if (w, h) != (photo.width, photo.height):
            raise DocumentError(f"page {photo.page}: picture {photo.name} changed size")
        img = page.images[photo.name].image  # pypdf's filters, then Pillow (its decompression-bomb guard too)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001  # any filter or decoder error of a hostile picture
        raise DocumentError(f"page {photo.page}: picture {photo.name} not decoded: {type(exc).__name__}: {exc}") \
            from exc
    if not isinstance(img, PILImage.Image) or img.width * img.height > photo.width * photo.height:
        raise DocumentError(f"page {photo.page}: picture {photo.name} not decoded to its declared size")
    return img.convert("RGB") if img.mode != "RGB" else img


# ---- zip containers -------------------------------------------------------------------------------------


def _check_zip(path: Path, text_part: str, limits: DocLimits) -> bytes:
    """Refuses a zip bomb on the declared sizes, then returns the text part's bytes, refused if it has a DTD."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_zip_members:
                raise DocumentError(f"zip of {len(infos)} members: more than {limits.max_zip_members}")
            total = sum(i.file_size for i in infos)
            if total > limits.max_zip_total:
                raise DocumentError(f"zip inflates to {total} bytes: more than {limits.max_zip_total}")
            for i in infos:
                if i.file_size > 1024 * 1024 and i.file_size > limits.max_zip_ratio * max(1, i.compress_size):
                    raise DocumentError(f"zip member {i.filename!r} inflates {i.file_size // max(1, i.compress_size)}"
                                        f"-fold: a zip bomb; not read")
            info = zf.getinfo(text_part)
            if info.file_size > limits.max_xml_part:
                raise DocumentError(f"{text_part} is {info.file_size} bytes: more than {limits.max_xml_part}")
            data = zf.read(info)
    except DocumentError:
        raise
    except KeyError as exc:
        raise DocumentError(f"no {text_part} in the zip") from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise DocumentError(f"not a readable zip: {type(exc).__name__}: {exc}") from exc
    try:
        fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise DocumentError(f"{text_part} declares a DTD or entities ({type(exc).__name__}): refused") from exc
    except Exception as exc:  # noqa: BLE001  # ParseError and expat's own: malformed XML, whatever the kind
        raise DocumentError(f"{text_part} is not well-formed XML: {exc}") from exc
    return data


def _docx(path: Path, budget: _Budget) -> tuple[list[list[str]], int, str]:
    import docx
    from docx.oxml.ns import qn

    _check_zip(path, "word/document.xml", budget.limits)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001  # python-docx surfaces lxml, zip and KeyError alike
        raise DocumentError(f"not a readable DOCX: {type(exc).__name__}: {exc}") from exc
    pages: list[list[str]] = [[]]
    br, typ = qn("w:br"), qn("w:type")
    rendered, before, para, tbl, tr, tc = (qn("w:lastRenderedPageBreak"), qn("w:pageBreakBefore"), qn("w:p"),
                                           qn("w:tbl"), qn("w:tr"), qn("w:tc"))
    text_tags = {qn("w:t"): None, qn("w:tab"): "\t", qn("w:cr"): "\n", br: "\n"}

    def para_text(p: object) -> tuple[list[str], bool]:
        """A paragraph's lines, split at page breaks inside it: [before, after, ...], and a break before it."""
        parts = [""]
        brk = any(el.tag == before for el in p.iter(before))  # type: ignore[attr-defined]
        for el in p.iter():  # type: ignore[attr-defined]
            if el.tag == br and el.get(typ) == "page" or el.tag == rendered and parts[-1]:
                parts.append("")
            elif el.tag == rendered and len(parts) == 1:
                brk = True
            elif el.tag in text_tags:
                t = text_tags[el.tag]
                parts[-1] += (el.text or "") if t is None else t
        return parts, brk

    def add(parts: list[str], brk: bool) -> None:
        if brk and any(pages[-1]):
            pages.append([])
        for k, s in enumerate(parts):
            if k:
                pages.append([])
            pages[-1].extend(budget.take(s).split("\n"))

    for child in document.element.body.iterchildren():
        if budget.full or len(pages) > budget.limits.max_pages:
            break
        if child.tag == para:
            add(*para_text(child))
        elif child.tag == tbl:
            for row in child.iter(tr):
                cells = [" ".join(t for p in c.iter(para) for t in para_text(p)[0]) for c in row.iter(tc)]
                add(["\t".join(cells)], False)
    return pages, len(pages), _by("python-docx")


def _odt(path: Path, budget: _Budget) -> tuple[list[list[str]], int, str]:
    from odf import opendocument, teletype
    from odf.namespaces import TEXTNS
    from odf.style import ParagraphProperties, Style
    from odf.text import H, P

    data = _check_zip(path, "content.xml", budget.limits)
    del data
    try:
        doc = opendocument.load(str(path))
    except Exception as exc:  # noqa: BLE001  # odfpy raises what its SAX parser and zipfile raise
        raise DocumentError(f"not a readable ODT: {type(exc).__name__}: {exc}") from exc
    breaking: set[str] = set()
    for st in doc.automaticstyles.getElementsByType(Style) + doc.styles.getElementsByType(Style):
        for pp in st.getElementsByType(ParagraphProperties):
            if pp.getAttribute("breakbefore") == "page":
                breaking.add(st.getAttribute("name"))
    pages: list[list[str]] = [[]]
    soft = (TEXTNS, "soft-page-break")
    wanted = {P().qname, H(outlinelevel=1).qname, soft}

    def walk(node: object) -> None:
        for child in getattr(node, "childNodes", []):
            if budget.full or len(pages) > budget.limits.max_pages:
                return
            q = getattr(child, "qname", None)
            if q == soft:
                if any(pages[-1]):
                    pages.append([])
            elif q in wanted:
                if child.getAttribute("stylename") in breaking and any(pages[-1]):
                    pages.append([])
                walk_soft(child)
                pages[-1].extend(budget.take(teletype.extractText(child)).split("\n"))
            else:
                walk(child)

    def walk_soft(p: object) -> None:  # a soft page break inside a paragraph starts the page with it
        if any(getattr(c, "qname", None) == soft for c in getattr(p, "childNodes", [])) and any(pages[-1]):
            pages.append([])

    walk(doc.text)
    return pages, len(pages), _by("odfpy")


# ---- RTF and plain text ---------------------------------------------------------------------------------

_RTF_PAGE = re.compile(rb"\\page(?![a-z])")
_FF = "\x0c"


def _rtf(path: Path, budget: _Budget) -> tuple[list[list[str]], int, str]:
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes()
    # striprtf turns \page into blank lines; a form feed marks it instead (an RTF control word, not text)
    marked = _RTF_PAGE.sub(rb"\\par \\'0c", raw)
    try:
        text: str = rtf_to_text(marked.decode("latin-1"), errors="replace")  # type: ignore[no-untyped-call]
    except Exception as exc:  # noqa: BLE001  # striprtf raises on odd input with whatever the regex gives
        raise DocumentError(f"not a readable RTF: {type(exc).__name__}: {exc}") from exc
    text = budget.take(text)
    return [p.splitlines() for p in text.split(_FF)], text.count(_FF) + 1, _by("striprtf")


def _text(path: Path, budget: _Budget) -> tuple[list[list[str]], int, str]:
    with path.open("rb") as fh:
        data = fh.read(budget.limits.max_chars * 4 + 4)
    text = budget.take(decode_text(data))
    return [p.splitlines() for p in text.split(_FF)], text.count(_FF) + 1, "ringtrace text"

