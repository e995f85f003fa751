from __future__ import annotations

from pathlib import Path

import pytest

from ringtrace.media.hashing import Limits, hash_bytes, hash_file
from ringtrace.media.video import vpdq_match, vpdq_match_percentages
from tests.media.helpers import make_video, transcode


@pytest.fixture(scope="module")
def videos() -> dict[str, bytes]:
    a = make_video(seconds=6, seed=1)
    return {"a": a, "a_small": transcode(a, (96, 72)), "b": make_video(seconds=6, seed=2)}


def test_one_frame_per_second(videos: dict[str, bytes], tmp_path: Path) -> None:
    p = tmp_path / "clip.bin"
    p.write_bytes(videos["a"])
    h = hash_file(p)
    assert (h.kind, h.mime, h.error) == ("video", "video/mp4", None)
    assert (h.width, h.height) == (160, 120)
    assert [round(t) for t, _, _ in h.video_frames] == [0, 1, 2, 3, 4, 5]
    assert all(len(x) == 64 for _, x, _ in h.video_frames)
    assert h.pdq is None  # videos carry per-frame hashes only


def test_reencoded_resized_copy_matches(videos: dict[str, bytes]) -> None:
    a = hash_bytes(videos["a"], "a.mp4").video_frames
    small = hash_bytes(videos["a_small"], "s.mp4").video_frames
    assert vpdq_match(a, small)
    assert vpdq_match(small, a)


def test_different_video_does_not_match(videos: dict[str, bytes]) -> None:
    a = hash_bytes(videos["a"], "a.mp4").video_frames
    b = hash_bytes(videos["b"], "b.mp4").video_frames
    assert not vpdq_match(a, b)
    assert vpdq_match_percentages(a, b)[0] < 0.5


def test_match_rule_is_two_sided() -> None:
    x = "0" * 64
    y = "f" * 64
    q = ((0.0, x, 100),)
    t = ((0.0, x, 100), (1.0, y, 100))
    assert vpdq_match_percentages(q, t) == (1.0, 0.5)
    assert not vpdq_match(q, t)  # only half the target is in the query
    assert vpdq_match(q, t, threshold=0.5)


def test_low_quality_frames_ignored() -> None:
    x = "0" * 64
    assert vpdq_match_percentages(((0.0, x, 10),), ((0.0, x, 10),)) == (0.0, 0.0)
    assert not vpdq_match(((0.0, x, 10),), ((0.0, x, 10),))


def test_frame_bound(videos: dict[str, bytes]) -> None:
    h = hash_bytes(videos["a"], "a.mp4", Limits(max_video_frames=2))
    assert len(h.video_frames) == 2 and h.error is None


def test_decoded_frame_bound_recorded(videos: dict[str, bytes]) -> None:
    h = hash_bytes(videos["a"], "a.mp4", Limits(max_video_decoded_frames=15))
    assert h.error and "decoded frames" in h.error
    assert len(h.video_frames) == 2  # frames hashed before the stop are kept


def test_large_video_streams_from_disk(videos: dict[str, bytes], tmp_path: Path) -> None:
    p = tmp_path / "big.mp4"
    p.write_bytes(videos["a"])
    h = hash_file(p, Limits(max_decode_bytes=100))
    assert h.error is None and len(h.video_frames) == 6


def test_truncated_video_keeps_digests(videos: dict[str, bytes]) -> None:
    cut = videos["a"][: len(videos["a"]) // 3]
    h = hash_bytes(cut, "cut.mp4")
    assert h.md5 and h.kind == "video"
    assert h.error


def test_video_without_video_stream() -> None:
    import io

    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        s = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 8000
        for pkt in s.encode(frame):
            out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    h = hash_bytes(buf.getvalue(), "voice.m4a")
    assert h.error and "no video stream" in h.error
