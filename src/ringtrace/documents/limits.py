"""Bounds for reading hostile documents and pictures of paper. One frozen object, picklable for process pools."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DocLimits:
    max_file_bytes: int = 200 * MiB  # documents larger than this are not opened (a named problem)
    max_pages: int = 2000  # pages read; the rest is reported, not read
    max_chars: int = 5_000_000  # characters kept per document; the rest is reported
    max_line_chars: int = 10_000  # one stored line is cut here
    # zip containers (DOCX, ODT): declared sizes are checked before anything is inflated; Python's zipfile
    # never inflates a member past its declared size, so these bound memory
    max_zip_members: int = 5000
    max_zip_total: int = 512 * MiB  # sum of declared uncompressed sizes
    max_xml_part: int = 64 * MiB  # the one XML part holding the text
    max_zip_ratio: int = 200  # uncompressed / compressed of a member over 1 MiB: a zip bomb beyond this
    # OCR
    max_ocr_pixels: int = 40_000_000  # larger pictures are scaled down to this before OCR
    ocr_timeout_s: float = 120.0  # Tesseract is killed past this, per picture and per pass
    min_page_side: int = 400  # pictures smaller than this on either side are never taken for a page
    # scanned PDFs: pages without a text layer rendered (pdftoppm) and OCR'd
    pdf_render_dpi: int = 300  # what Tesseract reads best; lower only for pages too large for max_render_pixels
    max_render_pixels: int = 25_000_000  # A3 at 300 dpi is 17 million
    max_ocr_pdf_pages: int = 200  # pages OCR'd per document; the rest is reported, not read
    pdf_ocr_total_s: float = 1800.0  # seconds of OCR per document; the pages left are reported
    # photos of paper on PDF pages that have a text layer (a report with a photo of a note): embedded pictures
    # at least this large are decoded and OCR'd, at most so many per document; larger than max_ocr_pixels: not
    # decoded (a named problem)
    min_photo_side: int = 400
    min_photo_pixels: int = 300_000
    max_pdf_photos: int = 20


DEFAULT_DOC_LIMITS = DocLimits()
