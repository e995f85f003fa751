"""Benign generated images: smooth random fields with shapes and a rendered label, and the near-duplicate
transforms that real sharing produces (recompression, resizing, a small crop, rotation, flip).

Low-frequency random content keeps unrelated images far apart in PDQ space, so a synthetic "known" list never
matches an unrelated image by accident, while a transformed copy stays close to its original.
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# rotate180 is left out: PDQ's box filter is not symmetric, so a 180-degree turn lands ~24 bits away even
# through the dihedral hashes, too close to the 31 threshold for a fixture that must match every time.
TRANSFORMS = ("recompress", "resize", "crop", "rotate90", "flip")


def base_image(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    grid = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    img = Image.fromarray(grid, "RGB").resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    r = random.Random(seed)
    for _ in range(4):
        x0, y0 = r.randrange(0, w - 40), r.randrange(0, h - 40)
        x1, y1 = x0 + r.randrange(20, w // 2), y0 + r.randrange(20, h // 2)
        col = tuple(r.randrange(256) for _ in range(3))
        if r.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=col)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=col)
    draw.text((8, h - 20), f"sample {seed}", fill=(255, 255, 255))
    return img


def encode_jpeg(img: Image.Image, quality: int = 88) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def transform(img: Image.Image, kind: str, rng: random.Random) -> Image.Image:
    w, h = img.size
    if kind == "recompress":
        return img.filter(ImageFilter.GaussianBlur(0.6))
    if kind == "resize":
        f = rng.uniform(0.6, 0.85)
        return img.resize((max(16, int(w * f)), max(16, int(h * f))), Image.Resampling.BILINEAR)
    if kind == "crop":
        dx, dy = max(1, int(w * rng.uniform(0.004, 0.012))), max(1, int(h * rng.uniform(0.004, 0.012)))
        return img.crop((dx, dy, w - dx, h - dy))
    if kind == "rotate90":
        return img.transpose(Image.Transpose.ROTATE_90)
    if kind == "rotate180":
        return img.transpose(Image.Transpose.ROTATE_180)
    if kind == "flip":
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    raise ValueError(kind)


def variant_bytes(seed: int, kind: str | None, vseed: int) -> bytes:
    img = base_image(seed)
    if kind is None:
        return encode_jpeg(img)
    rng = random.Random(vseed)
    return encode_jpeg(transform(img, kind, rng), quality=rng.choice((70, 75, 80, 85)))
