"""One line of text read out of a document or a picture of paper, as the ``text_lines`` table stores it.

``page`` is 1-based (an image is page 1); ``line_no`` is the 1-based index among the page's non-blank lines, for
every origin (a text layer, OCR, a transcription), so the same note read two ways numbers its lines alike.
A box is in pixels of the page as read (after turning it by ``rotation`` degrees); text layers have none. A line
OCR'd off a picture embedded in a PDF page that has a text layer names that picture (``image``); its box is in the
picture's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

ORIGINS = ("text", "ocr", "transcription")


@dataclass(frozen=True, slots=True)
class Box:
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class TextLine:
    page: int
    line_no: int
    text: str
    box: Box | None = None
    confidence: float | None = None  # 0..100 (Tesseract's mean word confidence); None for text layers
    rotation: int | None = None  # degrees the page was turned clockwise before reading
    by: str | None = None  # the engine that read this line where a reading combines two (else the read's own)
    image: str | None = None  # read off a picture embedded in the page (a PDF's XObject, its name and size)


def number_lines(pages: list[list[str]], max_line_chars: int) -> list[TextLine]:
    """Lines of pages (page 1 first), blank ones dropped, each cut to ``max_line_chars``, numbered per page."""
    out: list[TextLine] = []
    for p, lines in enumerate(pages, start=1):
        n = 0
        for raw in lines:
            # runs of spaces as one, as OCR gives them; a tab (between table cells) is kept
            text = "\t".join(" ".join(cell.split()) for cell in raw.split("\t")).strip()
            if not text:
                continue
            n += 1
            out.append(TextLine(p, n, text[:max_line_chars]))
    return out
