"""OCR of pictures of paper with Tesseract (Debian's tesseract-ocr), through pytesseract.

A picture is turned by its EXIF orientation (a phone's sensor) and read with automatic page segmentation
(``--psm 3``) into TSV; words are gathered into Tesseract's own lines (block, paragraph, line), each kept with its
box (pixels of the page as read) and its mean word confidence. When that reading is poor (few characters, unsure
ones, or garbled words: what a page upside down gives), Tesseract's orientation and script detection (``--psm 0``,
OSD) says how many degrees clockwise the page must turn (its ``Rotate:``), trusted only when confident
(``MIN_OSD_CONFIDENCE``; on little text it guesses; unsure, the turns the page test leaves are tried); the page
is read again turned, and the better reading (more confident characters) is kept with its turn. OSD is not run
on every page: it costs more than the reading itself (bench/results/ocr.md). A reading still unsure (handwriting)
is made again on the page enlarged 1.5 times, and the more confident one kept (``UNSURE_CONFIDENCE``).

Bounds: the picture is decoded under the media limits (decompression bombs), scaled down past
``DocLimits.max_ocr_pixels``, and every Tesseract pass is killed after ``DocLimits.ocr_timeout_s``.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from PIL import Image, ImageOps

from ringtrace.documents.limits import DEFAULT_DOC_LIMITS, DocLimits
from ringtrace.documents.lines import Box, TextLine

MIN_OSD_CONFIDENCE = 1.5  # below this Tesseract's OSD is a guess (it reports ~0.5-1 on a few words)
OSD_MAX_SIDE = 2000  # OSD reads a copy at most this large (at 800 pixels it loses its confidence)
POOR_CHARS = 40  # a reading with fewer characters than this may be of a page turned sideways
POOR_CONFIDENCE = 30.0  # ... or one whose characters Tesseract is this unsure of on average (handwriting that
# reads upright at 40-70 is not worth an OSD pass, which costs more than the reading)
POOR_GARBLE = 0.3  # ... or one with this share of garbled words: a page upside down reads at confidence ~40 as
# "JoUeA UeIAN" and "sij|e", case flipping inside words and bars; upright pages, handwriting too, stay under 0.1
UNSURE_CONFIDENCE = 85.0  # a reading under this mean character confidence (handwriting; print reads at 90-96) is
# read again larger, and the more confident reading kept: small or looping hands read much better larger, others
# worse, and Tesseract's confidence tells which (bench/results/ocr.md)
UPSCALE = 1.5
_JUNK = frozenset("|©®¢€{}[]<>§\\~^¥£™")


class OcrError(Exception):
    """A picture Tesseract could not read; the message says why."""


@dataclass
class OcrResult:
    lines: list[TextLine]
    rotation: int  # degrees turned clockwise before reading (OSD), 0 when upright or unsure
    languages: str
    by: str
    notes: list[str] = field(default_factory=list)  # what was noticed and not fatal (OSD unsure, scaled down)


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    import pytesseract

    return f"tesseract {pytesseract.get_tesseract_version()}"


@lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    import pytesseract

    return frozenset(pytesseract.get_languages(config="")) - {"osd"}


def check_languages(languages: str) -> str:
    """``spa+eng`` style, every one installed; raises ``OcrError`` naming those missing."""
    wanted = [x for x in re.split(r"[+,\s]+", languages.strip()) if x]
    if not wanted:
        raise OcrError("no OCR language given")
    bad = [x for x in wanted if not re.fullmatch(r"[a-z_]{3,12}", x)]
    if bad:
        raise OcrError(f"not a Tesseract language code: {', '.join(bad)}")
    missing = [x for x in wanted if x not in installed_languages()]
    if missing:
        raise OcrError(f"Tesseract language data not installed: {', '.join(missing)} "
                       f"(installed: {', '.join(sorted(installed_languages()))})")
    return "+".join(dict.fromkeys(wanted))


def upright(img: Image.Image, limits: DocLimits = DEFAULT_DOC_LIMITS) -> tuple[Image.Image, list[str]]:
    """EXIF orientation applied, in RGB or grey (Tesseract makes its own grey: converting first reads worse),
    scaled down to the OCR pixel bound."""
    notes: list[str] = []
    img = ImageOps.exif_transpose(img) or img
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    px = img.width * img.height
    if px > limits.max_ocr_pixels:
        f = (limits.max_ocr_pixels / px) ** 0.5
        img = img.resize((max(1, int(img.width * f)), max(1, int(img.height * f))), Image.Resampling.LANCZOS)
        notes.append(f"scaled down from {px} pixels to {img.width}x{img.height} for OCR")
    return img, notes


def detect_rotation(img: Image.Image, limits: DocLimits = DEFAULT_DOC_LIMITS) -> tuple[int, str | None]:
    """(degrees to turn clockwise, a note when unsure) from Tesseract's OSD."""
    import pytesseract

    small = img
    if max(img.size) > OSD_MAX_SIDE:
        small = img.copy()
        small.thumbnail((OSD_MAX_SIDE, OSD_MAX_SIDE))
    try:
        osd = pytesseract.image_to_osd(small, config="--psm 0", timeout=limits.ocr_timeout_s)
    except pytesseract.TesseractError as exc:  # too few characters to tell
        return 0, f"orientation not detected ({' '.join(str(exc.message).split())[:200]}); read as it is"
    except RuntimeError as exc:  # pytesseract's timeout
        return 0, f"orientation detection stopped: {exc}"
    m = re.search(r"Rotate:\s*(\d+)", osd)
    c = re.search(r"Orientation confidence:\s*([\d.]+)", osd)
    rot = int(m.group(1)) % 360 if m else 0
    conf = float(c.group(1)) if c else 0.0
    if rot and conf < MIN_OSD_CONFIDENCE:
        return 0, f"orientation unsure (OSD says turn {rot} degrees, confidence {conf:.2f}); read as it is"
    return rot, None


def _read(img: Image.Image, langs: str, rotation: int, limits: DocLimits) -> list[TextLine]:
    import pytesseract

    try:
        # handed over as uncompressed TIFF: pytesseract would compress a PNG of every page first
        with tempfile.NamedTemporaryFile(suffix=".tif") as fh:
            img.save(fh, "TIFF")
            fh.flush()
            data = pytesseract.image_to_data(fh.name, lang=langs, config="--psm 3",
                                             output_type=pytesseract.Output.DICT, timeout=limits.ocr_timeout_s)
    except pytesseract.TesseractError as exc:
        raise OcrError(f"Tesseract failed: {' '.join(str(exc.message).split())[:300]}") from exc
    except RuntimeError as exc:  # pytesseract kills Tesseract at the timeout
        raise OcrError(f"Tesseract stopped after {limits.ocr_timeout_s:.0f} s: {exc}") from exc
    return tsv_lines(data, rotation, limits.max_line_chars)


def _chars(lines: list[TextLine]) -> int:
    return sum(len(ln.text.replace(" ", "")) for ln in lines)


def _mean_confidence(lines: list[TextLine]) -> float:
    return _score(lines) / max(1, _chars(lines))


def _read_larger(page: Image.Image, langs: str, rotation: int, limits: DocLimits) -> list[TextLine]:
    """The page read scaled up by ``UPSCALE``, boxes given back in pixels of the page as read."""
    big = page.resize((round(page.width * UPSCALE), round(page.height * UPSCALE)), Image.Resampling.LANCZOS)
    out = []
    for ln in _read(big, langs, rotation, limits):
        b = ln.box
        box = b and Box(round(b.left / UPSCALE), round(b.top / UPSCALE), max(1, round(b.width / UPSCALE)),
                        max(1, round(b.height / UPSCALE)))
        out.append(dataclasses.replace(ln, box=box))
    return out


def _score(lines: list[TextLine]) -> float:
    """Confident characters: how well a reading went (a page read sideways gives few, unsure ones)."""
    return sum((ln.confidence or 0.0) * len(ln.text.replace(" ", "")) for ln in lines)


def _titled(word: str) -> bool:
    """Maria, McDonald, DeLuca, Łukasz: capitalised runs, each a capital and small letters after it."""
    if not word[0].isupper() or len(word) < 2:
        return False
    starts = [i for i, c in enumerate(word) if c.isupper()]
    if len(starts) > 3:
        return False
    bounds = [*starts, len(word)]
    return all(bounds[k + 1] - bounds[k] >= 2 and word[bounds[k] + 1:bounds[k + 1]].islower()
               for k in range(len(starts)))


def garbled(lines: list[TextLine]) -> float:
    """The share of words (two letters or more) that no writer writes: case changing inside the word other than
    Capitalised or ALL CAPS, or a bar, brace or sign among its letters. What a page read upside down gives."""
    words = [w for ln in lines for w in ln.text.split() if sum(c.isalpha() for c in w) >= 2]
    if not words:
        return 0.0
    odd = 0
    for w in words:
        parts = [p for p in re.split(r"[^\w]|[\d_]", w) if p]  # O'Neill, Jean-Luc, name.surname87
        if any(c in _JUNK for c in w) or not all(p.islower() or p.isupper() or _titled(p) for p in parts):
            odd += 1
    return odd / len(words)


def _poor(lines: list[TextLine]) -> bool:
    chars = sum(len(ln.text.replace(" ", "")) for ln in lines)
    return (chars < POOR_CHARS or _score(lines) / max(1, chars) < POOR_CONFIDENCE
            or garbled(lines) >= POOR_GARBLE)


def ocr_picture(img: Image.Image, languages: str, limits: DocLimits = DEFAULT_DOC_LIMITS) -> OcrResult:
    """Every line Tesseract reads on the picture, upright, with boxes and confidences.

    OSD costs more than reading a page, so a page is read as it is first; OSD is asked for a turn only when the
    ink runs in columns (a page taken sideways, by the cheap page test) or the reading is poor (few characters,
    unsure ones, or garbled words); a turned reading is kept only if it reads better. Where OSD is unsure, the
    turns the page test leaves are read: both quarter turns where the ink runs in columns, else half a turn
    (a page upside down has its ink in rows like an upright one)."""
    from ringtrace.media.pagelike import page_likeness

    langs = check_languages(languages)
    page, notes = upright(img, limits)
    lines = _read(page, langs, 0, limits)
    rot = 0
    sideways = page_likeness(page).sideways
    if sideways or _poor(lines):
        turn, note = detect_rotation(page, limits)
        if note:
            notes.append(note)
        # OSD is often unsure on handwriting: then what the page test leaves is tried
        turns = [turn] if turn else ([90, 270] if sideways else [180] if note else [])
        for t in turns:
            turned = _read(page.rotate(-t, expand=True), langs, t, limits)  # PIL turns counter-clockwise
            if _score(turned) > _score(lines):
                lines, rot = turned, t
        if turns and not rot:
            notes.append(f"turned {' and '.join(map(str, turns))} degrees the page read no better; read as it is")
    if (lines and _mean_confidence(lines) < UNSURE_CONFIDENCE
            and page.width * page.height * UPSCALE ** 2 <= limits.max_ocr_pixels):
        as_read = page.rotate(-rot, expand=True) if rot else page
        larger = _read_larger(as_read, langs, rot, limits)
        before, after = _mean_confidence(lines), _mean_confidence(larger)
        if after > before and _chars(larger) >= 0.7 * _chars(lines):
            lines = larger
            notes.append(f"read at {UPSCALE}x: mean confidence {after:.0f} against {before:.0f}")
    return OcrResult(lines, rot, langs, tesseract_version(), notes)


def tsv_lines(data: dict[str, list[Any]], rotation: int, max_line_chars: int) -> list[TextLine]:
    """Tesseract's word rows gathered into its lines, in its reading order, blank lines dropped."""
    order: list[tuple[int, int, int]] = []
    words: dict[tuple[int, int, int], list[int]] = {}
    for i, level in enumerate(data["level"]):
        if int(level) != 5 or not str(data["text"][i]).strip():
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        if key not in words:
            words[key] = []
            order.append(key)
        words[key].append(i)
    out: list[TextLine] = []
    for key in order:
        idx = words[key]
        text = " ".join(str(data["text"][i]).strip() for i in idx)[:max_line_chars]
        left = min(int(data["left"][i]) for i in idx)
        top = min(int(data["top"][i]) for i in idx)
        right = max(int(data["left"][i]) + int(data["width"][i]) for i in idx)
        bottom = max(int(data["top"][i]) + int(data["height"][i]) for i in idx)
        confs = [float(data["conf"][i]) for i in idx if float(data["conf"][i]) >= 0]
        conf = round(sum(confs) / len(confs), 2) if confs else None
        out.append(TextLine(1, len(out) + 1, text, Box(left, top, right - left, bottom - top), conf, rotation))
    return out
