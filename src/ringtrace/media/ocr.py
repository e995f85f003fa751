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

A reading Tesseract is unsure of (mean confidence under ``UNSURE_CONFIDENCE``: handwriting) is read a second time,
by a recogniser of another kind: RapidOCR (``rapidocr`` 3.x, its PP-OCRv6 small detection and recognition ONNX
models shipped inside its wheel, run by onnxruntime), on the page as Tesseract turned it (orientation is settled
before either recognises); its detector finds the lines on a copy of the page at most ``RAPID_DET_SIDE`` pixels a
side (at full size it took ~700 MB a page), its recogniser reads them on the page itself. Its text boxes are
gathered into lines; each Tesseract line is set against the RapidOCR line(s) beside it (the same band of the page)
and fused word by word (``combine``): PP-OCRv6 reads handwriting far better than Tesseract's LSTM
(bench/results/ocr.md), so where the two differ its word is kept unless it is one no writer writes and Tesseract's
is not; words both read alike keep the spelling with the accents. Every line says which engine read it
(``TextLine.by``). Without RapidOCR installed, Tesseract's reading stands, with a note saying so.

Bounds: the picture is decoded under the media limits (decompression bombs), scaled down past
``DocLimits.max_ocr_pixels``, and every Tesseract pass is killed after ``DocLimits.ocr_timeout_s``.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from PIL import Image, ImageOps

from ringtrace.documents.limits import DEFAULT_DOC_LIMITS, DocLimits
from ringtrace.documents.lines import Box, TextLine
from ringtrace.indicators.ocr_repair import MISREAD_NUMBER

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
RAPID_DET_SIDE: int | None = 1280  # RapidOCR's detector reads a copy of the page at most this many pixels a side:
# its peak memory and CPU follow the copy's pixels (bench/results/pipeline.md, helper ocrmem); None: full size
RAPID_BAND = 0.5  # two lines are of one band of the page when they share this much of the taller one's height
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


def rapid_engine() -> Any | None:
    """RapidOCR's engine with its detector's side limit ``RAPID_DET_SIDE`` (looked up at each call, so a bench can
    set it), or None where RapidOCR is not installed or will not load."""
    return _rapid_engine(RAPID_DET_SIDE)


@lru_cache(maxsize=2)
def _rapid_engine(det_side: int | None) -> Any | None:
    """RapidOCR's engine (one onnxruntime thread a session, as Tesseract runs one; the models of its wheel, never a
    download), or None where it is not installed or will not load (the documents extra without it, onnxruntime or
    OpenCV missing a library). ``det_side``: the longer side the detector's copy of the page is scaled down to
    (None: RapidOCR's own rule, the page at full size up to ``Global.max_side_len``)."""
    params: dict[str, Any] = {"Global.log_level": "warning",
                              "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                              "EngineConfig.onnxruntime.inter_op_num_threads": 1}
    if det_side is not None:
        # only the detector's copy is scaled: its boxes are mapped back and the recogniser crops the page as it is
        params |= {"Det.limit_type": "max", "Det.limit_side_len": det_side}
    try:
        from rapidocr import RapidOCR

        return RapidOCR(params=params)
    except Exception:  # noqa: BLE001  # ImportError, OSError from a native library, a model that will not load
        return None


@lru_cache(maxsize=1)
def rapid_version() -> str:
    try:
        v = importlib.metadata.version("rapidocr")
    except importlib.metadata.PackageNotFoundError:
        v = "?"
    return f"rapidocr {v} (PP-OCRv6 small)"


_GLUED = re.compile(r"(?<=\))(?=\w)|(?<=\d)(?=[A-Z][a-z])|(?<=[a-z]{3})(?=[A-Z][a-z]{2})")


def _spaced(text: str) -> str:
    """The spaces RapidOCR drops between words put back where no writer leaves none: after a closing bracket
    before a word (``(59)flavia``), between a number and a capitalised word (``3August``), and between two
    capitalised words of three letters or more run together (``FlaviaHalvard``; ``McDonald`` and ``DeLuca`` stay)."""
    return _GLUED.sub(" ", text)


def rapid_lines(boxes: list[Any] | None, rotation: int, max_line_chars: int, by: str) -> list[TextLine]:
    """RapidOCR's text boxes ([corner points, text, score]) gathered into lines: a box joins the line whose band
    (mean top to mean bottom) holds its middle; a line's words left to right, its box their union, its confidence
    the character-weighted mean score on Tesseract's scale (0..100)."""
    items: list[tuple[float, float, float, float, str, float]] = []
    for entry in boxes or ():
        try:
            pts, text, sc = entry[0], str(entry[1]).strip(), float(entry[2])
            xs, ys = [float(p[0]) for p in pts], [float(p[1]) for p in pts]
        except (TypeError, ValueError, IndexError):
            continue
        if text:
            items.append((min(xs), min(ys), max(xs), max(ys), text, sc))
    items.sort(key=lambda b: (b[1] + b[3]) / 2)
    groups: list[list[tuple[float, float, float, float, str, float]]] = []
    for it in items:
        mid = (it[1] + it[3]) / 2
        for g in groups:
            if sum(x[1] for x in g) / len(g) <= mid <= sum(x[3] for x in g) / len(g):
                g.append(it)
                break
        else:
            groups.append([it])
    out: list[TextLine] = []
    for g in groups:
        g.sort(key=lambda b: b[0])
        text = _spaced(" ".join(" ".join(x[4].split()) for x in g))[:max_line_chars].rstrip()
        n = sum(len(x[4].replace(" ", "")) for x in g) or 1
        conf = round(100 * sum(x[5] * len(x[4].replace(" ", "")) for x in g) / n, 2)
        left, top = int(min(x[0] for x in g)), int(min(x[1] for x in g))
        right, bottom = int(max(x[2] for x in g)), int(max(x[3] for x in g))
        out.append(TextLine(1, len(out) + 1, text, Box(left, top, max(1, right - left), max(1, bottom - top)), conf,
                            rotation, by=by))
    return out


def read_rapid(page: Image.Image, rotation: int, limits: DocLimits = DEFAULT_DOC_LIMITS) -> list[TextLine] | None:
    """RapidOCR's lines of the page as read (turned upright already), or None where RapidOCR is not here. RapidOCR
    scales the page to at most 2,000 pixels a side itself, and its detector reads a copy at most ``RAPID_DET_SIDE``
    a side (its memory and time grow with those pixels); it has no timeout of its own (it runs in process), the
    page being bounded by ``max_ocr_pixels`` before."""
    import numpy as np

    engine = rapid_engine()
    if engine is None:
        return None
    rgb = page if page.mode == "RGB" else page.convert("RGB")
    try:
        got = engine(np.asarray(rgb)[:, :, ::-1], use_cls=False)  # BGR, as OpenCV has it; upright already
        boxes = ([] if got.boxes is None else
                 [[b.tolist(), t, s] for b, t, s in zip(got.boxes, got.txts or (), got.scores or (), strict=False)])
    except Exception as exc:  # noqa: BLE001  # a model or runtime error on one page: Tesseract's reading stands
        raise OcrError(f"RapidOCR failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from exc
    return rapid_lines(boxes, rotation, limits.max_line_chars, rapid_version())


def _fold(word: str) -> str:
    nfkd = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def _overlap(a: Box | None, b: Box | None) -> float:
    if a is None or b is None:
        return 0.0
    shared = min(a.top + a.height, b.top + b.height) - max(a.top, b.top)
    return max(0, shared) / max(1, a.height, b.height)


_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,6}")
_HANDLE = re.compile(r"@[A-Za-z][A-Za-z0-9_.]{2,31}")
_NUMBER_LIKE = re.compile(r"\+?\(?\d[\d/.:)\-]*")
_EDGE = ".,;:()[]-–—'\"’"


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """Folded words a note is made of that a reader should spell right: common given names, the gazetteer's
    places, month names and the note words the entity extraction knows (``indicators.note_entities``)."""
    from ringtrace.indicators import note_entities as ne

    return frozenset(ne.given_names()) | frozenset(ne.gazetteer_names()) | frozenset(ne.MONTH_NAMES) | ne.NOTE_WORDS


def plausible(word: str) -> int:
    """+1 for a word that reads as something (a known name, place or word, a number, an e-mail address, a
    handle), -1 for one no writer writes (case flipping inside it, signs among letters, a character from outside
    the Latin, Greek and Cyrillic scripts: RapidOCR's alphabet is mostly Chinese), else 0. A number with letters
    read for digits (``2OC9``) is 0, fields joined by hyphens (``Sallow-Lugo-@quiet_oak90``) their least."""
    core = word.strip(_EDGE)
    if not core:
        return 0
    if any(ord(c) > 0x52F and c not in "–—’“”" for c in core):
        return -1
    if _EMAIL.fullmatch(core.lower()) or _HANDLE.fullmatch(core) or _NUMBER_LIKE.fullmatch(core):
        return 1
    if MISREAD_NUMBER.fullmatch(core):
        return 0
    if "-" in core and len(core) <= 96:
        return min(plausible(p) for p in core.split("-"))
    if core.isalpha():
        if not (core.islower() or core.isupper() or _titled(core)):
            return -1
        return 1 if _fold(core) in _lexicon() else 0
    return 0 if re.fullmatch(r"[a-z]+[._]?[a-z]*\d{0,4}", core) else -1  # name.surname87, owl_lamp31


def _mean_plausible(words: list[str]) -> float:
    return sum(map(plausible, words)) / len(words) if words else 0.0


def _accented(word: str) -> int:
    return sum(not c.isascii() for c in word)


def _at_for_o(word: str, other: str) -> bool:
    """Whether ``word`` is ``other`` with its capital O read as '@' ("@rrin", "@RRin" for "Orrin"): a hand's
    round O is an '@' to RapidOCR, while a capitalised word is no handle."""
    return (word[:1] == "@" and other[:1] == "O" and other[1:2].islower()
            and _fold(word[1:]) == _fold(other[1:]))


def fuse(tess: str, rapid: str) -> str:
    """One line from two readings of it, word by word. Where both read a word alike (case and accents aside) the
    spelling with more accented letters is kept, else RapidOCR's (it gets case right more often; either reader may
    drop an accent: ñ, ç, ã, ö, ß ...) unless its case is one no writer writes. Where they differ RapidOCR's word
    is kept (PP-OCRv6 misreads handwriting far less than Tesseract), unless it is one no writer writes
    (``plausible`` -1) and Tesseract's is not: word against word where both read as many words there, else the
    run against the run."""
    import difflib

    tw, rw = tess.split(), rapid.split()
    sm = difflib.SequenceMatcher(None, [_fold(w) for w in tw], [_fold(w) for w in rw], autojunk=False)
    out: list[str] = []
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        mine, theirs = tw[a0:a1], rw[b0:b1]
        if op == "equal":
            out += [a if _accented(a) > _accented(b) or plausible(b) < 0 <= plausible(a) else b
                    for a, b in zip(mine, theirs, strict=True)]
            continue
        pairs = (list(zip(mine, theirs, strict=True)) if len(mine) == len(theirs)
                 else [(" ".join(mine), " ".join(theirs))])
        for a, b in pairs:
            pa, pb = _mean_plausible(a.split()), _mean_plausible(b.split())
            keep = a if pb < 0 <= pa or _at_for_o(b, a) else b
            if keep:
                out.append(keep)
    return " ".join(out)


def _joined(lines: list[TextLine]) -> TextLine:
    """Lines of one band of the page (a reader may split a line in two) as one, left to right."""
    if len(lines) == 1:
        return lines[0]
    parts = sorted(lines, key=lambda ln: ln.box.left if ln.box else 0)
    boxes = [ln.box for ln in parts if ln.box]
    box = boxes and Box(min(b.left for b in boxes), min(b.top for b in boxes),
                        max(b.left + b.width for b in boxes) - min(b.left for b in boxes),
                        max(b.top + b.height for b in boxes) - min(b.top for b in boxes))
    return dataclasses.replace(parts[0], text=" ".join(ln.text for ln in parts), box=box or None,
                               confidence=round(_mean_confidence(parts), 2))


def combine(tess: list[TextLine], rapid: list[TextLine]) -> list[TextLine]:
    """One reading of a page from two: the lines of both gathered into bands (lines sharing ``RAPID_BAND`` of the
    taller one's height, transitively), and in each band Tesseract's line fused (``fuse``) with RapidOCR's; a band
    only one reader found is kept as it read it. A fused line keeps Tesseract's box and says which engine(s) read
    it; its confidence is the surer reading's (RapidOCR's scores shown 0..100). Lines are numbered in their order
    down the page."""
    items = [(ln, True) for ln in tess] + [(ln, False) for ln in rapid]
    bands: list[list[tuple[TextLine, bool]]] = []
    for item in sorted(items, key=lambda x: x[0].box.top if x[0].box else 0):
        hit = [b for b in bands if any(_overlap(item[0].box, o[0].box) >= RAPID_BAND for o in b)]
        for b in hit[1:]:
            hit[0].extend(b)
            bands.remove(b)
        if hit:
            hit[0].append(item)
        else:
            bands.append([item])
    out: list[TextLine] = []
    for band in bands:
        ts, rs = [ln for ln, t in band if t], [ln for ln, t in band if not t]
        if not rs or not ts:
            out += ts or rs
            continue
        tl, rl = _joined(ts), _joined(rs)
        tc, rc = tl.confidence or 0.0, rl.confidence or 0.0
        text = fuse(tl.text, rl.text)
        by = tl.by if text == tl.text else rl.by if text == rl.text else f"{tl.by} + {rl.by}"
        out.append(dataclasses.replace(tl, text=text, confidence=round(max(tc, rc), 2), by=by))
    out.sort(key=lambda ln: ln.box.top + ln.box.height / 2 if ln.box else 0.0)
    return [dataclasses.replace(ln, line_no=k) for k, ln in enumerate(out, start=1)]


def ocr_picture(img: Image.Image, languages: str, limits: DocLimits = DEFAULT_DOC_LIMITS, *,
                second_reader: bool = True) -> OcrResult:
    """Every line Tesseract reads on the picture, upright, with boxes and confidences.

    OSD costs more than reading a page, so a page is read as it is first; OSD is asked for a turn only when the
    ink runs in columns (a page taken sideways, by the cheap page test) or the reading is poor (few characters,
    unsure ones, or garbled words); a turned reading is kept only if it reads better. Where OSD is unsure, the
    turns the page test leaves are read: both quarter turns where the ink runs in columns, else half a turn
    (a page upside down has its ink in rows like an upright one). A reading still unsure is read again by RapidOCR
    and the two fused line by line (``combine``), unless ``second_reader`` is False (Tesseract alone)."""
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
    by = tesseract_version()
    if second_reader and lines and _mean_confidence(lines) < UNSURE_CONFIDENCE:
        as_read = page.rotate(-rot, expand=True) if rot else page
        try:
            second = read_rapid(as_read, rot, limits)
        except OcrError as exc:
            second = []
            notes.append(f"{exc}; Tesseract's reading kept")
        if second is None:
            notes.append("RapidOCR is not installed (the documents extra): an unsure page read by Tesseract only")
        elif second:
            both = combine([dataclasses.replace(ln, by=by) for ln in lines], second)
            taken = sum(ln.by != by for ln in both)
            if taken:
                lines, by = both, f"{by} + {rapid_version()}"
                notes.append(f"read again by RapidOCR: {taken} of {len(both)} lines taken from it")
    return OcrResult(lines, rot, langs, by, notes)


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
