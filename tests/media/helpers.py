"""Synthetic, benign test media built in code: gradients, shapes, noise; small videos encoded with PyAV."""

from __future__ import annotations

import io
import math

import av
import numpy as np
from PIL import Image, ImageDraw


def make_image(width: int = 640, height: int = 480, seed: int = 0, noise: float = 6.0) -> Image.Image:
    """Smooth gradient background with a few filled shapes and mild noise (RGB)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    a = rng.uniform(0.5, 2.0, size=3)
    r = 127 + 100 * np.sin(x / width * math.pi * a[0] + seed)
    g = 127 + 100 * np.cos(y / height * math.pi * a[1] + seed * 0.7)
    b = 127 + 100 * np.sin((x + y) / (width + height) * math.pi * a[2])
    arr = np.stack([r, g, b], axis=-1) + rng.normal(0, noise, size=(height, width, 3))
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, width * 3 // 4)), int(rng.integers(0, height * 3 // 4))
        x1, y1 = (
            x0 + int(rng.integers(width // 10, width // 3)),
            y0 + int(rng.integers(height // 10, height // 3)),
        )
        fill = tuple(int(v) for v in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=fill)
    return img


def encode(img: Image.Image, fmt: str = "JPEG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def pick_codec() -> str:
    for name in ("libx264", "mpeg4"):
        if name in av.codecs_available:
            return name
    raise RuntimeError("PyAV has neither libx264 nor mpeg4")


def make_video(
    seconds: float = 6.0,
    fps: int = 10,
    size: tuple[int, int] = (160, 120),
    seed: int = 0,
    codec: str | None = None,
    bit_rate: int | None = None,
) -> bytes:
    """MP4 of a scene that changes every second (a new generated picture each second, slowly panning)."""
    codec = codec or pick_codec()
    w, h = size
    scenes = [make_image(w + w // 2, h, seed=seed * 1000 + s) for s in range(int(math.ceil(seconds)))]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        if bit_rate:
            stream.bit_rate = bit_rate
        for i in range(int(seconds * fps)):
            s, k = divmod(i, fps)
            pan = int(k * (w / fps) * 0.5)  # slow pan inside the second's scene
            frame_img = scenes[s].crop((pan, 0, pan + w, h))
            frame = av.VideoFrame.from_ndarray(np.asarray(frame_img), format="rgb24")
            for pkt in stream.encode(frame):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    return buf.getvalue()


def transcode(data: bytes, size: tuple[int, int], codec: str | None = None, bit_rate: int = 150_000) -> bytes:
    """Re-encode a video at another size/bit rate, like a messenger would."""
    codec = codec or pick_codec()
    buf = io.BytesIO()
    with av.open(io.BytesIO(data)) as src, av.open(buf, mode="w", format="mp4") as out:
        sin = src.streams.video[0]
        rate = sin.average_rate or 10
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bit_rate
        for frame in src.decode(sin):
            img = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
            for pkt in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    return buf.getvalue()
