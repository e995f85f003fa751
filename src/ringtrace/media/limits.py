"""Resource bounds for hashing hostile media. One frozen object, passed down (picklable for process pools)."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True, slots=True)
class Limits:
    chunk_bytes: int = 1 * MiB  # read size of the one-pass reader
    # Files larger than this are not read at all (error recorded). Digests stream in constant memory, so this
    # only bounds time; raise it for big video exhibits.
    max_file_bytes: int = 16 * GiB
    # Only files up to this size are kept in memory and handed to a decoder (images; videos up to this size
    # are decoded from the same bytes, larger videos are streamed from disk by PyAV in a second pass).
    max_decode_bytes: int = 100 * MiB
    # Decompression-bomb guard, checked on header dimensions before any pixel is decoded.
    max_pixels: int = 120_000_000
    max_side: int = 65_500
    # Video: sampled frames (one a second) and total decoded frames (guards absurd frame rates).
    max_video_frames: int = 3600
    max_video_decoded_frames: int = 3600 * 120
    max_video_frame_pixels: int = 40_000_000  # 8K is 33 Mpx
    video_decode: bool = True


DEFAULT_LIMITS = Limits()
