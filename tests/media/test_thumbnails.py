from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ringtrace.media.images import DecodeRefused
from ringtrace.media.thumbnails import safe_thumbnail
from tests.media.helpers import encode, make_image
from tests.media.test_hashing import bomb_png


def _edge_energy(img: Image.Image) -> float:
    a = np.asarray(img.convert("L"), dtype=np.float64)
    return float(np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean())


def test_thumbnail_is_small_grey_and_blurred() -> None:
    src = make_image(1200, 800, seed=4)
    out = Image.open(io.BytesIO(safe_thumbnail(encode(src, quality=90))))
    assert out.format == "PNG" and out.mode == "L"
    assert max(out.size) <= 160 and out.size == (160, 107)


def test_fine_detail_is_removed() -> None:
    # 16 px black/white bars: a plain 160 px thumbnail keeps them as 2 px bars, the safe one must not.
    bars = np.zeros((800, 1200), dtype=np.uint8)
    bars[:, (np.arange(1200) // 16) % 2 == 0] = 255
    src = Image.fromarray(bars, "L")
    out = Image.open(io.BytesIO(safe_thumbnail(encode(src, "PNG"))))
    sharp = src.resize(out.size, Image.Resampling.BOX)
    assert _edge_energy(out) < 0.1 * _edge_energy(sharp)
    assert float(np.asarray(out).std()) < 0.2 * float(np.asarray(sharp).std())  # bars gone


def test_thumbnail_never_returns_colour_for_rgba_png() -> None:
    out = Image.open(
        io.BytesIO(safe_thumbnail(encode(make_image(300, 300).convert("RGBA"), "PNG"), max_side=64))
    )
    assert out.mode == "L" and max(out.size) <= 64


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        (bomb_png(), "bomb"),
        (b"not an image", "not a decodable image"),
        (b"\xff\xd8\xff", "damaged|truncated|header"),
    ],
)
def test_thumbnail_refuses_bad_input(data: bytes, msg: str) -> None:
    with pytest.raises(DecodeRefused, match=msg):
        safe_thumbnail(data)


def test_blur_is_mandatory() -> None:
    with pytest.raises(ValueError):
        safe_thumbnail(encode(make_image(50, 50)), blur_radius=0)
