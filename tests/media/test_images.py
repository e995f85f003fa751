"""Every Pillow mode must reach PDQ as the RGB a viewer would show; content sniffing by magic bytes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ringtrace.media.hashing import hash_bytes
from ringtrace.media.images import DecodeRefused, pdq_pixels, sniff, to_rgb
from ringtrace.media.pdq import hamming, pdq_from_rgb
from tests.media.helpers import encode, make_image

BASE = make_image(900, 600, seed=11)
BASE_HASH = pdq_from_rgb(pdq_pixels(Image.open(io.BytesIO(encode(BASE, "PNG"))))).hash


def _hash_img(img: Image.Image) -> str:
    return pdq_from_rgb(pdq_pixels(img)).hash


@pytest.mark.parametrize(
    "mode",
    ["L", "P", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LA", "PA", "La", "LAB", "HSV", "I", "I;16", "F"],
)
def test_in_memory_modes_hash_like_rgb(mode: str) -> None:
    img = BASE.convert(mode) if mode != "La" else BASE.convert("LA").convert("La")
    d = hamming(_hash_img(img), BASE_HASH)
    assert d <= 10, f"mode {mode}: {d} bits off"


def test_one_bit_dithered_close() -> None:
    assert hamming(_hash_img(BASE.convert("1")), BASE_HASH) <= 31


def test_naive_palette_indices_would_be_wrong() -> None:
    """Guard: hashing raw palette indices (a common bug) is far off; our path is not."""
    p = BASE.convert("P")
    idx = np.asarray(p)
    naive = pdq_from_rgb(np.stack([idx] * 3, axis=-1)).hash
    assert hamming(naive, BASE_HASH) > hamming(_hash_img(p), BASE_HASH)


def test_sixteen_bit_greyscale_png_scaled() -> None:
    grey8 = np.asarray(BASE.convert("L")).astype(np.uint16)
    img16 = Image.fromarray(grey8 * 257)  # full 0..65535 range, as a 16-bit scan would have
    data = encode(img16, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    h = hash_bytes(data, "g16.png")
    assert h.pdq and hamming(h.pdq, BASE_HASH) <= 10, h.error


def test_float_unit_range_scaled() -> None:
    f = Image.fromarray(np.asarray(BASE.convert("L")).astype(np.float32) / 255.0, mode="F")
    assert hamming(_hash_img(f), BASE_HASH) <= 10


def test_cmyk_jpeg_not_inverted() -> None:
    h = hash_bytes(encode(BASE.convert("CMYK"), "JPEG", quality=95), "c.jpg")
    assert h.pdq and hamming(h.pdq, BASE_HASH) <= 10


def test_palette_with_transparency_gif() -> None:
    img = BASE.convert("P")
    img.info["transparency"] = 0
    h = hash_bytes(encode(img, "GIF", transparency=0), "t.gif")
    assert h.pdq and hamming(h.pdq, BASE_HASH) <= 16


def test_exif_orientation_ignored() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 when displayed; the reference hashes stored pixels
    plain = hash_bytes(encode(BASE, quality=95), "a.jpg")
    tagged = hash_bytes(encode(BASE, quality=95, exif=exif.tobytes()), "b.jpg")
    assert plain.pdq and tagged.pdq and hamming(plain.pdq, tagged.pdq) <= 2
    assert (tagged.width, tagged.height) == (900, 600)


def test_unsupported_mode_refused() -> None:
    class Fake:
        mode = "XYZ"

    with pytest.raises(DecodeRefused, match="unsupported pixel mode"):
        to_rgb(Fake())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("head", "kind", "mime"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image", "image/png"),
        (b"GIF89a\x01\x00", "image", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image", "image/webp"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video", "video/x-msvideo"),
        (b"II*\x00\x08\x00\x00\x00", "image", "image/tiff"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image", "image/heic"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video", "video/quicktime"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x003gp4", "video", "video/3gpp"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01B\x82\x84webm", "video", "video/webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01B\x82\x88matroska", "video", "video/x-matroska"),
        (b"%PDF-1.7", "other", "application/octet-stream"),
        (b"", "other", "application/octet-stream"),
    ],
)
def test_sniff(head: bytes, kind: str, mime: str) -> None:
    assert sniff(head) == (kind, mime)
