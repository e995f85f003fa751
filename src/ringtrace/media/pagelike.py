"""A cheap test of whether a picture shows a page of paper (a photo or scan of a note), to decide which pictures
are worth OCR when an exhibit is not marked as paper.

On a copy at most 400 pixels wide, in grey: a page is mostly a light, hardly coloured background with a little
dark ink, laid out in several rows (the row profile alternates between inked and blank bands). Photos of
people or places fail on colour, on ink cover or on rows. Errs towards reading: a false positive costs one OCR
pass, a false negative loses a note (which ``ringtrace notes ocr`` can still read on request).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

SIDE = 400


@dataclass(frozen=True)
class PageLikeness:
    paper: float  # share of light background pixels
    ink: float  # share of dark pixels
    colour: float  # mean saturation of the light background, 0..255
    rows: int  # inked bands separated by blank ones (text lines, roughly), along the likelier axis
    sideways: bool = False  # the bands run top to bottom: the page was taken turned by 90 or 270 degrees

    @property
    def is_page(self) -> bool:
        return self.paper >= 0.45 and 0.002 <= self.ink <= 0.25 and self.colour <= 60 and self.rows >= 3


def page_likeness(img: Image.Image) -> PageLikeness:
    img = ImageOps.exif_transpose(img) or img
    small = img.convert("RGB")
    small.thumbnail((SIDE, SIDE))
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32)
    grey = np.asarray(small.convert("L"), dtype=np.float32)
    bright = float(np.percentile(grey, 90))
    paper_mask = grey >= bright - 40
    ink_mask = grey <= bright - 90
    paper = float(paper_mask.mean())
    # ink is counted on the sheet only: a photo shows the table around it
    rows_in = np.flatnonzero(paper_mask.mean(axis=1) > 0.3)
    cols_in = np.flatnonzero(paper_mask.mean(axis=0) > 0.3)
    if rows_in.size and cols_in.size:
        sheet = (slice(rows_in[0], rows_in[-1] + 1), slice(cols_in[0], cols_in[-1] + 1))
        ink_mask = ink_mask[sheet]
    ink = float(ink_mask.mean()) if ink_mask.size else 0.0
    colour = float(hsv[..., 1][paper_mask].mean()) if paper_mask.any() else 255.0
    across, down = _bands(ink_mask), _bands(ink_mask.T)  # the text may run either way (a page taken sideways)
    # lines of text make the row profile swing between inked and blank; across the lines it stays even
    return PageLikeness(round(paper, 3), round(ink, 4), round(colour, 1), max(across, down),
                        _swing(ink_mask.T) > 1.2 * _swing(ink_mask))


def _swing(ink: np.ndarray) -> float:
    """How much the ink per row varies (coefficient of variation of the row profile)."""
    profile = ink.mean(axis=1)
    m = float(profile.mean()) if profile.size else 0.0
    return float(profile.std()) / m if m > 0 else 0.0


def _bands(ink: np.ndarray) -> int:
    """Inked bands along the first axis: rows holding ink, separated by nearly blank rows."""
    profile = ink.mean(axis=1)
    if not profile.size or profile.max() == 0:
        return 0
    inked = profile > max(0.01, float(profile.max()) * 0.15)
    starts = np.flatnonzero(inked[1:] & ~inked[:-1])
    return int(len(starts) + (1 if inked[0] else 0))
