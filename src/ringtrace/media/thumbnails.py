"""Exposure-minimised previews: small, greyscale, blurred. Never returns original pixels."""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from ringtrace.media.images import DecodeRefused, open_checked, to_rgb
from ringtrace.media.limits import DEFAULT_LIMITS, Limits


def safe_thumbnail(
    data: bytes, max_side: int = 160, blur_radius: float = 8, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """PNG bytes of a greyscale, Gaussian-blurred thumbnail no larger than ``max_side``.

    Raises ``DecodeRefused`` (a reason string) for non-images, bombs and damaged data.
    """
    if max_side < 1 or blur_radius <= 0:
        raise ValueError("max_side must be >= 1 and blur_radius > 0 (a blur is mandatory)")
    if len(data) > limits.max_decode_bytes:
        raise DecodeRefused(f"{len(data)} bytes over decode limit {limits.max_decode_bytes}")
    img = open_checked(data, limits)
    try:
        if img.format == "JPEG":
            img.draft("L", (max_side, max_side))  # decode at reduced DCT scale: less work, fewer pixels
        img.seek(0)
        img.load()
        grey = to_rgb(img).convert("L")
        grey.thumbnail((max_side, max_side), Image.Resampling.BOX)
        # Blur radius is relative to a 160 px thumbnail so smaller thumbnails are not sharper.
        radius = max(1.0, blur_radius * max(grey.size) / 160)
        out = grey.filter(ImageFilter.GaussianBlur(radius))
        buf = io.BytesIO()
        out.save(buf, format="PNG")
        return buf.getvalue()
    except DecodeRefused:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, IndexError) as exc:
        raise DecodeRefused(f"image data damaged or truncated: {exc}") from exc
    finally:
        img.close()
