"""Scanned PDFs: pages with no text layer rendered to pictures (poppler's ``pdftoppm``, Debian's poppler-utils) and
OCR'd like pictures of paper (``media.ocr``: Tesseract, and RapidOCR on pages Tesseract is unsure of), each line
keeping its PDF page number and the engine that read it. Pages that have a text layer may hold a photo of paper too
(a report with a photo of a note pasted in): pictures embedded in them that are large enough
(``DocLimits.min_photo_side``, ``min_photo_pixels``; at most ``max_pdf_photos`` a document) are decoded and OCR'd as
they are, their lines keeping page, box (in the picture's pixels) and which picture.

A page counts as having no text when its text layer holds fewer than ``MIN_TEXT_CHARS`` visible characters (a
scanner's stamp or a page number is not the page). Pages are rendered at ``DocLimits.pdf_render_dpi`` (300: what
Tesseract reads best), lower where the page is so large that the picture would pass
``DocLimits.max_render_pixels``; at most ``DocLimits.max_ocr_pdf_pages`` pages of a document are OCR'd and the
whole document gets ``DocLimits.pdf_ocr_total_s`` seconds; ``pdftoppm`` and every Tesseract pass are killed
after ``DocLimits.ocr_timeout_s``. What is cut is said, and what was read is kept: a page that fails is a
problem of its own, the other pages are still read.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image

from ringtrace.documents.limits import DEFAULT_DOC_LIMITS, DocLimits
from ringtrace.documents.lines import TextLine

MIN_TEXT_CHARS = 16  # a text layer with fewer visible characters than this on a page leaves it to OCR


class ScanError(Exception):
    """A scanned document none of whose pages could be rendered or read; the message says why."""


@dataclass
class ScanResult:
    lines: list[TextLine]
    pages_read: list[int]  # PDF pages (1-based) OCR'd
    by: str
    languages: str
    notes: list[str] = field(default_factory=list)  # not fatal: a page turned, unsure orientation
    problems: list[str] = field(default_factory=list)  # pages not read and why, pages left out past a bound
    photo_pages_read: list[int] = field(default_factory=list)  # pages with text whose photos of paper were read


def pdftoppm_path() -> str | None:
    return shutil.which("pdftoppm")


@lru_cache(maxsize=1)
def pdftoppm_version() -> str:
    try:
        out = subprocess.run(["pdftoppm", "-v"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "pdftoppm"
    words = (out.stderr or out.stdout).split()
    return f"pdftoppm {words[2]}" if len(words) > 2 and words[1] == "version" else "pdftoppm"


def pages_without_text(lines: list[TextLine], pages: int) -> list[int]:
    """The pages (1-based, of ``pages``) whose text layer holds fewer than ``MIN_TEXT_CHARS`` visible characters."""
    chars: dict[int, int] = {}
    for ln in lines:
        chars[ln.page] = chars.get(ln.page, 0) + len("".join(ln.text.split()))
    return [p for p in range(1, pages + 1) if chars.get(p, 0) < MIN_TEXT_CHARS]


def render_dpi(width_pt: float, height_pt: float, limits: DocLimits = DEFAULT_DOC_LIMITS) -> float:
    """The resolution a page of this size (PDF points, 1/72 inch) is rendered at: ``pdf_render_dpi`` unless the
    picture would pass ``max_render_pixels``."""
    area_in2 = max(1e-6, abs(width_pt * height_pt)) / (72.0 * 72.0)
    fit = float((limits.max_render_pixels / area_in2) ** 0.5)
    return round(min(float(limits.pdf_render_dpi), fit), 2)


def _page_sizes(path: Path) -> list[tuple[float, float]]:
    from pypdf import PdfReader

    reader = PdfReader(path, strict=False)
    if reader.is_encrypted:
        reader.decrypt("")  # as the text layer was read: only what opens with the empty password gets here
    out = []
    for page in reader.pages:
        try:
            box = page.mediabox
            out.append((float(box.width), float(box.height)))
        except Exception:  # noqa: BLE001  # a hostile page's box: rendered at the default size (A4)
            out.append((595.0, 842.0))
    return out


def render_page(path: Path, page: int, dpi: float, limits: DocLimits = DEFAULT_DOC_LIMITS) -> Image.Image:
    """Page ``page`` (1-based) of the PDF at ``path`` as an RGB picture, by ``pdftoppm``; ``ScanError`` says why not."""
    with tempfile.TemporaryDirectory(prefix="ringtrace-pdfpage-") as tmp:
        root = Path(tmp) / "page"
        cmd = ["pdftoppm", "-f", str(page), "-l", str(page), "-r", f"{dpi:g}", "-singlefile", str(path),
               str(root)]
        try:
            out = subprocess.run(cmd, capture_output=True, timeout=limits.ocr_timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ScanError(f"page {page} not rendered: pdftoppm stopped after {limits.ocr_timeout_s:.0f} s") from exc
        except OSError as exc:
            raise ScanError(f"page {page} not rendered: pdftoppm could not run: {exc}") from exc
        ppm = root.with_suffix(".ppm")
        if out.returncode != 0 or not ppm.is_file():
            why = " ".join(out.stderr.decode("utf-8", "replace").split())[:300] or f"exit status {out.returncode}"
            raise ScanError(f"page {page} not rendered: pdftoppm: {why}")
        with Image.open(ppm) as img:
            img.load()
            return img.convert("RGB") if img.mode != "RGB" else img.copy()


def ocr_pdf_pages(path: Path, pages: list[int], languages: str,
                  limits: DocLimits = DEFAULT_DOC_LIMITS, photo_pages: list[int] | None = None) -> ScanResult:
    """OCR of the given pages (1-based) of the PDF at ``path``, each rendered and read like a picture of paper;
    and, on ``photo_pages`` (pages with a text layer), of the pictures embedded in them that are large enough to
    be photos of paper (``extract.page_photos``), each read as it is, its lines naming the picture.

    Raises ``ScanError`` only when nothing could be read at all (the reasons, page by page)."""
    from ringtrace.media.ocr import OcrError, check_languages, ocr_picture, tesseract_version

    langs = check_languages(languages)
    try:
        sizes = _page_sizes(path)
    except Exception as exc:  # noqa: BLE001  # the text layer opened it; if its page boxes do not, say so
        raise ScanError(f"page sizes not read: {type(exc).__name__}: {exc}") from exc
    problems: list[str] = []
    wanted = [p for p in pages if 1 <= p <= len(sizes)]
    if len(wanted) > limits.max_ocr_pdf_pages:
        problems.append(f"{len(wanted)} pages without text: only the first {limits.max_ocr_pdf_pages} OCR'd")
        wanted = wanted[: limits.max_ocr_pdf_pages]
    lines: list[TextLine] = []
    read: list[int] = []
    notes: list[str] = []
    readers = tesseract_version()  # "tesseract 5.3.0 + rapidocr 3.10.0 (PP-OCRv6 small)" where a page was read by both
    started = time.monotonic()
    for k, p in enumerate(wanted):
        if time.monotonic() - started > limits.pdf_ocr_total_s:
            left = wanted[k:]
            problems.append(f"OCR stopped after {limits.pdf_ocr_total_s:.0f} s: pages {page_spans(left)} not read")
            break
        try:
            img = render_page(path, p, render_dpi(*sizes[p - 1], limits=limits), limits)
        except ScanError as exc:
            problems.append(str(exc))
            continue
        try:
            res = ocr_picture(img, langs, limits)
        except OcrError as exc:
            problems.append(f"page {p} not OCR'd: {exc}")
            continue
        read.append(p)
        if len(res.by) > len(readers):
            readers = res.by
        lines += [dataclasses.replace(ln, page=p) for ln in res.lines]
        notes += [f"page {p}: {n}" for n in res.notes]
    photos_read = _ocr_photos(path, photo_pages or [], langs, limits, started, lines, notes, problems)
    if not read and not photos_read and problems:
        raise ScanError("; ".join(problems))
    return ScanResult(lines, read, f"{readers} ({pdftoppm_version()})", langs, notes, problems,
                      photos_read)


def _ocr_photos(path: Path, pages: list[int], langs: str, limits: DocLimits, started: float,
                lines: list[TextLine], notes: list[str], problems: list[str]) -> list[int]:
    """The photos of paper on ``pages`` OCR'd into ``lines`` (numbered on from the page's earlier OCR lines);
    the pages whose photos were read."""
    if not pages:
        return []
    from ringtrace.documents.extract import DocumentError, page_photos, photo_image
    from ringtrace.media.ocr import OcrError, ocr_picture

    photos, why = page_photos(path, pages, limits)
    problems += why
    read: list[int] = []
    for k, ph in enumerate(photos):
        if time.monotonic() - started > limits.pdf_ocr_total_s:
            problems.append(f"OCR stopped after {limits.pdf_ocr_total_s:.0f} s: {len(photos) - k} photos on pages "
                            "with text not read")
            break
        try:
            img = photo_image(path, ph)
            res = ocr_picture(img, langs, limits)
        except (DocumentError, OcrError) as exc:
            problems.append(f"page {ph.page}: photo {ph.label} not OCR'd: {exc}")
            continue
        n = max((ln.line_no for ln in lines if ln.page == ph.page), default=0)
        lines += [dataclasses.replace(ln, page=ph.page, line_no=n + i, image=ph.label)
                  for i, ln in enumerate(res.lines, 1)]
        notes += [f"page {ph.page} photo {ph.label}: {x}" for x in res.notes]
        if ph.page not in read:
            read.append(ph.page)
    return read


def page_spans(pages: list[int]) -> str:
    """``1-3, 7``: pages as runs."""
    out: list[str] = []
    for p in pages:
        if out and out[-1].split("-")[-1] == str(p - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{p}"
        else:
            out.append(str(p))
    return ", ".join(out)
