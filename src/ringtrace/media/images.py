"""Content sniffing and bounded image decoding to the RGB pixels PDQ expects.

Conformance notes (checked against Meta's C++ reference on /work/shared/conformance/pdq):
- anything larger than 512 px on a side is resized to 512x512 (aspect not kept) like the reference; Pillow's
  Lanczos is the closest match to ImageMagick's default downscale filter (max 10 bits on the corpus);
- big JPEGs are decoded in DCT draft mode (1/2, 1/4, 1/8 scale, never below 512 px), Y plane only, and their
  512 px resize is folded into the PDQ matrices (see pdq_luma, pdq.pdq_from_luma); other big images are
  resized as luma by Pillow: same conformance, several times faster;
- EXIF orientation is ignored, like the reference;
- alpha is dropped, not composited: the reference reads colour channels through ImageMagick without
  flattening, and so does python-threatexchange (``convert("RGB")``).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, UnidentifiedImageError

from ringtrace.media.limits import DEFAULT_LIMITS, Limits
from ringtrace.media.pdq import BANDED_MAX

try:  # HEIC/HEIF support; optional at runtime so a missing wheel only loses that format
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_OK = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIF_OK = False

PDQ_PRESIZE = 512
# Smallest side a big JPEG's DCT draft decode may reach before the hash's own resample to 512 (see pdq_luma).
# JPEG decode is the bulk of a photo's hashing time and drafting at 1/8 rather than 1/4 skips most of it.
# Conformance on Meta's corpus (tests/media/test_pdq_conformance.py) decides the value: see
# bench/results/hashing.md for the measured max/mean per floor.
JPEG_DRAFT_MIN = 256
# Big images other than JPEG are resized to 512 by the hash's fused matrices only in these colour modes, where
# they are photos as a rule: bilevel, palette and grey images (dithers, line art, scanned pages) keep Pillow's
# clipped resize, nearer the reference where hard edges overshoot (see pdq_luma); so do sides over
# FUSED_MAX_SIDE, where the fused product leaves its banded form and Pillow's resize is faster.
_FUSED_MODES = frozenset({"RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LAB", "HSV"})
FUSED_MAX_SIDE = BANDED_MAX
# Luma weights of the reference (fillFloatLumaFromRGB), as float32 like the C++.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_HEIF_STILL = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"avif"}
_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V ", b"M4VH",
    b"qt  ", b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3g2a", b"3g2b", b"3g2c", b"mmp4", b"MSNV", b"XAVC",
}  # fmt: skip
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


class DecodeRefused(Exception):
    """The input was not decoded; the message is the recorded reason."""


def sniff(head: bytes) -> tuple[str, str]:
    """(kind, mime) from the first bytes of a file: 'image' | 'video' | 'other'. Never trusts extensions."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "image/gif"
    if head.startswith(b"BM") and len(head) >= 26:
        return "image", "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image", "image/tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video", "video/x-msvideo"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or WebM (DocType in the header)
        return "video", "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head[4:8] in _QT_ATOMS and len(head) >= 16 and head[12:16] in _QT_ATOMS | {b"ftyp", b"mvhd", b"cmov"}:
        return "video", "video/quicktime"  # old QuickTime files start without an ftyp box
    return "other", "application/octet-stream"


def _sniff_ftyp(head: bytes) -> tuple[str, str]:
    size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compat = {head[i : i + 4] for i in range(16, min(size, len(head), 256) - 3, 4)}
    brands = compat | {major}
    if major in _HEIF_STILL or (major in _HEIF_BRANDS and not brands & _VIDEO_BRANDS):
        return "image", "image/avif" if major in (b"avif", b"avis") else "image/heic"
    if major == b"qt  ":
        return "video", "video/quicktime"
    if major.startswith(b"3g"):
        return "video", "video/3gpp"
    if brands & _VIDEO_BRANDS:
        return "video", "video/mp4"
    if brands & _HEIF_BRANDS:
        return "image", "image/heic"
    return "other", "application/octet-stream"


def _peek_size(data: bytes) -> tuple[int, int] | None:
    """Dimensions straight from fixed-offset headers (PNG, GIF, BMP), so the refusal can name them."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data.startswith(b"BM") and len(data) >= 26 and int.from_bytes(data[14:18], "little") >= 40:
        return abs(int.from_bytes(data[18:22], "little", signed=True)), abs(
            int.from_bytes(data[22:26], "little", signed=True)
        )
    return None


def _check_size(w: int, h: int, limits: Limits) -> None:
    if w > limits.max_side or h > limits.max_side or w * h > limits.max_pixels:
        raise DecodeRefused(
            f"decompression bomb refused: header says {w}x{h} = {w * h} pixels "
            f"(limit {limits.max_pixels} pixels, {limits.max_side} px a side)"
        )


@contextmanager
def strict_decoding() -> Iterator[None]:
    """Decode with Pillow's strict setting whatever another library set: WeasyPrint, for one, turns on
    ``ImageFile.LOAD_TRUNCATED_IMAGES`` for the whole process when imported, which would let a truncated file
    hash as if whole. Evidence must decode the same way in every process."""
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


def open_checked(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Image.Image:
    """Open (header only, no pixels decoded) and refuse bombs before any allocation."""
    peek = _peek_size(data)
    if peek is not None:
        _check_size(*peek, limits)
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check is global state; we apply our own limit below instead of its warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise DecodeRefused(f"decompression bomb refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise DecodeRefused("not a decodable image (unrecognised or damaged header)") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DecodeRefused(f"image header unreadable: {exc}") from exc
    w, h = img.size
    if w <= 0 or h <= 0:
        raise DecodeRefused(f"image header gives empty size {w}x{h}")
    try:
        _check_size(w, h, limits)
    except DecodeRefused:
        img.close()
        raise
    return img


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB with the colours a viewer would show (alpha dropped, see module doc)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("1", "L", "P", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LA", "PA", "LAB", "HSV"):
        # Pillow handles palettes (transparency index keeps its colour), Adobe-inverted CMYK JPEGs, LAB, HSV.
        return img.convert("RGB")
    if mode == "La":
        return img.getchannel("L").convert("RGB")
    if mode.startswith("I") or mode == "F":
        return Image.fromarray(_scale_to_u8(np.asarray(img), mode), mode="L").convert("RGB")
    if mode.startswith(("RGB", "BGR")):  # e.g. BGR;15/16/24 raw modes
        return img.convert("RGB")
    raise DecodeRefused(f"unsupported pixel mode {mode!r}")


def _scale_to_u8(arr: npt.NDArray[np.generic], mode: str) -> npt.NDArray[np.uint8]:
    """Integer / float greyscale -> 0..255. Values already in 0..255 (e.g. L converted to I or F) are kept;
    16-bit data is scaled down; float data in 0..1 is scaled up."""
    a = arr.astype(np.float64)
    if a.size == 0:
        return np.zeros(arr.shape, dtype=np.uint8)
    finite = a[np.isfinite(a)]
    hi = float(finite.max()) if finite.size else 0.0
    lo = float(finite.min()) if finite.size else 0.0
    if mode == "F" and 0.0 <= lo and hi <= 1.0 and hi > 0.0:
        a = a * 255.0
    elif hi > 255.0 or lo < 0.0:
        if lo >= 0.0 and hi <= 65535.0:
            a = a / 257.0  # 16-bit range
        else:
            a = (a - lo) * (255.0 / max(hi - lo, 1e-12))  # arbitrary range: stretch
    out: npt.NDArray[np.uint8] = np.clip(np.nan_to_num(np.rint(a)), 0, 255).astype(np.uint8)
    return out


def pdq_pixels(img: Image.Image, limits: Limits = DEFAULT_LIMITS) -> npt.NDArray[np.uint8]:
    """Decode an opened image to the HxWx3 uint8 array PDQ hashes: first frame, 512x512 if bigger.

    Images that need the pre-resize go through luma (PDQ only uses luma, Y = .299R + .587G + .114B, the same
    weights as JPEG's Y and Pillow's "L"): big JPEGs decode their Y plane only, at DCT draft scale, and the
    Lanczos resize runs on one channel instead of three. Same conformance on the reference corpus, ~2x faster.
    """
    big = img.width > PDQ_PRESIZE or img.height > PDQ_PRESIZE
    if big and img.format == "JPEG":
        # DCT-domain downscale (never below 512 px); Y plane only when the JPEG is YCbCr/grey.
        img.draft("L" if img.mode in ("RGB", "L") else img.mode, (PDQ_PRESIZE, PDQ_PRESIZE))
    try:
        img.seek(0)
        img.load()
        if not big:
            return np.asarray(to_rgb(img), dtype=np.uint8)
        grey = img if img.mode == "L" else to_rgb(img).convert("L")
        grey = grey.resize((PDQ_PRESIZE, PDQ_PRESIZE), Image.Resampling.LANCZOS)
        return np.repeat(np.asarray(grey, dtype=np.uint8)[:, :, None], 3, axis=2)
    except DecodeRefused:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, MemoryError) as exc:
        raise DecodeRefused(f"image data damaged or truncated: {exc}") from exc


def pdq_luma(
    img: Image.Image, limits: Limits = DEFAULT_LIMITS, draft_min: int = JPEG_DRAFT_MIN
) -> npt.NDArray[np.float32] | npt.NDArray[np.uint8]:
    """Decode an opened image to the luma plane ``pdq.pdq_from_luma`` hashes (first frame, native size; the
    512x512 pre-resize is folded into the hash's matrices).

    Images up to 512 px: float luma from RGB with the reference's weights, as pdqhash computes it. Bigger ones
    (pre-resized by the reference, so 8-bit luma rounding is far below what the resize averages out) give
    8-bit luma: big JPEGs their Y plane only, at the smallest DCT draft scale (1/2 .. 1/8) that keeps both
    sides >= ``draft_min`` px, left at that size for the fused resample to 512 (hash it with
    ``pdq_from_luma(..., presize=True, source=(rows, cols))``, the image's own size); other formats' colour
    images at full size for the same fused resample; bilevel, palette and grey ones, and sides over
    ``FUSED_MAX_SIDE``, already resized to 512x512 by Pillow.
    """
    big = img.width > PDQ_PRESIZE or img.height > PDQ_PRESIZE
    if big and img.format == "JPEG":
        img.draft("L" if img.mode in ("RGB", "L") else img.mode, (draft_min, draft_min))
    try:
        img.seek(0)
        img.load()
        if big:
            grey = img if img.mode == "L" else to_rgb(img).convert("L")
            if img.format != "JPEG" and (img.mode not in _FUSED_MODES or max(img.size) > FUSED_MAX_SIDE):
                # Hard-edged images (1-bit dithers, line art, text) overshoot under Lanczos; Pillow's clipped
                # 8-bit resize lands nearer the reference there (misc-images/modes/1.png: 10 bits vs 12
                # unclipped). Colour photos measure the same either way (every other big image of Meta's corpus:
                # the same distance) and take the fused path, ~5x faster at 1600x1200, up to FUSED_MAX_SIDE.
                grey = grey.resize((PDQ_PRESIZE, PDQ_PRESIZE), Image.Resampling.LANCZOS)
            return np.asarray(grey, dtype=np.uint8)
        # the float32 products and sums of R*.299 + G*.587 + B*.114 in that order (the same bits as from the 8-bit
        # planes), each band split off by Pillow as a plane of its own and cast once: products over strided
        # channels of one HxWx3 array took ~1.5x as long (a uint8 channel cast inside each product, twice)
        red, green, blue = (np.asarray(band, dtype=np.uint8) for band in to_rgb(img).split())
        luma: npt.NDArray[np.float32] = red.astype(np.float32)
        luma *= _LUMA[0]
        term = green.astype(np.float32)
        term *= _LUMA[1]
        luma += term
        term = blue.astype(np.float32)
        term *= _LUMA[2]
        luma += term
        return luma
    except DecodeRefused:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, MemoryError) as exc:
        raise DecodeRefused(f"image data damaged or truncated: {exc}") from exc
