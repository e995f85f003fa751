"""vPDQ-compatible video signatures with PyAV: the PDQ of one frame per second, and vPDQ's match rule.

vPDQ (Meta's video PDQ) hashes one frame per second and compares two videos frame-set to frame-set: a
query frame matches when some target frame is within ``distance`` bits, frames under ``quality`` are ignored,
and the videos match when at least ``threshold`` of the query's frames match the target AND vice versa.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import av
import av.error
import numpy as np

from ringtrace.media.limits import DEFAULT_LIMITS, Limits
from ringtrace.media.pdq import any_within, hex_to_words, pdq_from_rgb

VPDQ_DISTANCE = 31
VPDQ_QUALITY = 50
VPDQ_THRESHOLD = 0.8
SECONDS_PER_HASH = 1.0
FRAME_PRESIZE = 512

VideoFrameHash = tuple[float, str, int]  # (seconds, pdq hex, quality)


class VideoRefused(Exception):
    """The video was not (fully) decoded; the message is the recorded reason."""

    def __init__(self, reason: str, frames: tuple[VideoFrameHash, ...] = (), width: int = 0, height: int = 0):
        super().__init__(reason)
        self.frames = frames  # whatever was hashed before the failure
        self.width = width
        self.height = height


def video_signature(
    source: bytes | Path, limits: Limits = DEFAULT_LIMITS
) -> tuple[tuple[VideoFrameHash, ...], int, int]:
    """(frames, width, height) of the first video stream, one PDQ per second of presentation time."""
    frames: list[VideoFrameHash] = []
    width = height = 0
    try:
        src: io.BytesIO | str = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        with av.open(src, mode="r", metadata_errors="ignore") as container:
            if not container.streams.video:
                raise VideoRefused("no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > limits.max_video_frame_pixels:
                raise VideoRefused(
                    f"video frame {width}x{height} over limit {limits.max_video_frame_pixels} pixels",
                    width=width,
                    height=height,
                )
            next_t: float | None = None  # timeline may start above 0
            decoded = 0
            for frame in container.decode(stream):
                decoded += 1
                if decoded > limits.max_video_decoded_frames:
                    raise VideoRefused(
                        f"stopped after {limits.max_video_decoded_frames} decoded frames",
                        tuple(frames),
                        width,
                        height,
                    )
                t = float(frame.time) if frame.time is not None else (decoded - 1) / 30.0
                if next_t is not None and t + 1e-6 < next_t:
                    continue
                if frame.width * frame.height > limits.max_video_frame_pixels:
                    raise VideoRefused(f"frame {frame.width}x{frame.height} over limit", tuple(frames))
                # libswscale does the 512x512 pre-resize the photo hasher does, far faster than Pillow.
                w, h = frame.width, frame.height
                if w > FRAME_PRESIZE or h > FRAME_PRESIZE:
                    w = h = FRAME_PRESIZE
                rgb = frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA")
                res = pdq_from_rgb(np.ascontiguousarray(rgb), dihedral=False)
                frames.append((round(t, 3), res.hash, res.quality))
                next_t = t + SECONDS_PER_HASH if next_t is None else next_t + SECONDS_PER_HASH
                while next_t <= t + 1e-6:  # variable frame rate / gaps: one hash per second of timeline
                    next_t += SECONDS_PER_HASH
                if len(frames) >= limits.max_video_frames:
                    break
    except VideoRefused:
        raise
    except (av.error.FFmpegError, OSError, ValueError, EOFError, MemoryError, IndexError) as exc:
        raise VideoRefused(f"video damaged or unsupported: {exc}", tuple(frames), width, height) from exc
    if not frames:
        raise VideoRefused("no decodable video frames", (), width, height)
    return tuple(frames), width, height


def vpdq_match(
    a_frames: Sequence[VideoFrameHash],
    b_frames: Sequence[VideoFrameHash],
    distance: int = VPDQ_DISTANCE,
    quality: int = VPDQ_QUALITY,
    threshold: float = VPDQ_THRESHOLD,
) -> bool:
    """vPDQ match rule: both match percentages (query in target, target in query) >= threshold."""
    q_pct, t_pct = vpdq_match_percentages(a_frames, b_frames, distance, quality)
    return q_pct >= threshold and t_pct >= threshold


def vpdq_match_percentages(
    a_frames: Sequence[VideoFrameHash],
    b_frames: Sequence[VideoFrameHash],
    distance: int = VPDQ_DISTANCE,
    quality: int = VPDQ_QUALITY,
) -> tuple[float, float]:
    """(share of a's usable unique frames found in b, share of b's found in a); 0.0 when either is empty."""
    a = sorted({h for _, h, q in a_frames if q >= quality})  # vPDQ drops low-quality frames and dedupes
    b = sorted({h for _, h, q in b_frames if q >= quality})
    if not a or not b:
        return 0.0, 0.0
    wa, wb = hex_to_words(a), hex_to_words(b)
    a_in_b = float(any_within(wa, wb, distance).mean())
    b_in_a = float(any_within(wb, wa, distance).mean())
    return a_in_b, b_in_a
